//! MOIT messages as they travel: camelCase JSON, dates RFC 3339 with `+07:00`,
//! errors as RFC 9457 problem documents carrying MOIT's own `code`.
//!
//! The request body is described for integrators by
//! `schemas/agencies/moit/ho-so.schema.json`, which the simulator enforces at run
//! time ([`HO_SO_SCHEMA`]); a test proves the structs below serialise into it.

use std::fmt;

use serde::{Deserialize, Serialize};

mod request;
mod state;

pub use request::{DiaDiem, GiayPhep, HoSoRequest, LePhi, NguoiNop, TepDinhKem};
pub use state::{LicenceState, MoitState};

/// OAuth2 token endpoint (client credentials), relative to the base URL by default.
pub const TOKEN_PATH: &str = "/oauth2/token";
/// Submits a licence application (`POST`).
pub const HO_SO_PATH: &str = "/api/v1/ho-so";
/// Prefix of a dossier's state and history (`GET /api/v1/ho-so/{maHoSo}`).
pub const HO_SO_PREFIX: &str = "/api/v1/ho-so/";
/// Prefix of a licence's validity (`GET /api/v1/giay-phep/{soGiayPhep}`).
pub const GIAY_PHEP_PREFIX: &str = "/api/v1/giay-phep/";
/// The media type of every error answer of the API.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The JSON Schema of the `POST /api/v1/ho-so` body, as published.
pub const HO_SO_SCHEMA: &str = include_str!("../../../schemas/agencies/moit/ho-so.schema.json");

/// The OAuth2 scopes MOIT knows.
pub mod scope {
    /// Submitting licence applications.
    pub const SUBMIT: &str = "hoso.submit";
    /// Reading a dossier's state and history.
    pub const READ: &str = "hoso.read";
    /// Reading licences.
    pub const LICENCE: &str = "giayphep.read";
}

/// MOIT's own error codes (the `code` member of problem documents).
pub mod code {
    /// Access token missing, unknown or expired (401).
    pub const UNAUTHORIZED: &str = "MOIT-AUTH-001";
    /// The token lacks the scope the call needs (403).
    pub const FORBIDDEN: &str = "MOIT-AUTH-003";
    /// The body is not a JSON object (400).
    pub const MALFORMED: &str = "MOIT-REQ-001";
    /// The `Idempotency-Key` header is missing or longer than 255 characters (400).
    pub const IDEMPOTENCY_KEY: &str = "MOIT-REQ-002";
    /// No such path (404).
    pub const NO_SUCH_PATH: &str = "MOIT-REQ-404";
    /// The method is not allowed on the path (405).
    pub const METHOD: &str = "MOIT-REQ-405";
    /// The body is not `application/json` (415).
    pub const MEDIA_TYPE: &str = "MOIT-REQ-415";
    /// The body breaks the schema, or a date is not a real instant; `field` names it (422).
    pub const INVALID: &str = "MOIT-VAL-001";
    /// The same `maHoSo` was already received under another idempotency key (409).
    pub const DUPLICATE: &str = "MOIT-DUP-001";
    /// `ngayHenTra` is before `ngayTiepNhan` (422).
    pub const DUE_BEFORE_RECEIPT: &str = "MOIT-BUS-001";
    /// `thoiGianKetThuc` is before `thoiGianBatDau` (422).
    pub const END_BEFORE_START: &str = "MOIT-BUS-002";
    /// No such dossier (404).
    pub const DOSSIER_NOT_FOUND: &str = "MOIT-NF-001";
    /// No such licence (404).
    pub const LICENCE_NOT_FOUND: &str = "MOIT-NF-002";
    /// The system is busy: try again later (503, with `Retry-After`).
    pub const BUSY: &str = "MOIT-SYS-503";
    /// Every code of this family means "try again later", whatever the HTTP status.
    pub const SYSTEM_PREFIX: &str = "MOIT-SYS-";
    /// Every code of this family means "nothing by that key".
    pub const NOT_FOUND_PREFIX: &str = "MOIT-NF-";
}

/// Each code with its HTTP status, problem type slug and fixed title.
pub const PROBLEMS: &[(&str, u16, &str, &str)] = &[
    (code::UNAUTHORIZED, 401, "unauthorized", "Mã truy cập không hợp lệ hoặc đã hết hạn"),
    (code::FORBIDDEN, 403, "forbidden", "Mã truy cập không đủ phạm vi cho thao tác này"),
    (code::MALFORMED, 400, "malformed", "Nội dung yêu cầu không phải đối tượng JSON"),
    (code::IDEMPOTENCY_KEY, 400, "idempotency-key", "Thiếu hoặc sai tiêu đề Idempotency-Key"),
    (code::NO_SUCH_PATH, 404, "no-such-path", "Không có tài nguyên này"),
    (code::METHOD, 405, "method", "Phương thức không được hỗ trợ"),
    (code::MEDIA_TYPE, 415, "media-type", "Kiểu nội dung phải là application/json"),
    (code::INVALID, 422, "validation", "Dữ liệu không hợp lệ"),
    (code::DUPLICATE, 409, "duplicate", "Hồ sơ đã được tiếp nhận trước đó"),
    (code::DUE_BEFORE_RECEIPT, 422, "due-before-receipt", "Ngày hẹn trả trước ngày tiếp nhận"),
    (code::END_BEFORE_START, 422, "end-before-start", "Thời gian kết thúc trước thời gian bắt đầu"),
    (code::DOSSIER_NOT_FOUND, 404, "dossier-not-found", "Không tìm thấy hồ sơ"),
    (code::LICENCE_NOT_FOUND, 404, "licence-not-found", "Không tìm thấy giấy phép"),
    (code::BUSY, 503, "busy", "Hệ thống đang bận, vui lòng thử lại sau"),
];

/// An error answer (RFC 9457) with MOIT's extension members.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the problem type, `urn:moit:problem:<slug>`.
    #[serde(rename = "type", default)]
    pub type_uri: String,
    /// A fixed short summary of the type.
    #[serde(default)]
    pub title: String,
    /// The HTTP status.
    #[serde(default)]
    pub status: Option<u16>,
    /// This occurrence; names a field when about one, never repeats a value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The path of the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// MOIT's code, such as `MOIT-VAL-001`.
    pub code: String,
    /// The offending field as a path (`giayPhep.maSoThue`, `tepDinhKem[0].tenTep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The `X-Request-Id` of the request, echoed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// The problem for `code` from [`PROBLEMS`]; an unknown code gets status 500.
    pub fn new(code: &str, detail: impl Into<String>) -> Self {
        let (status, slug, title) =
            PROBLEMS.iter().find(|p| p.0 == code).map_or((500, "internal", ""), |p| (p.1, p.2, p.3));
        Self {
            type_uri: format!("urn:moit:problem:{slug}"),
            title: title.to_owned(),
            status: Some(status),
            detail: Some(detail.into()),
            code: code.to_owned(),
            ..Self::default()
        }
    }
}

/// The 201 answer to `POST /api/v1/ho-so` (and its replays).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Created {
    /// MOIT's id for the dossier.
    #[serde(default)]
    pub id: Option<String>,
    /// MOIT's receipt number.
    #[serde(default)]
    pub so_tiep_nhan: Option<String>,
    /// The state entered, normally `DA_TIEP_NHAN`.
    #[serde(default)]
    pub trang_thai: Option<String>,
}

/// The 200 answer of the token endpoint (RFC 6749 §5.1).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAnswer {
    /// The bearer token.
    pub access_token: String,
    /// `Bearer` (compared without regard to case).
    pub token_type: String,
    /// Lifetime in seconds; absent means "until refused".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The scopes granted, when they differ from those asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

impl fmt::Debug for TokenAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenAnswer")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An error answer of the token endpoint (RFC 6749 §5.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unauthorized_client`,
    /// `unsupported_grant_type` or `invalid_scope`.
    pub error: String,
    /// Human text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// The 200 answer of `GET /api/v1/ho-so/{maHoSo}`: the state and processing history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoSoStatus {
    /// MOIT's id for the dossier.
    pub id: String,
    /// The dossier code at the portal.
    pub ma_ho_so: String,
    /// MOIT's receipt number.
    pub so_tiep_nhan: String,
    /// `BAN_LE_RUOU` or `KHUYEN_MAI`.
    pub loai_thu_tuc: String,
    /// The current state.
    pub trang_thai: MoitState,
    /// Received at the portal.
    pub ngay_tiep_nhan: String,
    /// Due at (moved by a supplement request).
    pub ngay_hen_tra: String,
    /// The licence issued, once there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub so_giay_phep: Option<String>,
    /// Every step, oldest first.
    pub lich_su_xu_ly: Vec<HistoryItem>,
}

/// One processing step (`lichSuXuLy` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryItem {
    /// The state entered.
    pub trang_thai: MoitState,
    /// When.
    pub thoi_diem: String,
    /// The department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub don_vi_xu_ly: Option<String>,
    /// The official who handled it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub can_bo_xu_ly: Option<String>,
    /// The official's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chuc_danh: Option<String>,
    /// What was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noi_dung: Option<String>,
    /// When the step started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bat_dau: Option<String>,
    /// When the step is due by regulation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub han_xu_ly: Option<String>,
    /// The dossier's new due date, when this step moves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngay_hen_tra_moi: Option<String>,
}

/// The 200 answer of `GET /api/v1/giay-phep/{soGiayPhep}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Licence {
    /// The licence number, such as `15/2025/GPBLR-SCT`.
    pub so_giay_phep: String,
    /// `BAN_LE_RUOU` or `KHUYEN_MAI`.
    pub loai_giay_phep: String,
    /// The trader's name.
    pub ten_thuong_nhan: String,
    /// The trader's tax code.
    pub ma_so_thue: String,
    /// Place of business.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dia_diem_kinh_doanh: Option<DiaDiem>,
    /// Issued at.
    pub ngay_cap: String,
    /// In force from.
    pub hieu_luc_tu: String,
    /// In force until; absent for no end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hieu_luc_den: Option<String>,
    /// Its state.
    pub trang_thai: LicenceState,
    /// The dossier it was issued for, when issued through this API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ma_ho_so: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_moit_state_round_trips_and_maps_to_a_dvcqg_status() {
        for (state, code) in MoitState::ALL {
            assert_eq!(state.code(), code);
            assert_eq!(MoitState::from_code(code), Some(state));
            assert_eq!(serde_json::to_value(state).unwrap(), code);
        }
        let codes: Vec<u8> = MoitState::ALL.iter().map(|(s, _)| s.trang_thai().code()).collect();
        assert_eq!(codes, vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10]);
        assert_eq!(MoitState::from_code("dang_tham_dinh"), None);
        for (state, code, label) in LicenceState::ALL {
            assert_eq!(LicenceState::from_code(code), Some(state));
            assert_eq!(state.label(), label);
            assert_eq!(serde_json::to_value(state).unwrap(), code);
        }
    }

    #[test]
    fn problems_carry_their_fixed_status_type_and_title() {
        for (code, status, slug, title) in PROBLEMS {
            let p = Problem::new(code, "d");
            assert_eq!((p.status, p.type_uri.as_str()), (Some(*status), format!("urn:moit:problem:{slug}").as_str()));
            assert_eq!(p.title, *title);
        }
        assert_eq!(Problem::new("MOIT-XYZ", "d").status, Some(500));
        let text = serde_json::to_string(&Problem::new(code::INVALID, "d")).unwrap();
        assert!(text.starts_with(r#"{"type":"urn:moit:problem:validation","title":"#), "{text}");
        assert!(serde_json::from_str::<Problem>(r#"{"title":"no code"}"#).is_err());
    }

    #[test]
    fn debug_never_shows_personal_data_or_tokens() {
        let body = HoSoRequest {
            ma_ho_so: "X".into(),
            ma_tthc: "2.000633".into(),
            ten_tthc: "T".into(),
            ma_linh_vuc: None,
            so_bien_nhan: None,
            kenh_nop: "TRUC_TUYEN".into(),
            ngay_nop: None,
            ngay_tiep_nhan: String::new(),
            ngay_hen_tra: String::new(),
            trich_yeu: None,
            nguoi_nop: NguoiNop {
                ho_ten: "Nguyễn Văn A".into(),
                loai_doi_tuong: "CA_NHAN".into(),
                so_giay_to: Some("001199000001".into()),
                email: None,
                so_dien_thoai: None,
            },
            giay_phep: GiayPhep {
                loai_thu_tuc: "BAN_LE_RUOU".into(),
                ten_thuong_nhan: "T".into(),
                ma_so_thue: "0101234567".into(),
                dia_diem_kinh_doanh: DiaDiem {
                    so_nha_duong: "1".into(),
                    phuong_xa: "P".into(),
                    tinh_thanh_pho: "H".into(),
                },
                noi_dung_de_nghi: "N".into(),
                thoi_gian_bat_dau: None,
                thoi_gian_ket_thuc: None,
            },
            tep_dinh_kem: vec![],
            le_phi: vec![],
        };
        let shown = format!("{body:?} {:?}", body.nguoi_nop);
        assert!(!shown.contains("Nguyễn") && !shown.contains("001199"), "{shown}");
        let token = TokenAnswer {
            access_token: "tok-secret".into(),
            token_type: "Bearer".into(),
            expires_in: Some(3600),
            scope: None,
        };
        assert!(!format!("{token:?}").contains("tok-secret"));
    }
}
