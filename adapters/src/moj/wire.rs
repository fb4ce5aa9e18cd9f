//! Ministry of Justice messages as they travel: camelCase JSON, dates in Vietnam's
//! local time (`yyyy-MM-dd HH:mm:ss`, or `yyyy-MM-dd` for dates of birth).
//!
//! The JSON Schemas under `schemas/agencies/moj/` describe the same requests; the
//! simulator validates with them and the tests prove the adapter's output conforms.
//! Every struct here holds personal data, so none prints its content in `Debug`.

use std::fmt;

use schemas::VnDateTime;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Exchanges a username and password for a token.
pub const TOKEN_PATH: &str = "/api/auth/token";
/// Receives a civil-status (hộ tịch) dossier.
pub const HOTICH_PUSH_PATH: &str = "/api/hotich/tiepnhan";
/// Answers the status updates of civil-status dossiers.
pub const HOTICH_STATUS_PATH: &str = "/api/hotich/trangthai";
/// Receives a judicial-record (lý lịch tư pháp) certificate request.
pub const LLTP_PUSH_PATH: &str = "/api/lltp/tiepnhan";
/// Answers the status updates of judicial-record requests.
pub const LLTP_STATUS_PATH: &str = "/api/lltp/trangthai";

/// The most dossier codes one status poll may carry.
pub const MAX_CODES_PER_POLL: usize = 100;

/// `status` of an answer: success.
pub const STATUS_OK: i64 = 1;
/// `status` of an answer: failure, explained by `errorCode`.
pub const STATUS_FAILED: i64 = 0;

/// `module` of a birth registration (khai sinh).
pub const MODULE_BIRTH: &str = "KS";
/// `module` of a death registration (khai tử).
pub const MODULE_DEATH: &str = "KT";

/// The `errorCode` values of failed answers (`status` 0).
pub mod code {
    /// The bearer token is missing or unknown (answered with HTTP 401).
    pub const TOKEN_INVALID: &str = "AUTH-01";
    /// The bearer token has expired: ask for a new one.
    pub const TOKEN_EXPIRED: &str = "AUTH-02";
    /// Wrong username or password.
    pub const LOGIN_REFUSED: &str = "AUTH-03";
    /// The body is not a JSON object, or a token request lacks its fields.
    pub const MALFORMED: &str = "SYS-01";
    /// The system is busy: try again later.
    pub const BUSY: &str = "SYS-99";
    /// A civil-status request breaks a rule; `errorField` names the field.
    pub const HT_INVALID: &str = "HT-01";
    /// The dossier (`maHoSoMCDT`) was already received under another `maHoSoLT`.
    pub const HT_DUPLICATE: &str = "HT-02";
    /// A judicial-record request breaks a rule; `errorField` names the field.
    pub const LLTP_INVALID: &str = "LLTP-01";
    /// The `authKey` is wrong or not the key of `maTinh`.
    pub const LLTP_KEY_REFUSED: &str = "LLTP-02";
    /// The dossier was already received under another `Idempotency-Key`.
    pub const LLTP_DUPLICATE: &str = "LLTP-03";
}

/// Writes a date of birth or a residence date: `yyyy-MM-dd`.
pub fn wire_date(d: &VnDateTime) -> String {
    d.inner().format("%Y-%m-%d").to_string()
}

/// Writes an instant: `yyyy-MM-dd HH:mm:ss`, Vietnam's local time.
pub fn wire_date_time(d: &VnDateTime) -> String {
    d.inner().format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Body of `POST /api/auth/token`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// The account name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRequest").field("username", &self.username).finish_non_exhaustive()
    }
}

/// The `value` of a successful token answer.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenValue {
    /// The bearer token.
    pub token: String,
    /// Its lifetime in seconds (informative: the client renews when refused).
    #[serde(default)]
    pub expires_in: u64,
}

/// Body of `POST /api/hotich/tiepnhan`; serialises in wire order.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoTichRequest {
    /// `maDonVi`: the receiving civil-status unit.
    #[serde(rename = "maDonVi")]
    pub ma_don_vi: String,
    /// `module`: [`MODULE_BIRTH`] or [`MODULE_DEATH`].
    pub module: String,
    /// `maHoSoLT`: the gateway's reference of this delivery (its idempotency key).
    #[serde(rename = "maHoSoLT")]
    pub ma_ho_so_lt: String,
    /// `maHoSoMCDT`: the dossier code at the one-stop shop (`MaHoSo`).
    #[serde(rename = "maHoSoMCDT")]
    pub ma_ho_so_mcdt: String,
    /// `ngayTiepNhan`: when the one-stop shop received it.
    #[serde(rename = "ngayTiepNhan")]
    pub ngay_tiep_nhan: String,
    /// `data`: the record ([`KhaiSinh`] or [`KhaiTu`]) as a JSON **string**.
    pub data: String,
    /// `fileDinhKem`: the files, inline.
    #[serde(rename = "fileDinhKem")]
    pub file_dinh_kem: Vec<FileDinhKem>,
}

impl fmt::Debug for HoTichRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoTichRequest")
            .field("module", &self.module)
            .field("ma_ho_so_mcdt", &self.ma_ho_so_mcdt)
            .field("files", &self.file_dinh_kem.len())
            .finish_non_exhaustive()
    }
}

/// A civil-status file (`fileDinhKem` item).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileDinhKem {
    /// `id`: the portal's file id, or the file's position from 1.
    pub id: String,
    /// `loaiGiayTo`: the dossier component code ("" when unknown).
    pub loai_giay_to: String,
    /// `tenGiayTo`: the document's title (the file name without its extension).
    pub ten_giay_to: String,
    /// `tenTepDinhKem`: the file name.
    pub ten_tep_dinh_kem: String,
    /// `duLieuTepDinhKem`: the file's bytes, standard base64 with padding.
    pub du_lieu_tep_dinh_kem: String,
}

impl fmt::Debug for FileDinhKem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileDinhKem").field("id", &self.id).field("loai_giay_to", &self.loai_giay_to).finish()
    }
}

/// The birth record inside `data` (module `KS`). Optional values are "".
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KhaiSinh {
    /// `hoTen`: the child's full name.
    pub ho_ten: String,
    /// `ngaySinh`: date of birth, `yyyy-MM-dd`.
    pub ngay_sinh: String,
    /// `gioiTinh`: 1 male, 2 female.
    pub gioi_tinh: u8,
    /// `noiSinh`: place of birth.
    pub noi_sinh: String,
    /// `danToc`: ethnicity.
    pub dan_toc: String,
    /// `quocTich`: nationality.
    pub quoc_tich: String,
    /// `hoTenCha`: father's full name.
    pub ho_ten_cha: String,
    /// `hoTenMe`: mother's full name.
    pub ho_ten_me: String,
    /// `nycHoTen`: the requester's (người yêu cầu) full name.
    pub nyc_ho_ten: String,
    /// `nycSoGiayTo`: the requester's identity document number.
    pub nyc_so_giay_to: String,
    /// `nycSoDienThoai`: the requester's telephone.
    pub nyc_so_dien_thoai: String,
    /// `nycEmail`: the requester's e-mail.
    pub nyc_email: String,
}

/// The death record inside `data` (module `KT`). Optional values are "".
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct KhaiTu {
    /// `hoTen`: the deceased's full name.
    pub ho_ten: String,
    /// `soGiayTo`: the deceased's identity document number.
    pub so_giay_to: String,
    /// `ngayChet`: date and time of death, `yyyy-MM-dd HH:mm:ss`.
    pub ngay_chet: String,
    /// `noiChet`: place of death.
    pub noi_chet: String,
    /// `nguyenNhan`: cause of death.
    pub nguyen_nhan: String,
    /// `nycHoTen`: the requester's full name.
    pub nyc_ho_ten: String,
    /// `nycSoGiayTo`: the requester's identity document number.
    pub nyc_so_giay_to: String,
    /// `nycSoDienThoai`: the requester's telephone.
    pub nyc_so_dien_thoai: String,
    /// `nycEmail`: the requester's e-mail.
    pub nyc_email: String,
}

macro_rules! opaque_debug {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )*};
}

opaque_debug!(TokenValue, KhaiSinh, KhaiTu, ToKhai, CuTru, FileHoSo, LltpStatusRequest);

/// Body of `POST /api/lltp/tiepnhan`; serialises in wire order.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LltpRequest {
    /// `authKey`: the province's judicial-records key ("" until sent).
    pub auth_key: String,
    /// `maTinh`: the province's two-digit code.
    pub ma_tinh: String,
    /// `maHoSoMCDT`: the dossier code at the one-stop shop (`MaHoSo`).
    #[serde(rename = "maHoSoMCDT")]
    pub ma_ho_so_mcdt: String,
    /// `ngayTiepNhan`: when the one-stop shop received it.
    pub ngay_tiep_nhan: String,
    /// `toKhai`: the request form.
    pub to_khai: ToKhai,
}

impl fmt::Debug for LltpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LltpRequest")
            .field("ma_tinh", &self.ma_tinh)
            .field("ma_ho_so_mcdt", &self.ma_ho_so_mcdt)
            .finish_non_exhaustive()
    }
}

/// The judicial-record request form (`toKhai`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ToKhai {
    /// `hoTen`: full name.
    pub ho_ten: String,
    /// `ngaySinh`: date of birth, `yyyy-MM-dd`.
    pub ngay_sinh: String,
    /// `gioiTinh`: 1 male, 2 female.
    pub gioi_tinh: u8,
    /// `noiSinh`: place of birth.
    pub noi_sinh: String,
    /// `quocTich`: nationality.
    pub quoc_tich: String,
    /// `soGiayTo`: identity document number.
    pub so_giay_to: String,
    /// `noiThuongTru`: permanent residence.
    pub noi_thuong_tru: String,
    /// `mucDichSuDung`: what the certificate is for.
    pub muc_dich_su_dung: String,
    /// `loaiPhieu`: certificate form, 1 or 2.
    pub loai_phieu: u8,
    /// `quaTrinhCuTru`: residence history, oldest first.
    pub qua_trinh_cu_tru: Vec<CuTru>,
    /// `fileHoSo`: the files, inline.
    pub file_ho_so: Vec<FileHoSo>,
}

/// One period of residence (`quaTrinhCuTru` item).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CuTru {
    /// `tuNgay`: from, `yyyy-MM-dd`.
    pub tu_ngay: String,
    /// `denNgay`: to, `yyyy-MM-dd`; "" for the current residence.
    pub den_ngay: String,
    /// `noiCuTru`: where.
    pub noi_cu_tru: String,
}

/// A judicial-record file (`fileHoSo` item).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileHoSo {
    /// `tenFile`: the file name.
    pub ten_file: String,
    /// `noiDungFile`: the file's bytes, standard base64 with padding.
    pub noi_dung_file: String,
}

/// Body of `POST /api/hotich/trangthai`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoTichStatusRequest {
    /// `maDonVi`: the asking unit.
    pub ma_don_vi: String,
    /// `dsMaHoSo`: the dossier codes (1 to [`MAX_CODES_PER_POLL`]).
    pub ds_ma_ho_so: Vec<String>,
}

/// Body of `POST /api/lltp/trangthai`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LltpStatusRequest {
    /// `authKey`: the province's judicial-records key.
    pub auth_key: String,
    /// `maTinh`: the province's two-digit code.
    pub ma_tinh: String,
    /// `dsMaHoSo`: the dossier codes (1 to [`MAX_CODES_PER_POLL`]).
    pub ds_ma_ho_so: Vec<String>,
}

/// One status update (`value` item of a status answer), as the simulator writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusItem {
    /// `maHoSo`: the dossier code.
    pub ma_ho_so: String,
    /// `trangThai`: the DVCQG status code, 1 to 10.
    pub trang_thai: u8,
    /// `thoiGianThucHien`: when, `yyyy-MM-dd HH:mm:ss`.
    pub thoi_gian_thuc_hien: String,
    /// `nguoiXuLy`: the official who handled it.
    pub nguoi_xu_ly: String,
    /// `noiDungXuLy`: what was done.
    pub noi_dung_xu_ly: String,
    /// `ngayHenTraMoi`: the new due date when it moved, else "".
    pub ngay_hen_tra_moi: String,
}

/// Every Justice answer, read liberally: civil-status answers carry
/// `statusDescription` and `value`, judicial-record answers `description` and `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// 1 success, 0 failure; a numeric string is read as its number.
    #[serde(deserialize_with = "number_or_string")]
    pub status: i64,
    /// Human text (`statusDescription`, or `description` in judicial records).
    #[serde(default, alias = "description")]
    pub status_description: String,
    /// Civil status: the record id (push), the token (login), the updates (poll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Judicial records: the request's id at the ministry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<Value>,
    /// Why it failed; see [`code`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// The field a validation failure is about, as a path such as `data.ngaySinh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_field: Option<String>,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let number = match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    number.ok_or_else(|| serde::de::Error::custom("status must be a number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_written_in_local_time() {
        let d = VnDateTime::parse("2026-11-22T01:30:05Z").unwrap();
        assert_eq!(wire_date(&d), "2026-11-22");
        assert_eq!(wire_date_time(&d), "2026-11-22 08:30:05");
    }

    #[test]
    fn answers_of_both_services_read_alike() {
        let a: Answer = serde_json::from_str(r#"{"status":"1","description":"ok","id":42}"#).unwrap();
        assert_eq!((a.status, a.status_description.as_str()), (1, "ok"));
        let a: Answer = serde_json::from_str(r#"{"status":0,"statusDescription":"x","errorCode":"HT-01"}"#).unwrap();
        assert_eq!(a.error_code.as_deref(), Some("HT-01"));
        assert!(serde_json::from_str::<Answer>(r#"{"statusDescription":"no status"}"#).is_err());
        assert!(serde_json::from_str::<Answer>(r#"{"status":"yes"}"#).is_err());
    }

    #[test]
    fn debug_never_shows_personal_data_or_secrets() {
        let k: KhaiSinh = serde_json::from_value(serde_json::json!({
            "hoTen": "Trần Minh Khôi", "ngaySinh": "", "gioiTinh": 1, "noiSinh": "", "danToc": "", "quocTich": "",
            "hoTenCha": "", "hoTenMe": "", "nycHoTen": "", "nycSoGiayTo": "001190012345", "nycSoDienThoai": "",
            "nycEmail": ""
        }))
        .unwrap();
        let shown = format!("{k:?}");
        assert!(!shown.contains("Khôi") && !shown.contains("0011"), "{shown}");
        let t = TokenRequest { username: "u".into(), password: "secret".into() };
        assert!(!format!("{t:?}").contains("secret"));
        let v = TokenValue { token: "tok".into(), expires_in: 1 };
        assert!(!format!("{v:?}").contains("tok\""));
    }
}
