//! A simulator of the Ministry of Justice: one real HTTP server for both services
//! that issues tokens, validates every request with the published JSON Schemas,
//! answers with the ministry's error codes, honours `Idempotency-Key` (and
//! `maHoSoLT`), answers status polls, and keeps everything it received for assertions.

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

use super::encode::Service;
use super::wire::StatusItem;
use crate::sim::SimServer;
use state::Agency;

/// The account, key and static token the simulator accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct SimCredentials {
    /// The username of the one account.
    pub username: String,
    /// Its password.
    pub password: String,
    /// A token accepted without login and never expiring, if any.
    pub static_token: Option<String>,
    /// The judicial-records key (`authKey`) of the one province served.
    pub auth_key: String,
    /// That province's code (`maTinh`).
    pub province_code: String,
}

impl fmt::Debug for SimCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimCredentials")
            .field("username", &self.username)
            .field("province_code", &self.province_code)
            .finish_non_exhaustive()
    }
}

/// One dossier as the simulator received it, from either service.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedRequest {
    /// Which service received it.
    pub service: Service,
    /// The reference the ministry gave it (`value` or `id` of the answer).
    pub agency_ref: String,
    /// The `Idempotency-Key` header ("" when absent).
    pub idempotency_key: String,
    /// The `X-Request-Id` header: the gateway's correlation id ("" when absent).
    pub correlation_id: String,
    /// The dossier code (`maHoSoMCDT`).
    pub ma_ho_so: String,
    /// `KS` or `KT` for civil status; `None` for judicial records.
    pub module: Option<String>,
    /// The request as received, with `data` decoded into an object and `authKey` masked.
    pub request: serde_json::Value,
    /// When it was received.
    pub received_at: VnDateTime,
}

impl fmt::Debug for ReceivedRequest {
    // The request holds personal data: leave it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedRequest")
            .field("service", &self.service)
            .field("agency_ref", &self.agency_ref)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("ma_ho_so", &self.ma_ho_so)
            .field("module", &self.module)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// The simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MojStats {
    /// Agency requests that arrived (control requests excluded).
    pub requests: u64,
    /// Requests answered with an injected HTTP 503.
    pub injected_failures: u64,
    /// Requests held by the `hang` fault.
    pub hung: u64,
    /// Tokens issued.
    pub logins: u64,
    /// Logins refused for wrong credentials.
    pub logins_refused: u64,
    /// Civil-status dossiers accepted.
    pub civil_status_accepted: u64,
    /// Judicial-record requests accepted.
    pub judicial_record_accepted: u64,
    /// Repeats answered from the idempotency record, not processed again.
    pub replayed: u64,
    /// Status polls answered (either service).
    pub polls: u64,
    /// Failed answers by `errorCode`, token refusals and busy answers included.
    pub rejected: BTreeMap<String, u64>,
    /// Requests accepted that the simulator no longer keeps: it keeps the most
    /// recent ones (see [`set_keep`](MojSimulator::set_keep)).
    #[serde(default)]
    pub forgotten: u64,
}

/// A running Justice simulator. Dropping it stops it.
pub struct MojSimulator {
    server: SimServer,
    agency: Arc<Agency>,
}

impl MojSimulator {
    crate::sim::server_delegations!();

    /// Starts a simulator on `addr` (port 0 picks a free port) that accepts one
    /// account and one province's key. Fails if the port cannot be bound (or, never
    /// in a sound build, if a committed schema file does not compile).
    pub async fn start(addr: SocketAddr, credentials: SimCredentials) -> io::Result<Self> {
        let agency = Arc::new(Agency::new(credentials)?);
        let server = SimServer::start(addr, agency.clone()).await?;
        Ok(Self { server, agency })
    }

    /// Every dossier received by either service, in order (replayed repeats excluded).
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.agency.lock().received()
    }

    /// Every status update held for a dossier, oldest first.
    pub fn statuses(&self, ma_ho_so: &str) -> Vec<StatusItem> {
        self.agency.lock().statuses(ma_ho_so)
    }

    /// Records a new status of a received dossier (either service), as an official
    /// would, so that the next poll reports it. `trang_thai` is the DVCQG code 1 to
    /// 10; `new_due_at` fills `ngayHenTraMoi`. False when the dossier is unknown or
    /// the code out of range.
    pub fn set_status(
        &self,
        ma_ho_so: &str,
        trang_thai: u8,
        noi_dung_xu_ly: &str,
        new_due_at: Option<VnDateTime>,
    ) -> bool {
        self.agency.lock().set_status(ma_ho_so, trang_thai, noi_dung_xu_ly, new_due_at)
    }

    /// The counters.
    pub fn stats(&self) -> MojStats {
        self.agency.lock().stats(&self.server.stats())
    }

    /// The lifetime given to new tokens.
    pub fn token_ttl(&self) -> Duration {
        self.agency.lock().token_ttl
    }

    /// Sets the lifetime of tokens issued from now on (existing ones keep theirs).
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.agency.lock().token_ttl = ttl;
    }

    /// Makes every issued token expired, so the next call answers `AUTH-02`.
    pub fn expire_tokens(&self) {
        self.agency.lock().expire_tokens();
    }

    /// Forgets every issued token, so the next call answers HTTP 401 `AUTH-01`.
    pub fn revoke_tokens(&self) {
        self.agency.lock().revoke_tokens();
    }

    /// Answers the next `n` pushes (either service) with `SYS-99` (busy), over HTTP 200.
    pub fn set_busy_next(&self, n: u32) {
        self.agency.lock().busy_next = n;
    }

    /// Forgets everything received, revokes tokens, zeroes counters and clears
    /// faults (the token lifetime is kept).
    pub fn reset(&self) {
        self.agency.reset();
        self.server.reset();
    }
}
