//! Templates and documents: signature templates for xmlsec1, the dossiers they
//! are applied to, edits of signed bytes, and what `verify_xml` must say of a
//! document xmlsec1 signed.

use schemas::c14n::{Algorithm, Document};
use schemas::dsig::{
    parse_signature, verify_xml, DigestAlgorithm, ReferenceStyle, SignatureAlgorithm as A, VerifiedXml, DSIG_NS,
};

use super::{reference_c14n_uri, uri_of, ROOT_ID};
use crate::support::{example, now, Fixture};

/// A signature template for xmlsec1: a `ds:Signature` with empty `DigestValue`
/// and `SignatureValue`, and an empty `X509Data` for xmlsec1 to fill with the
/// certificates it was given.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) method: A,
    pub(crate) digest: DigestAlgorithm,
    pub(crate) signed_info_c14n: Algorithm,
    pub(crate) transform: Option<Algorithm>,
    pub(crate) reference: ReferenceStyle,
    /// Indented over several lines, with a comment in `SignedInfo` (which
    /// `SignedInfo` canonicalisation with comments must keep).
    pub(crate) decorated: bool,
}

pub(crate) const SIGNED_INFO_COMMENT: &str = "<!-- ký bởi xmlsec1 -->";

impl Template {
    pub(crate) fn new(
        method: A,
        signed_info_c14n: Algorithm,
        transform: Option<Algorithm>,
        reference: ReferenceStyle,
    ) -> Self {
        Self { method, digest: method.digest(), signed_info_c14n, transform, reference, decorated: false }
    }

    fn xml(&self) -> String {
        let (nl, i1, i2, i3, i4) =
            if self.decorated { ("\n", "  ", "    ", "      ", "        ") } else { ("", "", "", "", "") };
        let mut x = String::new();
        x.push_str(&format!("{i1}<ds:Signature xmlns:ds=\"{DSIG_NS}\">{nl}"));
        x.push_str(&format!("{i2}<ds:SignedInfo>{nl}"));
        if self.decorated {
            x.push_str(&format!("{i3}{SIGNED_INFO_COMMENT}{nl}"));
        }
        x.push_str(&format!("{i3}{}{nl}", c14n_element("CanonicalizationMethod", &self.signed_info_c14n)));
        x.push_str(&format!("{i3}<ds:SignatureMethod Algorithm=\"{}\"/>{nl}", self.method.uri()));
        x.push_str(&format!("{i3}<ds:Reference URI=\"{}\">{nl}", uri_of(self.reference)));
        x.push_str(&format!("{i4}<ds:Transforms>{nl}"));
        x.push_str(&format!(
            "{i4}  <ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>{nl}"
        ));
        if let Some(t) = &self.transform {
            x.push_str(&format!("{i4}  {}{nl}", c14n_element("Transform", t)));
        }
        x.push_str(&format!("{i4}</ds:Transforms>{nl}"));
        x.push_str(&format!("{i4}<ds:DigestMethod Algorithm=\"{}\"/>{nl}", self.digest.uri()));
        x.push_str(&format!("{i4}<ds:DigestValue></ds:DigestValue>{nl}"));
        x.push_str(&format!("{i3}</ds:Reference>{nl}"));
        x.push_str(&format!("{i2}</ds:SignedInfo>{nl}"));
        x.push_str(&format!("{i2}<ds:SignatureValue></ds:SignatureValue>{nl}"));
        x.push_str(&format!("{i2}<ds:KeyInfo>{nl}{i3}<ds:X509Data/>{nl}{i2}</ds:KeyInfo>{nl}"));
        x.push_str(&format!("{i1}</ds:Signature>{nl}"));
        x
    }

    /// The dossier with this template appended as the last child of its root.
    pub(crate) fn apply(&self, doc: &[u8]) -> Vec<u8> {
        insert_before_root_end(doc, &self.xml())
    }
}

fn c14n_element(name: &str, alg: &Algorithm) -> String {
    match alg {
        Algorithm::Exclusive { inclusive_prefixes, .. } if !inclusive_prefixes.is_empty() => format!(
            "<ds:{name} Algorithm=\"{}\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"{}\"/></ds:{name}>",
            alg.uri(),
            inclusive_prefixes.join(" ")
        ),
        _ => format!("<ds:{name} Algorithm=\"{}\"/>", alg.uri()),
    }
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    (0..hay.len().saturating_sub(needle.len() - 1)).filter(|&i| hay[i..].starts_with(needle)).collect()
}

fn insert_before_root_end(doc: &[u8], what: &str) -> Vec<u8> {
    let at = *find(doc, b"</HoSo>").last().expect("the dossier ends with </HoSo>");
    [&doc[..at], what.as_bytes(), &doc[at..]].concat()
}

/// Replaces the one occurrence of `from`.
pub(crate) fn replace_once(doc: &[u8], from: &str, to: &str) -> Vec<u8> {
    let hits = find(doc, from.as_bytes());
    assert_eq!(hits.len(), 1, "{from:?} must occur exactly once, found {}", hits.len());
    [&doc[..hits[0]], to.as_bytes(), &doc[hits[0] + from.len()..]].concat()
}

/// Changes one character inside the `SignatureValue` (keeping it valid base64).
pub(crate) fn tamper_signature_value(doc: &[u8]) -> Vec<u8> {
    let start = find(doc, b"SignatureValue>")[0] + "SignatureValue>".len();
    let mut out = doc.to_vec();
    let i = (start + 10..start + 40).find(|&i| out[i].is_ascii_alphanumeric()).expect("base64 in SignatureValue");
    out[i] = if out[i] == b'A' { b'B' } else { b'A' };
    out
}

/// khai-tu.xml with comments and unusual but insignificant whitespace through it:
/// comments between fields (one holding markup that must not be read), blank
/// lines and tabs between elements, spaces inside tags and around `=`, a comment
/// after the document element, CRLF line ends.
pub(crate) fn dossier_with_comments() -> Vec<u8> {
    let mut d = String::from_utf8(example("khai-tu.xml")).expect("UTF-8");
    let edits = [
        (
            format!("<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"{ROOT_ID}\">"),
            format!("<HoSo\n    xmlns=\"urn:lienthong:hoso:1\"\n    Id = '{ROOT_ID}' >\n  <!-- hồ sơ khai tử, bản có chú thích -->"),
        ),
        ("<MaHoSo>".into(), "<!---->\n\n\t<MaHoSo >".into()),
        ("</MaTTHC>".into(), "</MaTTHC >\n  <!-- <TenTTHC>Thủ tục giả mạo</TenTTHC> -->".into()),
        ("<ChuHoSo>".into(), "<!-- người nộp --><ChuHoSo\t>".into()),
        ("<TaiLieuNop>".into(), "<TaiLieuNop>\n    <!-- hai tệp đính kèm -->\n\n".into()),
        ("    </TepDinhKem>\n  </TaiLieuNop>".into(), "    </TepDinhKem>   \t\n  <!-- hết tệp -->\n  </TaiLieuNop>".into()),
        ("</HoSo>".into(), "<!-- cuối hồ sơ -->\n</HoSo>\n<!-- sau phần tử gốc -->".into()),
    ];
    for (from, to) in edits {
        assert_eq!(d.matches(&from).count(), 1, "{from:?} occurs once in khai-tu.xml");
        d = d.replacen(&from, &to, 1);
    }
    d.replace('\n', "\r\n").into_bytes()
}

/// Checks what `verify_xml` says of a document xmlsec1 signed.
pub(crate) fn check_gateway_accepts(
    f: &Fixture,
    signed: &[u8],
    original: &[u8],
    who: &str,
    t: &Template,
    label: &str,
) -> VerifiedXml {
    // xmlsec1 kept the template and filled in both certificates.
    let parsed = Document::parse(signed).unwrap_or_else(|e| panic!("{label}: xmlsec1's output does not parse: {e}"));
    let info = parse_signature(&parsed)
        .unwrap_or_else(|e| panic!("{label}: xmlsec1's signature is outside the profile: {e}"))
        .expect("the document is signed");
    assert_eq!(info.certificates.len(), 2, "{label}: X509Data holds the leaf and the intermediate");
    assert_eq!(info.c14n, t.signed_info_c14n, "{label}");
    assert_eq!(info.digest, t.digest, "{label}");
    assert_eq!(info.reference_uri, uri_of(t.reference), "{label}");

    let v = verify_xml(signed, &f.store, &now())
        .unwrap_or_else(|e| panic!("{label}: the gateway refuses xmlsec1's signature: {e} ({})", e.code()))
        .expect("the document is signed");
    assert_eq!(v.algorithm, t.method, "{label}");
    assert_eq!(v.signer.cert.common_name.as_deref(), Some(who), "{label}");
    assert_eq!(v.reference_uri, uri_of(t.reference), "{label}");
    assert_eq!(v.c14n, reference_c14n_uri(&t.transform), "{label}");
    let expected = schemas::dossier_from_xml(original).expect("the original is a valid dossier");
    let read = schemas::dossier_from_xml(&v.signed_octets)
        .unwrap_or_else(|e| panic!("{label}: the signed octets are not a dossier: {e}"));
    assert_eq!(read, expected, "{label}: the dossier read from the signed octets differs from the original");
    v
}
