//! Character-level rules: what the parser accepts and normalises (end-of-line
//! handling, attribute-value normalisation, references) and how canonical output
//! escapes text and attribute values.

use super::C14nError;

/// A reference or attribute value that could not be resolved; the caller adds
/// the byte offset.
#[derive(Debug)]
pub(super) enum RefError {
    Undeclared,
    Malformed(String),
}

impl RefError {
    pub fn at(self, offset: u64) -> C14nError {
        match self {
            Self::Undeclared => C14nError::UndeclaredEntity(offset),
            Self::Malformed(reason) => C14nError::Malformed { offset, reason },
        }
    }
}

/// Appends the replacement of `&name;`: one of the five predefined entities or a
/// character reference to a legal XML character.
pub(super) fn resolve_ref(name: &str, out: &mut String) -> Result<(), RefError> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let Some(num) = name.strip_prefix('#') else {
                return Err(RefError::Undeclared);
            };
            let code = match num.strip_prefix('x') {
                Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => {
                    u32::from_str_radix(hex, 16).ok()
                }
                None if !num.is_empty() && num.bytes().all(|b| b.is_ascii_digit()) => num.parse().ok(),
                _ => None,
            };
            match code.and_then(char::from_u32).filter(|c| is_xml_char(*c)) {
                Some(c) => c,
                None => return Err(RefError::Malformed(format!("invalid character reference &{name};"))),
            }
        }
    };
    out.push(c);
    Ok(())
}

/// The XML 1.0 `Char` production.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Refuses characters that XML 1.0 does not allow anywhere.
pub(super) fn check_chars(s: &str) -> Result<(), String> {
    // Byte scan: in valid UTF-8, the only characters outside XML's Char production
    // are the C0 controls other than tab, LF and CR, and U+FFFE / U+FFFF (EF BF BE,
    // EF BF BF); surrogates cannot occur in a `str`.
    let b = s.as_bytes();
    let bad = b.iter().enumerate().any(|(i, &c)| {
        (c < 0x20 && !matches!(c, b'\t' | b'\n' | b'\r'))
            || (c == 0xEF && b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)))
    });
    if !bad {
        return Ok(());
    }
    match s.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(format!("character U+{:04X} is not allowed in XML", c as u32)),
        None => Ok(()),
    }
}

fn is_name_start(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}'
        | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start(c) || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Checks the XML 1.0 `Name` production.
pub(super) fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    if chars.next().is_some_and(is_name_start) && chars.all(is_name_char) {
        Ok(())
    } else {
        Err(format!("invalid name {name:?}"))
    }
}

/// End-of-line handling of XML 1.0 §2.11: CRLF and lone CR become LF.
pub(super) fn normalize_eol(s: &str) -> String {
    if !s.as_bytes().contains(&b'\r') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' {
            if chars.peek() == Some(&'\n') {
                chars.next();
            }
            out.push('\n');
        } else {
            out.push(c);
        }
    }
    out
}

/// Attribute-value normalisation of XML 1.0 §3.3.3 for CDATA attributes (all are,
/// without a DTD): references replaced, each literal whitespace character (a CRLF
/// pair counting as one) becomes a space.
pub(super) fn normalize_attr(raw: &str) -> Result<String, RefError> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        match c {
            '&' => {
                let Some(end) = rest.find(';') else {
                    return Err(RefError::Malformed("unterminated reference in attribute value".to_owned()));
                };
                resolve_ref(&rest[..end], &mut out)?;
                rest = &rest[end + 1..];
            }
            '<' => return Err(RefError::Malformed("'<' in attribute value".to_owned())),
            '\r' => {
                rest = rest.strip_prefix('\n').unwrap_or(rest);
                out.push(' ');
            }
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Escapes character data for canonical output.
pub(super) fn text(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

/// Escapes an attribute value (or namespace URI) for canonical output.
pub(super) fn attr(s: &str, out: &mut Vec<u8>) {
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'"' => b"&quot;",
            b'\t' => b"&#x9;",
            b'\n' => b"&#xA;",
            b'\r' => b"&#xD;",
            _ => continue,
        };
        out.extend_from_slice(&s.as_bytes()[last..i]);
        out.extend_from_slice(rep);
        last = i + 1;
    }
    out.extend_from_slice(&s.as_bytes()[last..]);
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    #[test]
    fn the_byte_scan_agrees_with_the_char_production() {
        let samples = [
            "plain",
            "tab\tlf\ncr\r",
            "Nguyễn Thị",
            "\u{7F}\u{85}\u{9F}",
            "\u{D7FF}\u{E000}\u{FFFD}",
            "\u{10000}x",
            "\u{0}",
            "a\u{1}b",
            "\u{1F}",
            "\u{FFFE}",
            "x\u{FFFF}",
            "\u{FFFD}\u{FFFE}",
            "\u{EFBF}",
            "\u{FBFE}",
        ];
        for s in samples {
            let want = s.chars().all(is_xml_char);
            assert_eq!(check_chars(s).is_ok(), want, "{s:?}");
        }
        for cp in (0u32..0x800).chain(0xFFF0..0x10010) {
            if let Some(c) = char::from_u32(cp) {
                let s = format!("a{c}b");
                assert_eq!(check_chars(&s).is_ok(), is_xml_char(c), "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn line_ends_are_normalised_with_or_without_carriage_returns() {
        assert_eq!(normalize_eol("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(normalize_eol("no returns"), "no returns");
    }
}
