//! The agency-specific part of a dossier (`DuLieuNghiepVu`): a typed, validated
//! payload per kind of procedure, so that adapters never read untyped blobs.

use serde::{Deserialize, Serialize};

use crate::VnDateTime;

/// The business data of a dossier, one variant per kind of procedure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Payload {
    /// Enterprise registration (`DangKyDoanhNghiep`), decided by Planning & Investment.
    BusinessRegistration(BusinessRegistration),
    /// A licence or notification of Industry & Trade (`GiayPhepCongThuong`).
    TradeLicence(TradeLicence),
    /// A civil-status registration (`HoTich`), decided by Justice.
    CivilStatus(CivilStatus),
    /// A judicial-record certificate request (`LyLichTuPhap`), decided by Justice.
    JudicialRecord(JudicialRecordRequest),
}

/// Which payload a procedure needs; the wire name is the element under `DuLieuNghiepVu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PayloadKind {
    /// `DangKyDoanhNghiep`.
    BusinessRegistration,
    /// `GiayPhepCongThuong`.
    TradeLicence,
    /// `HoTich`.
    CivilStatus,
    /// `LyLichTuPhap`.
    JudicialRecord,
}

impl PayloadKind {
    /// Every kind.
    pub const ALL: [PayloadKind; 4] =
        [Self::BusinessRegistration, Self::TradeLicence, Self::CivilStatus, Self::JudicialRecord];

    /// The element name under `DuLieuNghiepVu`.
    pub fn wire_name(self) -> &'static str {
        match self {
            Self::BusinessRegistration => "DangKyDoanhNghiep",
            Self::TradeLicence => "GiayPhepCongThuong",
            Self::CivilStatus => "HoTich",
            Self::JudicialRecord => "LyLichTuPhap",
        }
    }

    /// The kind with the given wire name, or config name (`business_registration`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.wire_name() == name || k.config_name() == name)
    }

    /// The snake_case name used in configuration.
    pub fn config_name(self) -> &'static str {
        match self {
            Self::BusinessRegistration => "business_registration",
            Self::TradeLicence => "trade_licence",
            Self::CivilStatus => "civil_status",
            Self::JudicialRecord => "judicial_record",
        }
    }
}

impl Payload {
    /// The payload's kind.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Self::BusinessRegistration(_) => PayloadKind::BusinessRegistration,
            Self::TradeLicence(_) => PayloadKind::TradeLicence,
            Self::CivilStatus(_) => PayloadKind::CivilStatus,
            Self::JudicialRecord(_) => PayloadKind::JudicialRecord,
        }
    }
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// House number and street (`SoNhaDuong`).
    pub street: String,
    /// Ward or commune (`PhuongXa`).
    pub ward: String,
    /// Province or centrally-run city (`TinhThanhPho`).
    pub province: String,
}

/// Legal form of an enterprise (`LoaiHinhDoanhNghiep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnterpriseType {
    /// `TNHH1TV`: single-member limited liability company.
    SingleMemberLlc,
    /// `TNHH2TV`: multi-member limited liability company.
    MultiMemberLlc,
    /// `CP`: joint-stock company.
    JointStock,
    /// `HD`: partnership.
    Partnership,
    /// `DNTN`: private enterprise.
    PrivateEnterprise,
}

impl EnterpriseType {
    /// Every type with its wire code.
    pub const CODES: [(&'static str, EnterpriseType); 5] = [
        ("TNHH1TV", Self::SingleMemberLlc),
        ("TNHH2TV", Self::MultiMemberLlc),
        ("CP", Self::JointStock),
        ("HD", Self::Partnership),
        ("DNTN", Self::PrivateEnterprise),
    ];

    /// The wire code.
    pub fn code(self) -> &'static str {
        Self::CODES.iter().find(|(_, t)| *t == self).map_or("", |(c, _)| c)
    }

    /// The type with the given wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::CODES.iter().find(|(c, _)| *c == code).map(|(_, t)| *t)
    }
}

/// The enterprise's legal representative (`NguoiDaiDienPhapLuat`). Personal data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Representative {
    /// Full name (`HoTen`).
    pub full_name: String,
    /// Title, such as Giám đốc (`ChucDanh`).
    pub title: String,
    /// Identity document number (`SoGiayTo`).
    pub id_number: String,
}

impl std::fmt::Debug for Representative {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Representative")
            .field("title", &self.title)
            .field("id_number", &crate::mask(&self.id_number, 3))
            .finish_non_exhaustive()
    }
}

/// One registered business line (`NganhNghe/Nganh`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessLine {
    /// VSIC 2018 code, level 4 (four digits) or level 5 (five digits) (`MaNganh`).
    pub vsic_code: String,
    /// Name of the line (`TenNganh`).
    pub name: String,
    /// Whether this is the main line (`LaNganhChinh`, `1` or `0`); exactly one is.
    pub main: bool,
}

/// Enterprise registration (`DangKyDoanhNghiep`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessRegistration {
    /// Proposed Vietnamese name (`TenDoanhNghiep`).
    pub enterprise_name: String,
    /// Proposed name in a foreign language (`TenTiengNuocNgoai`).
    pub foreign_name: Option<String>,
    /// Legal form (`LoaiHinhDoanhNghiep`).
    pub enterprise_type: EnterpriseType,
    /// Charter capital in đồng (`VonDieuLe`).
    pub charter_capital_vnd: u64,
    /// Head office (`DiaChiTruSo`).
    pub head_office: Address,
    /// Legal representative (`NguoiDaiDienPhapLuat`).
    pub legal_representative: Representative,
    /// Business lines (`NganhNghe`), at least one, exactly one main.
    pub business_lines: Vec<BusinessLine>,
}

/// The kind of Industry & Trade procedure (`LoaiThuTuc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeLicenceKind {
    /// `BAN_LE_RUOU`: licence to retail alcohol.
    AlcoholRetail,
    /// `KHUYEN_MAI`: notification of a sales promotion.
    PromotionNotice,
}

impl TradeLicenceKind {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            Self::AlcoholRetail => "BAN_LE_RUOU",
            Self::PromotionNotice => "KHUYEN_MAI",
        }
    }

    /// The kind with the given wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "BAN_LE_RUOU" => Some(Self::AlcoholRetail),
            "KHUYEN_MAI" => Some(Self::PromotionNotice),
            _ => None,
        }
    }
}

/// A licence or notification of Industry & Trade (`GiayPhepCongThuong`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeLicence {
    /// Which procedure (`LoaiThuTuc`).
    pub licence_kind: TradeLicenceKind,
    /// The trader's name (`TenThuongNhan`).
    pub trader_name: String,
    /// Tax code, 10 digits or 10 digits, `-` and 3 digits (`MaSoThue`).
    pub tax_code: String,
    /// Place of business (`DiaDiemKinhDoanh`).
    pub business_address: Address,
    /// What is asked for: products, promotion content (`NoiDungDeNghi`).
    pub request: String,
    /// Start of the licence or promotion (`ThoiGianBatDau`).
    pub valid_from: Option<VnDateTime>,
    /// End of the licence or promotion (`ThoiGianKetThuc`), not before the start.
    pub valid_to: Option<VnDateTime>,
}

/// Sex as civil-status records carry it (`GioiTinh`: 1 male, 2 female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    /// 1.
    Male,
    /// 2.
    Female,
}

impl Sex {
    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Self::Male => 1,
            Self::Female => 2,
        }
    }

    /// The sex with the given wire code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "1" => Some(Self::Male),
            "2" => Some(Self::Female),
            _ => None,
        }
    }
}

/// A civil-status registration (`HoTich`): exactly one of birth or death.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum CivilStatus {
    /// Birth registration (`KhaiSinh`).
    Birth(BirthRegistration),
    /// Death registration (`KhaiTu`).
    Death(DeathRegistration),
}

/// Birth registration (`HoTich/KhaiSinh`). Personal data throughout.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BirthRegistration {
    /// The child's full name (`HoTen`).
    pub full_name: String,
    /// Date of birth (`NgaySinh`), not in the future.
    pub birth_date: VnDateTime,
    /// Sex (`GioiTinh`).
    pub sex: Sex,
    /// Place of birth (`NoiSinh`).
    pub birth_place: String,
    /// Ethnicity (`DanToc`).
    pub ethnicity: Option<String>,
    /// Nationality (`QuocTich`), default Việt Nam.
    pub nationality: String,
    /// Father's full name (`HoTenCha`).
    pub father_name: Option<String>,
    /// Mother's full name (`HoTenMe`).
    pub mother_name: Option<String>,
}

impl std::fmt::Debug for BirthRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BirthRegistration").field("sex", &self.sex).finish_non_exhaustive()
    }
}

/// Death registration (`HoTich/KhaiTu`). Personal data throughout.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeathRegistration {
    /// The deceased's full name (`HoTen`).
    pub full_name: String,
    /// The deceased's identity document number (`SoGiayTo`).
    pub id_number: Option<String>,
    /// Date and time of death (`NgayChet`), not in the future.
    pub death_date: VnDateTime,
    /// Place of death (`NoiChet`).
    pub death_place: String,
    /// Cause (`NguyenNhan`).
    pub cause: Option<String>,
}

impl std::fmt::Debug for DeathRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeathRegistration").finish_non_exhaustive()
    }
}

/// One period of residence (`QuaTrinhCuTru/GiaiDoan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResidencePeriod {
    /// From (`TuNgay`).
    pub from: VnDateTime,
    /// To (`DenNgay`); absent for the current residence.
    pub to: Option<VnDateTime>,
    /// Where (`NoiCuTru`).
    pub place: String,
}

/// A judicial-record certificate request (`LyLichTuPhap`). Personal data throughout.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudicialRecordRequest {
    /// Certificate form 1 or 2 (`LoaiPhieu`).
    pub form: u8,
    /// Full name (`HoTen`).
    pub full_name: String,
    /// Date of birth (`NgaySinh`).
    pub birth_date: VnDateTime,
    /// Sex (`GioiTinh`).
    pub sex: Sex,
    /// Place of birth (`NoiSinh`).
    pub birth_place: String,
    /// Nationality (`QuocTich`).
    pub nationality: String,
    /// Identity document number (`SoGiayTo`).
    pub id_number: String,
    /// Permanent residence (`NoiThuongTru`).
    pub permanent_residence: String,
    /// What the certificate is for (`MucDichSuDung`).
    pub purpose: String,
    /// Residence history (`QuaTrinhCuTru`), oldest first.
    pub residence_history: Vec<ResidencePeriod>,
}

impl std::fmt::Debug for JudicialRecordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JudicialRecordRequest").field("form", &self.form).finish_non_exhaustive()
    }
}
