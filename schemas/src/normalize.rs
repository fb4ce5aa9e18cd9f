//! From the raw, all-strings form to the canonical dossier, collecting every problem.

use crate::dossier::{Attachment, Channel, Dossier, Fee, Owner, SubjectKind};
use crate::error::{FieldError, FieldErrorKind, ValidationErrors};
use crate::fields::{self, FieldKind, FieldSpec, FIELDS};
use crate::raw::{self, RawDossier, RawObject, RawValue};
use crate::{AgencyId, MaHoSo, MaTTHC, TrangThaiHoSo, VnDateTime};

/// Validates a raw dossier and builds its canonical form, or reports every problem.
pub fn normalize(raw: &RawDossier) -> Result<Dossier, ValidationErrors> {
    let mut errors = raw.problems.clone();
    check_object(&mut errors, FIELDS, "", &raw.root);
    let top = |name: &str| raw.get(name);
    let date = |name: &str| top(name).and_then(|s| VnDateTime::parse(s).ok());
    let order = [
        ("NgayNopHoSo", "NgayTiepNhan", "the dossier cannot be received before it was filed"),
        ("NgayTiepNhan", "NgayHenTra", "the due date cannot be before the receipt date"),
        ("NgayTiepNhan", "NgayKetThucXuLy", "processing cannot finish before the dossier was received"),
        ("NgayTiepNhan", "NgayTra", "the result cannot be returned before the dossier was received"),
    ];
    for (earlier, later, msg) in order {
        if let (Some(a), Some(b)) = (date(earlier), date(later)) {
            if b < a {
                errors.push(FieldError::new(later, FieldErrorKind::DateOrder, msg));
            }
        }
    }
    let payload = match raw::object(&raw.root, "DuLieuNghiepVu") {
        Some(p) => {
            let built = crate::build::payload(p, &mut errors);
            if built.is_none() && errors.is_empty() {
                // Never accept a dossier and drop its business data silently.
                errors.push(FieldError::new("DuLieuNghiepVu", FieldErrorKind::Invalid, "could not be read"));
            }
            built
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(ValidationErrors(errors));
    }

    // Every field was checked above; the conversions below cannot fail.
    let text = |name: &str| top(name).map(str::to_owned);
    let code = |name: &str| top(name).and_then(|s| s.parse::<u8>().ok()).unwrap_or(0);
    let invariant =
        || ValidationErrors(vec![FieldError::new("", FieldErrorKind::Invalid, "internal validation mismatch")]);
    let files = raw
        .list("TaiLieuNop")
        .iter()
        .map(|it| Attachment {
            id: opt(it, "TepDinhKemId"),
            name: opt(it, "TenTepDinhKem").unwrap_or_default(),
            component_code: opt(it, "MaThanhPhanHoSo"),
            url: opt(it, "DuongDanTaiTepTin"),
            content_base64: opt(it, "DuLieuTep").map(|b| b.split_ascii_whitespace().collect()),
        })
        .collect();
    let fees = raw
        .list("DanhSachLePhi")
        .iter()
        .map(|it| Fee {
            name: opt(it, "TenPhiLePhi").unwrap_or_default(),
            code: opt(it, "MaPhiLePhi"),
            collection: opt(it, "HinhThucThu"),
            amount_vnd: opt(it, "Gia").and_then(|g| g.parse().ok()).unwrap_or(0),
            kind: opt(it, "LoaiPhiLePhi"),
        })
        .collect();
    Ok(Dossier {
        code: MaHoSo::parse(top("MaHoSo").unwrap_or_default()).map_err(|_| invariant())?,
        procedure_code: MaTTHC::parse(top("MaTTHC").unwrap_or_default()).map_err(|_| invariant())?,
        procedure_name: text("TenTTHC").unwrap_or_default(),
        field_code: text("MaLinhVuc"),
        field_name: text("TenLinhVuc"),
        receipt_number: text("SoBienNhan"),
        channel: Channel::from_code(code("KenhThucHien")).ok_or_else(invariant)?,
        owner: Owner {
            name: text("ChuHoSo").unwrap_or_default(),
            id_number: text("SoGiayToChuHoSo"),
            kind: SubjectKind::from_code(code("LoaiDoiTuong")).ok_or_else(invariant)?,
            subject_code: text("MaDoiTuong"),
            email: text("Email"),
            fax: text("Fax"),
            phone: text("SoDienThoai"),
            other: text("ThongTinKhac"),
        },
        summary: text("TrichYeuHoSo"),
        submitted_at: date("NgayNopHoSo"),
        received_at: date("NgayTiepNhan").ok_or_else(invariant)?,
        due_at: date("NgayHenTra").ok_or_else(invariant)?,
        returned_at: date("NgayTra"),
        finished_at: date("NgayKetThucXuLy"),
        rejected_at: date("NgayTuChoi"),
        status: top("TrangThaiHoSo").and_then(|s| s.parse().ok()).and_then(TrangThaiHoSo::from_code),
        handling_unit: text("DonViXuLy"),
        note: text("GhiChu"),
        result_info: text("ThongTinTra"),
        return_form: text("HinhThuc"),
        target_agency: top("CoQuanDich").and_then(|s| AgencyId::parse(s).ok()),
        files,
        fees,
        payload,
    })
}

/// The trimmed text of a field of `item`, owned.
pub(crate) fn opt(item: &RawObject, name: &str) -> Option<String> {
    raw::text(item, name).map(str::to_owned)
}

/// Checks every field of `obj` against `table`, recursing into objects and lists;
/// `path` prefixes the paths of the errors.
pub(crate) fn check_object(errors: &mut Vec<FieldError>, table: &'static [FieldSpec], path: &str, obj: &RawObject) {
    check_object_at(errors, table, &mut path.to_owned(), obj);
}

/// [`check_object`] with the path in one buffer: each field's name is appended
/// for the time it is checked and then cut off again, so a valid dossier formats
/// no path at all.
fn check_object_at(errors: &mut Vec<FieldError>, table: &'static [FieldSpec], path: &mut String, obj: &RawObject) {
    let base = path.len();
    for spec in table {
        path.push_str(spec.name);
        match (spec.kind, obj.get(spec.name)) {
            (FieldKind::Object(t), Some(RawValue::Object(inner))) => {
                path.push('.');
                check_object_at(errors, fields::table(t), path, inner);
            }
            (FieldKind::List(t), Some(RawValue::List(items))) => {
                if spec.required && items.is_empty() {
                    errors.push(FieldError::new(path.as_str(), FieldErrorKind::Missing, "needs at least one item"));
                }
                let at = path.len();
                for (i, item) in items.iter().enumerate() {
                    use std::fmt::Write;
                    let _ = write!(path, "[{i}].");
                    check_object_at(errors, fields::table(t), path, item);
                    path.truncate(at);
                }
            }
            (FieldKind::Object(_) | FieldKind::List(_), None) if spec.required => {
                errors.push(FieldError::new(path.as_str(), FieldErrorKind::Missing, "is required"))
            }
            (FieldKind::Object(_) | FieldKind::List(_), _) => {}
            (_, value) => {
                let text = match value {
                    Some(RawValue::Text(s)) => Some(s.trim()).filter(|s| !s.is_empty()),
                    _ => None,
                };
                check(errors, spec, path, text);
            }
        }
        path.truncate(base);
    }
}

fn check(errors: &mut Vec<FieldError>, spec: &FieldSpec, path: &str, value: Option<&str>) {
    let Some(v) = value else {
        if spec.required {
            errors.push(FieldError::new(path, FieldErrorKind::Missing, "is required"));
        }
        return;
    };
    let invalid = |msg: String| FieldError::new(path, FieldErrorKind::Invalid, msg);
    let problem = match spec.kind {
        FieldKind::Text(max) if v.chars().count() > max => Some(invalid(format!("longer than {max} characters"))),
        FieldKind::Text(_) if v.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) => {
            Some(invalid("holds control characters".into()))
        }
        FieldKind::Text(_) => None,
        FieldKind::DossierCode => MaHoSo::parse(v).err().map(|e| invalid(e.to_string())),
        FieldKind::ProcedureCode => MaTTHC::parse(v).err().map(|e| invalid(e.to_string())),
        FieldKind::Agency => AgencyId::parse(v).err().map(|e| invalid(e.to_string())),
        FieldKind::Date => {
            VnDateTime::parse(v).err().map(|e| FieldError::new(path, FieldErrorKind::InvalidDate, e.to_string()))
        }
        FieldKind::Code(lo, hi) => match v.parse::<u8>() {
            Ok(c) if (lo..=hi).contains(&c) => None,
            _ => Some(invalid(format!("must be a code from {lo} to {hi}"))),
        },
        FieldKind::Amount => match v.parse::<u64>() {
            Ok(a) if a <= 1_000_000_000_000_000 => None,
            _ => Some(invalid("must be a whole, non-negative amount of đồng".into())),
        },
        FieldKind::Email => (!is_email(v)).then(|| invalid("is not an e-mail address".into())),
        FieldKind::Phone => (!is_phone(v)).then(|| invalid("is not a telephone number".into())),
        FieldKind::Url => (!is_url(v)).then(|| invalid("must be an absolute http(s) URL".into())),
        FieldKind::OneOf(codes) => {
            (!codes.contains(&v)).then(|| invalid(format!("must be one of {}", codes.join(", "))))
        }
        FieldKind::Vsic => (!((v.len() == 4 || v.len() == 5) && v.bytes().all(|b| b.is_ascii_digit())))
            .then(|| invalid("must be a VSIC code of 4 or 5 digits".into())),
        FieldKind::TaxCode => {
            (!is_tax_code(v)).then(|| invalid("must be 10 digits, or 10 digits, '-' and 3 digits".into()))
        }
        FieldKind::Base64(max) => match base64_len(v) {
            Some(n) if n <= max => None,
            Some(_) => Some(invalid(format!("the file exceeds {max} bytes"))),
            None => Some(invalid("is not standard base64".into())),
        },
        FieldKind::Object(_) | FieldKind::List(_) => None,
    };
    errors.extend(problem);
}

fn is_tax_code(v: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    match v.split_once('-') {
        None => digits(v, 10),
        Some((a, b)) => digits(a, 10) && digits(b, 3),
    }
}

/// The decoded length of canonical standard base64 text (whitespace ignored), if
/// it is valid: the bits left over before padding must be zero, as strict decoders
/// require.
fn base64_len(v: &str) -> Option<usize> {
    let mut n = 0usize;
    let mut pad = 0usize;
    let mut last = 0u8;
    for b in v.bytes() {
        let value = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                pad += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' | b'\n' => continue,
            _ => return None,
        };
        if pad > 0 {
            return None;
        }
        n += 1;
        last = value;
    }
    if !(n + pad).is_multiple_of(4) || pad > 2 {
        return None;
    }
    let unused_bits = match pad {
        1 => last & 0b11,
        2 => last & 0b1111,
        _ => 0,
    };
    if unused_bits != 0 {
        return None;
    }
    Some((n + pad) / 4 * 3 - pad)
}

fn is_email(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else {
        return false;
    };
    v.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@')
}

fn is_phone(v: &str) -> bool {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    (8..=15).contains(&digits)
        && v.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))
}

fn is_url(v: &str) -> bool {
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://"));
    matches!(rest, Some(r) if !r.is_empty() && !r.starts_with('/') && v.len() <= 2048 && !v.chars().any(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_must_be_canonical() {
        assert_eq!(base64_len("QUJD"), Some(3));
        assert_eq!(base64_len("QUJDRA=="), Some(4));
        assert_eq!(base64_len("QUJDREU="), Some(5));
        assert_eq!(base64_len("QUJ\nDRA=="), Some(4));
        for bad in ["QUJDRB==", "QUJDREV=", "QUJ", "QU=J", "QUJD%A==", "Q==="] {
            assert_eq!(base64_len(bad), None, "{bad}");
        }
    }

    #[test]
    fn leading_zeros_in_codes_keep_the_payload() {
        let body = JSON.replace(
            r#""DanhSachLePhi""#,
            r#""DuLieuNghiepVu": {"HoTich": {"KhaiSinh": {"HoTen": "Nguyễn Văn An", "NgaySinh": "2026-11-01", "GioiTinh": "01", "NoiSinh": "Hà Nội"}}},
               "DanhSachLePhi""#,
        );
        let d = normalize(&parse_json(body.as_bytes()).unwrap());
        let d = d.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            matches!(d.payload, Some(crate::Payload::CivilStatus(crate::CivilStatus::Birth(ref b))) if b.sex == crate::Sex::Male)
        );
    }
    use crate::{parse_json, parse_xml};

    const JSON: &str = r#"{
        "MaHoSo": "000.00.31.H29-261122-0001", "MaTTHC": "1.005129", "TenTTHC": "Đăng ký khai sinh",
        "KenhThucHien": "2", "ChuHoSo": "Nguyễn Thị Hồng", "SoGiayToChuHoSo": "079190001234",
        "LoaiDoiTuong": "1", "Email": "hong@example.vn", "SoDienThoai": "0903 123 456",
        "NgayTiepNhan": "20261122083000", "NgayHenTra": "2026-11-25 17:00:00",
        "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf", "DuongDanTaiTepTin": "https://dvc.example.vn/f/1"}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": "8000"}]
    }"#;

    fn xml() -> String {
        r#"<HoSo xmlns="urn:lienthong:hoso:1"><MaHoSo>000.00.31.H29-261122-0001</MaHoSo><MaTTHC>1.005129</MaTTHC>
        <TenTTHC>Đăng ký khai sinh</TenTTHC><KenhThucHien>2</KenhThucHien><ChuHoSo>Nguyễn Thị Hồng</ChuHoSo>
        <SoGiayToChuHoSo>079190001234</SoGiayToChuHoSo><LoaiDoiTuong>1</LoaiDoiTuong><Email>hong@example.vn</Email>
        <SoDienThoai>0903 123 456</SoDienThoai><NgayTiepNhan>2026-11-22T01:30:00Z</NgayTiepNhan>
        <NgayHenTra>20261125170000</NgayHenTra>
        <TaiLieuNop><TepDinhKem><TenTepDinhKem>to-khai.pdf</TenTepDinhKem><DuongDanTaiTepTin>https://dvc.example.vn/f/1</DuongDanTaiTepTin></TepDinhKem></TaiLieuNop>
        <DanhSachLePhi><LePhi><Gia>8000</Gia><TenPhiLePhi>Lệ phí</TenPhiLePhi></LePhi></DanhSachLePhi></HoSo>"#.to_owned()
    }

    #[test]
    fn both_dialects_normalise_to_the_same_dossier() {
        let a = normalize(&parse_json(JSON.as_bytes()).unwrap()).unwrap();
        let b = normalize(&parse_xml(xml().as_bytes()).unwrap()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.content_hash(), b.content_hash());
        assert_eq!(a.channel, Channel::Online);
        assert_eq!(a.received_at.to_dvcqg(), "20261122083000");
        assert_eq!(a.fees[0].amount_vnd, 8000);
    }

    fn refuse(patch: &[(&str, serde_json::Value)]) -> ValidationErrors {
        let mut v: serde_json::Value = serde_json::from_str(JSON).unwrap();
        for (k, val) in patch {
            if val.is_null() {
                v.as_object_mut().unwrap().remove(*k);
            } else {
                v[*k] = val.clone();
            }
        }
        normalize(&parse_json(&serde_json::to_vec(&v).unwrap()).unwrap()).unwrap_err()
    }

    #[test]
    fn each_bad_field_is_named_with_its_code() {
        use serde_json::{json, Value};
        let cases: Vec<(&str, Value, &str)> = vec![
            ("MaHoSo", Value::Null, "missing_field"),
            ("MaHoSo", json!("bad"), "invalid_field"),
            ("MaTTHC", json!("1.23"), "invalid_field"),
            ("TenTTHC", json!("  "), "missing_field"),
            ("KenhThucHien", json!("4"), "invalid_field"),
            ("LoaiDoiTuong", json!("x"), "invalid_field"),
            ("Email", json!("not-an-email"), "invalid_field"),
            ("SoDienThoai", json!("call me"), "invalid_field"),
            ("NgayTiepNhan", json!("20261131080000"), "invalid_date"),
            ("NgayHenTra", json!("20261121080000"), "impossible_dates"),
            ("TrangThaiHoSo", json!("11"), "invalid_field"),
            ("CoQuanDich", json!("Bộ Tư pháp"), "invalid_field"),
            ("ChuHoSo", json!("a\u{0}b"), "invalid_field"),
        ];
        for (field, value, code) in cases {
            let e = refuse(&[(field, value)]);
            assert_eq!(e.code(), code, "{field}: {e}");
            assert_eq!(e.errors()[0].field, field);
        }
    }

    #[test]
    fn list_items_are_validated_with_their_path() {
        use serde_json::json;
        let e = refuse(&[("DanhSachLePhi", json!([{"TenPhiLePhi": "x", "Gia": "-5"}]))]);
        assert_eq!(e.errors()[0].field, "DanhSachLePhi[0].Gia");
        let e = refuse(&[("TaiLieuNop", json!([{"DuongDanTaiTepTin": "file:///etc/passwd"}]))]);
        let fields: Vec<_> = e.errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, vec!["TaiLieuNop[0].TenTepDinhKem", "TaiLieuNop[0].DuongDanTaiTepTin"]);
    }

    #[test]
    fn all_problems_are_reported_and_none_echo_values() {
        use serde_json::json;
        let e = refuse(&[("SoGiayToChuHoSo", json!("0791900012345678901234567890123456")), ("Email", json!("x"))]);
        assert_eq!(e.errors().len(), 2);
        assert!(!e.to_string().contains("07919000"));
    }
}
