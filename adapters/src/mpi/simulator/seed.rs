//! What the simulated MPI knows from the start: a few enterprises (fictitious)
//! and a sample of the VSIC 2018 business-line codes.

/// An enterprise in the national register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Enterprise {
    pub(super) tax_code: &'static str,
    pub(super) name: &'static str,
    pub(super) foreign_name: Option<&'static str>,
    pub(super) kind: &'static str,
    /// `HOAT_DONG`, `TAM_NGUNG_KINH_DOANH` or `DA_GIAI_THE`.
    pub(super) state: &'static str,
    /// First registration, `yyyy-MM-ddTHH:mm:ss+07:00`.
    pub(super) registered: &'static str,
    pub(super) street: &'static str,
    pub(super) ward: &'static str,
    pub(super) province: &'static str,
}

/// The enterprises `TraCuuDoanhNghiep` finds; their names are taken.
pub(super) const ENTERPRISES: &[Enterprise] = &[
    Enterprise {
        tax_code: "0101234567",
        name: "CÔNG TY TNHH THƯƠNG MẠI HỒNG HÀ",
        foreign_name: Some("HONG HA TRADING COMPANY LIMITED"),
        kind: "TNHH2TV",
        state: "HOAT_DONG",
        registered: "2012-03-15T00:00:00+07:00",
        street: "Số 12 phố Hàng Bài",
        ward: "Phường Cửa Nam",
        province: "Thành phố Hà Nội",
    },
    Enterprise {
        tax_code: "6001122334",
        name: "CÔNG TY CỔ PHẦN CÀ PHÊ BAN MÊ",
        foreign_name: None,
        kind: "CP",
        state: "TAM_NGUNG_KINH_DOANH",
        registered: "2016-09-01T00:00:00+07:00",
        street: "88 Lý Thường Kiệt",
        ward: "Phường Buôn Ma Thuột",
        province: "Tỉnh Đắk Lắk",
    },
    Enterprise {
        tax_code: "4200998877",
        name: "DOANH NGHIỆP TƯ NHÂN HẢI ĐĂNG",
        foreign_name: None,
        kind: "DNTN",
        state: "DA_GIAI_THE",
        registered: "2008-11-20T00:00:00+07:00",
        street: "5 Trần Phú",
        ward: "Phường Nha Trang",
        province: "Tỉnh Khánh Hòa",
    },
];

/// The VSIC 2018 codes the simulator accepts (a sample of the national list,
/// levels 4 and 5); any other code is answered `MPI-103`.
pub(super) const VSIC_CODES: &[&str] = &[
    "0111", "0118", "0121", "0163", "1030", "10301", "10309", "1050", "1071", "1079", "4100", "4101", "4102", "4290",
    "4311", "4330", "4610", "4620", "46209", "4632", "4633", "4649", "4659", "4663", "4669", "4711", "4719", "4722",
    "4723", "4741", "4791", "4932", "4933", "5210", "5229", "5510", "5610", "56101", "56109", "5630", "6201", "6202",
    "6209", "6311", "6312", "6810", "6820", "7020", "7110", "7310", "7320", "7490", "8230", "8299", "8559",
];

/// An enterprise by tax code.
pub(super) fn enterprise(tax_code: &str) -> Option<&'static Enterprise> {
    ENTERPRISES.iter().find(|e| e.tax_code == tax_code)
}

/// Whether a VSIC code is in the list.
pub(super) fn vsic_known(code: &str) -> bool {
    VSIC_CODES.contains(&code)
}

/// A name as compared for "already taken": case and runs of whitespace ignored.
pub(super) fn name_key(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Whether an enterprise already holds the name.
pub(super) fn name_taken(name: &str) -> bool {
    let key = name_key(name);
    ENTERPRISES.iter().any(|e| name_key(e.name) == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_case_or_extra_spaces() {
        assert!(name_taken("Công ty TNHH  thương mại Hồng Hà"));
        assert!(!name_taken("Công ty TNHH Thương mại Hồng Hà Nội"));
        assert!(enterprise("0101234567").is_some() && enterprise("0000000000").is_none());
        assert!(vsic_known("1030") && !vsic_known("9999"));
        assert!(ENTERPRISES.iter().all(|e| crate::mpi::wire::enterprise_status(e.state).is_some()));
    }
}
