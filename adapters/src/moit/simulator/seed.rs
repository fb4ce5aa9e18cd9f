//! What the simulated MOIT holds from the start (a few licences) and how its
//! staff word each processing step.

use schemas::VnDateTime;

use crate::moit::wire::{DiaDiem, HistoryItem, Licence, LicenceState, MoitState};

fn address(street: &str, ward: &str, province: &str) -> Option<DiaDiem> {
    Some(DiaDiem { so_nha_duong: street.into(), phuong_xa: ward.into(), tinh_thanh_pho: province.into() })
}

/// The licences every fresh simulator knows: one in force, one expired, one revoked.
pub(super) fn seed_licences() -> Vec<Licence> {
    vec![
        Licence {
            so_giay_phep: "15/2025/GPBLR-SCT".into(),
            loai_giay_phep: "BAN_LE_RUOU".into(),
            ten_thuong_nhan: "Công ty TNHH Thương mại Dịch vụ Hải Đăng Khánh Hòa".into(),
            ma_so_thue: "4201876543".into(),
            dia_diem_kinh_doanh: address("12 Trần Phú", "Phường Nha Trang", "Tỉnh Khánh Hòa"),
            ngay_cap: "2025-03-01T10:00:00+07:00".into(),
            hieu_luc_tu: "2025-03-01T00:00:00+07:00".into(),
            hieu_luc_den: Some("2030-03-01T00:00:00+07:00".into()),
            trang_thai: LicenceState::ConHieuLuc,
            ma_ho_so: None,
        },
        Licence {
            so_giay_phep: "08/2020/GPBLR-SCT".into(),
            loai_giay_phep: "BAN_LE_RUOU".into(),
            ten_thuong_nhan: "Công ty Cổ phần Rượu Bia Sông Hàn".into(),
            ma_so_thue: "0401234567".into(),
            dia_diem_kinh_doanh: address("45 Bạch Đằng", "Phường Hải Châu", "Thành phố Đà Nẵng"),
            ngay_cap: "2020-01-15T14:30:00+07:00".into(),
            hieu_luc_tu: "2020-01-15T00:00:00+07:00".into(),
            hieu_luc_den: Some("2025-01-15T00:00:00+07:00".into()),
            trang_thai: LicenceState::HetHieuLuc,
            ma_ho_so: None,
        },
        Licence {
            so_giay_phep: "22/2024/GPBLR-SCT".into(),
            loai_giay_phep: "BAN_LE_RUOU".into(),
            ten_thuong_nhan: "Công ty TNHH Đồ uống Phương Nam".into(),
            ma_so_thue: "0312345678-001".into(),
            dia_diem_kinh_doanh: address("210 Nguyễn Trãi", "Phường Bến Thành", "Thành phố Hồ Chí Minh"),
            ngay_cap: "2024-06-01T09:00:00+07:00".into(),
            hieu_luc_tu: "2024-06-01T00:00:00+07:00".into(),
            hieu_luc_den: Some("2029-06-01T00:00:00+07:00".into()),
            trang_thai: LicenceState::BiThuHoi,
            ma_ho_so: None,
        },
    ]
}

/// A processing step entering `state` at `at`, worded as MOIT's staff would;
/// `due` is the step's deadline when there is one.
pub(super) fn step(state: MoitState, at: VnDateTime, due: Option<VnDateTime>) -> HistoryItem {
    const ONE_STOP: &str = "Bộ phận Một cửa, Bộ Công Thương";
    const MARKET: &str = "Vụ Thị trường trong nước";
    let (department, official, content) = match state {
        MoitState::ChoTiepNhan => (ONE_STOP, false, "Hồ sơ chờ tiếp nhận"),
        MoitState::DaTiepNhan => (ONE_STOP, false, "Tiếp nhận hồ sơ liên thông từ Cổng dịch vụ công cấp tỉnh"),
        MoitState::TuChoiTiepNhan => (ONE_STOP, true, "Từ chối tiếp nhận: hồ sơ không thuộc thẩm quyền"),
        MoitState::DangThamDinh => (MARKET, true, "Chuyển hồ sơ đến phòng chuyên môn thẩm định"),
        MoitState::YeuCauBoSung => (MARKET, true, "Đề nghị bổ sung bản sao hợp đồng thuê địa điểm kinh doanh"),
        MoitState::ChoNopPhi => (ONE_STOP, true, "Thông báo nộp phí thẩm định"),
        MoitState::DaRut => (ONE_STOP, true, "Thương nhân đề nghị rút hồ sơ"),
        MoitState::DungXuLy => (MARKET, true, "Dừng xử lý hồ sơ"),
        MoitState::DaCapPhep => (MARKET, true, "Lãnh đạo Vụ ký giấy phép"),
        MoitState::KhongCapPhep => (MARKET, true, "Không cấp phép: địa điểm chưa đáp ứng điều kiện"),
        MoitState::DaTraKetQua => (ONE_STOP, true, "Trả kết quả qua Cổng dịch vụ công"),
    };
    HistoryItem {
        trang_thai: state,
        thoi_diem: at.to_rfc3339(),
        don_vi_xu_ly: Some(department.into()),
        can_bo_xu_ly: official.then(|| "Trần Thu Hà".into()),
        chuc_danh: official.then(|| "Chuyên viên".into()),
        noi_dung: Some(content.into()),
        bat_dau: Some(at.to_rfc3339()),
        han_xu_ly: due.map(|d| d.to_rfc3339()),
        ngay_hen_tra_moi: None,
    }
}
