//! The simulator's check of a request payload: exactly the rules of
//! `dangkydoanhnghiep.xsd`, from the field tables of [`wire`](crate::mpi::wire).
//!
//! Each complex element is an `xs:sequence` of its fields, element-only, without
//! attributes; each leaf an `xs:string` restricted by length, pattern or
//! enumeration, except dates (`xs:dateTime`, whose whitespace is collapsed before
//! its pattern applies). A refusal names the field by its path, never its value.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::mpi::wire::{Field, Kind, Operation, MPI_NS};
use crate::mpi::xml::{is_xml_blank, Element};

/// Why a payload breaks the XSD: the field's path and a message naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Violation {
    pub(super) field: String,
    pub(super) message: String,
}

fn violation(field: &str, why: &str) -> Violation {
    Violation { field: field.to_owned(), message: format!("Trường {field} {why}") }
}

/// Checks the payload element of `op` and returns it as JSON: one key per
/// element, a list for a repeated element, leaf text as sent.
pub(super) fn payload(el: &Element, op: Operation) -> Result<Value, Violation> {
    group(el, op.fields(), op.element()).map(Value::Object)
}

fn group(el: &Element, fields: &[Field], path: &str) -> Result<Map<String, Value>, Violation> {
    if !el.attrs.is_empty() {
        return Err(violation(path, "không được có thuộc tính"));
    }
    if el.has_text() {
        return Err(violation(path, "chỉ được chứa các phần tử con"));
    }
    let mut out = Map::new();
    // `at` is the field the next child may be; `seen` how often it already came.
    let mut at = 0;
    let mut seen = 0;
    for child in el.elements() {
        let child_path = format!("{path}/{}", child.name);
        loop {
            let Some(field) = fields.get(at) else {
                return Err(violation(&child_path, "không có trong cấu trúc hoặc sai thứ tự"));
            };
            if child.ns.as_deref() == Some(MPI_NS) && child.name == field.name {
                let value = value(child, field, &child_path)?;
                if !field.repeats {
                    out.insert(field.name.to_owned(), value);
                    at += 1;
                    seen = 0;
                } else if let Some(Value::Array(items)) = out.get_mut(field.name) {
                    items.push(value);
                    seen += 1;
                } else {
                    out.insert(field.name.to_owned(), Value::Array(vec![value]));
                    seen += 1;
                }
                break;
            }
            if field.required && seen == 0 {
                return Err(violation(&format!("{path}/{}", field.name), "bắt buộc nhưng bị thiếu"));
            }
            at += 1;
            seen = 0;
        }
    }
    for (i, field) in fields.iter().enumerate().skip(at) {
        if field.required && !(i == at && seen > 0) {
            return Err(violation(&format!("{path}/{}", field.name), "bắt buộc nhưng bị thiếu"));
        }
    }
    Ok(out)
}

fn value(el: &Element, field: &Field, path: &str) -> Result<Value, Violation> {
    if let Kind::Group(fields) = field.kind {
        return group(el, fields, path).map(Value::Object);
    }
    if !el.attrs.is_empty() {
        return Err(violation(path, "không được có thuộc tính"));
    }
    if el.elements().next().is_some() {
        return Err(violation(path, "chỉ được chứa văn bản"));
    }
    let text = el.text();
    let (ok, why) = match field.kind {
        Kind::Text(max) => (
            !is_xml_blank(&text) && text.chars().count() <= usize::from(max),
            format!("phải có nội dung và không quá {max} ký tự"),
        ),
        Kind::Enum(values) => (values.contains(&text.as_str()), "có giá trị ngoài danh mục".to_owned()),
        Kind::Date => (is_date(&text), "phải là ngày giờ có thật, dạng yyyy-MM-ddTHH:mm:ss+07:00".to_owned()),
        Kind::DossierCode => (is_dossier_code(&text), "phải là mã hồ sơ hợp lệ".to_owned()),
        Kind::ProcedureCode => (is_procedure_code(&text), "phải là mã thủ tục hành chính hợp lệ".to_owned()),
        Kind::Vsic => {
            (digits(&text) && (4..=5).contains(&text.len()), "phải là mã ngành VSIC 4 hoặc 5 chữ số".to_owned())
        }
        Kind::Amount => (
            digits(&text) && text.len() <= 20 && !text.starts_with('0'),
            "phải là số nguyên dương, không có số 0 ở đầu".to_owned(),
        ),
        Kind::TaxCode => (digits(&text) && text.len() == 10, "phải gồm đúng 10 chữ số".to_owned()),
        Kind::Group(_) => (true, String::new()),
    };
    if ok {
        Ok(Value::String(text))
    } else {
        Err(violation(path, &why))
    }
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn alnum(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// `[A-Za-z0-9]+([.\-][A-Za-z0-9]+)*`
fn is_dotted(s: &str) -> bool {
    s.split(['.', '-']).all(alnum)
}

/// `[A-Za-z0-9]+([.\-][A-Za-z0-9]+)*-([0-9]{6}|[0-9]{8})-[0-9]{4,7}`, at most 64 characters.
pub(super) fn is_dossier_code(s: &str) -> bool {
    let mut parts = s.rsplitn(3, '-');
    let (Some(seq), Some(date), Some(agency)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    s.len() <= 64
        && digits(seq)
        && (4..=7).contains(&seq.len())
        && digits(date)
        && matches!(date.len(), 6 | 8)
        && is_dotted(agency)
}

/// `[0-9]\.[0-9]{6}(\.[A-Za-z0-9]+([.\-][A-Za-z0-9]+)*)?`, at most 48 characters.
fn is_procedure_code(s: &str) -> bool {
    let b = s.as_bytes();
    if s.len() > 48 || b.len() < 8 || !b[0].is_ascii_digit() || b[1] != b'.' || !digits(&s[2..8]) {
        return false;
    }
    match s[8..].strip_prefix('.') {
        None => s.len() == 8,
        Some(rest) => is_dotted(rest),
    }
}

/// `xs:dateTime` with the pattern `(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\+07:00`,
/// after whitespace collapsing; the date must exist.
pub(super) fn is_date(raw: &str) -> bool {
    let s = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
    let b = s.as_bytes();
    let shape = b.len() == 25
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            _ => i >= 19 || c.is_ascii_digit(),
        })
        && &s[19..] == "+07:00";
    if !shape {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(u32::MAX);
    let (y, mo, d, h, mi, se) = (num(0..4), num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    (1900..2200).contains(&y)
        && h < 24
        && mi < 60
        && se < 60
        && i32::try_from(y).ok().and_then(|y| NaiveDate::from_ymd_opt(y, mo, d)).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mpi::xml::parse;

    fn check(inner: &str) -> Result<Value, Violation> {
        let doc = format!("<TraCuuHoSo xmlns='{MPI_NS}'>{inner}</TraCuuHoSo>");
        payload(&parse(doc.as_bytes()).unwrap(), Operation::LookupDossier)
    }

    #[test]
    fn codes_and_dates_follow_the_xsd_patterns() {
        for ok in ["000.00.31.H29-261122-0001", "G09.20-20260609-0092637", "A-B-261122-0001"] {
            assert!(is_dossier_code(ok), "{ok}");
        }
        for bad in ["A--261122-0001", "A-2611-0001", "A-261122-001", ".A-261122-0001", "Ä-261122-0001"] {
            assert!(!is_dossier_code(bad), "{bad}");
        }
        assert!(is_procedure_code("2.000046") && is_procedure_code("3.000181.000.00.00.H22"));
        assert!(!is_procedure_code("2.00004") && !is_procedure_code("2.000046.") && !is_procedure_code("2.0000461"));
        assert!(is_date("2026-06-09T08:05:00+07:00") && is_date(" 2024-02-29T23:59:59+07:00\n"));
        for bad in ["2026-02-29T08:05:00+07:00", "2026-06-09T24:00:00+07:00", "2026-06-09T08:05:00Z", "2026-06-09"] {
            assert!(!is_date(bad), "{bad}");
        }
    }

    #[test]
    fn sequences_order_and_occurrence() {
        assert_eq!(check("<MaHoSo>A-261122-0001</MaHoSo>").unwrap()["MaHoSo"], "A-261122-0001");
        let e = check("").unwrap_err();
        assert_eq!(e.field, "TraCuuHoSo/MaHoSo");
        assert_eq!(e.message, "Trường TraCuuHoSo/MaHoSo bắt buộc nhưng bị thiếu");
        assert_eq!(check("<MaHoSo>A-261122-0001</MaHoSo><X/>").unwrap_err().field, "TraCuuHoSo/X");
        assert_eq!(
            check("<MaHoSo>A-261122-0001</MaHoSo><MaHoSo>A-261122-0001</MaHoSo>").unwrap_err().field,
            "TraCuuHoSo/MaHoSo"
        );
        assert!(check("<MaHoSo a='1'>A-261122-0001</MaHoSo>").is_err());
        assert!(check("<MaHoSo>A-261122-0001<b/></MaHoSo>").is_err());
        assert!(check("text<MaHoSo>A-261122-0001</MaHoSo>").is_err());
        assert!(check("<MaHoSo xmlns='urn:x'>A-261122-0001</MaHoSo>").is_err());
        let e = check("<MaHoSo>2026-bad</MaHoSo>").unwrap_err();
        assert!(!e.message.contains("2026-bad"), "{e:?}");
    }

    #[test]
    fn repeated_fields_collect_into_lists() {
        let doc = format!("<NopHoSoDangKyDoanhNghiep xmlns='{MPI_NS}'><HoSo/></NopHoSoDangKyDoanhNghiep>");
        let e = payload(&parse(doc.as_bytes()).unwrap(), Operation::Submit).unwrap_err();
        assert_eq!(e.field, "NopHoSoDangKyDoanhNghiep/HoSo/MaHoSo");
        let lines = format!(
            "<NganhNghe xmlns='{MPI_NS}'><Nganh><MaNganh>1030</MaNganh><TenNganh>a</TenNganh><LaNganhChinh>1</LaNganhChinh></Nganh>\
             <Nganh><MaNganh>4632</MaNganh><TenNganh>b</TenNganh><LaNganhChinh>0</LaNganhChinh></Nganh></NganhNghe>"
        );
        let v = group(&parse(lines.as_bytes()).unwrap(), crate::mpi::wire::LINES_FIELDS, "NganhNghe").unwrap();
        assert_eq!(v["Nganh"].as_array().unwrap().len(), 2);
        let empty = format!("<NganhNghe xmlns='{MPI_NS}'/>");
        assert!(group(&parse(empty.as_bytes()).unwrap(), crate::mpi::wire::LINES_FIELDS, "NganhNghe").is_err());
    }
}
