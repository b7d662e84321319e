//! The library's own certificate chain, so Content Credentials can be
//! signed offline with the keys Assay already holds: a CA per library
//! (ed25519) issues each signer an end-entity certificate with the
//! profile C2PA validators require (digitalSignature key usage, the
//! emailProtection extended key usage, authority and subject key
//! identifiers). A self-signed leaf alone is refused by validators.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SignatureAlgorithm, PKCS_ED25519,
};

/// Text offered as trust anchors is not what it should be.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("no PEM certificate in it")]
    Empty,
    #[error("certificate {index}: {reason}")]
    Certificate { index: usize, reason: String },
}

/// The subjects (common name, else the whole name) of the PEM certificates
/// in `pem`, in order: each block must be a well-formed X.509 certificate.
pub fn anchor_subjects(pem: &str) -> Result<Vec<String>, AnchorError> {
    let blocks = pem::parse_many(pem).map_err(|e| AnchorError::Certificate {
        index: 1,
        reason: e.to_string(),
    })?;
    let mut subjects = Vec::new();
    for (i, block) in blocks
        .iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .enumerate()
    {
        let bad = |reason: String| AnchorError::Certificate {
            index: i + 1,
            reason,
        };
        let (_, cert) = x509_parser::parse_x509_certificate(block.contents())
            .map_err(|e| bad(e.to_string()))?;
        let subject = cert.subject();
        let name = subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .map_or_else(|| subject.to_string(), str::to_owned);
        subjects.push(name);
    }
    if subjects.is_empty() {
        return Err(AnchorError::Empty);
    }
    Ok(subjects)
}

/// A certificate could not be made.
#[derive(Debug, thiserror::Error)]
#[error("making a certificate: {0}")]
pub struct CertError(#[from] rcgen::Error);

/// A library's certificate authority.
pub struct Authority {
    issuer: Issuer<'static, KeyPair>,
    certificate_pem: String,
}

fn name(common: &str, organization: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common);
    dn.push(DnType::OrganizationName, organization);
    dn
}

impl Authority {
    /// A new authority with a fresh ed25519 key, named for `library`.
    pub fn new(library: &str) -> Result<Authority, CertError> {
        let key = KeyPair::generate_for(&PKCS_ED25519)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = name(&format!("{library} certificate authority"), library);
        // Issues end-entity certificates only.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let certificate_pem = params.self_signed(&key)?.pem();
        Ok(Authority {
            issuer: Issuer::new(params, key),
            certificate_pem,
        })
    }

    /// The authority a library saved: its certificate and its private key
    /// (PKCS#8), both PEM.
    pub fn load(certificate_pem: &str, key_pem: &str) -> Result<Authority, CertError> {
        let key = KeyPair::from_pem(key_pem)?;
        // Ends with a line break, as a made one does, so chains and anchor
        // lists concatenate into PEM that parses.
        let mut certificate = certificate_pem.trim_end().to_owned();
        certificate.push('\n');
        Ok(Authority {
            issuer: Issuer::from_ca_cert_pem(&certificate, key)?,
            certificate_pem: certificate,
        })
    }

    /// The authority's private key (PKCS#8 PEM), to save beside its certificate.
    pub fn key_pem(&self) -> String {
        self.issuer.key().serialize_pem()
    }

    /// The authority's certificate (PEM): the trust anchor a buyer adds.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// The certificate chain (PEM, the end entity first) of `user` of
    /// `organization` for their ed25519 public key: the key Assay already
    /// holds for them signs, and this certificate names it.
    pub fn issue(
        &self,
        user: &str,
        organization: &str,
        public_key: &[u8; 32],
    ) -> Result<String, CertError> {
        let leaf = self.issue_for(user, organization, &Ed25519Public(*public_key))?;
        Ok(format!("{leaf}{}", self.certificate_pem))
    }

    fn issue_for(
        &self,
        user: &str,
        organization: &str,
        subject: &impl PublicKeyData,
    ) -> Result<String, CertError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = name(user, organization);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
        params.use_authority_key_identifier_extension = true;
        Ok(params.signed_by(subject, &self.issuer)?.pem())
    }

    /// A fresh signer of `user`: its private key (PKCS#8 PEM) and its
    /// certificate chain (PEM, the end entity first), for tests and
    /// fixtures.
    pub fn new_signer(
        &self,
        user: &str,
        organization: &str,
    ) -> Result<(String, String), CertError> {
        let key = KeyPair::generate_for(&PKCS_ED25519)?;
        let leaf = self.issue_for(user, organization, &key)?;
        Ok((
            key.serialize_pem(),
            format!("{leaf}{}", self.certificate_pem),
        ))
    }
}

/// A raw ed25519 public key, as a certificate's subject.
struct Ed25519Public([u8; 32]);

impl PublicKeyData for Ed25519Public {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ED25519
    }
}
