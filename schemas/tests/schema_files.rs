//! The schema files under `schemas/json` and `schemas/xml` agree with the Rust field
//! catalogue ([`FIELDS`], [`FILE_FIELDS`], [`FEE_FIELDS`]), and the examples under
//! `schemas/examples` agree with both the schema files and the Rust model.
//!
//! The XML checks run `xmllint` (Debian package `libxml2-utils`); without it these
//! tests fail rather than skip.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quick_xml::events::{BytesStart, Event};
use schemas::{
    dossier_from_json, dossier_from_xml, Dossier, DossierError, FieldKind, FieldSpec, FEE_FIELDS, FIELDS, FILE_FIELDS,
};
use serde_json::{json, Value};

/// Examples that exist in both dialects with the same content.
const TWINS: &[&str] = &["dang-ky-ket-hon"];

/// Valid examples that must exist (other valid examples are checked too).
const REQUIRED_EXAMPLES: &[&str] = &[
    "khai-sinh.json",
    "dang-ky-doanh-nghiep.xml",
    "ban-le-ruou.json",
    "ly-lich-tu-phap.xml",
    "toi-thieu.json",
    "dang-ky-ket-hon.json",
    "dang-ky-ket-hon.xml",
];

/// The example that holds only the required fields.
const MINIMAL_EXAMPLE: &str = "toi-thieu.json";

/// Invalid examples that the gateway refuses but a schema file cannot: their schema
/// accepts them, which this test also checks so that the list stays honest.
const SCHEMA_CANNOT_EXPRESS: &[&str] = &[
    // The order of two dates is beyond JSON Schema and XSD 1.0.
    "impossible_dates--due-before-received.json",
    "impossible_dates--returned-before-received.json",
    "impossible_dates--finished-before-received.xml",
    // A JSON object with a repeated key is, to JSON Schema, the object with the last value.
    "duplicate_field--ma-ho-so-twice.json",
];

const DSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";

// ------------------------------------------------------------------ helpers

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn examples_dir() -> PathBuf {
    crate_dir().join("examples")
}

fn xsd_path() -> PathBuf {
    crate_dir().join("xml").join("hoso.xsd")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The files of a directory with the given extension, sorted by name.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == ext))
        .collect();
    out.sort();
    out
}

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap()
}

fn json_schema() -> Value {
    let path = crate_dir().join("json").join("hoso.schema.json");
    serde_json::from_slice(&read(&path)).expect("hoso.schema.json is not JSON")
}

fn json_validator() -> jsonschema::Validator {
    jsonschema::draft202012::new(&json_schema()).expect("hoso.schema.json does not compile")
}

fn json_errors(v: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    v.iter_errors(doc).map(|e| format!("{}: {e}", e.instance_path)).collect()
}

/// Validates an XML document against the XSD with xmllint: `Ok` when it validates,
/// `Err(messages)` when it does not. Panics when xmllint is missing, the schema does
/// not compile or the document is not well-formed: those are not validation outcomes.
fn xmllint(doc: XmlInput<'_>) -> Result<(), String> {
    let mut cmd = Command::new("xmllint");
    cmd.arg("--noout").arg("--schema").arg(xsd_path());
    match doc {
        XmlInput::File(p) => {
            cmd.arg(p).stdin(Stdio::null());
        }
        XmlInput::Bytes(_) => {
            cmd.arg("-").stdin(Stdio::piped());
        }
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is not installed: install libxml2-utils \
             (apt-get install -y libxml2-utils) to check the XML schema"
        ),
        Err(e) => panic!("cannot run xmllint: {e}"),
    };
    if let XmlInput::Bytes(b) = doc {
        child.stdin.take().unwrap().write_all(b).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match out.status.code() {
        Some(0) => Ok(()),
        // XMLLINT_ERR_VALID: the document is well-formed but does not validate.
        Some(3) => Err(stderr),
        other => panic!("xmllint failed with {other:?} (not a validation outcome):\n{stderr}"),
    }
}

#[derive(Clone, Copy)]
enum XmlInput<'a> {
    File(&'a Path),
    Bytes(&'a [u8]),
}

/// Parses a dossier with the Rust model, naming the refusal by its stable code.
fn model(dialect: &str, body: &[u8]) -> Result<Dossier, String> {
    let r = match dialect {
        "json" => dossier_from_json(body),
        "xml" => dossier_from_xml(body),
        _ => panic!("unknown dialect {dialect}"),
    };
    r.map_err(|e| match e {
        DossierError::Invalid(v) => format!("{}: {v}", v.code()),
        DossierError::Parse(p) => format!("{}: {p}", p.code()),
        other => format!("?: {other}"),
    })
}

fn code_of(refusal: &str) -> &str {
    refusal.split(':').next().unwrap()
}

fn names(table: &[FieldSpec]) -> Vec<&'static str> {
    table.iter().map(|s| s.name).collect()
}

fn required_names(table: &[FieldSpec]) -> Vec<&'static str> {
    table.iter().filter(|s| s.required).map(|s| s.name).collect()
}

fn item_table(item: &str) -> &'static [FieldSpec] {
    match item {
        "TepDinhKem" => FILE_FIELDS,
        "LePhi" => FEE_FIELDS,
        other => panic!("unknown list item {other}"),
    }
}

// ------------------------------------------------------------------ (b) JSON schema vs catalogue

/// Follows a local `$ref` (`#/$defs/...`), if any.
fn deref<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    match node.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.strip_prefix('#').unwrap_or_else(|| panic!("non-local $ref {r}"));
            root.pointer(ptr).unwrap_or_else(|| panic!("dangling $ref {r}"))
        }
        None => node,
    }
}

/// The JSON types a property allows, looking through its `$ref`.
fn types(root: &Value, prop: &Value) -> Vec<String> {
    let t = prop.get("type").or_else(|| deref(root, prop).get("type")).unwrap_or_else(|| panic!("no type in {prop}"));
    match t {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        _ => panic!("bad type {t}"),
    }
}

/// Checks one object of the JSON schema against a table of the catalogue.
fn check_json_object(root: &Value, obj: &Value, table: &[FieldSpec], what: &str) {
    assert_eq!(obj["type"], "object", "{what}: type");
    assert_eq!(obj["additionalProperties"], json!(false), "{what}: additionalProperties must be false");
    let props = obj["properties"].as_object().expect("properties");
    let mut got: Vec<&str> = props.keys().map(String::as_str).collect();
    let mut want = names(table);
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want, "{what}: property names differ from the catalogue");
    let required: Vec<&str> =
        obj["required"].as_array().expect("required").iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(required, required_names(table), "{what}: required differs from the catalogue");

    for spec in table {
        let p = &props[spec.name];
        let at = format!("{what}.{}", spec.name);
        assert!(p["description"].as_str().is_some_and(|d| d.len() > 10), "{at}: needs a description");
        let t = types(root, p);
        match spec.kind {
            FieldKind::List(item) => {
                assert_eq!(t, ["array", "null"], "{at}: a list is an array (null = empty)");
                assert_eq!(p["maxItems"], json!(500), "{at}: maxItems");
                let items = deref(root, &p["items"]);
                check_json_object(root, items, item_table(item), &format!("{at}[]"));
                continue;
            }
            FieldKind::Text(n) => {
                assert_eq!(p["maxLength"], json!(n), "{at}: maxLength from Text({n})");
            }
            FieldKind::Code(lo, hi) => {
                assert!(t.iter().any(|t| t == "integer"), "{at}: codes may be numbers");
                assert_eq!((&p["minimum"], &p["maximum"]), (&json!(lo), &json!(hi)), "{at}: range");
            }
            FieldKind::Amount => {
                assert!(t.iter().any(|t| t == "integer"), "{at}: amounts may be numbers");
            }
            _ => assert!(!t.iter().any(|t| t == "integer"), "{at}: only codes and amounts are numbers"),
        }
        assert!(t.iter().any(|t| t == "string"), "{at}: scalars are strings");
        assert_eq!(
            t.iter().any(|t| t == "null"),
            !spec.required,
            "{at}: null (absent) is allowed exactly for optional fields"
        );
    }
}

#[test]
fn json_schema_is_a_valid_2020_12_schema() {
    let schema = json_schema();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    if let Err(e) = jsonschema::meta::validate(&schema) {
        panic!("hoso.schema.json is not a valid JSON Schema: {e}");
    }
    json_validator();
}

#[test]
fn json_schema_matches_the_catalogue() {
    let schema = json_schema();
    check_json_object(&schema, &schema, FIELDS, "HoSo");
}

// ------------------------------------------------------------------ (c) XSD vs catalogue

/// A minimal element tree: local names, attributes, children (text is dropped).
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.get(key).map(String::as_str)
    }

    fn kids<'a>(&'a self, local: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == local)
    }

    fn kid(&self, local: &str) -> &Node {
        let mut it = self.children.iter().filter(|c| c.name == local);
        let one = it.next().unwrap_or_else(|| panic!("<{}> has no <{local}>", self.name));
        assert!(it.next().is_none(), "<{}> has several <{local}>", self.name);
        one
    }

    fn named<'a>(&'a self, local: &'a str, name: &str) -> &'a Node {
        self.children
            .iter()
            .find(|c| c.name == local && c.attr("name") == Some(name))
            .unwrap_or_else(|| panic!("no top-level <{local} name=\"{name}\">"))
    }
}

fn parse_tree(text: &str) -> Node {
    fn node(e: &BytesStart<'_>, r: &quick_xml::Reader<&[u8]>) -> Node {
        let attrs = e
            .attributes()
            .map(|a| {
                let a = a.unwrap();
                let k = String::from_utf8_lossy(a.key.as_ref()).into_owned();
                let v = a.decode_and_unescape_value(r.decoder()).unwrap().into_owned();
                (k, v)
            })
            .collect();
        Node { name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(), attrs, children: Vec::new() }
    }
    let mut r = quick_xml::Reader::from_str(text);
    r.config_mut().trim_text(true);
    let mut stack = vec![Node::default()];
    loop {
        match r.read_event().expect("the XSD is not well-formed") {
            Event::Start(e) => stack.push(node(&e, &r)),
            Event::Empty(e) => {
                let n = node(&e, &r);
                stack.last_mut().unwrap().children.push(n);
            }
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XSD");
    stack.pop().unwrap().children.pop().expect("empty XSD")
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap()
}

/// The facets along a simple type's restriction chain, nearest first.
fn facets(schema: &Node, type_name: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut name = type_name.to_owned();
    loop {
        let st = schema.named("simpleType", local(&name));
        let r = st.kid("restriction");
        for f in &r.children {
            if let Some(v) = f.attr("value") {
                out.push((f.name.clone(), v.to_owned()));
            }
        }
        let base = r.attr("base").expect("restriction base");
        if base.starts_with("xs:") {
            out.push(("base".into(), base.to_owned()));
            return out;
        }
        name = base.to_owned();
    }
}

/// Checks the `xs:sequence` of a complex type against a table of the catalogue.
fn check_xsd_sequence(schema: &Node, seq: &Node, table: &[FieldSpec], what: &str) {
    let elements: Vec<&Node> = seq.kids("element").collect();
    let got: Vec<&str> = elements.iter().map(|e| e.attr("name").unwrap()).collect();
    assert_eq!(got, names(table), "{what}: child elements differ from the catalogue (names and order)");
    for (el, spec) in elements.iter().zip(table) {
        let at = format!("{what}/{}", spec.name);
        let min = el.attr("minOccurs").unwrap_or("1");
        assert_eq!(min, if spec.required { "1" } else { "0" }, "{at}: minOccurs must be 1 exactly for required fields");
        assert_eq!(el.attr("maxOccurs").unwrap_or("1"), "1", "{at}: maxOccurs");
        match spec.kind {
            FieldKind::List(item) => {
                let inner = el.kid("complexType").kid("sequence");
                let items: Vec<&Node> = inner.kids("element").collect();
                assert_eq!(items.len(), 1, "{at}: one item element");
                let it = items[0];
                assert_eq!(it.attr("name"), Some(item), "{at}: item element name");
                assert_eq!(it.attr("minOccurs"), Some("0"), "{at}: lists may be empty");
                assert_eq!(it.attr("maxOccurs"), Some("500"), "{at}: at most 500 items");
                let ty = it.attr("type").expect("item type");
                let ct = schema.named("complexType", local(ty));
                check_xsd_sequence(schema, ct.kid("sequence"), item_table(item), &format!("{at}/{item}"));
            }
            FieldKind::Text(n) => {
                let ty = el.attr("type").expect("element type");
                let f = facets(schema, ty);
                let max: Vec<&str> = f.iter().filter(|(k, _)| k == "maxLength").map(|(_, v)| v.as_str()).collect();
                assert_eq!(max, [n.to_string()], "{at}: maxLength from Text({n})");
                assert!(f.contains(&("base".into(), "xs:string".into())), "{at}: free text keeps its whitespace");
            }
            _ => {
                let ty = el.attr("type").expect("element type");
                let f = facets(schema, ty);
                assert!(f.iter().any(|(k, _)| k == "pattern"), "{at}: a checked value needs a pattern");
            }
        }
    }
}

#[test]
fn xsd_matches_the_catalogue() {
    let text = String::from_utf8(read(&xsd_path())).unwrap();
    let schema = parse_tree(&text);
    assert_eq!(schema.name, "schema");
    assert_eq!(schema.attr("targetNamespace"), Some(schemas::XML_NAMESPACE));
    assert_eq!(schema.attr("elementFormDefault"), Some("qualified"));

    let roots: Vec<&Node> = schema.kids("element").collect();
    assert_eq!(roots.len(), 1, "one global element");
    assert_eq!(roots[0].attr("name"), Some("HoSo"));
    let ty = roots[0].attr("type").expect("HoSo has a named type");
    let hoso = schema.named("complexType", local(ty));

    let seq = hoso.kid("sequence");
    check_xsd_sequence(&schema, seq, FIELDS, "HoSo");
    let last = seq.children.last().unwrap();
    assert_eq!(last.name, "any", "the signature slot comes last");
    assert_eq!(last.attr("namespace"), Some(DSIG_NAMESPACE));
    assert_eq!(last.attr("processContents"), Some("lax"));
    assert_eq!(last.attr("minOccurs"), Some("0"));
    assert_eq!(seq.children.iter().filter(|c| c.name == "any").count(), 1, "no other wildcard");

    let attrs: Vec<&Node> = hoso.kids("attribute").collect();
    assert_eq!(attrs.len(), 1, "HoSo has only the Id attribute");
    assert_eq!(attrs[0].attr("name"), Some("Id"));
    assert_eq!(attrs[0].attr("type"), Some("xs:ID"));
    assert_eq!(attrs[0].attr("use").unwrap_or("optional"), "optional");
    assert!(text.contains("accepts the children in any order"), "the XSD must say that the gateway accepts any order");
}

// ------------------------------------------------------------------ (a) valid examples

#[test]
fn valid_examples_pass_their_schema_and_the_model() {
    let dir = examples_dir();
    for name in REQUIRED_EXAMPLES {
        assert!(dir.join(name).is_file(), "missing example {name}");
    }
    let v = json_validator();
    let mut count = 0;
    for path in files(&dir, "json") {
        let body = read(&path);
        let doc: Value = serde_json::from_slice(&body).unwrap();
        let errs = json_errors(&v, &doc);
        assert!(errs.is_empty(), "{} fails hoso.schema.json:\n{}", path.display(), errs.join("\n"));
        if let Err(e) = model("json", &body) {
            panic!("{} is refused by the model: {e}", path.display());
        }
        count += 1;
    }
    for path in files(&dir, "xml") {
        if let Err(e) = xmllint(XmlInput::File(&path)) {
            panic!("{} fails hoso.xsd:\n{e}", path.display());
        }
        if let Err(e) = model("xml", &read(&path)) {
            panic!("{} is refused by the model: {e}", path.display());
        }
        count += 1;
    }
    assert!(count >= 6, "expected at least 6 valid examples, found {count}");
}

#[test]
fn minimal_example_holds_exactly_the_required_fields() {
    let doc: Value = serde_json::from_slice(&read(&examples_dir().join(MINIMAL_EXAMPLE))).unwrap();
    let mut got: Vec<&str> = doc.as_object().unwrap().keys().map(String::as_str).collect();
    let mut want = required_names(FIELDS);
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

// ------------------------------------------------------------------ (d) twins

#[test]
fn twin_examples_normalise_to_the_same_dossier() {
    let dir = examples_dir();
    for twin in TWINS {
        let j = model("json", &read(&dir.join(format!("{twin}.json")))).unwrap();
        let x = model("xml", &read(&dir.join(format!("{twin}.xml")))).unwrap();
        assert_eq!(j, x, "{twin}: the dialects disagree");
        assert_eq!(j.content_hash(), x.content_hash(), "{twin}: content hash");
    }
}

// ------------------------------------------------------------------ (e) invalid examples

#[test]
fn invalid_examples_are_refused_by_their_schema_and_the_model() {
    let dir = examples_dir().join("invalid");
    let v = json_validator();
    let mut seen = Vec::new();
    for ext in ["json", "xml"] {
        for path in files(&dir, ext) {
            let name = file_name(&path).to_owned();
            let (want, _) =
                name.split_once("--").unwrap_or_else(|| panic!("{name}: name must be <error code>--<what>.{ext}"));
            let body = read(&path);

            let got = model(ext, &body).err().unwrap_or_else(|| panic!("{name}: the model accepts it"));
            assert_eq!(code_of(&got), want, "{name}: refused as {got}");

            let schema_refuses = if ext == "json" {
                let doc: Value =
                    serde_json::from_slice(&body).unwrap_or_else(|e| panic!("{name}: not JSON at all ({e})"));
                !v.is_valid(&doc)
            } else {
                xmllint(XmlInput::File(&path)).is_err()
            };
            let expressible = !SCHEMA_CANNOT_EXPRESS.contains(&name.as_str());
            assert_eq!(
                schema_refuses,
                expressible,
                "{name}: {}",
                if expressible {
                    "the schema file accepts it"
                } else {
                    "listed as beyond the schema, but the schema refuses it"
                }
            );
            seen.push(name);
        }
    }
    for name in SCHEMA_CANNOT_EXPRESS {
        assert!(seen.iter().any(|s| s == name), "{name} is listed but missing");
    }
    for code in
        ["missing_field", "invalid_field", "invalid_date", "impossible_dates", "unknown_field", "duplicate_field"]
    {
        for ext in ["json", "xml"] {
            assert!(
                seen.iter().any(|s| s.starts_with(&format!("{code}--")) && s.ends_with(ext)),
                "no invalid {ext} example for {code}"
            );
        }
    }
}

// ------------------------------------------------------------------ value probes

/// A dossier for probing one value: the required fields, one file and one fee, with
/// `at` (`Field` or `List.Field`) set to `value` (`None` removes it).
struct ProbeDoc {
    top: BTreeMap<&'static str, Value>,
    file: BTreeMap<&'static str, Value>,
    fee: BTreeMap<&'static str, Value>,
}

impl ProbeDoc {
    fn new() -> Self {
        let s = |v: &str| Value::String(v.to_owned());
        let top = BTreeMap::from([
            ("MaHoSo", s("000.00.31.H29-261122-0001")),
            ("MaTTHC", s("1.005129")),
            ("TenTTHC", s("Đăng ký khai sinh")),
            ("KenhThucHien", s("2")),
            ("ChuHoSo", s("Nguyễn Văn An")),
            ("LoaiDoiTuong", s("1")),
            ("NgayTiepNhan", s("20261122083000")),
            ("NgayHenTra", s("20261125170000")),
        ]);
        let file = BTreeMap::from([("TenTepDinhKem", s("to-khai.pdf"))]);
        let fee = BTreeMap::from([("TenPhiLePhi", s("Lệ phí")), ("Gia", s("8000"))]);
        Self { top, file, fee }
    }

    fn with(mut self, at: &str, value: Option<Value>) -> Self {
        let (map, field) = match at.split_once('.') {
            Some(("TaiLieuNop", f)) => (&mut self.file, f),
            Some(("DanhSachLePhi", f)) => (&mut self.fee, f),
            Some(_) => panic!("bad probe path {at}"),
            None => (&mut self.top, at),
        };
        let table = match at.split_once('.') {
            Some(("TaiLieuNop", _)) => FILE_FIELDS,
            Some(_) => FEE_FIELDS,
            None => FIELDS,
        };
        let name =
            table.iter().find(|s| s.name == field).unwrap_or_else(|| panic!("{at} is not in the catalogue")).name;
        match value {
            Some(v) => map.insert(name, v),
            None => map.remove(name),
        };
        self
    }

    fn json(&self) -> Value {
        let mut o: serde_json::Map<String, Value> =
            self.top.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        let obj =
            |m: &BTreeMap<&str, Value>| Value::Object(m.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect());
        o.insert("TaiLieuNop".into(), Value::Array(vec![obj(&self.file)]));
        o.insert("DanhSachLePhi".into(), Value::Array(vec![obj(&self.fee)]));
        Value::Object(o)
    }

    /// The XML form, children in catalogue order.
    fn xml(&self) -> String {
        fn esc(s: &str) -> String {
            s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        }
        fn fields(out: &mut String, table: &[FieldSpec], m: &BTreeMap<&str, Value>) {
            for spec in table {
                if let Some(v) = m.get(spec.name) {
                    let text = v.as_str().expect("XML probes are strings");
                    out.push_str(&format!("<{0}>{1}</{0}>", spec.name, esc(text)));
                }
            }
        }
        let mut out = String::from("<HoSo xmlns=\"urn:lienthong:hoso:1\">");
        for spec in FIELDS {
            match spec.name {
                "TaiLieuNop" => {
                    out.push_str("<TaiLieuNop><TepDinhKem>");
                    fields(&mut out, FILE_FIELDS, &self.file);
                    out.push_str("</TepDinhKem></TaiLieuNop>");
                }
                "DanhSachLePhi" => {
                    out.push_str("<DanhSachLePhi><LePhi>");
                    fields(&mut out, FEE_FIELDS, &self.fee);
                    out.push_str("</LePhi></DanhSachLePhi>");
                }
                _ => fields(&mut out, std::slice::from_ref(spec), &self.top),
            }
        }
        out.push_str("</HoSo>");
        out
    }
}

/// How each checker judges one probe: [model on JSON, model on XML, JSON schema, XSD];
/// `None` where the value has no form in that dialect.
type Verdicts = [Option<bool>; 4];

fn verdicts(v: &jsonschema::Validator, at: &str, value: Option<Value>) -> Verdicts {
    let doc = ProbeDoc::new().with(at, value.clone());
    let j = doc.json();
    let json_body = serde_json::to_vec(&j).unwrap();
    let xml_ok = value.as_ref().is_none_or(|v| {
        // Only strings have an XML form; C0 controls other than tab, LF and CR cannot
        // appear in XML 1.0 at all.
        v.as_str().is_some_and(|s| !s.chars().any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')))
    });
    let (model_xml, xsd) = if xml_ok {
        let x = doc.xml();
        (Some(model("xml", x.as_bytes()).is_ok()), Some(xmllint(XmlInput::Bytes(x.as_bytes())).is_ok()))
    } else {
        (None, None)
    };
    [Some(model("json", &json_body).is_ok()), model_xml, Some(v.is_valid(&j)), xsd]
}

fn s(v: &str) -> Option<Value> {
    Some(Value::String(v.to_owned()))
}

/// One probe: where, what (`None` = absent), and whether it is valid.
type Probe = (&'static str, Option<Value>, bool);

#[derive(Default)]
struct Probes(Vec<Probe>);

impl Probes {
    fn strs(&mut self, at: &'static str, values: &[&str], ok: bool) {
        for v in values {
            self.0.push((at, s(v), ok));
        }
    }

    fn one(&mut self, at: &'static str, value: Option<Value>, ok: bool) {
        self.0.push((at, value, ok));
    }
}

/// Values whose verdict is the same for the model and both schema files.
fn agreeing_probes() -> Vec<Probe> {
    let mut p = Probes::default();
    p.strs(
        "MaHoSo",
        &[
            "000.00.31.H29-261122-0001",
            "G09.20-20260609-0092637",
            "000.00.01.H22-240229-1234",
            "H22.1-20240101-0000001",
            "A-000229-0001",
            "a.-b-20000229-0001",
            "x--y-261122-0001",
            "a-.b-16000229-1234",
            "Q-00000229-1234",
            "000.00.31.H29-261122-0001234",
        ],
        true,
    );
    p.strs(
        "MaHoSo",
        &[
            "",
            "000.00.31.H29",
            "000.00.31.H29-261122",
            "000.00.31.H29-261122-01",
            "000.00.31.H29-261122-00000001",
            "000.00.31.H29-261322-0001",
            "000.00.31.H29-230229-0001",
            "000.00.31.H29-19000229-0001",
            "000.00.31.H29-2611220-0001",
            "000.00.31.H29-261131-0001",
            "-261122-0001",
            ".a-261122-0001",
            "a.-261122-0001",
            "a--261122-0001",
            "000..31.H29-261122-0001",
            "000.00.31.H29 -261122-0001",
            "000.00.31.H29-261122-00a1",
            "mã-261122-0001",
            "000.00.31.H29_261122_0001",
        ],
        false,
    );
    // The agency part holds at most 40 characters, the whole code at most 64.
    let a40 = format!("{}-20261122-0001", "A".repeat(40));
    let a41 = format!("{}-261122-0001", "A".repeat(41));
    p.one("MaHoSo", s(&a40), true);
    p.one("MaHoSo", s(&a41), false);

    p.strs("MaTTHC", &["1.005129", "2.002492", "3.000181", "3.000181.000.00.00.H22", "1.005129.H22-x"], true);
    p.strs(
        "MaTTHC",
        &[
            "",
            "  ",
            "1.00512",
            "1005129",
            "a.005129",
            "1.005129x",
            "1.005129.",
            "1.0051299",
            "1.005129..H22",
            "1,005129",
        ],
        false,
    );
    let t39 = format!("1.005129.{}", "B".repeat(39));
    let t40 = format!("1.005129.{}", "B".repeat(40));
    p.one("MaTTHC", s(&t39), true);
    p.one("MaTTHC", s(&t40), false);

    // NgayTuChoi has no ordering constraint, so it probes the date forms alone.
    p.strs(
        "NgayTuChoi",
        &[
            "",
            "20261122083015",
            "2026-11-22 08:30:15",
            "2026-11-22T08:30:15",
            "2026-11-22T08:30:15+07:00",
            "2026-11-22T01:30:15Z",
            "2026-11-22T01:30:15.000Z",
            "2026-11-21T20:30:15-05:00",
            "2026-11-22 08:30:15+07:00",
            "2026-11-22 08:30:15.5",
            "2026-11-22T08:30:15.123456789-00:00",
            "2026-11-22T08:30:15+23:59",
            "2026-11-22",
            "2024-02-29",
            "2000-02-29",
            "20960229000000",
            "1900-01-01",
            "2199-12-31 23:59:59",
        ],
        true,
    );
    p.strs(
        "NgayTuChoi",
        &[
            "yesterday",
            "2026/11/22",
            "22-11-2026",
            "22/11/2026 08:30:15",
            "2026-11-22T08:30:15+7",
            "2026-11-22T08:30:15+0700",
            "2026-11-22T08:30:15z",
            "2026-11-22T08:30:15+24:00",
            "2026-11-22T08:30:15.",
            "2026-11-22T08:30:15.1234567890",
            "2026112208301",
            "202611220830150",
            "2026-11-22 8:30:15",
            "2026-11-22T08:30",
            "20260230083015",
            "2026-02-30",
            "2026-04-31",
            "2100-02-29",
            "1900-02-29 00:00:00",
            "20261122253015",
            "2026-11-22T08:60:00",
            "18991231000000",
            "2200-01-01",
        ],
        false,
    );
    p.strs("NgayTiepNhan", &["", " "], false);

    p.strs("KenhThucHien", &["1", "2", "3", "02", "+1"], true);
    p.strs("KenhThucHien", &["", "0", "4", "x", "1.0", "-1", "Trực tuyến"], false);
    p.strs("LoaiDoiTuong", &["1", "2"], true);
    p.strs("LoaiDoiTuong", &["3", "0"], false);
    p.strs("TrangThaiHoSo", &["", "1", "9", "10", "010"], true);
    p.strs("TrangThaiHoSo", &["0", "11", "256"], false);

    p.strs("DanhSachLePhi.Gia", &["0", "8000", "+5", "00000000000000001", "1000000000000"], true);
    p.strs("DanhSachLePhi.Gia", &["", "-5", "5.0", "8.000", "8,000", "1000000000001", "8000đ"], false);

    p.strs("Email", &["", "hong@example.vn", "a@b.c", "a@b..c", "nguyen.van+dvc@so-tu-phap.gov.vn"], true);
    p.strs("Email", &["x", "a@b", "@b.c", "a@.b.c", "a@b.c.", "a b@c.d", "a@b@c.d"], false);
    p.strs(
        "SoDienThoai",
        &["", "0903 123 456", "+84 (28) 3829-1234", "12345678", "123456789012345", "0258.3821.777"],
        true,
    );
    p.strs("Fax", &["call me", "1234567", "1234567890123456", "0903/123/456", "0903 123 456 ext 2"], false);
    p.strs("TaiLieuNop.DuongDanTaiTepTin", &["", "https://dvc.example.vn/f/1", "http://x", "https://a?b=c&d=e"], true);
    p.strs(
        "TaiLieuNop.DuongDanTaiTepTin",
        &["file:///etc/passwd", "https://", "https:///x", "https://a b", "HTTPS://x", "//x/y", "ftp://x"],
        false,
    );
    p.strs("CoQuanDich", &["", "moj", "dvcqg", "portal-h29", "9x_y.z"], true);
    p.strs("CoQuanDich", &["DVCQG", "-x", "a b", "ả", "_x", "Bộ Tư pháp"], false);
    p.one("CoQuanDich", s(&"m".repeat(64)), true);
    p.one("CoQuanDich", s(&"m".repeat(65)), false);

    p.strs("TenTTHC", &["Đăng ký kết hôn", "a\tb\nc"], true);
    p.strs("TenTTHC", &["", "   ", "a\u{85}b"], false);
    p.strs("GhiChu", &["", "  ", "dòng 1\r\ndòng 2"], true);
    p.strs("GhiChu", &["a\u{0}b", "a\u{1b}b", "a\u{7f}b", "a\u{9f}b"], false);
    p.one("ChuHoSo", s(&"Ư".repeat(255)), true);
    p.one("ChuHoSo", s(&"Ư".repeat(256)), false);
    p.one("GhiChu", s(&"ê".repeat(2000)), true);
    p.one("GhiChu", s(&"ê".repeat(2001)), false);
    p.one("SoGiayToChuHoSo", s(&"0".repeat(32)), true);
    p.one("SoGiayToChuHoSo", s(&"0".repeat(33)), false);
    p.strs("TaiLieuNop.TenTepDinhKem", &["to khai.pdf"], true);
    p.strs("TaiLieuNop.TenTepDinhKem", &["", " "], false);
    p.strs("DanhSachLePhi.TenPhiLePhi", &[""], false);

    // Absent fields.
    p.one("Email", None, true);
    p.one("MaHoSo", None, false);
    p.one("TaiLieuNop.TenTepDinhKem", None, false);
    p.one("DanhSachLePhi.Gia", None, false);

    // JSON values other than strings (no XML form).
    p.one("KenhThucHien", Some(json!(2)), true);
    p.one("KenhThucHien", Some(json!(4)), false);
    p.one("KenhThucHien", Some(json!(-1)), false);
    p.one("KenhThucHien", Some(json!(1.5)), false);
    p.one("KenhThucHien", Some(json!(true)), false);
    p.one("KenhThucHien", Some(Value::Null), false);
    p.one("TrangThaiHoSo", Some(json!(10)), true);
    p.one("TrangThaiHoSo", Some(Value::Null), true);
    p.one("TrangThaiHoSo", Some(json!(11)), false);
    p.one("DanhSachLePhi.Gia", Some(json!(50000)), true);
    p.one("DanhSachLePhi.Gia", Some(json!(1_000_000_000_000_u64)), true);
    p.one("DanhSachLePhi.Gia", Some(json!(1e13)), false);
    p.one("DanhSachLePhi.Gia", Some(json!(-1)), false);
    p.one("DanhSachLePhi.Gia", Some(json!(0.5)), false);
    p.one("DanhSachLePhi.Gia", Some(Value::Null), false);
    p.one("NgayTuChoi", Some(Value::Null), true);
    p.one("NgayHenTra", Some(Value::Null), false);
    p.one("GhiChu", Some(Value::Null), true);
    p.one("ChuHoSo", Some(Value::Null), false);
    p.one("ChuHoSo", Some(json!({"HoTen": "x"})), false);
    p.one("Email", Some(json!(["a@b.c"])), false);
    p.0
}

#[test]
fn checked_values_are_judged_alike_by_the_model_and_the_schema_files() {
    let v = json_validator();
    let mut wrong = Vec::new();
    for (at, value, ok) in agreeing_probes() {
        let got = verdicts(&v, at, value.clone());
        let names = ["model(JSON)", "model(XML)", "hoso.schema.json", "hoso.xsd"];
        for (who, verdict) in names.iter().zip(got) {
            if verdict.is_some_and(|g| g != ok) {
                wrong.push(format!(
                    "{at} = {}: {who} says {}, expected {}",
                    value.as_ref().map_or("(absent)".into(), Value::to_string),
                    if ok { "refused" } else { "valid" },
                    if ok { "valid" } else { "refused" },
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

/// Values on which the model and the schema files knowingly differ (see README.md).
/// The verdicts are [model(JSON), model(XML), JSON schema, XSD]; `None` = not probed.
#[test]
fn known_differences_between_the_model_and_the_schema_files() {
    let v = json_validator();
    let cases: Vec<(&str, Option<Value>, Verdicts, &str)> = vec![
        (
            "NgayTuChoi",
            s("1959-12-31 23:00:00"),
            [Some(false), Some(false), Some(true), Some(true)],
            "local times skipped or repeated by historical offset changes of Asia/Ho_Chi_Minh",
        ),
        (
            "NgayTuChoi",
            s("2199-12-31T23:00:00Z"),
            [Some(false), Some(false), Some(true), Some(true)],
            "the year range 1900-2199 applies after conversion to Vietnam's zone",
        ),
        (
            "MaHoSo",
            s(" 000.00.31.H29-261122-0001 "),
            [Some(true), Some(true), Some(false), Some(true)],
            "the model trims values; the JSON schema wants them trimmed, XML collapses them",
        ),
        (
            "NgayTuChoi",
            s("   "),
            [Some(true), Some(true), Some(false), Some(true)],
            "a blank optional value is absent to the model; the JSON schema wants it empty",
        ),
        (
            "NgayTuChoi",
            s("2026-11-22\t08:30:15"),
            [Some(false), Some(false), Some(false), Some(true)],
            "xs:token turns a tab into a space before the XSD pattern applies",
        ),
        (
            "KenhThucHien",
            Some(json!(2.0)),
            [Some(true), None, Some(false), None],
            "2.0 is an integer to JSON Schema, but jsonschema 0.33 refuses a float for a \
             type list such as [\"string\", \"integer\"] (a quirk of that validator)",
        ),
        (
            "DanhSachLePhi.Gia",
            Some(json!(50000.0)),
            [Some(true), None, Some(false), None],
            "as above: a float with no fraction under a type list, in jsonschema 0.33",
        ),
        (
            "MaTTHC",
            Some(json!(1.005129)),
            [Some(true), None, Some(false), None],
            "the model takes any JSON number as its text; the schema allows numbers only for codes and amounts",
        ),
        (
            "SoGiayToChuHoSo",
            Some(json!(79190001234_u64)),
            [Some(true), None, Some(false), None],
            "the model takes any JSON number as its text; the schema allows numbers only for codes and amounts",
        ),
    ];
    let mut wrong = Vec::new();
    for (at, value, want, why) in cases {
        let got = verdicts(&v, at, value.clone());
        if got != want {
            wrong.push(format!("{at} = {:?} ({why}): got {got:?}, documented {want:?}", value));
        }
    }
    assert!(wrong.is_empty(), "documented differences changed:\n{}", wrong.join("\n"));
}

// ------------------------------------------------------------------ structure of the XML dialect

fn example_xml(name: &str) -> String {
    String::from_utf8(read(&examples_dir().join(name))).unwrap()
}

const SIGNATURE: &str = r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#HS-G09.20-20260609-0092637"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>AAAA</ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue>AAAA</ds:SignatureValue></ds:Signature>"##;

#[test]
fn an_enveloped_signature_after_the_fields_is_valid() {
    let plain = example_xml("dang-ky-doanh-nghiep.xml");
    let signed = plain.replace("</HoSo>", &format!("{SIGNATURE}\n</HoSo>"));
    assert_ne!(plain, signed);
    if let Err(e) = xmllint(XmlInput::Bytes(signed.as_bytes())) {
        panic!("a signed dossier fails hoso.xsd:\n{e}");
    }
    assert_eq!(model("xml", signed.as_bytes()).unwrap(), model("xml", plain.as_bytes()).unwrap());
}

#[test]
fn child_order_is_canonical_in_the_xsd_only() {
    // The gateway reads the children in any order; the XSD states the catalogue order.
    let plain = example_xml("ly-lich-tu-phap.xml");
    let moved = plain.replace("  <MaTTHC>2.000488</MaTTHC>\n", "");
    let moved = moved.replace("</DanhSachLePhi>", "</DanhSachLePhi>\n  <MaTTHC>2.000488</MaTTHC>");
    assert_ne!(plain, moved);
    assert_eq!(model("xml", moved.as_bytes()).unwrap(), model("xml", plain.as_bytes()).unwrap());
    assert!(xmllint(XmlInput::Bytes(moved.as_bytes())).is_err());

    let sig_first =
        example_xml("dang-ky-doanh-nghiep.xml").replace("  <MaHoSo>", &format!("  {SIGNATURE}\n  <MaHoSo>"));
    assert!(model("xml", sig_first.as_bytes()).is_ok());
    assert!(xmllint(XmlInput::Bytes(sig_first.as_bytes())).is_err());
}

fn with_files(n: usize) -> (Value, String) {
    let mut doc: Value = serde_json::from_slice(&read(&examples_dir().join(MINIMAL_EXAMPLE))).unwrap();
    doc["TaiLieuNop"] = Value::Array(vec![json!({"TenTepDinhKem": "a.pdf"}); n]);
    let plain = example_xml("ly-lich-tu-phap.xml");
    let start = plain.find("<TaiLieuNop>").unwrap();
    let end = plain.find("</TaiLieuNop>").unwrap() + "</TaiLieuNop>".len();
    let item = "<TepDinhKem><TenTepDinhKem>a.pdf</TenTepDinhKem></TepDinhKem>";
    let xml = format!("{}<TaiLieuNop>{}</TaiLieuNop>{}", &plain[..start], item.repeat(n), &plain[end..]);
    (doc, xml)
}

#[test]
fn lists_hold_at_most_500_items() {
    let v = json_validator();
    for (n, ok) in [(500, true), (501, false)] {
        let (doc, xml) = with_files(n);
        assert_eq!(v.is_valid(&doc), ok, "JSON schema, {n} items");
        assert_eq!(xmllint(XmlInput::Bytes(xml.as_bytes())).is_ok(), ok, "XSD, {n} items");
        assert_eq!(model("xml", xml.as_bytes()).is_ok(), ok, "model, XML, {n} items");
    }
    let (doc, _) = with_files(501);
    let refused = model("json", &serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(code_of(&refused), "malformed_json");
}

/// A JSON list of exactly the maximum is accepted, as by the XML parser and both
/// schema files.
#[test]
fn a_json_list_of_exactly_500_items_is_accepted() {
    let (doc, _) = with_files(500);
    if let Err(e) = model("json", &serde_json::to_vec(&doc).unwrap()) {
        panic!("500 files refused: {e}");
    }
}

/// Non-ASCII text where a code expects digits is refused, never a panic.
#[test]
fn non_ascii_codes_are_refused_without_panicking() {
    let mut wrong = Vec::new();
    for (at, value) in [("MaHoSo", "X-ảabc-0001"), ("MaHoSo", "X-ảảab-0001"), ("MaTTHC", "1.00512ả")] {
        let body = serde_json::to_vec(&ProbeDoc::new().with(at, s(value)).json()).unwrap();
        match std::panic::catch_unwind(|| model("json", &body)) {
            Ok(Err(e)) if code_of(&e) == "invalid_field" => {}
            Ok(other) => wrong.push(format!("{at} = {value:?}: {other:?}")),
            Err(_) => wrong.push(format!("{at} = {value:?}: panicked")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
