//! Distinguished names as RFC 4514 strings (most specific RDN first, as OpenSSL's
//! `-nameopt RFC2253` prints them), and their comparison.

use x509_parser::x509::X509Name;

/// Short names of the attribute types a subject normally carries.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "STREET",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.5" => "serialNumber",
        "2.5.4.12" => "title",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// Escapes a value as RFC 4514 requires.
fn escape(value: &str, out: &mut String) {
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
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
    let mut out = String::new();
    let rdns: Vec<_> = name.iter().collect();
    for (i, rdn) in rdns.iter().rev().enumerate() {
        if i > 0 {
            out.push(',');
        }
        for (j, atv) in rdn.iter().enumerate() {
            if j > 0 {
                out.push('+');
            }
            let oid = atv.attr_type().to_id_string();
            match (short_name(&oid), atv.as_str()) {
                (Some(short), Ok(v)) => {
                    out.push_str(short);
                    out.push('=');
                    escape(v, &mut out);
                }
                (None, Ok(v)) => {
                    out.push_str(&oid);
                    out.push('=');
                    escape(v, &mut out);
                }
                (_, Err(_)) => {
                    out.push_str(&oid);
                    out.push_str("=#");
                    out.push_str(&hex::encode(atv.attr_value().data));
                }
            }
        }
    }
    out
}

/// The first value of an attribute (by OID) in a name.
pub(crate) fn first(name: &X509Name<'_>, oid: &str) -> Option<String> {
    name.iter_attributes()
        .find(|a| a.attr_type().to_id_string() == oid)
        .and_then(|a| a.as_str().ok())
        .map(str::to_owned)
}

/// A name split into (type, value) pairs with escapes resolved, types compared
/// case-insensitively: so that `CN=a, O=b` and `cn=a,O=b` are the same name.
pub(crate) fn normalize(dn: &str) -> Vec<(String, String)> {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = dn.chars();
    let mut escaped = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push('\\');
                    cur.push(n);
                }
            }
            ',' | '+' => {
                parts.push(std::mem::take(&mut cur));
            }
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter_map(|p| {
            let (t, v) = p.split_once('=')?;
            escaped.clear();
            let mut it = v.trim().chars();
            while let Some(c) = it.next() {
                if c == '\\' {
                    if let Some(n) = it.next() {
                        escaped.push(n);
                    }
                } else {
                    escaped.push(c);
                }
            }
            Some((t.trim().to_ascii_uppercase(), escaped.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equivalent_spellings_normalise_alike() {
        assert_eq!(normalize("CN=portal,O=UBND Hà Nội,C=VN"), normalize("cn=portal, O=UBND Hà Nội , C=VN"));
        assert_ne!(normalize("CN=portal,O=A"), normalize("CN=portal,O=B"));
        assert_eq!(normalize(r"CN=a\,b,O=c"), vec![("CN".into(), "a,b".into()), ("O".into(), "c".into())]);
    }

    #[test]
    fn escaping_follows_rfc4514() {
        let mut s = String::new();
        escape("#a, b+c ", &mut s);
        assert_eq!(s, r"\#a\, b\+c\ ");
    }
}
