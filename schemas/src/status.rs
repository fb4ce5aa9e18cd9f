//! The DVCQG dossier status list (`TrangThaiHoSo`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A dossier's processing state as DVCQG numbers it (1 to 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum TrangThaiHoSo {
    /// 1: newly registered (mới đăng ký).
    MoiDangKy = 1,
    /// 2: received (được tiếp nhận).
    DuocTiepNhan = 2,
    /// 3: not received / rejected (không được tiếp nhận).
    KhongDuocTiepNhan = 3,
    /// 4: being processed (đang xử lý).
    DangXuLy = 4,
    /// 5: supplement requested (yêu cầu bổ sung giấy tờ).
    YeuCauBoSung = 5,
    /// 6: financial obligation requested (yêu cầu thực hiện nghĩa vụ tài chính).
    YeuCauNghiaVuTaiChinh = 6,
    /// 7: withdrawn at the citizen's request (công dân yêu cầu rút hồ sơ).
    RutHoSo = 7,
    /// 8: processing stopped (dừng xử lý).
    DungXuLy = 8,
    /// 9: processing finished (đã xử lý xong).
    DaXuLyXong = 9,
    /// 10: result returned (đã trả kết quả).
    DaTraKetQua = 10,
}

impl TrangThaiHoSo {
    /// Every status, in code order.
    pub const ALL: [TrangThaiHoSo; 10] = [
        Self::MoiDangKy,
        Self::DuocTiepNhan,
        Self::KhongDuocTiepNhan,
        Self::DangXuLy,
        Self::YeuCauBoSung,
        Self::YeuCauNghiaVuTaiChinh,
        Self::RutHoSo,
        Self::DungXuLy,
        Self::DaXuLyXong,
        Self::DaTraKetQua,
    ];

    /// The status with the given DVCQG code, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// The DVCQG code (1 to 10).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Whether no further processing follows (3, 7, 8, 9, 10).
    pub fn is_final(self) -> bool {
        matches!(self, Self::KhongDuocTiepNhan | Self::RutHoSo | Self::DungXuLy | Self::DaXuLyXong | Self::DaTraKetQua)
    }

    /// A short English label, stable enough for metric labels.
    pub fn label(self) -> &'static str {
        match self {
            Self::MoiDangKy => "registered",
            Self::DuocTiepNhan => "received",
            Self::KhongDuocTiepNhan => "not_received",
            Self::DangXuLy => "processing",
            Self::YeuCauBoSung => "supplement_requested",
            Self::YeuCauNghiaVuTaiChinh => "payment_requested",
            Self::RutHoSo => "withdrawn",
            Self::DungXuLy => "stopped",
            Self::DaXuLyXong => "finished",
            Self::DaTraKetQua => "result_returned",
        }
    }
}

impl Serialize for TrangThaiHoSo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for TrangThaiHoSo {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = u8::deserialize(d)?;
        Self::from_code(code).ok_or_else(|| serde::de::Error::custom("status code must be 1 to 10"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_final_states_match_dvcqg() {
        for s in TrangThaiHoSo::ALL {
            assert_eq!(TrangThaiHoSo::from_code(s.code()), Some(s));
        }
        assert_eq!(TrangThaiHoSo::from_code(0), None);
        assert_eq!(TrangThaiHoSo::from_code(11), None);
        let finals: Vec<u8> = TrangThaiHoSo::ALL.iter().filter(|s| s.is_final()).map(|s| s.code()).collect();
        assert_eq!(finals, vec![3, 7, 8, 9, 10]);
    }
}
