//! Distinguished names: their structure ([`Dn`]: RDNs most specific first, each a
//! set of attribute types and values), read from a certificate's DER name or,
//! strictly, from an RFC 4514 string in the configuration ([`parse_rfc4514`]),
//! and their RFC 4514 rendering for display (as OpenSSL's `-nameopt RFC2253`
//! prints ordinary names).
//!
//! A configured name is compared with a certificate's structurally, never as a
//! string: the same RDNs in the same order, each holding the same attributes
//! (in any order within a multi-valued RDN), types by OID, values byte for byte.

use std::fmt;
use std::str::FromStr;

use x509_parser::asn1_rs::{Any, Class, Tag, ToDer};
use x509_parser::x509::X509Name;

mod parse;

#[cfg(test)]
pub(crate) mod der;
#[cfg(test)]
mod tests;

pub use parse::parse_rfc4514;

/// The short names of attribute types the parser accepts (case-insensitively)
/// and the renderer writes, with their OIDs. Any other type is written, and
/// must be configured, as a dotted OID.
const SHORT_NAMES: &[(&str, &str)] = &[
    ("CN", "2.5.4.3"),
    ("C", "2.5.4.6"),
    ("L", "2.5.4.7"),
    ("ST", "2.5.4.8"),
    ("STREET", "2.5.4.9"),
    ("O", "2.5.4.10"),
    ("OU", "2.5.4.11"),
    ("serialNumber", "2.5.4.5"),
    ("title", "2.5.4.12"),
    ("UID", "0.9.2342.19200300.100.1.1"),
    ("DC", "0.9.2342.19200300.100.1.25"),
    ("emailAddress", "1.2.840.113549.1.9.1"),
];

/// The short name of an attribute type, if it has one.
fn short_name(oid: &str) -> Option<&'static str> {
    SHORT_NAMES.iter().find(|(_, o)| *o == oid).map(|(n, _)| *n)
}

/// The OID of a short name, case-insensitively.
fn oid_of_short_name(name: &str) -> Option<&'static str> {
    SHORT_NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, o)| *o)
}

/// The value of one attribute of a distinguished name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DnValue {
    /// A string value (a universal NumericString, PrintableString, UTF8String or
    /// IA5String holding UTF-8; which of these types is not kept), exactly as
    /// encoded: no case folding, no trimming, no whitespace normalisation.
    Text(String),
    /// Any other value: its DER encoding (tag, length and contents), what
    /// RFC 4514 writes as `#` and hexadecimal digits.
    Der(Vec<u8>),
}

/// One attribute of an RDN: its type (a dotted OID, `2.5.4.3`) and value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DnAttribute {
    /// The attribute type, a dotted OID.
    pub oid: String,
    /// The value.
    pub value: DnValue,
}

impl DnAttribute {
    /// An attribute of type `oid` (dotted) with `value`.
    pub fn new(oid: impl Into<String>, value: DnValue) -> Self {
        Self { oid: oid.into(), value }
    }
}

/// A relative distinguished name: a set of attributes, usually one. Two RDNs are
/// equal when they hold the same attributes, whatever their order; an RDN of two
/// attributes (`CN=a+O=b`) never equals two RDNs of one (`CN=a,O=b`).
#[derive(Debug, Clone)]
pub struct Rdn(Vec<DnAttribute>);

impl Rdn {
    /// An RDN of these attributes (kept in this order for display).
    pub fn new(attributes: Vec<DnAttribute>) -> Self {
        Self(attributes)
    }

    /// The attributes, in the order they were read.
    pub fn attributes(&self) -> &[DnAttribute] {
        &self.0
    }

    fn sorted(&self) -> Vec<&DnAttribute> {
        let mut v: Vec<_> = self.0.iter().collect();
        v.sort();
        v
    }
}

impl PartialEq for Rdn {
    fn eq(&self, other: &Self) -> bool {
        self.0.len() == other.0.len() && self.sorted() == other.sorted()
    }
}

impl Eq for Rdn {}

/// A distinguished name: its RDNs, most specific first (as RFC 4514 writes
/// them; the reverse of the DER order). Two names are equal when they have the
/// same RDNs in the same order. `Display` writes the RFC 4514 form, which
/// [`parse_rfc4514`] reads back to an equal name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dn(Vec<Rdn>);

impl Dn {
    /// A name of these RDNs, most specific first.
    pub fn new(rdns: Vec<Rdn>) -> Self {
        Self(rdns)
    }

    /// Reads an RFC 4514 string strictly; see [`parse_rfc4514`].
    pub fn parse(s: &str) -> Result<Self, String> {
        parse_rfc4514(s)
    }

    /// The structure of a DER name (as x509-parser read it).
    pub(crate) fn from_x509(name: &X509Name<'_>) -> Self {
        let mut rdns: Vec<Rdn> = name
            .iter()
            .map(|rdn| {
                Rdn(rdn
                    .iter()
                    .map(|a| DnAttribute { oid: a.attr_type().to_id_string(), value: value_of(a.attr_value()) })
                    .collect())
            })
            .collect();
        rdns.reverse();
        Self(rdns)
    }

    /// The RDNs, most specific first.
    pub fn rdns(&self) -> &[Rdn] {
        &self.0
    }

    /// Whether the name has no RDN at all.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values of every attribute of type `oid` (dotted), in any RDN, most
    /// specific first.
    pub fn values<'a>(&'a self, oid: &'a str) -> impl Iterator<Item = &'a DnValue> + 'a {
        self.0.iter().flat_map(|r| r.0.iter()).filter(move |a| a.oid == oid).map(|a| &a.value)
    }
}

impl FromStr for Dn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        parse_rfc4514(s)
    }
}

impl fmt::Display for Dn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        for (i, rdn) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            for (j, a) in rdn.0.iter().enumerate() {
                if j > 0 {
                    out.push('+');
                }
                out.push_str(short_name(&a.oid).unwrap_or(&a.oid));
                out.push('=');
                match &a.value {
                    DnValue::Text(v) => escape(v, &mut out),
                    DnValue::Der(der) => {
                        out.push('#');
                        out.push_str(&hex::encode(der));
                    }
                }
            }
        }
        f.write_str(&out)
    }
}

/// How a DER attribute value is held: the string types x509-parser reads as text
/// (universal, primitive, valid UTF-8) as [`DnValue::Text`], anything else as its
/// DER encoding.
fn value_of(any: &Any<'_>) -> DnValue {
    let string_type = matches!(any.tag(), Tag::NumericString | Tag::PrintableString | Tag::Utf8String | Tag::Ia5String);
    if string_type && any.class() == Class::Universal && !any.header.is_constructed() {
        if let Ok(s) = std::str::from_utf8(any.data) {
            return DnValue::Text(s.to_owned());
        }
    }
    // Re-encoding a value that was just parsed does not fail; if it did, the
    // empty encoding is one no configured `#hex` value can equal.
    DnValue::Der(any.to_der_vec().unwrap_or_default())
}

/// Characters written as `\XX` hexadecimal escapes (each UTF-8 byte), so that a
/// rendered name shows them: controls, whitespace other than the ASCII space
/// (U+00A0, U+2003, U+3000, ...), and invisible format and bidirectional
/// characters.
fn hex_escaped(c: char) -> bool {
    c.is_control()
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
        )
}

/// Escapes a value as RFC 4514 requires (`, + " \ < > ;` always, `#` first and
/// space first or last), and writes [`hex_escaped`] characters as `\XX`.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        if hex_escaped(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\{b:02X}"));
            }
            continue;
        }
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The RFC 4514 form of a name, most specific RDN first.
pub(crate) fn rfc4514(name: &X509Name<'_>) -> String {
    Dn::from_x509(name).to_string()
}

/// The first value of an attribute (by OID) in a name.
pub(crate) fn first(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}
