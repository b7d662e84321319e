//! A library's authority issues certificates that C2PA validation accepts:
//! a manifest signed with a key the library holds, under the certificate
//! the authority issued for it, reads as valid, and trusted once the
//! authority is an anchor; a chain from another authority is not trusted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::Path;

use assay_credentials::{read, Authority, CredentialState, TrustAnchors};
use c2pa::{Builder, Context, SigningAlg};
use serde_json::json;

fn signed_with(key_pem: &str, chain: &str) -> Vec<u8> {
    let signer = c2pa::create_signer::from_keys(
        chain.as_bytes(),
        key_pem.as_bytes(),
        SigningAlg::Ed25519,
        None,
    )
    .unwrap();
    let context = Context::new()
        .with_settings(
            json!({"verify": {"remote_manifest_fetch": false}})
                .to_string()
                .as_str(),
        )
        .unwrap();
    let mut builder = Builder::from_context(context)
        .with_definition(json!({"title": "b.jpg", "assertions": [
            {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.created",
                "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"}]}}
        ]}))
        .unwrap();
    let photo = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/corpus/files/exif-py/jpg/exif-org/kodak-dc210.jpg"),
    )
    .unwrap();
    let mut out = Cursor::new(Vec::new());
    builder
        .sign(
            signer.as_ref(),
            "image/jpeg",
            &mut Cursor::new(photo),
            &mut out,
        )
        .unwrap();
    out.into_inner()
}

#[test]
fn a_certificate_issued_for_a_held_key_signs_trusted_credentials() {
    let authority = Authority::new("Studio Nord").unwrap();
    // The key a user already holds: only its public half reaches the
    // authority.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let public: [u8; 32] = key.public_key_raw().try_into().unwrap();
    let leaf = authority.issue("rosa", "Studio Nord", &public).unwrap();
    let chain = format!("{leaf}{}", authority.certificate_pem());
    let signed = signed_with(&key.serialize_pem(), &chain);

    let anchors = TrustAnchors {
        pem: Some(authority.certificate_pem()),
    };
    let trusted = read(Cursor::new(&signed), "image/jpeg", &anchors)
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

    let other = Authority::new("Elsewhere").unwrap();
    let elsewhere = TrustAnchors {
        pem: Some(other.certificate_pem()),
    };
    let untrusted = read(Cursor::new(&signed), "image/jpeg", &elsewhere)
        .unwrap()
        .unwrap();
    assert_eq!(untrusted.state, CredentialState::Valid);
    assert_eq!(untrusted.failures, ["signingCredential.untrusted"]);
}

#[test]
fn a_certificate_for_another_key_than_the_signers_is_refused() {
    let authority = Authority::new("Studio Nord").unwrap();
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let someone_else = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let public: [u8; 32] = someone_else.public_key_raw().try_into().unwrap();
    let leaf = authority.issue("rosa", "Studio Nord", &public).unwrap();
    let chain = format!("{leaf}{}", authority.certificate_pem());
    // The signer's key does not match the certificate: what it signs does
    // not validate.
    let signed = signed_with(&key.serialize_pem(), &chain);
    let anchors = TrustAnchors {
        pem: Some(authority.certificate_pem()),
    };
    let read_back = read(Cursor::new(signed), "image/jpeg", &anchors)
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
