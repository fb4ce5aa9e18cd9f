//! Shared pieces: the trust store of the dev PKI, identities, example dossiers.

use schemas::dsig::{SignatureAlgorithm, VerifyOptions};
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};

use crate::dev_pki::{dev_pki, repo_root, DevPki};

/// The dev PKI with its trust store (every root, every CRL, revocation required).
pub struct Fixture {
    pub pki: DevPki,
    pub store: TrustStore,
}

pub fn fixture() -> Fixture {
    let pki = dev_pki();
    let store = TrustStore::load(&[pki.roots()], RevocationPolicy::Require).expect("load the dev roots");
    store.reload_crls(&[pki.crls()]).expect("load the dev CRLs");
    Fixture { pki, store }
}

impl Fixture {
    /// The signing identity of a certificate of the index.
    pub fn identity(&self, name: &str) -> SigningIdentity {
        let (key, _, chain) = self.pki.files(name);
        SigningIdentity::load(&key, &chain).unwrap_or_else(|e| panic!("load {name}: {e}"))
    }

    /// The identity with a chosen algorithm.
    pub fn identity_with(&self, name: &str, alg: SignatureAlgorithm) -> SigningIdentity {
        self.identity(name).with_algorithm(alg).unwrap_or_else(|e| panic!("{name} with {}: {e}", alg.name()))
    }
}

/// Now, as verification sees it.
pub fn now() -> VerifyOptions {
    VerifyOptions::now()
}

/// An example dossier of the repository.
pub fn example(name: &str) -> Vec<u8> {
    std::fs::read(repo_root().join("schemas/examples").join(name)).expect("read the example")
}
