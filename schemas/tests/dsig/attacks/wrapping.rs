//! Signature wrapping: a misplaced or second signature, decoy IDs, extra or
//! redirected references, and the classic wrapping of the signed original.

use schemas::dsig::ReferenceStyle;

use super::helpers::{cut, digest_for, element, redigest, replace_once, reseal, signed_by, text_of, ROOT_ID};
use super::{case, run, Case};
use crate::support::{fixture, Fixture};

pub(crate) fn wrapping_cases(f: &Fixture) -> Vec<Case> {
    let hanoi = f.identity("portal-hanoi");
    let whole = signed_by(&hanoi, ReferenceStyle::WholeDocument);
    let by_id = signed_by(&hanoi, ReferenceStyle::RootId);
    let uri = format!("URI=\"#{ROOT_ID}\"");
    let (whole_bare, whole_sig) = cut(&whole, "ds:Signature");
    let (id_bare, id_sig) = cut(&by_id, "ds:Signature");
    let mut cases = Vec::new();

    // Signature placement.
    let nested = replace_once(&whole_bare, "<TaiLieuNop>", &format!("<TaiLieuNop>{whole_sig}"));
    cases.push(case("signature moved into a nested element", nested, "signature_misplaced"));
    let deep = replace_once(&id_bare, "<KhaiTu>", &format!("<KhaiTu>{id_sig}"));
    cases.push(case("signature moved deep into the business data (URI=#id)", deep, "signature_misplaced"));
    cases.push(case(
        "two signatures, both children of the root",
        replace_once(&whole, "</HoSo>", &format!("{whole_sig}</HoSo>")),
        "signature_multiple",
    ));
    cases.push(case(
        "a second signature hidden in the content",
        replace_once(&whole, "<DanhSachLePhi>", &format!("<DanhSachLePhi>{id_sig}")),
        "signature_multiple",
    ));

    // IDs.
    let decoy = format!("<DanhSachLePhi Id=\"{ROOT_ID}\">");
    cases.push(case(
        "the root's Id also on a decoy element",
        replace_once(&by_id, "<DanhSachLePhi>", &decoy),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy as ID",
        replace_once(&by_id, "<DanhSachLePhi>", &format!("<DanhSachLePhi ID=\"{ROOT_ID}\">")),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy as id",
        replace_once(&by_id, "<DanhSachLePhi>", &format!("<DanhSachLePhi id=\"{ROOT_ID}\">")),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root's Id on a decoy inside a ds:Object",
        replace_once(
            &by_id,
            "</ds:Signature>",
            &format!("<ds:Object><HoSo Id=\"{ROOT_ID}\"><ChuHoSo>Kẻ Gian</ChuHoSo></HoSo></ds:Object></ds:Signature>"),
        ),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "the root carries its ID twice (Id and ID)",
        replace_once(&by_id, &format!("Id=\"{ROOT_ID}\""), &format!("Id=\"{ROOT_ID}\" ID=\"{ROOT_ID}\"")),
        "signature_duplicate_id",
    ));

    // References.
    let reference = element(&by_id, "ds:Reference").to_owned();
    cases.push(case(
        "a second Reference in SignedInfo",
        reseal(&replace_once(&by_id, "</ds:Reference>", &format!("</ds:Reference>{reference}")), &hanoi),
        "signature_multiple_references",
    ));
    cases.push(case(
        "a second Reference to an external document",
        reseal(
            &replace_once(
                &by_id,
                "</ds:Reference>",
                &format!("</ds:Reference>{}", reference.replace(&uri, "URI=\"http://evil.example/x.xml\"")),
            ),
            &hanoi,
        ),
        "signature_multiple_references",
    ));
    cases.push(case(
        "no Reference in SignedInfo",
        reseal(&replace_once(&by_id, &reference, ""), &hanoi),
        "signature_malformed",
    ));
    // A genuine signature by the member over a descendant only (it has its own Id).
    let part = replace_once(&by_id, "<DuLieuNghiepVu>", "<DuLieuNghiepVu Id=\"nghiep-vu\">");
    let part = reseal(&redigest(&replace_once(&part, &uri, "URI=\"#nghiep-vu\"")), &hanoi);
    cases.push(case("a Reference to a signed descendant with its own Id", part, "signature_reference_not_root"));
    cases.push(case(
        "a Reference to an unresolved #id",
        reseal(&replace_once(&by_id, &uri, "URI=\"#hs-khong-co\""), &hanoi),
        "signature_reference_unresolved",
    ));
    cases.push(case(
        "the root's Id removed",
        replace_once(&by_id, &format!(" Id=\"{ROOT_ID}\""), ""),
        "signature_reference_unresolved",
    ));
    for (name, to) in [
        ("an external http URI", "URI=\"http://evil.example/hoso.xml\""),
        ("a relative URI", "URI=\"doc.xml\""),
        ("a file URI", "URI=\"file:///etc/passwd\""),
        ("an empty fragment", "URI=\"#\""),
        ("no URI at all", ""),
    ] {
        cases.push(case(
            &format!("Reference with {name}"),
            reseal(&replace_once(&by_id, &uri, to), &hanoi),
            "signature_reference_external",
        ));
    }
    for (name, to) in [("#xpointer(/)", "URI=\"#xpointer(/)\""), ("#xpointer(id(...))", "URI=\"#xpointer(id('x'))\"")] {
        cases.push(case(
            &format!("Reference {name}"),
            reseal(&replace_once(&by_id, &uri, to), &hanoi),
            "signature_transform_xpath",
        ));
    }

    // The classic wrapping: the genuinely signed original moves inside a new
    // document element with other content; the one signature stays a child of
    // the new root, so that only the Reference's target betrays the attack.
    let prolog_end = id_bare.find("<HoSo").expect("the root");
    let (prolog, original) = id_bare.split_at(prolog_end);
    let original = original.trim_end();
    let start_tag_end = original.find('>').expect("start tag") + 1;
    let evil_inner = original[start_tag_end..original.len() - "</HoSo>".len()]
        .replace("Phạm Thị Lan", "Kẻ Gian")
        .replace("<CoQuanDich>moj</CoQuanDich>", "<CoQuanDich>mpi</CoQuanDich>");
    let wrap = |root_id: &str, sig: &str, wrapped: &str| {
        format!(
            "{prolog}<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"{root_id}\">{evil_inner}{sig}<Wrapper>{wrapped}</Wrapper></HoSo>"
        )
    };
    let classic = wrap("hs-evil", &id_sig, original);
    // The moved original still matches the signed digest: only the profile stands
    // between this document and acceptance.
    assert_eq!(
        digest_for(&classic),
        text_of(&classic, "ds:DigestValue"),
        "the wrapped original is still the signed content"
    );
    cases.push(case("classic wrapping: signed original inside a new root", classic, "signature_reference_not_root"));
    cases.push(case(
        "classic wrapping: the new root claims the signed Id too",
        wrap(ROOT_ID, &id_sig, original),
        "signature_duplicate_id",
    ));
    cases.push(case(
        "classic wrapping: the signed original, signature and all, inside a new root",
        wrap("hs-evil", "", original.replace("</HoSo>", &format!("{id_sig}</HoSo>")).as_str()),
        "signature_misplaced",
    ));
    cases.push(case(
        "wrapping: the signed original in a ds:Object of the signature",
        format!(
            "{prolog}<HoSo xmlns=\"urn:lienthong:hoso:1\" Id=\"hs-evil\">{evil_inner}{}</HoSo>",
            id_sig.replace("</ds:Signature>", &format!("<ds:Object>{original}</ds:Object></ds:Signature>"))
        ),
        "signature_reference_not_root",
    ));
    cases.push(case(
        "wrapping a URI=\"\" signature: original inside a new root",
        wrap("hs-evil", &whole_sig, whole_bare[whole_bare.find("<HoSo").expect("root")..].trim_end()),
        "signature_digest_mismatch",
    ));
    cases
}

#[test]
fn signature_wrapping_is_refused() {
    let f = fixture();
    let codes = run(&f, wrapping_cases(&f));
    for c in [
        "signature_misplaced",
        "signature_multiple",
        "signature_duplicate_id",
        "signature_multiple_references",
        "signature_reference_not_root",
        "signature_reference_unresolved",
        "signature_reference_external",
        "signature_transform_xpath",
    ] {
        assert!(codes.contains(c), "{c} not produced");
    }
}
