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
