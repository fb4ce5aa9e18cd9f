//! The schema files under `schemas/json` and `schemas/xml` agree with the Rust field
//! catalogue ([`FIELDS`] and every nested table of [`TABLES`]), the field tables of
//! `schemas/README.md` agree with both, and the examples under `schemas/examples`
//! agree with the schema files and the Rust model.
//!
//! The XML checks run `xmllint` (Debian package `libxml2-utils`); without it these
//! tests fail rather than skip.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use quick_xml::events::{BytesStart, Event};
use schemas::{
    dossier_from_json, dossier_from_xml, parse_json, parse_xml, table, CivilStatus, Dossier, DossierError, FieldKind,
    FieldSpec, Payload, PayloadKind, RawValue, TradeLicenceKind, FIELDS, TABLES,
};
use serde_json::{json, Value};

/// Examples that exist in both dialects with the same content.
const TWINS: &[&str] = &["dang-ky-ket-hon", "khai-tu", "thong-bao-khuyen-mai"];

/// Valid examples that must exist (other valid examples are checked too).
const REQUIRED_EXAMPLES: &[&str] = &[
    "khai-sinh.json",
    "dang-ky-doanh-nghiep.xml",
    "ban-le-ruou.json",
    "ly-lich-tu-phap.xml",
    "toi-thieu.json",
    "dang-ky-ket-hon.json",
    "dang-ky-ket-hon.xml",
    "khai-tu.json",
    "khai-tu.xml",
    "thong-bao-khuyen-mai.json",
    "thong-bao-khuyen-mai.xml",
];

/// The example that holds only the required fields.
const MINIMAL_EXAMPLE: &str = "toi-thieu.json";

/// The name of the top-level table ([`FIELDS`]) in the schema files and the README.
const ROOT: &str = "HoSo";

/// Tables of alternatives: exactly one of their fields is present. The catalogue
/// marks each field optional; `build.rs` refuses anything but exactly one, which the
/// JSON schema states with `oneOf` and the XSD with `xs:choice`.
const EXACTLY_ONE: &[&str] = &["DuLieuNghiepVu", "HoTich"];

/// The largest amount of đồng (`FieldKind::Amount`).
const MAX_AMOUNT: u64 = 1_000_000_000_000_000;

/// The most items a list may hold.
const MAX_ITEMS: usize = 500;

/// Invalid examples that the gateway refuses but their schema file cannot: their
/// schema accepts them, which this test also checks so that the list stays honest.
const SCHEMA_CANNOT_EXPRESS: &[&str] = &[
    // The order of two dates is beyond JSON Schema and XSD 1.0.
    "impossible_dates--due-before-received.json",
    "impossible_dates--returned-before-received.json",
    "impossible_dates--finished-before-received.xml",
    "impossible_dates--promotion-ends-before-start.json",
    "impossible_dates--residence-period-reversed.xml",
    // So is the current date: births and deaths may not be in the future.
    "impossible_dates--born-in-the-future.xml",
    "impossible_dates--death-in-the-future.json",
    // A JSON object with a repeated key is, to JSON Schema, the object with the last value.
    "duplicate_field--ma-ho-so-twice.json",
    // JSON Schema cannot compare one property across the items of an array (the XSD
    // can, with xs:unique: see duplicate_field--vsic-twice.xml).
    "duplicate_field--vsic-twice.json",
    // XSD 1.0 can neither count the items that hold a value nor make one field depend
    // on another (JSON Schema can, with contains and if/then: see
    // invalid_field--two-main-business-lines.json, missing_field--promotion-without-dates.json).
    "invalid_field--no-main-business-line.xml",
    "missing_field--promotion-without-end.xml",
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
/// `--huge` lifts libxml2's 10 MB limit on one text node, which an inline file of
/// 10 MiB (13 981 016 base64 characters) exceeds.
fn xmllint(doc: XmlInput<'_>) -> Result<(), String> {
    let mut cmd = Command::new("xmllint");
    cmd.arg("--noout").arg("--huge").arg("--schema").arg(xsd_path());
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
/// Panics when the model accepts a dossier that carries `DuLieuNghiepVu` but drops
/// its payload: business data is either refused or kept, never lost silently.
fn model(dialect: &str, body: &[u8]) -> Result<Dossier, String> {
    let (r, raw) = match dialect {
        "json" => (dossier_from_json(body), parse_json(body)),
        "xml" => (dossier_from_xml(body), parse_xml(body)),
        _ => panic!("unknown dialect {dialect}"),
    };
    let d = r.map_err(|e| match e {
        DossierError::Invalid(v) => format!("{}: {v}", v.code()),
        DossierError::Parse(p) => format!("{}: {p}", p.code()),
        other => format!("?: {other}"),
    })?;
    let sent = raw.is_ok_and(|raw| matches!(raw.root.get("DuLieuNghiepVu"), Some(RawValue::Object(_))));
    assert!(!sent || d.payload.is_some(), "the model accepted a dossier but dropped its DuLieuNghiepVu");
    Ok(d)
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

/// The table a name stands for: [`FIELDS`] for [`ROOT`], else the nested table.
fn table_named(name: &str) -> &'static [FieldSpec] {
    if name == ROOT {
        return FIELDS;
    }
    let t = table(name);
    assert!(!t.is_empty(), "{name} is not a table of the catalogue");
    t
}

/// The tables reachable from [`FIELDS`] through `Object` and `List` kinds, root first,
/// each once, in the order a depth-first walk in catalogue order meets them.
fn reachable_tables() -> Vec<&'static str> {
    fn walk(name: &'static str, out: &mut Vec<&'static str>) {
        if out.contains(&name) {
            return;
        }
        out.push(name);
        for spec in table_named(name) {
            if let FieldKind::Object(t) | FieldKind::List(t) = spec.kind {
                walk(t, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(ROOT, &mut out);
    out
}

/// The largest inline file, from the catalogue (`TepDinhKem.DuLieuTep`).
fn max_inline_file_bytes() -> usize {
    match table("TepDinhKem").iter().find(|s| s.name == "DuLieuTep").map(|s| s.kind) {
        Some(FieldKind::Base64(max)) => max,
        other => panic!("TepDinhKem.DuLieuTep is {other:?}, not Base64"),
    }
}

/// `pattern` as the whole value, or also empty when the field is optional (an empty
/// optional value is absent). `anchored` adds `^...$` as JSON Schema needs; XSD
/// patterns are implicitly anchored.
fn whole(pattern: &str, required: bool, anchored: bool) -> String {
    let p = if required { pattern.to_owned() } else { format!("({pattern})?") };
    if anchored {
        format!("^{p}$")
    } else {
        p
    }
}

/// The pattern of a `Code(lo, hi)`: the number, leading `+` or zeros tolerated (as
/// Rust's `u8::from_str` does).
fn code_pattern(lo: u8, hi: u8) -> String {
    let alts: Vec<String> = (lo..=hi).map(|c| c.to_string()).collect();
    format!("\\+?0*({})", alts.join("|"))
}

/// The pattern of an `Amount`: digits up to [`MAX_AMOUNT`], `+` or zeros tolerated.
fn amount_pattern() -> String {
    let max = MAX_AMOUNT.to_string();
    format!("\\+?0*([0-9]{{1,{}}}|{max})", max.len() - 1)
}

const VSIC_PATTERN: &str = "[0-9]{4,5}";
const TAX_CODE_PATTERN: &str = "[0-9]{10}(-[0-9]{3})?";
const BASE64_XSD_PATTERN: &str = "[A-Za-z0-9+/=\\s]*";

/// How the README names a kind.
fn kind_label(kind: FieldKind) -> String {
    match kind {
        FieldKind::Text(n) => format!("Text({n})"),
        FieldKind::DossierCode => "DossierCode".into(),
        FieldKind::ProcedureCode => "ProcedureCode".into(),
        FieldKind::Agency => "Agency".into(),
        FieldKind::Date => "Date".into(),
        FieldKind::Code(lo, hi) => format!("Code({lo}..{hi})"),
        FieldKind::Amount => "Amount".into(),
        FieldKind::Email => "Email".into(),
        FieldKind::Phone => "Phone".into(),
        FieldKind::Url => "Url".into(),
        FieldKind::OneOf(codes) => format!("OneOf({})", codes.join(", ")),
        FieldKind::Vsic => "Vsic".into(),
        FieldKind::TaxCode => "TaxCode".into(),
        FieldKind::Base64(max) => format!("Base64({max})"),
        FieldKind::Object(t) => format!("Object({t})"),
        FieldKind::List(t) => format!("List({t})"),
    }
}

#[test]
fn every_table_is_reachable_from_the_dossier() {
    let reached: BTreeSet<&str> = reachable_tables().into_iter().filter(|t| *t != ROOT).collect();
    let all: BTreeSet<&str> = TABLES.iter().map(|(n, _)| *n).collect();
    assert_eq!(reached, all, "tables of TABLES not reachable from FIELDS, or the other way round");
    assert_eq!(TABLES.len(), all.len(), "a table name appears twice in TABLES");
    for name in EXACTLY_ONE {
        for spec in table_named(name) {
            assert!(
                matches!(spec.kind, FieldKind::Object(_)) && !spec.required,
                "{name}.{}: the alternatives of an exactly-one table are optional objects",
                spec.name
            );
        }
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

/// A keyword of a property, or of the definition its `$ref` names.
fn keyword<'a>(root: &'a Value, prop: &'a Value, key: &str) -> Option<&'a Value> {
    prop.get(key).or_else(|| deref(root, prop).get(key))
}

/// The JSON types a property allows, looking through its `$ref` and the branches of
/// an `anyOf`.
fn types(root: &Value, prop: &Value) -> Vec<String> {
    if let Some(alts) = prop.get("anyOf").filter(|_| prop.get("type").is_none() && prop.get("$ref").is_none()) {
        return alts.as_array().unwrap().iter().flat_map(|a| types(root, a)).collect();
    }
    let t = keyword(root, prop, "type").unwrap_or_else(|| panic!("no type in {prop}"));
    match t {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        _ => panic!("bad type {t}"),
    }
}

/// The `$defs` entry of a table, as a `$ref`.
fn table_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/$defs/{name}") })
}

/// The schema object of a table: the root for [`ROOT`], else `$defs/<name>`.
fn json_table<'a>(root: &'a Value, name: &str) -> &'a Value {
    if name == ROOT {
        return root;
    }
    root["$defs"].get(name).unwrap_or_else(|| panic!("hoso.schema.json has no $defs/{name}"))
}

/// The property of `field` in the schema object of table `name`.
fn json_property<'a>(root: &'a Value, name: &str, field: &str) -> &'a Value {
    json_table(root, name)["properties"]
        .get(field)
        .unwrap_or_else(|| panic!("hoso.schema.json: {name} has no property {field}"))
}

/// Checks the schema object of one table against the catalogue; the nested tables
/// are checked by the caller, which walks every reachable table.
fn check_json_table(root: &Value, name: &str) {
    let obj = json_table(root, name);
    let table = table_named(name);
    let what = name;
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

    if EXACTLY_ONE.contains(&name) {
        let want: Vec<Value> =
            names(table).iter().map(|n| json!({"required": [n], "properties": {*n: {"type": "object"}}})).collect();
        assert_eq!(obj["oneOf"], Value::Array(want), "{what}: exactly one property is an object (oneOf)");
    } else {
        assert!(obj.get("oneOf").is_none(), "{what}: oneOf only on the exactly-one tables");
    }

    for spec in table {
        let p = &props[spec.name];
        let at = format!("{what}.{}", spec.name);
        assert!(p["description"].as_str().is_some_and(|d| d.len() > 10), "{at}: needs a description");
        let t = types(root, p);
        let kw = |key: &str| keyword(root, p, key).cloned().unwrap_or(Value::Null);
        assert_eq!(
            t.iter().any(|t| t == "null"),
            !spec.required,
            "{at}: null (absent) is allowed exactly for optional fields"
        );
        match spec.kind {
            FieldKind::List(item) => {
                let want_types: &[&str] = if spec.required { &["array"] } else { &["array", "null"] };
                assert_eq!(t, want_types, "{at}: a list is an array (null = empty, only when optional)");
                assert_eq!(p["maxItems"], json!(MAX_ITEMS), "{at}: maxItems");
                let min = if spec.required { json!(1) } else { Value::Null };
                assert_eq!(p["minItems"], min, "{at}: a required list has an item");
                assert_eq!(p["items"], table_ref(item), "{at}: items are $defs/{item}");
                continue;
            }
            FieldKind::Object(t) => {
                if spec.required {
                    assert_eq!(p["$ref"], table_ref(t)["$ref"], "{at}: a required object is $defs/{t}");
                } else {
                    assert_eq!(
                        p["anyOf"],
                        json!([table_ref(t), {"type": "null"}]),
                        "{at}: an optional object is $defs/{t} or null"
                    );
                }
                continue;
            }
            FieldKind::Text(n) => {
                assert_eq!(p["maxLength"], json!(n), "{at}: maxLength from Text({n})");
            }
            FieldKind::Code(lo, hi) => {
                assert!(t.iter().any(|t| t == "integer"), "{at}: codes may be numbers");
                assert_eq!((&p["minimum"], &p["maximum"]), (&json!(lo), &json!(hi)), "{at}: range");
                assert_eq!(kw("pattern"), json!(whole(&code_pattern(lo, hi), spec.required, true)), "{at}: pattern");
            }
            FieldKind::Amount => {
                assert!(t.iter().any(|t| t == "integer"), "{at}: amounts may be numbers");
                assert_eq!((kw("minimum"), kw("maximum")), (json!(0), json!(MAX_AMOUNT)), "{at}: range");
                assert_eq!(kw("pattern"), json!(whole(&amount_pattern(), spec.required, true)), "{at}: pattern");
            }
            FieldKind::OneOf(codes) => {
                let mut want: Vec<Value> = codes.iter().map(|c| json!(c)).collect();
                if !spec.required {
                    want.extend([json!(""), Value::Null]);
                }
                assert_eq!(kw("enum"), Value::Array(want), "{at}: enum from OneOf");
            }
            FieldKind::Vsic => {
                assert_eq!(kw("pattern"), json!(whole(VSIC_PATTERN, spec.required, true)), "{at}: VSIC pattern");
            }
            FieldKind::TaxCode => {
                assert_eq!(kw("pattern"), json!(whole(TAX_CODE_PATTERN, spec.required, true)), "{at}: tax code");
            }
            FieldKind::Base64(_) => {
                // The pattern and the size limit are proved by the value probes.
                assert_eq!(kw("contentEncoding"), json!("base64"), "{at}: contentEncoding");
                assert!(kw("pattern").is_string(), "{at}: a base64 pattern");
            }
            FieldKind::DossierCode
            | FieldKind::ProcedureCode
            | FieldKind::Agency
            | FieldKind::Date
            | FieldKind::Email
            | FieldKind::Phone
            | FieldKind::Url => {
                assert!(kw("pattern").is_string(), "{at}: a checked value needs a pattern");
            }
        }
        if !matches!(spec.kind, FieldKind::Code(..) | FieldKind::Amount) {
            assert!(!t.iter().any(|t| t == "integer"), "{at}: only codes and amounts are numbers");
        }
        assert!(t.iter().any(|t| t == "string"), "{at}: scalars are strings");
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
fn json_schema_matches_the_catalogue_at_every_level() {
    let schema = json_schema();
    for name in reachable_tables() {
        check_json_table(&schema, name);
    }
    // No stale table definitions: every object definition is a table of the catalogue.
    let defs = schema["$defs"].as_object().expect("$defs");
    for (name, def) in defs {
        if def.get("properties").is_some() {
            assert!(reachable_tables().contains(&name.as_str()), "$defs/{name} is not a table of the catalogue");
        }
    }
}

// ------------------------------------------------------------------ (c) XSD vs catalogue

/// A minimal element tree: local names, attributes, children and text.
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
    text: String,
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

    /// The text of `xs:annotation/xs:documentation`.
    fn documentation(&self) -> &str {
        &self.kid("annotation").kid("documentation").text
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
        Node {
            name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
            attrs,
            children: Vec::new(),
            text: String::new(),
        }
    }
    let mut r = quick_xml::Reader::from_str(text);
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
            Event::Text(t) => stack.last_mut().unwrap().text.push_str(&t.decode().unwrap()),
            Event::GeneralRef(g) => {
                let s = match g.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = g.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name).expect("a predefined entity").to_owned()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&s);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unbalanced XSD");
    stack.pop().unwrap().children.pop().expect("empty XSD")
}

fn xsd_tree() -> (String, Node) {
    let text = String::from_utf8(read(&xsd_path())).unwrap();
    let tree = parse_tree(&text);
    (text, tree)
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap()
}

/// The facets along a simple type's restriction chain, nearest first, ending with
/// the built-in base as `("base", "xs:...")`.
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

fn facet_values<'a>(f: &'a [(String, String)], facet: &str) -> Vec<&'a str> {
    f.iter().filter(|(k, _)| k == facet).map(|(_, v)| v.as_str()).collect()
}

/// The complex type of table `name`: the type of the global `HoSo` element for
/// [`ROOT`], else the complex type of the same name.
fn xsd_table<'a>(schema: &'a Node, name: &str) -> &'a Node {
    if name == ROOT {
        let roots: Vec<&Node> = schema.kids("element").collect();
        assert_eq!(roots.len(), 1, "one global element");
        assert_eq!(roots[0].attr("name"), Some(ROOT));
        let ty = roots[0].attr("type").expect("HoSo has a named type");
        return schema.named("complexType", local(ty));
    }
    schema.named("complexType", name)
}

/// The element declarations of table `name`, in document order.
fn xsd_elements<'a>(schema: &'a Node, name: &str) -> Vec<&'a Node> {
    let ct = xsd_table(schema, name);
    let group = if EXACTLY_ONE.contains(&name) { "choice" } else { "sequence" };
    ct.kid(group).kids("element").collect()
}

/// Checks the complex type of one table against the catalogue: an `xs:sequence` in
/// catalogue order, or for an exactly-one table an `xs:choice` of its fields.
fn check_xsd_table(schema: &Node, name: &str) {
    let table = table_named(name);
    let ct = xsd_table(schema, name);
    let what = name;
    let exactly_one = EXACTLY_ONE.contains(&name);
    if exactly_one {
        assert!(ct.kids("sequence").next().is_none(), "{what}: an exactly-one table is an xs:choice");
        let choice = ct.kid("choice");
        assert_eq!(
            (choice.attr("minOccurs"), choice.attr("maxOccurs")),
            (None, None),
            "{what}: the choice is made exactly once"
        );
    } else {
        assert!(ct.kids("choice").next().is_none(), "{what}: xs:choice only for the exactly-one tables");
    }
    let elements = xsd_elements(schema, name);
    let got: Vec<&str> = elements.iter().map(|e| e.attr("name").unwrap()).collect();
    assert_eq!(got, names(table), "{what}: child elements differ from the catalogue (names and order)");
    for (el, spec) in elements.iter().zip(table) {
        let at = format!("{what}/{}", spec.name);
        let min = el.attr("minOccurs").unwrap_or("1");
        if exactly_one {
            assert_eq!(min, "1", "{at}: the chosen element is present");
        } else {
            assert_eq!(
                min,
                if spec.required { "1" } else { "0" },
                "{at}: minOccurs must be 1 exactly for required fields"
            );
        }
        assert_eq!(el.attr("maxOccurs").unwrap_or("1"), "1", "{at}: maxOccurs");
        let ty = || el.attr("type").unwrap_or_else(|| panic!("{at}: element type"));
        match spec.kind {
            FieldKind::List(item) => {
                assert!(el.attr("type").is_none(), "{at}: a list is an anonymous wrapper");
                let inner = el.kid("complexType").kid("sequence");
                let items: Vec<&Node> = inner.kids("element").collect();
                assert_eq!(items.len(), 1, "{at}: one item element");
                let it = items[0];
                assert_eq!(it.attr("name"), Some(item), "{at}: item element name");
                let min = if spec.required { "1" } else { "0" };
                assert_eq!(it.attr("minOccurs"), Some(min), "{at}: a required list has an item, others may be empty");
                assert_eq!(it.attr("maxOccurs"), Some(MAX_ITEMS.to_string().as_str()), "{at}: at most 500 items");
                assert_eq!(it.attr("type"), Some(format!("hs:{item}").as_str()), "{at}: items are of type {item}");
            }
            FieldKind::Object(t) => {
                assert_eq!(ty(), format!("hs:{t}"), "{at}: an object is of type {t}");
            }
            FieldKind::Text(n) => {
                let f = facets(schema, ty());
                assert_eq!(facet_values(&f, "maxLength"), [n.to_string()], "{at}: maxLength from Text({n})");
                assert!(f.contains(&("base".into(), "xs:string".into())), "{at}: free text keeps its whitespace");
                // A required text refuses blanks; an optional one may be empty.
                let blank_refused = facet_values(&f, "pattern").contains(&"\\s*\\S[\\s\\S]*");
                assert_eq!(blank_refused, spec.required, "{at}: RequiredText exactly for required text");
            }
            FieldKind::Code(lo, hi) => {
                let f = facets(schema, ty());
                let want = whole(&code_pattern(lo, hi), spec.required, false);
                assert_eq!(facet_values(&f, "pattern"), [want.as_str()], "{at}: pattern of Code({lo}, {hi})");
            }
            FieldKind::Amount => {
                let f = facets(schema, ty());
                let want = whole(&amount_pattern(), spec.required, false);
                assert_eq!(facet_values(&f, "pattern"), [want.as_str()], "{at}: pattern of Amount");
            }
            FieldKind::OneOf(codes) => {
                let f = facets(schema, ty());
                let mut want: Vec<&str> = codes.to_vec();
                if !spec.required {
                    want.push("");
                }
                assert_eq!(facet_values(&f, "enumeration"), want, "{at}: enumeration from OneOf");
                assert_eq!(facet_values(&f, "base"), ["xs:token"], "{at}: codes are tokens");
            }
            FieldKind::Vsic => {
                let f = facets(schema, ty());
                let want = whole(VSIC_PATTERN, spec.required, false);
                assert_eq!(facet_values(&f, "pattern"), [want.as_str()], "{at}: VSIC pattern");
            }
            FieldKind::TaxCode => {
                let f = facets(schema, ty());
                let want = whole(TAX_CODE_PATTERN, spec.required, false);
                assert_eq!(facet_values(&f, "pattern"), [want.as_str()], "{at}: tax code pattern");
            }
            FieldKind::Base64(max) => {
                let f = facets(schema, ty());
                assert_eq!(facet_values(&f, "base"), ["xs:base64Binary"], "{at}: base64Binary");
                // For base64Binary, XSD length facets count decoded octets.
                assert_eq!(facet_values(&f, "maxLength"), [max.to_string()], "{at}: maxLength in bytes");
                // libxml2 skips characters outside the alphabet: the pattern refuses them.
                assert_eq!(facet_values(&f, "pattern"), [BASE64_XSD_PATTERN], "{at}: the base64 alphabet");
            }
            FieldKind::DossierCode
            | FieldKind::ProcedureCode
            | FieldKind::Agency
            | FieldKind::Date
            | FieldKind::Email
            | FieldKind::Phone
            | FieldKind::Url => {
                let f = facets(schema, ty());
                assert!(f.iter().any(|(k, _)| k == "pattern"), "{at}: a checked value needs a pattern");
            }
        }
    }
}

#[test]
fn xsd_matches_the_catalogue_at_every_level() {
    let (text, schema) = xsd_tree();
    assert_eq!(schema.name, "schema");
    assert_eq!(schema.attr("targetNamespace"), Some(schemas::XML_NAMESPACE));
    assert_eq!(schema.attr("elementFormDefault"), Some("qualified"));

    for name in reachable_tables() {
        check_xsd_table(&schema, name);
    }
    // No stale complex types: each is the dossier's or a table's.
    let hoso_type = local(schema.kid("element").attr("type").unwrap()).to_owned();
    for ct in schema.kids("complexType") {
        let n = ct.attr("name").unwrap();
        assert!(n == hoso_type || reachable_tables().contains(&n), "complexType {n} is not a table of the catalogue");
    }

    let hoso = xsd_table(&schema, ROOT);
    let seq = hoso.kid("sequence");
    let last = seq.children.last().unwrap();
    assert_eq!(last.name, "any", "the signature slot comes last");
    assert_eq!(last.attr("namespace"), Some(DSIG_NAMESPACE));
    assert_eq!(last.attr("processContents"), Some("lax"));
    assert_eq!(last.attr("minOccurs"), Some("0"));
    let wildcards = text.matches("<xs:any ").count() + text.matches("<xs:anyAttribute").count();
    assert_eq!(wildcards, 1, "no other wildcard at any level");

    let attrs: Vec<&Node> = hoso.kids("attribute").collect();
    assert_eq!(attrs.len(), 1, "HoSo has only the Id attribute");
    assert_eq!(attrs[0].attr("name"), Some("Id"));
    assert_eq!(attrs[0].attr("type"), Some("xs:ID"));
    assert_eq!(attrs[0].attr("use").unwrap_or("optional"), "optional");
    assert_eq!(text.matches("<xs:attribute ").count(), 1, "no attributes below the root");
    assert!(text.contains("accepts the children in any order"), "the XSD must say that the gateway accepts any order");
}

/// The XSD states that no VSIC code appears twice among the business lines
/// (`xs:unique`), a rule of `build.rs` beyond the catalogue, and no other identity
/// constraint.
#[test]
fn xsd_states_the_unique_business_lines() {
    let (text, schema) = xsd_tree();
    let lines = xsd_elements(&schema, "DangKyDoanhNghiep").into_iter().find(|e| e.attr("name") == Some("NganhNghe"));
    let unique = lines.expect("NganhNghe").kid("unique");
    assert_eq!(unique.kid("selector").attr("xpath"), Some("hs:Nganh"));
    assert_eq!(unique.kid("field").attr("xpath"), Some("hs:MaNganh"));
    assert_eq!(text.matches("<xs:unique ").count() + text.matches("<xs:key ").count(), 1, "one identity constraint");
}

// ------------------------------------------------------------------ descriptions and README

/// The README's field tables: table name to rows of (field, required, kind, meaning).
fn readme_tables() -> BTreeMap<String, Vec<[String; 4]>> {
    let text = String::from_utf8(read(&crate_dir().join("README.md"))).unwrap();
    let mut out: BTreeMap<String, Vec<[String; 4]>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("#### ") {
            let path = h.split_whitespace().next().unwrap();
            let name = path.rsplit('/').next().unwrap().to_owned();
            assert!(!out.contains_key(&name), "README: two field tables for {name}");
            out.insert(name.clone(), Vec::new());
            current = Some(name);
        } else if line.starts_with("## ") {
            current = None;
        } else if let (Some(name), Some(row)) = (&current, line.strip_prefix("| `")) {
            let cells: Vec<&str> = row.split(" | ").collect();
            assert_eq!(cells.len(), 4, "README, {name}: a row has 4 cells: {line}");
            let field = cells[0].strip_suffix('`').expect("the field in backticks");
            let meaning = cells[3].strip_suffix(" |").expect("a row ends with |");
            out.get_mut(name).unwrap().push([field, cells[1].trim(), cells[2], meaning].map(str::to_owned));
        }
    }
    out
}

/// Every field is described alike in the JSON schema, the XSD (whose documentation
/// may add XML-specific words) and the README, and the README's field tables list
/// the catalogue at every level: names, order, required, kind.
#[test]
fn descriptions_and_readme_tables_agree_with_the_catalogue() {
    let json = json_schema();
    let (_, xsd) = xsd_tree();
    let readme = readme_tables();
    let mut want_tables: Vec<&str> = reachable_tables();
    want_tables.sort_unstable();
    assert_eq!(readme.keys().map(String::as_str).collect::<Vec<_>>(), want_tables, "README: one table per table");
    for name in reachable_tables() {
        let table = table_named(name);
        let rows = &readme[name];
        let got: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(got, names(table), "README, {name}: fields (names and order)");
        let elements = xsd_elements(&xsd, name);
        for ((spec, row), el) in table.iter().zip(rows).zip(elements) {
            let at = format!("{name}.{}", spec.name);
            let desc = json_property(&json, name, spec.name)["description"].as_str().unwrap();
            assert_eq!(row[1], if spec.required { "yes" } else { "" }, "README, {at}: required");
            assert_eq!(row[2], kind_label(spec.kind), "README, {at}: kind");
            assert_eq!(row[3], desc, "README, {at}: the meaning is the JSON schema's description");
            let doc = el.documentation();
            assert!(doc.starts_with(desc), "hoso.xsd, {at}: documentation {doc:?} does not start with {desc:?}");
        }
    }
}

// ------------------------------------------------------------------ (a) valid examples

/// The valid examples with their dialect, sorted by file name.
fn valid_examples() -> Vec<(PathBuf, &'static str)> {
    let dir = examples_dir();
    let mut out: Vec<(PathBuf, &'static str)> = files(&dir, "json").into_iter().map(|p| (p, "json")).collect();
    out.extend(files(&dir, "xml").into_iter().map(|p| (p, "xml")));
    out
}

#[test]
fn valid_examples_pass_their_schema_and_the_model() {
    let dir = examples_dir();
    for name in REQUIRED_EXAMPLES {
        assert!(dir.join(name).is_file(), "missing example {name}");
    }
    let v = json_validator();
    let mut count = 0;
    for (path, dialect) in valid_examples() {
        let body = read(&path);
        if dialect == "json" {
            let doc: Value = serde_json::from_slice(&body).unwrap();
            let errs = json_errors(&v, &doc);
            assert!(errs.is_empty(), "{} fails hoso.schema.json:\n{}", path.display(), errs.join("\n"));
        } else if let Err(e) = xmllint(XmlInput::File(&path)) {
            panic!("{} fails hoso.xsd:\n{e}", path.display());
        }
        if let Err(e) = model(dialect, &body) {
            panic!("{} is refused by the model: {e}", path.display());
        }
        count += 1;
    }
    assert!(
        count >= REQUIRED_EXAMPLES.len(),
        "expected at least {} valid examples, found {count}",
        REQUIRED_EXAMPLES.len()
    );
}

/// Between them the valid examples carry every kind of payload (both civil-status
/// events, both trade procedures) and a file sent inline.
#[test]
fn valid_examples_carry_every_payload_kind() {
    let mut kinds = BTreeSet::new();
    let mut inline_files = 0;
    for (path, dialect) in valid_examples() {
        let d = model(dialect, &read(&path)).unwrap();
        inline_files += d.files.iter().filter(|f| f.content_base64.is_some()).count();
        let kind = match &d.payload {
            None => continue,
            Some(Payload::CivilStatus(CivilStatus::Birth(_))) => "HoTich/KhaiSinh".to_owned(),
            Some(Payload::CivilStatus(CivilStatus::Death(_))) => "HoTich/KhaiTu".to_owned(),
            Some(Payload::TradeLicence(t)) => format!("GiayPhepCongThuong/{}", t.licence_kind.code()),
            Some(p) => p.kind().wire_name().to_owned(),
        };
        kinds.insert(kind);
    }
    let mut want: BTreeSet<String> = PayloadKind::ALL.iter().map(|k| k.wire_name().to_owned()).collect();
    want.remove("HoTich");
    want.remove("GiayPhepCongThuong");
    want.extend(["HoTich/KhaiSinh".into(), "HoTich/KhaiTu".into()]);
    for k in [TradeLicenceKind::AlcoholRetail, TradeLicenceKind::PromotionNotice] {
        want.insert(format!("GiayPhepCongThuong/{}", k.code()));
    }
    assert_eq!(kinds, want, "payload kinds among the valid examples");
    assert!(inline_files > 0, "no valid example sends a file inline (DuLieuTep)");
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

/// The fuzz targets start from the valid examples.
#[test]
fn fuzz_seeds_hold_the_valid_examples() {
    let seeds = crate_dir().join("fuzz").join("seeds");
    for (path, dialect) in valid_examples() {
        let seed = seeds.join(format!("{dialect}_dossier")).join(file_name(&path));
        assert!(
            seed.is_file() && read(&seed) == read(&path),
            "{} is not a seed (or differs from its seed)",
            seed.display()
        );
    }
}

// ------------------------------------------------------------------ (d) twins

#[test]
fn twin_examples_normalise_to_the_same_dossier() {
    let dir = examples_dir();
    let (mut payloads, mut inline_files) = (0, 0);
    for twin in TWINS {
        let j = model("json", &read(&dir.join(format!("{twin}.json")))).unwrap();
        let x = model("xml", &read(&dir.join(format!("{twin}.xml")))).unwrap();
        assert_eq!(j, x, "{twin}: the dialects disagree");
        assert_eq!(j.content_hash(), x.content_hash(), "{twin}: content hash");
        payloads += usize::from(j.payload.is_some());
        inline_files += j.files.iter().filter(|f| f.content_base64.is_some()).count();
    }
    assert!(payloads >= 2 && inline_files >= 1, "the twins must cover payloads and an inline file");
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

/// The invalid examples of the payload rules are refused for the reason their name
/// gives, at the field it names: the first problem is inside `DuLieuNghiepVu`.
#[test]
fn invalid_payload_examples_name_the_payload_field() {
    let dir = examples_dir().join("invalid");
    let cases: &[(&str, &str)] = &[
        ("invalid_field--two-payload-kinds.json", "DuLieuNghiepVu"),
        ("invalid_field--two-civil-status-events.xml", "DuLieuNghiepVu.HoTich"),
        ("invalid_field--no-main-business-line.xml", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe"),
        ("invalid_field--two-main-business-lines.json", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe"),
        ("duplicate_field--vsic-twice.json", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe"),
        ("duplicate_field--vsic-twice.xml", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe"),
        ("missing_field--business-without-lines.json", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe"),
        ("impossible_dates--promotion-ends-before-start.json", "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianKetThuc"),
        ("missing_field--promotion-without-end.xml", "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau"),
        ("missing_field--promotion-without-dates.json", "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau"),
        ("impossible_dates--born-in-the-future.xml", "DuLieuNghiepVu.HoTich.KhaiSinh.NgaySinh"),
        ("impossible_dates--death-in-the-future.json", "DuLieuNghiepVu.HoTich.KhaiTu.NgayChet"),
        ("impossible_dates--residence-period-reversed.xml", "DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru[1].DenNgay"),
        ("invalid_field--bad-vsic.json", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe[1].MaNganh"),
        ("invalid_field--bad-tax-code.xml", "DuLieuNghiepVu.GiayPhepCongThuong.MaSoThue"),
        ("invalid_field--bad-base64.json", "TaiLieuNop[1].DuLieuTep"),
        ("invalid_field--charter-capital-too-large.xml", "DuLieuNghiepVu.DangKyDoanhNghiep.VonDieuLe"),
        ("invalid_field--unknown-enterprise-type.json", "DuLieuNghiepVu.DangKyDoanhNghiep.LoaiHinhDoanhNghiep"),
        ("unknown_field--payload-typo.xml", "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNgheKinhDoanh"),
    ];
    let mut wrong = Vec::new();
    for (name, field) in cases {
        let ext = name.rsplit('.').next().unwrap();
        let body = read(&dir.join(name));
        let r = match ext {
            "json" => dossier_from_json(&body),
            _ => dossier_from_xml(&body),
        };
        match r {
            Err(DossierError::Invalid(v)) if v.errors()[0].field == *field => {}
            Err(DossierError::Invalid(v)) => {
                wrong.push(format!("{name}: first problem at {}: {v}", v.errors()[0].field))
            }
            other => wrong.push(format!("{name}: {other:?}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

// ------------------------------------------------------------------ value probes

/// A valid enterprise registration for probing.
fn probe_business() -> Value {
    json!({
        "TenDoanhNghiep": "Công ty TNHH Thực phẩm Xanh Đồng Nai",
        "LoaiHinhDoanhNghiep": "TNHH1TV",
        "VonDieuLe": "2000000000",
        "DiaChiTruSo": {"SoNhaDuong": "118 Phạm Văn Thuận", "PhuongXa": "Phường Tam Hiệp", "TinhThanhPho": "Tỉnh Đồng Nai"},
        "NguoiDaiDienPhapLuat": {"HoTen": "Lý Thị Mai", "ChucDanh": "Giám đốc", "SoGiayTo": "075186001122"},
        "NganhNghe": [
            {"MaNganh": "4711", "TenNganh": "Bán lẻ lương thực, thực phẩm trong cửa hàng kinh doanh tổng hợp", "LaNganhChinh": "1"},
            {"MaNganh": "56101", "TenNganh": "Nhà hàng, quán ăn, hàng ăn uống", "LaNganhChinh": "0"}
        ]
    })
}

/// A valid promotion notice (the trade procedure with the most rules) for probing.
fn probe_trade() -> Value {
    json!({
        "LoaiThuTuc": "KHUYEN_MAI",
        "TenThuongNhan": "Công ty Cổ phần Siêu thị Phương Nam Cần Thơ",
        "MaSoThue": "1801234567",
        "DiaDiemKinhDoanh": {"SoNhaDuong": "Số 2 Hòa Bình", "PhuongXa": "Phường Ninh Kiều", "TinhThanhPho": "Thành phố Cần Thơ"},
        "NoiDungDeNghi": "Giảm 20% giá bán các mặt hàng gia dụng",
        "ThoiGianBatDau": "2026-12-01",
        "ThoiGianKetThuc": "2026-12-31 23:59:59"
    })
}

fn probe_birth() -> Value {
    json!({"HoTen": "Đỗ Gia Bảo", "NgaySinh": "2021-05-04", "GioiTinh": "1", "NoiSinh": "Trạm Y tế xã Tân Hòa, tỉnh Vĩnh Long"})
}

fn probe_death() -> Value {
    json!({"HoTen": "Ngô Văn Tư", "NgayChet": "2026-10-02 21:15:00", "NoiChet": "Tại nhà riêng, ấp Phú Thạnh, xã Tân Hòa, tỉnh Vĩnh Long"})
}

fn probe_judicial() -> Value {
    json!({
        "LoaiPhieu": "1",
        "HoTen": "Võ Thị Thanh Hương",
        "NgaySinh": "1990-09-02",
        "GioiTinh": "2",
        "NoiSinh": "Thành phố Huế",
        "QuocTich": "Việt Nam",
        "SoGiayTo": "046190004455",
        "NoiThuongTru": "17 Lê Lợi, phường Thuận Hóa, thành phố Huế",
        "MucDichSuDung": "Bổ sung hồ sơ xin cấp giấy phép lao động",
        "QuaTrinhCuTru": [
            {"TuNgay": "2004-09-02", "DenNgay": "2008-08-31", "NoiCuTru": "Thành phố Huế"},
            {"TuNgay": "2008-09-01", "NoiCuTru": "17 Lê Lợi, phường Thuận Hóa, thành phố Huế"}
        ]
    })
}

/// A dossier for probing one value: the required fields, one file and one fee, and
/// for a path into `DuLieuNghiepVu` a valid payload of the kind the path names.
struct ProbeDoc(Value);

/// Splits `Name[i]` into the name and the index.
fn split_index(seg: &str) -> (&str, Option<usize>) {
    match seg.strip_suffix(']').and_then(|s| s.split_once('[')) {
        Some((name, i)) => (name, Some(i.parse().expect("a list index"))),
        None => (seg, None),
    }
}

impl ProbeDoc {
    fn for_path(at: &str) -> Self {
        let mut doc = json!({
            "MaHoSo": "000.00.31.H29-261122-0001",
            "MaTTHC": "1.005129",
            "TenTTHC": "Đăng ký khai sinh",
            "KenhThucHien": "2",
            "ChuHoSo": "Nguyễn Văn An",
            "LoaiDoiTuong": "1",
            "NgayTiepNhan": "20261122083000",
            "NgayHenTra": "20261125170000",
            "TaiLieuNop": [{"TenTepDinhKem": "to-khai.pdf"}],
            "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "Gia": "8000"}]
        });
        let segs: Vec<&str> = at.split('.').collect();
        if segs[0] == "DuLieuNghiepVu" && segs.len() > 1 {
            doc["DuLieuNghiepVu"] = match split_index(segs[1]).0 {
                "DangKyDoanhNghiep" => json!({"DangKyDoanhNghiep": probe_business()}),
                "GiayPhepCongThuong" => json!({"GiayPhepCongThuong": probe_trade()}),
                "HoTich" if segs.get(2) == Some(&"KhaiTu") => json!({"HoTich": {"KhaiTu": probe_death()}}),
                "HoTich" => json!({"HoTich": {"KhaiSinh": probe_birth()}}),
                "LyLichTuPhap" => json!({"LyLichTuPhap": probe_judicial()}),
                other => panic!("{at}: {other} is not a payload kind"),
            };
        }
        Self(doc)
    }

    /// Sets `at` (`Field`, `Object.Field`, `List.Field` for the first item or
    /// `List[i].Field`) to `value`; `None` removes it.
    fn with(mut self, at: &str, value: Option<Value>) -> Self {
        let segs: Vec<&str> = at.split('.').collect();
        let mut table = FIELDS;
        let mut node = &mut self.0;
        for (i, seg) in segs.iter().enumerate() {
            let (name, index) = split_index(seg);
            let spec = table
                .iter()
                .find(|s| s.name == name)
                .unwrap_or_else(|| panic!("{at}: {name} is not in the catalogue there"));
            if i + 1 == segs.len() {
                assert!(index.is_none(), "{at}: the last segment is a field");
                let obj = node.as_object_mut().unwrap();
                match value {
                    Some(v) => obj.insert(name.to_owned(), v),
                    None => obj.remove(name),
                };
                break;
            }
            node = match spec.kind {
                FieldKind::Object(t) => {
                    table = schemas::table(t);
                    node.get_mut(name)
                }
                FieldKind::List(t) => {
                    table = schemas::table(t);
                    node.get_mut(name).and_then(|l| l.get_mut(index.unwrap_or(0)))
                }
                _ => panic!("{at}: {name} holds no fields"),
            }
            .unwrap_or_else(|| panic!("{at}: the probe dossier has no {seg}"));
        }
        self
    }

    fn json(&self) -> Value {
        self.0.clone()
    }

    /// The XML form, children in catalogue order; `None` when the dossier has no XML
    /// form (a value that is not a string, an object or a list of objects where the
    /// catalogue has one, a field the catalogue lacks, or a C0 control character,
    /// which XML 1.0 cannot carry).
    fn xml(&self) -> Option<String> {
        fn esc(s: &str) -> String {
            s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
        }
        fn children(out: &mut String, table: &[FieldSpec], obj: &serde_json::Map<String, Value>) -> Option<()> {
            if obj.keys().any(|k| !table.iter().any(|s| s.name == k)) {
                return None;
            }
            for spec in table {
                if let Some(v) = obj.get(spec.name) {
                    field(out, spec, v)?;
                }
            }
            Some(())
        }
        fn field(out: &mut String, spec: &FieldSpec, v: &Value) -> Option<()> {
            let name = spec.name;
            match (spec.kind, v) {
                (_, Value::String(s)) => {
                    if s.chars().any(|c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')) {
                        return None;
                    }
                    out.push_str(&format!("<{name}>{}</{name}>", esc(s)));
                }
                (FieldKind::Object(t), Value::Object(m)) => {
                    out.push_str(&format!("<{name}>"));
                    children(out, schemas::table(t), m)?;
                    out.push_str(&format!("</{name}>"));
                }
                (FieldKind::List(t), Value::Array(items)) => {
                    out.push_str(&format!("<{name}>"));
                    for item in items {
                        out.push_str(&format!("<{t}>"));
                        children(out, schemas::table(t), item.as_object()?)?;
                        out.push_str(&format!("</{t}>"));
                    }
                    out.push_str(&format!("</{name}>"));
                }
                _ => return None,
            }
            Some(())
        }
        let mut out = String::from("<HoSo xmlns=\"urn:lienthong:hoso:1\">");
        children(&mut out, FIELDS, self.0.as_object()?)?;
        out.push_str("</HoSo>");
        Some(out)
    }
}

/// How each checker judges one probe: [model on JSON, model on XML, JSON schema, XSD];
/// `None` where the value has no form in that dialect.
type Verdicts = [Option<bool>; 4];

fn verdicts(v: &jsonschema::Validator, at: &str, value: Option<Value>) -> Verdicts {
    let doc = ProbeDoc::for_path(at).with(at, value);
    let j = doc.json();
    let json_body = serde_json::to_vec(&j).unwrap();
    let (model_xml, xsd) = match doc.xml() {
        Some(x) => (Some(model("xml", x.as_bytes()).is_ok()), Some(xmllint(XmlInput::Bytes(x.as_bytes())).is_ok())),
        None => (None, None),
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

/// Runs probes and lists every verdict that differs from the expected one.
fn disagreements(probes: Vec<Probe>) -> Vec<String> {
    let v = json_validator();
    let mut wrong = Vec::new();
    for (at, value, ok) in probes {
        let got = verdicts(&v, at, value.clone());
        let names = ["model(JSON)", "model(XML)", "hoso.schema.json", "hoso.xsd"];
        for (who, verdict) in names.iter().zip(got) {
            if verdict.is_some_and(|g| g != ok) {
                let shown = match &value {
                    None => "(absent)".to_owned(),
                    Some(Value::String(s)) if s.len() > 80 => format!("<{} characters>", s.chars().count()),
                    Some(v) => v.to_string(),
                };
                wrong.push(format!(
                    "{at} = {shown}: {who} says {}, expected {}",
                    if ok { "refused" } else { "valid" },
                    if ok { "valid" } else { "refused" },
                ));
            }
        }
    }
    wrong
}

/// Values of the top-level fields, files and fees whose verdict is the same for the
/// model and both schema files.
fn top_level_probes() -> Vec<Probe> {
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

    p.strs(
        "DanhSachLePhi.Gia",
        &["0", "8000", "+5", "00000000000000001", "1000000000000", "999999999999999", "1000000000000000"],
        true,
    );
    p.strs(
        "DanhSachLePhi.Gia",
        &["", "-5", "5.0", "8.000", "8,000", "1000000000000001", "9999999999999999", "10000000000000000", "8000đ"],
        false,
    );

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

    // Inline files: standard base64, whitespace between the characters ignored.
    p.strs(
        "TaiLieuNop.DuLieuTep",
        &[
            "",
            "QUJD",
            "QUJDRA==",
            "QUJDREU=",
            "QUJDREVG",
            "+/+/",
            "QUJD REVG",
            "QUJD\tREVG",
            "QUJD\nREVG",
            "QUJD\r\nREVG",
            "Q U J D",
            "QUJDRA= =",
            "QUJDRA = =",
        ],
        true,
    );
    p.strs(
        "TaiLieuNop.DuLieuTep",
        &[
            "QUJ",
            "QUJDR",
            "QUJDRA=",
            "QUJDRA===",
            "QUJD====",
            "====",
            "=QUJ",
            "QU=D",
            "QUJDRA==QUJD",
            "QUJD-_8=",
            "QUJD%",
            "QUJ\u{1ea2}",
            "QUJD\u{a0}REVG",
            "data:application/pdf;base64,QUJD",
        ],
        false,
    );
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
    p.one("DanhSachLePhi.Gia", Some(json!(MAX_AMOUNT)), true);
    p.one("DanhSachLePhi.Gia", Some(json!(MAX_AMOUNT + 1)), false);
    p.one("DanhSachLePhi.Gia", Some(json!(1e16)), false);
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

/// Values inside `DuLieuNghiepVu` whose verdict is the same for the model and both
/// schema files: the new kinds, nested text, codes and dates, and the shape of the
/// nesting itself (which objects and lists may be absent, null or empty).
fn payload_probes() -> Vec<Probe> {
    let mut p = Probes::default();

    // The payload as a whole: exactly one kind, and exactly one civil-status event.
    p.one("DuLieuNghiepVu", None, true);
    p.one("DuLieuNghiepVu", Some(Value::Null), true);
    p.one("DuLieuNghiepVu", Some(json!({"LyLichTuPhap": probe_judicial()})), true);
    p.one("DuLieuNghiepVu", Some(json!({"HoTich": {"KhaiTu": probe_death()}})), true);
    p.one("DuLieuNghiepVu", Some(json!({"GiayPhepCongThuong": probe_trade(), "HoTich": null})), true);
    p.one("DuLieuNghiepVu", Some(json!({"HoTich": {"KhaiSinh": null, "KhaiTu": probe_death()}})), true);
    p.one("DuLieuNghiepVu", Some(json!({})), false);
    p.one("DuLieuNghiepVu", Some(json!({"HoTich": {}})), false);
    p.one("DuLieuNghiepVu", Some(json!({"HoTich": null})), false);
    p.one(
        "DuLieuNghiepVu",
        Some(json!({"DangKyDoanhNghiep": probe_business(), "HoTich": {"KhaiSinh": probe_birth()}})),
        false,
    );
    p.one("DuLieuNghiepVu", Some(json!({"HoTich": {"KhaiSinh": probe_birth(), "KhaiTu": probe_death()}})), false);
    p.one("DuLieuNghiepVu", Some(json!({"DangKyKinhDoanh": probe_business()})), false);
    p.one("DuLieuNghiepVu", s("Đăng ký doanh nghiệp"), false);
    p.one("DuLieuNghiepVu", Some(json!([{"DangKyDoanhNghiep": probe_business()}])), false);
    p.one("DuLieuNghiepVu.HoTich", Some(Value::Null), false);
    p.one("DuLieuNghiepVu.HoTich.KhaiSinh", Some(json!({})), false);

    // Required and optional objects and lists.
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo", None, false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo", Some(Value::Null), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo", Some(json!({})), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo", s("45 Lê Duẩn, Buôn Ma Thuột"), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo", Some(json!([])), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo.PhuongXa", None, false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NguoiDaiDienPhapLuat.SoGiayTo", None, false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.TenTiengNuocNgoai", None, true);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", None, false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", Some(Value::Null), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", Some(json!([])), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", Some(json!({"MaNganh": "4711"})), false);
    p.one(
        "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe",
        Some(json!([{"MaNganh": "4711", "TenNganh": "Bán lẻ", "LaNganhChinh": 1}])),
        true,
    );
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", Some(business_lines(MAX_ITEMS)), true);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe", Some(business_lines(MAX_ITEMS + 1)), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.TenNganh", None, false);
    p.one("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru", None, true);
    p.one("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru", Some(Value::Null), true);
    p.one("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru", Some(json!([])), true);
    p.one("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru", Some(json!([{"NoiCuTru": "Huế"}])), false);
    p.one("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.DenNgay", None, true);
    p.one("DuLieuNghiepVu.HoTich.KhaiSinh.HoTenCha", None, true);
    p.one("DuLieuNghiepVu.HoTich.KhaiTu.SoGiayTo", None, true);
    p.one("DuLieuNghiepVu.HoTich.KhaiTu.NoiChet", None, false);

    // VSIC codes; a code repeated with surrounding spaces is still the same code.
    let vsic = "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.MaNganh";
    p.strs(vsic, &["4711", "0111", "01110", "10309", "9900"], true);
    p.strs(
        vsic,
        &["", " ", "471", "471100", "47 11", "4711a", "47.11", "-4711", "+4711", "4711-1", "٤٧١١", "４７１１", "A4711"],
        false,
    );
    p.one(vsic, Some(json!(["4711"])), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe[1].MaNganh", s("01110"), true);

    // The main line: only the value of the one main line decides (see also the known
    // differences for two mains and none).
    let other_main = "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe[1].LaNganhChinh";
    p.strs(other_main, &["0", "00", "+0", ""], true);
    p.strs(other_main, &["2", "x", "-1", "0.0", "có"], false);
    p.one(other_main, None, true);
    p.one(other_main, Some(json!(0)), true);
    p.one(other_main, Some(Value::Null), true);
    p.one(other_main, Some(json!(2)), false);
    p.one(other_main, Some(json!(true)), false);
    p.one("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.LaNganhChinh", Some(json!(1)), true);

    // Tax codes.
    let tax = "DuLieuNghiepVu.GiayPhepCongThuong.MaSoThue";
    p.strs(tax, &["0101234567", "0101234567-001", "1801234567-002", "4201876543"], true);
    p.strs(
        tax,
        &[
            "",
            "010123456",
            "01012345678",
            "0101234567-01",
            "0101234567-0001",
            "0101234567 001",
            "0101234567_001",
            "0101234567-",
            "-0101234567",
            "MST0101234567",
            "0101234567-001-002",
            "010123456ả",
        ],
        false,
    );

    // Fixed sets of codes.
    let form = "DuLieuNghiepVu.DangKyDoanhNghiep.LoaiHinhDoanhNghiep";
    p.strs(form, &["TNHH1TV", "TNHH2TV", "CP", "HD", "DNTN"], true);
    p.strs(form, &["", "tnhh1tv", "TNHH", "Công ty TNHH", "CP,HD", "CP HD", "TNHH 1TV"], false);
    p.one(form, Some(json!(1)), false);
    let kind = "DuLieuNghiepVu.GiayPhepCongThuong.LoaiThuTuc";
    p.strs(kind, &["KHUYEN_MAI", "BAN_LE_RUOU"], true);
    p.strs(kind, &["", "khuyen_mai", "KHUYẾN_MẠI", "BAN LE RUOU", "BAN_LE_BIA"], false);

    // Amounts of charter capital.
    let capital = "DuLieuNghiepVu.DangKyDoanhNghiep.VonDieuLe";
    p.strs(capital, &["0", "5000000000", "+5000000000", "1000000000000000"], true);
    p.strs(capital, &["", "1000000000000001", "5.000.000.000", "5 tỷ", "-1"], false);
    p.one(capital, Some(json!(5_000_000_000_u64)), true);
    p.one(capital, Some(json!(MAX_AMOUNT)), true);
    p.one(capital, Some(json!(MAX_AMOUNT + 1)), false);

    // Small codes in the payload.
    for sex in ["DuLieuNghiepVu.HoTich.KhaiSinh.GioiTinh", "DuLieuNghiepVu.LyLichTuPhap.GioiTinh"] {
        p.strs(sex, &["1", "2"], true);
        p.strs(sex, &["", "0", "3", "nam", "Nữ", "1.0"], false);
        p.one(sex, Some(json!(2)), true);
        p.one(sex, Some(json!(3)), false);
        p.one(sex, None, false);
    }
    p.strs("DuLieuNghiepVu.LyLichTuPhap.LoaiPhieu", &["1", "2"], true);
    p.strs("DuLieuNghiepVu.LyLichTuPhap.LoaiPhieu", &["", "0", "3", "số 1", "I"], false);

    // Dates in the payload.
    p.strs("DuLieuNghiepVu.HoTich.KhaiTu.NgayChet", &["20261002211500", "2026-10-02", "2026-10-02T14:15:00Z"], true);
    p.strs("DuLieuNghiepVu.HoTich.KhaiTu.NgayChet", &["", "02/10/2026", "2026-02-30", "2026-10-02 21:15"], false);
    p.strs("DuLieuNghiepVu.HoTich.KhaiSinh.NgaySinh", &["2021-05-04 06:20:00", "19000101000000"], true);
    p.strs("DuLieuNghiepVu.HoTich.KhaiSinh.NgaySinh", &["", "04/05/2021", "2021-13-04"], false);
    p.strs("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.DenNgay", &["", "2008-08-31", "20080831000000"], true);
    p.strs("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.DenNgay", &["2008-02-30", "nay"], false);
    p.strs("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru[1].DenNgay", &["2026-11-01"], true);
    // A period may end the day it starts (the known differences hold one that ends before).
    p.strs("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.DenNgay", &["2004-09-02"], true);
    p.strs("DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau", &["2026-12-01 08:00:00", "2026-11-30T17:00:00Z"], true);
    p.strs("DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau", &["2026-13-01", "01/12/2026"], false);
    // A promotion needs both dates: JSON null is as absent; the XSD has no null.
    p.one("DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau", Some(Value::Null), false);
    p.one("DuLieuNghiepVu.GiayPhepCongThuong.LoaiThuTuc", s("BAN_LE_RUOU"), true);

    // Nested free text: required text refuses blanks; lengths.
    p.strs("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo.PhuongXa", &["", "  "], false);
    p.strs("DuLieuNghiepVu.HoTich.KhaiSinh.DanToc", &["", "Ê Đê"], true);
    p.strs("DuLieuNghiepVu.HoTich.KhaiSinh.HoTen", &["", " ", "a\u{0}b"], false);
    let lengths: [(&'static str, usize); 9] = [
        ("DuLieuNghiepVu.DangKyDoanhNghiep.DiaChiTruSo.PhuongXa", 100),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.NguoiDaiDienPhapLuat.ChucDanh", 100),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.NguoiDaiDienPhapLuat.SoGiayTo", 32),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.TenNganh", 500),
        ("DuLieuNghiepVu.GiayPhepCongThuong.NoiDungDeNghi", 4000),
        ("DuLieuNghiepVu.HoTich.KhaiSinh.DanToc", 64),
        ("DuLieuNghiepVu.HoTich.KhaiTu.NguyenNhan", 1000),
        ("DuLieuNghiepVu.LyLichTuPhap.QuocTich", 64),
        ("DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.NoiCuTru", 500),
    ];
    for (at, n) in lengths {
        p.one(at, s(&"ố".repeat(n)), true);
        p.one(at, s(&"ố".repeat(n + 1)), false);
    }
    p.0
}

/// `n` business lines with distinct four-digit codes, the first the main one.
fn business_lines(n: usize) -> Value {
    let lines: Vec<Value> = (0..n)
        .map(|i| json!({"MaNganh": (1000 + i).to_string(), "TenNganh": format!("Ngành {i}"), "LaNganhChinh": if i == 0 { "1" } else { "0" }}))
        .collect();
    Value::Array(lines)
}

#[test]
fn checked_values_are_judged_alike_by_the_model_and_the_schema_files() {
    let wrong = disagreements(top_level_probes());
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

#[test]
fn payload_values_are_judged_alike_by_the_model_and_the_schema_files() {
    let wrong = disagreements(payload_probes());
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

/// Base64 of `n` zero bytes, optionally wrapped at 76 characters as MIME does.
fn zeros_base64(n: usize, wrapped: bool) -> String {
    let mut b = "AAAA".repeat(n / 3);
    b.push_str(["", "AA==", "AAA="][n % 3]);
    if !wrapped {
        return b;
    }
    let lines: Vec<&str> = b.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
    lines.join("\r\n")
}

/// The limit on inline files holds to the byte, for the model and both schema files
/// (the XSD counts decoded octets; the JSON schema counts characters, which is exact
/// for base64 without line breaks).
#[test]
fn inline_files_are_limited_to_the_byte() {
    let max = max_inline_file_bytes();
    let mut p = Probes::default();
    for (n, ok) in [(max - 1, true), (max, true), (max + 1, false), (max + 2, false), (max + 3, false)] {
        p.one("TaiLieuNop.DuLieuTep", Some(Value::String(zeros_base64(n, false))), ok);
    }
    let wrong = disagreements(p.0);
    assert!(wrong.is_empty(), "disagreements:\n{}", wrong.join("\n"));
}

/// Values on which the model and the schema files knowingly differ (see README.md).
/// The verdicts are [model(JSON), model(XML), JSON schema, XSD]; `None` = not probed.
#[test]
fn known_differences_between_the_model_and_the_schema_files() {
    let v = json_validator();
    let max = max_inline_file_bytes();
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
        (
            "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.MaNganh",
            Some(json!(4711)),
            [Some(true), None, Some(false), None],
            "as above: a VSIC code sent as a number (which loses leading zeros: 0111 would be 111)",
        ),
        (
            "DuLieuNghiepVu.GiayPhepCongThuong.MaSoThue",
            Some(json!(4201876543_u64)),
            [Some(true), None, Some(false), None],
            "as above: a tax code sent as a number",
        ),
        (
            "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe[1].MaNganh",
            s("4711"),
            [Some(false), Some(false), Some(true), Some(false)],
            "a VSIC code listed twice: JSON Schema cannot compare a property across items, the XSD can (xs:unique)",
        ),
        (
            "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe[1].LaNganhChinh",
            s("1"),
            [Some(false), Some(false), Some(false), Some(true)],
            "two main business lines: JSON Schema counts them (contains, maxContains), XSD 1.0 cannot",
        ),
        (
            "DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.LaNganhChinh",
            s("0"),
            [Some(false), Some(false), Some(false), Some(true)],
            "no main business line: as above (minContains)",
        ),
        (
            "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianKetThuc",
            None,
            [Some(false), Some(false), Some(false), Some(true)],
            "a promotion without its end: JSON Schema states it (if/then), XSD 1.0 cannot",
        ),
        (
            "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianBatDau",
            s(""),
            [Some(false), Some(false), Some(false), Some(true)],
            "as above: an empty date is an absent date",
        ),
        (
            "DuLieuNghiepVu.GiayPhepCongThuong.ThoiGianKetThuc",
            s("2026-11-30"),
            [Some(false), Some(false), Some(true), Some(true)],
            "a promotion that ends before it starts: the order of two dates is beyond both schema languages",
        ),
        (
            "DuLieuNghiepVu.LyLichTuPhap.QuaTrinhCuTru.DenNgay",
            s("2004-09-01"),
            [Some(false), Some(false), Some(true), Some(true)],
            "a residence period that ends before it starts: as above",
        ),
        (
            "DuLieuNghiepVu.HoTich.KhaiSinh.NgaySinh",
            s("2199-12-31"),
            [Some(false), Some(false), Some(true), Some(true)],
            "a birth in the future: the schemas do not know the current date",
        ),
        (
            "DuLieuNghiepVu.HoTich.KhaiTu.NgayChet",
            s("2199-12-31 23:59:59"),
            [Some(false), Some(false), Some(true), Some(true)],
            "a death in the future: as above",
        ),
        (
            "DuLieuNghiepVu.LyLichTuPhap.NgaySinh",
            s("2199-01-01"),
            [Some(false), Some(false), Some(true), Some(true)],
            "as above, for the judicial record",
        ),
        (
            "TaiLieuNop.DuLieuTep",
            s("QUJDRB=="),
            [Some(false), Some(false), Some(true), Some(false)],
            "stray bits before the padding (RB== for RA==): the model and xs:base64Binary refuse them, \
             the JSON schema's pattern cannot see them",
        ),
        (
            "TaiLieuNop.DuLieuTep",
            Some(Value::String(zeros_base64(max, true))),
            [Some(true), Some(true), Some(false), Some(true)],
            "the JSON schema counts the line breaks of wrapped base64 in its length limit",
        ),
    ];
    let mut wrong = Vec::new();
    for (at, value, want, why) in cases {
        let got = verdicts(&v, at, value.clone());
        if got != want {
            let shown = match &value {
                Some(Value::String(s)) if s.len() > 80 => format!("<{} characters>", s.chars().count()),
                other => format!("{other:?}"),
            };
            wrong.push(format!("{at} = {shown} ({why}): got {got:?}, documented {want:?}"));
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
fn a_signature_below_the_root_is_unknown() {
    // Only the root may carry the enveloped signature, for the model and the XSD.
    let plain = example_xml("dang-ky-doanh-nghiep.xml");
    let nested = plain.replace("</DangKyDoanhNghiep>", &format!("{SIGNATURE}</DangKyDoanhNghiep>"));
    assert_ne!(plain, nested);
    assert_eq!(code_of(&model("xml", nested.as_bytes()).unwrap_err()), "unknown_field");
    assert!(xmllint(XmlInput::Bytes(nested.as_bytes())).is_err());
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

#[test]
fn child_order_is_canonical_in_the_xsd_only_at_every_level() {
    // The same inside the payload: children of a nested object, of a list item and of
    // the payload kind out of catalogue order.
    let plain = example_xml("dang-ky-doanh-nghiep.xml");
    let cases: [&[(&str, &str)]; 3] = [
        &[(
            "<PhuongXa>Phường Buôn Ma Thuột</PhuongXa>\n        <TinhThanhPho>Tỉnh Đắk Lắk</TinhThanhPho>",
            "<TinhThanhPho>Tỉnh Đắk Lắk</TinhThanhPho>\n        <PhuongXa>Phường Buôn Ma Thuột</PhuongXa>",
        )],
        &[(
            "<MaNganh>4632</MaNganh>\n          <TenNganh>Bán buôn thực phẩm</TenNganh>",
            "<TenNganh>Bán buôn thực phẩm</TenNganh>\n          <MaNganh>4632</MaNganh>",
        )],
        &[
            ("      <VonDieuLe>5000000000</VonDieuLe>\n", ""),
            ("      <TenDoanhNghiep>", "      <VonDieuLe>5000000000</VonDieuLe>\n      <TenDoanhNghiep>"),
        ],
    ];
    for edits in cases {
        let mut moved = plain.clone();
        for (from, to) in edits {
            assert_eq!(moved.matches(from).count(), 1, "{from}");
            moved = moved.replace(from, to);
        }
        assert_eq!(model("xml", moved.as_bytes()).unwrap(), model("xml", plain.as_bytes()).unwrap(), "{edits:?}");
        assert!(xmllint(XmlInput::Bytes(moved.as_bytes())).is_err(), "the XSD accepts {edits:?}");
    }
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
    for (n, ok) in [(MAX_ITEMS, true), (MAX_ITEMS + 1, false)] {
        let (doc, xml) = with_files(n);
        assert_eq!(v.is_valid(&doc), ok, "JSON schema, {n} items");
        assert_eq!(xmllint(XmlInput::Bytes(xml.as_bytes())).is_ok(), ok, "XSD, {n} items");
        assert_eq!(model("xml", xml.as_bytes()).is_ok(), ok, "model, XML, {n} items");
    }
    let (doc, _) = with_files(MAX_ITEMS + 1);
    let refused = model("json", &serde_json::to_vec(&doc).unwrap()).unwrap_err();
    assert_eq!(code_of(&refused), "malformed_json");
}

/// A JSON list of exactly the maximum is accepted, as by the XML parser and both
/// schema files.
#[test]
fn a_json_list_of_exactly_500_items_is_accepted() {
    let (doc, _) = with_files(MAX_ITEMS);
    if let Err(e) = model("json", &serde_json::to_vec(&doc).unwrap()) {
        panic!("500 files refused: {e}");
    }
}

/// Non-ASCII text where a code expects digits is refused, never a panic.
#[test]
fn non_ascii_codes_are_refused_without_panicking() {
    let mut wrong = Vec::new();
    for (at, value) in [
        ("MaHoSo", "X-ảabc-0001"),
        ("MaHoSo", "X-ảảab-0001"),
        ("MaTTHC", "1.00512ả"),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.MaNganh", "47ả"),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.NganhNghe.MaNganh", "4ả"),
        ("DuLieuNghiepVu.GiayPhepCongThuong.MaSoThue", "01012345ả-001"),
        ("DuLieuNghiepVu.GiayPhepCongThuong.MaSoThue", "0101234567-ả"),
        ("DuLieuNghiepVu.DangKyDoanhNghiep.VonDieuLe", "5ả"),
        ("DuLieuNghiepVu.HoTich.KhaiSinh.GioiTinh", "ả"),
        ("TaiLieuNop.DuLieuTep", "QUJả"),
        ("TaiLieuNop.DuLieuTep", "ảảảả"),
    ] {
        let body = serde_json::to_vec(&ProbeDoc::for_path(at).with(at, s(value)).json()).unwrap();
        match std::panic::catch_unwind(|| model("json", &body)) {
            Ok(Err(e)) if code_of(&e) == "invalid_field" => {}
            Ok(other) => wrong.push(format!("{at} = {value:?}: {other:?}")),
            Err(_) => wrong.push(format!("{at} = {value:?}: panicked")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
