//! How the simulated ministry answers each call.
//!
//! Order of checks on a push: busy (`SYS-99`), the bearer token (HTTP 401
//! `AUTH-01`, or `AUTH-02` when expired), JSON (`SYS-01`), for judicial records the
//! `authKey` (`LLTP-02`), then the idempotency record (a repeat gets the first
//! answer), then the schemas (`HT-01`/`LLTP-01`) and duplicates (`HT-02`/`LLTP-03`).
//! Only answers from the idempotency step on are remembered: the earlier refusals
//! are about the connection or the configuration, and a retry must be able to pass.

use async_trait::async_trait;
use http::{Method, StatusCode};
use serde_json::{json, Value};

use super::state::{token_invalid, token_refusal, Agency, Reply, State};
use super::validate::{self, Rejection};
use super::ReceivedRequest;
use crate::moj::encode::Service;
use crate::moj::wire::{code, HOTICH_PUSH_PATH, HOTICH_STATUS_PATH, LLTP_PUSH_PATH, LLTP_STATUS_PATH, TOKEN_PATH};
use crate::sim::{SimHandler, SimRequest, SimResponse, SimStats};

/// The paths the ministry serves; anything else is a 404.
const PATHS: [&str; 5] = [TOKEN_PATH, HOTICH_PUSH_PATH, HOTICH_STATUS_PATH, LLTP_PUSH_PATH, LLTP_STATUS_PATH];

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
        let reply = match path {
            TOKEN_PATH => self.token(&request),
            HOTICH_PUSH_PATH => self.push(&request, Service::CivilStatus),
            LLTP_PUSH_PATH => self.push(&request, Service::JudicialRecord),
            HOTICH_STATUS_PATH => self.poll(&request, Service::CivilStatus),
            _ => self.poll(&request, Service::JudicialRecord),
        };
        SimResponse::json(reply.http, &reply.body)
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

/// The trimmed, non-empty value of a header.
fn header<'a>(request: &'a SimRequest, name: &str) -> Option<&'a str> {
    request.header(name).map(str::trim).filter(|v| !v.is_empty())
}

impl Agency {
    fn token(&self, request: &SimRequest) -> Reply {
        let mut state = self.lock();
        let body = match validate::object(&request.body) {
            Ok(b) => Value::Object(b),
            Err(r) => return state.fail(false, &r),
        };
        if let Err(r) = self.validators.token(&body) {
            return state.fail(false, &r);
        }
        let text = |k: &str| body.get(k).and_then(Value::as_str).unwrap_or_default();
        if text("username") != self.credentials.username || text("password") != self.credentials.password {
            return state.refuse_login();
        }
        let token = state.issue_token();
        let value = json!({"token": token, "expiresIn": state.token_ttl.as_secs()});
        Reply::ok(false, "Thành công", ("value", value))
    }

    /// The bearer token's refusal, if any (a static token is always accepted).
    fn authorize(&self, state: &State, request: &SimRequest) -> Result<(), Rejection> {
        let token = header(request, "Authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return Err(token_invalid());
        };
        if self.credentials.static_token.as_deref() == Some(token) {
            return Ok(());
        }
        token_refusal(state.check_token(token)).map_or(Ok(()), Err)
    }

    /// The `authKey` and `maTinh` of a judicial-records body must be the province's.
    fn check_key(&self, body: &Value) -> Result<(), Rejection> {
        let text = |k: &str| body.get(k).and_then(Value::as_str);
        if text("authKey") == Some(&self.credentials.auth_key)
            && text("maTinh") == Some(&self.credentials.province_code)
        {
            return Ok(());
        }
        Err(Rejection::new(code::LLTP_KEY_REFUSED, "authKey không hợp lệ hoặc không thuộc mã tỉnh đã gửi"))
    }

    /// The checks every call but the token shares: token, JSON, and the judicial-records key.
    fn admit(&self, state: &State, request: &SimRequest, service: Service) -> Result<Value, Rejection> {
        self.authorize(state, request)?;
        let body = Value::Object(validate::object(&request.body)?);
        if service == Service::JudicialRecord {
            self.check_key(&body)?;
        }
        Ok(body)
    }

    fn push(&self, request: &SimRequest, service: Service) -> Reply {
        let lltp = service == Service::JudicialRecord;
        let mut state = self.lock();
        if state.busy_next > 0 {
            state.busy_next -= 1;
            return state.fail(lltp, &Rejection::new(code::BUSY, "Hệ thống đang bận, vui lòng thử lại sau"));
        }
        let body = match self.admit(&state, request, service) {
            Ok(b) => b,
            Err(r) => return state.fail(lltp, &r),
        };
        let key = header(request, "Idempotency-Key");
        let mut keys: Vec<String> = key.map(|k| format!("{}:key:{k}", service.label())).into_iter().collect();
        if let Some(lt) = body.get("maHoSoLT").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()) {
            if !lltp {
                keys.push(format!("civil_status:lt:{lt}"));
            }
        }
        if let Some(reply) = state.replay(&keys) {
            return reply;
        }
        let checked =
            if lltp { self.validators.lltp(&body).map(|()| None) } else { self.validators.hotich(&body).map(Some) };
        let reply = match checked {
            Err(r) => state.fail(lltp, &r),
            Ok(record) => self.accept(&mut state, service, body, record, key, header(request, "X-Request-Id")),
        };
        state.remember(&keys, &reply);
        reply
    }

    fn accept(
        &self,
        state: &mut State,
        service: Service,
        mut body: Value,
        record: Option<Value>,
        key: Option<&str>,
        correlation_id: Option<&str>,
    ) -> Reply {
        let lltp = service == Service::JudicialRecord;
        let ma_ho_so = body.get("maHoSoMCDT").and_then(Value::as_str).unwrap_or_default().to_owned();
        if state.knows(service, &ma_ho_so) {
            let (code, message) = if lltp {
                (code::LLTP_DUPLICATE, "Hồ sơ đã được tiếp nhận trước đó")
            } else {
                (code::HT_DUPLICATE, "Hồ sơ đã được tiếp nhận với mã hồ sơ liên thông khác")
            };
            return state.fail(lltp, &Rejection { field: Some("maHoSoMCDT".into()), ..Rejection::new(code, message) });
        }
        let module = body.get("module").and_then(Value::as_str).map(str::to_owned);
        if let Some(record) = record {
            body["data"] = record;
        }
        if lltp {
            body["authKey"] = json!("***");
        }
        let received = ReceivedRequest {
            service,
            agency_ref: String::new(),
            idempotency_key: key.unwrap_or_default().to_owned(),
            correlation_id: correlation_id.unwrap_or_default().to_owned(),
            ma_ho_so,
            module,
            request: body,
            received_at: schemas::VnDateTime::now(),
        };
        let agency_ref = state.store(received, &self.credentials.province_code);
        if lltp {
            Reply::ok(true, "Tiếp nhận yêu cầu cấp phiếu lý lịch tư pháp thành công", ("id", json!(agency_ref)))
        } else {
            Reply::ok(false, "Tiếp nhận hồ sơ thành công", ("value", json!(agency_ref)))
        }
    }

    fn poll(&self, request: &SimRequest, service: Service) -> Reply {
        let lltp = service == Service::JudicialRecord;
        let mut state = self.lock();
        let codes = self.admit(&state, request, service).and_then(|body| self.validators.status(&body, lltp));
        match codes {
            Ok(codes) => {
                let items = state.poll(service, &codes);
                Reply::ok(lltp, "Thành công", ("value", json!(items)))
            }
            Err(r) => state.fail(lltp, &r),
        }
    }
}
