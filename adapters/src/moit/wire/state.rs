//! The states MOIT gives dossiers and licences, and what they mean canonically.

use schemas::TrangThaiHoSo;
use serde::{Deserialize, Serialize};

/// A dossier's state at MOIT (`trangThai`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MoitState {
    /// Registered, not yet received (1).
    ChoTiepNhan,
    /// Received (2).
    DaTiepNhan,
    /// Refused at receipt (3).
    TuChoiTiepNhan,
    /// Being appraised (4).
    DangThamDinh,
    /// Supplement requested (5); the due date may move.
    YeuCauBoSung,
    /// Waiting for the fee (6).
    ChoNopPhi,
    /// Withdrawn by the applicant (7).
    DaRut,
    /// Processing stopped (8).
    DungXuLy,
    /// Licence issued (9).
    DaCapPhep,
    /// Licence refused after appraisal (9: processing finished, negative result).
    KhongCapPhep,
    /// Result handed over (10).
    DaTraKetQua,
}

impl MoitState {
    /// Every state with its wire code.
    pub const ALL: [(MoitState, &'static str); 11] = [
        (Self::ChoTiepNhan, "CHO_TIEP_NHAN"),
        (Self::DaTiepNhan, "DA_TIEP_NHAN"),
        (Self::TuChoiTiepNhan, "TU_CHOI_TIEP_NHAN"),
        (Self::DangThamDinh, "DANG_THAM_DINH"),
        (Self::YeuCauBoSung, "YEU_CAU_BO_SUNG"),
        (Self::ChoNopPhi, "CHO_NOP_PHI"),
        (Self::DaRut, "DA_RUT"),
        (Self::DungXuLy, "DUNG_XU_LY"),
        (Self::DaCapPhep, "DA_CAP_PHEP"),
        (Self::KhongCapPhep, "KHONG_CAP_PHEP"),
        (Self::DaTraKetQua, "DA_TRA_KET_QUA"),
    ];

    /// The wire code, such as `DANG_THAM_DINH`.
    pub fn code(self) -> &'static str {
        Self::ALL.iter().find(|(s, _)| *s == self).map_or("", |(_, c)| c)
    }

    /// The state with the given wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, c)| *c == code).map(|(s, _)| *s)
    }

    /// The DVCQG status this state means.
    pub fn trang_thai(self) -> TrangThaiHoSo {
        use TrangThaiHoSo as T;
        match self {
            Self::ChoTiepNhan => T::MoiDangKy,
            Self::DaTiepNhan => T::DuocTiepNhan,
            Self::TuChoiTiepNhan => T::KhongDuocTiepNhan,
            Self::DangThamDinh => T::DangXuLy,
            Self::YeuCauBoSung => T::YeuCauBoSung,
            Self::ChoNopPhi => T::YeuCauNghiaVuTaiChinh,
            Self::DaRut => T::RutHoSo,
            Self::DungXuLy => T::DungXuLy,
            Self::DaCapPhep | Self::KhongCapPhep => T::DaXuLyXong,
            Self::DaTraKetQua => T::DaTraKetQua,
        }
    }
}

/// A licence's state (`trangThai` of a licence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LicenceState {
    /// In force.
    ConHieuLuc,
    /// Past its end date.
    HetHieuLuc,
    /// Suspended.
    TamDung,
    /// Revoked.
    BiThuHoi,
}

impl LicenceState {
    /// Every state with its wire code and normalised label.
    pub const ALL: [(LicenceState, &'static str, &'static str); 4] = [
        (Self::ConHieuLuc, "CON_HIEU_LUC", "valid"),
        (Self::HetHieuLuc, "HET_HIEU_LUC", "expired"),
        (Self::TamDung, "TAM_DUNG", "suspended"),
        (Self::BiThuHoi, "BI_THU_HOI", "revoked"),
    ];

    /// The state with the given wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().find(|(_, c, _)| *c == code).map(|(s, _, _)| *s)
    }

    /// The normalised label: `valid`, `expired`, `suspended` or `revoked`.
    pub fn label(self) -> &'static str {
        Self::ALL.iter().find(|(s, _, _)| *s == self).map_or("", |(_, _, l)| l)
    }
}
