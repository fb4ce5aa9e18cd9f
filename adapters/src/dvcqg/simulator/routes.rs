//! How the simulated DVCQG answers each call.

use async_trait::async_trait;
use http::{Method, StatusCode};
use serde_json::{json, Map, Value};

use super::state::{Agency, State};
use super::validate::{self, Rejection};
use crate::dvcqg::wire::{code, Answer, LOGIN_PATH, LOOKUP_PATH, PROGRESS_PATH, SYNC_PATH};
use crate::sim::{SimHandler, SimRequest, SimResponse, SimStats};

/// The paths DVCQG serves; anything else is a 404.
const PATHS: [&str; 4] = [LOGIN_PATH, SYNC_PATH, LOOKUP_PATH, PROGRESS_PATH];

fn session_invalid() -> Rejection {
    Rejection::new(code::SESSION_INVALID, "Phiên làm việc không hợp lệ hoặc đã hết hạn")
}

#[async_trait]
impl SimHandler for Agency {
    async fn handle(&self, request: SimRequest) -> SimResponse {
        let path = request.path.as_str();
        if !PATHS.contains(&path) {
            return SimResponse::json(StatusCode::NOT_FOUND, &json!({"error": "not found"}));
        }
        if request.method != Method::POST {
            return SimResponse::json(StatusCode::METHOD_NOT_ALLOWED, &json!({"error": "method not allowed"}));
        }
        let answer = match path {
            LOGIN_PATH => self.login(&request),
            SYNC_PATH => self.sync(&request),
            LOOKUP_PATH => self.lookup(&request),
            _ => self.progress(&request),
        };
        SimResponse::json(StatusCode::OK, &answer)
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
    fn login(&self, request: &SimRequest) -> Answer {
        let mut state = self.lock();
        let body = match validate::object(&request.body) {
            Ok(b) => b,
            Err(r) => return state.reject(&r),
        };
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        let (Some(username), Some(password)) = (text("username"), text("password")) else {
            return state.reject(&Rejection::new(code::MALFORMED, "Thiếu username hoặc password"));
        };
        if username != self.credentials.username || password != self.credentials.password {
            state.login_refused();
            return Answer::new(code::LOGIN_REFUSED, "Tên đăng nhập hoặc mật khẩu không đúng");
        }
        let session = state.open_session();
        Answer {
            session: Some(session),
            expires_in: Some(state.session_ttl.as_secs().to_string()),
            ..Answer::new(code::OK, "Đăng nhập thành công")
        }
    }

    /// Parses the body and checks its session: the first steps of every call.
    fn authenticated(state: &State, body: &[u8]) -> Result<Map<String, Value>, Rejection> {
        let body = validate::object(body)?;
        if !state.session_valid(validate::session(&body)?) {
            return Err(session_invalid());
        }
        Ok(body)
    }

    fn sync(&self, request: &SimRequest) -> Answer {
        let key = request.header("Idempotency-Key").map(str::trim).filter(|k| !k.is_empty());
        let correlation_id = request.header("X-Request-Id").unwrap_or_default();
        let mut state = self.lock();
        if state.busy_next > 0 {
            state.busy_next -= 1;
            return state.reject(&Rejection::new(code::BUSY, "Hệ thống đang bận, vui lòng thử lại sau"));
        }
        let body = match Self::authenticated(&state, &request.body) {
            Ok(b) => b,
            Err(r) => return state.reject(&r),
        };
        // Once the session is accepted, the answer is remembered under the key,
        // whatever it is, and a repeat gets it back without being processed again.
        if let Some(answer) = state.replay(key) {
            return answer;
        }
        let answer = match validate::sync_body(&body) {
            Ok(checked) => state.store(checked, key.unwrap_or_default(), correlation_id),
            Err(r) => state.reject(&r),
        };
        state.remember(key, &answer);
        answer
    }

    fn lookup(&self, request: &SimRequest) -> Answer {
        let mut state = self.lock();
        let body = match Self::authenticated(&state, &request.body) {
            Ok(b) => b,
            Err(r) => return state.reject(&r),
        };
        let ma_ho_so = match validate::lookup_body(&body) {
            Ok(code) => code,
            Err(r) => return state.reject(&r),
        };
        match state.lookup(&ma_ho_so) {
            Some(dossier) => Answer { data: Some(dossier), ..Answer::new(code::OK, "Thành công") },
            None => state.reject(&Rejection::new(code::NOT_FOUND, format!("Không tìm thấy hồ sơ {ma_ho_so}"))),
        }
    }

    fn progress(&self, request: &SimRequest) -> Answer {
        let mut state = self.lock();
        let body = match Self::authenticated(&state, &request.body) {
            Ok(b) => b,
            Err(r) => return state.reject(&r),
        };
        let items = match validate::progress_body(&body) {
            Ok(items) => items,
            Err(r) => return state.reject(&r),
        };
        if let Some(unknown) = items.iter().find(|i| !state.knows(&i.ma_ho_so)) {
            let message = format!("Không tìm thấy hồ sơ {}", unknown.ma_ho_so);
            return state.reject(&Rejection::new(code::NOT_FOUND, message));
        }
        state.add_progress(items);
        Answer::new(code::OK, "Thành công")
    }
}
