//! The black-box suite with every gateway on PostgreSQL: the same tests as
//! `blackbox` (see `stores.rs`).

include!("suite.rs");

/// Several replicas on one database: PostgreSQL only.
mod replicas;

/// The container image, run as the compose stack runs it on PostgreSQL.
mod docker;
