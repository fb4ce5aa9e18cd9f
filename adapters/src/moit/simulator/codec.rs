//! The decoding the simulated token endpoint and paths need: base64 (HTTP Basic),
//! percent-encoding (paths) and form encoding (token requests).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// Decodes standard base64 (RFC 4648 §4, with padding); `None` if malformed.
pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

/// Decodes `%XX` escapes (and `+` as space when `plus_is_space`); `None` if an
/// escape is malformed or the result is not UTF-8.
pub(super) fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Parses an `application/x-www-form-urlencoded` body into pairs; `None` if malformed.
pub(super) fn form_decode(body: &[u8]) -> Option<Vec<(String, String)>> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(k, true)?, percent_decode(v, true)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_what_http_basic_sends() {
        assert_eq!(base64_decode("bGllbnRob25nOnNpbS1zZWNyZXQ=").unwrap(), b"lienthong:sim-secret");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert_eq!(base64_decode("YWI=").unwrap(), b"ab");
        assert_eq!(base64_decode("YWJj").unwrap(), b"abc");
        assert_eq!(base64_decode("").unwrap(), b"");
        for bad in ["YQ=", "Y===", "YQ==YWJj", "YW*j"] {
            assert!(base64_decode(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn percent_and_form_decoding() {
        assert_eq!(percent_decode("15%2F2025%2FGPBLR-SCT", false).unwrap(), "15/2025/GPBLR-SCT");
        assert_eq!(percent_decode("a+b", false).unwrap(), "a+b");
        assert_eq!(percent_decode("%C4%91", true).unwrap(), "đ");
        assert!(percent_decode("%G1", false).is_none());
        assert!(percent_decode("%C4", false).is_none());
        let pairs = form_decode(b"grant_type=client_credentials&scope=hoso.submit+hoso.read").unwrap();
        assert_eq!(
            pairs,
            vec![("grant_type".into(), "client_credentials".into()), ("scope".into(), "hoso.submit hoso.read".into())]
        );
        assert!(form_decode(b"a=%zz").is_none());
    }
}
