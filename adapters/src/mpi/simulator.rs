//! A simulator of MPI's business-registration service: a real HTTP server that
//! speaks SOAP 1.1, checks WS-Security, validates payloads by the rules of the
//! XSD, answers with MPI's fault codes, replays answers by `wsa:MessageID`, keeps
//! dossiers for `TraCuuHoSo`, knows a few enterprises for `TraCuuDoanhNghiep`, and
//! keeps everything it received for assertions.

mod answer;
mod routes;
mod seed;
mod state;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use schemas::{TrangThaiHoSo, VnDateTime};
use serde::{Deserialize, Serialize};

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

/// One dossier as the simulator received it through `NopHoSoDangKyDoanhNghiep`.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceivedDossier {
    /// The receipt number MPI gave it (`SoBienNhanDKKD`).
    pub receipt: String,
    /// The `Idempotency-Key` header ("" when absent).
    pub idempotency_key: String,
    /// The `wsa:MessageID`, under which the answer is remembered.
    pub message_id: String,
    /// The `X-Request-Id` header: the gateway's correlation id ("" when absent).
    pub correlation_id: String,
    /// The dossier code.
    pub ma_ho_so: String,
    /// The payload as received: one key per element, a list for a repeated
    /// element, text as sent.
    pub request: serde_json::Value,
    /// When it was received.
    pub received_at: VnDateTime,
}

impl fmt::Debug for ReceivedDossier {
    // The request holds personal data: leave it out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceivedDossier")
            .field("receipt", &self.receipt)
            .field("idempotency_key", &self.idempotency_key)
            .field("correlation_id", &self.correlation_id)
            .field("ma_ho_so", &self.ma_ho_so)
            .field("received_at", &self.received_at)
            .finish_non_exhaustive()
    }
}

/// One processing step MPI records on a dossier (`QuaTrinhXuLy/BuocXuLy`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStep {
    /// The state entered.
    pub status: TrangThaiHoSo,
    /// When (`ThoiDiem`).
    pub at: VnDateTime,
    /// The official (`NguoiXuLy`).
    pub handler: Option<String>,
    /// The official's title (`ChucDanh`).
    pub title: Option<String>,
    /// The department (`PhongBan`).
    pub department: Option<String>,
    /// What was done (`NoiDung`).
    pub content: Option<String>,
    /// When this step is due (`HanXuLy`).
    pub step_due_at: Option<VnDateTime>,
    /// The dossier's moved due date (`NgayHenTraMoi`).
    pub new_due_at: Option<VnDateTime>,
}

impl HistoryStep {
    /// A step entering `status` now, with what was done.
    pub fn new(status: TrangThaiHoSo, content: &str) -> Self {
        Self {
            status,
            at: VnDateTime::now(),
            handler: None,
            title: None,
            department: Some("Phòng Đăng ký kinh doanh".into()),
            content: Some(content.to_owned()),
            step_due_at: None,
            new_due_at: None,
        }
    }
}

/// The simulator's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MpiStats {
    /// Agency requests that arrived (control requests excluded).
    pub requests: u64,
    /// Requests answered with an injected HTTP 503.
    pub injected_failures: u64,
    /// Requests held by the `hang` fault.
    pub hung: u64,
    /// Dossiers accepted.
    pub accepted: u64,
    /// Repeats answered from the `wsa:MessageID` record, not processed again.
    pub replayed: u64,
    /// Faults answered, by MPI code.
    pub rejected: BTreeMap<String, u64>,
    /// `TraCuuDoanhNghiep` calls answered (found or not).
    pub enterprise_lookups: u64,
    /// `TraCuuHoSo` calls answered (found or not).
    pub dossier_lookups: u64,
    /// Submissions accepted that the simulator no longer keeps: it keeps the
    /// most recent ones (see [`set_keep`](MpiSimulator::set_keep)).
    #[serde(default)]
    pub forgotten: u64,
}

/// A running MPI simulator. Dropping it stops it.
pub struct MpiSimulator {
    server: SimServer,
    agency: Arc<Agency>,
}

impl MpiSimulator {
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

    /// The counters.
    pub fn stats(&self) -> MpiStats {
        self.agency.lock().stats(&self.server.stats())
    }

    /// Answers the next submission that is not a replay with the SOAP fault of
    /// `code` (one of [`wire::code`](super::wire::code)), after authentication and
    /// before validation; `MPI-500` and `MPI-503` come as `soap:Server`.
    pub fn set_reject_next(&self, code: &str) {
        self.agency.lock().reject_next.push_back(code.to_owned());
    }

    /// Records a processing step on a dossier, as MPI's officials would; false
    /// when the simulator does not have the dossier.
    pub fn advance(&self, ma_ho_so: &str, step: HistoryStep) -> bool {
        self.agency.lock().advance(ma_ho_so, step)
    }

    /// Forgets everything received, zeroes counters and clears faults; the seeded
    /// enterprises stay.
    pub fn reset(&self) {
        self.agency.reset();
        self.server.reset();
    }
}
