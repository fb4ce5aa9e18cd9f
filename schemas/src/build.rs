//! Builds the typed payload (`DuLieuNghiepVu`) from its raw form. Field-level checks
//! were done by the catalogue; this adds the rules a table cannot state (exactly one
//! kind, exactly one main business line, dates in order) and converts the types.

use crate::error::{FieldError, FieldErrorKind};
use crate::normalize::opt;
use crate::payload::{
    Address, BirthRegistration, BusinessLine, BusinessRegistration, CivilStatus, DeathRegistration, EnterpriseType,
    JudicialRecordRequest, Payload, Representative, ResidencePeriod, Sex, TradeLicence, TradeLicenceKind,
};
use crate::raw::{self, RawObject};
use crate::VnDateTime;

const ROOT: &str = "DuLieuNghiepVu";

/// The typed payload, or `None` with the problems pushed to `errors`.
pub fn payload(p: &RawObject, errors: &mut Vec<FieldError>) -> Option<Payload> {
    let (name, inner) =
        exactly_one(p, ROOT, &["DangKyDoanhNghiep", "GiayPhepCongThuong", "HoTich", "LyLichTuPhap"], errors)?;
    let path = format!("{ROOT}.{name}");
    let mut b = Builder { errors, path };
    match name {
        "DangKyDoanhNghiep" => b.business(inner).map(Payload::BusinessRegistration),
        "GiayPhepCongThuong" => b.trade(inner).map(Payload::TradeLicence),
        "HoTich" => b.civil_status(inner).map(Payload::CivilStatus),
        _ => b.judicial(inner).map(Payload::JudicialRecord),
    }
}

fn exactly_one<'a>(
    obj: &'a RawObject,
    path: &str,
    names: &[&'static str],
    errors: &mut Vec<FieldError>,
) -> Option<(&'static str, &'a RawObject)> {
    let present: Vec<(&'static str, &RawObject)> =
        names.iter().filter_map(|n| raw::object(obj, n).map(|o| (*n, o))).collect();
    if present.len() == 1 {
        return Some(present[0]);
    }
    let msg = format!("must hold exactly one of {}", names.join(", "));
    errors.push(FieldError::new(path, FieldErrorKind::Invalid, msg));
    None
}

struct Builder<'e> {
    errors: &'e mut Vec<FieldError>,
    path: String,
}

fn text(o: &RawObject, name: &str) -> String {
    opt(o, name).unwrap_or_default()
}

/// A small code, read as a number so that `01` means what `1` means.
fn code(o: &RawObject, name: &str) -> Option<u8> {
    raw::text(o, name).and_then(|v| v.parse().ok())
}

fn sex(o: &RawObject) -> Option<Sex> {
    Sex::from_code(&code(o, "GioiTinh")?.to_string())
}

fn date(o: &RawObject, name: &str) -> Option<VnDateTime> {
    raw::text(o, name).and_then(|s| VnDateTime::parse(s).ok())
}

fn address(o: Option<&RawObject>) -> Address {
    let empty = RawObject::new();
    let o = o.unwrap_or(&empty);
    Address { street: text(o, "SoNhaDuong"), ward: text(o, "PhuongXa"), province: text(o, "TinhThanhPho") }
}

impl Builder<'_> {
    fn push(&mut self, field: &str, kind: FieldErrorKind, msg: &str) {
        self.errors.push(FieldError::new(format!("{}.{field}", self.path), kind, msg));
    }

    fn not_in_future(&mut self, o: &RawObject, field: &str) -> Option<VnDateTime> {
        let d = date(o, field)?;
        if d > VnDateTime::now() {
            self.push(field, FieldErrorKind::DateOrder, "cannot be in the future");
            return None;
        }
        Some(d)
    }

    fn business(&mut self, o: &RawObject) -> Option<BusinessRegistration> {
        let lines: Vec<BusinessLine> = raw::list(o, "NganhNghe")
            .iter()
            .map(|l| BusinessLine {
                vsic_code: text(l, "MaNganh"),
                name: text(l, "TenNganh"),
                main: code(l, "LaNganhChinh") == Some(1),
            })
            .collect();
        let mains = lines.iter().filter(|l| l.main).count();
        if !lines.is_empty() && mains != 1 {
            self.push(
                "NganhNghe",
                FieldErrorKind::Invalid,
                "exactly one business line must be the main one (LaNganhChinh = 1)",
            );
        }
        let mut codes: Vec<&str> = lines.iter().map(|l| l.vsic_code.as_str()).collect();
        codes.sort_unstable();
        if codes.windows(2).any(|w| w[0] == w[1]) {
            self.push("NganhNghe", FieldErrorKind::Duplicate, "a business line is listed twice");
        }
        let rep = raw::object(o, "NguoiDaiDienPhapLuat");
        let empty = RawObject::new();
        let rep = rep.unwrap_or(&empty);
        Some(BusinessRegistration {
            enterprise_name: text(o, "TenDoanhNghiep"),
            foreign_name: opt(o, "TenTiengNuocNgoai"),
            enterprise_type: EnterpriseType::from_code(raw::text(o, "LoaiHinhDoanhNghiep").unwrap_or_default())?,
            charter_capital_vnd: raw::text(o, "VonDieuLe").and_then(|v| v.parse().ok())?,
            head_office: address(raw::object(o, "DiaChiTruSo")),
            legal_representative: Representative {
                full_name: text(rep, "HoTen"),
                title: text(rep, "ChucDanh"),
                id_number: text(rep, "SoGiayTo"),
            },
            business_lines: lines,
        })
    }

    fn trade(&mut self, o: &RawObject) -> Option<TradeLicence> {
        let valid_from = date(o, "ThoiGianBatDau");
        let valid_to = date(o, "ThoiGianKetThuc");
        if let (Some(a), Some(b)) = (valid_from, valid_to) {
            if b < a {
                self.push("ThoiGianKetThuc", FieldErrorKind::DateOrder, "cannot be before ThoiGianBatDau");
            }
        }
        let kind = TradeLicenceKind::from_code(raw::text(o, "LoaiThuTuc").unwrap_or_default())?;
        if kind == TradeLicenceKind::PromotionNotice && (valid_from.is_none() || valid_to.is_none()) {
            self.push(
                "ThoiGianBatDau",
                FieldErrorKind::Missing,
                "a promotion needs ThoiGianBatDau and ThoiGianKetThuc",
            );
        }
        Some(TradeLicence {
            licence_kind: kind,
            trader_name: text(o, "TenThuongNhan"),
            tax_code: text(o, "MaSoThue"),
            business_address: address(raw::object(o, "DiaDiemKinhDoanh")),
            request: text(o, "NoiDungDeNghi"),
            valid_from,
            valid_to,
        })
    }

    fn civil_status(&mut self, o: &RawObject) -> Option<CivilStatus> {
        let (name, inner) = exactly_one(o, &self.path.clone(), &["KhaiSinh", "KhaiTu"], self.errors)?;
        let sub = format!("{}.{name}", self.path);
        let mut b = Builder { errors: &mut *self.errors, path: sub };
        if name == "KhaiSinh" {
            let birth_date = b.not_in_future(inner, "NgaySinh");
            Some(CivilStatus::Birth(BirthRegistration {
                full_name: text(inner, "HoTen"),
                birth_date: birth_date?,
                sex: sex(inner)?,
                birth_place: text(inner, "NoiSinh"),
                ethnicity: opt(inner, "DanToc"),
                nationality: opt(inner, "QuocTich").unwrap_or_else(|| "Việt Nam".into()),
                father_name: opt(inner, "HoTenCha"),
                mother_name: opt(inner, "HoTenMe"),
            }))
        } else {
            let death_date = b.not_in_future(inner, "NgayChet");
            Some(CivilStatus::Death(DeathRegistration {
                full_name: text(inner, "HoTen"),
                id_number: opt(inner, "SoGiayTo"),
                death_date: death_date?,
                death_place: text(inner, "NoiChet"),
                cause: opt(inner, "NguyenNhan"),
            }))
        }
    }

    fn judicial(&mut self, o: &RawObject) -> Option<JudicialRecordRequest> {
        let birth_date = self.not_in_future(o, "NgaySinh");
        let mut history = Vec::new();
        for (i, p) in raw::list(o, "QuaTrinhCuTru").iter().enumerate() {
            let (from, to) = (date(p, "TuNgay"), date(p, "DenNgay"));
            if let (Some(a), Some(b)) = (from, to) {
                if b < a {
                    self.push(
                        &format!("QuaTrinhCuTru[{i}].DenNgay"),
                        FieldErrorKind::DateOrder,
                        "cannot be before TuNgay",
                    );
                }
            }
            history.push(ResidencePeriod { from: from?, to, place: text(p, "NoiCuTru") });
        }
        Some(JudicialRecordRequest {
            form: code(o, "LoaiPhieu")?,
            full_name: text(o, "HoTen"),
            birth_date: birth_date?,
            sex: sex(o)?,
            birth_place: text(o, "NoiSinh"),
            nationality: text(o, "QuocTich"),
            id_number: text(o, "SoGiayTo"),
            permanent_residence: text(o, "NoiThuongTru"),
            purpose: text(o, "MucDichSuDung"),
            residence_history: history,
        })
    }
}
