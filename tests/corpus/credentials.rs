//! Content Credentials read at import: the fixtures of `tests/corpus/c2pa/`
//! keep what their manifest stores say on their records, a store that does
//! not validate is warned of with its codes, and every record stays valid
//! against the asset schema.

use assay_core::{ImportOptions, Library};
use serde_json::Value;

use crate::corpus;

/// A new library in `dir` holding what import made of `files`.
fn imported_into(dir: &std::path::Path, files: &std::path::Path) -> Library {
    let library = Library::open(dir.join("lib")).unwrap();
    library
        .import(
            &[files.to_path_buf()],
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    library
}

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
    let library = imported_into(dir.path(), &files);
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

    // Approved, the asset's manifest entry carries what import read.
    library
        .add_user(Some(&ada), "rosa", Role::RightsManager, PASS)
        .unwrap();
    let rosa = library.unlock("rosa", PASS).unwrap();
    let only = Selection::Assets(vec![valid.asset_id.clone()]);
    library.approve(&rosa, &only, None).unwrap();
    let manifest = dir.path().join("manifest.json");
    library.export_manifest(&rosa, &only, &manifest).unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let entry = &doc["assets"][0]["content_credentials"];
    assert_eq!(entry["state"], "valid", "{entry}");
    assert_eq!(entry["failures"], json!(["signingCredential.untrusted"]));
    assert_eq!(entry["actions"][0]["action"], "c2pa.created");

    // Its signed copy keeps the credentials it arrived with: the original,
    // with its own manifest, is the parent ingredient (c2patool reads both
    // manifests).
    let copies = dir.path().join("copies");
    library
        .export_credentials(&rosa, &only, &copies, &mut assay_core::Job::quiet())
        .unwrap();
    let out = std::process::Command::new(
        std::env::var_os("HOME")
            .map(|h| std::path::Path::new(&h).join(".cargo/bin/c2patool"))
            .unwrap(),
    )
    .arg(copies.join("valid.jpg"))
    .output()
    .expect("c2patool is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["validation_state"], "Valid", "{report:#}");
    let manifests = report["manifests"].as_object().unwrap();
    assert_eq!(manifests.len(), 2, "{report:#}");
    let active = &manifests[report["active_manifest"].as_str().unwrap()];
    assert_eq!(active["ingredients"][0]["relationship"], "parentOf");
    assert!(
        active["ingredients"][0]["active_manifest"].is_string(),
        "{active:#}"
    );
}

/// The strictest signal wins at import: a sidecar states a tag that allows
/// training, but the file's Content Credentials, or an RSL license beside
/// it, refuse training: the asset is imported as NO-TRAIN, the import
/// event names the signal that decided and the tag it overrode, and a
/// warning says so. With nothing refusing, the stated tag stands.
#[test]
fn a_refusal_anywhere_overrides_a_stated_tag_that_allows_training() {
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::copy(
        corpus().join("c2pa/training-not-allowed.jpg"),
        files.join("refused.jpg"),
    )
    .unwrap();
    // Two photos: the same bytes twice would be one asset.
    for (name, photo) in [
        ("rsl.jpg", "kodak-dc210.jpg"),
        ("allowed.jpg", "sanyo-vpcg250.jpg"),
    ] {
        std::fs::copy(
            corpus().join("files/exif-py/jpg/exif-org").join(photo),
            files.join(name),
        )
        .unwrap();
    }
    let sidecar = |rsl: Option<&str>| {
        let rsl = rsl.map_or_else(String::new, |xml| {
            format!(
                "<assay:RSL>{}</assay:RSL>",
                xml.replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;")
                    .replace('"', "&quot;")
            )
        });
        format!(
            r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:assay="https://w3id.org/assay/ns/xmp/1.0/">
<assay:LicenseTag>CC-BY-4.0</assay:LicenseTag>{rsl}</rdf:Description></rdf:RDF></x:xmpmeta>"#
        )
    };
    let refusing_rsl = r#"<rsl xmlns="https://rslstandard.org/rsl"><content url="rsl.jpg"><license><permits type="usage">ai-index</permits><prohibits type="usage">ai-train,ai-input</prohibits></license></content></rsl>"#;
    std::fs::write(files.join("refused.jpg.xmp"), sidecar(None)).unwrap();
    std::fs::write(files.join("rsl.jpg.xmp"), sidecar(Some(refusing_rsl))).unwrap();
    std::fs::write(files.join("allowed.jpg.xmp"), sidecar(None)).unwrap();
    let library = imported_into(dir.path(), &files);
    let record = |name: &str| library.record(files.join(name).to_str().unwrap()).unwrap();
    let imported = |name: &str| {
        let r = record(name);
        let events = library.provenance(&r.asset_id).unwrap();
        events[0].data["imported_rights"]["fields"]["license_tag"].clone()
    };

    for (name, source, property) in [
        ("refused.jpg", "content_credentials", "cawg.training-mining"),
        ("rsl.jpg", "sidecar", "assay:RSL"),
    ] {
        let r = record(name);
        assert_eq!(
            r.rights["license_tag"],
            "NO-TRAIN",
            "{name}: {:?} {}",
            r.warnings,
            imported(name)
        );
        let entry = imported(name);
        assert_eq!(entry["value"], "NO-TRAIN", "{name}: {entry}");
        assert_eq!(entry["source"], source, "{name}: {entry}");
        assert_eq!(entry["property"], property, "{name}: {entry}");
        assert_eq!(
            entry["overrode"],
            serde_json::json!({"value": "CC-BY-4.0", "source": "sidecar", "property": "assay:LicenseTag"}),
            "{name}: {entry}"
        );
        assert!(
            r.warnings.iter().any(|w| w.contains(
                "license tag CC-BY-4.0 (sidecar refused.jpg.xmp assay:LicenseTag) allows AI training"
            ) || w.contains(
                "license tag CC-BY-4.0 (sidecar rsl.jpg.xmp assay:LicenseTag) allows AI training"
            )),
            "{name}: {:?}",
            r.warnings
        );
    }
    let allowed = record("allowed.jpg");
    assert_eq!(allowed.rights["license_tag"], "CC-BY-4.0");
    assert_eq!(imported("allowed.jpg")["source"], "sidecar");
}

/// Every format c2pa reads that the corpus holds, signed by c2patool (the
/// other implementation a buyer is likely to use): import finds the store
/// in each, validates it and keeps what it says, as for a JPEG.
#[test]
fn import_reads_credentials_c2patool_wrote_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let files = corpus().join("c2pa/c2patool/formats");
    let library = imported_into(dir.path(), &files);
    let expected = [
        ("valid.webp", "image/webp"),
        ("valid.tif", "image/tiff"),
        ("valid.dng", "image/x-adobe-dng"),
        ("valid.heic", "image/heic"),
        ("valid.wav", "audio/wav"),
        ("valid.avif", "image/avif"),
        ("valid.mp4", "video/mp4"),
        ("valid.mov", "video/quicktime"),
    ];
    for (name, media_type) in expected {
        let record = library
            .record(files.join(name).to_str().unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(record.media_type, media_type, "{name}");
        let credentials = record
            .content_credentials
            .unwrap_or_else(|| panic!("{name}: no credentials read"));
        assert_eq!(
            serde_json::to_value(credentials.state).unwrap(),
            "valid",
            "{name}: {:?}",
            credentials.failures
        );
        assert_eq!(
            credentials.failures,
            ["signingCredential.untrusted"],
            "{name}"
        );
        assert_eq!(
            credentials.actions[0].digital_source_type.as_deref(),
            Some("http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"),
            "{name}"
        );
    }
    assert_eq!(
        library.list(&Default::default()).unwrap().len(),
        expected.len()
    );
}
