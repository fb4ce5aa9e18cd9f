//! Shared plumbing of the agency simulators: a real HTTP/1.1 server, injectable
//! faults, and the control endpoints every simulator offers.
//!
//! An agency simulator implements [`SimHandler`] (what the agency answers) and
//! wraps a [`SimServer`] (everything else). The server applies [`Faults`] to agency
//! requests only; paths under `/_sim/` are control endpoints and never fail:
//!
//! | method and path     | what it does                                        |
//! |---------------------|-----------------------------------------------------|
//! | `GET /_sim/received`| what the agency received (the most recent [`DEFAULT_KEEP`]), as JSON |
//! | `GET /_sim/stats`   | counters, as JSON                                   |
//! | `GET /_sim/faults`  | the faults in force                                 |
//! | `PUT /_sim/faults`  | replaces the faults (a JSON [`Faults`])             |
//! | `POST /_sim/reset`  | forgets everything received, zeroes counters and clears faults |

mod faults;
mod handle;
mod kept;
mod message;
mod server;
mod service;
mod stats;

pub use faults::Faults;
pub(crate) use handle::server_delegations;
pub use kept::DEFAULT_KEEP;
pub(crate) use kept::{Recent, RecentMap};
pub use message::{SimHandler, SimRequest, SimResponse};
pub use server::SimServer;
pub use stats::SimStats;

#[cfg(test)]
mod tests;
