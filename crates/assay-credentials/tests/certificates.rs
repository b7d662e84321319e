//! A library's authority issues certificates that C2PA validation accepts:
//! a manifest signed with a key the library holds, under the certificate
//! the authority issued for it, reads as valid, and trusted once the
//! authority is an anchor; a chain from another authority is not trusted;
//! a saved authority issues for the same anchor when loaded again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::Path;

use assay_credentials::{
    read, Authority, Claim, CredentialState, CredentialWriter, KeySigner, TrustAnchors,
};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::json;
use sha2::Digest as _;

fn photo() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/corpus/files/exif-py/jpg/exif-org/kodak-dc210.jpg"),
    )
    .unwrap()
}

fn claim() -> Claim {
    Claim {
        title: "kodak-dc210.jpg".into(),
        generator: "assay-credentials tests".into(),
        generator_version: "1".into(),
        assertions: vec![(
            "c2pa.actions".into(),
            json!({"actions": [{"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}}]}),
        )],
        parent_has_credentials: false,
    }
}

/// Signs a copy of the photo with `key` under `chain`.
fn signed_with(key: SigningKey, chain: &str) -> Vec<u8> {
    let signer = KeySigner::new(chain, move |m| key.sign(m).to_bytes()).unwrap();
    let mut out = Cursor::new(Vec::new());
    CredentialWriter::new()
        .unwrap()
        .embed(
            &signer,
            &claim(),
            "image/jpeg",
            &mut Cursor::new(photo()),
            &mut out,
        )
        .unwrap();
    out.into_inner()
}

fn anchors(authority: &Authority) -> TrustAnchors {
    TrustAnchors {
        pem: Some(authority.certificate_pem().to_owned()),
    }
}

#[test]
fn a_certificate_issued_for_a_held_key_signs_trusted_credentials() {
    let authority = Authority::new("Studio Nord").unwrap();
    // The key a user already holds: only its public half reaches the
    // authority.
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let chain = authority
        .issue("rosa", "Studio Nord", key.verifying_key().as_bytes())
        .unwrap();
    let signed = signed_with(key, &chain);

    let trusted = read(Cursor::new(&signed), "image/jpeg", &anchors(&authority))
        .unwrap()
        .unwrap();
    assert_eq!(
        trusted.state,
        CredentialState::Trusted,
        "{:?}",
        trusted.failures
    );
    assert_eq!(trusted.certificate_subject.as_deref(), Some("rosa"));
    assert_eq!(trusted.signer.as_deref(), Some("Studio Nord"));
    assert_eq!(trusted.ingredients.len(), 1, "{:?}", trusted.ingredients);
    assert_eq!(
        trusted.ingredients[0].relationship.as_deref(),
        Some("parentOf")
    );

    let other = Authority::new("Elsewhere").unwrap();
    let untrusted = read(Cursor::new(&signed), "image/jpeg", &anchors(&other))
        .unwrap()
        .unwrap();
    assert_eq!(untrusted.state, CredentialState::Valid);
    assert_eq!(untrusted.failures, ["signingCredential.untrusted"]);
}

#[test]
fn a_certificate_for_another_key_than_the_signers_is_refused() {
    let authority = Authority::new("Studio Nord").unwrap();
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let someone_else = SigningKey::generate(&mut rand_core::OsRng);
    let chain = authority
        .issue(
            "rosa",
            "Studio Nord",
            someone_else.verifying_key().as_bytes(),
        )
        .unwrap();
    // The signer's key does not match the certificate: what it signs does
    // not validate.
    let signed = signed_with(key, &chain);
    let read_back = read(Cursor::new(signed), "image/jpeg", &anchors(&authority))
        .unwrap()
        .unwrap();
    assert_eq!(read_back.state, CredentialState::Invalid);
    assert!(
        read_back
            .failures
            .iter()
            .any(|c| c == "claimSignature.mismatch"),
        "{:?}",
        read_back.failures
    );
}

#[test]
fn a_saved_authority_loads_and_issues_under_the_same_anchor() {
    let made = Authority::new("Studio Nord").unwrap();
    let loaded = Authority::load(made.certificate_pem(), &made.key_pem()).unwrap();
    assert_eq!(loaded.certificate_pem(), made.certificate_pem());
    // Loaded from a file that cut it short of its line break, it still
    // ends with one: chains and anchor lists concatenate.
    let trimmed = Authority::load(made.certificate_pem().trim_end(), &made.key_pem()).unwrap();
    assert_eq!(trimmed.certificate_pem(), made.certificate_pem());
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let chain = loaded
        .issue("rosa", "Studio Nord", key.verifying_key().as_bytes())
        .unwrap();
    let signed = signed_with(key, &chain);
    let read_back = read(Cursor::new(signed), "image/jpeg", &anchors(&made))
        .unwrap()
        .unwrap();
    assert_eq!(
        read_back.state,
        CredentialState::Trusted,
        "{:?}",
        read_back.failures
    );

    assert!(Authority::load("not a certificate", &made.key_pem()).is_err());
    assert!(Authority::load(made.certificate_pem(), "not a key").is_err());
}

/// A sidecar is how C2PA binds a file it does not parse (a raw camera
/// file), and how Assay delivers credentials for an original left as it is
/// (a JPEG in an audit package or a purchase): either way, bound to every
/// byte, with the hash computed here or the caller's checksum passed in.
#[test]
fn a_sidecar_binds_every_byte_of_its_file_whether_hashed_here_or_given() {
    let authority = Authority::new("Studio Nord").unwrap();
    let key = SigningKey::generate(&mut rand_core::OsRng);
    let chain = authority
        .issue("rosa", "Studio Nord", key.verifying_key().as_bytes())
        .unwrap();
    let signer = KeySigner::new(&chain, move |m| key.sign(m).to_bytes()).unwrap();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files/exiftool");
    let reader = assay_credentials::CredentialReader::new(&anchors(&authority)).unwrap();
    let writer = CredentialWriter::new().unwrap();
    for (name, media_type, embeds) in [
        ("CanonRaw.cr2", "image/x-canon-cr2", false),
        ("Canon.jpg", "image/jpeg", true),
    ] {
        let raw = std::fs::read(corpus.join(name)).unwrap();
        assert_eq!(assay_credentials::embeds(media_type), embeds, "{name}");
        let digest: [u8; 32] = sha2::Sha256::digest(&raw).into();
        for given in [None, Some(digest)] {
            let sidecar = writer
                .sidecar(&signer, &claim(), media_type, &mut Cursor::new(&raw), given)
                .unwrap();
            let read_back = reader.read_sidecar(&sidecar, Cursor::new(&raw), media_type);
            assert_eq!(
                read_back.state,
                CredentialState::Trusted,
                "{name}, hash given: {}: {:?}",
                given.is_some(),
                read_back.failures
            );
            let mut changed = raw.clone();
            let last = changed.len() - 1;
            changed[last] ^= 1;
            let tampered = reader.read_sidecar(&sidecar, Cursor::new(&changed), media_type);
            assert_eq!(tampered.state, CredentialState::Invalid, "{name}");
        }
        // A digest that is not the file's is caught by the reader.
        let wrong = writer
            .sidecar(
                &signer,
                &claim(),
                media_type,
                &mut Cursor::new(&raw),
                Some([7; 32]),
            )
            .unwrap();
        let read_back = reader.read_sidecar(&wrong, Cursor::new(&raw), media_type);
        assert_eq!(read_back.state, CredentialState::Invalid, "{name}");
    }
}
