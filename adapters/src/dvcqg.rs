//! The National Public Service Portal (Cổng Dịch vụ công quốc gia, DVCQG): its
//! adapter and a simulator of it.
//!
//! The wire protocol (login for a session, then `DongBoHoSoMC`, `TraCuuHoSo` and
//! `CapNhatTienDoHoSoMC`, every value a string) is documented for integrators in
//! `schemas/agencies/dvcqg/README.md`, with a JSON Schema of the dossier request.
//!
//! - [`config`]: what an operator configures, and its validation.
//! - [`wire`]: the messages and field tables, shared by adapter and simulator.
//! - [`encode`] and [`decode`]: canonical to wire and back, pure and golden-tested.
//! - [`DvcqgAdapter`]: authentication, transport and the [`crate::Adapter`] trait.
//! - [`DvcqgSimulator`]: a real HTTP server that behaves like DVCQG.

pub mod config;
pub mod decode;
pub mod encode;
pub mod wire;

mod client;
mod error;
mod session;
mod simulator;
mod transport;

pub use client::DvcqgAdapter;
pub use config::{DvcqgConfig, DvcqgConfigError};
pub use error::DvcqgError;
pub use simulator::{DvcqgSimulator, DvcqgStats, ReceivedDossier, SimCredentials};
