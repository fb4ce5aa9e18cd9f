//! Character-level rules: what the parser accepts and normalises (end-of-line
//! handling, attribute-value normalisation, references) and how canonical output
//! escapes text and attribute values.

use std::borrow::Cow;

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

/// The first character that XML 1.0 does not allow anywhere, with its byte
/// offset.
pub(super) fn first_bad_char(s: &str) -> Option<(usize, char)> {
    // Byte scan: in valid UTF-8, the only characters outside XML's Char production
    // are the C0 controls other than tab, LF and CR, and U+FFFE / U+FFFF (EF BF BE,
    // EF BF BF); surrogates cannot occur in a `str`.
    // A byte that may start such a character: a control, or the lead byte of
    // U+F000..U+FFFF. Tested a block at a time, without branches, so that the
    // common case (none at all) runs at memory speed.
    let suspect = |c: u8| (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r') | (c == 0xEF);
    let bad = s.as_bytes().chunks(64).any(|block| block.iter().fold(false, |any, &c| any | suspect(c)));
    if !bad {
        return None;
    }
    s.char_indices().find(|(_, c)| !is_xml_char(*c))
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
    // The names of real documents are ASCII: checked byte by byte.
    if is_ascii_name(name) || is_name(name) {
        Ok(())
    } else {
        Err(format!("invalid name {name:?}"))
    }
}

/// Whether `name` is a `Name` of ASCII characters only.
fn is_ascii_name(name: &str) -> bool {
    let start = |c: u8| c.is_ascii_alphabetic() || matches!(c, b'_' | b':');
    match name.as_bytes() {
        [first, rest @ ..] => {
            start(*first) && rest.iter().all(|&c| start(c) || c.is_ascii_digit() || matches!(c, b'-' | b'.'))
        }
        [] => false,
    }
}

/// The `Name` production, character by character.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start) && chars.all(is_name_char)
}

/// End-of-line handling of XML 1.0 §2.11: CRLF and lone CR become LF (the
/// input itself when it has no CR).
pub(super) fn normalize_eol(s: &str) -> Cow<'_, str> {
    if !s.as_bytes().contains(&b'\r') {
        return Cow::Borrowed(s);
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
    Cow::Owned(out)
}

/// Attribute-value normalisation of XML 1.0 §3.3.3 for CDATA attributes (all are,
/// without a DTD): references replaced, each literal whitespace character (a CRLF
/// pair counting as one) becomes a space. The value itself when it has nothing
/// to replace.
pub(super) fn normalize_attr(raw: &str) -> Result<Cow<'_, str>, RefError> {
    if !raw.bytes().any(|b| matches!(b, b'&' | b'<' | b'\r' | b'\n' | b'\t')) {
        return Ok(Cow::Borrowed(raw));
    }
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
    Ok(Cow::Owned(out))
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
            let want = s.char_indices().find(|(_, c)| !is_xml_char(*c));
            assert_eq!(first_bad_char(s), want, "{s:?}");
        }
        for cp in (0u32..0x800).chain(0xFFF0..0x10010) {
            if let Some(c) = char::from_u32(cp) {
                let s = format!("a{c}b");
                let want = (!is_xml_char(c)).then_some((1, c));
                assert_eq!(first_bad_char(&s), want, "U+{cp:04X}");
            }
        }
    }

    #[test]
    fn the_ascii_name_check_agrees_with_the_name_production() {
        let ascii: Vec<char> = (0u8..0x80).map(char::from).collect();
        for &a in &ascii {
            for &b in &ascii {
                for name in [format!("{a}"), format!("{a}{b}"), format!("x{a}{b}")] {
                    if is_ascii_name(&name) {
                        assert!(is_name(&name), "{name:?} passed the ASCII check only");
                    } else if name.is_ascii() {
                        assert!(!is_name(&name), "{name:?} is a name the ASCII check refused");
                    }
                }
            }
        }
        assert!(check_name("Nguyễn").is_ok(), "non-ASCII names go through the full production");
        assert!(check_name("1a").is_err() && check_name("").is_err() && check_name("a b").is_err());
    }

    #[test]
    fn line_ends_are_normalised_with_or_without_carriage_returns() {
        assert_eq!(normalize_eol("a\r\nb\rc\n"), "a\nb\nc\n");
        assert_eq!(normalize_eol("no returns"), "no returns");
    }
}
