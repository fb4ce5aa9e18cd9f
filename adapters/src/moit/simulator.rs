//! A simulator of the Industry & Trade licensing system: a real HTTP server that
//! issues OAuth2 tokens, validates applications against the published JSON
//! Schema, answers with MOIT's problem codes, honours `Idempotency-Key`, keeps
//! dossiers and their history for the `GET`s, and knows a few licences.

mod codec;
mod oauth;
mod routes;
mod seed;
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

use super::wire::MoitState;
use crate::sim::SimServer;
use state::Agency;

/// The one OAuth2 client the simulator knows.
#[derive(Clone, PartialEq, Eq)]
pub struct SimClient {
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
}

impl fmt::Debug for SimClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimClient").field("client_id", &self.client_id).finish_non_exhaustive()
    }
}

/// One application as the simulator received it through `POST /api/v1/ho-so`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedDossier {
    /// The id MOIT gave it.
    pub id: String,
    /// The receipt number MOIT gave it.
    pub so_tiep_nhan: String,
    /// The `Idempotency-Key` header.
    pub idempotency_key: String,
    /// The `X-Request-Id` header: the gateway's correlation id ("" when absent).
    pub correlation_id: String,
    /// The dossier code.
    pub ma_ho_so: String,
    /// The body exactly as received (parsed).
    pub body: serde_json::Value,
    /// The body's bytes exactly as received, for checking the gateway's signature.
    pub raw_body: String,
    /// The gateway's detached JWS over the body (`X-JWS-Signature`), if it sent one.
    pub signature: Option<String>,
    /// When it was received.
    pub received_at: VnDateTime,
}

impl fmt::Debug for ReceivedDossier {
    // The body holds personal data: leave it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedDossier")
            .field("id", &self.id)
            .field("so_tiep_nhan", &self.so_tiep_nhan)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("ma_ho_so", &self.ma_ho_so)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// The simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoitStats {
    /// Agency requests that arrived (control requests excluded).
    pub requests: u64,
    /// Requests answered with an injected HTTP 503.
    pub injected_failures: u64,
    /// Requests held by the `hang` fault.
    pub hung: u64,
    /// Access tokens issued.
    pub tokens_issued: u64,
    /// Token requests refused (any RFC 6749 §5.2 error).
    pub tokens_refused: u64,
    /// HTTP 401s for a token MOIT issued that had expired.
    pub unauthorized_expired: u64,
    /// HTTP 401s for a missing or unknown token.
    pub unauthorized_unknown: u64,
    /// HTTP 403s for a token without the scope the call needs.
    pub forbidden: u64,
    /// Applications accepted (201).
    pub accepted: u64,
    /// Repeats answered from the `Idempotency-Key` record, not processed again.
    pub replayed: u64,
    /// Problem answers by MOIT code.
    pub rejected: BTreeMap<String, u64>,
    /// `GET /api/v1/ho-so/{maHoSo}` calls that passed authorisation.
    pub dossier_lookups: u64,
    /// `GET /api/v1/giay-phep/{soGiayPhep}` calls that passed authorisation.
    pub licence_lookups: u64,
    /// Applications accepted that the simulator no longer keeps: it keeps the
    /// most recent ones (see [`set_keep`](MoitSimulator::set_keep)).
    #[serde(default)]
    pub forgotten: u64,
}

/// A running MOIT simulator. Dropping it stops it.
pub struct MoitSimulator {
    server: SimServer,
    agency: Arc<Agency>,
}

impl MoitSimulator {
    crate::sim::server_delegations!();

    /// Starts a simulator on `addr` (port 0 picks a free port) that knows one client.
    pub async fn start(addr: SocketAddr, client: SimClient) -> io::Result<Self> {
        let validator = validate::compile().map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        let agency = Arc::new(Agency::new(client, validator));
        let server = SimServer::start(addr, agency.clone()).await?;
        Ok(Self { server, agency })
    }

    /// Every application accepted, in order (repeats answered by replay excluded).
    pub fn received(&self) -> Vec<ReceivedDossier> {
        self.agency.lock().received()
    }

    /// The counters.
    pub fn stats(&self) -> MoitStats {
        self.agency.lock().stats(&self.server.stats())
    }

    /// The lifetime given to new tokens.
    pub fn token_ttl(&self) -> Duration {
        self.agency.lock().token_ttl
    }

    /// Sets the lifetime of tokens issued from now on (existing ones keep theirs).
    /// `expires_in` reports it in whole seconds, rounded up and at least 1, so a
    /// zero lifetime issues tokens that every call refuses.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.agency.lock().token_ttl = ttl;
    }

    /// Lets every token issued so far expire at once: the next call with one gets
    /// a 401 counted in `unauthorized_expired`.
    pub fn expire_tokens(&self) {
        self.agency.lock().expire_tokens();
    }

    /// Answers the next `n` applications with `MOIT-SYS-503` (HTTP 503, `Retry-After`).
    pub fn set_busy_next(&self, n: u32) {
        self.agency.lock().busy_next = n;
    }

    /// Records a processing step, as MOIT staff would: a supplement request moves
    /// the due date, `DA_CAP_PHEP` issues a licence. `false` for an unknown dossier.
    pub fn advance(&self, ma_ho_so: &str, state: MoitState) -> bool {
        self.agency.lock().advance(ma_ho_so, state)
    }

    /// The number of the licence issued for a dossier, once there is one.
    pub fn licence_of(&self, ma_ho_so: &str) -> Option<String> {
        self.agency.lock().licence_of(ma_ho_so)
    }

    /// Forgets everything received and every token, zeroes counters, clears faults
    /// and restores the seeded licences (the token lifetime is kept).
    pub fn reset(&self) {
        self.agency.reset();
        self.server.reset();
    }
}
