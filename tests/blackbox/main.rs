//! Black-box tests of the gateway: the real binary over real sockets, a real
//! SQLite file, and the DVCQG simulator.

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
mod tls;
