//! The strict RFC 4514 parser for names written in the configuration.

use x509_parser::asn1_rs::{Any, FromDer, ToDer};

use super::{oid_of_short_name, value_of, Dn, DnAttribute, DnValue, Rdn, SHORT_NAMES};

/// Reads a distinguished name written as RFC 4514 says, strictly.
///
/// RDNs are separated by `,`, the attributes of a multi-valued RDN by `+`, and
/// the most specific RDN comes first. An attribute type is a short name (`CN`,
/// `C`, `L`, `ST`, `STREET`, `O`, `OU`, `serialNumber`, `title`, `UID`, `DC`,
/// `emailAddress`; case-insensitive) or a dotted OID (`2.5.4.3`). A value is a
/// string with escapes resolved (`\,` `\+` `\"` `\\` `\<` `\>` `\;` `\=` `\ `
/// `\#`, and `\XX` pairs of hexadecimal digits for the bytes of UTF-8), or `#`
/// and the hexadecimal DER encoding of a value (read as the string it encodes
/// when it is one of the string types, as certificates' values are).
///
/// Only unescaped ASCII spaces next to `,`, `+` and the `=` after a type, and at
/// either end, are ignored; every other character is significant, including
/// escaped spaces and whitespace other than U+0020. Refused: an empty name, a
/// part without `=` (`portal-hanoi`), an empty or unknown type, an empty RDN, a
/// `"` `;` `<` `>` or NUL that is not escaped, a dangling or unknown escape,
/// invalid hexadecimal, a value that is not UTF-8 once unescaped, a `#` value
/// that is not one DER value, and the same attribute twice in one RDN.
pub fn parse_rfc4514(s: &str) -> Result<Dn, String> {
    let mut p = Parser { s, b: s.as_bytes(), i: 0 };
    p.skip_spaces();
    if p.at_end() {
        return Err("the name is empty".into());
    }
    let mut rdns = Vec::new();
    loop {
        let n = rdns.len() + 1;
        let mut attributes: Vec<DnAttribute> = Vec::new();
        loop {
            let a = p.attribute(n)?;
            if attributes.contains(&a) {
                return Err(format!("RDN {n} holds the same attribute twice"));
            }
            attributes.push(a);
            if !p.eat(b'+') {
                break;
            }
        }
        rdns.push(Rdn(attributes));
        if !p.eat(b',') {
            break;
        }
    }
    // A value ends only at `,`, `+` or the end of the string.
    debug_assert!(p.at_end());
    Ok(Dn(rdns))
}

struct Parser<'a> {
    s: &'a str,
    b: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn skip_spaces(&mut self) {
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
    }

    /// The character at the current position (which is always on a character
    /// boundary: every byte the parser steps over singly is ASCII).
    fn current_char(&self) -> char {
        self.s.get(self.i..).and_then(|r| r.chars().next()).unwrap_or('\u{FFFD}')
    }

    /// `type=value`, spaces around either.
    fn attribute(&mut self, n: usize) -> Result<DnAttribute, String> {
        self.skip_spaces();
        let start = self.i;
        while let Some(c) = self.peek() {
            if matches!(c, b'=' | b',' | b'+') {
                break;
            }
            self.i += 1;
        }
        let raw = self.s.get(start..self.i).unwrap_or_default().trim_end_matches(' ');
        if self.peek() != Some(b'=') {
            return Err(if raw.is_empty() {
                format!("RDN {n} is empty (a stray `,` or `+`)")
            } else {
                format!("RDN {n}: `{raw}` is not type=value")
            });
        }
        if raw.is_empty() {
            return Err(format!("RDN {n}: an attribute without a type"));
        }
        let oid = attribute_oid(raw).map_err(|e| format!("RDN {n}: {e}"))?;
        self.i += 1;
        self.skip_spaces();
        let value = if self.peek() == Some(b'#') { self.hex_value(n)? } else { self.string_value(n)? };
        Ok(DnAttribute { oid, value })
    }

    /// `#` and hexadecimal pairs: one DER value.
    fn hex_value(&mut self, n: usize) -> Result<DnValue, String> {
        self.i += 1;
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.i += 1;
        }
        let digits = self.s.get(start..self.i).unwrap_or_default();
        self.skip_spaces();
        if !(self.at_end() || matches!(self.peek(), Some(b',' | b'+'))) || digits.is_empty() {
            return Err(format!(
                "RDN {n}: a value starting with `#` must be hexadecimal DER (write a leading `#` of a string as `\\#`)"
            ));
        }
        let der = hex::decode(digits).map_err(|_| format!("RDN {n}: an odd number of hexadecimal digits"))?;
        let any = match Any::from_der(&der) {
            Ok(([], any)) => any,
            _ => return Err(format!("RDN {n}: `#{digits}` is not one DER value")),
        };
        if any.to_der_vec().ok().as_deref() != Some(der.as_slice()) {
            return Err(format!("RDN {n}: `#{digits}` is not in DER"));
        }
        Ok(value_of(&any))
    }

    /// A string value up to an unescaped `,` or `+` or the end, escapes resolved,
    /// unescaped trailing spaces dropped.
    fn string_value(&mut self, n: usize) -> Result<DnValue, String> {
        let mut buf: Vec<u8> = Vec::new();
        // The length of `buf` up to its last significant byte.
        let mut keep = 0;
        while let Some(c) = self.peek() {
            match c {
                b',' | b'+' => break,
                b'\\' => {
                    self.i += 1;
                    let Some(e) = self.peek() else {
                        return Err(format!("RDN {n}: the value ends with a lone `\\`"));
                    };
                    if matches!(e, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';' | b'=' | b' ' | b'#') {
                        buf.push(e);
                        self.i += 1;
                    } else if e.is_ascii_hexdigit() {
                        let pair = self.s.get(self.i..self.i + 2).filter(|p| p.bytes().all(|d| d.is_ascii_hexdigit()));
                        let Some(byte) = pair.and_then(|p| u8::from_str_radix(p, 16).ok()) else {
                            return Err(format!("RDN {n}: `\\` must be followed by two hexadecimal digits here"));
                        };
                        buf.push(byte);
                        self.i += 2;
                    } else {
                        return Err(format!("RDN {n}: `\\{}` is not an escape", self.current_char().escape_debug()));
                    }
                    keep = buf.len();
                }
                b'"' | b';' | b'<' | b'>' | 0 => {
                    return Err(format!("RDN {n}: `{}` must be escaped in a value", (c as char).escape_debug()));
                }
                b' ' => {
                    buf.push(c);
                    self.i += 1;
                }
                _ => {
                    buf.push(c);
                    self.i += 1;
                    keep = buf.len();
                }
            }
        }
        buf.truncate(keep);
        String::from_utf8(buf)
            .map(DnValue::Text)
            .map_err(|_| format!("RDN {n}: the value is not UTF-8 once its escapes are resolved"))
    }
}

/// The OID of an attribute type: a known short name, or a dotted OID
/// (`number 1*("." number)`, no leading zeros).
fn attribute_oid(t: &str) -> Result<String, String> {
    if t.starts_with(|c: char| c.is_ascii_digit()) {
        let arcs: Vec<&str> = t.split('.').collect();
        let ok = arcs.len() >= 2
            && arcs
                .iter()
                .all(|a| !a.is_empty() && a.bytes().all(|d| d.is_ascii_digit()) && (*a == "0" || !a.starts_with('0')));
        return if ok { Ok(t.to_owned()) } else { Err(format!("`{t}` is not a dotted OID")) };
    }
    oid_of_short_name(t).map(str::to_owned).ok_or_else(|| {
        let known: Vec<&str> = SHORT_NAMES.iter().map(|(n, _)| *n).collect();
        format!("unknown attribute type `{t}` (known: {}; or a dotted OID)", known.join(", "))
    })
}
