//! The library's certificate authority, for Content Credentials: made at
//! set-up, it issues each signer an X.509 certificate for the ed25519 key
//! the identity ledger grants them, so C2PA validators accept what Assay
//! signs, offline. A buyer who adds its certificate as a trust anchor sees
//! the library's signers as trusted.
//!
//! It lives in `keys/library-ca.pem`: the certificate and its private key
//! in one file, written once and never replaced, so two processes making
//! it at once cannot leave a certificate beside another's key. Like the
//! library key it is not passphrase-locked: it only vouches for keys the
//! ledger already names, and each signature is still made with the
//! signer's own locked key.

use std::path::Path;

use assay_credentials::{anchor_subjects, Authority, TrustAnchors};
use assay_fsio::atomic::{self, Existing};

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::keys;
use crate::identity::users::Actor;

const AUTHORITY_FILE: &str = "library-ca.pem";
/// Certificates the library's users trust besides its own authority: PEM,
/// in the library folder (public, unlike `keys/`).
pub const TRUST_ANCHORS_FILE: &str = "trust-anchors.pem";

impl Library {
    /// The library's authority, made on first use.
    pub(crate) fn authority(&self) -> Result<Authority> {
        let dir = self.keys_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(AUTHORITY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => load(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let made = Authority::new(&self.organization()?)
                    .map_err(|e| Error::Internal(e.to_string()))?;
                let text = format!(
                    "# Assay library certificate authority: the certificate, then its private key. Keep private.\n{}{}",
                    made.certificate_pem(),
                    made.key_pem()
                );
                match atomic::write_secret(&path, text.as_bytes(), Existing::Keep) {
                    Ok(()) => Ok(made),
                    // Another process made it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text =
                            std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
                        load(&path, &text)
                    }
                    Err(e) => Err(Error::io(&path, e)),
                }
            }
            Err(e) => Err(Error::io(&path, e)),
        }
    }

    /// The authority's certificate (PEM): the trust anchor a buyer adds to
    /// see this library's signers as trusted (`assay c2pa trust`).
    pub fn trust_anchor(&self) -> Result<String> {
        Ok(self.authority()?.certificate_pem().to_owned())
    }

    /// What Content Credentials read at import are trusted by: the
    /// library's own authority, and the certificates added with
    /// [`Library::add_trust_anchors`]. A signer chaining to one reads as
    /// `trusted`.
    pub(crate) fn trust_anchors(&self) -> Result<TrustAnchors> {
        let mut pem = self.authority()?.certificate_pem().to_owned();
        let path = self.root().join(TRUST_ANCHORS_FILE);
        match std::fs::read_to_string(&path) {
            Ok(added) => {
                anchor_subjects(&added)
                    .map_err(|e| Error::bad_file(&path, format!("{}: {e}", path.display())))?;
                pem.push_str(&added);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        Ok(TrustAnchors { pem: Some(pem) })
    }

    /// Adds the PEM certificates of `pem` to the library's trust anchors
    /// (an administrator's or rights manager's call: it changes what reads
    /// as `trusted`), and returns their subjects. Nothing is added unless
    /// every block is a certificate.
    pub fn add_trust_anchors(&self, actor: &Actor, pem: &str) -> Result<Vec<String>> {
        actor
            .may(crate::identity::roles::Action::ManageUsers)
            .or_else(|_| actor.may(crate::identity::roles::Action::Approve))?;
        let subjects = anchor_subjects(pem)
            .map_err(|e| Error::invalid_value("trust anchors", e.to_string()))?;
        let path = self.root().join(TRUST_ANCHORS_FILE);
        let mut text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io(&path, e)),
        };
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(pem.trim());
        text.push('\n');
        atomic::write(&path, text.as_bytes()).map_err(|e| Error::io(&path, e))?;
        Ok(subjects)
    }

    /// The organization the authority and its certificates name: the
    /// library, by its key's fingerprint.
    fn organization(&self) -> Result<String> {
        let key_id = keys::key_id(&self.library_public_key()?);
        let hex = key_id.as_str().trim_start_matches("ed25519:");
        Ok(format!("Assay library {}", hex.get(..12).unwrap_or(hex)))
    }

    /// `actor`'s certificate chain (PEM, theirs first) for the key they
    /// unlocked, as the ledger grants it.
    pub(crate) fn signer_chain(&self, actor: &Actor) -> Result<String> {
        self.authority()?
            .issue(
                actor.name(),
                &self.organization()?,
                actor.key.verifying_key().as_bytes(),
            )
            .map_err(|e| Error::Internal(e.to_string()))
    }
}

fn load(path: &Path, text: &str) -> Result<Authority> {
    let block = |tag: &str| {
        let begin = format!("-----BEGIN {tag}-----");
        let end = format!("-----END {tag}-----");
        let start = text.find(&begin)?;
        let stop = text[start..].find(&end)? + start + end.len();
        Some(&text[start..stop])
    };
    let (Some(certificate), Some(key)) = (block("CERTIFICATE"), block("PRIVATE KEY")) else {
        return Err(Error::bad_file(
            path,
            format!(
                "{}: not an Assay certificate authority (a certificate and a private key, PEM)",
                path.display()
            ),
        ));
    };
    Authority::load(certificate, key)
        .map_err(|e| Error::bad_file(path, format!("{}: {e}", path.display())))
}
