//! Both sides really check: a dossier or a signature value tampered with after
//! one side signed is refused by the gateway and by xmlsec1.

use schemas::dsig::{sign_xml, verify_xml, XmlSignOptions};

use super::documents::{check_gateway_accepts, replace_once, tamper_signature_value, Template};
use super::{
    assert_xmlsec_ok, assert_xmlsec_refuses, exc, inc, xmlsec_sign, Scratch, FIELD, FIELD_TAMPERED, REFERENCES, SIGNERS,
};
use crate::support::{example, fixture, now};

#[test]
fn a_dossier_tampered_after_xmlsec1_signed_it_is_refused_by_the_gateway() {
    let f = fixture();
    let s = Scratch::new("tamper-in");
    let doc = example("khai-tu.xml");
    for &(who, method) in SIGNERS {
        for (si, transform) in [(exc(false), Some(exc(false))), (inc(true), Some(inc(true)))] {
            for reference in REFERENCES {
                let t = Template::new(method, si.clone(), transform.clone(), reference);
                let label = format!("xmlsec1 {who} {} {t:?}", method.name());
                let signed = xmlsec_sign(&s, &f, who, &t.apply(&doc), reference);
                check_gateway_accepts(&f, &signed, &doc, who, &t, &label);

                let tampered = replace_once(&signed, FIELD, FIELD_TAMPERED);
                let e = verify_xml(&tampered, &f.store, &now())
                    .expect_err(&format!("{label}: the gateway accepts a tampered dossier"));
                assert_eq!(e.code(), "signature_digest_mismatch", "{label}: {e}");
                // It is a real change: xmlsec1 refuses it too.
                assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered"));

                let tampered = tamper_signature_value(&signed);
                let e = verify_xml(&tampered, &f.store, &now())
                    .expect_err(&format!("{label}: the gateway accepts a tampered signature value"));
                assert_eq!(e.code(), "signature_invalid", "{label}: {e}");
            }
        }
    }
}

#[test]
fn a_dossier_tampered_after_the_gateway_signed_it_is_refused_by_xmlsec1() {
    let f = fixture();
    let s = Scratch::new("tamper-out");
    let doc = example("khai-tu.xml");
    for &(who, alg) in SIGNERS {
        let id = f.identity_with(who, alg);
        for c14n in [exc(false), inc(true)] {
            for reference in REFERENCES {
                let label = format!("sign_xml {who} {} {c14n:?} {reference:?}", alg.name());
                let signed = sign_xml(&doc, &id, &XmlSignOptions { c14n: c14n.clone(), reference }).expect("sign");
                assert_xmlsec_ok(&s, &f, &signed, reference, &label);

                let tampered = replace_once(&signed, FIELD, FIELD_TAMPERED);
                let err = assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered dossier"));
                assert!(
                    err.contains("SignedInfo References (ok/all): 0/1"),
                    "{label}: xmlsec1 refuses the tampered dossier for its digest: {err}"
                );
                let e = verify_xml(&tampered, &f.store, &now()).expect_err("the gateway accepts it");
                assert_eq!(e.code(), "signature_digest_mismatch", "{label}: {e}");

                let tampered = tamper_signature_value(&signed);
                assert_xmlsec_refuses(&s, &f, &tampered, reference, &format!("{label}, tampered signature value"));
            }
        }
    }
}
