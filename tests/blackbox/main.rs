//! Black-box tests of the gateway: the real binary over real sockets, the agency
//! simulators, and every gateway on the embedded SQLite store. `postgres.rs` runs
//! the same suite on PostgreSQL (see `stores.rs`).

include!("suite.rs");
