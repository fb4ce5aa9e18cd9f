//! A synthetic provincial portal: realistic dossiers in both dialects, and a share
//! of faulty submissions that the gateway must refuse.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::Rng;
use schemas::VnDateTime;
use serde_json::{json, Map, Value};

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương",
    "Lý",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Đức", "Thu", "Quốc", "Bảo"];
const GIVEN: &[&str] = &[
    "An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hạnh", "Hùng", "Khánh", "Lan", "Linh", "Mai", "Nam", "Phúc", "Quân",
    "Thảo", "Trang", "Tuấn", "Vy", "Yến",
];
const UNITS: &[&str] = &["000.00.31.H29", "000.00.12.H49", "000.20.16.H56", "000.00.01.H22", "G09.20"];
const ENTERPRISES: &[&str] = &[
    "Công ty TNHH Thương mại Sông Hồng",
    "Công ty Cổ phần Nông sản Cửu Long",
    "Doanh nghiệp tư nhân Bánh Pía Sóc Trăng",
    "Công ty TNHH Du lịch Hạ Long Xanh",
];

/// (procedure code, name, field code, field name, enterprise procedure); the
/// procedure codes match the default routing table.
const PROCEDURES: &[(&str, &str, &str, &str, bool)] = &[
    ("1.001193", "Đăng ký khai sinh", "G09-TP01", "Hộ tịch", false),
    ("1.000894", "Đăng ký kết hôn", "G09-TP01", "Hộ tịch", false),
    ("1.000656", "Đăng ký khai tử", "G09-TP01", "Hộ tịch", false),
    ("2.000488", "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "G09-TP02", "Lý lịch tư pháp", false),
    ("2.001610", "Cấp Giấy phép bán lẻ sản phẩm rượu", "G09-CT01", "Lưu thông hàng hóa trong nước", true),
    ("1.001612", "Đăng ký thành lập doanh nghiệp tư nhân", "G09-KH01", "Thành lập và hoạt động của doanh nghiệp", true),
    ("2.002492", "Thông báo thực hiện khuyến mại", "G09-CT02", "Xúc tiến thương mại", true),
];

/// A minimal PDF ("%PDF-1.4 ... %%EOF"), base64.
const TINY_PDF_BASE64: &str =
    "JVBERi0xLjQKJcOkw7zDtsOfCjEgMCBvYmoKPDwvVHlwZS9DYXRhbG9nPj4KZW5kb2JqCnRyYWlsZXIKPDwvUm9vdCAxIDAgUj4+CiUlRU9GCg==";

const STREETS: &[&str] =
    &["Số 12 phố Hàng Bạc", "Số 45 đường Lê Lợi", "Số 8 ngõ 102 Trường Chinh", "Số 210 đường Nguyễn Trãi"];
const WARDS: &[&str] = &["Phường Hoàn Kiếm", "Phường Bến Thành", "Phường Kim Liên", "Xã Thanh Trì"];
const PROVINCES: &[&str] = &["Hà Nội", "Thành phố Hồ Chí Minh", "Đà Nẵng", "Cần Thơ", "Hải Phòng"];

fn pick<'a>(rng: &mut StdRng, list: &[&'a str]) -> &'a str {
    list.choose(rng).copied().unwrap_or_default()
}

fn address(rng: &mut StdRng) -> Value {
    json!({"SoNhaDuong": pick(rng, STREETS), "PhuongXa": pick(rng, WARDS), "TinhThanhPho": pick(rng, PROVINCES)})
}

fn person(rng: &mut StdRng) -> String {
    format!("{} {} {}", pick(rng, FAMILY), pick(rng, MIDDLE), pick(rng, GIVEN))
}

/// The business payload (`DuLieuNghiepVu`) a procedure of the default table needs.
fn payload(rng: &mut StdRng, procedure: &str, owner: &str, received: &VnDateTime) -> Option<Value> {
    let days_ago = |rng: &mut StdRng, lo: i64, hi: i64| {
        VnDateTime::from_utc(received.to_utc() - chrono::Duration::days(rng.random_range(lo..hi))).to_dvcqg()
    };
    Some(match procedure {
        "1.001612" => json!({"DangKyDoanhNghiep": {
            "TenDoanhNghiep": format!("Doanh nghiệp tư nhân {}", pick(rng, GIVEN)),
            "LoaiHinhDoanhNghiep": "DNTN",
            "VonDieuLe": (rng.random_range(1..50u64) * 100_000_000).to_string(),
            "DiaChiTruSo": address(rng),
            "NguoiDaiDienPhapLuat": {"HoTen": person(rng), "ChucDanh": "Chủ doanh nghiệp",
                                     "SoGiayTo": format!("0{:011}", rng.random_range(1_000_000_000u64..99_999_999_999))},
            "NganhNghe": [{"MaNganh": "4711", "TenNganh": "Bán lẻ lương thực, thực phẩm, đồ uống trong cửa hàng kinh doanh tổng hợp", "LaNganhChinh": "1"},
                          {"MaNganh": "5610", "TenNganh": "Nhà hàng và các dịch vụ ăn uống phục vụ lưu động", "LaNganhChinh": "0"}]}}),
        "2.001610" | "2.002492" => {
            let promo = procedure == "2.002492";
            let start = VnDateTime::from_utc(received.to_utc() + chrono::Duration::days(10));
            let end = VnDateTime::from_utc(start.to_utc() + chrono::Duration::days(30));
            json!({"GiayPhepCongThuong": {
                "LoaiThuTuc": if promo { "KHUYEN_MAI" } else { "BAN_LE_RUOU" },
                "TenThuongNhan": owner,
                "MaSoThue": format!("0{:09}", rng.random_range(100_000_000..999_999_999u32)),
                "DiaDiemKinhDoanh": address(rng),
                "NoiDungDeNghi": if promo { "Giảm giá 20% các mặt hàng đồ uống nhân dịp Tết" } else { "Bán lẻ rượu vang và rượu mạnh đóng chai" },
                "ThoiGianBatDau": if promo { start.to_dvcqg() } else { String::new() },
                "ThoiGianKetThuc": if promo { end.to_dvcqg() } else { String::new() }}})
        }
        "1.001193" => json!({"HoTich": {"KhaiSinh": {
            "HoTen": person(rng), "NgaySinh": days_ago(rng, 1, 50), "GioiTinh": rng.random_range(1..=2u8).to_string(),
            "NoiSinh": format!("Bệnh viện Phụ sản {}", pick(rng, PROVINCES)), "DanToc": "Kinh", "QuocTich": "Việt Nam",
            "HoTenCha": person(rng), "HoTenMe": owner}}}),
        "1.000656" => json!({"HoTich": {"KhaiTu": {
            "HoTen": person(rng), "NgayChet": days_ago(rng, 1, 20), "NoiChet": format!("{}, {}", pick(rng, WARDS), pick(rng, PROVINCES)),
            "NguyenNhan": "Bệnh già"}}}),
        "2.000488" => json!({"LyLichTuPhap": {
            "LoaiPhieu": rng.random_range(1..=2u8).to_string(), "HoTen": owner, "NgaySinh": days_ago(rng, 7000, 20000),
            "GioiTinh": rng.random_range(1..=2u8).to_string(), "NoiSinh": pick(rng, PROVINCES), "QuocTich": "Việt Nam",
            "SoGiayTo": format!("0{:011}", rng.random_range(1_000_000_000u64..99_999_999_999)),
            "NoiThuongTru": format!("{}, {}, {}", pick(rng, STREETS), pick(rng, WARDS), pick(rng, PROVINCES)),
            "MucDichSuDung": "Bổ sung hồ sơ xin việc",
            "QuaTrinhCuTru": [{"TuNgay": days_ago(rng, 3000, 6000), "DenNgay": days_ago(rng, 500, 2900), "NoiCuTru": pick(rng, PROVINCES)},
                              {"TuNgay": days_ago(rng, 100, 490), "NoiCuTru": pick(rng, PROVINCES)}]}}),
        _ => return None,
    })
}

/// One thing the portal sends.
pub struct Submission {
    /// A short label of what it is.
    pub label: &'static str,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

/// A realistic dossier object in the JSON dialect (all strings, DVCQG dates).
pub fn dossier(rng: &mut StdRng, seq: u32, today: &VnDateTime) -> Map<String, Value> {
    let (code, name, field, field_name, enterprise) = *PROCEDURES.choose(rng).unwrap_or(&PROCEDURES[0]);
    let unit = UNITS.choose(rng).copied().unwrap_or(UNITS[0]);
    let day = today.inner().format("%y%m%d").to_string();
    let long_day = today.inner().format("%Y%m%d").to_string();
    let ma_ho_so =
        if unit.starts_with('G') { format!("{unit}-{long_day}-{seq:07}") } else { format!("{unit}-{day}-{seq:04}") };
    let received = today.to_utc() - chrono::Duration::minutes(rng.random_range(0..600));
    let received = VnDateTime::from_utc(received);
    let due = VnDateTime::from_utc(received.to_utc() + chrono::Duration::days(rng.random_range(1..=15)));
    let owner = if enterprise {
        ENTERPRISES.choose(rng).copied().unwrap_or(ENTERPRISES[0]).to_owned()
    } else {
        format!(
            "{} {} {}",
            FAMILY.choose(rng).unwrap_or(&FAMILY[0]),
            MIDDLE.choose(rng).unwrap_or(&MIDDLE[0]),
            GIVEN.choose(rng).unwrap_or(&GIVEN[0])
        )
    };
    let id_number = if enterprise {
        format!("0{:09}", rng.random_range(100_000_000..999_999_999u32))
    } else {
        format!("0{:011}", rng.random_range(1_000_000_000u64..99_999_999_999))
    };
    let mut m = Map::new();
    let mut put = |k: &str, v: String| {
        m.insert(k.to_owned(), Value::String(v));
    };
    put("MaHoSo", ma_ho_so);
    put("MaTTHC", code.into());
    put("TenTTHC", name.into());
    put("MaLinhVuc", field.into());
    put("TenLinhVuc", field_name.into());
    put("KenhThucHien", rng.random_range(1..=3u8).to_string());
    put("ChuHoSo", owner);
    put("SoGiayToChuHoSo", id_number);
    put("LoaiDoiTuong", if enterprise { "2" } else { "1" }.into());
    put("SoDienThoai", format!("09{:08}", rng.random_range(0..100_000_000u32)));
    put("TrichYeuHoSo", format!("{name} - hồ sơ trực tuyến"));
    put("NgayNopHoSo", received.to_dvcqg());
    put("NgayTiepNhan", received.to_dvcqg());
    put("NgayHenTra", due.to_dvcqg());
    put("TrangThaiHoSo", "2".into());
    m.insert(
        "TaiLieuNop".into(),
        json!([{"TepDinhKemId": format!("f{seq}"), "TenTepDinhKem": "to-khai.pdf", "MaThanhPhanHoSo": "TP01",
                "DuongDanTaiTepTin": format!("https://dichvucong.example.gov.vn/files/{seq}/to-khai.pdf")}]),
    );
    m.insert("DanhSachLePhi".into(), json!([{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP01", "Gia": "8000"}]));
    let owner = m["ChuHoSo"].as_str().unwrap_or_default().to_owned();
    if let Some(p) = payload(rng, code, &owner, &received) {
        if p.get("HoTich").is_some() || p.get("LyLichTuPhap").is_some() {
            // Justice takes files only inline.
            m.insert(
                "TaiLieuNop".into(),
                json!([{"TepDinhKemId": format!("f{seq}"), "TenTepDinhKem": "to-khai.pdf",
                "MaThanhPhanHoSo": "TP01", "DuLieuTep": TINY_PDF_BASE64}]),
            );
        }
        m.insert("DuLieuNghiepVu".into(), p);
    }
    m
}

/// The same dossier in the XML dialect, nested as the catalogue says.
pub fn to_xml(m: &Map<String, Value>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<HoSo xmlns=\"urn:lienthong:hoso:1\">");
    write_object(&mut out, schemas::FIELDS, m);
    out.push_str("</HoSo>\n");
    out
}

fn write_object(out: &mut String, table: &'static [schemas::FieldSpec], m: &Map<String, Value>) {
    for spec in table {
        let Some(v) = m.get(spec.name) else { continue };
        let k = spec.name;
        match (spec.kind, v) {
            (schemas::FieldKind::List(item), Value::Array(items)) => {
                out.push_str(&format!("<{k}>"));
                for it in items {
                    out.push_str(&format!("<{item}>"));
                    if let Value::Object(o) = it {
                        write_object(out, schemas::table(item), o);
                    }
                    out.push_str(&format!("</{item}>"));
                }
                out.push_str(&format!("</{k}>"));
            }
            (schemas::FieldKind::Object(t), Value::Object(o)) => {
                out.push_str(&format!("<{k}>"));
                write_object(out, schemas::table(t), o);
                out.push_str(&format!("</{k}>"));
            }
            (_, Value::String(s)) => out.push_str(&format!("<{k}>{}</{k}>", quick_escape(s))),
            _ => {}
        }
    }
}

fn quick_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The portal's submissions: mostly valid, in both dialects, with a few faulty ones
/// and a few honest resends.
pub fn submissions(rng: &mut StdRng, count: u32) -> Vec<Submission> {
    let today = VnDateTime::now();
    let mut out = Vec::with_capacity(count as usize);
    let mut last_json: Option<Vec<u8>> = None;
    for seq in 1..=count {
        let mut d = dossier(rng, seq, &today);
        let roll: u32 = rng.random_range(0..100);
        let sub = match roll {
            0..=2 => {
                let received = d["NgayTiepNhan"].as_str().unwrap_or_default().to_owned();
                let before =
                    VnDateTime::parse(&received).map(|r| VnDateTime::from_utc(r.to_utc() - chrono::Duration::days(2)));
                d.insert("NgayHenTra".into(), Value::String(before.map(|b| b.to_dvcqg()).unwrap_or_default()));
                Submission { label: "due before received", content_type: "application/json", body: json_bytes(&d) }
            }
            3..=4 => {
                d.remove("ChuHoSo");
                Submission { label: "owner missing", content_type: "application/json", body: json_bytes(&d) }
            }
            5 => Submission {
                label: "truncated JSON",
                content_type: "application/json",
                body: json_bytes(&d)[..40].to_vec(),
            },
            6 => Submission { label: "plain text", content_type: "text/plain", body: b"ho so".to_vec() },
            7..=8 if last_json.is_some() => Submission {
                label: "resend",
                content_type: "application/json",
                body: last_json.clone().unwrap_or_default(),
            },
            r if r % 2 == 0 => {
                Submission { label: "xml", content_type: "application/xml", body: to_xml(&d).into_bytes() }
            }
            _ => {
                let body = json_bytes(&d);
                last_json = Some(body.clone());
                Submission { label: "json", content_type: "application/json", body }
            }
        };
        out.push(sub);
    }
    out
}

/// Signs a submission as a portal would: an enveloped signature in an XML body,
/// a detached JWS (returned) for anything else. What cannot be signed (a
/// deliberately broken body) goes unsigned.
pub fn sign(s: Submission, id: &schemas::pki::SigningIdentity) -> (Submission, Option<String>) {
    if s.content_type == "application/xml" {
        return match schemas::dsig::sign_xml(&s.body, id, &schemas::dsig::XmlSignOptions::default()) {
            Ok(body) => (Submission { body, ..s }, None),
            Err(_) => (s, None),
        };
    }
    let jws = schemas::jws::sign_detached(&s.body, id, chrono::Utc::now().timestamp()).ok();
    (s, jws)
}

fn json_bytes(m: &Map<String, Value>) -> Vec<u8> {
    serde_json::to_vec_pretty(m).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn valid_submissions_parse_in_both_dialects() {
        let mut rng = StdRng::seed_from_u64(7);
        let today = VnDateTime::now();
        for seq in 1..50 {
            let d = dossier(&mut rng, seq, &today);
            let a = schemas::dossier_from_json(&json_bytes(&d)).unwrap();
            let b = schemas::dossier_from_xml(to_xml(&d).as_bytes()).unwrap();
            assert_eq!(a, b);
        }
    }
}
