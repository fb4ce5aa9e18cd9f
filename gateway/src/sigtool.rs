//! `lienthong verify` and `lienthong sign`: offline verification of a signed
//! dossier or receipt, explained step by step, and signing for integrators and
//! tests.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, ValueEnum};
use schemas::c14n::Algorithm;
use schemas::dsig::{ReferenceStyle, SignatureAlgorithm, Step, VerifyOptions, XmlSignOptions};
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};

use crate::config::Config;

/// Arguments of `lienthong verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The signed XML dossier, or the JSON dossier or receipt a JWS covers.
    pub file: PathBuf,
    /// The detached JWS (a file holding it, or the compact string itself); by
    /// default FILE.jws when FILE is not XML.
    #[arg(long)]
    pub jws: Option<String>,
    /// Take the trust store and CRLs from this gateway configuration.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// With --config: also check that the signer is bound to this member.
    #[arg(long, requires = "config")]
    pub member: Option<String>,
    /// Trusted roots (files or directories), instead of --config.
    #[arg(long = "trust", conflicts_with = "config")]
    pub trust: Vec<PathBuf>,
    /// CRLs (files or directories), instead of --config.
    #[arg(long = "crls", conflicts_with = "config")]
    pub crls: Vec<PathBuf>,
    /// Accept certificates no CRL covers (otherwise revocation status is required).
    #[arg(long)]
    pub best_effort_revocation: bool,
    /// Verify as of this time (RFC 3339), such as a receipt's `accepted_at`.
    #[arg(long)]
    pub at: Option<String>,
}

/// A canonicalisation, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum C14nName {
    /// Exclusive C14N 1.0.
    Exc,
    /// Exclusive C14N 1.0 with comments.
    ExcComments,
    /// Canonical XML 1.0.
    Inc,
    /// Canonical XML 1.0 with comments.
    IncComments,
}

/// What the reference covers, as the command line names it.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReferenceName {
    /// `URI=""`.
    Whole,
    /// `URI="#Id"` of the document element.
    Id,
}

/// Arguments of `lienthong sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The dossier: XML is signed in place (enveloped); anything else gets a
    /// detached JWS, written instead of the document.
    pub file: PathBuf,
    /// The private key (PKCS#8 PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// The certificate chain (PEM, leaf first).
    #[arg(long)]
    pub chain: PathBuf,
    /// The algorithm (rsa-sha256, rsa-sha384, rsa-sha512, rsa-pss-sha256, ...,
    /// ecdsa-sha256, ecdsa-sha384); the key's default otherwise.
    #[arg(long)]
    pub algorithm: Option<String>,
    /// The canonicalisation (XML).
    #[arg(long, value_enum, default_value = "exc")]
    pub c14n: C14nName,
    /// What the reference covers (XML).
    #[arg(long, value_enum, default_value = "whole")]
    pub reference: ReferenceName,
    /// Force a detached JWS even for an XML file.
    #[arg(long)]
    pub jws: bool,
    /// Where to write; standard output by default.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

fn is_xml(bytes: &[u8]) -> bool {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    start.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<')
}

fn trust_store(args: &VerifyArgs) -> anyhow::Result<(TrustStore, Option<Config>)> {
    let (anchors, crls, mut policy, config) = match &args.config {
        Some(path) => {
            let config = Config::load(path).map_err(|e| anyhow::anyhow!("invalid configuration:\n{e}"))?;
            let s = &config.signatures;
            (s.trust_anchors.clone(), s.crls.clone(), s.revocation.policy(), Some(config))
        }
        None => (args.trust.clone(), args.crls.clone(), RevocationPolicy::Require, None),
    };
    anyhow::ensure!(!anchors.is_empty(), "no trust anchors: give --trust DIR or --config FILE");
    if args.best_effort_revocation {
        policy = RevocationPolicy::BestEffort;
    }
    Ok((TrustStore::open(&anchors, &crls, policy)?, config))
}

/// Runs `lienthong verify`; exit code 0 when the signature verifies.
pub fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let (store, config) = trust_store(&args)?;
    let mut opts = VerifyOptions::now();
    if let Some(at) = &args.at {
        let t = chrono::DateTime::parse_from_rfc3339(at).context("--at must be RFC 3339")?;
        opts.now = t.timestamp();
    }
    println!("{}", args.file.display());
    let mut steps: Vec<Step> = Vec::new();
    let jws = match &args.jws {
        Some(j) => Some(read_jws(j)?),
        None if !is_xml(&body) => {
            let sibling = PathBuf::from(format!("{}.jws", args.file.display()));
            Some(std::fs::read_to_string(&sibling).with_context(|| {
                format!(
                    "{} is not XML, so its JWS is needed: give --jws or put it in {}",
                    args.file.display(),
                    sibling.display()
                )
            })?)
        }
        None => None,
    };
    let result = match &jws {
        Some(compact) => {
            println!("detached JWS over {} bytes", body.len());
            schemas::jws::verify_detached_traced(compact.trim(), &body, &store, &opts, &mut steps)
                .map(|v| Some(v.signer))
        }
        None => {
            println!("enveloped XML signature");
            schemas::dsig::verify_xml_traced(&body, &store, &opts, &mut steps).map(|v| v.map(|v| v.signer))
        }
    };
    for s in &steps {
        println!("  {} {}", if s.ok { "ok  " } else { "FAIL" }, s.what);
    }
    let signer = match result {
        Ok(Some(signer)) => signer,
        Ok(None) => {
            println!("result: NOT SIGNED");
            return Ok(ExitCode::FAILURE);
        }
        Err(e) => {
            println!("result: INVALID ({})", e.code());
            return Ok(ExitCode::FAILURE);
        }
    };
    if let (Some(config), Some(member)) = (&config, &args.member) {
        let m = config.members.iter().find(|m| &m.id == member).with_context(|| format!("no member {member}"))?;
        let bound = m.signers.iter().any(|b| b.matches(&signer.cert));
        println!("  {} the signer is bound to member {member}", if bound { "ok  " } else { "FAIL" });
        if !bound {
            println!("result: INVALID (signer_not_bound)");
            return Ok(ExitCode::FAILURE);
        }
    }
    println!("signer: {}", signer.cert.subject);
    println!("  key sha256 {}  certificate sha256 {}", signer.cert.spki_sha256, signer.cert.cert_sha256);
    println!("  trust anchor: {}", signer.anchor_subject);
    println!("result: VALID");
    Ok(ExitCode::SUCCESS)
}

fn read_jws(arg: &str) -> anyhow::Result<String> {
    let p = Path::new(arg);
    if p.is_file() {
        return std::fs::read_to_string(p).with_context(|| format!("reading {arg}"));
    }
    Ok(arg.to_owned())
}

/// Runs `lienthong sign`.
pub fn sign(args: SignArgs) -> anyhow::Result<ExitCode> {
    let body = std::fs::read(&args.file).with_context(|| format!("reading {}", args.file.display()))?;
    let mut id = SigningIdentity::load(&args.key, &args.chain)?;
    if let Some(name) = &args.algorithm {
        let alg = SignatureAlgorithm::from_name(name).with_context(|| format!("unknown algorithm {name}"))?;
        id = id.with_algorithm(alg)?;
    }
    let out = if is_xml(&body) && !args.jws {
        let c14n = match args.c14n {
            C14nName::Exc => Algorithm::Exclusive { comments: false, inclusive_prefixes: Vec::new() },
            C14nName::ExcComments => Algorithm::Exclusive { comments: true, inclusive_prefixes: Vec::new() },
            C14nName::Inc => Algorithm::Inclusive { comments: false },
            C14nName::IncComments => Algorithm::Inclusive { comments: true },
        };
        let reference = match args.reference {
            ReferenceName::Whole => ReferenceStyle::WholeDocument,
            ReferenceName::Id => ReferenceStyle::RootId,
        };
        schemas::dsig::sign_xml(&body, &id, &XmlSignOptions { c14n, reference })?
    } else {
        let mut s = schemas::jws::sign_detached(&body, &id, chrono::Utc::now().timestamp())?;
        s.push('\n');
        s.into_bytes()
    };
    match &args.output {
        Some(p) => std::fs::write(p, &out).with_context(|| format!("writing {}", p.display()))?,
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
