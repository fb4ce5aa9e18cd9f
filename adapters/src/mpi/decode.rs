//! Wire to canonical: what an answer means, and look-up answers as events and JSON.
//!
//! Pure functions, golden-tested. Reading is liberal where it costs nothing (any
//! date form the canonical model accepts, unknown elements ignored); a body that
//! is not a SOAP 1.1 envelope is never guessed at.

use schemas::{MaHoSo, StatusEvent, TrangThaiHoSo, VnDateTime};
use serde_json::{json, Value};

use super::wire::{code, dossier_status, enterprise_status, Operation, MPI_NS, SOAP_NS};
use super::xml::{self, Element};
use crate::{DecodeError, Outcome};

/// The longest agency message quoted in an outcome's reason.
const MAX_MESSAGE_CHARS: usize = 200;

/// A SOAP fault as MPI sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The local part of `faultcode`: `Client`, `Server`, `VersionMismatch`, ...
    pub faultcode: String,
    /// MPI's own code (`detail/LoiMPI/MaLoi`), such as `MPI-101`.
    pub code: Option<String>,
    /// `LoiMPI/MoTa`, else `faultstring`: names fields, never repeats values.
    pub message: String,
    /// `LoiMPI/TruongLoi`: the path of the field at fault, when there is one.
    pub field: Option<String>,
}

/// What a SOAP answer holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The body's payload element, in the MPI namespace.
    Payload(Element),
    /// A fault.
    Fault(Fault),
}

/// The agency's message on one line: control characters and runs of whitespace
/// become one space, and it is cut short.
pub fn quote(message: &str) -> String {
    let spaced: String = message.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    words.join(" ").chars().take(MAX_MESSAGE_CHARS).collect::<String>().trim_end().to_owned()
}

fn bad(what: impl Into<String>) -> DecodeError {
    DecodeError(what.into())
}

/// Reads a SOAP 1.1 envelope into its payload or fault.
pub fn read_reply(body: &[u8]) -> Result<Reply, DecodeError> {
    let root = xml::parse(body).map_err(|e| bad(e.to_string()))?;
    if !root.is(SOAP_NS, "Envelope") {
        return Err(bad("not a soap 1.1 envelope"));
    }
    let soap_body = root.child(SOAP_NS, "Body").ok_or_else(|| bad("the envelope has no body"))?;
    let payload = soap_body.elements().next().ok_or_else(|| bad("the body is empty"))?;
    if payload.is(SOAP_NS, "Fault") {
        return Ok(Reply::Fault(fault(payload)));
    }
    if payload.ns.as_deref() != Some(MPI_NS) {
        return Err(bad("the body holds an element outside the mpi namespace"));
    }
    Ok(Reply::Payload(payload.clone()))
}

fn fault(f: &Element) -> Fault {
    // faultcode, faultstring and detail are unqualified in SOAP 1.1.
    let unqualified = |name: &str| f.elements().find(|e| e.ns.is_none() && e.name == name);
    let faultcode = unqualified("faultcode").map(Element::text).unwrap_or_default();
    let local = faultcode.trim().rsplit(':').next().unwrap_or_default();
    let faultcode = local.split('.').next().unwrap_or_default().to_owned();
    let detail = unqualified("detail").and_then(|d| d.child(MPI_NS, "LoiMPI"));
    let from_detail = |name: &str| detail.and_then(|d| d.child_text(MPI_NS, name));
    let message = from_detail("MoTa").or_else(|| unqualified("faultstring").map(Element::text)).unwrap_or_default();
    Fault { faultcode, code: from_detail("MaLoi"), message: quote(&message), field: from_detail("TruongLoi") }
}

impl Fault {
    /// `MPI-101 at DangKyDoanhNghiep/VonDieuLe: message`, for reasons and errors.
    pub fn describe(&self) -> String {
        let mut s = format!("soap:{}", self.faultcode);
        if let Some(c) = &self.code {
            s = c.clone();
        }
        if let Some(f) = &self.field {
            s.push_str(&format!(" at {}", quote(f)));
        }
        if !self.message.is_empty() {
            s.push_str(&format!(": {}", self.message));
        }
        s
    }

    /// What this fault means for a delivery: credentials and clock problems are
    /// for an operator and keep the dossier queued; MPI's own failures are
    /// retried; the sender's faults (`soap:Client`) are permanent.
    pub fn outcome(&self) -> Outcome {
        let retry = |reason: String| Outcome::Retryable { reason };
        match self.code.as_deref() {
            Some(code::INVALID_CREDENTIALS) => {
                return retry(format!(
                    "login refused by mpi ({}): check the configured username and password",
                    code::INVALID_CREDENTIALS
                ))
            }
            Some(code::STALE_TOKEN) => {
                return retry(format!(
                    "security token refused by mpi ({}): check the gateway's clock",
                    code::STALE_TOKEN
                ))
            }
            Some(code::BUSY) => return retry(format!("mpi busy ({})", self.describe())),
            Some(code::INTERNAL) => return retry(format!("mpi failed ({})", self.describe())),
            _ => {}
        }
        match self.faultcode.as_str() {
            "Server" => retry(format!("mpi failed ({})", self.describe())),
            "Client" if self.code.as_deref() == Some(code::DUPLICATE) => Outcome::Permanent {
                reason: format!("already submitted to mpi under another idempotency key ({})", self.describe()),
            },
            "Client" | "VersionMismatch" | "MustUnderstand" => {
                Outcome::Permanent { reason: format!("mpi refused the dossier ({})", self.describe()) }
            }
            _ => retry(format!("unknown mpi fault ({})", self.describe())),
        }
    }
}

/// What an answer to `NopHoSoDangKyDoanhNghiep` means.
///
/// A SOAP fault is read whatever the HTTP status (SOAP 1.1 sends faults with
/// HTTP 500) and classified by [`Fault::outcome`]. Otherwise: a 2xx response
/// element is delivered, with `SoBienNhanDKKD` as the agency's reference; HTTP
/// 5xx, 408, 429, and 401, 403 and 404 (the perimeter or the configured URL, for
/// an operator to fix) are retryable; other 4xx permanent; a 2xx body that is not
/// the expected answer retryable, so that nothing is lost while an operator looks.
pub fn classify(http_status: u16, body: &[u8]) -> Outcome {
    let retry = |reason: String| Outcome::Retryable { reason };
    let reply = read_reply(body);
    if let Ok(Reply::Fault(f)) = &reply {
        return f.outcome();
    }
    match http_status {
        200..=299 => {}
        401 | 403 | 404 => {
            return retry(format!("mpi answered http {http_status}: check the configured url and access"))
        }
        408 | 429 | 500..=599 => return retry(format!("mpi answered http {http_status}")),
        400..=499 => return Outcome::Permanent { reason: format!("mpi answered http {http_status}") },
        _ => return retry(format!("mpi answered unexpected http {http_status}")),
    }
    match reply {
        Ok(Reply::Payload(p)) if p.name == Operation::Submit.response_element() => {
            Outcome::Delivered { agency_ref: p.child_text(MPI_NS, "SoBienNhanDKKD") }
        }
        Ok(_) => retry(format!("mpi answered http {http_status} without a submission receipt")),
        Err(e) => retry(format!("mpi answered http {http_status} without a readable soap answer ({})", e.0)),
    }
}

/// A dossier as `TraCuuHoSo` answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DossierState {
    /// The dossier.
    pub code: MaHoSo,
    /// Its current state, mapped to the DVCQG list.
    pub status: TrangThaiHoSo,
    /// MPI's receipt number (`SoBienNhanDKKD`).
    pub receipt: Option<String>,
    /// Its processing history, oldest first.
    pub history: Vec<StatusEvent>,
}

impl DossierState {
    /// The normalised JSON a look-up answers.
    pub fn to_json(&self) -> Value {
        json!({"code": self.code, "status": self.status, "receipt": self.receipt, "history": self.history})
    }
}

/// The payload of a successful answer to `op`, or the fault it carries.
pub fn expect_payload(body: &[u8], op: Operation) -> Result<Result<Element, Fault>, DecodeError> {
    match read_reply(body)? {
        Reply::Fault(f) => Ok(Err(f)),
        Reply::Payload(p) if p.name == op.response_element() => Ok(Ok(p)),
        Reply::Payload(_) => Err(bad(format!("expected {}", op.response_element()))),
    }
}

/// Decodes a `TraCuuHoSo` answer into the dossier's state and history.
pub fn decode_dossier(body: &[u8]) -> Result<DossierState, DecodeError> {
    let payload = match expect_payload(body, Operation::LookupDossier)? {
        Ok(p) => p,
        Err(f) => return Err(bad(format!("the answer is a soap fault ({})", f.code.as_deref().unwrap_or("no code")))),
    };
    let d = payload.child(MPI_NS, "HoSo").ok_or_else(|| bad("HoSo: missing"))?;
    let text = |name: &str| d.child_text(MPI_NS, name);
    let code = text("MaHoSo").ok_or_else(|| bad("HoSo/MaHoSo: missing"))?;
    let code = MaHoSo::parse(&code).map_err(|_| bad("HoSo/MaHoSo: not a dossier code"))?;
    let status = status(text("TrangThai"), "HoSo/TrangThai")?;
    let history = match d.child(MPI_NS, "QuaTrinhXuLy") {
        None => Vec::new(),
        Some(h) => {
            h.all(MPI_NS, "BuocXuLy").enumerate().map(|(i, step)| event(step, &code, i)).collect::<Result<_, _>>()?
        }
    };
    Ok(DossierState { code, status, receipt: text("SoBienNhanDKKD"), history })
}

/// Decodes a `TraCuuHoSo` answer into its history as canonical events.
pub fn decode_status(body: &[u8]) -> Result<Vec<StatusEvent>, DecodeError> {
    Ok(decode_dossier(body)?.history)
}

fn status(v: Option<String>, at: &str) -> Result<TrangThaiHoSo, DecodeError> {
    let v = v.ok_or_else(|| bad(format!("{at}: missing")))?;
    dossier_status(&v).ok_or_else(|| bad(format!("{at}: not an mpi dossier state")))
}

fn date(v: Option<String>, at: &str) -> Result<Option<VnDateTime>, DecodeError> {
    v.map(|s| VnDateTime::parse(&s).map_err(|e| bad(format!("{at}: {e}")))).transpose()
}

fn event(step: &Element, code: &MaHoSo, i: usize) -> Result<StatusEvent, DecodeError> {
    let at = format!("QuaTrinhXuLy/BuocXuLy[{i}]");
    let text = |name: &str| step.child_text(MPI_NS, name);
    Ok(StatusEvent {
        dossier: code.clone(),
        status: status(text("TrangThai"), &format!("{at}/TrangThai"))?,
        at: date(text("ThoiDiem"), &format!("{at}/ThoiDiem"))?.ok_or_else(|| bad(format!("{at}/ThoiDiem: missing")))?,
        handler: text("NguoiXuLy"),
        handler_title: text("ChucDanh"),
        department: text("PhongBan"),
        content: text("NoiDung"),
        started_at: None,
        step_due_at: date(text("HanXuLy"), &format!("{at}/HanXuLy"))?,
        new_due_at: date(text("NgayHenTraMoi"), &format!("{at}/NgayHenTraMoi"))?,
    })
}

/// Decodes a `TraCuuDoanhNghiep` answer into the normalised enterprise JSON:
/// `{"tax_code","name","foreign_name","type","status","registered_at","head_office"}`.
pub fn decode_enterprise(payload: &Element) -> Result<Value, DecodeError> {
    let e = payload.child(MPI_NS, "DoanhNghiep").ok_or_else(|| bad("DoanhNghiep: missing"))?;
    let text = |name: &str| e.child_text(MPI_NS, name);
    let need = |name: &str| text(name).ok_or_else(|| bad(format!("DoanhNghiep/{name}: missing")));
    let state = need("TinhTrang")?;
    let status = enterprise_status(&state).ok_or_else(|| bad("DoanhNghiep/TinhTrang: not an mpi enterprise state"))?;
    let registered = date(text("NgayDangKyLanDau"), "DoanhNghiep/NgayDangKyLanDau")?
        .ok_or_else(|| bad("DoanhNghiep/NgayDangKyLanDau: missing"))?;
    let office = e.child(MPI_NS, "DiaChiTruSo").ok_or_else(|| bad("DoanhNghiep/DiaChiTruSo: missing"))?;
    let part = |name: &str| office.child_text(MPI_NS, name).unwrap_or_default();
    Ok(json!({
        "tax_code": need("MaSoDoanhNghiep")?,
        "name": need("TenDoanhNghiep")?,
        "foreign_name": text("TenTiengNuocNgoai"),
        "type": text("LoaiHinhDoanhNghiep"),
        "status": status,
        "registered_at": registered.to_rfc3339(),
        "head_office": {"street": part("SoNhaDuong"), "ward": part("PhuongXa"), "province": part("TinhThanhPho")},
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(body: &str) -> Vec<u8> {
        format!(r#"<s:Envelope xmlns:s="{SOAP_NS}"><s:Body>{body}</s:Body></s:Envelope>"#).into_bytes()
    }

    fn fault(faultcode: &str, code: &str) -> Vec<u8> {
        envelope(&format!(
            r#"<s:Fault><faultcode>s:{faultcode}</faultcode><faultstring>x</faultstring>
               <detail><LoiMPI xmlns="{MPI_NS}"><MaLoi>{code}</MaLoi><MoTa>Trường VonDieuLe sai</MoTa>
               <TruongLoi>DangKyDoanhNghiep/VonDieuLe</TruongLoi></LoiMPI></detail></s:Fault>"#
        ))
    }

    #[test]
    fn faults_are_read_whatever_the_http_status() {
        let o = classify(500, &fault("Client", "MPI-101"));
        assert_eq!(
            o,
            Outcome::Permanent {
                reason: "mpi refused the dossier (MPI-101 at DangKyDoanhNghiep/VonDieuLe: Trường VonDieuLe sai)".into()
            }
        );
        for (fc, c, label) in [
            ("Client", "MPI-001", "retryable"),
            ("Client", "MPI-002", "retryable"),
            ("Server", "MPI-500", "retryable"),
            ("Server", "MPI-503", "retryable"),
            ("Server", "MPI-999", "retryable"),
            ("Client", "MPI-102", "permanent"),
            ("Client", "MPI-201", "permanent"),
            ("Client.Validation", "MPI-103", "permanent"),
            ("MustUnderstand", "", "permanent"),
            ("Weird", "", "retryable"),
        ] {
            assert_eq!(classify(200, &fault(fc, c)).label(), label, "{fc} {c}");
        }
        let Outcome::Retryable { reason } = classify(500, &fault("Client", "MPI-001")) else { panic!() };
        assert!(reason.starts_with("login refused"), "{reason}");
    }

    #[test]
    fn http_statuses_without_a_fault() {
        for (status, label) in [(503, "retryable"), (429, "retryable"), (408, "retryable"), (404, "retryable")] {
            assert_eq!(classify(status, b"<html/>").label(), label, "{status}");
        }
        assert_eq!(classify(400, b"").label(), "permanent");
        assert_eq!(classify(200, b"<html>ok</html>").label(), "retryable");
        assert_eq!(classify(200, &envelope(&format!("<X xmlns='{MPI_NS}'/>"))).label(), "retryable");
        let ok = envelope(&format!(
            "<NopHoSoDangKyDoanhNghiepResponse xmlns='{MPI_NS}'><SoBienNhanDKKD>R-1</SoBienNhanDKKD></NopHoSoDangKyDoanhNghiepResponse>"
        ));
        assert_eq!(classify(200, &ok), Outcome::Delivered { agency_ref: Some("R-1".into()) });
    }

    #[test]
    fn quoted_messages_are_one_short_line() {
        assert_eq!(quote(" a\u{7}b\n\t c "), "a b c");
        assert_eq!(quote(&"x".repeat(500)).chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn history_errors_name_the_field_and_not_the_value() {
        let body = envelope(&format!(
            "<TraCuuHoSoResponse xmlns='{MPI_NS}'><HoSo><MaHoSo>A-261122-0001</MaHoSo><TrangThai>DANG_XU_LY</TrangThai>\
             <QuaTrinhXuLy><BuocXuLy><ThoiDiem>2026-13-40T00:00:00+07:00</ThoiDiem><TrangThai>DANG_XU_LY</TrangThai>\
             </BuocXuLy></QuaTrinhXuLy></HoSo></TraCuuHoSoResponse>"
        ));
        let e = decode_status(&body).unwrap_err().0;
        assert!(e.starts_with("QuaTrinhXuLy/BuocXuLy[0]/ThoiDiem"), "{e}");
        assert!(!e.contains("2026-13"), "{e}");
        assert!(decode_status(&fault("Client", "MPI-301")).unwrap_err().0.contains("MPI-301"));
    }
}
