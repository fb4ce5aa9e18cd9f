//! XML signatures and JWS against the development PKI: round trips under every
//! accepted algorithm and canonicalisation, interop with `xmlsec1` in both
//! directions, and a refusal with its own code for each attack.

#[path = "../../tests/common/dev_pki.rs"]
mod dev_pki;

#[path = "dsig/support.rs"]
mod support;

#[path = "dsig/roundtrip.rs"]
mod roundtrip;

#[path = "dsig/xmlsec.rs"]
mod xmlsec;

#[path = "dsig/attacks.rs"]
mod attacks;

#[path = "dsig/jws.rs"]
mod jws;
