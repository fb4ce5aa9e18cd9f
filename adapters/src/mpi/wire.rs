//! MPI messages as they travel: SOAP 1.1 envelopes whose body holds one element
//! of the MPI namespace, described by `schemas/agencies/mpi/dangkydoanhnghiep.xsd`.
//!
//! The field tables below are the single description, in Rust, of what a valid
//! request payload holds; the simulator validates against them and the tests prove
//! they agree with the XSD (and with `xmllint`, which reads the XSD itself).

use std::fmt;

use schemas::TrangThaiHoSo;

/// The SOAP 1.1 envelope namespace.
pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The WS-Security 1.0 extension namespace (`wsse`).
pub const WSSE_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
/// The WS-Security 1.0 utility namespace (`wsu`).
pub const WSU_NS: &str = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
/// The WS-Addressing 1.0 namespace (`wsa`).
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// The namespace of MPI's business-registration messages (the payload in the body).
pub const MPI_NS: &str = "http://dangkykinhdoanh.gov.vn/ws/dkdn/v1";
/// `wsse:Password/@Type` for a password sent as is (protected by TLS).
pub const PASSWORD_TEXT: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText";
/// `wsse:Nonce/@EncodingType`.
pub const BASE64_BINARY: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary";
/// The prefix that turns an idempotency key into a `wsa:MessageID`.
pub const MESSAGE_ID_PREFIX: &str = "urn:lienthong:idempotency:";

/// The one endpoint of the service, appended to the configured base URL.
pub const SERVICE_PATH: &str = "/dkdn/ws/DangKyDoanhNghiepService";
/// The media type of every request and answer.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";
/// How far `wsu:Created` may lie from MPI's clock, either way, in seconds.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The operations of the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// `NopHoSoDangKyDoanhNghiep`: submit a business-registration dossier.
    Submit,
    /// `TraCuuDoanhNghiep`: an enterprise by its tax code.
    LookupEnterprise,
    /// `TraCuuHoSo`: a dossier's state and processing history.
    LookupDossier,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 3] = [Self::Submit, Self::LookupEnterprise, Self::LookupDossier];

    /// The request element in the body, and the operation's name.
    pub fn element(self) -> &'static str {
        match self {
            Self::Submit => "NopHoSoDangKyDoanhNghiep",
            Self::LookupEnterprise => "TraCuuDoanhNghiep",
            Self::LookupDossier => "TraCuuHoSo",
        }
    }

    /// The answer element in the body.
    pub fn response_element(self) -> &'static str {
        match self {
            Self::Submit => "NopHoSoDangKyDoanhNghiepResponse",
            Self::LookupEnterprise => "TraCuuDoanhNghiepResponse",
            Self::LookupDossier => "TraCuuHoSoResponse",
        }
    }

    /// The action URI: the `SOAPAction` header (quoted) and `wsa:Action`.
    pub fn action(self) -> String {
        format!("{MPI_NS}/{}", self.element())
    }

    /// The operation whose request element is `name`.
    pub fn from_element(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.element() == name)
    }

    /// The fields of the request element.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Self::Submit => SUBMIT_FIELDS,
            Self::LookupEnterprise => LOOKUP_ENTERPRISE_FIELDS,
            Self::LookupDossier => LOOKUP_DOSSIER_FIELDS,
        }
    }
}

/// MPI's own error codes, carried in `detail/LoiMPI/MaLoi` of a SOAP fault.
pub mod code {
    /// Invalid credentials, or no usable `wsse:Security` header.
    pub const INVALID_CREDENTIALS: &str = "MPI-001";
    /// `wsu:Created` more than five minutes from MPI's clock, or a nonce used twice.
    pub const STALE_TOKEN: &str = "MPI-002";
    /// Not a SOAP 1.1 request MPI can read: not XML, a DOCTYPE, another encoding,
    /// no body, an unknown operation, a `SOAPAction` that does not match it.
    pub const MALFORMED: &str = "MPI-100";
    /// The payload breaks the XSD; `TruongLoi` names the field.
    pub const SCHEMA: &str = "MPI-101";
    /// The proposed enterprise name is already taken.
    pub const NAME_TAKEN: &str = "MPI-102";
    /// A business line's VSIC code is not in the VSIC 2018 list.
    pub const INVALID_VSIC: &str = "MPI-103";
    /// The business lines do not have exactly one main line.
    pub const MAIN_LINE: &str = "MPI-104";
    /// The dossier was already submitted under another idempotency key.
    pub const DUPLICATE: &str = "MPI-201";
    /// No enterprise or dossier by that key.
    pub const NOT_FOUND: &str = "MPI-301";
    /// MPI failed internally.
    pub const INTERNAL: &str = "MPI-500";
    /// MPI is busy: try again later.
    pub const BUSY: &str = "MPI-503";

    /// Every code MPI answers, for documentation and tests.
    pub const ALL: [&str; 11] = [
        INVALID_CREDENTIALS,
        STALE_TOKEN,
        MALFORMED,
        SCHEMA,
        NAME_TAKEN,
        INVALID_VSIC,
        MAIN_LINE,
        DUPLICATE,
        NOT_FOUND,
        INTERNAL,
        BUSY,
    ];

    /// Whether a fault with this code is MPI's side (`soap:Server`).
    pub fn is_server(code: &str) -> bool {
        matches!(code, INTERNAL | BUSY)
    }
}

/// MPI's dossier states (`TrangThai`) and the DVCQG status each maps to.
pub const DOSSIER_STATUSES: [(&str, TrangThaiHoSo); 10] = [
    ("MOI_NOP", TrangThaiHoSo::MoiDangKy),
    ("DA_TIEP_NHAN", TrangThaiHoSo::DuocTiepNhan),
    ("TU_CHOI_TIEP_NHAN", TrangThaiHoSo::KhongDuocTiepNhan),
    ("DANG_XU_LY", TrangThaiHoSo::DangXuLy),
    ("YEU_CAU_BO_SUNG", TrangThaiHoSo::YeuCauBoSung),
    ("CHO_NOP_PHI", TrangThaiHoSo::YeuCauNghiaVuTaiChinh),
    ("RUT_HO_SO", TrangThaiHoSo::RutHoSo),
    ("DUNG_XU_LY", TrangThaiHoSo::DungXuLy),
    ("DA_CAP_GCN", TrangThaiHoSo::DaXuLyXong),
    ("DA_TRA_KET_QUA", TrangThaiHoSo::DaTraKetQua),
];

/// The DVCQG status of an MPI dossier state.
pub fn dossier_status(mpi: &str) -> Option<TrangThaiHoSo> {
    DOSSIER_STATUSES.iter().find(|(c, _)| *c == mpi).map(|(_, s)| *s)
}

/// The MPI dossier state of a DVCQG status.
pub fn mpi_dossier_status(status: TrangThaiHoSo) -> &'static str {
    DOSSIER_STATUSES.iter().find(|(_, s)| *s == status).map_or("", |(c, _)| c)
}

/// MPI's enterprise states (`TinhTrang`) and the gateway's normalised names.
pub const ENTERPRISE_STATUSES: [(&str, &str); 3] =
    [("HOAT_DONG", "active"), ("TAM_NGUNG_KINH_DOANH", "suspended"), ("DA_GIAI_THE", "dissolved")];

/// The normalised name of an MPI enterprise state.
pub fn enterprise_status(mpi: &str) -> Option<&'static str> {
    ENTERPRISE_STATUSES.iter().find(|(c, _)| *c == mpi).map(|(_, s)| *s)
}

/// The `wsa:MessageID` of an idempotency key: [`MESSAGE_ID_PREFIX`] and the key,
/// percent-encoded outside letters, digits and `-._~:`, so any key is a URI.
pub fn message_id(idempotency_key: &str) -> String {
    let mut out = String::from(MESSAGE_ID_PREFIX);
    for b in idempotency_key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// An enterprise code (mã số doanh nghiệp), which is also its tax code: 10 digits.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TaxCode(String);

impl TaxCode {
    /// Accepts exactly ten ASCII digits.
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == 10 && value.bytes().all(|b| b.is_ascii_digit())).then(|| Self(value.to_owned()))
    }

    /// The ten digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TaxCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TaxCode({})", self.0)
    }
}

/// What a text-only element of a request carries; each is an XSD simple type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Text with at least one character other than XML whitespace and at most
    /// this many characters (`VanBan<N>` in the XSD).
    Text(u16),
    /// One of these exact values.
    Enum(&'static [&'static str]),
    /// `yyyy-MM-ddTHH:mm:ss+07:00`, a real calendar date (`ThoiDiem`).
    Date,
    /// A dossier code (`MaHoSoType`).
    DossierCode,
    /// A procedure code (`MaTTHCType`).
    ProcedureCode,
    /// Four or five digits (`MaNganhVSIC`).
    Vsic,
    /// A positive whole number of đồng without leading zeros, up to 20 digits (`SoTien`).
    Amount,
    /// Ten digits (`MaSoDoanhNghiepType`).
    TaxCode,
    /// An element holding the given child elements, in this order.
    Group(&'static [Field]),
}

/// One child element of a request element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The local name, in [`MPI_NS`].
    pub name: &'static str,
    /// Whether it must appear (`minOccurs` 1 rather than 0).
    pub required: bool,
    /// Whether it may repeat (`maxOccurs` unbounded rather than 1).
    pub repeats: bool,
    /// What it carries.
    pub kind: Kind,
}

const fn one(name: &'static str, kind: Kind) -> Field {
    Field { name, required: true, repeats: false, kind }
}

const fn opt(name: &'static str, kind: Kind) -> Field {
    Field { name, required: false, repeats: false, kind }
}

const fn many(name: &'static str, kind: Kind) -> Field {
    Field { name, required: true, repeats: true, kind }
}

use Kind::{Amount, Date, DossierCode, Enum, Group, ProcedureCode, Text, Vsic};

/// `KenhThucHien`: 1 in person, 2 online, 3 postal.
pub const CHANNELS: &[&str] = &["1", "2", "3"];
/// `LoaiDoiTuong`: 1 citizen, 2 enterprise.
pub const SUBJECT_KINDS: &[&str] = &["1", "2"];
/// `LoaiHinhDoanhNghiep`.
pub const ENTERPRISE_TYPES: &[&str] = &["TNHH1TV", "TNHH2TV", "CP", "HD", "DNTN"];
/// `LaNganhChinh`: 1 the main line, 0 another.
pub const FLAGS: &[&str] = &["0", "1"];

/// `NguoiNop`: who filed the dossier, and how to reach them (personal data).
pub const OWNER_FIELDS: &[Field] = &[
    one("HoTen", Text(255)),
    opt("SoGiayTo", Text(50)),
    one("LoaiDoiTuong", Enum(SUBJECT_KINDS)),
    opt("DienThoai", Text(50)),
    opt("Email", Text(255)),
];

/// `HoSo`: the dossier's identity at the one-stop shop.
pub const DOSSIER_FIELDS: &[Field] = &[
    one("MaHoSo", DossierCode),
    one("MaTTHC", ProcedureCode),
    one("TenTTHC", Text(500)),
    opt("SoBienNhan", Text(100)),
    one("KenhThucHien", Enum(CHANNELS)),
    opt("TrichYeu", Text(2000)),
    one("NgayTiepNhan", Date),
    one("NgayHenTra", Date),
    one("NguoiNop", Group(OWNER_FIELDS)),
];

/// `DiaChiTruSo`: the head office.
pub const ADDRESS_FIELDS: &[Field] =
    &[one("SoNhaDuong", Text(255)), one("PhuongXa", Text(255)), one("TinhThanhPho", Text(255))];

/// `NguoiDaiDienPhapLuat`: the legal representative (personal data).
pub const REPRESENTATIVE_FIELDS: &[Field] =
    &[one("HoTen", Text(255)), one("ChucDanh", Text(255)), one("SoGiayTo", Text(50))];

/// `Nganh`: one business line.
pub const LINE_FIELDS: &[Field] = &[one("MaNganh", Vsic), one("TenNganh", Text(500)), one("LaNganhChinh", Enum(FLAGS))];

/// `NganhNghe`: the business lines.
pub const LINES_FIELDS: &[Field] = &[many("Nganh", Group(LINE_FIELDS))];

/// `DangKyDoanhNghiep`: the registration itself.
pub const REGISTRATION_FIELDS: &[Field] = &[
    one("TenDoanhNghiep", Text(255)),
    opt("TenTiengNuocNgoai", Text(255)),
    one("LoaiHinhDoanhNghiep", Enum(ENTERPRISE_TYPES)),
    one("VonDieuLe", Amount),
    one("DiaChiTruSo", Group(ADDRESS_FIELDS)),
    one("NguoiDaiDienPhapLuat", Group(REPRESENTATIVE_FIELDS)),
    one("NganhNghe", Group(LINES_FIELDS)),
];

/// `TepDinhKem`: one submitted file, which MPI fetches by its URL.
pub const FILE_FIELDS: &[Field] =
    &[one("TenTepDinhKem", Text(255)), opt("MaThanhPhanHoSo", Text(50)), opt("DuongDanTaiTepTin", Text(2000))];

/// `TaiLieuNop`: the submitted files.
pub const FILES_FIELDS: &[Field] = &[many("TepDinhKem", Group(FILE_FIELDS))];

/// `NopHoSoDangKyDoanhNghiep`.
pub const SUBMIT_FIELDS: &[Field] = &[
    one("HoSo", Group(DOSSIER_FIELDS)),
    one("DangKyDoanhNghiep", Group(REGISTRATION_FIELDS)),
    opt("TaiLieuNop", Group(FILES_FIELDS)),
];

/// `TraCuuDoanhNghiep`.
pub const LOOKUP_ENTERPRISE_FIELDS: &[Field] = &[one("MaSoDoanhNghiep", Kind::TaxCode)];

/// `TraCuuHoSo`.
pub const LOOKUP_DOSSIER_FIELDS: &[Field] = &[one("MaHoSo", DossierCode)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_uris_for_any_key() {
        assert_eq!(message_id("rcpt-1:mpi"), "urn:lienthong:idempotency:rcpt-1:mpi");
        assert_eq!(message_id("a b/é"), "urn:lienthong:idempotency:a%20b%2F%C3%A9");
    }

    #[test]
    fn statuses_map_both_ways() {
        for (code, status) in DOSSIER_STATUSES {
            assert_eq!(dossier_status(code), Some(status));
            assert_eq!(mpi_dossier_status(status), code);
        }
        assert_eq!(dossier_status("XYZ"), None);
        assert_eq!(enterprise_status("DA_GIAI_THE"), Some("dissolved"));
    }

    #[test]
    fn tax_codes_are_ten_digits() {
        assert!(TaxCode::parse("0101234567").is_some());
        for bad in ["010123456", "01012345678", "010123456a", "０101234567"] {
            assert!(TaxCode::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn operations_round_trip_by_element() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_element(op.element()), Some(op));
            assert!(op.action().starts_with(MPI_NS));
        }
        assert!(code::ALL.iter().all(|c| c.starts_with("MPI-") && c.len() == 7));
    }
}
