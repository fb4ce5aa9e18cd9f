//! JWS (RFC 7515) with a detached payload: the JSON dossier (or a receipt) is
//! the payload, and the compact serialisation `header..signature` travels in the
//! [`HEADER`] HTTP header. The signer's chain is in `x5c`; the algorithm policy
//! is the XML one. `b64: false` (RFC 7797, unencoded payload) is understood.

use std::collections::BTreeMap;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;

use crate::dsig::{split_chain, SigError, SignatureAlgorithm, Step, VerifyOptions};
use crate::pki::{KeyError, SigningIdentity, TrustStore, VerifiedSigner};

/// The HTTP header that carries a detached JWS.
pub const HEADER: &str = "x-jws-signature";

/// Header parameters this implementation understands when listed in `crit`.
const UNDERSTOOD_CRIT: &[&str] = &["b64"];

/// A detached JWS whose signature and signer verified.
#[derive(Debug, Clone)]
pub struct VerifiedJws {
    /// The signer.
    pub signer: VerifiedSigner,
    /// The algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The claimed signing time (`iat`), Unix seconds.
    pub signing_time: Option<i64>,
}

/// The protected header, read strictly.
#[derive(Debug, Clone)]
pub struct JwsHeader {
    /// `alg`.
    pub algorithm: SignatureAlgorithm,
    /// `x5c`, DER, leaf first.
    pub x5c: Vec<Vec<u8>>,
    /// `iat`, if any.
    pub iat: Option<i64>,
    /// Whether the payload is base64url-encoded in the signing input (`b64`).
    pub b64: bool,
    /// `x5t#S256`, if any.
    pub x5t_s256: Option<Vec<u8>>,
}

/// A JSON object whose keys are unique (RFC 7515 §4: a header with a duplicate
/// name must be refused, or an attacker chooses which value a verifier sees).
struct UniqueObject(BTreeMap<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<UniqueObject, A::Error> {
                let mut out = BTreeMap::new();
                while let Some((k, v)) = m.next_entry::<String, Value>()? {
                    if out.insert(k.clone(), v).is_some() {
                        return Err(serde::de::Error::custom(format!("duplicate header parameter {k:?}")));
                    }
                }
                Ok(UniqueObject(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn malformed(m: impl Into<String>) -> SigError {
    SigError::Malformed(m.into())
}

/// Splits a detached compact JWS into its header, the encoded header and the signature.
pub fn parse_detached(compact: &str) -> Result<(JwsHeader, &str, Vec<u8>), SigError> {
    let mut parts = compact.trim().split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(malformed("a JWS has three dot-separated parts"));
    };
    if !p.is_empty() {
        return Err(malformed("the payload must be detached (empty middle part)"));
    }
    let header_json = URL_SAFE_NO_PAD.decode(h).map_err(|_| malformed("the header is not base64url"))?;
    let signature = URL_SAFE_NO_PAD.decode(s).map_err(|_| malformed("the signature is not base64url"))?;
    let UniqueObject(map) =
        serde_json::from_slice(&header_json).map_err(|e| malformed(format!("the header is not a JSON object: {e}")))?;
    Ok((header(&map)?, h, signature))
}

fn header(map: &BTreeMap<String, Value>) -> Result<JwsHeader, SigError> {
    for source in ["jku", "jwk", "x5u"] {
        if map.contains_key(source) {
            return Err(SigError::KeySourceUnsupported(format!("JWS header {source}")));
        }
    }
    if let Some(crit) = map.get("crit") {
        let list =
            crit.as_array().filter(|l| !l.is_empty()).ok_or_else(|| malformed("crit must be a non-empty array"))?;
        for c in list {
            let name = c.as_str().ok_or_else(|| malformed("crit must list names"))?;
            if !UNDERSTOOD_CRIT.contains(&name) {
                return Err(SigError::CritUnsupported(name.to_owned()));
            }
            if !map.contains_key(name) {
                return Err(malformed(format!("crit lists {name}, which the header lacks")));
            }
        }
    }
    let alg = map.get("alg").and_then(Value::as_str).ok_or_else(|| malformed("alg is missing"))?;
    let algorithm = SignatureAlgorithm::from_jws(alg)?;
    let b64 = match map.get("b64") {
        None => true,
        Some(Value::Bool(b)) => {
            let in_crit = map.get("crit").and_then(Value::as_array).is_some_and(|l| l.iter().any(|c| c == "b64"));
            if !in_crit {
                return Err(malformed("b64 must be listed in crit"));
            }
            *b
        }
        Some(_) => return Err(malformed("b64 must be a boolean")),
    };
    let x5c = match map.get("x5c") {
        None => return Err(SigError::NoCertificate),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| {
                i.as_str()
                    .and_then(|s| STANDARD.decode(s).ok())
                    .ok_or_else(|| malformed("x5c must hold base64 DER certificates"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        Some(_) => return Err(SigError::NoCertificate),
    };
    let iat = match map.get("iat") {
        None => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| malformed("iat must be an integer NumericDate"))?),
    };
    let x5t_s256 = match map.get("x5t#S256") {
        None => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
                .ok_or_else(|| malformed("x5t#S256 must be base64url"))?,
        ),
    };
    Ok(JwsHeader { algorithm, x5c, iat, b64, x5t_s256 })
}

fn signing_input(encoded_header: &str, payload: &[u8], b64: bool) -> Vec<u8> {
    let mut input = Vec::with_capacity(encoded_header.len() + 1 + payload.len() * 4 / 3 + 4);
    input.extend_from_slice(encoded_header.as_bytes());
    input.push(b'.');
    if b64 {
        input.extend_from_slice(URL_SAFE_NO_PAD.encode(payload).as_bytes());
    } else {
        input.extend_from_slice(payload);
    }
    input
}

/// Verifies a detached JWS over `payload`, the exact bytes received.
pub fn verify_detached(
    compact: &str,
    payload: &[u8],
    store: &TrustStore,
    opts: &VerifyOptions,
) -> Result<VerifiedJws, SigError> {
    verify_detached_traced(compact, payload, store, opts, &mut Vec::new())
}

/// As [`verify_detached`], recording every step in `trace`.
pub fn verify_detached_traced(
    compact: &str,
    payload: &[u8],
    store: &TrustStore,
    opts: &VerifyOptions,
    trace: &mut Vec<Step>,
) -> Result<VerifiedJws, SigError> {
    let mut step = |what: &str, r: Result<(), SigError>| -> Result<(), SigError> {
        match r {
            Ok(()) => {
                trace.push(Step { what: what.to_owned(), ok: true });
                Ok(())
            }
            Err(e) => {
                trace.push(Step { what: format!("{what}: {e} ({})", e.code()), ok: false });
                Err(e)
            }
        }
    };
    let parsed = parse_detached(compact);
    step(
        "the JWS header is well-formed and its algorithm accepted",
        parsed.as_ref().map(|_| ()).map_err(Clone::clone),
    )?;
    let (h, encoded, signature) = parsed?;
    let chain = split_chain_first(&h.x5c);
    step("the signer's certificate is carried in x5c", chain.as_ref().map(|_| ()).map_err(Clone::clone))?;
    let (leaf, intermediates) = chain?;
    if let Some(t) = &h.x5t_s256 {
        let ok = hex::encode(t) == leaf.cert_sha256;
        step(
            "x5t#S256 names the x5c certificate",
            if ok { Ok(()) } else { Err(malformed("x5t#S256 does not match x5c")) },
        )?;
    }
    let key = leaf.key.clone();
    step("the signer's key is strong enough", key.as_ref().map(|_| ()).map_err(Clone::clone))?;
    let key = key?;
    let input = signing_input(encoded, payload, h.b64);
    step("the signature verifies over exactly these bytes", key.verify(h.algorithm, &input, &signature))?;
    let opts = VerifyOptions { signing_time: h.iat.or(opts.signing_time), ..*opts };
    let times = opts.times();
    step("the signing time is not in the future", times.as_ref().map(|_| ()).map_err(Clone::clone))?;
    let signer = store.verify(&leaf, &intermediates, &times?);
    step(
        "the certificate chains to a trusted root, is valid, not revoked, and may sign",
        signer.as_ref().map(|_| ()).map_err(Clone::clone),
    )?;
    Ok(VerifiedJws { signer: signer?, algorithm: h.algorithm, signing_time: h.iat })
}

/// Verifies a detached JWS over `payload` by a pinned key: the signature must
/// verify with the x5c leaf's key, and that key's SPKI SHA-256 (hex) must be one
/// of `pins`. No chain is built: the pin is the trust. Used for what the gateway
/// signed itself, such as its message log's heads, whose key is known.
pub fn verify_detached_pinned(compact: &str, payload: &[u8], pins: &[String]) -> Result<(), SigError> {
    let (h, encoded, signature) = parse_detached(compact)?;
    let (leaf, _) = split_chain_first(&h.x5c)?;
    if !pins.iter().any(|p| p.eq_ignore_ascii_case(&leaf.spki_sha256)) {
        return Err(malformed("the signer's key is not one of the pinned keys"));
    }
    let key = leaf.key?;
    key.verify(h.algorithm, &signing_input(encoded, payload, h.b64), &signature)
}

/// The x5c leaf (RFC 7515: the first certificate) and the rest.
fn split_chain_first(
    x5c: &[Vec<u8>],
) -> Result<(crate::pki::CertInfo, Vec<rustls_pki_types::CertificateDer<'static>>), SigError> {
    let Some(first) = x5c.first() else { return Err(SigError::NoCertificate) };
    let (leaf, rest) = split_chain(x5c)?;
    if leaf.der != *first {
        return Err(malformed("the first x5c certificate must be the signer's"));
    }
    Ok((leaf, rest))
}

/// Signs `payload` as a detached JWS with the identity's algorithm, its chain in
/// `x5c`, `x5t#S256`, and `iat`.
pub fn sign_detached(payload: &[u8], id: &SigningIdentity, iat: i64) -> Result<String, KeyError> {
    let x5c: Vec<String> = id.chain().iter().map(|c| STANDARD.encode(c.as_ref())).collect();
    let thumb = URL_SAFE_NO_PAD.encode(hex::decode(&id.certificate().cert_sha256).unwrap_or_default());
    let header = serde_json::json!({
        "alg": id.algorithm().jws_name(),
        "iat": iat,
        "kid": id.certificate().spki_sha256,
        "x5c": x5c,
        "x5t#S256": thumb,
    });
    let encoded = URL_SAFE_NO_PAD.encode(header.to_string());
    let signature = id.sign(&signing_input(&encoded, payload, true))?;
    Ok(format!("{encoded}..{}", URL_SAFE_NO_PAD.encode(signature)))
}
