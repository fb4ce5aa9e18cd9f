//! DVCQG messages as they travel: every value a string, dates `yyyyMMddHHmmss`.
//!
//! The field tables below are the single description of what a valid message
//! holds; the simulator validates against them and a test proves they agree with
//! `schemas/agencies/dvcqg/dongbohoso.schema.json`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Exchanges a username and password for a session.
pub const LOGIN_PATH: &str = "/api/auth/login";
/// Synchronises a dossier (`DongBoHoSoMC`).
pub const SYNC_PATH: &str = "/api/hoso/DongBoHoSoMC";
/// Looks a dossier and its processing history up (`TraCuuHoSo`).
pub const LOOKUP_PATH: &str = "/api/hoso/TraCuuHoSo";
/// Adds processing-history items to dossiers (`CapNhatTienDoHoSoMC`).
pub const PROGRESS_PATH: &str = "/api/hoso/CapNhatTienDoHoSoMC";

/// The `error_code` values of DVCQG answers.
pub mod code {
    /// Success.
    pub const OK: &str = "0";
    /// The session is unknown or expired: log in again.
    pub const SESSION_INVALID: &str = "-1";
    /// Login refused: wrong username or password.
    pub const LOGIN_REFUSED: &str = "1";
    /// The request is not JSON, has the wrong shape, or a value is not a string.
    pub const MALFORMED: &str = "2";
    /// A required field is missing or a value is invalid; the message names the field.
    pub const INVALID_FIELD: &str = "3";
    /// The dossier was already synchronised (with `isUpdating` "false").
    pub const ALREADY_SYNCED: &str = "4";
    /// No such dossier.
    pub const NOT_FOUND: &str = "5";
    /// The system is busy: try again later.
    pub const BUSY: &str = "99";
}

/// What a field of a DVCQG object carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireKind {
    /// Free text.
    Text,
    /// A date, `yyyyMMddHHmmss` in Vietnam's local time.
    Date,
    /// A numeric code in an inclusive range, written in decimal.
    Code(u8, u8),
    /// A non-negative whole number, as digits.
    Digits,
    /// A list of objects with the given fields.
    List(&'static [WireField]),
}

/// One field of a DVCQG object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireField {
    /// The JSON key.
    pub name: &'static str,
    /// Whether it must be present and not blank.
    pub required: bool,
    /// What it carries.
    pub kind: WireKind,
}

const fn w(name: &'static str, required: bool, kind: WireKind) -> WireField {
    WireField { name, required, kind }
}

use WireKind::{Code, Date, Digits, List, Text};

/// Fields of a submitted file (`TaiLieuNop` item), in wire order.
pub const FILE_FIELDS: &[WireField] = &[
    w("TepDinhKemId", false, Text),
    w("TenTepDinhKem", true, Text),
    w("MaThanhPhanHoSo", false, Text),
    w("DuongDanTaiTepTin", false, Text),
];

/// Fields of a fee (`DanhSachLePhi` item), in wire order.
pub const FEE_FIELDS: &[WireField] = &[
    w("TenPhiLePhi", true, Text),
    w("MaPhiLePhi", false, Text),
    w("HinhThucThu", false, Text),
    w("Gia", true, Digits),
    w("LoaiPhiLePhi", false, Text),
];

/// Fields of the dossier object, in the fixed order the adapter emits them.
pub const DOSSIER_FIELDS: &[WireField] = &[
    w("MaHoSo", true, Text),
    w("MaTTHC", true, Text),
    w("TenTTHC", true, Text),
    w("MaLinhVuc", false, Text),
    w("TenLinhVuc", false, Text),
    w("SoBienNhan", false, Text),
    w("KenhThucHien", true, Code(1, 3)),
    w("ChuHoSo", true, Text),
    w("SoGiayToChuHoSo", false, Text),
    w("LoaiDoiTuong", true, Code(1, 2)),
    w("MaDoiTuong", false, Text),
    w("Email", false, Text),
    w("Fax", false, Text),
    w("SoDienThoai", false, Text),
    w("ThongTinKhac", false, Text),
    w("TrichYeuHoSo", false, Text),
    w("NgayNopHoSo", false, Date),
    w("NgayTiepNhan", true, Date),
    w("NgayHenTra", true, Date),
    w("NgayTra", false, Date),
    w("NgayKetThucXuLy", false, Date),
    w("NgayTuChoi", false, Date),
    w("TrangThaiHoSo", false, Code(1, 10)),
    w("DonViXuLy", false, Text),
    w("GhiChu", false, Text),
    w("ThongTinTra", false, Text),
    w("HinhThuc", false, Text),
    w("TaiLieuNop", false, List(FILE_FIELDS)),
    w("DanhSachLePhi", false, List(FEE_FIELDS)),
];

/// Fields of a processing-history item (`QuaTrinhXuLy`), in wire order.
pub const PROGRESS_FIELDS: &[WireField] = &[
    w("MaHoSo", true, Text),
    w("NguoiXuLy", false, Text),
    w("ChucDanh", false, Text),
    w("ThoiDiemXuLy", true, Date),
    w("PhongBanXuLy", false, Text),
    w("NoiDungXuLy", false, Text),
    w("TrangThai", true, Code(1, 10)),
    w("NgayBatDau", false, Date),
    w("NgayKetThucTheoQuyDinh", false, Date),
];

/// The dossier object of `DongBoHoSoMC`; fields serialise in [`DOSSIER_FIELDS`] order.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, default)]
pub struct WireDossier {
    /// `MaHoSo`: dossier code.
    pub ma_ho_so: String,
    /// `MaTTHC`: procedure code.
    #[serde(rename = "MaTTHC")]
    pub ma_tthc: String,
    /// `TenTTHC`: procedure name.
    #[serde(rename = "TenTTHC")]
    pub ten_tthc: String,
    /// `MaLinhVuc`: field code.
    pub ma_linh_vuc: String,
    /// `TenLinhVuc`: field name.
    pub ten_linh_vuc: String,
    /// `SoBienNhan`: receipt number.
    pub so_bien_nhan: String,
    /// `KenhThucHien`: 1 in person, 2 online, 3 postal.
    pub kenh_thuc_hien: String,
    /// `ChuHoSo`: owner's name (personal data).
    pub chu_ho_so: String,
    /// `SoGiayToChuHoSo`: owner's ID number (personal data).
    pub so_giay_to_chu_ho_so: String,
    /// `LoaiDoiTuong`: 1 citizen, 2 enterprise.
    pub loai_doi_tuong: String,
    /// `MaDoiTuong`: subject code.
    pub ma_doi_tuong: String,
    /// `Email` (personal data).
    pub email: String,
    /// `Fax`.
    pub fax: String,
    /// `SoDienThoai`: telephone (personal data).
    pub so_dien_thoai: String,
    /// `ThongTinKhac`: other owner details.
    pub thong_tin_khac: String,
    /// `TrichYeuHoSo`: summary.
    pub trich_yeu_ho_so: String,
    /// `NgayNopHoSo`: filed at.
    pub ngay_nop_ho_so: String,
    /// `NgayTiepNhan`: received at.
    pub ngay_tiep_nhan: String,
    /// `NgayHenTra`: due at.
    pub ngay_hen_tra: String,
    /// `NgayTra`: result returned at.
    pub ngay_tra: String,
    /// `NgayKetThucXuLy`: processing finished at.
    pub ngay_ket_thuc_xu_ly: String,
    /// `NgayTuChoi`: refused at.
    pub ngay_tu_choi: String,
    /// `TrangThaiHoSo`: status code 1 to 10.
    pub trang_thai_ho_so: String,
    /// `DonViXuLy`: handling unit.
    pub don_vi_xu_ly: String,
    /// `GhiChu`: note.
    pub ghi_chu: String,
    /// `ThongTinTra`: result information.
    pub thong_tin_tra: String,
    /// `HinhThuc`: how the result is returned.
    pub hinh_thuc: String,
    /// `TaiLieuNop`: submitted files.
    pub tai_lieu_nop: Vec<WireFile>,
    /// `DanhSachLePhi`: fees.
    pub danh_sach_le_phi: Vec<WireFee>,
}

impl fmt::Debug for WireDossier {
    // The object holds personal data: show only what identifies the dossier.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WireDossier")
            .field("ma_ho_so", &self.ma_ho_so)
            .field("ma_tthc", &self.ma_tthc)
            .finish_non_exhaustive()
    }
}

/// A submitted file (`TaiLieuNop` item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, default)]
pub struct WireFile {
    /// `TepDinhKemId`: the portal's file id.
    pub tep_dinh_kem_id: String,
    /// `TenTepDinhKem`: file name.
    pub ten_tep_dinh_kem: String,
    /// `MaThanhPhanHoSo`: dossier component code.
    pub ma_thanh_phan_ho_so: String,
    /// `DuongDanTaiTepTin`: download URL.
    pub duong_dan_tai_tep_tin: String,
}

/// A fee (`DanhSachLePhi` item).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, default)]
pub struct WireFee {
    /// `TenPhiLePhi`: name.
    pub ten_phi_le_phi: String,
    /// `MaPhiLePhi`: code.
    pub ma_phi_le_phi: String,
    /// `HinhThucThu`: how it is collected.
    pub hinh_thuc_thu: String,
    /// `Gia`: amount in đồng, as digits.
    pub gia: String,
    /// `LoaiPhiLePhi`: kind.
    pub loai_phi_le_phi: String,
}

/// A processing-history item (`QuaTrinhXuLy`, and the items of `CapNhatTienDoHoSoMC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields, default)]
pub struct ProgressItem {
    /// `MaHoSo`: the dossier.
    pub ma_ho_so: String,
    /// `NguoiXuLy`: the official who handled it.
    pub nguoi_xu_ly: String,
    /// `ChucDanh`: the official's title.
    pub chuc_danh: String,
    /// `ThoiDiemXuLy`: when.
    pub thoi_diem_xu_ly: String,
    /// `PhongBanXuLy`: the department.
    pub phong_ban_xu_ly: String,
    /// `NoiDungXuLy`: what was done.
    pub noi_dung_xu_ly: String,
    /// `TrangThai`: the status entered, 1 to 10.
    pub trang_thai: String,
    /// `NgayBatDau`: when the step started.
    pub ngay_bat_dau: String,
    /// `NgayKetThucTheoQuyDinh`: when the step is due by regulation.
    pub ngay_ket_thuc_theo_quy_dinh: String,
}

/// Body of `POST /api/auth/login`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The account name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest").field("username", &self.username).finish_non_exhaustive()
    }
}

/// Body of `DongBoHoSoMC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    /// The session from login.
    pub session: String,
    /// The sending unit's code.
    pub madonvi: String,
    /// "false" for a new dossier, "true" to replace one already synchronised.
    #[serde(rename = "isUpdating")]
    pub is_updating: String,
    /// The dossiers; the gateway always sends exactly one.
    pub data: Vec<WireDossier>,
}

/// Body of `TraCuuHoSo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupRequest {
    /// The session from login.
    pub session: String,
    /// The asking unit's code.
    pub madonvi: String,
    /// The dossier looked up.
    #[serde(rename = "MaHoSo")]
    pub ma_ho_so: String,
}

/// Body of `CapNhatTienDoHoSoMC`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressRequest {
    /// The session from login.
    pub session: String,
    /// The sending unit's code.
    pub madonvi: String,
    /// The processing-history items.
    pub data: Vec<ProgressItem>,
}

/// Every DVCQG answer: an `error_code` and whatever the call returns besides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// "0" for success; see [`code`]. A number is read as its text.
    #[serde(deserialize_with = "string_or_number")]
    pub error_code: String,
    /// Human text; names a field, never repeats a value.
    #[serde(default)]
    pub message: String,
    /// `DongBoHoSoMC`: DVCQG's id for the dossier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Login: the session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// Login: the session's lifetime in seconds, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<String>,
    /// `TraCuuHoSo`: the dossier object with its `QuaTrinhXuLy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
}

impl Answer {
    /// An answer with just a code and a message.
    pub fn new(error_code: &str, message: impl Into<String>) -> Self {
        Self { error_code: error_code.to_owned(), message: message.into(), ..Self::default() }
    }
}

fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        S(String),
        I(i64),
    }
    Ok(match Either::deserialize(d)? {
        Either::S(s) => s,
        Either::I(i) => i.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_dossier_serialises_every_field_in_table_order() {
        let v = serde_json::to_value(WireDossier::default()).unwrap();
        let text = serde_json::to_string(&WireDossier::default()).unwrap();
        let mut at = 0;
        for f in DOSSIER_FIELDS {
            let needle = format!("\"{}\":", f.name);
            let pos = text[at..].find(&needle).unwrap_or_else(|| panic!("{} out of order", f.name));
            at += pos;
            assert!(v.get(f.name).is_some());
        }
        assert_eq!(v.as_object().unwrap().len(), DOSSIER_FIELDS.len());
        let item = serde_json::to_string(&ProgressItem::default()).unwrap();
        let names: Vec<&str> = PROGRESS_FIELDS.iter().map(|f| f.name).collect();
        let keys: Vec<String> = item.split('"').skip(1).step_by(4).map(str::to_owned).collect();
        assert_eq!(keys, names);
    }

    #[test]
    fn answers_accept_numeric_codes() {
        let a: Answer = serde_json::from_str(r#"{"error_code":0,"id":"x"}"#).unwrap();
        assert_eq!(a.error_code, "0");
        assert_eq!(a.id.as_deref(), Some("x"));
        assert!(serde_json::from_str::<Answer>(r#"{"message":"no code"}"#).is_err());
    }

    #[test]
    fn debug_never_shows_personal_data() {
        let d = WireDossier { chu_ho_so: "Nguyễn Văn A".into(), ..WireDossier::default() };
        assert!(!format!("{d:?}").contains("Nguyễn"));
        let l = LoginRequest { username: "u".into(), password: "secret".into() };
        assert!(!format!("{l:?}").contains("secret"));
    }
}
