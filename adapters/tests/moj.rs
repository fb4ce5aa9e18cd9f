//! The Ministry of Justice adapter and simulator: golden files for both services,
//! agreement with the published JSON Schemas, deliveries, look-ups and status polls
//! over real sockets.

#[allow(dead_code)]
mod common;
#[path = "moj/delivery.rs"]
mod delivery;
#[path = "moj/failures.rs"]
mod failures;
#[path = "moj/golden.rs"]
mod golden;
#[path = "moj/lookup.rs"]
mod lookup;
#[path = "moj/schema.rs"]
mod schema;
#[path = "moj/simulator.rs"]
mod simulator;
#[path = "moj/support.rs"]
mod support;
