//! The MPI adapter and simulator: golden files, agreement of the simulator with
//! the published XSD (checked by `xmllint`), deliveries and look-ups over real
//! sockets.

#[allow(dead_code)]
mod common;
#[path = "mpi/delivery.rs"]
mod delivery;
#[path = "mpi/golden.rs"]
mod golden;
#[path = "mpi/lookup.rs"]
mod lookup;
#[path = "mpi/schema.rs"]
mod schema;
#[path = "mpi/simulator.rs"]
mod simulator;
#[path = "mpi/support.rs"]
mod support;
