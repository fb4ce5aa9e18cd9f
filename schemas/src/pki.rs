//! Certificates and trust: reading a signer's certificate, building its chain to
//! a configured root with CRL checking, binding signers to members, and the
//! gateway's own signing identity.

mod binding;
mod cert;
mod key;
mod name;
mod trust;

pub use binding::{BindingProblem, SignerBinding};
pub use cert::{CertInfo, Curve, PublicKey, PARSED_ENTRIES};
pub use key::{KeyError, SigningIdentity};
pub use name::{parse_rfc4514, Dn, DnAttribute, DnValue, Rdn};
pub use trust::{RevocationPolicy, TrustStore, TrustStoreError, VerifiedSigner};
