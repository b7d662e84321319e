//! Content Credentials read at import: the fixtures of `tests/corpus/c2pa/`
//! keep what their manifest stores say on their records, a store that does
//! not validate is warned of with its codes, and every record stays valid
//! against the asset schema.

use assay_core::{ImportOptions, Library};
use serde_json::Value;

use crate::corpus;

#[test]
fn import_records_the_credentials_files_arrive_with() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for name in [
        "valid.jpg",
        "with-ingredient.jpg",
        "training-not-allowed.jpg",
        "ai-generated.png",
        "bytes-changed.jpg",
        "signature-altered.jpg",
    ] {
        std::fs::copy(corpus().join("c2pa").join(name), files.join(name)).unwrap();
    }
    std::fs::copy(
        corpus().join("files/exif-py/jpg/exif-org/kodak-dc210.jpg"),
        files.join("plain.jpg"),
    )
    .unwrap();
    let library = Library::open(dir.path().join("lib")).unwrap();
    library
        .import(
            std::slice::from_ref(&files),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    let record = |name: &str| library.record(files.join(name).to_str().unwrap()).unwrap();

    let valid = record("valid.jpg");
    let credentials = valid.content_credentials.clone().unwrap();
    // No trust anchor is configured: valid, its signer untrusted.
    assert_eq!(serde_json::to_value(credentials.state).unwrap(), "valid");
    assert_eq!(credentials.failures, ["signingCredential.untrusted"]);
    assert!(!valid
        .warnings
        .iter()
        .any(|w| w.contains("Content Credentials")));

    let refused = record("training-not-allowed.jpg")
        .content_credentials
        .unwrap();
    assert!(refused.forbids_training());
    assert!(record("ai-generated.png")
        .content_credentials
        .unwrap()
        .model_made());
    assert_eq!(
        record("with-ingredient.jpg")
            .content_credentials
            .unwrap()
            .ingredients
            .len(),
        1
    );
    for broken in ["bytes-changed.jpg", "signature-altered.jpg"] {
        let r = record(broken);
        let c = r.content_credentials.clone().unwrap();
        assert_eq!(
            serde_json::to_value(c.state).unwrap(),
            "invalid",
            "{broken}"
        );
        assert!(
            r.warnings
                .iter()
                .any(|w| w.starts_with("Content Credentials do not validate")),
            "{broken}: {:?}",
            r.warnings
        );
    }
    assert!(record("plain.jpg").content_credentials.is_none());

    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/asset.schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    for r in library.list(&Default::default()).unwrap() {
        let json = serde_json::to_value(&r).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{e} at {}", e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", r.checksum);
    }
}

/// The gates use them: submitted under a license that allows training, a
/// file whose credentials refuse training, or whose credentials do not
/// validate, is quarantined with the reason; a valid one goes on to review.
#[test]
fn credentials_that_refuse_training_or_fail_validation_are_quarantined() {
    use assay_core::{Change, Filter, Role, Selection};
    use serde_json::json;
    std::env::set_var("ASSAY_KDF_FAST", "1");
    const PASS: &[u8] = b"correct horse";
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    for name in ["valid.jpg", "training-not-allowed.jpg", "bytes-changed.jpg"] {
        std::fs::copy(corpus().join("c2pa").join(name), files.join(name)).unwrap();
    }
    let library = Library::open(dir.path().join("lib")).unwrap();
    library.add_user(None, "ada", Role::Admin, PASS).unwrap();
    let ada = library.unlock("ada", PASS).unwrap();
    library
        .add_user(Some(&ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = std::sync::Arc::new(library.unlock("sam", PASS).unwrap());
    let options = ImportOptions {
        actor: Some(sam.clone()),
        ..ImportOptions::default()
    };
    library
        .import(std::slice::from_ref(&files), &options, &mut |_| {})
        .unwrap();
    let all = Selection::Where(Filter::default());
    library
        .edit(
            &sam,
            &all,
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("tax_and_payout_info", json!("acct_cy")),
                Change::set("signed_contract_id", json!("K-1")),
            ],
        )
        .unwrap();
    let decisions = library.submit(&sam, &all).unwrap();
    let decision = |name: &str| {
        let id = library
            .record(files.join(name).to_str().unwrap())
            .unwrap()
            .asset_id;
        decisions.iter().find(|d| d.asset_id == id).unwrap().clone()
    };
    let valid = decision("valid.jpg");
    assert_eq!(valid.state, "pending", "{:?}", valid.failed_gates);
    let refused = decision("training-not-allowed.jpg");
    assert_eq!(refused.state, "quarantined");
    assert_eq!(refused.failed_gates.len(), 1, "{:?}", refused.failed_gates);
    assert_eq!(refused.failed_gates[0].gate, "credentials-allow-training");
    assert!(refused.failed_gates[0]
        .reason
        .contains("cawg.ai_training notAllowed"));
    let broken = decision("bytes-changed.jpg");
    assert_eq!(broken.state, "quarantined");
    assert_eq!(broken.failed_gates[0].gate, "credentials-valid");
    assert!(broken.failed_gates[0]
        .reason
        .contains("assertion.dataHash.mismatch"));
}
