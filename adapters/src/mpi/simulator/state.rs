//! What the MPI simulator remembers: dossiers and their history, answers by
//! message id, nonces seen, injected refusals and counters.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use schemas::{TrangThaiHoSo, VnDateTime};
use serde_json::Value;

use super::{HistoryStep, MpiStats, ReceivedDossier, SimCredentials};
use crate::mpi::wire::MAX_CLOCK_SKEW_SECS;
use crate::sim::{Recent, RecentMap, SimResponse, SimStats};

/// How long a nonce is remembered: longer than any `wsu:Created` accepted.
const NONCE_MEMORY: Duration = Duration::from_secs(2 * MAX_CLOCK_SKEW_SECS as u64 + 60);

/// The simulated agency: fixed credentials and mutable state.
pub(super) struct Agency {
    pub(super) credentials: SimCredentials,
    state: Mutex<State>,
}

/// Everything the agency knows.
#[derive(Default)]
pub(super) struct State {
    /// MPI codes to answer the next submissions with, in order.
    pub(super) reject_next: VecDeque<String>,
    /// Every dossier accepted, by code (small records, kept for good, so that a
    /// repeat of an old one is still a duplicate).
    dossiers: HashMap<String, Stored>,
    received: Recent<ReceivedDossier>,
    replies: RecentMap<String, SimResponse>,
    nonces: HashMap<String, Instant>,
    next_receipt: u64,
    counters: MpiStats,
}

/// A dossier MPI holds.
pub(super) struct Stored {
    pub(super) receipt: String,
    pub(super) message_id: String,
    pub(super) history: Vec<HistoryStep>,
}

impl Stored {
    /// The state of the latest step.
    pub(super) fn status(&self) -> TrangThaiHoSo {
        self.history.last().map_or(TrangThaiHoSo::DuocTiepNhan, |s| s.status)
    }
}

/// A submission that passed every check, to be stored.
pub(super) struct Accepted {
    pub(super) ma_ho_so: String,
    pub(super) message_id: String,
    pub(super) idempotency_key: String,
    pub(super) correlation_id: String,
    pub(super) request: Value,
}

impl Agency {
    pub(super) fn new(credentials: SimCredentials) -> Self {
        Self { credentials, state: Mutex::new(State::default()) }
    }

    /// The state; a panic elsewhere while it was held leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything but how much to keep.
    pub(super) fn reset(&self) {
        let mut state = self.lock();
        let keep = state.received.limit();
        *state = State::default();
        state.set_keep(keep);
    }
}

impl State {
    /// Keeps at most `n` received submissions and answers from now on,
    /// letting the oldest go first.
    pub(super) fn set_keep(&mut self, n: usize) {
        self.received.set_limit(n);
        self.replies.set_limit(n);
    }

    /// Records a nonce; false when it was already used within the window.
    pub(super) fn fresh_nonce(&mut self, nonce: &str) -> bool {
        let now = Instant::now();
        self.nonces.retain(|_, at| now.duration_since(*at) < NONCE_MEMORY);
        self.nonces.insert(nonce.to_owned(), now).is_none()
    }

    /// Counts a fault by its MPI code.
    pub(super) fn count_fault(&mut self, code: &str) {
        *self.counters.rejected.entry(code.to_owned()).or_default() += 1;
    }

    /// The answer first given under `message_id`, counted as a replay.
    pub(super) fn replay(&mut self, message_id: &str) -> Option<SimResponse> {
        let answer = self.replies.get(message_id)?.clone();
        self.counters.replayed += 1;
        Some(answer)
    }

    /// Remembers the answer given under `message_id`.
    pub(super) fn remember(&mut self, message_id: &str, answer: &SimResponse) {
        self.replies.insert(message_id.to_owned(), answer.clone());
    }

    /// The message id a dossier was first submitted under, if it was.
    pub(super) fn submitted_under(&self, ma_ho_so: &str) -> Option<&str> {
        self.dossiers.get(ma_ho_so).map(|d| d.message_id.as_str())
    }

    /// Stores an accepted dossier with its first step and returns its receipt.
    pub(super) fn store(&mut self, a: Accepted) -> (String, VnDateTime) {
        self.next_receipt += 1;
        let now = VnDateTime::now();
        let receipt = format!("DKKD-{}-{:06}", now.inner().format("%Y%m%d"), self.next_receipt);
        let mut first = HistoryStep::new(TrangThaiHoSo::DuocTiepNhan, "Tiếp nhận hồ sơ đăng ký doanh nghiệp");
        first.at = now;
        self.dossiers.insert(
            a.ma_ho_so.clone(),
            Stored { receipt: receipt.clone(), message_id: a.message_id.clone(), history: vec![first] },
        );
        self.received.push(ReceivedDossier {
            receipt: receipt.clone(),
            idempotency_key: a.idempotency_key,
            message_id: a.message_id,
            correlation_id: a.correlation_id,
            ma_ho_so: a.ma_ho_so,
            request: a.request,
            received_at: now,
        });
        self.counters.accepted += 1;
        (receipt, now)
    }

    /// A dossier, counted as a look-up.
    pub(super) fn lookup_dossier(&mut self, ma_ho_so: &str) -> Option<&Stored> {
        self.counters.dossier_lookups += 1;
        self.dossiers.get(ma_ho_so)
    }

    /// Counts an enterprise look-up.
    pub(super) fn count_enterprise_lookup(&mut self) {
        self.counters.enterprise_lookups += 1;
    }

    /// Adds a step to a dossier's history.
    pub(super) fn advance(&mut self, ma_ho_so: &str, step: HistoryStep) -> bool {
        match self.dossiers.get_mut(ma_ho_so) {
            Some(d) => {
                d.history.push(step);
                true
            }
            None => false,
        }
    }

    /// Everything accepted, in order.
    pub(super) fn received(&self) -> Vec<ReceivedDossier> {
        self.received.to_vec()
    }

    /// The agency's counters with the server's.
    pub(super) fn stats(&self, server: &SimStats) -> MpiStats {
        MpiStats {
            requests: server.requests,
            injected_failures: server.injected_failures,
            hung: server.hung,
            forgotten: self.received.forgotten(),
            ..self.counters.clone()
        }
    }
}
