//! A simulator of DVCQG: a real HTTP server that logs in, validates, answers with
//! DVCQG's error codes, honours `Idempotency-Key`, and keeps everything it
//! received for assertions.

mod routes;
mod state;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use schemas::VnDateTime;
use serde::{Deserialize, Serialize};

use super::wire::ProgressItem;
use crate::sim::SimServer;
use state::Agency;

/// The one account the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimCredentials {
    /// The username.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCredentials").field("username", &self.username).finish_non_exhaustive()
    }
}

/// One dossier as the simulator received it through `DongBoHoSoMC`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedDossier {
    /// The id DVCQG gave it.
    pub id: String,
    /// The `Idempotency-Key` header ("" when absent).
    pub idempotency_key: String,
    /// The `X-Request-Id` header: the gateway's correlation id ("" when absent).
    pub correlation_id: String,
    /// The dossier code.
    pub ma_ho_so: String,
    /// Whether it was sent with `isUpdating` "true".
    pub is_update: bool,
    /// The dossier object exactly as received.
    pub dossier: serde_json::Value,
    /// When it was received.
    pub received_at: VnDateTime,
}

impl fmt::Debug for ReceivedDossier {
    // The dossier object holds personal data: leave it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedDossier")
            .field("id", &self.id)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("ma_ho_so", &self.ma_ho_so)
            .field("is_update", &self.is_update)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// The simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DvcqgStats {
    /// Agency requests that arrived (control requests excluded).
    pub requests: u64,
    /// Requests answered with an injected HTTP 503.
    pub injected_failures: u64,
    /// Requests held by the `hang` fault.
    pub hung: u64,
    /// Successful logins.
    pub logins: u64,
    /// Logins refused for wrong credentials.
    pub logins_refused: u64,
    /// New dossiers accepted.
    pub accepted: u64,
    /// Dossiers replaced with `isUpdating` "true".
    pub updated: u64,
    /// Repeats answered from the `Idempotency-Key` record, not processed again.
    pub replayed: u64,
    /// Error answers by `error_code` (login refusals excluded).
    pub rejected: BTreeMap<String, u64>,
    /// `TraCuuHoSo` calls with a valid body.
    pub lookups: u64,
    /// Processing-history items stored (repeats excluded).
    pub progress_items: u64,
    /// Synchronisations received that the simulator no longer keeps: it keeps
    /// the most recent ones (see [`set_keep`](DvcqgSimulator::set_keep)).
    #[serde(default)]
    pub forgotten: u64,
}

/// A running DVCQG simulator. Dropping it stops it.
pub struct DvcqgSimulator {
    server: SimServer,
    agency: Arc<Agency>,
}

impl DvcqgSimulator {
    crate::sim::server_delegations!();

    /// Starts a simulator on `addr` (port 0 picks a free port) that accepts one account.
    pub async fn start(addr: SocketAddr, credentials: SimCredentials) -> io::Result<Self> {
        let agency = Arc::new(Agency::new(credentials));
        let server = SimServer::start(addr, agency.clone()).await?;
        Ok(Self { server, agency })
    }

    /// Every dossier received, in order (repeats answered by replay excluded).
    pub fn received(&self) -> Vec<ReceivedDossier> {
        self.agency.lock().received()
    }

    /// Every processing-history item stored, in order.
    pub fn progress(&self) -> Vec<ProgressItem> {
        self.agency.lock().progress()
    }

    /// The counters.
    pub fn stats(&self) -> DvcqgStats {
        self.agency.lock().stats(&self.server.stats())
    }

    /// The lifetime given to new sessions.
    pub fn session_ttl(&self) -> Duration {
        self.agency.lock().session_ttl
    }

    /// Sets the lifetime of sessions opened from now on (existing ones keep theirs).
    pub fn set_session_ttl(&self, ttl: Duration) {
        self.agency.lock().session_ttl = ttl;
    }

    /// Ends every open session at once, so the next call answers "-1".
    pub fn expire_sessions(&self) {
        self.agency.lock().expire_sessions();
    }

    /// Answers the next `n` `DongBoHoSoMC` requests with "99" (system busy), over HTTP 200.
    pub fn set_busy_next(&self, n: u32) {
        self.agency.lock().busy_next = n;
    }

    /// Forgets everything received, closes sessions, zeroes counters and clears
    /// faults (the session lifetime is kept).
    pub fn reset(&self) {
        self.agency.reset();
        self.server.reset();
    }
}
