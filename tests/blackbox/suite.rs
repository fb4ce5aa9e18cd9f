// The modules of the black-box suite, the crate of both `blackbox` (main.rs)
// and `blackbox_postgres` (postgres.rs).

mod stores;
mod support;

#[path = "../common/dev_pki.rs"]
mod dev_pki;

mod accept;
mod access;
mod agencies;
mod audit;
mod cli;
mod crash;
mod delivery;
mod deploy;
mod feeds;
mod limits;
mod ministries;
mod operations;
mod outage;
mod pki;
mod poison;
mod signatures;
mod status;
mod store;
mod tls;
