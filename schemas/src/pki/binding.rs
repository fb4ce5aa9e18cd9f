//! Which signers speak for a member: a configured binding by subject,
//! organisation or key, checked at configuration time and matched against a
//! verified signer's certificate.

use serde::Deserialize;

use super::{parse_rfc4514, CertInfo, Dn, DnValue};

/// The OID of the organisation (`O`) attribute.
const OID_ORGANISATION: &str = "2.5.4.10";

/// Which signers speak for a member: a signer matches when it matches every
/// field the binding sets (a binding with no field matches nobody). Check a
/// configured binding with [`SignerBinding::validate`]: a field that cannot be
/// read matches nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignerBinding {
    /// The signer certificate's subject, RFC 4514, most specific RDN first
    /// (`CN=portal-hanoi,O=...,C=VN`), read strictly by [`parse_rfc4514`] and
    /// compared with the certificate's DER subject structurally: the same RDNs in
    /// the same order, each with the same attributes (in any order within a
    /// multi-valued RDN; `CN=a+O=b` is not `CN=a,O=b`), types by OID (short names
    /// in any case, or dotted OIDs), values exactly, byte for byte (case, escaped
    /// spaces and all whitespace other than unescaped ASCII spaces around `,`,
    /// `+` and `=` are significant). A subject that does not parse matches nobody.
    #[serde(default)]
    pub subject: Option<String>,
    /// The subject's organisation (`O`), exactly, byte for byte: the subject must
    /// have exactly one `O` attribute, with this value (a certificate with several
    /// `O` attributes, or none, never matches by organisation).
    #[serde(default)]
    pub organisation: Option<String>,
    /// SHA-256 of the signer's SubjectPublicKeyInfo, hex (key pinning).
    #[serde(default)]
    pub spki_sha256: Option<String>,
}

/// Something wrong with a configured [`SignerBinding`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingProblem {
    /// The field concerned (`subject`, `organisation`, `spki_sha256`), or `None`
    /// for the binding as a whole.
    pub field: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

impl SignerBinding {
    /// Checks the binding as configuration: it must set a field, its subject must
    /// be an RFC 4514 name [`parse_rfc4514`] reads, its organisation must not be
    /// empty, and its key pin must be 64 hexadecimal digits (`:` allowed between).
    pub fn validate(&self) -> Result<(), Vec<BindingProblem>> {
        let mut problems = Vec::new();
        let mut push = |field, message: String| problems.push(BindingProblem { field, message });
        if self.is_empty() {
            push(None, "give subject, organisation or spki_sha256".into());
        }
        if let Some(s) = &self.subject {
            if let Err(e) = parse_rfc4514(s) {
                push(Some("subject"), format!("not an RFC 4514 distinguished name: {e}"));
            }
        }
        if self.organisation.as_deref() == Some("") {
            push(Some("organisation"), "must not be empty".into());
        }
        if let Some(k) = &self.spki_sha256 {
            let k = k.replace(':', "");
            if k.len() != 64 || !k.bytes().all(|c| c.is_ascii_hexdigit()) {
                push(Some("spki_sha256"), "must be 64 hexadecimal digits".into());
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Whether `cert` is a signer this binding names.
    pub fn matches(&self, cert: &CertInfo) -> bool {
        if self.is_empty() {
            return false;
        }
        // Fails closed: a subject that does not parse names nobody.
        let subject_ok = self.subject.as_deref().is_none_or(|s| parse_rfc4514(s).is_ok_and(|dn| dn == cert.subject_dn));
        let org_ok = self
            .organisation
            .as_deref()
            .is_none_or(|o| !o.is_empty() && sole_organisation(&cert.subject_dn) == Some(o));
        let spki_ok =
            self.spki_sha256.as_ref().is_none_or(|k| k.trim().replace(':', "").eq_ignore_ascii_case(&cert.spki_sha256));
        subject_ok && org_ok && spki_ok
    }

    fn is_empty(&self) -> bool {
        self.subject.is_none() && self.organisation.is_none() && self.spki_sha256.is_none()
    }
}

/// The subject's organisation, when it has exactly one `O` and that is a string.
fn sole_organisation(dn: &Dn) -> Option<&str> {
    let mut orgs = dn.values(OID_ORGANISATION);
    match (orgs.next(), orgs.next()) {
        (Some(DnValue::Text(o)), None) => Some(o),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::name::der::{certificate, name, BMP, PRINTABLE, UTF8};

    const CN: &str = "2.5.4.3";
    const O: &str = "2.5.4.10";
    const C: &str = "2.5.4.6";
    const HANOI_ORG: &str = "UBND Thành phố Hà Nội";

    fn cert(subject: &[u8]) -> CertInfo {
        CertInfo::parse(&certificate(subject)).expect("a certificate")
    }

    /// `CN=<cn>,O=UBND Thành phố Hà Nội,C=VN`.
    fn hanoi_with_cn(cn: &str) -> CertInfo {
        cert(&name(&[&[(C, PRINTABLE, b"VN")], &[(O, UTF8, HANOI_ORG.as_bytes())], &[(CN, UTF8, cn.as_bytes())]]))
    }

    fn by_subject(s: &str) -> SignerBinding {
        SignerBinding { subject: Some(s.into()), ..Default::default() }
    }

    fn by_org(o: &str) -> SignerBinding {
        SignerBinding { organisation: Some(o.into()), ..Default::default() }
    }

    const HANOI: &str = "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=VN";

    #[test]
    fn the_subject_binds_its_certificate_in_every_equivalent_spelling() {
        let c = hanoi_with_cn("portal-hanoi");
        assert_eq!(c.subject, HANOI);
        for s in [
            HANOI,
            "cn=portal-hanoi, O=UBND Thành phố Hà Nội , C=VN",
            " CN = portal-hanoi , o = UBND Thành phố Hà Nội , c = VN ",
            "2.5.4.3=portal-hanoi,2.5.4.10=UBND Thành phố Hà Nội,2.5.4.6=VN",
            r"CN=portal\2Dhanoi,O=UBND Th\C3\A0nh phố Hà Nội,C=VN",
            // The DER of a string is that string, whichever string type.
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=#1302564e",
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=#0c02564E",
        ] {
            assert!(by_subject(s).validate().is_ok(), "{s:?}");
            assert!(by_subject(s).matches(&c), "{s:?} names portal-hanoi");
        }
        for s in [
            "CN=Portal-Hanoi,O=UBND Thành phố Hà Nội,C=VN",
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội",
            "O=UBND Thành phố Hà Nội,C=VN",
            "C=VN,O=UBND Thành phố Hà Nội,CN=portal-hanoi",
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=VN,C=VN",
            "CN=portal-hanoi+O=UBND Thành phố Hà Nội,C=VN",
            "CN=portal-hanoi,O=UBND  Thành phố Hà Nội,C=VN",
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=#1302564f",
            r"CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=\#1302564e",
        ] {
            assert!(!by_subject(s).matches(&c), "{s:?} must not name portal-hanoi");
        }
        // A comma in a value, escaped either way.
        let c = hanoi_with_cn("portal,hanoi");
        assert_eq!(c.subject, r"CN=portal\,hanoi,O=UBND Thành phố Hà Nội,C=VN");
        for s in [r"CN=portal\,hanoi,O=UBND Thành phố Hà Nội,C=VN", r"CN=portal\2Chanoi,O=UBND Thành phố Hà Nội,C=VN"]
        {
            assert!(by_subject(s).matches(&c), "{s:?}");
        }
        assert!(!by_subject("CN=portal,CN=hanoi,O=UBND Thành phố Hà Nội,C=VN").matches(&c));
    }

    #[test]
    fn a_trailing_or_leading_space_is_part_of_the_value() {
        for cn in ["portal-hanoi ", " portal-hanoi", "portal-hanoi  "] {
            let c = hanoi_with_cn(cn);
            assert!(!by_subject(HANOI).matches(&c), "{cn:?} matched a binding without the space");
            assert!(by_subject(&c.subject).matches(&c), "{:?} does not name its own certificate", c.subject);
        }
        let c = hanoi_with_cn("portal-hanoi ");
        assert_eq!(c.subject, r"CN=portal-hanoi\ ,O=UBND Thành phố Hà Nội,C=VN");
        assert!(by_subject(r"CN=portal-hanoi\20,O=UBND Thành phố Hà Nội,C=VN").matches(&c));
        // And the other way round: an escaped space in the binding is not in the certificate.
        let plain = hanoi_with_cn("portal-hanoi");
        assert!(!by_subject(&c.subject).matches(&plain));
        assert!(!by_subject(r"CN=\ portal-hanoi,O=UBND Thành phố Hà Nội,C=VN").matches(&plain));
    }

    #[test]
    fn unicode_whitespace_is_part_of_the_value() {
        for ws in ['\u{2003}', '\u{00A0}', '\u{3000}'] {
            for cn in [format!("portal-hanoi{ws}"), format!("{ws}portal-hanoi"), format!("{ws}portal-hanoi{ws}")] {
                let c = hanoi_with_cn(&cn);
                assert!(!by_subject(HANOI).matches(&c), "{cn:?} matched a binding without {ws:?}");
                // The rendering shows it escaped, and names the certificate.
                assert!(!c.subject.contains(ws), "{:?}", c.subject);
                assert!(by_subject(&c.subject).matches(&c), "{:?}", c.subject);
                assert!(!by_subject(&c.subject).matches(&hanoi_with_cn("portal-hanoi")));
                // Written plainly in the binding, it is significant too.
                let plainly = format!("CN={cn},O={HANOI_ORG},C=VN");
                assert!(by_subject(&plainly).matches(&c), "{plainly:?}");
            }
        }
    }

    #[test]
    fn a_multi_valued_rdn_is_not_separate_rdns() {
        let multi = cert(&name(&[&[(C, PRINTABLE, b"VN")], &[(CN, UTF8, b"a"), (O, UTF8, b"b")]]));
        let separate = cert(&name(&[&[(C, PRINTABLE, b"VN")], &[(O, UTF8, b"b")], &[(CN, UTF8, b"a")]]));
        assert_eq!(multi.subject, "CN=a+O=b,C=VN");
        assert_eq!(separate.subject, "CN=a,O=b,C=VN");
        for s in ["CN=a+O=b,C=VN", "O=b+CN=a,C=VN", "cn=a + o=b , c=VN"] {
            assert!(by_subject(s).matches(&multi), "{s:?}");
            assert!(!by_subject(s).matches(&separate), "{s:?}");
        }
        for s in ["CN=a,O=b,C=VN", "O=b,CN=a,C=VN", "CN=a+O=b+C=VN"] {
            assert!(!by_subject(s).matches(&multi), "{s:?}");
        }
        assert!(by_subject("CN=a,O=b,C=VN").matches(&separate));
    }

    #[test]
    fn bad_subjects_are_configuration_errors_and_match_nobody() {
        let empty = cert(&name(&[]));
        assert_eq!(empty.subject, "");
        assert!(empty.subject_dn.is_empty());
        let plain = hanoi_with_cn("portal-hanoi");
        for s in [
            "",
            " ",
            "portal-hanoi",
            "CN",
            "CN=portal-hanoi,portal",
            "XX=portal-hanoi",
            "CN=portal-hanoi\\",
            "CN=portal-hanoi,O=UBND Thành phố Hà Nội,C=VN\\",
            "CN=portal-hanoi;O=UBND Thành phố Hà Nội;C=VN",
            "CN=portal-hanoi,,O=UBND Thành phố Hà Nội,C=VN",
        ] {
            let b = by_subject(s);
            let problems = b.validate().expect_err(s);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert_eq!(problems[0].field, Some("subject"), "{problems:?}");
            assert!(problems[0].message.starts_with("not an RFC 4514 distinguished name: "), "{problems:?}");
            assert!(!b.matches(&empty), "{s:?} matched the empty subject");
            assert!(!b.matches(&plain), "{s:?} matched portal-hanoi");
            // Not even with another field that does match.
            let with_org = SignerBinding { organisation: Some(HANOI_ORG.into()), ..b };
            assert!(!with_org.matches(&plain), "{s:?}");
        }
    }

    #[test]
    fn the_organisation_must_be_the_only_one() {
        let plain = hanoi_with_cn("portal-hanoi");
        assert!(by_org(HANOI_ORG).matches(&plain));
        assert!(!by_org("UBND Thành phố Hà Nội ").matches(&plain));
        assert!(!by_org("ubnd thành phố hà nội").matches(&plain));
        let two = cert(&name(&[
            &[(C, PRINTABLE, b"VN")],
            &[(O, UTF8, HANOI_ORG.as_bytes())],
            &[(O, UTF8, b"Somebody Else")],
            &[(CN, UTF8, b"portal-hanoi")],
        ]));
        assert_eq!(two.organisation.as_deref(), Some(HANOI_ORG));
        assert!(!by_org(HANOI_ORG).matches(&two));
        assert!(!by_org("Somebody Else").matches(&two));
        let in_one_rdn = cert(&name(&[&[(O, UTF8, HANOI_ORG.as_bytes()), (O, UTF8, b"x")]]));
        assert!(!by_org(HANOI_ORG).matches(&in_one_rdn));
        let none = cert(&name(&[&[(CN, UTF8, b"portal-hanoi")]]));
        assert!(!by_org(HANOI_ORG).matches(&none));
        let not_text = cert(&name(&[&[(O, BMP, &[0, b'x'])]]));
        assert!(!by_org("x").matches(&not_text));
        let empty_o = cert(&name(&[&[(O, UTF8, b"")]]));
        assert!(!by_org("").matches(&empty_o));
        let problems = by_org("").validate().expect_err("an empty organisation");
        assert_eq!(problems[0].field, Some("organisation"));
    }

    #[test]
    fn validation_reports_each_field() {
        assert!(SignerBinding::default().validate().is_err_and(|p| p.len() == 1 && p[0].field.is_none()));
        let b = SignerBinding {
            subject: Some("CN".into()),
            organisation: Some(String::new()),
            spki_sha256: Some("abc".into()),
        };
        let fields: Vec<_> = b.validate().expect_err("three problems").into_iter().map(|p| p.field).collect();
        assert_eq!(fields, [Some("subject"), Some("organisation"), Some("spki_sha256")]);
        let good = SignerBinding {
            subject: Some(HANOI.into()),
            organisation: Some(HANOI_ORG.into()),
            spki_sha256: Some(hanoi_with_cn("portal-hanoi").spki_sha256),
        };
        assert_eq!(good.validate(), Ok(()));
        assert!(good.matches(&hanoi_with_cn("portal-hanoi")));
        assert!(!good.matches(&hanoi_with_cn("portal-hanoi ")));
    }

    #[test]
    fn a_value_that_is_not_a_string_binds_only_by_its_der() {
        let c = cert(&name(&[&[(C, PRINTABLE, b"VN")], &[(CN, BMP, &[0, b'a'])]]));
        assert_eq!(c.subject, "CN=#1e020061,C=VN");
        assert!(by_subject("CN=#1e020061,C=VN").matches(&c));
        assert!(by_subject("CN=#1E020061 , C=VN").matches(&c));
        assert!(!by_subject("CN=a,C=VN").matches(&c));
        assert!(!by_subject(r"CN=\#1e020061,C=VN").matches(&c));
    }
}
