//! A user's private key encrypted at rest.
//!
//! The secret-key file is JSON so it can be inspected and versioned:
//!
//! ```json
//! {"format":"assay-secret-key","version":1,"key_id":"ed25519:…",
//!  "kdf":{"alg":"argon2id","m_kib":65536,"t":3,"p":1,"salt":"…","check":"…"},
//!  "aead":{"alg":"xchacha20poly1305","nonce":"…"},
//!  "ciphertext":"…"}
//! ```
//!
//! The passphrase goes through argon2id to 64 bytes: the first half is the
//! XChaCha20-Poly1305 key, the second half is hashed into `kdf.check`. That
//! check tells a wrong passphrase from a damaged file; it gives an attacker
//! nothing the ciphertext does not, since either one confirms a guess only
//! after the same argon2id work. `key_id` is the AEAD's associated data, so
//! a file cannot be relabelled as another user's key.

use std::io;
use std::path::Path;

use argon2::{Algorithm, Argon2, Params, Version};
use assay_fsio::atomic::{self, Existing};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::SigningKey;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::{key_id, KeyError, KeyId};

const FORMAT: &str = "assay-secret-key";
const VERSION: u64 = 1;
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
/// Ceilings on what a key file may ask of the KDF, so a damaged or hostile
/// file cannot make reading it allocate gigabytes or run for hours.
pub(super) const MAX_M_KIB: u32 = 4 * 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 64;

/// argon2id cost parameters for the secret-key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    pub m_kib: u32,
    pub t: u32,
    pub p: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: roughly a quarter of a second per unlock.
    fn default() -> Self {
        KdfParams {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }
}

impl KdfParams {
    /// Cheap parameters that make test suites fast. Never for real keys.
    pub const FAST_FOR_TESTS: KdfParams = KdfParams {
        m_kib: 256,
        t: 1,
        p: 1,
    };

    /// The defaults, or [`KdfParams::FAST_FOR_TESTS`] when `ASSAY_KDF_FAST=1`
    /// in a build with debug assertions. The variable exists for test suites
    /// that create many users through the CLI; a key written under it is
    /// easy to brute-force, so a release build never honours it.
    pub fn from_env() -> Self {
        if cfg!(debug_assertions) {
            Self::from_env_value(std::env::var("ASSAY_KDF_FAST").ok().as_deref())
        } else {
            Self::default()
        }
    }

    pub(super) fn from_env_value(value: Option<&str>) -> Self {
        match value {
            Some("1") => Self::FAST_FOR_TESTS,
            _ => Self::default(),
        }
    }

    fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Zeroizing<[u8; 64]>, KeyError> {
        let err = |reason: String| KeyError::KdfParams {
            m_kib: self.m_kib,
            t: self.t,
            p: self.p,
            reason,
        };
        let params =
            Params::new(self.m_kib, self.t, self.p, Some(64)).map_err(|e| err(e.to_string()))?;
        let mut out = Zeroizing::new([0u8; 64]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase, salt, out.as_mut())
            .map_err(|e| err(e.to_string()))?;
        Ok(out)
    }
}

fn check_value(derived: &[u8; 64]) -> [u8; CHECK_LEN] {
    let mut h = Sha256::new();
    h.update(b"assay-secret-key passphrase check\0");
    h.update(&derived[32..]);
    let digest = h.finalize();
    let mut check = [0u8; CHECK_LEN];
    check.copy_from_slice(&digest[..CHECK_LEN]);
    check
}

fn random_bytes<const N: usize>() -> Result<[u8; N], KeyError> {
    let mut bytes = [0u8; N];
    OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(|e| KeyError::Random(e.to_string()))?;
    Ok(bytes)
}

/// Encrypts `key` under `passphrase` and writes it to `path` (mode 0600 on
/// Unix), never replacing an existing file.
pub fn write_secret_key(
    path: &Path,
    key: &SigningKey,
    passphrase: &[u8],
    kdf: &KdfParams,
) -> Result<(), KeyError> {
    if path.exists() {
        return Err(KeyError::Exists {
            path: path.to_owned(),
        });
    }
    write_key_file(path, &sealed(path, key, passphrase, kdf)?, false)
}

/// Encrypts `key` again under `passphrase` and replaces the key file at
/// `path` in one rename: a crash leaves the old file or the new one, never
/// neither. The key itself, and so its id, stays the same.
pub fn rewrite_secret_key(
    path: &Path,
    key: &SigningKey,
    passphrase: &[u8],
    kdf: &KdfParams,
) -> Result<(), KeyError> {
    write_key_file(path, &sealed(path, key, passphrase, kdf)?, true)
}

/// The bytes of a key file holding `key` under `passphrase`, for `path`.
fn sealed(
    path: &Path,
    key: &SigningKey,
    passphrase: &[u8],
    kdf: &KdfParams,
) -> Result<Vec<u8>, KeyError> {
    if passphrase.is_empty() {
        return Err(KeyError::EmptyPassphrase);
    }
    let doc = seal(key, passphrase, kdf, &key_id(&key.verifying_key()))?;
    let mut bytes = serde_json::to_vec_pretty(&doc).map_err(|e| KeyError::Io {
        action: "encoding",
        path: path.to_owned(),
        source: e.into(),
    })?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Builds the key file document; `claimed` is a parameter only so tests can
/// forge a file whose label does not match its key.
pub(super) fn seal(
    key: &SigningKey,
    passphrase: &[u8],
    kdf: &KdfParams,
    claimed: &KeyId,
) -> Result<Value, KeyError> {
    let salt: [u8; SALT_LEN] = random_bytes()?;
    let nonce: [u8; 24] = random_bytes()?;
    let derived = kdf.derive(passphrase, &salt)?;
    let cipher = XChaCha20Poly1305::new_from_slice(&derived[..32])
        .map_err(|_| KeyError::Cipher("the derived key has the wrong length"))?;
    let seed = Zeroizing::new(key.to_bytes());
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: seed.as_ref(),
                aad: claimed.as_str().as_bytes(),
            },
        )
        .map_err(|_| KeyError::Cipher("the AEAD refused the plaintext"))?;
    Ok(json!({
        "format": FORMAT,
        "version": VERSION,
        "key_id": claimed,
        "kdf": {
            "alg": "argon2id",
            "m_kib": kdf.m_kib,
            "t": kdf.t,
            "p": kdf.p,
            "salt": B64.encode(salt),
            "check": B64.encode(check_value(&derived)),
        },
        "aead": {
            "alg": "xchacha20poly1305",
            "nonce": B64.encode(nonce),
        },
        "ciphertext": B64.encode(ciphertext),
    }))
}

/// Writes a key file through [`atomic::write_secret`] (0600, fsynced, put
/// in place in one step). A new key is linked into place, so a file that
/// appeared meanwhile is not replaced; with `replace` it is renamed over the
/// existing one.
fn write_key_file(path: &Path, bytes: &[u8], replace: bool) -> Result<(), KeyError> {
    let existing = if replace {
        Existing::Replace
    } else {
        Existing::Keep
    };
    atomic::write_secret(path, bytes, existing).map_err(|source| {
        if !replace && source.kind() == io::ErrorKind::AlreadyExists {
            KeyError::Exists {
                path: path.to_owned(),
            }
        } else {
            KeyError::Io {
                action: if replace { "replacing" } else { "writing" },
                path: path.to_owned(),
                source,
            }
        }
    })
}

/// Reads and decrypts a key file written by [`write_secret_key`].
pub fn read_secret_key(path: &Path, passphrase: &[u8]) -> Result<SigningKey, KeyError> {
    let bytes = assay_fsio::secret::read_secret(path).map_err(|source| KeyError::Io {
        action: "reading",
        path: path.to_owned(),
        source,
    })?;
    let file = KeyFile::parse(path, &bytes)?;
    let derived = file.kdf.derive(passphrase, &file.salt)?;
    if check_value(&derived) != file.check {
        return Err(KeyError::WrongPassphrase {
            key_id: file.key_id,
            path: path.to_owned(),
        });
    }
    let tampered = || KeyError::Tampered {
        key_id: file.key_id.clone(),
        path: path.to_owned(),
    };
    let cipher = XChaCha20Poly1305::new_from_slice(&derived[..32]).map_err(|_| tampered())?;
    let seed = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(&file.nonce),
                Payload {
                    msg: &file.ciphertext,
                    aad: file.key_id.as_str().as_bytes(),
                },
            )
            .map_err(|_| tampered())?,
    );
    let seed: Zeroizing<[u8; 32]> =
        Zeroizing::new(seed.as_slice().try_into().map_err(|_| tampered())?);
    let key = SigningKey::from_bytes(&seed);
    let actual = key_id(&key.verifying_key());
    if actual != file.key_id {
        return Err(KeyError::KeyMismatch {
            path: path.to_owned(),
            claimed: file.key_id,
            actual,
        });
    }
    Ok(key)
}

/// The fields of a key file, each checked and decoded.
struct KeyFile {
    key_id: KeyId,
    kdf: KdfParams,
    salt: Vec<u8>,
    check: [u8; CHECK_LEN],
    nonce: [u8; 24],
    ciphertext: Vec<u8>,
}

impl KeyFile {
    fn parse(path: &Path, bytes: &[u8]) -> Result<Self, KeyError> {
        let bad = |field: &'static str, reason: String| KeyError::Malformed {
            path: path.to_owned(),
            field,
            reason,
        };
        let doc: Value = serde_json::from_slice(bytes)
            .map_err(|e| bad("(document)", format!("is not JSON: {e}")))?;
        if !doc.is_object() {
            return Err(bad("(document)", "is not a JSON object".to_owned()));
        }
        let get = |field: &'static str| {
            field
                .split('.')
                .try_fold(&doc, |v, part| v.get(part))
                .ok_or_else(|| bad(field, "is missing".to_owned()))
        };
        let text = |field: &'static str| {
            get(field)?
                .as_str()
                .ok_or_else(|| bad(field, "is not a string".to_owned()))
        };
        let number = |field: &'static str, max: u32| {
            get(field)?
                .as_u64()
                .filter(|&n| (1..=u64::from(max)).contains(&n))
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| bad(field, format!("is not a whole number from 1 to {max}")))
        };
        let base64 = |field: &'static str| {
            B64.decode(text(field)?)
                .map_err(|e| bad(field, format!("is not base64: {e}")))
        };
        let expect = |field: &'static str, want: &str| {
            let got = text(field)?;
            if got == want {
                Ok(())
            } else {
                Err(bad(
                    field,
                    format!("is {got:?}, this build reads only {want:?}"),
                ))
            }
        };

        expect("format", FORMAT)?;
        match get("version")?.as_u64() {
            Some(VERSION) => {}
            _ => {
                return Err(bad(
                    "version",
                    format!(
                        "is {}, this build reads only version {VERSION}",
                        get("version")?
                    ),
                ))
            }
        }
        expect("kdf.alg", "argon2id")?;
        expect("aead.alg", "xchacha20poly1305")?;
        let key_id: KeyId = text("key_id")?
            .parse()
            .map_err(|e: KeyError| bad("key_id", format!("is {e}")))?;
        let kdf = KdfParams {
            m_kib: number("kdf.m_kib", MAX_M_KIB)?,
            t: number("kdf.t", MAX_T)?,
            p: number("kdf.p", MAX_P)?,
        };
        let salt = base64("kdf.salt")?;
        if salt.len() < 8 {
            return Err(bad(
                "kdf.salt",
                format!("is {} bytes, at least 8 are needed", salt.len()),
            ));
        }
        let check = base64("kdf.check")?.try_into().map_err(|v: Vec<u8>| {
            bad(
                "kdf.check",
                format!("is {} bytes, not {CHECK_LEN}", v.len()),
            )
        })?;
        let nonce = base64("aead.nonce")?
            .try_into()
            .map_err(|v: Vec<u8>| bad("aead.nonce", format!("is {} bytes, not 24", v.len())))?;
        let ciphertext = base64("ciphertext")?;
        Ok(KeyFile {
            key_id,
            kdf,
            salt,
            check,
            nonce,
            ciphertext,
        })
    }
}
