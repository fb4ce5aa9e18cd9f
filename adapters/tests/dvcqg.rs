//! The DVCQG adapter and simulator: golden files, agreement with the published
//! JSON Schema, and deliveries over real sockets.

#[allow(dead_code)]
mod common;
#[path = "dvcqg/delivery.rs"]
mod delivery;
#[path = "dvcqg/golden.rs"]
mod golden;
#[path = "dvcqg/schema.rs"]
mod schema;
#[path = "dvcqg/simulator.rs"]
mod simulator;
#[path = "dvcqg/support.rs"]
mod support;
