//! Agency adapters: each speaks one agency's wire format and authentication, and
//! each comes with a simulator of that agency (a real HTTP server) for the demo and
//! the tests.
//!
//! Every adapter lives in its own folder with the same files: `config.rs`
//! (operator settings and their validation), `wire.rs` (the agency's messages),
//! `encode.rs` and `decode.rs` (canonical to wire and back, pure, golden-tested),
//! `client.rs` (authentication and transport), `simulator.rs` (the agency's
//! behaviour on top of the shared [`sim`] server). Its tests live in
//! `tests/<agency>.rs` with golden files under `tests/golden/<agency>/`.

mod adapter;
mod checks;
pub mod dvcqg;
mod http;
pub mod moit;
pub mod moj;
pub mod mpi;
mod secret;
pub mod sim;

pub use adapter::{
    lookup_answer, Adapter, AgencyRequest, BodySigner, DecodeError, Delivery, EncodeError, LookupAnswer, LookupError,
    LookupRequest, LookupSpec, Outcome, PollError,
};
pub use http::{AgencyClient, ClientError, ClientSettings, ClientTls};
