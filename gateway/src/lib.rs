//! Lienthong: an interoperability gateway between provincial public-service
//! portals, vertical-ministry systems and the National Public Service Portal.
//!
//! A portal submits a dossier ([`server`]); the gateway authenticates the sender
//! ([`auth`]), normalises and validates the dossier ([`schemas`]), routes it
//! ([`routing`]), stores it durably with its delivery ([`store`]), answers with a
//! receipt, and the [`delivery`] worker sends it through the agency's adapter.

pub mod access;
pub mod app;
pub mod audit;
pub mod auth;
pub mod circuit;
pub mod cli;
pub mod config;
pub mod deadletters;
pub mod delivery;
pub mod demo;
pub mod error;
pub mod feed;
pub mod limits;
pub mod metrics;
pub mod poller;
pub mod reload;
pub mod routing;
pub mod server;
pub mod signatures;
pub mod sigtool;
pub mod status;
pub mod store;
pub mod telemetry;
pub mod tls;

pub use app::Gateway;
pub use config::Config;
