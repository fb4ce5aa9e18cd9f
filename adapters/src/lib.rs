//! Agency adapters: each speaks one agency's wire format and authentication, and
//! each comes with a simulator of that agency (a real HTTP server) for the demo and
//! the tests.
//!
//! Every adapter lives in its own folder with the same files: `config.rs`,
//! `encode.rs` (canonical to wire and back, pure), `client.rs` (authentication and
//! transport), `simulator.rs`.

mod adapter;
pub mod dvcqg;
pub mod sim;

pub use adapter::{Adapter, AgencyRequest, DecodeError, Delivery, EncodeError, Outcome};
