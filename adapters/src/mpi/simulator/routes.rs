//! How the simulated MPI answers a request: envelope, security, operation, then
//! the operation's own checks. The order is documented in the README.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use http::{Method, StatusCode};
use serde_json::Value;

use super::answer::{self, Refusal};
use super::seed;
use super::state::{Accepted, Agency};
use super::validate;
use crate::mpi::security::base64_decode;
use crate::mpi::wire::{
    code, message_id, Operation, MAX_CLOCK_SKEW_SECS, MPI_NS, PASSWORD_TEXT, SERVICE_PATH, SOAP_NS, WSA_NS, WSSE_NS,
    WSU_NS,
};
use crate::mpi::xml::{self, Element, XmlError};
use crate::sim::{SimHandler, SimRequest, SimResponse, SimStats};

fn malformed(message: &str) -> Refusal {
    Refusal::new(code::MALFORMED, message)
}

#[async_trait]
impl SimHandler for Agency {
    async fn handle(&self, request: SimRequest) -> SimResponse {
        if request.path != SERVICE_PATH {
            return SimResponse::text(StatusCode::NOT_FOUND, "not found");
        }
        if request.method != Method::POST {
            return SimResponse::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
        }
        if !request.header("content-type").is_some_and(|c| c.trim_start().starts_with("text/xml")) {
            return SimResponse::text(StatusCode::UNSUPPORTED_MEDIA_TYPE, "SOAP 1.1 requests are text/xml");
        }
        match self.serve(&request) {
            Ok(answer) => answer,
            Err(refusal) => {
                self.lock().count_fault(&refusal.code);
                answer::fault(&refusal)
            }
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
    fn serve(&self, request: &SimRequest) -> Result<SimResponse, Refusal> {
        let envelope = xml::parse(&request.body).map_err(|e| match e {
            XmlError::Doctype => malformed("Không chấp nhận khai báo DOCTYPE"),
            XmlError::Encoding => malformed("Yêu cầu phải được mã hóa UTF-8"),
            XmlError::Malformed(_) => malformed("Yêu cầu không phải XML hợp lệ"),
        })?;
        if !envelope.is(SOAP_NS, "Envelope") {
            if envelope.name == "Envelope" {
                self.lock().count_fault("VersionMismatch");
                return Ok(answer::version_mismatch());
            }
            return Err(malformed("Yêu cầu không phải SOAP 1.1 Envelope"));
        }
        let header = envelope.child(SOAP_NS, "Header");
        let body = envelope.child(SOAP_NS, "Body").ok_or_else(|| malformed("Thiếu soap:Body"))?;
        let mut payloads = body.elements();
        let (Some(payload), None) = (payloads.next(), payloads.next()) else {
            return Err(malformed("soap:Body phải chứa đúng một phần tử"));
        };
        if envelope.has_text() || body.has_text() {
            return Err(malformed("soap:Envelope và soap:Body không được chứa văn bản"));
        }
        self.authenticate(header)?;
        let op = (payload.ns.as_deref() == Some(MPI_NS))
            .then(|| Operation::from_element(&payload.name))
            .flatten()
            .ok_or_else(|| malformed("Thao tác không được hỗ trợ"))?;
        let soap_action = request.header("SOAPAction").map(|a| a.trim().trim_matches('"').to_owned());
        if soap_action.as_deref() != Some(op.action().as_str()) {
            return Err(malformed("Tiêu đề SOAPAction không khớp với thao tác"));
        }
        let wsa_action = header.and_then(|h| h.child(WSA_NS, "Action")).map(|a| a.text().trim().to_owned());
        if wsa_action.is_some_and(|a| a != op.action()) {
            return Err(malformed("wsa:Action không khớp với thao tác"));
        }
        match op {
            Operation::Submit => self.submit(request, header, payload),
            Operation::LookupEnterprise => self.lookup_enterprise(payload),
            Operation::LookupDossier => self.lookup_dossier(payload),
        }
    }

    /// WS-Security `UsernameToken` with `PasswordText`, a nonce and a creation time
    /// within five minutes of now, either way.
    fn authenticate(&self, header: Option<&Element>) -> Result<(), Refusal> {
        let refused = |m: &str| Refusal::new(code::INVALID_CREDENTIALS, m);
        let token = header
            .and_then(|h| h.child(WSSE_NS, "Security"))
            .and_then(|s| s.child(WSSE_NS, "UsernameToken"))
            .ok_or_else(|| refused("Thiếu thẻ bảo mật wsse:UsernameToken"))?;
        let username = token.child(WSSE_NS, "Username").map(Element::text);
        let password = token.child(WSSE_NS, "Password").ok_or_else(|| refused("Thiếu wsse:Password"))?;
        if password.attr(None, "Type").is_some_and(|t| t != PASSWORD_TEXT) {
            return Err(refused("Chỉ chấp nhận mật khẩu dạng PasswordText qua TLS"));
        }
        if username.as_deref() != Some(self.credentials.username.as_str())
            || password.text() != self.credentials.password
        {
            return Err(refused("Tên đăng nhập hoặc mật khẩu không đúng"));
        }
        let created = token
            .child(WSU_NS, "Created")
            .and_then(|c| DateTime::parse_from_rfc3339(c.text().trim()).ok())
            .ok_or_else(|| refused("Thiếu hoặc sai wsu:Created"))?;
        if (Utc::now() - created.to_utc()).num_seconds().abs() > MAX_CLOCK_SKEW_SECS {
            return Err(Refusal::new(code::STALE_TOKEN, "wsu:Created lệch quá 5 phút so với giờ hệ thống"));
        }
        let nonce = token.child(WSSE_NS, "Nonce").map(|n| n.text().trim().to_owned()).unwrap_or_default();
        if base64_decode(&nonce).is_none_or(|n| n.len() < 16) {
            return Err(refused("Thiếu hoặc sai wsse:Nonce"));
        }
        if !self.lock().fresh_nonce(&nonce) {
            return Err(Refusal::new(code::STALE_TOKEN, "wsse:Nonce đã được sử dụng"));
        }
        Ok(())
    }

    fn submit(
        &self,
        request: &SimRequest,
        header: Option<&Element>,
        payload: &Element,
    ) -> Result<SimResponse, Refusal> {
        let mid = header
            .and_then(|h| h.child(WSA_NS, "MessageID"))
            .map(|m| m.text().trim().to_owned())
            .filter(|m| !m.is_empty())
            .ok_or_else(|| malformed("Thiếu wsa:MessageID"))?;
        let key = request.header("Idempotency-Key").map(str::trim).filter(|k| !k.is_empty());
        if key.is_some_and(|k| message_id(k) != mid) {
            return Err(malformed("Tiêu đề Idempotency-Key không khớp wsa:MessageID"));
        }
        let mut state = self.lock();
        // Once authenticated, a repeat gets the answer first given to its message
        // id: an acceptance or a refusal of the content, never a failure that may
        // go otherwise next time.
        if let Some(answer) = state.replay(&mid) {
            return Ok(answer);
        }
        let outcome = match state.reject_next.pop_front() {
            Some(injected) => Err(Refusal::injected(&injected)),
            None => validate::payload(payload, Operation::Submit)
                .map_err(|v| Refusal { code: code::SCHEMA.into(), message: v.message, field: Some(v.field) })
                .and_then(|body| business(&body).map(|()| body)),
        };
        let answer = match outcome {
            Ok(body) => {
                let ma_ho_so = body["HoSo"]["MaHoSo"].as_str().unwrap_or_default().to_owned();
                if state.submitted_under(&ma_ho_so).is_some() {
                    let r = Refusal::new(code::DUPLICATE, "Hồ sơ đã được nộp trước đó với MessageID khác");
                    state.count_fault(&r.code);
                    answer::fault(&r)
                } else {
                    let accepted = Accepted {
                        ma_ho_so: ma_ho_so.clone(),
                        message_id: mid.clone(),
                        idempotency_key: key.unwrap_or_default().to_owned(),
                        correlation_id: request.header("X-Request-Id").unwrap_or_default().to_owned(),
                        request: body,
                    };
                    let (receipt, at) = state.store(accepted);
                    answer::submitted(&ma_ho_so, &receipt, &at)
                }
            }
            // Credentials, clock and MPI's own failures may go otherwise next time.
            Err(r)
                if code::is_server(&r.code)
                    || matches!(r.code.as_str(), code::INVALID_CREDENTIALS | code::STALE_TOKEN) =>
            {
                state.count_fault(&r.code);
                return Ok(answer::fault(&r));
            }
            Err(r) => {
                state.count_fault(&r.code);
                answer::fault(&r)
            }
        };
        state.remember(&mid, &answer);
        Ok(answer)
    }

    fn lookup_enterprise(&self, payload: &Element) -> Result<SimResponse, Refusal> {
        let v = validate::payload(payload, Operation::LookupEnterprise).map_err(schema)?;
        self.lock().count_enterprise_lookup();
        let tax_code = v["MaSoDoanhNghiep"].as_str().unwrap_or_default();
        match seed::enterprise(tax_code) {
            Some(e) => Ok(answer::enterprise(e)),
            None => Err(Refusal::new(code::NOT_FOUND, "Không tìm thấy doanh nghiệp")),
        }
    }

    fn lookup_dossier(&self, payload: &Element) -> Result<SimResponse, Refusal> {
        let v = validate::payload(payload, Operation::LookupDossier).map_err(schema)?;
        let ma_ho_so = v["MaHoSo"].as_str().unwrap_or_default();
        let mut state = self.lock();
        match state.lookup_dossier(ma_ho_so) {
            Some(d) => Ok(answer::dossier(ma_ho_so, d)),
            None => Err(Refusal::new(code::NOT_FOUND, "Không tìm thấy hồ sơ")),
        }
    }
}

fn schema(v: validate::Violation) -> Refusal {
    Refusal { code: code::SCHEMA.into(), message: v.message, field: Some(v.field) }
}

/// MPI's business rules, on a payload that passed the XSD: known VSIC codes,
/// exactly one main line, a name not taken.
fn business(request: &Value) -> Result<(), Refusal> {
    let reg = &request["DangKyDoanhNghiep"];
    let lines = reg["NganhNghe"]["Nganh"].as_array().map(Vec::as_slice).unwrap_or_default();
    let base = "NopHoSoDangKyDoanhNghiep/DangKyDoanhNghiep/NganhNghe/Nganh";
    for (i, line) in lines.iter().enumerate() {
        if !line["MaNganh"].as_str().is_some_and(seed::vsic_known) {
            let message = format!("Mã ngành tại Nganh[{}] không có trong Hệ thống ngành kinh tế Việt Nam", i + 1);
            return Err(Refusal {
                code: code::INVALID_VSIC.into(),
                message,
                field: Some(format!("{base}[{}]/MaNganh", i + 1)),
            });
        }
    }
    if lines.iter().filter(|l| l["LaNganhChinh"] == "1").count() != 1 {
        return Err(Refusal {
            code: code::MAIN_LINE.into(),
            message: "Phải có đúng một ngành kinh doanh chính".into(),
            field: Some(format!("{base}/LaNganhChinh")),
        });
    }
    if reg["TenDoanhNghiep"].as_str().is_some_and(seed::name_taken) {
        return Err(Refusal {
            code: code::NAME_TAKEN.into(),
            message: "Tên doanh nghiệp đã được sử dụng".into(),
            field: Some("NopHoSoDangKyDoanhNghiep/DangKyDoanhNghiep/TenDoanhNghiep".into()),
        });
    }
    Ok(())
}
