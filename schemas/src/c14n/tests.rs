//! Unit tests: parser refusals, limits, look-ups and the algorithms' core rules.

use super::*;

fn c14n(xml: &str, alg: &Algorithm) -> String {
    let doc = Document::parse(xml.as_bytes()).unwrap();
    String::from_utf8(doc.canonicalize(doc.document(), None, alg)).unwrap()
}

const INC: Algorithm = Algorithm::Inclusive { comments: false };

fn exc(prefixes: &str) -> Algorithm {
    Algorithm::from_uri(EXC_C14N_URI).unwrap().with_prefix_list(prefixes)
}

#[test]
fn refusals() {
    let cases: &[(&[u8], &str)] = &[
        (b"<!DOCTYPE a><a/>", "document type"),
        (b"\xff\xfe<\x00a\x00/\x00>\x00", "UTF-8"),
        (b"<a>\xe9</a>", "UTF-8"),
        (b"<?xml version='1.0' encoding='ISO-8859-1'?><a/>", "UTF-8"),
        (b"<a>&nbsp;</a>", "undeclared entity"),
        (b"<a x='&foo;'/>", "undeclared entity"),
        (b"<a>&#0;</a>", "character reference"),
        (b"<a>\x01</a>", "not allowed"),
        (b"<p:a/>", "undeclared namespace prefix"),
        (b"<a xmlns:p=''/>", "invalid declaration"),
        (b"<a xmlns='rel/uri'/>", "relative namespace"),
        (b"<a xmlns='urn:a' xmlns:='urn:b'/>", "needs a prefix after xmlns:"),
        (b"<a xmlns:xml='urn:x'/>", "cannot be rebound"),
        (b"<a x='1' x='2'/>", "duplicate attribute"),
        (b"<a xmlns:p='urn:x' xmlns:q='urn:x' p:x='1' q:x='2'/>", "appears twice"),
        (b"<a x='<'/>", "'<'"),
        (b"<a/>text", "outside the document element"),
        (b"<a/><b/>", "more than one document element"),
        (b"<a>", "unclosed"),
        (b"", "no document element"),
        (b"<a></b>", "malformed"),
        (b" <?xml version='1.0'?><a/>", "malformed"),
        (b"<a><?xml x?></a>", "not at the start"),
        (b"<a><?XmL x?></a>", "reserved processing instruction"),
        (b"<a>]]></a>", "']]>'"),
        (b"<1a/>", "invalid name"),
        (b"<a:b:c xmlns:a='urn:a'/>", "invalid qualified name"),
    ];
    for (input, want) in cases {
        let err = Document::parse(input).unwrap_err().to_string();
        assert!(err.contains(want), "{:?}: {err}", String::from_utf8_lossy(input));
    }
}

#[test]
fn depth_limit_without_recursion() {
    let deep = |n: usize| "<a>".repeat(n) + &"</a>".repeat(n);
    assert_eq!(Document::parse(deep(MAX_DEPTH + 1).as_bytes()), Err(C14nError::TooDeep));
    let xml = deep(MAX_DEPTH);
    let doc = Document::parse(xml.as_bytes()).unwrap();
    assert_eq!(doc.canonicalize(doc.document(), None, &INC).len(), MAX_DEPTH * 7);
}

#[test]
fn node_limit() {
    let wide = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES));
    assert_eq!(Document::parse(wide.as_bytes()), Err(C14nError::TooManyNodes));
}

#[test]
fn lookups_and_spans() {
    let xml = r#"<h:r xmlns:h="urn:h" Id="r"><h:c Id="c1" xml:lang="vi">t</h:c><d Id="c1"/></h:r>"#;
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let root = doc.root();
    assert_eq!(doc.name(root), Some(("urn:h", "r")));
    assert_eq!(doc.parent(root), Some(doc.document()));
    assert_eq!(doc.find_by_id("", "Id", "r").unwrap(), Some(root));
    assert_eq!(doc.find_by_id("", "Id", "none").unwrap(), None);
    assert_eq!(doc.find_by_id("", "Id", "c1"), Err(C14nError::DuplicateId("c1".into())));
    let c = doc.child_elements(root).next().unwrap();
    assert_eq!(doc.attribute(c, parse::XML_NS, "lang"), Some("vi"));
    assert_eq!(&xml[doc.span(c)], r#"<h:c Id="c1" xml:lang="vi">t</h:c>"#);
    assert_eq!(doc.children(c).map(|t| doc.text(t)).collect::<Vec<_>>(), [Some("t")]);
    assert_eq!(doc.kind(c), NodeKind::Element);
    assert!(doc.canonicalize(root, Some(root), &INC).is_empty());
}

#[test]
fn algorithm_uris() {
    for uri in [C14N_URI, C14N_WITH_COMMENTS_URI, EXC_C14N_URI, EXC_C14N_WITH_COMMENTS_URI] {
        assert_eq!(Algorithm::from_uri(uri).unwrap().uri(), uri);
    }
    assert!(Algorithm::from_uri("http://www.w3.org/2006/12/xml-c14n11").is_err());
    assert_eq!(
        exc(" ds  #default "),
        Algorithm::Exclusive { comments: false, inclusive_prefixes: vec!["ds".into(), "#default".into()] }
    );
}

#[test]
fn escaping_and_line_ends() {
    let out = c14n("<a x=\"&#9;&#10;&#13;\t\r\n&lt;&amp;&quot;>\">&#13;\r\n\r&gt;<![CDATA[<&]]></a>", &INC);
    assert_eq!(out, "<a x=\"&#x9;&#xA;&#xD;  &lt;&amp;&quot;>\">&#xD;\n\n&gt;&lt;&amp;</a>");
}

#[test]
fn xmlns_empty_rules() {
    let xml = r#"<a xmlns="urn:a"><b xmlns=""><c xmlns=""/></b><d/></a>"#;
    let want = r#"<a xmlns="urn:a"><b xmlns=""><c></c></b><d></d></a>"#;
    assert_eq!(c14n(xml, &INC), want);
    assert_eq!(c14n(xml, &exc("")), want);
    assert_eq!(c14n(r#"<a xmlns=""><b/></a>"#, &INC), "<a><b></b></a>");
}

#[test]
fn exclusive_prefix_list_and_utilisation() {
    let xml = r#"<r xmlns:p="urn:p" xmlns:q="urn:q" xmlns="urn:d"><p:e q:x="1"><f xmlns:p="urn:p2"/></p:e></r>"#;
    let doc = Document::parse(xml.as_bytes()).unwrap();
    let e = doc.child_elements(doc.root()).next().unwrap();
    let render = |alg: &Algorithm| String::from_utf8(doc.canonicalize(e, None, alg)).unwrap();
    assert_eq!(render(&exc("")), r#"<p:e xmlns:p="urn:p" xmlns:q="urn:q" q:x="1"><f xmlns="urn:d"></f></p:e>"#);
    assert_eq!(
        render(&exc("#default p")),
        r#"<p:e xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" q:x="1"><f xmlns:p="urn:p2"></f></p:e>"#
    );
    assert_eq!(
        render(&INC),
        r#"<p:e xmlns="urn:d" xmlns:p="urn:p" xmlns:q="urn:q" q:x="1"><f xmlns:p="urn:p2"></f></p:e>"#
    );
}

#[test]
fn bom_and_declaration_are_dropped() {
    let doc = Document::parse(b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<a/>\n").unwrap();
    assert_eq!(doc.canonicalize(doc.document(), None, &INC), b"<a></a>");
    assert_eq!(doc.span(doc.root()), 42..46);
}

#[test]
fn duplicate_attributes_are_found_among_many() {
    // Past parse::LINEAR_DUPLICATES attributes, duplicates are found by hashing.
    let attrs = |n: usize| (0..n).map(|i| format!(" a{i}='v'")).collect::<String>();
    let named = |n: usize, extra: &str| format!("<r xmlns:p='urn:x' xmlns:q='urn:x'{}{extra}/>", attrs(n));
    for n in [3, 40] {
        assert!(Document::parse(named(n, "").as_bytes()).is_ok(), "{n} distinct attributes");
        let err = Document::parse(named(n, " a1='w'").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("duplicate attribute a1"), "{n}: {err}");
        let err = Document::parse(named(n, " p:x='1' q:x='2'").as_bytes()).unwrap_err().to_string();
        assert!(err.contains("attribute q:x appears twice"), "{n}: {err}");
    }
}
