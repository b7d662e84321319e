//! Reading the Content Credentials fixtures of `tests/corpus/c2pa/` (made
//! by `examples/make_fixtures.rs` from corpus photos): each validates as a
//! C2PA validator says it should, and what Assay records of it is exact.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::path::{Path, PathBuf};

use assay_credentials::{read, ContentCredentials, CredentialState, TrustAnchors};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus")
}

fn anchors() -> TrustAnchors {
    TrustAnchors {
        pem: Some(std::fs::read_to_string(corpus().join("c2pa/test-ca.pem")).unwrap()),
    }
}

fn credentials(name: &str, anchors: &TrustAnchors) -> ContentCredentials {
    let bytes = std::fs::read(corpus().join("c2pa").join(name)).unwrap();
    let media_type = if name.ends_with(".png") {
        "image/png"
    } else {
        "image/jpeg"
    };
    read(Cursor::new(bytes), media_type, anchors)
        .unwrap()
        .unwrap_or_else(|| panic!("{name} carries credentials"))
}

#[test]
fn a_valid_store_is_valid_and_trusted_against_its_anchor() {
    let untrusted = credentials("valid.jpg", &TrustAnchors::default());
    assert_eq!(untrusted.state, CredentialState::Valid);
    assert_eq!(untrusted.failures, ["signingCredential.untrusted"]);
    let trusted = credentials("valid.jpg", &anchors());
    assert_eq!(trusted.state, CredentialState::Trusted);
    assert!(trusted.failures.is_empty(), "{:?}", trusted.failures);
    assert_eq!(
        trusted.claim_generator.as_deref(),
        Some("assay-credentials fixtures 1")
    );
    assert_eq!(trusted.signer.as_deref(), Some("Assay test fixtures"));
    assert_eq!(
        trusted.certificate_subject.as_deref(),
        Some("fixture signer")
    );
    assert_eq!(trusted.actions.len(), 1);
    assert_eq!(trusted.actions[0].action, "c2pa.created");
    assert!(trusted.actions[0]
        .digital_source_type
        .as_deref()
        .unwrap()
        .ends_with("/digitalCapture"));
    assert!(!trusted.model_made());
    assert_eq!(trusted.training_mining.len(), 4);
    assert!(trusted
        .training_mining
        .iter()
        .all(|t| t.permission == "constrained"
            && t.constraint_info.as_deref()
                == Some("CC-BY-4.0; 20% revenue share to the creator")));
    assert!(!trusted.forbids_training());
}

#[test]
fn an_edit_names_its_parent_ingredient() {
    let edited = credentials("with-ingredient.jpg", &anchors());
    assert_eq!(
        edited.state,
        CredentialState::Trusted,
        "{:?}",
        edited.failures
    );
    assert_eq!(edited.ingredients.len(), 1);
    assert_eq!(edited.ingredients[0].title.as_deref(), Some("valid.jpg"));
    assert_eq!(
        edited.ingredients[0].relationship.as_deref(),
        Some("parentOf")
    );
    assert_eq!(edited.ingredients[0].format.as_deref(), Some("image/jpeg"));
    assert!(edited.actions.iter().any(|a| a.action == "c2pa.edited"));
}

#[test]
fn training_refused_and_model_made_media_are_named() {
    let refused = credentials("training-not-allowed.jpg", &anchors());
    assert_eq!(refused.state, CredentialState::Trusted);
    assert!(refused.forbids_training());
    assert!(refused
        .training_mining
        .iter()
        .all(|t| t.permission == "notAllowed"));
    let generated = credentials("ai-generated.png", &anchors());
    assert_eq!(generated.state, CredentialState::Trusted);
    assert!(generated.model_made());
    assert!(!generated.forbids_training());
}

#[test]
fn changed_bytes_and_an_altered_signature_are_invalid_with_their_codes() {
    let changed = credentials("bytes-changed.jpg", &anchors());
    assert_eq!(changed.state, CredentialState::Invalid);
    assert!(
        changed
            .failures
            .iter()
            .any(|c| c == "assertion.dataHash.mismatch"),
        "{:?}",
        changed.failures
    );
    let altered = credentials("signature-altered.jpg", &anchors());
    assert_eq!(altered.state, CredentialState::Invalid);
    assert!(
        altered
            .failures
            .iter()
            .any(|c| c.starts_with("claimSignature.") || c.starts_with("signingCredential.")),
        "{:?}",
        altered.failures
    );
}

#[test]
fn files_without_credentials_read_as_none_and_garbage_never_panics() {
    let plain = std::fs::read(corpus().join("files/exif-py/jpg/exif-org/kodak-dc210.jpg")).unwrap();
    assert!(
        read(Cursor::new(plain), "image/jpeg", &TrustAnchors::default())
            .unwrap()
            .is_none()
    );
    // Every prefix of a signed file: none, or invalid, never a panic.
    let valid = std::fs::read(corpus().join("c2pa/valid.jpg")).unwrap();
    for len in (0..valid.len()).step_by(997) {
        if let Some(c) = read(
            Cursor::new(&valid[..len]),
            "image/jpeg",
            &TrustAnchors::default(),
        )
        .unwrap()
        {
            assert_ne!(c.state, CredentialState::Trusted);
        }
    }
}

/// The fixtures c2patool wrote (`scripts/make-c2patool-fixtures.sh`, with
/// its development certificate): read as c2patool's own reading says.
#[test]
fn credentials_c2patool_wrote_read_the_same() {
    let none = TrustAnchors::default();
    let valid = credentials("c2patool/valid.jpg", &none);
    assert_eq!(valid.state, CredentialState::Valid, "{:?}", valid.failures);
    assert_eq!(valid.failures, ["signingCredential.untrusted"]);
    assert!(valid
        .claim_generator
        .as_deref()
        .is_some_and(|g| g.starts_with("c2patool fixtures")));
    assert_eq!(
        valid.actions[0].digital_source_type.as_deref(),
        Some("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture")
    );
    assert!(!valid.forbids_training() && !valid.model_made());

    let refused = credentials("c2patool/training-not-allowed.jpg", &none);
    assert_eq!(refused.state, CredentialState::Valid);
    assert!(refused.forbids_training());
    assert_eq!(refused.training_mining.len(), 4);

    let generated = credentials("c2patool/ai-generated.jpg", &none);
    assert_eq!(generated.model_made_as(), Some("trainedAlgorithmicMedia"));

    let edited = credentials("c2patool/with-parent.jpg", &none);
    assert_eq!(
        edited.state,
        CredentialState::Valid,
        "{:?}",
        edited.failures
    );
    assert_eq!(edited.ingredients.len(), 1, "{:?}", edited.ingredients);
    assert_eq!(
        edited.ingredients[0].relationship.as_deref(),
        Some("parentOf")
    );
}

/// Import reads a JPEG's store lifted out of its APP11 segments (and rules
/// a store out from the headers alone): for every fixture, what it finds
/// is exactly what the validator finds reading the whole file.
#[test]
fn reading_from_memory_finds_what_the_validator_finds_in_the_file() {
    let reader = assay_credentials::CredentialReader::new(&anchors()).unwrap();
    let mut names: Vec<String> = [
        "valid.jpg",
        "with-ingredient.jpg",
        "training-not-allowed.jpg",
        "bytes-changed.jpg",
        "signature-altered.jpg",
        "ai-generated.png",
    ]
    .iter()
    .map(|n| n.to_string())
    .collect();
    for name in [
        "valid.jpg",
        "training-not-allowed.jpg",
        "ai-generated.jpg",
        "with-parent.jpg",
    ] {
        names.push(format!("c2patool/{name}"));
    }
    names.push("../files/exif-py/jpg/exif-org/kodak-dc210.jpg".to_owned());
    for name in &names {
        let bytes = std::fs::read(corpus().join("c2pa").join(name)).unwrap();
        let media_type = if name.ends_with(".png") {
            "image/png"
        } else {
            "image/jpeg"
        };
        let whole = reader.read(Cursor::new(&bytes), media_type).unwrap();
        let fast = reader.read_bytes(&bytes, media_type).unwrap();
        assert_eq!(fast, whole, "{name}");
    }
}
