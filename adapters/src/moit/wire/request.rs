//! The body of `POST /api/v1/ho-so`: one licence application.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Body of `POST /api/v1/ho-so`: one licence application. Absent values are omitted.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoSoRequest {
    /// Dossier code at the portal.
    pub ma_ho_so: String,
    /// Procedure code.
    #[serde(rename = "maTTHC")]
    pub ma_tthc: String,
    /// Procedure name.
    #[serde(rename = "tenTTHC")]
    pub ten_tthc: String,
    /// Field code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ma_linh_vuc: Option<String>,
    /// Receipt number at the one-stop shop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub so_bien_nhan: Option<String>,
    /// `TRUC_TIEP`, `TRUC_TUYEN` or `BUU_CHINH`.
    pub kenh_nop: String,
    /// Filed at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ngay_nop: Option<String>,
    /// Received at the portal.
    pub ngay_tiep_nhan: String,
    /// Due at.
    pub ngay_hen_tra: String,
    /// Summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trich_yeu: Option<String>,
    /// The applicant and how to reach them.
    pub nguoi_nop: NguoiNop,
    /// What is applied for.
    pub giay_phep: GiayPhep,
    /// Submitted files, by name and download URL.
    pub tep_dinh_kem: Vec<TepDinhKem>,
    /// Fees.
    pub le_phi: Vec<LePhi>,
}

impl fmt::Debug for HoSoRequest {
    // The applicant's details are personal data: show only what identifies the dossier.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HoSoRequest")
            .field("ma_ho_so", &self.ma_ho_so)
            .field("ma_tthc", &self.ma_tthc)
            .field("loai_thu_tuc", &self.giay_phep.loai_thu_tuc)
            .finish_non_exhaustive()
    }
}

/// The applicant (`nguoiNop`). Personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NguoiNop {
    /// Name of the person or organisation.
    pub ho_ten: String,
    /// `CA_NHAN` or `TO_CHUC`.
    pub loai_doi_tuong: String,
    /// Identity document or enterprise number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub so_giay_to: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Telephone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub so_dien_thoai: Option<String>,
}

/// What is applied for (`giayPhep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GiayPhep {
    /// `BAN_LE_RUOU` or `KHUYEN_MAI`.
    pub loai_thu_tuc: String,
    /// The trader's name.
    pub ten_thuong_nhan: String,
    /// Tax code: 10 digits, or 10 digits, `-` and 3 digits.
    pub ma_so_thue: String,
    /// Place of business.
    pub dia_diem_kinh_doanh: DiaDiem,
    /// Products, or the promotion's content.
    pub noi_dung_de_nghi: String,
    /// Start of the licence or promotion; required for `KHUYEN_MAI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoi_gian_bat_dau: Option<String>,
    /// End of the licence or promotion; required for `KHUYEN_MAI`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thoi_gian_ket_thuc: Option<String>,
}

/// An address (`diaDiemKinhDoanh`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiaDiem {
    /// House number and street.
    pub so_nha_duong: String,
    /// Ward or commune.
    pub phuong_xa: String,
    /// Province or centrally-run city.
    pub tinh_thanh_pho: String,
}

/// A submitted file (`tepDinhKem` item): MOIT downloads it from `duongDan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TepDinhKem {
    /// File name.
    pub ten_tep: String,
    /// Dossier component code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ma_thanh_phan: Option<String>,
    /// Download URL at the portal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duong_dan: Option<String>,
}

/// A fee (`lePhi` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LePhi {
    /// Name.
    pub ten_phi: String,
    /// Code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ma_phi: Option<String>,
    /// Amount in đồng.
    pub so_tien: u64,
}

impl fmt::Debug for NguoiNop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NguoiNop").field("loai_doi_tuong", &self.loai_doi_tuong).finish_non_exhaustive()
    }
}
