//! Every example under `schemas/agencies/*/examples` validates against its schema.
//!
//! # The mapping
//!
//! [`RULES`] is the one table that says which schema each example belongs to. A rule
//! names an agency folder, a file-name pattern (`*` matches any run of characters,
//! so `dongbohoso*.answer.json` covers `dongbohoso.answer.json` and
//! `dongbohoso.invalid.answer.json`) and a [`Check`]:
//!
//! - [`Check::Json`]: a JSON document against a JSON Schema (draft 2020-12) of the
//!   agency folder, either a whole file (`login.schema.json`) or one definition in it
//!   (`answers.schema.json#/$defs/Login`). Every `*.schema.json` of the folder is
//!   registered under its `$id`, so schemas may refer to each other.
//! - [`Check::JsonWith`]: the same, plus a document embedded in the example: MOJ's
//!   `data` (a JSON *string* holding the record, validated against the record schema
//!   its `module` selects) or DVCQG's looked-up dossier (validated against the
//!   `DongBoHoSoMC` dossier schema once its `QuaTrinhXuLy` is set aside).
//! - [`Check::HttpForm`]: an HTTP request as it travels (MOIT's OAuth token request):
//!   the request line, a form content type, HTTP Basic credentials, and the decoded
//!   form fields as a JSON object against a JSON Schema.
//! - [`Check::Soap`]: an MPI SOAP 1.1 document. The whole envelope is checked by
//!   `xmllint` against `soap-envelope.xsd` (which imports `dangkydoanhnghiep.xsd`); the
//!   single body element must be the expected one, and, cut out of the envelope (it
//!   declares its own namespace), it must validate against `dangkydoanhnghiep.xsd` on
//!   its own. A request must also carry `wsa:Action` (the operation's URI),
//!   `wsa:MessageID` and a WS-Security `UsernameToken`.
//! - [`Check::SoapFault`]: an MPI SOAP fault: the envelope as above, the `LoiMPI`
//!   detail against `dangkydoanhnghiep.xsd`, the expected `MaLoi`, `faultcode`
//!   `soap:Server` for MPI-500 and MPI-503 and `soap:Client` otherwise, and
//!   `faultstring` equal to `MoTa`.
//!
//! Every file in every `examples/` folder (every agency folder is scanned, so a new
//! agency is covered too) must match exactly one rule: a file that matches none (an
//! example added without saying which schema it belongs to) or several fails the
//! test, and so does a rule that matches no file (a stale rule). Every schema file of
//! an agency folder must be used by some rule, and every JSON Schema must also compile
//! on its own (without the others registered).
//!
//! An example that deliberately shows something invalid goes in
//! [`EXPECTED_INVALID`] instead, and the test then requires its check to *refuse* it.
//! None does today: error answers are valid answer documents and are listed in
//! [`RULES`]. `drifted_examples_are_refused` proves that the checks are not vacuous.
//!
//! XML is validated with `xmllint` (Debian package `libxml2-utils`); without it the
//! test fails and says so.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::{json, Map, Value};

/// The namespace of MPI's payloads.
const MPI_NS: &str = "http://dangkykinhdoanh.gov.vn/ws/dkdn/v1";
/// The envelope schema of MPI's SOAP documents, in the MPI folder.
const SOAP_XSD: &str = "soap-envelope.xsd";
/// The payload schema of MPI's SOAP documents, in the MPI folder.
const MPI_XSD: &str = "dangkydoanhnghiep.xsd";

/// How an example is checked.
#[derive(Debug, Clone, Copy)]
enum Check {
    /// A JSON document against `file` or `file#/json/pointer` of the agency folder.
    Json(&'static str),
    /// A JSON document against `schema`, and a document embedded in it.
    JsonWith { schema: &'static str, embedded: Embedded },
    /// An HTTP request whose form body (decoded to an object of strings) meets `schema`.
    HttpForm { request_line: &'static str, schema: &'static str },
    /// An MPI SOAP document whose body holds the element `body` of `dangkydoanhnghiep.xsd`.
    Soap { body: &'static str },
    /// An MPI SOAP fault whose `LoiMPI` carries `code`.
    SoapFault { code: &'static str },
}

/// A document inside an example, checked against a schema of its own.
#[derive(Debug, Clone, Copy)]
struct Embedded {
    /// Where it is (JSON pointer); when the example has nothing there, there is nothing to check.
    at: &'static str,
    /// How it is carried.
    carried: Carried,
    /// Its schema.
    schema: Select,
}

#[derive(Debug, Clone, Copy)]
enum Carried {
    /// As a JSON string holding the document.
    JsonString,
    /// As an object, with these members added by the answer and set aside.
    Object { without: &'static [&'static str] },
}

#[derive(Debug, Clone, Copy)]
enum Select {
    /// Always this schema.
    Fixed(&'static str),
    /// The schema chosen by the value (a string) of the example's member at `by`.
    ByMember { by: &'static str, cases: &'static [(&'static str, &'static str)] },
}

#[derive(Debug, Clone, Copy)]
struct Rule {
    agency: &'static str,
    pattern: &'static str,
    check: Check,
}

const fn rule(agency: &'static str, pattern: &'static str, check: Check) -> Rule {
    Rule { agency, pattern, check }
}

use Check::{Json, JsonWith, Soap, SoapFault};

/// MOJ's civil-status record in `data`, by `module`.
const MOJ_RECORD: Embedded = Embedded {
    at: "/data",
    carried: Carried::JsonString,
    schema: Select::ByMember {
        by: "/module",
        cases: &[("KS", "hotich-khaisinh.schema.json"), ("KT", "hotich-khaitu.schema.json")],
    },
};

/// DVCQG's looked-up dossier: the synchronised dossier plus its history.
const DVCQG_LOOKED_UP: Embedded = Embedded {
    at: "/data",
    carried: Carried::Object { without: &["QuaTrinhXuLy"] },
    schema: Select::Fixed("dongbohoso.schema.json#/$defs/HoSo"),
};

/// Which schema each example belongs to (see the module documentation).
const RULES: &[Rule] = &[
    // DVCQG (README: "Calls", "Answers").
    rule("dvcqg", "login.request.json", Json("login.schema.json")),
    rule("dvcqg", "login*.answer.json", Json("answers.schema.json#/$defs/Login")),
    rule("dvcqg", "dongbohoso.request.json", Json("dongbohoso.schema.json")),
    rule("dvcqg", "dongbohoso*.answer.json", Json("answers.schema.json#/$defs/DongBoHoSoMC")),
    rule("dvcqg", "tracuuhoso.request.json", Json("tracuuhoso.schema.json")),
    rule(
        "dvcqg",
        "tracuuhoso*.answer.json",
        JsonWith { schema: "answers.schema.json#/$defs/TraCuuHoSo", embedded: DVCQG_LOOKED_UP },
    ),
    rule("dvcqg", "capnhattiendo.request.json", Json("capnhattiendo.schema.json")),
    rule("dvcqg", "capnhattiendo*.answer.json", Json("answers.schema.json#/$defs/CapNhatTienDoHoSoMC")),
    rule("dvcqg", "session.invalid.answer.json", Json("answers.schema.json#/$defs/AnyCall")),
    rule("dvcqg", "busy.answer.json", Json("answers.schema.json#/$defs/AnyCall")),
    // MOIT (README: "Transport and authentication", the three calls).
    rule(
        "moit",
        "token.request.txt",
        Check::HttpForm { request_line: "POST /oauth2/token", schema: "token-request.schema.json" },
    ),
    rule("moit", "token.answer.json", Json("oauth-token.schema.json#/$defs/TokenAnswer")),
    rule("moit", "token.*.answer.json", Json("oauth-token.schema.json#/$defs/TokenError")),
    rule("moit", "ho-so.request.json", Json("ho-so.schema.json")),
    rule("moit", "ho-so.created.answer.json", Json("answers.schema.json#/$defs/Created")),
    rule("moit", "ho-so.status.answer.json", Json("answers.schema.json#/$defs/HoSoStatus")),
    rule("moit", "giay-phep.answer.json", Json("answers.schema.json#/$defs/GiayPhep")),
    rule("moit", "*.problem.json", Json("problem.schema.json")),
    // MOJ (README: "Files", "Calls", "Error codes").
    rule("moj", "auth-token.request.json", Json("auth-token.schema.json")),
    rule("moj", "auth-token*.answer.json", Json("answers.schema.json#/$defs/AuthToken")),
    rule(
        "moj",
        "hotich-tiepnhan.*.request.json",
        JsonWith { schema: "hotich-tiepnhan.schema.json", embedded: MOJ_RECORD },
    ),
    rule("moj", "hotich-khaisinh.data.json", Json("hotich-khaisinh.schema.json")),
    rule("moj", "hotich-khaitu.data.json", Json("hotich-khaitu.schema.json")),
    rule("moj", "hotich-tiepnhan*.answer.json", Json("answers.schema.json#/$defs/HoTichTiepNhan")),
    rule("moj", "hotich-trangthai.request.json", Json("hotich-trangthai.schema.json")),
    rule("moj", "hotich-trangthai*.answer.json", Json("answers.schema.json#/$defs/HoTichTrangThai")),
    rule("moj", "lltp-tiepnhan.request.json", Json("lltp-tiepnhan.schema.json")),
    rule("moj", "lltp-tiepnhan*.answer.json", Json("answers.schema.json#/$defs/LltpTiepNhan")),
    rule("moj", "lltp-trangthai.request.json", Json("lltp-trangthai.schema.json")),
    rule("moj", "lltp-trangthai*.answer.json", Json("answers.schema.json#/$defs/LltpTrangThai")),
    rule("moj", "busy.answer.json", Json("answers.schema.json#/$defs/Failure")),
    rule("moj", "malformed.answer.json", Json("answers.schema.json#/$defs/Failure")),
    rule("moj", "token-expired.answer.json", Json("answers.schema.json#/$defs/Failure")),
    rule("moj", "token-invalid.answer.json", Json("answers.schema.json#/$defs/Failure")),
    // MPI (README: "Operations", "Faults"): one rule per fault, with its code.
    rule("mpi", "nophoso.request.xml", Soap { body: "NopHoSoDangKyDoanhNghiep" }),
    rule("mpi", "nophoso.response.xml", Soap { body: "NopHoSoDangKyDoanhNghiepResponse" }),
    rule("mpi", "tracuudoanhnghiep.request.xml", Soap { body: "TraCuuDoanhNghiep" }),
    rule("mpi", "tracuudoanhnghiep.response.xml", Soap { body: "TraCuuDoanhNghiepResponse" }),
    rule("mpi", "tracuudoanhnghiep.notfound.xml", SoapFault { code: "MPI-301" }),
    rule("mpi", "tracuuhoso.request.xml", Soap { body: "TraCuuHoSo" }),
    rule("mpi", "tracuuhoso.response.xml", Soap { body: "TraCuuHoSoResponse" }),
    rule("mpi", "tracuuhoso.notfound.xml", SoapFault { code: "MPI-301" }),
    rule("mpi", "fault.credentials.xml", SoapFault { code: "MPI-001" }),
    rule("mpi", "fault.stale.xml", SoapFault { code: "MPI-002" }),
    rule("mpi", "fault.malformed.xml", SoapFault { code: "MPI-100" }),
    rule("mpi", "fault.schema.xml", SoapFault { code: "MPI-101" }),
    rule("mpi", "fault.name-taken.xml", SoapFault { code: "MPI-102" }),
    rule("mpi", "fault.vsic.xml", SoapFault { code: "MPI-103" }),
    rule("mpi", "fault.main-line.xml", SoapFault { code: "MPI-104" }),
    rule("mpi", "fault.duplicate.xml", SoapFault { code: "MPI-201" }),
    rule("mpi", "fault.internal.xml", SoapFault { code: "MPI-500" }),
    rule("mpi", "fault.busy.xml", SoapFault { code: "MPI-503" }),
];

/// Examples that deliberately break their schema: each must be refused by its check.
/// None today (every error example is a valid error *answer*).
const EXPECTED_INVALID: &[Rule] = &[];

fn agencies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/agencies")
}

/// Whether `name` matches `pattern`, where `*` matches any run of characters.
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else { return false };
            (0..=rest.len()).filter(|&i| rest.is_char_boundary(i)).any(|i| glob(tail, &rest[i..]))
        }
    }
}

/// The rules (with whether the example must be valid) that an example matches.
fn rules_for(agency: &str, name: &str) -> Vec<(&'static Rule, bool)> {
    let valid = RULES.iter().map(|r| (r, true));
    let invalid = EXPECTED_INVALID.iter().map(|r| (r, false));
    valid.chain(invalid).filter(|(r, _)| r.agency == agency && glob(r.pattern, name)).collect()
}

/// One agency folder: its directory and its JSON Schemas by file name.
struct Agency {
    dir: PathBuf,
    schemas: BTreeMap<String, Value>,
}

impl Agency {
    fn load(name: &str) -> Self {
        let dir = agencies_dir().join(name);
        let mut schemas = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            if file.ends_with(".schema.json") {
                let text = std::fs::read_to_string(&path).unwrap();
                let schema: Value =
                    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}/{file} is not JSON: {e}"));
                assert!(schema["$id"].is_string(), "{name}/{file} has no $id");
                schemas.insert(file, schema);
            }
        }
        Self { dir, schemas }
    }

    /// A validator for `file` or `file#/pointer`, with every schema of the folder registered.
    fn validator(&self, reference: &str) -> Result<jsonschema::Validator, String> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let document = self.schemas.get(file).ok_or_else(|| format!("no schema file {file}"))?;
        let root = if fragment.is_empty() {
            document.clone()
        } else {
            document.pointer(fragment).ok_or_else(|| format!("{file} has nothing at #{fragment}"))?;
            let id = document["$id"].as_str().unwrap_or_default();
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": format!("{id}#{fragment}")})
        };
        let resources = self.schemas.values().map(|s| {
            let id = s["$id"].as_str().unwrap_or_default().to_owned();
            (id, jsonschema::Resource::from_contents(s.clone()).expect("a schema resource"))
        });
        jsonschema::options().with_resources(resources).build(&root).map_err(|e| format!("{reference}: {e}"))
    }

    fn validate(&self, reference: &str, document: &Value) -> Result<(), String> {
        let validator = self.validator(reference)?;
        let errors: Vec<String> = validator
            .iter_errors(document)
            .map(|e| format!("{} (at \"{}\", schema {})", e, e.instance_path, e.schema_path))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("not valid against {reference}: {}", errors.join("; ")))
        }
    }

    fn check(&self, check: &Check, text: &str) -> Result<(), String> {
        match *check {
            Check::Json(schema) => self.validate(schema, &parse_json(text)?),
            Check::JsonWith { schema, embedded } => {
                let document = parse_json(text)?;
                self.validate(schema, &document)?;
                self.check_embedded(&embedded, &document)
            }
            Check::HttpForm { request_line, schema } => self.validate(schema, &http_form(text, request_line)?),
            Check::Soap { body } => self.check_soap(text, body),
            Check::SoapFault { code } => self.check_fault(text, code),
        }
    }

    fn check_embedded(&self, embedded: &Embedded, document: &Value) -> Result<(), String> {
        let Some(inner) = document.pointer(embedded.at) else { return Ok(()) };
        let inner = match embedded.carried {
            Carried::JsonString => {
                let text = inner.as_str().ok_or_else(|| format!("{} is not a string", embedded.at))?;
                parse_json(text).map_err(|e| format!("{}: {e}", embedded.at))?
            }
            Carried::Object { without } => {
                let mut object = inner.as_object().ok_or_else(|| format!("{} is not an object", embedded.at))?.clone();
                for member in without {
                    object.remove(*member);
                }
                Value::Object(object)
            }
        };
        let schema = match embedded.schema {
            Select::Fixed(schema) => schema,
            Select::ByMember { by, cases } => {
                let value = document.pointer(by).and_then(Value::as_str).unwrap_or_default();
                cases
                    .iter()
                    .find(|(v, _)| *v == value)
                    .map(|(_, s)| *s)
                    .ok_or_else(|| format!("no schema for {} when {by} is {value:?}", embedded.at))?
            }
        };
        self.validate(schema, &inner).map_err(|e| format!("{}: {e}", embedded.at))
    }

    fn xmllint(&self, xsd: &str, document: &str) -> Result<(), String> {
        xmllint(&self.dir.join(xsd), document).map_err(|e| format!("not valid against {xsd}: {e}"))
    }

    fn check_soap(&self, text: &str, expected: &str) -> Result<(), String> {
        self.xmllint(SOAP_XSD, text)?;
        let payload = body_element(text)?;
        let name = element_name(payload);
        if name != expected {
            return Err(format!("the body holds {name}, expected {expected}"));
        }
        let start_tag = &payload[..payload.find('>').unwrap_or(payload.len())];
        if !start_tag.contains(&format!("xmlns=\"{MPI_NS}\"")) {
            return Err(format!("{name} does not declare {MPI_NS} as its default namespace"));
        }
        self.xmllint(MPI_XSD, payload).map_err(|e| format!("the body element cut out: {e}"))?;
        if !name.ends_with("Response") {
            let action = between(text, "<wsa:Action>", "</wsa:Action>").ok_or("a request without wsa:Action")?;
            if action != format!("{MPI_NS}/{name}") {
                return Err(format!("wsa:Action {action} does not name the operation {name}"));
            }
            let id = between(text, "<wsa:MessageID>", "</wsa:MessageID>").ok_or("a request without wsa:MessageID")?;
            if id.trim().is_empty() {
                return Err("an empty wsa:MessageID".into());
            }
            if !text.contains("<wsse:UsernameToken") {
                return Err("a request without a WS-Security UsernameToken".into());
            }
        }
        Ok(())
    }

    fn check_fault(&self, text: &str, code: &str) -> Result<(), String> {
        self.xmllint(SOAP_XSD, text)?;
        let payload = body_element(text)?;
        if element_name(payload) != "soap:Fault" {
            return Err(format!("the body holds {}, not a soap:Fault", element_name(payload)));
        }
        let start = payload.find("<LoiMPI").ok_or("a fault without LoiMPI")?;
        let end = payload.find("</LoiMPI>").ok_or("LoiMPI is not closed")? + "</LoiMPI>".len();
        self.xmllint(MPI_XSD, &payload[start..end]).map_err(|e| format!("LoiMPI cut out: {e}"))?;
        let ma_loi = between(payload, "<MaLoi>", "</MaLoi>").unwrap_or_default();
        if ma_loi != code {
            return Err(format!("MaLoi is {ma_loi}, expected {code}"));
        }
        let want = if ["MPI-500", "MPI-503"].contains(&code) { "soap:Server" } else { "soap:Client" };
        let faultcode = between(payload, "<faultcode>", "</faultcode>").unwrap_or_default();
        if faultcode != want {
            return Err(format!("faultcode is {faultcode}, expected {want} for {code}"));
        }
        let faultstring = between(payload, "<faultstring>", "</faultstring>").unwrap_or_default();
        let mo_ta = between(payload, "<MoTa>", "</MoTa>").unwrap_or_default();
        if faultstring != mo_ta {
            return Err("faultstring differs from MoTa".into());
        }
        Ok(())
    }
}

fn parse_json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
}

/// The text between the first `open` and the next `close`.
fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let len = text[start..].find(close)?;
    Some(&text[start..start + len])
}

/// The one element inside `soap:Body`, as text.
fn body_element(text: &str) -> Result<&str, String> {
    let open = text.find("<soap:Body").ok_or("no soap:Body")?;
    let start = open + text[open..].find('>').ok_or("soap:Body is not closed")? + 1;
    let end = text.rfind("</soap:Body>").ok_or("no </soap:Body>")?;
    Ok(text[start..end].trim())
}

/// The qualified name of the element that `element` (text) starts with.
fn element_name(element: &str) -> &str {
    let name = element.trim_start_matches('<');
    let end = name.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(name.len());
    &name[..end]
}

/// Runs `xmllint --noout --schema xsd -` on `document`: `Err` holds what it printed.
fn xmllint(xsd: &Path, document: &str) -> Result<(), String> {
    let child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema"])
        .arg(xsd)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("xmllint is not installed: install libxml2-utils (apt-get install libxml2-utils) to check the XML examples")
        }
        Err(e) => panic!("cannot run xmllint: {e}"),
    };
    child.stdin.take().unwrap().write_all(document.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

/// Checks an HTTP request carrying a form (RFC 6749 token request) and returns the
/// form's fields as a JSON object of strings.
fn http_form(text: &str, request_line: &str) -> Result<Value, String> {
    let text = text.replace("\r\n", "\n");
    let (head, body) = text.split_once("\n\n").ok_or("no blank line between the head and the body")?;
    let mut lines = head.lines();
    let first = lines.next().unwrap_or_default();
    if !first.starts_with(&format!("{request_line} HTTP/")) {
        return Err(format!("the request line is {first:?}, expected {request_line:?}"));
    }
    let mut headers = BTreeMap::new();
    for line in lines {
        let (name, value) = line.split_once(':').ok_or_else(|| format!("not a header: {line:?}"))?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_owned());
    }
    let content_type = headers.get("content-type").map(String::as_str).unwrap_or_default();
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(format!("Content-Type is {content_type:?}, not a form"));
    }
    let basic =
        headers.get("authorization").and_then(|v| v.strip_prefix("Basic ")).ok_or("no HTTP Basic credentials")?;
    let credentials = base64::engine::general_purpose::STANDARD
        .decode(basic.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or("the Basic credentials are not base64 of UTF-8")?;
    match credentials.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {}
        _ => return Err("the Basic credentials are not client_id:client_secret".into()),
    }
    let mut form = Map::new();
    for pair in body.trim_end_matches('\n').split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (form_decode(k)?, form_decode(v)?);
        if form.insert(k.clone(), Value::String(v)).is_some() {
            return Err(format!("the form field {k} appears twice"));
        }
    }
    Ok(Value::Object(form))
}

/// Decodes one application/x-www-form-urlencoded component.
fn form_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or_else(|| format!("a bad escape in {s:?}"))?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("a bad escape in {s:?}"))?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| format!("{s:?} is not UTF-8"))
}

/// The agency folders that have examples.
fn agency_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(agencies_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("examples").is_dir())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The files of an agency's `examples/` folder, sorted.
fn example_files(agency: &str) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(agencies_dir().join(agency).join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    files
}

#[test]
fn every_example_validates_against_its_schema() {
    let mut failures = Vec::new();
    let mut used: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut counts = BTreeMap::new();
    for agency_name in agency_names() {
        let agency = Agency::load(&agency_name);
        for file in example_files(&agency_name) {
            let place = format!("{agency_name}/examples/{file}");
            let matched = rules_for(&agency_name, &file);
            let (rule, must_be_valid) = match matched.as_slice() {
                [one] => *one,
                [] => {
                    failures.push(format!("{place}: no rule says which schema it belongs to (add one to RULES)"));
                    continue;
                }
                many => {
                    let patterns: Vec<&str> = many.iter().map(|(r, _)| r.pattern).collect();
                    failures.push(format!("{place}: matches several rules {patterns:?}"));
                    continue;
                }
            };
            used.insert((rule.agency, rule.pattern));
            let text = std::fs::read_to_string(agency.dir.join("examples").join(&file)).unwrap();
            match (agency.check(&rule.check, &text), must_be_valid) {
                (Ok(()), true) | (Err(_), false) => *counts.entry(agency_name.clone()).or_insert(0) += 1,
                (Err(e), true) => failures.push(format!("{place}: {e}")),
                (Ok(()), false) => failures.push(format!("{place}: listed as deliberately invalid, but it validates")),
            }
        }
    }
    for r in RULES.iter().chain(EXPECTED_INVALID) {
        if !used.contains(&(r.agency, r.pattern)) {
            failures.push(format!("the rule {}/{} matches no example", r.agency, r.pattern));
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n{}", failures.len(), failures.join("\n"));
    println!("examples checked per agency: {counts:?}");
    for agency in ["dvcqg", "moit", "moj", "mpi"] {
        assert!(counts.get(agency).is_some_and(|&n| n > 0), "{agency}: no example checked");
    }
}

/// The schema files a check uses.
fn schemas_of(check: &Check) -> Vec<&'static str> {
    let file = |s: &'static str| s.split_once('#').map_or(s, |(f, _)| f);
    match *check {
        Check::Json(s) | Check::HttpForm { schema: s, .. } => vec![file(s)],
        Check::JsonWith { schema, embedded } => {
            let mut all = vec![file(schema)];
            match embedded.schema {
                Select::Fixed(s) => all.push(file(s)),
                Select::ByMember { cases, .. } => all.extend(cases.iter().map(|(_, s)| file(s))),
            }
            all
        }
        Check::Soap { .. } | Check::SoapFault { .. } => vec![SOAP_XSD, MPI_XSD],
    }
}

#[test]
fn every_schema_file_compiles_and_is_used_by_a_rule() {
    let mut unused = Vec::new();
    for agency in agency_names() {
        let used: BTreeSet<&str> = RULES
            .iter()
            .chain(EXPECTED_INVALID)
            .filter(|r| r.agency == agency)
            .flat_map(|r| schemas_of(&r.check))
            .collect();
        for entry in std::fs::read_dir(agencies_dir().join(&agency)).unwrap() {
            let file = entry.unwrap().file_name().to_string_lossy().into_owned();
            if file.ends_with(".schema.json") {
                // Each JSON Schema also stands on its own (other tests compile them one by one).
                let schema: Value =
                    serde_json::from_str(&std::fs::read_to_string(agencies_dir().join(&agency).join(&file)).unwrap())
                        .unwrap();
                if let Err(e) = jsonschema::validator_for(&schema) {
                    unused.push(format!("{agency}/{file} does not compile on its own: {e}"));
                }
            }
            let is_schema = file.ends_with(".schema.json") || file.ends_with(".xsd");
            if is_schema && !used.contains(file.as_str()) {
                unused.push(format!("{agency}/{file} is used by no rule"));
            }
        }
    }
    assert!(unused.is_empty(), "{unused:#?}");
}

/// Copies of examples with one thing wrong: the check of the example's rule must
/// refuse every one, so the schemas and checks are not vacuous.
#[test]
fn drifted_examples_are_refused() {
    type Drift = (&'static str, &'static str, fn(String) -> String);
    let drifts: &[Drift] = &[
        ("dvcqg", "dongbohoso.request.json", |t| t.replacen("\"session\"", "\"extra\": \"x\", \"session\"", 1)),
        ("dvcqg", "login.answer.json", |t| t.replace("\"session\"", "\"sesion\"")),
        ("dvcqg", "dongbohoso.answer.json", |t| t.replace("\"0\"", "\"7\"")),
        ("dvcqg", "tracuuhoso.answer.json", |t| t.replacen("\"KenhThucHien\": \"2\"", "\"KenhThucHien\": \"9\"", 1)),
        ("dvcqg", "capnhattiendo.request.json", |t| t.replace("\"TrangThai\": \"4\"", "\"TrangThai\": \"11\"")),
        ("moit", "token.request.txt", |t| t.replace("client_credentials", "password")),
        ("moit", "token.request.txt", |t| t.replace("Authorization: Basic", "X-Authorization: Basic")),
        ("moit", "ho-so.validation.problem.json", |t| t.replace("422", "500")),
        ("moit", "ho-so.status.answer.json", |t| t.replace("DANG_THAM_DINH", "DANG_XU_LY")),
        ("moit", "token.answer.json", |t| t.replace("3600", "\"3600\"")),
        ("moj", "hotich-tiepnhan.khaisinh.request.json", |t| t.replace("\\\"gioiTinh\\\":1", "\\\"gioiTinh\\\":3")),
        ("moj", "hotich-tiepnhan.khaisinh.request.json", |t| t.replace("\"KS\"", "\"KT\"")),
        ("moj", "hotich-tiepnhan.khaitu.request.json", |t| {
            t.replace("\"data\": \"{", "\"data\": \"[{").replace("}\",", "}]\",")
        }),
        ("moj", "lltp-tiepnhan.answer.json", |t| t.replace("\"description\"", "\"statusDescription\"")),
        ("moj", "busy.answer.json", |t| t.replace("SYS-99", "HT-01")),
        ("mpi", "tracuuhoso.request.xml", |t| {
            t.replace("<MaHoSo>G09.20-20260609-0092637</MaHoSo>", "<MaHoSo>x</MaHoSo>")
        }),
        ("mpi", "tracuuhoso.request.xml", |t| {
            t.replace("v1/TraCuuHoSo</wsa:Action>", "v1/TraCuuDoanhNghiep</wsa:Action>")
        }),
        ("mpi", "nophoso.response.xml", |t| t.replace("NopHoSoDangKyDoanhNghiepResponse", "TraCuuHoSoResponse")),
        ("mpi", "fault.schema.xml", |t| t.replace("soap:Client", "soap:Server")),
        ("mpi", "fault.busy.xml", |t| t.replace("MPI-503", "MPI-504")),
        ("mpi", "fault.vsic.xml", |t| t.replace("<MoTa>", "<ChuThich>").replace("</MoTa>", "</ChuThich>")),
    ];
    for (agency_name, file, drift) in drifts {
        let agency = Agency::load(agency_name);
        let [(rule, true)] = rules_for(agency_name, file)[..] else { panic!("{agency_name}/{file}: one rule") };
        let text = std::fs::read_to_string(agency.dir.join("examples").join(file)).unwrap();
        assert_eq!(agency.check(&rule.check, &text), Ok(()), "{agency_name}/{file} as it is");
        let drifted = drift(text.clone());
        assert_ne!(drifted, text, "{agency_name}/{file}: the drift changes nothing");
        let refusal = agency.check(&rule.check, &drifted).expect_err("a drifted copy validates");
        println!("{agency_name}/{file} drifted: {refusal}");
    }
    // A new example that no rule covers is noticed.
    assert!(rules_for("mpi", "huyhoso.request.xml").is_empty());
    assert!(rules_for("moj", "hotich-khaisinh.data.xml").is_empty());
}
