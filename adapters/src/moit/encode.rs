//! Canonical to wire: the licence application, the token request, and path segments.
//!
//! Pure functions, golden-tested. Dates are RFC 3339 with `+07:00`; optional values
//! that are absent or blank are left out; lists are always present.

use schemas::{Channel, Dossier, Payload, PayloadKind, SubjectKind, TradeLicence, VnDateTime};

use super::wire::{DiaDiem, GiayPhep, HoSoRequest, LePhi, NguoiNop, TepDinhKem};
use crate::EncodeError;

fn error(reason: impl Into<String>) -> EncodeError {
    EncodeError { agency: "moit".into(), reason: reason.into() }
}

/// An optional value as sent: `None` when absent or blank.
fn opt(v: &Option<String>) -> Option<String> {
    v.as_ref().filter(|s| !s.trim().is_empty()).cloned()
}

fn date(v: &Option<VnDateTime>) -> Option<String> {
    v.as_ref().map(VnDateTime::to_rfc3339)
}

/// The `kenhNop` code of a filing channel.
pub fn channel_code(c: Channel) -> &'static str {
    match c {
        Channel::InPerson => "TRUC_TIEP",
        Channel::Online => "TRUC_TUYEN",
        Channel::Postal => "BUU_CHINH",
    }
}

/// The `loaiDoiTuong` code of an applicant.
pub fn subject_code(k: SubjectKind) -> &'static str {
    match k {
        SubjectKind::Citizen => "CA_NHAN",
        SubjectKind::Enterprise => "TO_CHUC",
    }
}

/// The dossier's trade-licence payload, or why there is none.
pub fn trade_licence(d: &Dossier) -> Result<&TradeLicence, EncodeError> {
    match &d.payload {
        Some(Payload::TradeLicence(t)) => Ok(t),
        Some(other) => Err(error(format!(
            "moit decides {} dossiers, not {}",
            PayloadKind::TradeLicence.config_name(),
            other.kind().config_name()
        ))),
        None => Err(error(format!(
            "the dossier carries no {} payload ({})",
            PayloadKind::TradeLicence.config_name(),
            PayloadKind::TradeLicence.wire_name()
        ))),
    }
}

/// The licence application of a canonical dossier; refuses a dossier without a
/// trade-licence payload, the one thing MOIT's format cannot do without.
pub fn ho_so_request(d: &Dossier) -> Result<HoSoRequest, EncodeError> {
    let t = trade_licence(d)?;
    Ok(HoSoRequest {
        ma_ho_so: d.code.to_string(),
        ma_tthc: d.procedure_code.to_string(),
        ten_tthc: d.procedure_name.clone(),
        ma_linh_vuc: opt(&d.field_code),
        so_bien_nhan: opt(&d.receipt_number),
        kenh_nop: channel_code(d.channel).to_owned(),
        ngay_nop: date(&d.submitted_at),
        ngay_tiep_nhan: d.received_at.to_rfc3339(),
        ngay_hen_tra: d.due_at.to_rfc3339(),
        trich_yeu: opt(&d.summary),
        nguoi_nop: NguoiNop {
            ho_ten: d.owner.name.clone(),
            loai_doi_tuong: subject_code(d.owner.kind).to_owned(),
            so_giay_to: opt(&d.owner.id_number),
            email: opt(&d.owner.email),
            so_dien_thoai: opt(&d.owner.phone),
        },
        giay_phep: GiayPhep {
            loai_thu_tuc: t.licence_kind.code().to_owned(),
            ten_thuong_nhan: t.trader_name.clone(),
            ma_so_thue: t.tax_code.clone(),
            dia_diem_kinh_doanh: DiaDiem {
                so_nha_duong: t.business_address.street.clone(),
                phuong_xa: t.business_address.ward.clone(),
                tinh_thanh_pho: t.business_address.province.clone(),
            },
            noi_dung_de_nghi: t.request.clone(),
            thoi_gian_bat_dau: date(&t.valid_from),
            thoi_gian_ket_thuc: date(&t.valid_to),
        },
        tep_dinh_kem: d
            .files
            .iter()
            .map(|f| TepDinhKem {
                ten_tep: f.name.clone(),
                ma_thanh_phan: opt(&f.component_code),
                duong_dan: opt(&f.url),
            })
            .collect(),
        le_phi: d
            .fees
            .iter()
            .map(|f| LePhi { ten_phi: f.name.clone(), ma_phi: opt(&f.code), so_tien: f.amount_vnd })
            .collect(),
    })
}

/// The exact `POST /api/v1/ho-so` body.
pub fn encode_ho_so(d: &Dossier) -> Result<Vec<u8>, EncodeError> {
    serde_json::to_vec(&ho_so_request(d)?).map_err(|e| error(e.to_string()))
}

/// The exact token request body (RFC 6749 §4.4.2).
pub fn token_form(scope: &str) -> String {
    format!("grant_type=client_credentials&scope={}", form_urlencode(scope))
}

/// `application/x-www-form-urlencoded` encoding of one value: unreserved bytes as
/// they are, space as `+`, everything else `%XX`. RFC 6749 §2.3.1 encodes the
/// client id and secret this way before HTTP Basic.
pub fn form_urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(char::from(b)),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// One path segment, percent-encoded (RFC 3986 unreserved bytes kept), so that a
/// licence number such as `15/2025/GPBLR-SCT` stays one segment.
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(char::from(b)),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use schemas::{Address, TradeLicenceKind};

    fn dossier() -> Dossier {
        let body = r#"{"MaHoSo":"000.20.35.H56-260414-0137","MaTTHC":"2.000633","TenTTHC":"Cấp Giấy phép bán lẻ rượu",
            "KenhThucHien":"1","ChuHoSo":"Công ty TNHH A","LoaiDoiTuong":"2","Email":"  ",
            "NgayTiepNhan":"2026-04-14T02:30:00Z","NgayHenTra":"20260428170000"}"#;
        let mut d = schemas::dossier_from_json(body.as_bytes()).unwrap();
        d.payload = Some(Payload::TradeLicence(TradeLicence {
            licence_kind: TradeLicenceKind::PromotionNotice,
            trader_name: "Công ty TNHH A".into(),
            tax_code: "4201876543".into(),
            business_address: Address {
                street: "12 Trần Phú".into(),
                ward: "Nha Trang".into(),
                province: "Khánh Hòa".into(),
            },
            request: "Giảm giá 20%".into(),
            valid_from: Some(VnDateTime::parse("2026-05-01 00:00:00").unwrap()),
            valid_to: None,
        }));
        d
    }

    #[test]
    fn dates_are_rfc3339_in_vietnam_and_blank_optionals_are_left_out() {
        let w = ho_so_request(&dossier()).unwrap();
        assert_eq!(w.ngay_tiep_nhan, "2026-04-14T09:30:00+07:00");
        assert_eq!(w.ngay_hen_tra, "2026-04-28T17:00:00+07:00");
        assert_eq!(w.giay_phep.thoi_gian_bat_dau.as_deref(), Some("2026-05-01T00:00:00+07:00"));
        assert_eq!((w.kenh_nop.as_str(), w.nguoi_nop.loai_doi_tuong.as_str()), ("TRUC_TIEP", "TO_CHUC"));
        assert_eq!(w.giay_phep.loai_thu_tuc, "KHUYEN_MAI");
        let text = String::from_utf8(encode_ho_so(&dossier()).unwrap()).unwrap();
        assert!(!text.contains("email") && !text.contains("thoiGianKetThuc"), "{text}");
        assert!(text.contains(r#""tepDinhKem":[],"lePhi":[]"#), "{text}");
    }

    #[test]
    fn a_dossier_without_a_trade_licence_cannot_be_encoded() {
        let mut d = dossier();
        d.payload = None;
        let e = encode_ho_so(&d).unwrap_err();
        assert_eq!(e.reason, "the dossier carries no trade_licence payload (GiayPhepCongThuong)");
    }

    #[test]
    fn form_and_path_encoding() {
        assert_eq!(form_urlencode("a b+c/đ"), "a+b%2Bc%2F%C4%91");
        assert_eq!(token_form("hoso.submit hoso.read"), "grant_type=client_credentials&scope=hoso.submit+hoso.read");
        assert_eq!(path_segment("15/2025/GPBLR-SCT"), "15%2F2025%2FGPBLR-SCT");
        assert_eq!(path_segment("000.20.35.H56-260414-0137"), "000.20.35.H56-260414-0137");
        assert_eq!(path_segment("a b?#"), "a%20b%3F%23");
    }
}
