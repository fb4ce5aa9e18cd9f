//! The canonical status event: one DVCQG processing-history item (`QuaTrinhXuLy`).

use serde::{Deserialize, Serialize};

use crate::{MaHoSo, TrangThaiHoSo, VnDateTime};

/// A step in a dossier's processing, whoever reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    /// The dossier (`MaHoSo`).
    pub dossier: MaHoSo,
    /// The state it entered (`TrangThai`).
    pub status: TrangThaiHoSo,
    /// When (`ThoiDiemXuLy`).
    pub at: VnDateTime,
    /// Who handled it (`NguoiXuLy`).
    pub handler: Option<String>,
    /// The handler's title (`ChucDanh`).
    pub handler_title: Option<String>,
    /// The handling department (`PhongBanXuLy`).
    pub department: Option<String>,
    /// What was done (`NoiDungXuLy`).
    pub content: Option<String>,
    /// When this step started (`NgayBatDau`).
    pub started_at: Option<VnDateTime>,
    /// When this step is due by regulation (`NgayKetThucTheoQuyDinh`).
    pub step_due_at: Option<VnDateTime>,
    /// The dossier's new due date, when a supplement request moves it.
    pub new_due_at: Option<VnDateTime>,
}
