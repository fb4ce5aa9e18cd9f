//! The MOIT adapter and simulator: golden files, agreement with the published
//! JSON Schema, and deliveries and look-ups over real sockets.

#[allow(dead_code)]
mod common;
#[path = "moit/delivery.rs"]
mod delivery;
#[path = "moit/golden.rs"]
mod golden;
#[path = "moit/lookup.rs"]
mod lookup;
#[path = "moit/schema.rs"]
mod schema;
#[path = "moit/simulator.rs"]
mod simulator;
#[path = "moit/support.rs"]
mod support;
