//! The Ministry of Justice (Bộ Tư pháp): one adapter for its two services, civil
//! status (hộ tịch: birth and death registration) and judicial records (lý lịch tư
//! pháp: certificate requests), and one simulator serving both.
//!
//! The adapter picks the service from the dossier's payload. The wire protocol
//! (a bearer token from `/api/auth/token`, then `/api/hotich/tiepnhan` with the
//! record as a JSON string in `data`, `/api/lltp/tiepnhan` with a `toKhai`, and a
//! status poll per service) is documented for integrators in
//! `schemas/agencies/moj/README.md`, with a JSON Schema of every request.
//!
//! - [`config`]: what an operator configures, and its validation.
//! - [`wire`]: the messages, paths and error codes, shared by adapter and simulator.
//! - [`encode`] and [`decode`]: canonical to wire and back, pure and golden-tested.
//! - [`MojAdapter`]: token, transport, status polls, look-ups and the [`crate::Adapter`] trait.
//! - [`MojSimulator`]: a real HTTP server that behaves like the ministry.

pub mod config;
pub mod decode;
pub mod encode;
pub mod wire;

mod client;
mod error;
mod lookup;
mod simulator;
mod token;
mod transport;

pub use client::MojAdapter;
pub use config::{Credentials, MojConfig, MojConfigError};
pub use encode::Service;
pub use error::MojError;
pub use lookup::normalise as normalise_lookup;
pub use simulator::{MojSimulator, MojStats, ReceivedRequest, SimCredentials};
