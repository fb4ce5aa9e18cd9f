//! The field catalogue of the dossier dialects: one set of tables that both
//! parsers, the normaliser and the schema-agreement tests read. Tables nest (an
//! object or a list item has its own table), but never recursively, so the depth
//! of any accepted document is bounded by the catalogue.

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
    /// One of a fixed set of codes.
    OneOf(&'static [&'static str]),
    /// A VSIC 2018 business-line code: 4 or 5 digits.
    Vsic,
    /// A tax code: 10 digits, or 10 digits, `-` and 3 digits (a branch).
    TaxCode,
    /// Standard base64 (RFC 4648), at most the given number of decoded bytes.
    Base64(usize),
    /// A nested object whose fields are given by the named table.
    Object(&'static str),
    /// A list of items whose fields are given by the named table.
    List(&'static str),
}

/// One field of a dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    /// The field's name, identical in JSON keys and XML element names.
    pub name: &'static str,
    /// Whether an object without it (or with it empty) is refused.
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
    f("DuLieuNghiepVu", false, Object("DuLieuNghiepVu")),
];

/// Fields of one submitted file (`TaiLieuNop/TepDinhKem`).
pub const FILE_FIELDS: &[FieldSpec] = &[
    f("TepDinhKemId", false, Text(64)),
    f("TenTepDinhKem", true, Text(255)),
    f("MaThanhPhanHoSo", false, Text(64)),
    f("DuongDanTaiTepTin", false, Url),
    f("DuLieuTep", false, Base64(MAX_INLINE_FILE_BYTES)),
];

/// Fields of one fee (`DanhSachLePhi/LePhi`).
pub const FEE_FIELDS: &[FieldSpec] = &[
    f("TenPhiLePhi", true, Text(500)),
    f("MaPhiLePhi", false, Text(64)),
    f("HinhThucThu", false, Text(64)),
    f("Gia", true, Amount),
    f("LoaiPhiLePhi", false, Text(64)),
];

/// The business data (`DuLieuNghiepVu`): exactly one of these.
pub const PAYLOAD_FIELDS: &[FieldSpec] = &[
    f("DangKyDoanhNghiep", false, Object("DangKyDoanhNghiep")),
    f("GiayPhepCongThuong", false, Object("GiayPhepCongThuong")),
    f("HoTich", false, Object("HoTich")),
    f("LyLichTuPhap", false, Object("LyLichTuPhap")),
];

/// Enterprise registration (`DangKyDoanhNghiep`).
pub const BUSINESS_FIELDS: &[FieldSpec] = &[
    f("TenDoanhNghiep", true, Text(255)),
    f("TenTiengNuocNgoai", false, Text(255)),
    f("LoaiHinhDoanhNghiep", true, OneOf(&["TNHH1TV", "TNHH2TV", "CP", "HD", "DNTN"])),
    f("VonDieuLe", true, Amount),
    f("DiaChiTruSo", true, Object("DiaChi")),
    f("NguoiDaiDienPhapLuat", true, Object("NguoiDaiDien")),
    f("NganhNghe", true, List("Nganh")),
];

/// A postal address (`DiaChi`).
pub const ADDRESS_FIELDS: &[FieldSpec] =
    &[f("SoNhaDuong", true, Text(255)), f("PhuongXa", true, Text(100)), f("TinhThanhPho", true, Text(100))];

/// A legal representative (`NguoiDaiDien`).
pub const REPRESENTATIVE_FIELDS: &[FieldSpec] =
    &[f("HoTen", true, Text(255)), f("ChucDanh", true, Text(100)), f("SoGiayTo", true, Text(32))];

/// One business line (`NganhNghe/Nganh`).
pub const BUSINESS_LINE_FIELDS: &[FieldSpec] =
    &[f("MaNganh", true, Vsic), f("TenNganh", true, Text(500)), f("LaNganhChinh", false, Code(0, 1))];

/// A licence or notification of Industry & Trade (`GiayPhepCongThuong`).
pub const TRADE_FIELDS: &[FieldSpec] = &[
    f("LoaiThuTuc", true, OneOf(&["BAN_LE_RUOU", "KHUYEN_MAI"])),
    f("TenThuongNhan", true, Text(255)),
    f("MaSoThue", true, TaxCode),
    f("DiaDiemKinhDoanh", true, Object("DiaChi")),
    f("NoiDungDeNghi", true, Text(4000)),
    f("ThoiGianBatDau", false, Date),
    f("ThoiGianKetThuc", false, Date),
];

/// A civil-status registration (`HoTich`): exactly one of these.
pub const CIVIL_STATUS_FIELDS: &[FieldSpec] =
    &[f("KhaiSinh", false, Object("KhaiSinh")), f("KhaiTu", false, Object("KhaiTu"))];

/// Birth registration (`HoTich/KhaiSinh`).
pub const BIRTH_FIELDS: &[FieldSpec] = &[
    f("HoTen", true, Text(255)),
    f("NgaySinh", true, Date),
    f("GioiTinh", true, Code(1, 2)),
    f("NoiSinh", true, Text(500)),
    f("DanToc", false, Text(64)),
    f("QuocTich", false, Text(64)),
    f("HoTenCha", false, Text(255)),
    f("HoTenMe", false, Text(255)),
];

/// Death registration (`HoTich/KhaiTu`).
pub const DEATH_FIELDS: &[FieldSpec] = &[
    f("HoTen", true, Text(255)),
    f("SoGiayTo", false, Text(32)),
    f("NgayChet", true, Date),
    f("NoiChet", true, Text(500)),
    f("NguyenNhan", false, Text(1000)),
];

/// A judicial-record certificate request (`LyLichTuPhap`).
pub const JUDICIAL_FIELDS: &[FieldSpec] = &[
    f("LoaiPhieu", true, Code(1, 2)),
    f("HoTen", true, Text(255)),
    f("NgaySinh", true, Date),
    f("GioiTinh", true, Code(1, 2)),
    f("NoiSinh", true, Text(500)),
    f("QuocTich", true, Text(64)),
    f("SoGiayTo", true, Text(32)),
    f("NoiThuongTru", true, Text(500)),
    f("MucDichSuDung", true, Text(1000)),
    f("QuaTrinhCuTru", false, List("GiaiDoan")),
];

/// One period of residence (`QuaTrinhCuTru/GiaiDoan`).
pub const RESIDENCE_FIELDS: &[FieldSpec] =
    &[f("TuNgay", true, Date), f("DenNgay", false, Date), f("NoiCuTru", true, Text(500))];

/// The most items a list may hold.
pub const MAX_LIST_ITEMS: usize = 500;

/// The largest file carried inline (`DuLieuTep`), in bytes once decoded.
pub const MAX_INLINE_FILE_BYTES: usize = 10 * 1024 * 1024;

/// Every nested table by the name `Object` and `List` kinds use.
pub const TABLES: &[(&str, &[FieldSpec])] = &[
    ("TepDinhKem", FILE_FIELDS),
    ("LePhi", FEE_FIELDS),
    ("DuLieuNghiepVu", PAYLOAD_FIELDS),
    ("DangKyDoanhNghiep", BUSINESS_FIELDS),
    ("DiaChi", ADDRESS_FIELDS),
    ("NguoiDaiDien", REPRESENTATIVE_FIELDS),
    ("Nganh", BUSINESS_LINE_FIELDS),
    ("GiayPhepCongThuong", TRADE_FIELDS),
    ("HoTich", CIVIL_STATUS_FIELDS),
    ("KhaiSinh", BIRTH_FIELDS),
    ("KhaiTu", DEATH_FIELDS),
    ("LyLichTuPhap", JUDICIAL_FIELDS),
    ("GiaiDoan", RESIDENCE_FIELDS),
];

/// The table of an `Object` or `List` kind, by name.
pub fn table(name: &str) -> &'static [FieldSpec] {
    TABLES.iter().find(|(n, _)| *n == name).map_or(&[], |(_, t)| t)
}

/// Looks a field up by name in a table.
pub fn find(table: &'static [FieldSpec], name: &str) -> Option<&'static FieldSpec> {
    table.iter().find(|s| s.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_nested_kind_names_a_known_table() {
        let mut all: Vec<&[FieldSpec]> = vec![FIELDS];
        all.extend(TABLES.iter().map(|(_, t)| *t));
        for t in all {
            for spec in t {
                if let Object(n) | List(n) = spec.kind {
                    assert!(!table(n).is_empty(), "{} names unknown table {n}", spec.name);
                }
            }
        }
    }
}
