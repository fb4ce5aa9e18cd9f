//! Signer bindings: a [`SignerBinding`] matches exactly the signer it names.

use schemas::pki::SignerBinding;

use crate::support::fixture;

#[test]
fn signer_bindings_match_exactly_the_named_signer() {
    let f = fixture();
    let hanoi = f.identity("portal-hanoi").certificate().clone();
    let hcm = f.identity("portal-hcm").certificate().clone();
    let untrusted = f.identity("untrusted-leaf").certificate().clone();
    let entry = f.pki.entry("portal-hanoi");
    let subject = entry["subject"].as_str().expect("a subject").to_owned();
    let spki = entry["spki_sha256"].as_str().expect("an SPKI hash").to_owned();
    assert_eq!(hanoi.subject, subject, "the library reads the subject as the PKI wrote it");
    assert_eq!(hanoi.spki_sha256, spki);

    let by_subject = SignerBinding { subject: Some(subject.clone()), ..Default::default() };
    let by_org = SignerBinding { organisation: hanoi.organisation.clone(), ..Default::default() };
    assert_eq!(by_org.organisation.as_deref(), Some("UBND Thành phố Hà Nội"));
    let by_spki = SignerBinding { spki_sha256: Some(spki.clone()), ..Default::default() };
    for (name, b) in [("subject", &by_subject), ("organisation", &by_org), ("spki_sha256", &by_spki)] {
        assert!(b.matches(&hanoi), "portal-hanoi by {name}");
        assert!(!b.matches(&hcm), "portal-hcm matched a binding of portal-hanoi by {name}");
    }
    // Same CN, other organisation and key: not portal-hanoi.
    assert!(!by_subject.matches(&untrusted));
    assert!(!by_org.matches(&untrusted));
    assert!(!by_spki.matches(&untrusted));
    // A binding that names nothing matches nobody.
    let empty = SignerBinding::default();
    for c in [&hanoi, &hcm, &untrusted] {
        assert!(!empty.matches(c), "the empty binding matched {}", c.subject);
    }
    // Every field must match.
    let mixed = SignerBinding {
        subject: Some(subject.clone()),
        spki_sha256: Some(hcm.spki_sha256.clone()),
        ..Default::default()
    };
    assert!(!mixed.matches(&hanoi) && !mixed.matches(&hcm));
    let full = SignerBinding {
        subject: Some(subject.clone()),
        organisation: hanoi.organisation.clone(),
        spki_sha256: Some(spki.clone()),
    };
    assert!(full.matches(&hanoi) && !full.matches(&hcm));
    // Spelling of the subject: spaces after commas and the case of attribute types do not matter.
    let spaced = subject.replace(',', ", ");
    let lower_types = subject
        .split(',')
        .map(|rdn| {
            let (t, v) = rdn.split_once('=').expect("type=value");
            format!("{}={v}", t.to_ascii_lowercase())
        })
        .collect::<Vec<_>>()
        .join(" , ");
    assert!(lower_types.starts_with("cn=portal-hanoi , ou="), "{lower_types}");
    for s in [spaced, lower_types] {
        let b = SignerBinding { subject: Some(s.clone()), ..Default::default() };
        assert!(b.matches(&hanoi), "{s:?} names portal-hanoi");
        assert!(!b.matches(&hcm));
    }
    // ... but values do, and so does every attribute.
    for s in [
        subject.replace("CN=portal-hanoi", "CN=Portal-Hanoi"),
        subject.replace(",C=VN", ""),
        format!("{subject},L=Hà Nội"),
    ] {
        let b = SignerBinding { subject: Some(s.clone()), ..Default::default() };
        assert!(!b.matches(&hanoi), "{s:?} must not name portal-hanoi");
    }
    // The key pin tolerates the usual spellings of a hex fingerprint.
    let colons = spki.as_bytes().chunks(2).map(|p| std::str::from_utf8(p).expect("hex")).collect::<Vec<_>>().join(":");
    for s in [spki.to_ascii_uppercase(), colons, format!(" {spki} ")] {
        assert!(SignerBinding { spki_sha256: Some(s.clone()), ..Default::default() }.matches(&hanoi), "{s:?}");
    }
    let mut other = spki.clone().into_bytes();
    other[0] = if other[0] == b'0' { b'1' } else { b'0' };
    let other = String::from_utf8(other).expect("hex");
    assert!(!SignerBinding { spki_sha256: Some(other), ..Default::default() }.matches(&hanoi));
    // Bindings as configuration: unknown fields are refused.
    let parsed: SignerBinding =
        serde_json::from_value(serde_json::json!({ "spki_sha256": spki })).expect("a binding from configuration");
    assert!(parsed.matches(&hanoi));
    assert!(serde_json::from_value::<SignerBinding>(serde_json::json!({ "cn": "portal-hanoi" })).is_err());
}
