//! Names: the strict parser, the structural comparison and the rendering.

use super::der::{name, BMP, PRINTABLE, UTF8};
use super::*;
use x509_parser::asn1_rs::FromDer;

const CN: &str = "2.5.4.3";
const O: &str = "2.5.4.10";
const OU: &str = "2.5.4.11";
const ST: &str = "2.5.4.8";
const C: &str = "2.5.4.6";

fn from_der(der: &[u8]) -> Dn {
    let (rest, n) = X509Name::from_der(der).expect("a DER name");
    assert!(rest.is_empty());
    Dn::from_x509(&n)
}

fn text(oid: &str, v: &str) -> DnAttribute {
    DnAttribute::new(oid, DnValue::Text(v.into()))
}

fn dn(rdns: &[&[(&str, &str)]]) -> Dn {
    Dn::new(rdns.iter().map(|r| Rdn::new(r.iter().map(|(o, v)| text(o, v)).collect())).collect())
}

fn parse(s: &str) -> Dn {
    parse_rfc4514(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// portal-hanoi's subject as the dev PKI issues it (DER order).
fn hanoi_der() -> Vec<u8> {
    name(&[
        &[(C, PRINTABLE, b"VN")],
        &[(ST, UTF8, "Hà Nội".as_bytes())],
        &[(O, UTF8, "UBND Thành phố Hà Nội".as_bytes())],
        &[(OU, UTF8, "Cổng dịch vụ công".as_bytes())],
        &[(CN, UTF8, b"portal-hanoi")],
    ])
}

const HANOI: &str = "CN=portal-hanoi,OU=Cổng dịch vụ công,O=UBND Thành phố Hà Nội,ST=Hà Nội,C=VN";

#[test]
fn a_der_name_reads_most_specific_first_and_renders_as_openssl_does() {
    let d = from_der(&hanoi_der());
    assert_eq!(
        d,
        dn(&[
            &[(CN, "portal-hanoi")],
            &[(OU, "Cổng dịch vụ công")],
            &[(O, "UBND Thành phố Hà Nội")],
            &[(ST, "Hà Nội")],
            &[(C, "VN")]
        ])
    );
    assert_eq!(d.to_string(), HANOI);
    assert_eq!(parse(HANOI), d);
}

#[test]
fn equivalent_spellings_read_alike() {
    let d = from_der(&hanoi_der());
    for s in [
        "cn=portal-hanoi, ou=Cổng dịch vụ công, O=UBND Thành phố Hà Nội , st = Hà Nội , C=VN",
        "  CN = portal-hanoi ,OU=Cổng dịch vụ công,o=UBND Thành phố Hà Nội,St=Hà Nội,c=VN  ",
        "2.5.4.3=portal-hanoi,2.5.4.11=Cổng dịch vụ công,2.5.4.10=UBND Thành phố Hà Nội,2.5.4.8=Hà Nội,2.5.4.6=VN",
        r"CN=portal\2dhanoi,OU=C\e1\bb\95ng dịch vụ công,O=UBND Thành phố Hà Nội,ST=Hà Nội,C=VN",
        r"CN=portal-hanoi,OU=Cổng dịch vụ công,O=UBND Thành phố Hà Nội,ST=Hà Nội,C=#1302564E ",
    ] {
        assert_eq!(parse(s), d, "{s:?}");
    }
    assert_eq!(parse(r"CN=a\2Cb"), dn(&[&[(CN, "a,b")]]));
    assert_eq!(parse(r"CN=a\,b"), parse(r"CN=a\2cb"));
    assert_eq!(parse(r"CN=\ a\ "), dn(&[&[(CN, " a ")]]));
    assert_eq!(parse(r"CN=a\  , O=b"), dn(&[&[(CN, "a ")], &[(O, "b")]]));
    assert_eq!(parse(r"CN=\#a=b\=c"), dn(&[&[(CN, "#a=b=c")]]));
    assert_eq!(parse(r#"CN=\"\+\,\;\<\>\\"#), dn(&[&[(CN, r#""+,;<>\"#)]]));
    assert_eq!(parse("CN="), dn(&[&[(CN, "")]]));
    assert_eq!(parse("emailAddress=a@b,uid=x,dc=vn,serialnumber=1,TITLE=t,street=s,l=l"), {
        dn(&[
            &[("1.2.840.113549.1.9.1", "a@b")],
            &[("0.9.2342.19200300.100.1.1", "x")],
            &[("0.9.2342.19200300.100.1.25", "vn")],
            &[("2.5.4.5", "1")],
            &[("2.5.4.12", "t")],
            &[("2.5.4.9", "s")],
            &[("2.5.4.7", "l")],
        ])
    });
}

#[test]
fn values_are_significant_but_for_unescaped_ascii_spaces_at_their_ends() {
    assert_ne!(parse(r"CN=portal-hanoi\ "), parse("CN=portal-hanoi"));
    assert_ne!(parse(r"CN=\ portal-hanoi"), parse("CN=portal-hanoi"));
    assert_ne!(parse("CN=Portal-Hanoi"), parse("CN=portal-hanoi"));
    assert_ne!(parse("CN=portal  hanoi"), parse("CN=portal hanoi"));
    for ws in ['\u{2003}', '\u{00A0}', '\u{3000}', '\t'] {
        assert_eq!(parse(&format!("CN={ws}a{ws}")), dn(&[&[(CN, &format!("{ws}a{ws}"))]]), "{ws:?}");
        assert_ne!(parse(&format!("CN=a{ws}")), parse("CN=a"), "{ws:?}");
    }
    // A value of #hex is not the string of those characters.
    assert_ne!(parse("CN=#0c0161"), parse(r"CN=\#0c0161"));
    // ... but the DER of a string is that string.
    assert_eq!(parse("CN=#0c0161"), parse("CN=a"));
    assert_eq!(
        parse("CN=#1e020061"),
        Dn::new(vec![Rdn::new(vec![DnAttribute::new(CN, DnValue::Der(vec![0x1e, 2, 0, 0x61]))])])
    );
}

#[test]
fn multi_valued_rdns_are_sets_and_not_separate_rdns() {
    assert_eq!(parse("CN=a+O=b"), dn(&[&[(CN, "a"), (O, "b")]]));
    assert_eq!(parse("CN=a + O=b"), parse("O=b+CN=a"));
    assert_ne!(parse("CN=a+O=b"), parse("CN=a,O=b"));
    assert_ne!(parse("CN=a,O=b"), parse("O=b,CN=a"));
    assert_ne!(parse("CN=a+O=b"), parse("CN=a+O=b+C=VN"));
    let der = name(&[&[(C, PRINTABLE, b"VN")], &[(CN, UTF8, b"a"), (O, UTF8, b"b")]]);
    let d = from_der(&der);
    assert_eq!(d.to_string(), "CN=a+O=b,C=VN");
    assert_eq!(d, parse("O=b+CN=a,C=VN"));
    assert_ne!(d, parse("CN=a,O=b,C=VN"));
}

#[test]
fn malformed_names_are_refused() {
    for s in [
        "",
        "   ",
        "portal-hanoi",
        "CN",
        "CN=a,portal",
        "=a",
        " = a",
        "CN=a,",
        ",CN=a",
        "CN=a,,O=b",
        "CN=a+",
        "+CN=a",
        "XX=a",
        "C N=a",
        "OID.2.5.4.3=a",
        "2=a",
        "2.05.4.3=a",
        "2..4=a",
        "2.5.4.3.=a",
        r"CN=a\",
        r"CN=a\ b\",
        r"CN=a\q",
        r"CN=a\é",
        r"CN=a\4",
        r"CN=a\4g",
        r"CN=\FF",
        r"CN=\C3",
        r"CN=\C3\28",
        "CN=#",
        "CN=#0",
        "CN=#zz",
        "CN=#0c0161x",
        "CN=#0c0161 x",
        "CN=#0c02",
        "CN=#0c016161",
        "CN=#0c810161",
        "CN=a\"b",
        "CN=a;O=b",
        "CN=a<b",
        "CN=a>b",
        "CN=a\0b",
        "CN=a+CN=a",
        "cn=a+CN=a",
    ] {
        assert!(parse_rfc4514(s).is_err(), "{s:?} was accepted as {:?}", parse_rfc4514(s));
    }
    assert!(parse_rfc4514("XX=a").is_err_and(|e| e.contains("unknown attribute type `XX`")));
    assert!(parse_rfc4514(r"CN=a\").is_err_and(|e| e.contains("lone")));
}

#[test]
fn rendered_names_read_back_to_the_same_structure() {
    let tricky = [
        "portal-hanoi ",
        " portal-hanoi",
        " ",
        "  ",
        "a  ",
        "",
        "#hash",
        "a#b",
        r#"a,b+c"d\e<f>g;h=i"#,
        "\u{2003}portal\u{2003}",
        "\u{00A0}x\u{00A0}",
        "\u{3000}",
        "line\nbreak\r",
        "tab\t",
        "nul\0",
        "\u{202E}lanoitan",
        "zero\u{200B}width",
        "\u{FEFF}bom",
        "Thành phố Hồ Chí Minh",
    ];
    for v in tricky {
        let der = name(&[&[(C, PRINTABLE, b"VN")], &[(CN, UTF8, v.as_bytes()), (O, UTF8, v.as_bytes())]]);
        let d = from_der(&der);
        let s = d.to_string();
        assert_eq!(parse(&s), d, "{v:?} rendered as {s:?}");
        assert!(!s.chars().any(|c| c != ' ' && (c.is_whitespace() || c.is_control())), "{s:?} shows {v:?} plainly");
    }
    // Non-string values and types without a short name.
    let der = name(&[
        &[("2.5.4.97", UTF8, b"VATVN-0101234567")],
        &[(CN, BMP, &[0x00, 0x61, 0x00, 0x62])],
        &[("1.3.6.1.4.1.99999.1", 0x04, &[0xff, 0x00])],
    ]);
    let d = from_der(&der);
    let s = d.to_string();
    assert_eq!(s, "1.3.6.1.4.1.99999.1=#0402ff00,CN=#1e0400610062,2.5.4.97=VATVN-0101234567");
    assert_eq!(parse(&s), d);
    assert_ne!(parse("CN=ab"), Dn::new(vec![d.rdns()[1].clone()]));
}

#[test]
fn escaping_follows_rfc4514() {
    let mut s = String::new();
    escape("#a, b+c ", &mut s);
    assert_eq!(s, r"\#a\, b\+c\ ");
    let mut s = String::new();
    escape("\u{00A0}a\u{3000}", &mut s);
    assert_eq!(s, r"\C2\A0a\E3\80\80");
}
