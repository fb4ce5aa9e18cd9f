//! Every attack on an enveloped XML signature, and every refused signer, is
//! refused with its own stable code. Each family is a table of cases built from
//! a document signed by a trusted member, in a file of its own under `attacks/`;
//! the test of `coverage.rs` runs every table again and checks that every
//! XML-relevant code of [`SigError::CODES`] was produced.
//!
//! Cases that change `SignedInfo` are re-signed with the member's key when the
//! point is that the profile, not the signature value, refuses them ("resealed"):
//! the refusal must hold even for a signature the signer really made. Keys the
//! library will not load (RSA-1024) sign through `openssl dgst`; CRL updates are
//! issued by `openssl ca` on a scratch copy of a dev CA's state.
//!
//! This file holds the cases and how they are run; `attacks/helpers.rs` builds
//! the signed documents and tampers with them.

use std::collections::BTreeSet;
use std::path::PathBuf;

use schemas::dsig::verify_xml;
use schemas::pki::{RevocationPolicy, TrustStore};

use crate::support::{now, Fixture};

#[path = "attacks/helpers.rs"]
pub(crate) mod helpers;

#[path = "attacks/tampering.rs"]
mod tampering;

#[path = "attacks/wrapping.rs"]
mod wrapping;

#[path = "attacks/algorithms.rs"]
mod algorithms;

#[path = "attacks/signers.rs"]
mod signers;

#[path = "attacks/crl_updates.rs"]
mod crl_updates;

#[path = "attacks/input.rs"]
mod input;

#[path = "attacks/binding.rs"]
mod binding;

#[path = "attacks/unsigned.rs"]
mod unsigned;

#[path = "attacks/coverage.rs"]
mod coverage;

/// Which trust store a case is verified against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    /// Every dev root and every CRL, revocation required (the fixture's).
    Dev,
    /// Every dev root, no CRL loaded, revocation required.
    NoCrls,
    /// Every dev root, only the roots' CRLs (none for the intermediates), revocation required.
    RootCrlsOnly,
    /// Every dev root, no CRL loaded, best-effort revocation.
    BestEffortNoCrls,
    /// Every dev root and every CRL, best-effort revocation.
    BestEffort,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect {
    /// Refused with exactly this code.
    Code(&'static str),
    /// Refused with one of these codes (where the library may legitimately pick either).
    OneOf(&'static [&'static str]),
    /// Verifies, signed by the certificate with this CN.
    Verifies(&'static str),
}

pub(crate) struct Case {
    pub(crate) name: String,
    pub(crate) xml: Vec<u8>,
    pub(crate) store: Store,
    pub(crate) expect: Expect,
}

pub(crate) fn case(name: &str, xml: impl Into<Vec<u8>>, expect: &'static str) -> Case {
    Case { name: name.to_owned(), xml: xml.into(), store: Store::Dev, expect: Expect::Code(expect) }
}

pub(crate) fn accepted(name: &str, xml: impl Into<Vec<u8>>, cn: &'static str) -> Case {
    Case { name: name.to_owned(), xml: xml.into(), store: Store::Dev, expect: Expect::Verifies(cn) }
}

impl Case {
    pub(crate) fn against(mut self, store: Store) -> Self {
        self.store = store;
        self
    }
}

struct Stores<'a> {
    f: &'a Fixture,
    no_crls: TrustStore,
    root_crls: TrustStore,
    best_effort_no_crls: TrustStore,
    best_effort: TrustStore,
}

impl<'a> Stores<'a> {
    fn new(f: &'a Fixture) -> Self {
        let load = |p| TrustStore::load(&[f.pki.roots()], p).expect("load the dev roots");
        let root_crls = load(RevocationPolicy::Require);
        let roots: Vec<PathBuf> = ["national-root-old", "national-root-2025", "government-ca"]
            .iter()
            .map(|r| f.pki.path(&format!("crl/{r}.crl.pem")))
            .collect();
        assert_eq!(root_crls.reload_crls(&roots).expect("load the roots' CRLs"), 3);
        let best_effort = load(RevocationPolicy::BestEffort);
        assert!(best_effort.reload_crls(&[f.pki.crls()]).expect("load the CRLs") >= 6);
        Self {
            f,
            no_crls: load(RevocationPolicy::Require),
            root_crls,
            best_effort_no_crls: load(RevocationPolicy::BestEffort),
            best_effort,
        }
    }

    fn get(&self, s: Store) -> &TrustStore {
        match s {
            Store::Dev => &self.f.store,
            Store::NoCrls => &self.no_crls,
            Store::RootCrlsOnly => &self.root_crls,
            Store::BestEffortNoCrls => &self.best_effort_no_crls,
            Store::BestEffort => &self.best_effort,
        }
    }
}

/// Runs the cases; panics listing every case whose outcome is not the expected
/// one (an accepted attack first of all). Returns the codes produced.
pub(crate) fn run(f: &Fixture, cases: Vec<Case>) -> BTreeSet<&'static str> {
    let stores = Stores::new(f);
    let opts = now();
    let mut produced = BTreeSet::new();
    let mut wrong = Vec::new();
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name.clone()), "two cases named {:?}", c.name);
        let outcome = verify_xml(&c.xml, stores.get(c.store), &opts);
        match (&outcome, c.expect) {
            (Err(e), Expect::Code(want)) if e.code() == want => {
                produced.insert(e.code());
            }
            (Err(e), Expect::OneOf(set)) if set.contains(&e.code()) => {
                println!("{}: refused with {}", c.name, e.code());
                produced.insert(e.code());
            }
            (Ok(Some(v)), Expect::Verifies(cn)) if v.signer.cert.common_name.as_deref() == Some(cn) => {}
            (Err(e), _) => wrong.push(format!("{}: expected {:?}, refused with {} ({e})", c.name, c.expect, e.code())),
            (Ok(Some(v)), _) => wrong
                .push(format!("{}: expected {:?}, but ACCEPTED (signer {})", c.name, c.expect, v.signer.cert.subject)),
            (Ok(None), _) => {
                wrong.push(format!("{}: expected {:?}, but read as an unsigned document", c.name, c.expect))
            }
        }
    }
    println!("{} cases, codes {produced:?}", cases.len());
    assert!(wrong.is_empty(), "{} of {} cases went wrong:\n  {}", wrong.len(), cases.len(), wrong.join("\n  "));
    produced
}
