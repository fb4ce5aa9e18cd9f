//! What the MOIT simulator remembers: tokens, dossiers with their history,
//! licences, answers by idempotency key, counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use jsonschema::Validator;
use schemas::VnDateTime;
use serde_json::Value;

use super::seed::{seed_licences, step};
use super::validate::{Checked, Rejection};
use super::{MoitStats, ReceivedDossier, SimClient};
use crate::moit::wire::{code, Created, DiaDiem, HistoryItem, HoSoStatus, Licence, LicenceState, MoitState};
use crate::sim::{Recent, RecentMap, SimResponse, SimStats};

/// A token's lifetime unless a test changes it.
pub(super) const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// How long an expired token is still recognised as "expired" rather than "unknown".
const KEEP_EXPIRED: Duration = Duration::from_secs(600);

/// The simulated agency: the one client it knows, the compiled schema, mutable state.
pub(super) struct Agency {
    pub(super) client: SimClient,
    pub(super) validator: Validator,
    state: Mutex<State>,
}

/// Why a bearer token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// No token, or one MOIT never issued (or forgot).
    Unknown,
    /// A token MOIT issued that has expired.
    Expired,
    /// A valid token without the scope the call needs.
    Scope,
}

/// Everything the agency knows.
pub(super) struct State {
    /// Lifetime given to new tokens.
    pub(super) token_ttl: Duration,
    /// `POST /api/v1/ho-so` requests still to answer `MOIT-SYS-503`.
    pub(super) busy_next: u32,
    tokens: HashMap<String, Token>,
    dossiers: RecentMap<String, Stored>,
    received: Recent<ReceivedDossier>,
    replies: RecentMap<String, SimResponse>,
    licences: BTreeMap<String, Licence>,
    next_id: u64,
    counters: MoitStats,
}

struct Token {
    expires: Instant,
    scopes: Vec<String>,
}

/// A dossier as received, with what happened to it since.
struct Stored {
    id: String,
    so_tiep_nhan: String,
    checked: Checked,
    state: MoitState,
    due: VnDateTime,
    licence: Option<String>,
    history: Vec<HistoryItem>,
}

impl Agency {
    pub(super) fn new(client: SimClient, validator: Validator) -> Self {
        Self { client, validator, state: Mutex::new(State::new(DEFAULT_TOKEN_TTL)) }
    }

    /// The state; a panic elsewhere while it was held leaves it usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets everything but the token lifetime and how much to keep; the seeded
    /// licences come back.
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
            dossiers: RecentMap::default(),
            received: Recent::default(),
            replies: RecentMap::default(),
            licences: seed_licences().into_iter().map(|l| (l.so_giay_phep.clone(), l)).collect(),
            next_id: 1,
            counters: MoitStats::default(),
        }
    }

    /// Keeps at most `n` dossiers, received applications and answers from now on,
    /// letting the oldest go first.
    pub(super) fn set_keep(&mut self, n: usize) {
        self.dossiers.set_limit(n);
        self.received.set_limit(n);
        self.replies.set_limit(n);
    }

    /// Issues a token for `scopes`; returns it and its lifetime in whole seconds
    /// (rounded up, at least 1).
    pub(super) fn issue_token(&mut self, scopes: Vec<String>) -> (String, u64) {
        let now = Instant::now();
        self.tokens.retain(|_, t| t.expires + KEEP_EXPIRED > now);
        let token = format!("moit.{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(token.clone(), Token { expires: now + self.token_ttl, scopes });
        self.counters.tokens_issued += 1;
        let ttl = self.token_ttl;
        (token, (ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0)).max(1))
    }

    /// Counts a refused token request.
    pub(super) fn token_refused(&mut self) {
        self.counters.tokens_refused += 1;
    }

    /// Checks a bearer token for `scope`, counting refusals.
    pub(super) fn authorize(&mut self, token: Option<&str>, scope: &str) -> Result<(), Refusal> {
        let refusal = match token.and_then(|t| self.tokens.get(t)) {
            None => Refusal::Unknown,
            Some(t) if t.expires <= Instant::now() => Refusal::Expired,
            Some(t) if !t.scopes.iter().any(|s| s == scope) => Refusal::Scope,
            Some(_) => return Ok(()),
        };
        match refusal {
            Refusal::Unknown => self.counters.unauthorized_unknown += 1,
            Refusal::Expired => self.counters.unauthorized_expired += 1,
            Refusal::Scope => self.counters.forbidden += 1,
        }
        Err(refusal)
    }

    /// Lets every token issued so far expire now (they are still recognised, so
    /// their next use counts as a 401 due to expiry).
    pub(super) fn expire_tokens(&mut self) {
        let now = Instant::now();
        for t in self.tokens.values_mut() {
            t.expires = t.expires.min(now);
        }
    }

    /// Counts an error answer by its code.
    pub(super) fn reject(&mut self, code: &str) {
        *self.counters.rejected.entry(code.to_owned()).or_default() += 1;
    }

    /// The answer first given under `key`, counted as a replay.
    pub(super) fn replay(&mut self, key: &str) -> Option<SimResponse> {
        let answer = self.replies.get(key)?.clone();
        self.counters.replayed += 1;
        Some(answer)
    }

    /// Remembers the answer given under `key`.
    pub(super) fn remember(&mut self, key: &str, answer: &SimResponse) {
        self.replies.insert(key.to_owned(), answer.clone());
    }

    /// Stores a checked application, or refuses it as a duplicate.
    pub(super) fn store(
        &mut self,
        checked: Checked,
        key: &str,
        correlation_id: &str,
        signature: Option<&str>,
        raw_body: &[u8],
    ) -> Result<Created, Rejection> {
        if self.dossiers.contains_key(&checked.ma_ho_so) {
            let mut r = Rejection::new(code::DUPLICATE, "Hồ sơ đã được tiếp nhận với một Idempotency-Key khác");
            r.field = Some("maHoSo".into());
            return Err(r);
        }
        let now = VnDateTime::now();
        let year = now.inner().format("%Y");
        let (id, so_tiep_nhan) = (format!("HS{:010}", self.next_id), format!("TN-{year}-{:06}", self.next_id));
        self.next_id += 1;
        self.counters.accepted += 1;
        self.received.push(ReceivedDossier {
            id: id.clone(),
            so_tiep_nhan: so_tiep_nhan.clone(),
            idempotency_key: key.to_owned(),
            correlation_id: correlation_id.to_owned(),
            ma_ho_so: checked.ma_ho_so.clone(),
            body: checked.body.clone(),
            raw_body: String::from_utf8_lossy(raw_body).into_owned(),
            signature: signature.map(str::to_owned),
            received_at: now,
        });
        let first = step(MoitState::DaTiepNhan, now, Some(checked.ngay_hen_tra));
        let stored = Stored {
            id: id.clone(),
            so_tiep_nhan: so_tiep_nhan.clone(),
            due: checked.ngay_hen_tra,
            checked,
            state: MoitState::DaTiepNhan,
            licence: None,
            history: vec![first],
        };
        self.dossiers.insert(stored.checked.ma_ho_so.clone(), stored);
        Ok(Created { id: Some(id), so_tiep_nhan: Some(so_tiep_nhan), trang_thai: Some("DA_TIEP_NHAN".into()) })
    }

    /// Records a processing step. A supplement request moves the due date by ten
    /// days; issuing a licence creates it. `false` when the dossier is unknown.
    pub(super) fn advance(&mut self, ma_ho_so: &str, state: MoitState) -> bool {
        let Some(d) = self.dossiers.get_mut(ma_ho_so) else { return false };
        let now = VnDateTime::now();
        let mut item = step(state, now, None);
        if state == MoitState::YeuCauBoSung {
            d.due = VnDateTime::from_utc(d.due.to_utc() + chrono::Duration::days(10));
            item.ngay_hen_tra_moi = Some(d.due.to_rfc3339());
        }
        d.state = state;
        d.history.push(item);
        if state == MoitState::DaCapPhep && d.licence.is_none() {
            let kind = d.checked.loai_thu_tuc.clone();
            let suffix = if kind == "KHUYEN_MAI" { "XNKM-BCT" } else { "GPBLR-BCT" };
            let number = format!("{:02}/{}/{suffix}", self.licences.len() + 1, now.inner().format("%Y"));
            let text = |p: &str| d.checked.body.pointer(p).and_then(Value::as_str).unwrap_or_default().to_owned();
            let address: Option<DiaDiem> = d
                .checked
                .body
                .pointer("/giayPhep/diaDiemKinhDoanh")
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok());
            let licence = Licence {
                so_giay_phep: number.clone(),
                loai_giay_phep: kind,
                ten_thuong_nhan: text("/giayPhep/tenThuongNhan"),
                ma_so_thue: text("/giayPhep/maSoThue"),
                dia_diem_kinh_doanh: address,
                ngay_cap: now.to_rfc3339(),
                hieu_luc_tu: d.checked.thoi_gian_bat_dau.unwrap_or(now).to_rfc3339(),
                hieu_luc_den: d.checked.thoi_gian_ket_thuc.map(|t| t.to_rfc3339()),
                trang_thai: LicenceState::ConHieuLuc,
                ma_ho_so: Some(ma_ho_so.to_owned()),
            };
            d.licence = Some(number.clone());
            self.licences.insert(number, licence);
        }
        true
    }

    /// The licence issued for a dossier, if any.
    pub(super) fn licence_of(&self, ma_ho_so: &str) -> Option<String> {
        self.dossiers.get(ma_ho_so)?.licence.clone()
    }

    /// A dossier's state and history, as `GET /api/v1/ho-so/{maHoSo}` answers it.
    pub(super) fn status(&mut self, ma_ho_so: &str) -> Option<HoSoStatus> {
        self.counters.dossier_lookups += 1;
        let d = self.dossiers.get(ma_ho_so)?;
        Some(HoSoStatus {
            id: d.id.clone(),
            ma_ho_so: ma_ho_so.to_owned(),
            so_tiep_nhan: d.so_tiep_nhan.clone(),
            loai_thu_tuc: d.checked.loai_thu_tuc.clone(),
            trang_thai: d.state,
            ngay_tiep_nhan: d.checked.ngay_tiep_nhan.to_rfc3339(),
            ngay_hen_tra: d.due.to_rfc3339(),
            so_giay_phep: d.licence.clone(),
            lich_su_xu_ly: d.history.clone(),
        })
    }

    /// A licence, as `GET /api/v1/giay-phep/{soGiayPhep}` answers it.
    pub(super) fn licence(&mut self, so_giay_phep: &str) -> Option<Licence> {
        self.counters.licence_lookups += 1;
        self.licences.get(so_giay_phep).cloned()
    }

    /// Everything received by `POST /api/v1/ho-so`, in order.
    pub(super) fn received(&self) -> Vec<ReceivedDossier> {
        self.received.to_vec()
    }

    /// The agency's counters with the server's.
    pub(super) fn stats(&self, server: &SimStats) -> MoitStats {
        MoitStats {
            requests: server.requests,
            injected_failures: server.injected_failures,
            hung: server.hung,
            forgotten: self.received.forgotten(),
            ..self.counters.clone()
        }
    }
}
