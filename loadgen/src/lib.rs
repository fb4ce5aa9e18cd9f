//! The Lienthong load generator and benchmark harness.
//!
//! - [`drive`]: open-loop (a target rate, latency corrected for coordinated
//!   omission) and closed-loop (a concurrency) load over real sockets, with
//!   HDR-histogram latencies and a machine-readable [`drive::Outcome`].
//! - [`corpus`]: unique 10 KB dossiers, signed (XML-DSig or JWS) before the timed
//!   run, on every core.
//! - [`procs`]: the gateway, the agency simulators and the peers (nginx,
//!   HAProxy) as child processes, and their memory and CPU from `/proc`.
//! - [`bench`]: every scenario of `deploy/BENCHMARKS.md` and its report.

pub mod bench;
pub mod client;
pub mod corpus;
pub mod drive;
pub mod procs;
