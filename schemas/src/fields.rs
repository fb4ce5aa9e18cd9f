//! The field catalogue of the dossier dialects: one table both parsers, the
//! normaliser and the schema-agreement tests read.

/// What kind of value a field carries, which decides how it is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text up to the given number of characters.
    Text(usize),
    /// A dossier code ([`crate::MaHoSo`]).
    DossierCode,
    /// A procedure code ([`crate::MaTTHC`]).
    ProcedureCode,
    /// An agency id ([`crate::AgencyId`]).
    Agency,
    /// A date in any accepted form ([`crate::VnDateTime`]).
    Date,
    /// A small integer code in an inclusive range.
    Code(u8, u8),
    /// A non-negative amount of đồng, as digits.
    Amount,
    /// An e-mail address.
    Email,
    /// A telephone or fax number.
    Phone,
    /// An absolute http(s) URL.
    Url,
    /// A list of items whose fields are given by the named table.
    List(&'static str),
}

/// One field of a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's name, identical in JSON keys and XML element names.
    pub name: &'static str,
    /// Whether a dossier without it (or with it empty) is refused.
    pub required: bool,
    /// What it carries.
    pub kind: FieldKind,
}

const fn f(name: &'static str, required: bool, kind: FieldKind) -> FieldSpec {
    FieldSpec { name, required, kind }
}

use FieldKind::*;

/// Top-level fields of the dossier object (`HoSo`), in document order.
pub const FIELDS: &[FieldSpec] = &[
    f("MaHoSo", true, DossierCode),
    f("MaTTHC", true, ProcedureCode),
    f("TenTTHC", true, Text(1000)),
    f("MaLinhVuc", false, Text(64)),
    f("TenLinhVuc", false, Text(500)),
    f("SoBienNhan", false, Text(64)),
    f("KenhThucHien", true, Code(1, 3)),
    f("ChuHoSo", true, Text(255)),
    f("SoGiayToChuHoSo", false, Text(32)),
    f("LoaiDoiTuong", true, Code(1, 2)),
    f("MaDoiTuong", false, Text(64)),
    f("Email", false, Email),
    f("Fax", false, Phone),
    f("SoDienThoai", false, Phone),
    f("ThongTinKhac", false, Text(2000)),
    f("TrichYeuHoSo", false, Text(2000)),
    f("NgayNopHoSo", false, Date),
    f("NgayTiepNhan", true, Date),
    f("NgayHenTra", true, Date),
    f("NgayTra", false, Date),
    f("NgayKetThucXuLy", false, Date),
    f("NgayTuChoi", false, Date),
    f("TrangThaiHoSo", false, Code(1, 10)),
    f("DonViXuLy", false, Text(255)),
    f("GhiChu", false, Text(2000)),
    f("ThongTinTra", false, Text(2000)),
    f("HinhThuc", false, Text(64)),
    f("CoQuanDich", false, Agency),
    f("TaiLieuNop", false, List("TepDinhKem")),
    f("DanhSachLePhi", false, List("LePhi")),
];

/// Fields of one submitted file (`TaiLieuNop/TepDinhKem`).
pub const FILE_FIELDS: &[FieldSpec] = &[
    f("TepDinhKemId", false, Text(64)),
    f("TenTepDinhKem", true, Text(255)),
    f("MaThanhPhanHoSo", false, Text(64)),
    f("DuongDanTaiTepTin", false, Url),
];

/// Fields of one fee (`DanhSachLePhi/LePhi`).
pub const FEE_FIELDS: &[FieldSpec] = &[
    f("TenPhiLePhi", true, Text(500)),
    f("MaPhiLePhi", false, Text(64)),
    f("HinhThucThu", false, Text(64)),
    f("Gia", true, Amount),
    f("LoaiPhiLePhi", false, Text(64)),
];

/// The most items a list may hold.
pub const MAX_LIST_ITEMS: usize = 500;

/// The item table of a list field, by its item element name.
pub fn item_fields(item: &str) -> &'static [FieldSpec] {
    match item {
        "TepDinhKem" => FILE_FIELDS,
        _ => FEE_FIELDS,
    }
}

/// Looks a field up by name in a table.
pub fn find(table: &'static [FieldSpec], name: &str) -> Option<&'static FieldSpec> {
    table.iter().find(|s| s.name == name)
}
