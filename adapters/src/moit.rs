//! The Ministry of Industry & Trade licensing system (Bộ Công Thương, MOIT): its
//! adapter and a simulator of it.
//!
//! The wire protocol (an OAuth2 client-credentials token, then JSON REST:
//! `POST /api/v1/ho-so`, `GET /api/v1/ho-so/{maHoSo}`, `GET /api/v1/giay-phep/{soGiayPhep}`,
//! errors as RFC 9457 problem documents with MOIT's codes) is documented for
//! integrators in `schemas/agencies/moit/README.md`, with a JSON Schema of the
//! application that the simulator enforces.
//!
//! - [`config`]: what an operator configures, and its validation.
//! - [`wire`]: the messages, codes and states, shared by adapter and simulator.
//! - [`encode`] and [`decode`]: canonical to wire and back, pure and golden-tested.
//! - [`MoitAdapter`]: token, transport, look-ups and the [`crate::Adapter`] trait.
//! - [`MoitSimulator`]: a real HTTP server that behaves like MOIT.

pub mod config;
pub mod decode;
pub mod encode;
pub mod wire;

mod client;
mod error;
mod simulator;
mod token;
mod transport;

pub use client::MoitAdapter;
pub use config::{MoitConfig, MoitConfigError};
pub use decode::{DossierView, LicenceView};
pub use error::MoitError;
pub use simulator::{MoitSimulator, MoitStats, ReceivedDossier, SimClient};
