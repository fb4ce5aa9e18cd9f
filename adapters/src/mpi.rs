//! The Ministry of Planning & Investment (Bộ Kế hoạch và Đầu tư, MPI): its national
//! business-registration service, an adapter for it and a simulator of it.
//!
//! The wire protocol (SOAP 1.1 with a WS-Security `UsernameToken`, operations
//! `NopHoSoDangKyDoanhNghiep`, `TraCuuDoanhNghiep` and `TraCuuHoSo`, faults with
//! MPI's own codes) is documented for integrators in `schemas/agencies/mpi/README.md`,
//! with an XSD of the body payloads (`dangkydoanhnghiep.xsd`) and examples.
//!
//! - [`config`]: what an operator configures, and its validation.
//! - [`wire`]: namespaces, operations, fault codes, status maps and field tables,
//!   shared by adapter and simulator.
//! - [`encode`] and [`decode`]: canonical to wire and back, pure and golden-tested.
//! - [`security`]: the WS-Security `UsernameToken`.
//! - [`xml`]: the strict XML reader and the escaping writer.
//! - [`MpiAdapter`]: transport, look-ups and the [`crate::Adapter`] trait.
//! - [`MpiSimulator`]: a real HTTP server that behaves like MPI.

pub mod config;
pub mod decode;
pub mod encode;
pub mod security;
pub mod wire;
pub mod xml;

mod client;
mod error;
mod simulator;
mod transport;

pub use client::MpiAdapter;
pub use config::{MpiConfig, MpiConfigError};
pub use decode::{DossierState, Fault};
pub use error::MpiError;
pub use security::UsernameToken;
pub use simulator::{HistoryStep, MpiSimulator, MpiStats, ReceivedDossier, SimCredentials};
pub use wire::TaxCode;
