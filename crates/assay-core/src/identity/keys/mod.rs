//! User identities: ed25519 key pairs, their fingerprints, and the public
//! key in forms other tools accept. The private key is kept encrypted at
//! rest ([`secret_file`]).

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::hazmat::{raw_sign, ExpandedSecretKey};
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

mod secret_file;

pub use secret_file::{read_secret_key, rewrite_secret_key, write_secret_key, KdfParams};

const KEY_ID_PREFIX: &str = "ed25519:";

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

/// What a key's holder signs to prove to a marketplace that they hold it:
/// the server's challenge, after a prefix no other Assay signature starts
/// with (events, documents and checkpoints are signed as JSON objects).
pub fn possession_message(challenge: &str) -> Vec<u8> {
    [
        b"assay-market key possession\n".as_slice(),
        challenge.as_bytes(),
    ]
    .concat()
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

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::Path;

    use serde_json::{json, Value};

    use super::secret_file::{seal, MAX_M_KIB};
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

    /// A key file copied in with looser permissions is made private when
    /// it is read; one reached through a symbolic link is not read.
    #[cfg(unix)]
    #[test]
    fn a_loose_key_file_is_made_private_and_a_linked_one_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = fixed_key();
        let path = written(&dir, &key, b"pw");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(read_secret_key(&path, b"pw").unwrap(), key);
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
        let link = dir.path().join("bob.key");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        let err = read_secret_key(&link, b"pw").unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
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
