//! User identities: ed25519 key pairs, their fingerprints, the public key
//! in forms other tools accept, and the private key encrypted at rest.
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

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256, Sha512};
use zeroize::Zeroizing;

use crate::fsio::atomic::{self, Existing};

const FORMAT: &str = "assay-secret-key";
const VERSION: u64 = 1;
const KEY_ID_PREFIX: &str = "ed25519:";
const SALT_LEN: usize = 16;
const CHECK_LEN: usize = 16;
/// Ceilings on what a key file may ask of the KDF, so a damaged or hostile
/// file cannot make reading it allocate gigabytes or run for hours.
const MAX_M_KIB: u32 = 4 * 1024 * 1024;
const MAX_T: u32 = 64;
const MAX_P: u32 = 64;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{action} key file {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("key file {path} already exists; refusing to overwrite it")]
    Exists { path: PathBuf },
    #[error("key file {path}: field `{field}` {reason}")]
    Malformed {
        path: PathBuf,
        field: &'static str,
        reason: String,
    },
    #[error("wrong passphrase for key {key_id} (key file {path})")]
    WrongPassphrase { key_id: KeyId, path: PathBuf },
    #[error("key file {path} is damaged or was tampered with: the passphrase is right but the encrypted key for {key_id} does not authenticate")]
    Tampered { key_id: KeyId, path: PathBuf },
    #[error("key file {path} claims key {claimed} but holds key {actual}")]
    KeyMismatch {
        path: PathBuf,
        claimed: KeyId,
        actual: KeyId,
    },
    #[error("an empty passphrase cannot protect a private key")]
    EmptyPassphrase,
    #[error("argon2id parameters m_kib={m_kib} t={t} p={p} are not usable: {reason}")]
    KdfParams {
        m_kib: u32,
        t: u32,
        p: u32,
        reason: String,
    },
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error("encrypting the private key failed: {0}")]
    Cipher(&'static str),
    #[error("not a public key: {0}")]
    InvalidPublicKey(String),
    #[error("not a key id: {0:?} (expected \"ed25519:\" and 32 lowercase hex digits)")]
    InvalidKeyId(String),
}

impl KeyError {
    /// A stable, machine-readable code for UIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::Io { .. } => "io",
            KeyError::Exists { .. } => "key_exists",
            KeyError::Malformed { .. } => "key_file_malformed",
            KeyError::WrongPassphrase { .. } => "wrong_passphrase",
            KeyError::Tampered { .. } => "key_file_tampered",
            KeyError::KeyMismatch { .. } => "key_mismatch",
            KeyError::EmptyPassphrase => "empty_passphrase",
            KeyError::KdfParams { .. } => "kdf_params",
            KeyError::Random(_) => "random",
            KeyError::Cipher(_) => "cipher",
            KeyError::InvalidPublicKey(_) => "invalid_public_key",
            KeyError::InvalidKeyId(_) => "invalid_key_id",
        }
    }
}

/// The fingerprint of a public key: `ed25519:` and the lowercase hex of the
/// first 16 bytes of SHA-256 over the raw 32-byte key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct KeyId(String);

impl KeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyId {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, KeyError> {
        let hex_part = s
            .strip_prefix(KEY_ID_PREFIX)
            .filter(|h| h.len() == 32)
            .filter(|h| h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
        match hex_part {
            Some(_) => Ok(KeyId(s.to_owned())),
            None => Err(KeyError::InvalidKeyId(s.to_owned())),
        }
    }
}

impl TryFrom<String> for KeyId {
    type Error = KeyError;

    fn try_from(s: String) -> Result<Self, KeyError> {
        s.parse()
    }
}

impl From<KeyId> for String {
    fn from(id: KeyId) -> String {
        id.0
    }
}

pub fn key_id(key: &VerifyingKey) -> KeyId {
    let digest = Sha256::digest(key.as_bytes());
    KeyId(format!("{KEY_ID_PREFIX}{}", hex::encode(&digest[..16])))
}

/// A signing key ready to sign many messages: the expanded secret (a SHA-512
/// of the seed, which `SigningKey::sign` derives again for every signature)
/// is computed once. The signatures are the same, byte for byte.
pub struct PreparedKey {
    expanded: ExpandedSecretKey,
    public: VerifyingKey,
}

impl PreparedKey {
    pub fn new(key: &SigningKey) -> PreparedKey {
        PreparedKey {
            expanded: ExpandedSecretKey::from(key.as_bytes()),
            public: key.verifying_key(),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        raw_sign::<Sha512>(&self.expanded, message, &self.public)
    }

    pub fn verifying_key(&self) -> &VerifyingKey {
        &self.public
    }
}

/// A new key pair from the operating system's random number generator.
pub fn generate() -> SigningKey {
    SigningKey::generate(&mut OsRng)
}

/// The public key as an SPKI PEM block (`-----BEGIN PUBLIC KEY-----`),
/// the form openssl and most other tools read.
pub fn public_key_pem(key: &VerifyingKey) -> String {
    // Encoding 32 bytes into a fixed SPKI structure cannot fail; fall back on
    // the compact form rather than panic if the encoder ever disagrees.
    key.to_public_key_pem(LineEnding::LF)
        .unwrap_or_else(|_| public_key_compact(key))
}

/// The public key on one line: `ed25519:` and the base64 of its 32 bytes.
pub fn public_key_compact(key: &VerifyingKey) -> String {
    format!("{KEY_ID_PREFIX}{}", B64.encode(key.as_bytes()))
}

/// Reads a public key given as SPKI PEM or as `ed25519:<base64>`.
pub fn parse_public_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let text = text.trim();
    let bad = |why: &str| KeyError::InvalidPublicKey(why.to_owned());
    if text.is_empty() {
        return Err(bad("the text is empty"));
    }
    let key = if text.starts_with("-----BEGIN") {
        if text.contains("PRIVATE KEY") {
            return Err(bad(
                "this PEM block holds a private key; give the public key (never share the private one)",
            ));
        }
        if !text.starts_with("-----BEGIN PUBLIC KEY-----") {
            return Err(bad("expected a \"-----BEGIN PUBLIC KEY-----\" PEM block"));
        }
        VerifyingKey::from_public_key_pem(text).map_err(|e| {
            KeyError::InvalidPublicKey(format!("the PEM block is not an ed25519 public key ({e})"))
        })?
    } else if let Some(b64) = text.strip_prefix(KEY_ID_PREFIX) {
        if KeyId::from_str(text).is_ok() {
            return Err(bad(
                "this is a key id (a fingerprint), not a key; print the key with `assay user key NAME`",
            ));
        }
        let raw = B64.decode(b64).map_err(|e| {
            KeyError::InvalidPublicKey(format!("the part after \"ed25519:\" is not base64 ({e})"))
        })?;
        let raw: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
            KeyError::InvalidPublicKey(format!(
                "an ed25519 public key is 32 bytes, this one is {}",
                raw.len()
            ))
        })?;
        VerifyingKey::from_bytes(&raw)
            .map_err(|_| bad("the 32 bytes are not a point on the ed25519 curve"))?
    } else {
        return Err(bad(
            "expected a \"-----BEGIN PUBLIC KEY-----\" PEM block or \"ed25519:<base64>\"",
        ));
    };
    // A small-order key verifies forged signatures; no honest key is one.
    if key.is_weak() {
        return Err(bad("this is a weak (small-order) ed25519 key"));
    }
    Ok(key)
}

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

    /// The defaults, or [`KdfParams::FAST_FOR_TESTS`] when `ASSAY_KDF_FAST=1`.
    /// The variable exists for test suites that create many users through
    /// the CLI; a key written under it is easy to brute-force.
    pub fn from_env() -> Self {
        Self::from_env_value(std::env::var("ASSAY_KDF_FAST").ok().as_deref())
    }

    fn from_env_value(value: Option<&str>) -> Self {
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
fn seal(
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
    let bytes = fs::read(path).map_err(|source| KeyError::Io {
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

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, Verifier};

    const FAST: KdfParams = KdfParams::FAST_FOR_TESTS;

    fn fixed_key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn written(dir: &tempfile::TempDir, key: &SigningKey, pass: &[u8]) -> PathBuf {
        let path = dir.path().join("alice.key");
        write_secret_key(&path, key, pass, &FAST).unwrap();
        path
    }

    /// Rewrites one field of a key file on disk.
    fn tamper(path: &Path, pointer: &str, value: Value) {
        let mut doc: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        *doc.pointer_mut(pointer).unwrap() = value;
        fs::write(path, serde_json::to_vec(&doc).unwrap()).unwrap();
    }

    fn field(path: &Path, pointer: &str) -> String {
        let doc: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        doc.pointer(pointer).unwrap().as_str().unwrap().to_owned()
    }

    fn flip_first_byte(b64: &str) -> String {
        let mut raw = B64.decode(b64).unwrap();
        raw[0] ^= 1;
        B64.encode(raw)
    }

    #[test]
    fn a_prepared_key_signs_exactly_as_the_signing_key_does() {
        use ed25519_dalek::Signer as _;
        let key = fixed_key();
        let prepared = PreparedKey::new(&key);
        assert_eq!(prepared.verifying_key(), &key.verifying_key());
        for message in [&b""[..], b"event", &[0xffu8; 300]] {
            assert_eq!(prepared.sign(message), key.sign(message));
        }
    }

    #[test]
    fn key_id_is_a_truncated_sha256_fingerprint() {
        let vk = fixed_key().verifying_key();
        let id = key_id(&vk);
        let digest = Sha256::digest(vk.as_bytes());
        assert_eq!(
            id.to_string(),
            format!("ed25519:{}", hex::encode(&digest[..16]))
        );
        assert_eq!(id.as_str().len(), "ed25519:".len() + 32);
        assert_eq!(key_id(&vk), id);
        assert_ne!(key_id(&generate().verifying_key()), id);
    }

    #[test]
    fn key_id_parses_only_its_own_form() {
        let id = key_id(&fixed_key().verifying_key());
        assert_eq!(id.as_str().parse::<KeyId>().unwrap(), id);
        let upper = id.as_str().to_uppercase().replace("ED25519", "ed25519");
        for bad in [
            "",
            "ed25519:",
            "ed25519:abc",
            upper.as_str(),
            &id.as_str().replace("ed25519", "rsa"),
            &format!("{}00", id.as_str()),
            &id.as_str()[..id.as_str().len() - 1],
            &format!("{}g", &id.as_str()[..id.as_str().len() - 1]),
        ] {
            if bad == id.as_str() {
                continue;
            }
            let err = bad.parse::<KeyId>().unwrap_err();
            assert_eq!(err.code(), "invalid_key_id", "{bad:?}");
        }
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(serde_json::from_str::<KeyId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<KeyId>("\"ed25519:nothex\"").is_err());
    }

    #[test]
    fn generated_keys_differ_and_sign() {
        let a = generate();
        let b = generate();
        assert_ne!(a.to_bytes(), b.to_bytes());
        let sig = a.sign(b"event");
        assert!(a.verifying_key().verify(b"event", &sig).is_ok());
        assert!(b.verifying_key().verify(b"event", &sig).is_err());
    }

    #[test]
    fn public_key_forms_round_trip() {
        let vk = generate().verifying_key();
        let pem = public_key_pem(&vk);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"), "{pem}");
        assert!(pem.trim_end().ends_with("-----END PUBLIC KEY-----"));
        assert_eq!(parse_public_key(&pem).unwrap(), vk);
        assert_eq!(parse_public_key(&format!("\n  {pem}\n")).unwrap(), vk);
        let compact = public_key_compact(&vk);
        assert!(compact.starts_with("ed25519:"));
        assert_eq!(parse_public_key(&compact).unwrap(), vk);
    }

    #[test]
    fn parse_public_key_says_what_is_wrong() {
        let vk = fixed_key().verifying_key();
        let cases: Vec<(String, &str)> = vec![
            (String::new(), "empty"),
            ("hello".into(), "expected"),
            (key_id(&vk).to_string(), "key id"),
            ("ed25519:!!!".into(), "not base64"),
            (format!("ed25519:{}", B64.encode([1u8; 31])), "is 31"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into(),
                "private key",
            ),
            (
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----".into(),
                "BEGIN PUBLIC KEY",
            ),
            (
                "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".into(),
                "not an ed25519 public key",
            ),
            // The identity point: small order, so weak.
            (
                format!(
                    "ed25519:{}",
                    B64.encode({
                        let mut b = [0u8; 32];
                        b[0] = 1;
                        b
                    })
                ),
                "weak",
            ),
        ];
        for (text, want) in cases {
            let err = parse_public_key(&text).unwrap_err();
            assert_eq!(err.code(), "invalid_public_key");
            assert!(err.to_string().contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn openssl_reads_the_pem() {
        let Ok(out) = std::process::Command::new("openssl")
            .arg("version")
            .output()
        else {
            eprintln!("skipped: openssl is not on PATH, so the PEM cannot be checked against it");
            return;
        };
        assert!(out.status.success());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pub.pem");
        let vk = generate().verifying_key();
        fs::write(&path, public_key_pem(&vk)).unwrap();
        let out = std::process::Command::new("openssl")
            .args(["pkey", "-pubin", "-noout", "-text", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "openssl refused the PEM: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.contains("ED25519"), "{text}");
        // openssl prints the raw key as colon-separated hex.
        let printed: String = text
            .lines()
            .skip_while(|l| !l.starts_with("pub:"))
            .skip(1)
            .flat_map(|l| l.trim().split(':').map(str::to_owned).collect::<Vec<_>>())
            .collect();
        assert_eq!(printed, hex::encode(vk.as_bytes()));
    }

    #[test]
    fn secret_key_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let key = generate();
        let path = written(&dir, &key, b"correct horse");
        let back = read_secret_key(&path, b"correct horse").unwrap();
        assert_eq!(back.to_bytes(), key.to_bytes());
        let doc: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(doc["format"], "assay-secret-key");
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["key_id"], key_id(&key.verifying_key()).as_str());
        assert_eq!(doc["kdf"]["alg"], "argon2id");
        assert_eq!(doc["kdf"]["m_kib"], 256);
        assert_eq!(doc["aead"]["alg"], "xchacha20poly1305");
        // The seed never appears in the file in any plain encoding.
        let text = String::from_utf8(fs::read(&path).unwrap()).unwrap();
        assert!(!text.contains(&B64.encode(key.to_bytes())));
        assert!(!text.contains(&hex::encode(key.to_bytes())));
    }

    #[test]
    fn default_params_are_strong_and_work() {
        let kdf = KdfParams::default();
        assert_eq!((kdf.m_kib, kdf.t, kdf.p), (65536, 3, 1));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("strong.key");
        let key = fixed_key();
        write_secret_key(&path, &key, b"pw", &kdf).unwrap();
        assert_eq!(
            read_secret_key(&path, b"pw").unwrap().to_bytes(),
            key.to_bytes()
        );
    }

    #[test]
    fn fast_params_only_from_the_env_switch() {
        assert_eq!(
            KdfParams::from_env_value(Some("1")),
            KdfParams::FAST_FOR_TESTS
        );
        assert_eq!(KdfParams::from_env_value(None), KdfParams::default());
        assert_eq!(KdfParams::from_env_value(Some("0")), KdfParams::default());
        assert_eq!(KdfParams::from_env_value(Some("yes")), KdfParams::default());
    }

    #[test]
    fn wrong_passphrase_names_the_key_not_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let key = fixed_key();
        let path = written(&dir, &key, b"right");
        let err = read_secret_key(&path, b"wrong").unwrap_err();
        assert!(matches!(err, KeyError::WrongPassphrase { .. }), "{err:?}");
        let msg = err.to_string();
        let id = key_id(&key.verifying_key());
        assert!(
            msg.starts_with(&format!("wrong passphrase for key {id}")),
            "{msg}"
        );
        assert!(msg.contains("alice.key"), "{msg}");
        let debug = format!("{err:?}");
        for secret in [hex::encode(key.to_bytes()), B64.encode(key.to_bytes())] {
            assert!(!msg.contains(&secret) && !debug.contains(&secret));
        }
        assert_eq!(
            read_secret_key(&path, b"").unwrap_err().code(),
            "wrong_passphrase"
        );
    }

    #[test]
    fn tampered_ciphertext_or_nonce_is_not_a_wrong_passphrase() {
        for pointer in ["/ciphertext", "/aead/nonce"] {
            let dir = tempfile::tempdir().unwrap();
            let path = written(&dir, &fixed_key(), b"pw");
            let flipped = flip_first_byte(&field(&path, pointer));
            tamper(&path, pointer, Value::String(flipped));
            let err = read_secret_key(&path, b"pw").unwrap_err();
            assert!(
                matches!(err, KeyError::Tampered { .. }),
                "{pointer}: {err:?}"
            );
            assert!(err.to_string().contains("tampered"), "{err}");
        }
    }

    #[test]
    fn tampered_key_id_fails_authentication() {
        let dir = tempfile::tempdir().unwrap();
        let path = written(&dir, &fixed_key(), b"pw");
        let other = key_id(&generate().verifying_key());
        tamper(&path, "/key_id", Value::String(other.to_string()));
        let err = read_secret_key(&path, b"pw").unwrap_err();
        assert!(
            matches!(err, KeyError::Tampered { ref key_id, .. } if *key_id == other),
            "{err:?}"
        );
    }

    #[test]
    fn tampered_kdf_inputs_read_as_a_wrong_passphrase() {
        // Salt and cost are inputs to the derivation, so changing them is
        // indistinguishable from changing the passphrase.
        for (pointer, value) in [
            ("/kdf/salt", None),
            ("/kdf/t", Some(json!(2))),
            ("/kdf/m_kib", Some(json!(512))),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let path = written(&dir, &fixed_key(), b"pw");
            let value =
                value.unwrap_or_else(|| Value::String(flip_first_byte(&field(&path, pointer))));
            tamper(&path, pointer, value);
            let err = read_secret_key(&path, b"pw").unwrap_err();
            assert_eq!(err.code(), "wrong_passphrase", "{pointer}: {err}");
        }
    }

    #[test]
    fn a_relabelled_key_is_caught_after_decryption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("forged.key");
        let key = fixed_key();
        let claimed = key_id(&generate().verifying_key());
        let doc = seal(&key, b"pw", &FAST, &claimed).unwrap();
        fs::write(&path, serde_json::to_vec(&doc).unwrap()).unwrap();
        let err = read_secret_key(&path, b"pw").unwrap_err();
        match err {
            KeyError::KeyMismatch {
                claimed: c, actual, ..
            } => {
                assert_eq!(c, claimed);
                assert_eq!(actual, key_id(&key.verifying_key()));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_files_name_the_file_and_field() {
        let cases: Vec<(&str, Option<Value>, &str)> = vec![
            ("/format", Some(json!("pgp")), "format"),
            ("/version", Some(json!(2)), "version"),
            ("/key_id", Some(json!("alice")), "key_id"),
            ("/kdf/alg", Some(json!("scrypt")), "kdf.alg"),
            (
                "/kdf/m_kib",
                Some(json!(u64::from(MAX_M_KIB) + 1)),
                "kdf.m_kib",
            ),
            ("/kdf/t", Some(json!(0)), "kdf.t"),
            ("/kdf/p", Some(json!("1")), "kdf.p"),
            ("/kdf/salt", Some(json!("***")), "kdf.salt"),
            ("/kdf/salt", Some(json!(B64.encode([0u8; 4]))), "kdf.salt"),
            ("/kdf/check", Some(json!(B64.encode([0u8; 3]))), "kdf.check"),
            ("/aead/alg", Some(json!("aes-gcm")), "aead.alg"),
            (
                "/aead/nonce",
                Some(json!(B64.encode([0u8; 12]))),
                "aead.nonce",
            ),
            ("/ciphertext", Some(json!(5)), "ciphertext"),
            ("/kdf", Some(json!({})), "kdf.alg"),
        ];
        for (pointer, value, field_name) in cases {
            let dir = tempfile::tempdir().unwrap();
            let path = written(&dir, &fixed_key(), b"pw");
            tamper(&path, pointer, value.unwrap_or(Value::Null));
            let err = read_secret_key(&path, b"pw").unwrap_err();
            assert!(
                matches!(err, KeyError::Malformed { .. }),
                "{pointer}: {err:?}"
            );
            let msg = err.to_string();
            assert!(msg.contains("alice.key"), "{msg}");
            assert!(msg.contains(&format!("`{field_name}`")), "{pointer}: {msg}");
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.key");
        fs::write(&path, b"not json").unwrap();
        let err = read_secret_key(&path, b"pw").unwrap_err();
        assert!(
            err.to_string().contains("junk.key") && err.to_string().contains("not JSON"),
            "{err}"
        );
        fs::write(&path, b"[1]").unwrap();
        assert_eq!(
            read_secret_key(&path, b"pw").unwrap_err().code(),
            "key_file_malformed"
        );
    }

    #[test]
    fn missing_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nobody.key");
        let err = read_secret_key(&path, b"pw").unwrap_err();
        assert_eq!(err.code(), "io");
        assert!(err.to_string().contains("nobody.key"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = written(&dir, &fixed_key(), b"pw");
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }

    #[test]
    fn existing_key_file_is_never_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let first = fixed_key();
        let path = written(&dir, &first, b"pw");
        let before = fs::read(&path).unwrap();
        let err = write_secret_key(&path, &generate(), b"pw", &FAST).unwrap_err();
        assert!(matches!(err, KeyError::Exists { .. }), "{err:?}");
        assert!(err.to_string().contains("alice.key"));
        assert_eq!(fs::read(&path).unwrap(), before);
        // Only the key file: no temporary copies of key material are left.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["alice.key"]);
    }

    #[test]
    fn write_refuses_empty_passphrase_and_missing_folder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let err = write_secret_key(&path, &fixed_key(), b"", &FAST).unwrap_err();
        assert_eq!(err.code(), "empty_passphrase");
        assert!(!path.exists());
        let deep = dir.path().join("no/such/dir/k.key");
        let err = write_secret_key(&deep, &fixed_key(), b"pw", &FAST).unwrap_err();
        assert_eq!(err.code(), "io");
        assert!(err.to_string().contains("k.key"), "{err}");
    }

    #[test]
    fn unusable_kdf_params_are_refused_on_write() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let kdf = KdfParams {
            m_kib: 1,
            t: 1,
            p: 1,
        };
        let err = write_secret_key(&path, &fixed_key(), b"pw", &kdf).unwrap_err();
        assert_eq!(err.code(), "kdf_params", "{err}");
        assert!(!path.exists());
    }

    #[test]
    fn same_key_and_passphrase_encrypt_differently() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.key");
        let b = dir.path().join("b.key");
        write_secret_key(&a, &fixed_key(), b"pw", &FAST).unwrap();
        write_secret_key(&b, &fixed_key(), b"pw", &FAST).unwrap();
        for pointer in ["/kdf/salt", "/aead/nonce", "/ciphertext"] {
            assert_ne!(field(&a, pointer), field(&b, pointer), "{pointer}");
        }
    }
}
