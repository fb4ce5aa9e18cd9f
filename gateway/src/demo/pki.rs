//! A throw-away PKI for the demo, made in memory (no openssl needed): one root
//! with an empty CRL, the demo portal's signing certificate and the gateway's.
//! Written under the demo's data directory so that `lienthong verify` can be
//! pointed at it afterwards. Nothing of it is trusted anywhere else.

use std::path::{Path, PathBuf};

use anyhow::Context;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose, SerialNumber,
};
use schemas::pki::{RevocationPolicy, SigningIdentity, TrustStore};

/// The demo's PKI.
pub struct DemoPki {
    /// Where its files are.
    pub dir: PathBuf,
    /// The demo portal's signing identity.
    pub portal: SigningIdentity,
    /// A trust store of the demo root, to check the gateway's receipts with.
    pub trust: TrustStore,
}

fn name(o: &str, cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "VN");
    dn.push(DnType::OrganizationName, o);
    dn.push(DnType::CommonName, cn);
    dn
}

fn leaf(o: &str, cn: &str, issuer: &Issuer<'_, &KeyPair>) -> anyhow::Result<(KeyPair, String)> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut p = CertificateParams::default();
    p.distinguished_name = name(o, cn);
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::ContentCommitment];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    p.use_authority_key_identifier_extension = true;
    let cert = p.signed_by(&key, issuer)?;
    Ok((key, cert.pem()))
}

/// Generates the PKI into `dir`.
pub fn generate(dir: &Path) -> anyhow::Result<DemoPki> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let root_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut root = CertificateParams::default();
    root.distinguished_name = name("Lienthong DEMO PKI - NOT TRUSTED", "Demo Root CA");
    root.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root_cert = root.self_signed(&root_key)?;
    let issuer = Issuer::new(root, &root_key);
    let (portal_key, portal_cert) = leaf("UBND Thành phố Hà Nội (demo)", "portal-hanoi", &issuer)?;
    let (gateway_key, gateway_cert) = leaf("Lienthong (demo)", "lienthong-gateway", &issuer)?;
    let crl = CertificateRevocationListParams {
        this_update: rcgen::date_time_ymd(2025, 1, 1),
        next_update: rcgen::date_time_ymd(2099, 12, 31),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: Vec::new(),
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)?;
    let write = |file: &str, text: &str| -> anyhow::Result<PathBuf> {
        let path = dir.join(file);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    write("root.pem", &root_cert.pem())?;
    write("crl.pem", &crl.pem()?)?;
    write("gateway.key.pem", &gateway_key.serialize_pem())?;
    write("gateway.chain.pem", &gateway_cert)?;
    write("portal.key.pem", &portal_key.serialize_pem())?;
    write("portal.chain.pem", &portal_cert)?;
    let portal = SigningIdentity::from_pem(portal_key.serialize_pem().as_bytes(), portal_cert.as_bytes())?;
    let trust = TrustStore::open(&[dir.join("root.pem")], &[dir.join("crl.pem")], RevocationPolicy::Require)?;
    Ok(DemoPki { dir: dir.to_owned(), portal, trust })
}
