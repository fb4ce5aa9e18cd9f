//! How the simulated MOIT answers each call: routing, bearer tokens, idempotency,
//! and problem documents with MOIT's codes.

use async_trait::async_trait;
use http::header::{LOCATION, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderName, HeaderValue, Method, StatusCode};
use serde_json::Value;

use super::codec::percent_decode;
use super::state::{Agency, Refusal, State};
use super::validate::{self, Rejection};
use crate::moit::wire::{code, scope, Problem, GIAY_PHEP_PREFIX, HO_SO_PATH, HO_SO_PREFIX, PROBLEM_JSON, TOKEN_PATH};
use crate::sim::{SimHandler, SimRequest, SimResponse, SimStats};

/// Marks an answer given again from the idempotency record.
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The longest `Idempotency-Key` accepted.
const MAX_KEY_CHARS: usize = 255;

/// A problem document for `code`, about `request`.
fn problem(code: &str, detail: impl Into<String>, field: Option<String>, request: &SimRequest) -> SimResponse {
    let mut p = Problem::new(code, detail);
    p.instance = Some(request.path.clone());
    p.field = field;
    p.request_id = request.header("x-request-id").map(str::to_owned);
    let status = p.status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match serde_json::to_vec(&p) {
        Ok(body) => SimResponse::bytes(status, PROBLEM_JSON, body),
        Err(_) => SimResponse::text(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialise the answer"),
    }
}

/// The token of an `Authorization: Bearer` header.
fn bearer(request: &SimRequest) -> Option<&str> {
    let (scheme, token) = request.header("authorization")?.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The one path segment after `prefix`, percent-decoded; `None` when there is
/// not exactly one, or it is malformed.
fn segment<'a>(path: &'a str, prefix: &str) -> Option<String> {
    let raw: &'a str = path.strip_prefix(prefix)?;
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    percent_decode(raw, false)
}

#[async_trait]
impl SimHandler for Agency {
    async fn handle(&self, request: SimRequest) -> SimResponse {
        let path = request.path.as_str();
        let get = request.method == Method::GET;
        let post = request.method == Method::POST;
        match path {
            TOKEN_PATH if post => self.token(&request),
            HO_SO_PATH if post => self.submit(&request),
            TOKEN_PATH | HO_SO_PATH => self.refuse(Rejection::new(code::METHOD, "Chỉ hỗ trợ POST"), &request),
            p if p.starts_with(HO_SO_PREFIX) || p.starts_with(GIAY_PHEP_PREFIX) => {
                if get {
                    self.read(&request)
                } else {
                    self.refuse(Rejection::new(code::METHOD, "Chỉ hỗ trợ GET"), &request)
                }
            }
            _ => self.refuse(Rejection::new(code::NO_SUCH_PATH, "Không có tài nguyên này"), &request),
        }
    }

    fn received_json(&self) -> Value {
        serde_json::to_value(self.lock().received()).unwrap_or_default()
    }

    fn stats_json(&self, server: &SimStats) -> Value {
        serde_json::to_value(self.lock().stats(server)).unwrap_or_default()
    }

    fn reset(&self) {
        Agency::reset(self);
    }
}

impl Agency {
    /// A counted problem answer.
    fn refuse(&self, r: Rejection, request: &SimRequest) -> SimResponse {
        Self::refuse_in(&mut self.lock(), r, request)
    }

    fn refuse_in(state: &mut State, r: Rejection, request: &SimRequest) -> SimResponse {
        state.reject(r.code);
        problem(r.code, r.detail, r.field, request)
    }

    /// Checks the bearer token for `needed`; the 401 or 403 answer when refused.
    fn authorize(state: &mut State, request: &SimRequest, needed: &str) -> Result<(), SimResponse> {
        let token = bearer(request);
        let refusal = match state.authorize(token, needed) {
            Ok(()) => return Ok(()),
            Err(r) => r,
        };
        let (rejection, challenge) = match refusal {
            Refusal::Unknown if token.is_none() => {
                (Rejection::new(code::UNAUTHORIZED, "Thiếu mã truy cập"), "Bearer realm=\"moit\"".to_owned())
            }
            Refusal::Unknown => (
                Rejection::new(code::UNAUTHORIZED, "Mã truy cập không hợp lệ"),
                "Bearer realm=\"moit\", error=\"invalid_token\"".to_owned(),
            ),
            Refusal::Expired => (
                Rejection::new(code::UNAUTHORIZED, "Mã truy cập đã hết hạn"),
                "Bearer realm=\"moit\", error=\"invalid_token\", error_description=\"expired\"".to_owned(),
            ),
            Refusal::Scope => (
                Rejection::new(code::FORBIDDEN, format!("Mã truy cập thiếu phạm vi {needed}")),
                format!("Bearer realm=\"moit\", error=\"insufficient_scope\", scope=\"{needed}\""),
            ),
        };
        let answer = Self::refuse_in(state, rejection, request);
        Err(match HeaderValue::from_str(&challenge) {
            Ok(v) => answer.with_header(WWW_AUTHENTICATE, v),
            Err(_) => answer,
        })
    }

    /// `POST /api/v1/ho-so`: busy, token, key, replay; then the answer, remembered
    /// under the key whatever it is.
    fn submit(&self, request: &SimRequest) -> SimResponse {
        let mut state = self.lock();
        if state.busy_next > 0 {
            state.busy_next -= 1;
            let answer = Self::refuse_in(&mut state, Rejection::new(code::BUSY, "Hệ thống đang bận"), request);
            return answer.with_header(RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Err(answer) = Self::authorize(&mut state, request, scope::SUBMIT) {
            return answer;
        }
        let key = match request.header("idempotency-key").map(str::trim) {
            Some(k) if !k.is_empty() && k.chars().count() <= MAX_KEY_CHARS => k.to_owned(),
            _ => {
                let r = Rejection::new(code::IDEMPOTENCY_KEY, "Thiếu tiêu đề Idempotency-Key hoặc quá 255 ký tự");
                return Self::refuse_in(&mut state, r, request);
            }
        };
        if let Some(answer) = state.replay(&key) {
            return answer.with_header(REPLAYED, HeaderValue::from_static("true"));
        }
        let answer = match self.accept(&mut state, request, &key) {
            Ok(answer) => answer,
            Err(r) => Self::refuse_in(&mut state, r, request),
        };
        state.remember(&key, &answer);
        answer
    }

    fn accept(&self, state: &mut State, request: &SimRequest, key: &str) -> Result<SimResponse, Rejection> {
        let json = request.header("content-type").is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            t == "application/json" || t.starts_with("application/json;")
        });
        if !json {
            return Err(Rejection::new(code::MEDIA_TYPE, "Kiểu nội dung phải là application/json"));
        }
        let body = validate::object(&request.body)?;
        let checked = validate::application(&self.validator, body)?;
        let ma_ho_so = checked.ma_ho_so.clone();
        let created = state.store(
            checked,
            key,
            request.header("x-request-id").unwrap_or_default(),
            request.header("x-jws-signature"),
            &request.body,
        )?;
        let location = format!("{HO_SO_PREFIX}{}", crate::moit::encode::path_segment(&ma_ho_so));
        let answer = SimResponse::json(StatusCode::CREATED, &created);
        Ok(match HeaderValue::from_str(&location) {
            Ok(v) => answer.with_header(LOCATION, v),
            Err(_) => answer,
        })
    }

    /// `GET /api/v1/ho-so/{maHoSo}` and `GET /api/v1/giay-phep/{soGiayPhep}`.
    fn read(&self, request: &SimRequest) -> SimResponse {
        let mut state = self.lock();
        let dossier = request.path.starts_with(HO_SO_PREFIX);
        let needed = if dossier { scope::READ } else { scope::LICENCE };
        if let Err(answer) = Self::authorize(&mut state, request, needed) {
            return answer;
        }
        let prefix = if dossier { HO_SO_PREFIX } else { GIAY_PHEP_PREFIX };
        let Some(key) = segment(&request.path, prefix) else {
            return Self::refuse_in(&mut state, Rejection::new(code::NO_SUCH_PATH, "Không có tài nguyên này"), request);
        };
        let found = if dossier {
            state.status(&key).map(|s| serde_json::to_value(s).unwrap_or_default())
        } else {
            state.licence(&key).map(|l| serde_json::to_value(l).unwrap_or_default())
        };
        match found {
            Some(answer) => SimResponse::json(StatusCode::OK, &answer),
            None if dossier => {
                Self::refuse_in(&mut state, Rejection::new(code::DOSSIER_NOT_FOUND, "Không tìm thấy hồ sơ"), request)
            }
            None => {
                let r = Rejection::new(code::LICENCE_NOT_FOUND, "Không tìm thấy giấy phép");
                Self::refuse_in(&mut state, r, request)
            }
        }
    }
}
