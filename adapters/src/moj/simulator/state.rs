//! What the Justice simulator remembers: tokens, dossiers, answers by key, status
//! updates, counters.

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use http::StatusCode;
use schemas::{TrangThaiHoSo, VnDateTime};
use serde_json::{json, Map, Value};

use super::validate::{Rejection, Validators};
use super::{MojStats, ReceivedRequest, SimCredentials};
use crate::moj::encode::Service;
use crate::moj::wire::{code, wire_date_time, StatusItem, STATUS_FAILED, STATUS_OK};
use crate::sim::{Recent, RecentMap, SimStats};

/// A token's lifetime unless a test changes it.
pub(super) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The simulated ministry: fixed credentials, compiled schemas and mutable state.
pub(super) struct Agency {
    pub(super) credentials: SimCredentials,
    pub(super) validators: Validators,
    state: Mutex<State>,
}

/// One answer: HTTP status and JSON body, kept whole so a repeat gets it back.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub(super) http: StatusCode,
    pub(super) body: Value,
}

impl Reply {
    /// A success: `status` 1, the description under the service's key, and `extra`.
    pub(super) fn ok(lltp: bool, description: &str, extra: (&str, Value)) -> Self {
        let mut m = Map::new();
        m.insert("status".into(), json!(STATUS_OK));
        m.insert(description_key(lltp).into(), json!(description));
        m.insert(extra.0.into(), extra.1);
        Self { http: StatusCode::OK, body: Value::Object(m) }
    }

    fn failed(lltp: bool, r: &Rejection) -> Self {
        let mut m = Map::new();
        m.insert("status".into(), json!(STATUS_FAILED));
        m.insert(description_key(lltp).into(), json!(r.message));
        m.insert("errorCode".into(), json!(r.code));
        if let Some(field) = &r.field {
            m.insert("errorField".into(), json!(field));
        }
        Self { http: r.http, body: Value::Object(m) }
    }
}

/// Civil status says `statusDescription`, judicial records `description`.
fn description_key(lltp: bool) -> &'static str {
    if lltp {
        "description"
    } else {
        "statusDescription"
    }
}

/// What a bearer token is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenCheck {
    Valid,
    Expired,
    Unknown,
}

/// Everything the ministry knows.
pub(super) struct State {
    /// Lifetime given to new tokens.
    pub(super) token_ttl: Duration,
    /// Pushes still to answer `SYS-99`.
    pub(super) busy_next: u32,
    tokens: HashMap<String, Instant>,
    /// Every dossier accepted, by service and code: kept for good (a few dozen
    /// bytes each), so that a repeat of an old one is still a duplicate.
    dossiers: HashSet<(Service, String)>,
    received: Recent<ReceivedRequest>,
    replies: RecentMap<String, Reply>,
    statuses: Recent<(Service, StatusItem)>,
    next_id: u64,
    counters: MojStats,
}

impl Agency {
    pub(super) fn new(credentials: SimCredentials) -> io::Result<Self> {
        let validators = Validators::new()?;
        Ok(Self { credentials, validators, state: Mutex::new(State::new(DEFAULT_TOKEN_TTL)) })
    }

    /// The state; a panic elsewhere while it was held leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything but the token lifetime and how much to keep.
    pub(super) fn reset(&self) {
        let mut state = self.lock();
        let keep = state.received.limit();
        *state = State::new(state.token_ttl);
        state.set_keep(keep);
    }
}

impl State {
    fn new(token_ttl: Duration) -> Self {
        Self {
            token_ttl,
            busy_next: 0,
            tokens: HashMap::new(),
            dossiers: HashSet::new(),
            received: Recent::default(),
            replies: RecentMap::default(),
            statuses: Recent::default(),
            next_id: 1,
            counters: MojStats::default(),
        }
    }

    /// Keeps at most `n` received requests, answers and status updates
    /// from now on, letting the oldest go first.
    pub(super) fn set_keep(&mut self, n: usize) {
        self.received.set_limit(n);
        self.replies.set_limit(n);
        self.statuses.set_limit(n);
    }

    /// Issues a token and returns it.
    pub(super) fn issue_token(&mut self) -> String {
        let now = Instant::now();
        self.tokens.retain(|_, expiry| *expiry + DEFAULT_TOKEN_TTL > now);
        let token = uuid::Uuid::new_v4().simple().to_string();
        self.tokens.insert(token.clone(), now + self.token_ttl);
        self.counters.logins += 1;
        token
    }

    /// Refuses a login (`AUTH-03`), counted apart from other failures.
    pub(super) fn refuse_login(&mut self) -> Reply {
        self.counters.logins_refused += 1;
        Reply::failed(false, &Rejection::new(code::LOGIN_REFUSED, "Tên đăng nhập hoặc mật khẩu không đúng"))
    }

    /// Whether `token` was issued and is still valid.
    pub(super) fn check_token(&self, token: &str) -> TokenCheck {
        match self.tokens.get(token) {
            None => TokenCheck::Unknown,
            Some(expiry) if *expiry <= Instant::now() => TokenCheck::Expired,
            Some(_) => TokenCheck::Valid,
        }
    }

    /// Makes every token expired (kept, so they answer `AUTH-02`).
    pub(super) fn expire_tokens(&mut self) {
        let now = Instant::now();
        self.tokens.values_mut().for_each(|expiry| *expiry = now);
    }

    /// Forgets every token (they then answer `AUTH-01`).
    pub(super) fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }

    /// A failed answer, counted by its code.
    pub(super) fn fail(&mut self, lltp: bool, rejection: &Rejection) -> Reply {
        *self.counters.rejected.entry(rejection.code.to_owned()).or_default() += 1;
        Reply::failed(lltp, rejection)
    }

    /// The answer first given under any of `keys`, counted as a replay.
    pub(super) fn replay(&mut self, keys: &[String]) -> Option<Reply> {
        let reply = keys.iter().find_map(|k| self.replies.get(k))?.clone();
        self.counters.replayed += 1;
        Some(reply)
    }

    /// Remembers the answer given under every one of `keys`.
    pub(super) fn remember(&mut self, keys: &[String], reply: &Reply) {
        for k in keys {
            self.replies.insert(k.clone(), reply.clone());
        }
    }

    /// Whether the service already holds the dossier.
    pub(super) fn knows(&self, service: Service, ma_ho_so: &str) -> bool {
        self.dossiers.contains(&(service, ma_ho_so.to_owned()))
    }

    /// Accepts a dossier: gives it a reference, records it and its first status
    /// ("2", received), and returns the reference.
    pub(super) fn store(&mut self, mut received: ReceivedRequest, province_code: &str) -> String {
        let agency_ref = match received.service {
            Service::CivilStatus => {
                self.counters.civil_status_accepted += 1;
                format!("HT{:010}", self.next_id)
            }
            Service::JudicialRecord => {
                self.counters.judicial_record_accepted += 1;
                format!("LLTP-{province_code}-{:07}", self.next_id)
            }
        };
        self.next_id += 1;
        self.dossiers.insert((received.service, received.ma_ho_so.clone()));
        let first = StatusItem {
            ma_ho_so: received.ma_ho_so.clone(),
            trang_thai: TrangThaiHoSo::DuocTiepNhan.code(),
            thoi_gian_thuc_hien: wire_date_time(&received.received_at),
            nguoi_xu_ly: "Hệ thống tiếp nhận liên thông".into(),
            noi_dung_xu_ly: "Tiếp nhận hồ sơ liên thông".into(),
            ngay_hen_tra_moi: String::new(),
        };
        self.statuses.push((received.service, first));
        received.agency_ref = agency_ref.clone();
        self.received.push(received);
        agency_ref
    }

    /// Records a new status of a dossier held by either service.
    pub(super) fn set_status(
        &mut self,
        ma_ho_so: &str,
        trang_thai: u8,
        content: &str,
        due: Option<VnDateTime>,
    ) -> bool {
        let Some(service) = Service::ALL.into_iter().find(|s| self.knows(*s, ma_ho_so)) else {
            return false;
        };
        if TrangThaiHoSo::from_code(trang_thai).is_none() {
            return false;
        }
        let item = StatusItem {
            ma_ho_so: ma_ho_so.to_owned(),
            trang_thai,
            thoi_gian_thuc_hien: wire_date_time(&VnDateTime::now()),
            nguoi_xu_ly: "Cán bộ tư pháp - hộ tịch".into(),
            noi_dung_xu_ly: content.to_owned(),
            ngay_hen_tra_moi: due.as_ref().map(wire_date_time).unwrap_or_default(),
        };
        self.statuses.push((service, item));
        true
    }

    /// The updates one service holds for `codes`, oldest first; counts the poll.
    pub(super) fn poll(&mut self, service: Service, codes: &[String]) -> Vec<StatusItem> {
        self.counters.polls += 1;
        let items = self.statuses.iter().filter(|(s, i)| *s == service && codes.contains(&i.ma_ho_so));
        items.map(|(_, i)| i.clone()).collect()
    }

    /// Every update held for a dossier, oldest first.
    pub(super) fn statuses(&self, ma_ho_so: &str) -> Vec<StatusItem> {
        self.statuses.iter().filter(|(_, i)| i.ma_ho_so == ma_ho_so).map(|(_, i)| i.clone()).collect()
    }

    /// Everything received, in order.
    pub(super) fn received(&self) -> Vec<ReceivedRequest> {
        self.received.to_vec()
    }

    /// The ministry's counters with the server's.
    pub(super) fn stats(&self, server: &SimStats) -> MojStats {
        MojStats {
            requests: server.requests,
            injected_failures: server.injected_failures,
            hung: server.hung,
            forgotten: self.received.forgotten(),
            ..self.counters.clone()
        }
    }
}

/// The refusal of a token check, if any.
pub(super) fn token_refusal(check: TokenCheck) -> Option<Rejection> {
    match check {
        TokenCheck::Valid => None,
        TokenCheck::Expired => Some(Rejection::new(code::TOKEN_EXPIRED, "Token đã hết hạn")),
        TokenCheck::Unknown => Some(token_invalid()),
    }
}

/// The refusal of a missing or unknown token: HTTP 401 with `AUTH-01`.
pub(super) fn token_invalid() -> Rejection {
    Rejection {
        http: StatusCode::UNAUTHORIZED,
        ..Rejection::new(code::TOKEN_INVALID, "Token không hợp lệ hoặc không được cung cấp")
    }
}
