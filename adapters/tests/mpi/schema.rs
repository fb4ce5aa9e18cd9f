//! The published XSD, the wire tables, the examples and the simulator agree; the
//! XSD is read by `xmllint` itself, an implementation independent of ours.

use std::collections::HashMap;
use std::io::Write;
use std::process::{Command, Stdio};

use adapters::mpi::wire::{Field, Kind, Operation, CHANNELS, ENTERPRISE_TYPES, FLAGS, MPI_NS, SUBJECT_KINDS};
use adapters::mpi::xml::{parse, Element};

use crate::support::*;

const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// Whether `xmllint` finds the document valid against the published XSD.
fn xmllint_valid(document: &str) -> bool {
    let xsd = agency_dir().join("dangkydoanhnghiep.xsd");
    let mut child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(&xsd)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xmllint runs (install libxml2-utils)");
    child.stdin.take().unwrap().write_all(document.as_bytes()).unwrap();
    child.wait().unwrap().success()
}

fn between(text: &str, open: &str, close: &str) -> String {
    let start = text.find(open).unwrap_or_else(|| panic!("{open} in {text}"));
    let end = text.rfind(close).unwrap() + close.len();
    text[start..end].to_owned()
}

#[test]
fn what_the_adapter_sends_and_the_examples_validate_with_xmllint() {
    for name in [
        "dossier-full.request.expected.xml",
        "dossier-minimal.request.expected.xml",
        "tracuudoanhnghiep.request.expected.xml",
        "tracuuhoso.request.expected.xml",
    ] {
        assert!(xmllint_valid(&body_payload(&read(name))), "{name}");
    }
    let dir = agency_dir().join("examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let payload = if text.contains("<soap:Fault>") {
            between(&text, "<LoiMPI", "</LoiMPI>")
        } else {
            body_payload(text.as_bytes())
        };
        assert!(xmllint_valid(&payload), "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 15, "{checked} examples");
}

/// The XSD's complex types (name to child elements) and simple types.
struct Xsd {
    complex: HashMap<String, Vec<Element>>,
    simple: HashMap<String, Element>,
    elements: HashMap<String, String>,
}

fn xsd() -> Xsd {
    let root = parse(&std::fs::read(agency_dir().join("dangkydoanhnghiep.xsd")).unwrap()).unwrap();
    let mut x = Xsd { complex: HashMap::new(), simple: HashMap::new(), elements: HashMap::new() };
    for e in root.elements() {
        let name = e.attr(None, "name").unwrap().to_owned();
        match e.name.as_str() {
            "complexType" => {
                let seq = e.child(XS, "sequence").unwrap();
                x.complex.insert(name, seq.all(XS, "element").cloned().collect());
            }
            "simpleType" => drop(x.simple.insert(name, e.child(XS, "restriction").unwrap().clone())),
            "element" => drop(x.elements.insert(name, e.attr(None, "type").unwrap().to_owned())),
            other => panic!("unexpected {other}"),
        }
    }
    x
}

fn enumeration(x: &Xsd, ty: &str) -> Vec<String> {
    x.simple[ty].all(XS, "enumeration").map(|e| e.attr(None, "value").unwrap().to_owned()).collect()
}

fn check(x: &Xsd, ty: &str, table: &[Field]) {
    let decls = &x.complex[ty];
    let names: Vec<&str> = decls.iter().map(|d| d.attr(None, "name").unwrap()).collect();
    let want: Vec<&str> = table.iter().map(|f| f.name).collect();
    assert_eq!(names, want, "{ty}: elements and their order");
    for (d, f) in decls.iter().zip(table) {
        let at = format!("{ty}/{}", f.name);
        assert_eq!(d.attr(None, "minOccurs").unwrap_or("1"), if f.required { "1" } else { "0" }, "{at}");
        assert_eq!(d.attr(None, "maxOccurs").unwrap_or("1"), if f.repeats { "unbounded" } else { "1" }, "{at}");
        let t = d.attr(None, "type").unwrap().strip_prefix("dk:").unwrap();
        let expected = match f.kind {
            Kind::Group(fields) => {
                check(x, t, fields);
                continue;
            }
            Kind::Text(n) => {
                let max = x.simple[t].child(XS, "maxLength").unwrap().attr(None, "value").unwrap();
                assert_eq!(max, n.to_string(), "{at}");
                format!("VanBan{n}")
            }
            Kind::Enum(values) => {
                assert_eq!(enumeration(x, t), values, "{at}");
                let by_values = [
                    (CHANNELS, "KenhThucHienType"),
                    (SUBJECT_KINDS, "LoaiDoiTuongType"),
                    (ENTERPRISE_TYPES, "LoaiHinhDoanhNghiepType"),
                    (FLAGS, "CoKhongType"),
                ];
                by_values.iter().find(|(v, _)| *v == values).unwrap().1.to_owned()
            }
            Kind::Date => "ThoiDiem".into(),
            Kind::DossierCode => "MaHoSoType".into(),
            Kind::ProcedureCode => "MaTTHCType".into(),
            Kind::Vsic => "MaNganhVSIC".into(),
            Kind::Amount => "SoTien".into(),
            Kind::TaxCode => "MaSoDoanhNghiepType".into(),
        };
        assert_eq!(t, expected, "{at}");
    }
}

#[test]
fn the_xsd_describes_the_same_requests_as_the_wire_tables() {
    let x = xsd();
    for op in Operation::ALL {
        let ty = x.elements[op.element()].strip_prefix("dk:").unwrap().to_owned();
        check(&x, &ty, op.fields());
        assert!(x.elements.contains_key(op.response_element()), "{}", op.response_element());
    }
    let states = enumeration(&x, "TrangThaiHoSoMPI");
    let mapped: Vec<&str> = adapters::mpi::wire::DOSSIER_STATUSES.iter().map(|(c, _)| *c).collect();
    assert_eq!(states, mapped);
    let states = enumeration(&x, "TinhTrangDoanhNghiep");
    let mapped: Vec<&str> = adapters::mpi::wire::ENTERPRISE_STATUSES.iter().map(|(c, _)| *c).collect();
    assert_eq!(states, mapped);
}

type Mutation = (&'static str, fn(&str) -> String);

fn swap(p: &str, from: &str, to: &str) -> String {
    assert!(p.contains(from), "{from}");
    p.replacen(from, to, 1)
}

const MUTATIONS: &[Mutation] = &[
    ("unchanged", |p| p.to_owned()),
    ("optional element left out", |p| {
        swap(p, "<TenTiengNuocNgoai>TAY NGUYEN CLEAN AGRI &amp; FOOD COMPANY LIMITED</TenTiengNuocNgoai>", "")
    }),
    ("required element left out", |p| swap(p, "<MaTTHC>2.000046</MaTTHC>", "")),
    ("elements out of order", |p| {
        swap(p, "<MaTTHC>2.000046</MaTTHC>", "").replacen(
            "<KenhThucHien>",
            "<MaTTHC>2.000046</MaTTHC><KenhThucHien>",
            1,
        )
    }),
    ("unknown element", |p| swap(p, "<NgayTiepNhan>", "<GhiChu>x</GhiChu><NgayTiepNhan>")),
    ("element in another namespace", |p| {
        swap(p, "<MaTTHC>2.000046</MaTTHC>", "<MaTTHC xmlns=\"urn:other\">2.000046</MaTTHC>")
    }),
    ("attribute on a leaf", |p| swap(p, "<VonDieuLe>", "<VonDieuLe donVi=\"VND\">")),
    ("attribute on a group", |p| swap(p, "<HoSo>", "<HoSo id=\"1\">")),
    ("text in a group", |p| swap(p, "<HoSo>", "<HoSo>chữ")),
    ("element inside a leaf", |p| swap(p, "<MaTTHC>2.000046</MaTTHC>", "<MaTTHC>2.000046<b/></MaTTHC>")),
    ("required text blank", |p| {
        swap(p, ">Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên<", ">  \n\t<")
    }),
    ("required text empty", |p| swap(p, "<ChucDanh>Giám đốc</ChucDanh>", "<ChucDanh/>")),
    ("text at its maximum length", |p| swap(p, "CÔNG TY TNHH NÔNG SẢN SẠCH TÂY NGUYÊN", &"Ệ".repeat(255))),
    ("text over its maximum length", |p| swap(p, "CÔNG TY TNHH NÔNG SẢN SẠCH TÂY NGUYÊN", &"Ệ".repeat(256))),
    ("text with spaces around", |p| swap(p, "<Email>minh", "<Email>  minh")),
    ("date without offset", |p| swap(p, "2026-06-12T17:00:00+07:00", "2026-06-12T17:00:00")),
    ("date in utc", |p| swap(p, "2026-06-12T17:00:00+07:00", "2026-06-12T10:00:00Z")),
    ("date that does not exist", |p| swap(p, "2026-06-12T17:00:00+07:00", "2026-02-30T17:00:00+07:00")),
    ("leap day", |p| swap(p, "2026-06-12T17:00:00+07:00", "2028-02-29T17:00:00+07:00")),
    ("date with whitespace around", |p| swap(p, "2026-06-12T17:00:00+07:00", "\n 2026-06-12T17:00:00+07:00 ")),
    ("date with fractions", |p| swap(p, "2026-06-12T17:00:00+07:00", "2026-06-12T17:00:00.000+07:00")),
    ("date at hour 24", |p| swap(p, "2026-06-12T17:00:00+07:00", "2026-06-12T24:00:00+07:00")),
    ("date as digits", |p| swap(p, "2026-06-12T17:00:00+07:00", "20260612170000")),
    ("old dossier code", |p| swap(p, "G09.20-20260609-0092637", "000.00.31.H29-261122-0001")),
    ("dossier code short sequence", |p| swap(p, "G09.20-20260609-0092637", "G09.20-20260609-12")),
    ("dossier code with a space", |p| swap(p, "G09.20-20260609-0092637", " G09.20-20260609-0092637")),
    ("procedure code with agency", |p| swap(p, "<MaTTHC>2.000046<", "<MaTTHC>2.000046.000.00.00.H22<")),
    ("procedure code short", |p| swap(p, "<MaTTHC>2.000046<", "<MaTTHC>2.00046<")),
    ("channel out of range", |p| swap(p, "<KenhThucHien>2<", "<KenhThucHien>4<")),
    ("channel padded", |p| swap(p, "<KenhThucHien>2<", "<KenhThucHien> 2<")),
    ("enterprise type lowercase", |p| swap(p, ">TNHH2TV<", ">tnhh2tv<")),
    ("capital with a leading zero", |p| swap(p, ">5000000000<", ">05000000000<")),
    ("capital zero", |p| swap(p, ">5000000000<", ">0<")),
    ("capital with separators", |p| swap(p, ">5000000000<", ">5.000.000.000<")),
    ("capital of twenty digits", |p| swap(p, ">5000000000<", ">50000000000000000000<")),
    ("capital of twenty-one digits", |p| swap(p, ">5000000000<", ">500000000000000000000<")),
    ("vsic of three digits", |p| swap(p, "<MaNganh>4632<", "<MaNganh>463<")),
    ("vsic of six digits", |p| swap(p, "<MaNganh>4632<", "<MaNganh>463200<")),
    ("main flag as a word", |p| swap(p, "<LaNganhChinh>0<", "<LaNganhChinh>false<")),
    ("no business line", |p| {
        let (a, b) = (p.find("<NganhNghe>").unwrap(), p.find("</NganhNghe>").unwrap());
        format!("{}<NganhNghe>{}", &p[..a], &p[b..])
    }),
    ("files left out", |p| {
        let (a, b) = (p.find("<TaiLieuNop>").unwrap(), p.find("</TaiLieuNop>").unwrap() + "</TaiLieuNop>".len());
        format!("{}{}", &p[..a], &p[b..])
    }),
    ("files empty", |p| {
        let (a, b) = (p.find("<TaiLieuNop>").unwrap(), p.find("</TaiLieuNop>").unwrap());
        format!("{}<TaiLieuNop>{}", &p[..a], &p[b..])
    }),
    ("file without a name", |p| swap(p, "<TenTepDinhKem>Điều lệ công ty.pdf</TenTepDinhKem>", "")),
    ("non-repeating element twice", |p| {
        swap(p, "<MaTTHC>2.000046</MaTTHC>", "<MaTTHC>2.000046</MaTTHC><MaTTHC>2.000046</MaTTHC>")
    }),
    ("cdata text", |p| {
        swap(p, "<TenNganh>Bán buôn thực phẩm<", "<TenNganh><![CDATA[Bán buôn <thực phẩm> & đồ uống]]><")
    }),
    ("comment inside a leaf", |p| swap(p, "<MaTTHC>2.000046<", "<MaTTHC>2.000<!-- c -->046<")),
    ("character reference", |p| swap(p, "<MaTTHC>2.000046<", "<MaTTHC>&#50;.000046<")),
    ("name over its maximum in bytes only", |p| {
        swap(p, "<HoTen>Trần Văn Minh</HoTen>", &format!("<HoTen>{}</HoTen>", "Đ".repeat(200)))
    }),
];

/// The golden request's payload, mutated in each way the XSD can see: the
/// simulator must refuse (with MPI-101) exactly those `xmllint` refuses.
#[tokio::test]
async fn the_simulator_refuses_exactly_what_xmllint_refuses() {
    let sim = simulator().await;
    let http = client(std::time::Duration::from_secs(5));
    let base = body_payload(&read("dossier-full.request.expected.xml"));
    let (mut accepted, mut refused) = (0, 0);
    for (i, (what, mutate)) in MUTATIONS.iter().enumerate() {
        let code = format!("G09.20-20260609-{:07}", 100 + i);
        let payload = mutate(&base).replace("G09.20-20260609-0092637", &code);
        let xsd_ok = xmllint_valid(&payload);
        let body = soap(&format!("urn:lienthong:idempotency:mutation-{i}"), &payload);
        let (status, answer) = post_soap(&http, &sim.url(), Operation::Submit, body, &[]).await;
        let sim_ok = status == 200;
        assert_eq!(xsd_ok, sim_ok, "{what}: xmllint {xsd_ok}, simulator {answer}");
        if sim_ok {
            accepted += 1;
        } else {
            assert_eq!(fault_code(&answer).as_deref(), Some("MPI-101"), "{what}: {answer}");
            refused += 1;
        }
    }
    assert!(accepted >= 10 && refused >= 25, "accepted {accepted}, refused {refused}");
    assert_eq!(sim.received().len(), accepted);
    assert!(MPI_NS.starts_with("http"));
    sim.shutdown().await;
}
