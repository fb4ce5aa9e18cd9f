//! The canonical dossier: what every dialect normalises into.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{AgencyId, MaHoSo, MaTTHC, Payload, TrangThaiHoSo, VnDateTime};

/// How the dossier was filed (`KenhThucHien`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 1: in person at a one-stop shop.
    InPerson,
    /// 2: online.
    Online,
    /// 3: through the public postal service.
    Postal,
}

impl Channel {
    /// The DVCQG code (1 to 3).
    pub fn code(self) -> u8 {
        match self {
            Self::InPerson => 1,
            Self::Online => 2,
            Self::Postal => 3,
        }
    }

    /// The channel with the given DVCQG code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::InPerson),
            2 => Some(Self::Online),
            3 => Some(Self::Postal),
            _ => None,
        }
    }
}

/// Who owns the dossier (`LoaiDoiTuong`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    /// 1: a citizen.
    Citizen,
    /// 2: an enterprise or organisation.
    Enterprise,
}

impl SubjectKind {
    /// The DVCQG code (1 or 2).
    pub fn code(self) -> u8 {
        match self {
            Self::Citizen => 1,
            Self::Enterprise => 2,
        }
    }

    /// The subject kind with the given DVCQG code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Citizen),
            2 => Some(Self::Enterprise),
            _ => None,
        }
    }
}

/// The dossier's owner. Holds personal data: its `Debug` masks it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// Full name (`ChuHoSo`).
    pub name: String,
    /// Identity document number (`SoGiayToChuHoSo`).
    pub id_number: Option<String>,
    /// Citizen or enterprise (`LoaiDoiTuong`).
    pub kind: SubjectKind,
    /// Subject code (`MaDoiTuong`).
    pub subject_code: Option<String>,
    /// E-mail (`Email`).
    pub email: Option<String>,
    /// Fax (`Fax`).
    pub fax: Option<String>,
    /// Telephone (`SoDienThoai`).
    pub phone: Option<String>,
    /// Other details (`ThongTinKhac`).
    pub other: Option<String>,
}

/// Keeps the last `keep` characters of a value and masks the rest.
pub fn mask(value: &str, keep: usize) -> String {
    let n = value.chars().count();
    value.chars().enumerate().map(|(i, c)| if i + keep < n { '*' } else { c }).collect()
}

impl fmt::Debug for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = |v: &Option<String>| v.as_deref().map(|s| mask(s, 3));
        f.debug_struct("Owner")
            .field("name", &mask(&self.name, 0))
            .field("id_number", &m(&self.id_number))
            .field("kind", &self.kind)
            .field("email", &self.email.as_ref().map(|_| "***"))
            .field("phone", &m(&self.phone))
            .finish_non_exhaustive()
    }
}

/// A submitted file (`TaiLieuNop/TepDinhKem`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The portal's file id (`TepDinhKemId`).
    pub id: Option<String>,
    /// File name (`TenTepDinhKem`).
    pub name: String,
    /// Dossier component code (`MaThanhPhanHoSo`).
    pub component_code: Option<String>,
    /// Download URL (`DuongDanTaiTepTin`).
    pub url: Option<String>,
    /// The file itself, base64, when the portal sends it inline (`DuLieuTep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_base64: Option<String>,
}

/// A fee or charge (`DanhSachLePhi/LePhi`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fee {
    /// Name (`TenPhiLePhi`).
    pub name: String,
    /// Code (`MaPhiLePhi`).
    pub code: Option<String>,
    /// How it is collected (`HinhThucThu`).
    pub collection: Option<String>,
    /// Amount in đồng (`Gia`).
    pub amount_vnd: u64,
    /// Kind (`LoaiPhiLePhi`).
    pub kind: Option<String>,
}

/// A dossier in canonical form: validated, typed, dates as instants in Vietnam's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dossier {
    /// Dossier code (`MaHoSo`).
    pub code: MaHoSo,
    /// Procedure code (`MaTTHC`).
    pub procedure_code: MaTTHC,
    /// Procedure name (`TenTTHC`).
    pub procedure_name: String,
    /// Field code (`MaLinhVuc`).
    pub field_code: Option<String>,
    /// Field name (`TenLinhVuc`).
    pub field_name: Option<String>,
    /// Receipt number given at the one-stop shop (`SoBienNhan`).
    pub receipt_number: Option<String>,
    /// Filing channel (`KenhThucHien`).
    pub channel: Channel,
    /// The owner and their contact details.
    pub owner: Owner,
    /// Summary (`TrichYeuHoSo`).
    pub summary: Option<String>,
    /// Filed at (`NgayNopHoSo`).
    pub submitted_at: Option<VnDateTime>,
    /// Received at (`NgayTiepNhan`).
    pub received_at: VnDateTime,
    /// Due at (`NgayHenTra`).
    pub due_at: VnDateTime,
    /// Result returned at (`NgayTra`).
    pub returned_at: Option<VnDateTime>,
    /// Processing finished at (`NgayKetThucXuLy`).
    pub finished_at: Option<VnDateTime>,
    /// Refused at (`NgayTuChoi`).
    pub rejected_at: Option<VnDateTime>,
    /// Status at the portal when sent (`TrangThaiHoSo`).
    pub status: Option<TrangThaiHoSo>,
    /// Handling unit (`DonViXuLy`).
    pub handling_unit: Option<String>,
    /// Note (`GhiChu`).
    pub note: Option<String>,
    /// Result information (`ThongTinTra`).
    pub result_info: Option<String>,
    /// How the result is returned (`HinhThuc`).
    pub return_form: Option<String>,
    /// Explicit target agency (`CoQuanDich`), overriding the routing table.
    pub target_agency: Option<AgencyId>,
    /// Submitted files (`TaiLieuNop`).
    pub files: Vec<Attachment>,
    /// Fees (`DanhSachLePhi`).
    pub fees: Vec<Fee>,
    /// The agency-specific business data (`DuLieuNghiepVu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Payload>,
}

impl Dossier {
    /// SHA-256 of the canonical JSON form: equal for the same content whatever the
    /// dialect or formatting it arrived in.
    pub fn content_hash(&self) -> [u8; 32] {
        self.canonical().map_or_else(|_| Sha256::digest(b"").into(), |(_, hash)| hash)
    }

    /// The canonical JSON form and its SHA-256 ([`Dossier::content_hash`]),
    /// serialised once for both.
    pub fn canonical(&self) -> Result<(String, [u8; 32]), serde_json::Error> {
        let json = serde_json::to_string(self)?;
        let hash = Sha256::digest(json.as_bytes()).into();
        Ok((json, hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_is_the_json_and_its_hash_the_content_hash() {
        let d = crate::dossier_from_json(include_bytes!("../examples/khai-sinh.json")).unwrap();
        let (json, hash) = d.canonical().unwrap();
        assert_eq!(json, serde_json::to_string(&d).unwrap());
        assert_eq!(hash, d.content_hash());
        assert_eq!(hash, <[u8; 32]>::from(Sha256::digest(json.as_bytes())));
    }

    #[test]
    fn mask_keeps_the_tail() {
        assert_eq!(mask("079123456789", 3), "*********789");
        assert_eq!(mask("ab", 3), "ab");
    }
}
