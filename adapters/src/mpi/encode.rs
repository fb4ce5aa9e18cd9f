//! Canonical to wire: SOAP requests for each operation.
//!
//! Pure functions, golden-tested. Elements follow the XSD's order; an optional
//! element without a value is left out rather than sent empty. Dates are
//! `yyyy-MM-ddTHH:mm:ss+07:00`. The payload element declares the MPI namespace as
//! its default, so it can be cut out of the envelope and validated on its own.

use schemas::{BusinessRegistration, Dossier, MaHoSo, Payload, PayloadKind, VnDateTime};

use super::security::{UsernameToken, TOKEN_NAMESPACES};
use super::wire::{message_id, Operation, TaxCode, MPI_NS, SOAP_NS, WSA_NS};
use super::xml::{is_xml_blank, WriteError, XmlWriter};
use crate::EncodeError;

fn error(reason: impl Into<String>) -> EncodeError {
    EncodeError { agency: "mpi".into(), reason: reason.into() }
}

impl From<WriteError> for EncodeError {
    fn from(e: WriteError) -> Self {
        error(e.to_string())
    }
}

/// A date as MPI reads it: local time in Vietnam with its offset, to the second.
pub fn mpi_date(t: &VnDateTime) -> String {
    t.inner().format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// An optional value, `None` when absent or blank.
fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !is_xml_blank(s))
}

/// The business-registration payload MPI needs, or why the dossier has none.
pub fn registration(d: &Dossier) -> Result<&BusinessRegistration, EncodeError> {
    match &d.payload {
        Some(Payload::BusinessRegistration(r)) => Ok(r),
        Some(other) => Err(error(format!(
            "the dossier carries a {} payload; mpi decides {} only",
            other.kind().config_name(),
            PayloadKind::BusinessRegistration.config_name()
        ))),
        None => Err(error("the dossier carries no business_registration payload")),
    }
}

/// Writes a whole envelope: WS-Addressing action and message id, the security
/// header when there is a token, and the payload that `body` writes.
pub fn envelope(
    op: Operation,
    message_id: &str,
    token: Option<&UsernameToken>,
    body: impl FnOnce(&mut XmlWriter) -> Result<(), WriteError>,
) -> Result<Vec<u8>, WriteError> {
    let mut w = XmlWriter::new();
    let mut attrs = vec![("xmlns:soap", SOAP_NS), ("xmlns:wsa", WSA_NS)];
    attrs.extend(TOKEN_NAMESPACES);
    w.open("soap:Envelope", &attrs);
    w.open("soap:Header", &[]);
    w.leaf("wsa:Action", &op.action())?;
    w.leaf("wsa:MessageID", message_id)?;
    if let Some(t) = token {
        t.write(&mut w)?;
    }
    w.close("soap:Header");
    w.open("soap:Body", &[]);
    w.open(op.element(), &[("xmlns", MPI_NS)]);
    body(&mut w)?;
    w.close(op.element());
    w.close("soap:Body");
    w.close("soap:Envelope");
    Ok(w.finish())
}

/// The exact `NopHoSoDangKyDoanhNghiep` request. The idempotency key becomes the
/// `wsa:MessageID`; `token` is `None` only for [`crate::Adapter::encode`], which
/// shows the request before authentication.
pub fn encode_submit(
    d: &Dossier,
    idempotency_key: &str,
    token: Option<&UsernameToken>,
) -> Result<Vec<u8>, EncodeError> {
    let reg = registration(d)?;
    Ok(envelope(Operation::Submit, &message_id(idempotency_key), token, |w| {
        dossier(w, d)?;
        business(w, reg)?;
        files(w, d)
    })?)
}

fn dossier(w: &mut XmlWriter, d: &Dossier) -> Result<(), WriteError> {
    w.open("HoSo", &[]);
    w.leaf("MaHoSo", d.code.as_str())?;
    w.leaf("MaTTHC", d.procedure_code.as_str())?;
    w.leaf("TenTTHC", &d.procedure_name)?;
    w.leaf_opt("SoBienNhan", present(&d.receipt_number))?;
    w.leaf("KenhThucHien", &d.channel.code().to_string())?;
    w.leaf_opt("TrichYeu", present(&d.summary))?;
    w.leaf("NgayTiepNhan", &mpi_date(&d.received_at))?;
    w.leaf("NgayHenTra", &mpi_date(&d.due_at))?;
    let o = &d.owner;
    w.open("NguoiNop", &[]);
    w.leaf("HoTen", &o.name)?;
    w.leaf_opt("SoGiayTo", present(&o.id_number))?;
    w.leaf("LoaiDoiTuong", &o.kind.code().to_string())?;
    w.leaf_opt("DienThoai", present(&o.phone))?;
    w.leaf_opt("Email", present(&o.email))?;
    w.close("NguoiNop");
    w.close("HoSo");
    Ok(())
}

fn business(w: &mut XmlWriter, r: &BusinessRegistration) -> Result<(), WriteError> {
    w.open("DangKyDoanhNghiep", &[]);
    w.leaf("TenDoanhNghiep", &r.enterprise_name)?;
    w.leaf_opt("TenTiengNuocNgoai", present(&r.foreign_name))?;
    w.leaf("LoaiHinhDoanhNghiep", r.enterprise_type.code())?;
    w.leaf("VonDieuLe", &r.charter_capital_vnd.to_string())?;
    w.open("DiaChiTruSo", &[]);
    w.leaf("SoNhaDuong", &r.head_office.street)?;
    w.leaf("PhuongXa", &r.head_office.ward)?;
    w.leaf("TinhThanhPho", &r.head_office.province)?;
    w.close("DiaChiTruSo");
    let rep = &r.legal_representative;
    w.open("NguoiDaiDienPhapLuat", &[]);
    w.leaf("HoTen", &rep.full_name)?;
    w.leaf("ChucDanh", &rep.title)?;
    w.leaf("SoGiayTo", &rep.id_number)?;
    w.close("NguoiDaiDienPhapLuat");
    w.open("NganhNghe", &[]);
    for line in &r.business_lines {
        w.open("Nganh", &[]);
        w.leaf("MaNganh", &line.vsic_code)?;
        w.leaf("TenNganh", &line.name)?;
        w.leaf("LaNganhChinh", if line.main { "1" } else { "0" })?;
        w.close("Nganh");
    }
    w.close("NganhNghe");
    w.close("DangKyDoanhNghiep");
    Ok(())
}

/// Files travel by URL: MPI fetches them. Inline content is not sent.
fn files(w: &mut XmlWriter, d: &Dossier) -> Result<(), WriteError> {
    if d.files.is_empty() {
        return Ok(());
    }
    w.open("TaiLieuNop", &[]);
    for f in &d.files {
        w.open("TepDinhKem", &[]);
        w.leaf("TenTepDinhKem", &f.name)?;
        w.leaf_opt("MaThanhPhanHoSo", present(&f.component_code))?;
        w.leaf_opt("DuongDanTaiTepTin", present(&f.url))?;
        w.close("TepDinhKem");
    }
    w.close("TaiLieuNop");
    Ok(())
}

/// The exact `TraCuuDoanhNghiep` request.
pub fn encode_lookup_enterprise(
    tax_code: &TaxCode,
    message_id: &str,
    token: Option<&UsernameToken>,
) -> Result<Vec<u8>, EncodeError> {
    Ok(envelope(Operation::LookupEnterprise, message_id, token, |w| w.leaf("MaSoDoanhNghiep", tax_code.as_str()))?)
}

/// The exact `TraCuuHoSo` request.
pub fn encode_lookup_dossier(
    code: &MaHoSo,
    message_id: &str,
    token: Option<&UsernameToken>,
) -> Result<Vec<u8>, EncodeError> {
    Ok(envelope(Operation::LookupDossier, message_id, token, |w| w.leaf("MaHoSo", code.as_str()))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpi::xml::parse;

    fn dossier(payload: &str) -> Dossier {
        let body = format!(
            r#"{{"code":"G09.20-20260609-0092637","procedure_code":"2.000046","procedure_name":"Đăng ký",
               "field_code":null,"field_name":null,"receipt_number":"  ","channel":"online",
               "owner":{{"name":"A & B <C>","id_number":null,"kind":"enterprise","subject_code":null,
                         "email":null,"fax":null,"phone":null,"other":null}},
               "summary":null,"submitted_at":null,"received_at":"2026-06-09T01:05:00Z",
               "due_at":"2026-06-12T17:00:00+07:00","returned_at":null,"finished_at":null,
               "rejected_at":null,"status":null,"handling_unit":null,"note":null,"result_info":null,
               "return_form":null,"target_agency":null,"files":[],"fees":[]{payload}}}"#
        );
        serde_json::from_str(&body).unwrap()
    }

    const REG: &str = r#","payload":{"kind":"business_registration","enterprise_name":"X","foreign_name":null,
        "enterprise_type":"single_member_llc","charter_capital_vnd":1,
        "head_office":{"street":"s","ward":"w","province":"p"},
        "legal_representative":{"full_name":"n","title":"t","id_number":"1"},
        "business_lines":[{"vsic_code":"6201","name":"l","main":true}]}"#;

    #[test]
    fn a_dossier_without_the_payload_cannot_be_encoded() {
        let e = encode_submit(&dossier(""), "k", None).unwrap_err();
        assert_eq!(e.to_string(), "cannot encode for mpi: the dossier carries no business_registration payload");
    }

    #[test]
    fn dates_are_local_with_offset_and_blanks_are_left_out() {
        let body = encode_submit(&dossier(REG), "k 1", None).unwrap();
        let text = String::from_utf8(body.clone()).unwrap();
        assert!(text.contains("<NgayTiepNhan>2026-06-09T08:05:00+07:00</NgayTiepNhan>"), "{text}");
        assert!(text.contains("<HoTen>A &amp; B &lt;C&gt;</HoTen>"), "{text}");
        assert!(!text.contains("SoBienNhan") && !text.contains("TaiLieuNop") && !text.contains("wsse:Security"));
        assert!(text.contains("<wsa:MessageID>urn:lienthong:idempotency:k%201</wsa:MessageID>"));
        let root = parse(&body).unwrap();
        let payload = root.child(SOAP_NS, "Body").unwrap().child(MPI_NS, "NopHoSoDangKyDoanhNghiep").unwrap();
        assert_eq!(payload.child(MPI_NS, "HoSo").unwrap().child_text(MPI_NS, "MaTTHC").as_deref(), Some("2.000046"));
    }

    #[test]
    fn characters_xml_cannot_carry_are_refused_by_field_name() {
        let mut d = dossier(REG);
        d.procedure_name = "bell\u{7}".into();
        let e = encode_submit(&d, "k", None).unwrap_err();
        assert_eq!(e.reason, "TenTTHC: holds a character xml 1.0 cannot carry");
    }
}
