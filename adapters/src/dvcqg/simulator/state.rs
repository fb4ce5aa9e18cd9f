//! What the DVCQG simulator remembers: sessions, dossiers, answers by key, counters.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use schemas::VnDateTime;
use serde_json::Value;

use super::validate::{Rejection, SyncBody};
use super::{DvcqgStats, ReceivedDossier, SimCredentials};
use crate::dvcqg::wire::{code, Answer, ProgressItem};
use crate::sim::{Recent, RecentMap, SimStats};

/// A session's lifetime unless a test changes it.
pub(super) const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(3600);

/// The simulated agency: fixed credentials and mutable state.
pub(super) struct Agency {
    pub(super) credentials: SimCredentials,
    state: Mutex<State>,
}

/// Everything the agency knows.
pub(super) struct State {
    /// Lifetime given to new sessions.
    pub(super) session_ttl: Duration,
    /// `DongBoHoSoMC` requests still to answer "99".
    pub(super) busy_next: u32,
    sessions: HashMap<String, Instant>,
    /// Every dossier synchronised, by code: DVCQG's id for it. Kept for good
    /// (a few dozen bytes each), so that an update or a progress item for a
    /// dossier whose body was let go is still taken.
    ids: HashMap<String, String>,
    /// The bodies of the most recent dossiers.
    dossiers: RecentMap<String, Value>,
    received: Recent<ReceivedDossier>,
    replies: RecentMap<String, Answer>,
    progress: Recent<ProgressItem>,
    next_id: u64,
    counters: DvcqgStats,
}

impl Agency {
    pub(super) fn new(credentials: SimCredentials) -> Self {
        Self { credentials, state: Mutex::new(State::new(DEFAULT_SESSION_TTL)) }
    }

    /// The state; a panic elsewhere while it was held leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything but the session lifetime and how much to keep.
    pub(super) fn reset(&self) {
        let mut state = self.lock();
        let keep = state.received.limit();
        *state = State::new(state.session_ttl);
        state.set_keep(keep);
    }
}

impl State {
    fn new(session_ttl: Duration) -> Self {
        Self {
            session_ttl,
            busy_next: 0,
            sessions: HashMap::new(),
            ids: HashMap::new(),
            dossiers: RecentMap::default(),
            received: Recent::default(),
            replies: RecentMap::default(),
            progress: Recent::default(),
            next_id: 1,
            counters: DvcqgStats::default(),
        }
    }

    /// Keeps at most `n` dossier bodies, received records, answers and history items
    /// from now on, letting the oldest go first.
    pub(super) fn set_keep(&mut self, n: usize) {
        self.dossiers.set_limit(n);
        self.received.set_limit(n);
        self.replies.set_limit(n);
        self.progress.set_limit(n);
    }

    /// Opens a session and returns it.
    pub(super) fn open_session(&mut self) -> String {
        let now = Instant::now();
        self.sessions.retain(|_, expiry| *expiry > now);
        let session = uuid::Uuid::new_v4().simple().to_string();
        self.sessions.insert(session.clone(), now + self.session_ttl);
        self.counters.logins += 1;
        session
    }

    /// Counts a refused login.
    pub(super) fn login_refused(&mut self) {
        self.counters.logins_refused += 1;
    }

    /// Whether `session` is open and not expired.
    pub(super) fn session_valid(&self, session: Option<&str>) -> bool {
        session.and_then(|s| self.sessions.get(s)).is_some_and(|expiry| *expiry > Instant::now())
    }

    /// Ends every open session.
    pub(super) fn expire_sessions(&mut self) {
        self.sessions.clear();
    }

    /// An error answer, counted by its code.
    pub(super) fn reject(&mut self, rejection: &Rejection) -> Answer {
        *self.counters.rejected.entry(rejection.code.to_owned()).or_default() += 1;
        rejection.answer()
    }

    /// The answer first given under `key`, counted as a replay.
    pub(super) fn replay(&mut self, key: Option<&str>) -> Option<Answer> {
        let answer = self.replies.get(key?)?.clone();
        self.counters.replayed += 1;
        Some(answer)
    }

    /// Remembers the answer given under `key`.
    pub(super) fn remember(&mut self, key: Option<&str>, answer: &Answer) {
        if let Some(k) = key {
            self.replies.insert(k.to_owned(), answer.clone());
        }
    }

    /// Stores a checked dossier, or refuses it as a duplicate or unknown update.
    pub(super) fn store(&mut self, body: SyncBody, idempotency_key: &str, correlation_id: &str) -> Answer {
        let existing = self.ids.get(&body.ma_ho_so).cloned();
        let id = match (existing, body.is_updating) {
            (Some(_), false) => {
                let message = format!("Hồ sơ {} đã được đồng bộ trước đó", body.ma_ho_so);
                return self.reject(&Rejection::new(code::ALREADY_SYNCED, message));
            }
            (None, true) => {
                let message = format!("Không tìm thấy hồ sơ {} để cập nhật", body.ma_ho_so);
                return self.reject(&Rejection::new(code::NOT_FOUND, message));
            }
            (Some(id), true) => {
                self.counters.updated += 1;
                id
            }
            (None, false) => {
                self.counters.accepted += 1;
                let id = format!("DVCQG-{:010}", self.next_id);
                self.next_id += 1;
                self.ids.insert(body.ma_ho_so.clone(), id.clone());
                id
            }
        };
        self.dossiers.insert(body.ma_ho_so.clone(), body.dossier.clone());
        self.received.push(ReceivedDossier {
            id: id.clone(),
            idempotency_key: idempotency_key.to_owned(),
            correlation_id: correlation_id.to_owned(),
            ma_ho_so: body.ma_ho_so,
            is_update: body.is_updating,
            dossier: body.dossier,
            received_at: VnDateTime::now(),
        });
        Answer { id: Some(id), ..Answer::new(code::OK, "Thành công") }
    }

    /// A dossier with its history in `QuaTrinhXuLy`, as `TraCuuHoSo` returns it;
    /// `None` once its body was let go.
    pub(super) fn lookup(&mut self, ma_ho_so: &str) -> Option<Value> {
        self.counters.lookups += 1;
        let mut dossier = self.dossiers.get(ma_ho_so)?.clone();
        let history: Vec<&ProgressItem> = self.progress.iter().filter(|p| p.ma_ho_so == ma_ho_so).collect();
        let history = serde_json::to_value(history).unwrap_or_default();
        if let Value::Object(map) = &mut dossier {
            map.insert("QuaTrinhXuLy".into(), history);
        }
        Some(dossier)
    }

    /// Whether a dossier has been synchronised.
    pub(super) fn knows(&self, ma_ho_so: &str) -> bool {
        self.ids.contains_key(ma_ho_so)
    }

    /// Adds history items; an item equal in dossier, status and time to one already
    /// held is a repeat and is not added again.
    pub(super) fn add_progress(&mut self, items: Vec<ProgressItem>) {
        for item in items {
            let repeat = self.progress.iter().any(|p| {
                p.ma_ho_so == item.ma_ho_so
                    && p.trang_thai == item.trang_thai
                    && p.thoi_diem_xu_ly == item.thoi_diem_xu_ly
            });
            if !repeat {
                self.counters.progress_items += 1;
                self.progress.push(item);
            }
        }
    }

    /// Everything received by `DongBoHoSoMC`, in order.
    pub(super) fn received(&self) -> Vec<ReceivedDossier> {
        self.received.to_vec()
    }

    /// Every history item held, in order.
    pub(super) fn progress(&self) -> Vec<ProgressItem> {
        self.progress.to_vec()
    }

    /// The agency's counters with the server's.
    pub(super) fn stats(&self, server: &SimStats) -> DvcqgStats {
        DvcqgStats {
            requests: server.requests,
            injected_failures: server.injected_failures,
            hung: server.hung,
            forgotten: self.received.forgotten(),
            ..self.counters.clone()
        }
    }
}
