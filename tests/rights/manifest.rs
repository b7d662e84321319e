//! Signed manifests: export of approved assets only, verification with
//! nothing but the file and a public key, and tampering caught.

use std::path::Path;

use assay_core::keys::read_secret_key;
use assay_core::{verify_manifest, Change, Error, Filter, Role, Selection};
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use serde_json::{json, Value};

use crate::{World, PASS};

/// Both photos tagged by a steward, submitted, and approved by rosa.
pub fn approved_world() -> (World, assay_core::Actor) {
    let w = World::new();
    let sam = approve_everything(&w);
    (w, sam)
}

/// Every asset of `w` tagged by sam, a new steward, submitted, and
/// approved by rosa; returns sam.
pub(crate) fn approve_everything(w: &World) -> assay_core::Actor {
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = w.library.unlock("sam", PASS).unwrap();
    let all = Selection::Where(Filter::default());
    w.library
        .edit(
            &sam,
            &all,
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("tax_and_payout_info", json!("acct_cy")),
                Change::set("signed_contract_id", json!("K-1")),
                Change::set("creator_name", json!("Cy")),
            ],
        )
        .unwrap();
    w.library.submit(&sam, &all).unwrap();
    w.library.approve(&w.rosa, &all, None).unwrap();
    sam
}

pub fn rosa_key(w: &World) -> ed25519_dalek::VerifyingKey {
    w.library.user_public_key("rosa").unwrap()
}

fn canonical(doc: &Value) -> Vec<u8> {
    assay_core::canonical::canonical_json(doc)
}

#[test]
fn an_exported_manifest_verifies_with_the_public_key_alone_and_names_a_changed_file() {
    let (w, _) = approved_world();
    let out = w.dir.path().join("manifest.json");
    let export = w
        .library
        .export_manifest(&w.rosa, &Selection::Where(Filter::default()), &out)
        .unwrap();
    assert_eq!((export.assets, export.refused.len()), (2, 0));

    let bytes = std::fs::read(&out).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["signer"]["user"], "rosa");
    assert_eq!(doc["signer"]["role"], "rights_manager");
    let records = w.library.list(&Filter::default()).unwrap();
    for entry in doc["assets"].as_array().unwrap() {
        let r = records
            .iter()
            .find(|r| r.asset_id == entry["asset_id"])
            .unwrap();
        assert_eq!(entry["checksum"], json!(r.checksum));
        assert_eq!(entry["size_bytes"], json!(r.size_bytes));
        assert_eq!(entry["creator_wallet"], "acct_cy");
        assert_eq!(entry["creator_attribution_text"], "Cy");
        assert_eq!(
            doc["licenses"][entry["license_tag"].as_str().unwrap()]["ai_training_allowed"],
            true
        );
        // The export is the asset's latest event, and it names this manifest.
        let events = w.library.provenance(&r.asset_id).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.kind, "export");
        assert_eq!(last.data["manifest_hash"], json!(export.manifest_hash));
        assert_eq!(
            r.workflow.provenance_hash.as_deref(),
            Some(last.hash.as_str())
        );
        // The entry carries the hash the chain had when it was approved.
        assert_eq!(
            entry["provenance_hash"],
            json!(events[events.len() - 2].hash)
        );
    }
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());

    let photos = w.dir.path().join("photos");
    let check = verify_manifest(&bytes, &[rosa_key(&w)], Some(&photos));
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(check.assets, 2);

    // One source file changes: that asset alone fails.
    let mut jpeg = std::fs::read(photos.join("b.jpg")).unwrap();
    let last = jpeg.len() - 3;
    jpeg[last] ^= 0xff;
    std::fs::write(photos.join("b.jpg"), &jpeg).unwrap();
    let check = verify_manifest(&bytes, &[rosa_key(&w)], Some(&photos));
    assert_eq!(check.failures.len(), 1, "{:?}", check.failures);
    let b = records
        .iter()
        .find(|r| r.locations[0].path.ends_with("b.jpg"))
        .unwrap();
    assert!(
        check.failures[0].contains(&b.asset_id) && check.failures[0].contains("b.jpg"),
        "{:?}",
        check.failures
    );
}

#[test]
fn only_approved_assets_are_exported_and_only_by_a_rights_manager() {
    let (w, sam) = approved_world();
    let all = Selection::Where(Filter::default());
    let out = w.dir.path().join("m.json");
    let err = w.library.export_manifest(&sam, &all, &out).unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");

    // An edit sends one asset back to review: it is left out, with the reason.
    let first = w.library.list(&Filter::default()).unwrap()[0]
        .asset_id
        .clone();
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![first.clone()]),
            &[Change::set("title", json!("x"))],
        )
        .unwrap();
    let export = w.library.export_manifest(&w.rosa, &all, &out).unwrap();
    assert_eq!(export.assets, 1);
    assert_eq!(export.refused.len(), 1);
    assert_eq!(export.refused[0].asset_id, first);
    assert!(
        export.refused[0].reason.contains("pending"),
        "{:?}",
        export.refused
    );

    // Nothing approved: refused, and nothing written or recorded.
    let before = w.library.provenance(&first).unwrap().len();
    let none = w.dir.path().join("none.json");
    let err = w
        .library
        .export_manifest(&w.rosa, &Selection::Assets(vec![first.clone()]), &none)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "approved-only",
                ..
            }
        ),
        "{err}"
    );
    assert!(!none.exists());
    assert_eq!(w.library.provenance(&first).unwrap().len(), before);
}

#[test]
fn every_kind_of_tampering_is_caught_and_named() {
    let (w, _) = approved_world();
    let out = w.dir.path().join("manifest.json");
    w.library
        .export_manifest(&w.rosa, &Selection::Where(Filter::default()), &out)
        .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let key = rosa_key(&w);
    assert!(verify_manifest(&bytes, &[key], None).failures.is_empty());

    // One flipped bit anywhere in the file.
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x01;
        let check = verify_manifest(&bad, &[key], None);
        assert!(
            !check.failures.is_empty(),
            "flipping byte {i} ({:?}) went unnoticed",
            bytes[i] as char
        );
    }

    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let failures = |doc: &Value, keys: &[ed25519_dalek::VerifyingKey]| {
        verify_manifest(&serde_json::to_vec(doc).unwrap(), keys, None).failures
    };
    // Two assets' checksums swapped.
    let mut swapped = doc.clone();
    let (c0, c1) = (
        doc["assets"][0]["checksum"].clone(),
        doc["assets"][1]["checksum"].clone(),
    );
    swapped["assets"][0]["checksum"] = c1;
    swapped["assets"][1]["checksum"] = c0;
    let f = failures(&swapped, &[key]);
    assert!(
        f.iter().any(|f| f.starts_with("signature: does not match")),
        "{f:?}"
    );

    // Re-signed with a steward's key: not a trusted key, and not a rights manager.
    let sam_secret = read_secret_key(&w.library.root().join("keys/sam.key"), PASS).unwrap();
    let sam_public = sam_secret.verifying_key();
    let mut resigned = doc.clone();
    resigned.as_object_mut().unwrap().remove("signature");
    resigned["signer"]["user"] = json!("sam");
    resigned["signer"]["role"] = json!("steward");
    resigned["signer"]["key_id"] = json!(assay_core::keys::key_id(&sam_public).as_str());
    resigned["signer"]["public_key"] = json!(assay_core::keys::public_key_compact(&sam_public));
    let signature = sam_secret.sign(&canonical(&resigned));
    resigned["signature"] = json!({
        "alg": "Ed25519",
        "value": base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    });
    let f = failures(&resigned, &[key]);
    assert!(
        f.iter().any(|f| f.contains("not among the trusted keys")),
        "{f:?}"
    );
    assert!(
        f.iter().any(|f| f.contains("only a rights manager")),
        "{f:?}"
    );
    // Even a reader who trusts sam's key learns that a steward signed it,
    // and that the checkpoint it carries is rosa's, not the signer's.
    let f = failures(&resigned, &[key, sam_public]);
    assert_eq!(f.len(), 2, "{f:?}");
    assert!(f[0].contains("signed as a steward"), "{f:?}");
    assert!(
        f[1].contains("/checkpoint: signed with another key"),
        "{f:?}"
    );

    // A field the schema does not know, named by its pointer.
    let mut extra = doc.clone();
    extra["assets"][0]["price"] = json!(3);
    let f = failures(&extra, &[key]);
    assert!(f.iter().any(|f| f.contains("/assets/0")), "{f:?}");
    // A file name that tries to leave the folder.
    let mut escape = doc;
    escape["assets"][0]["file_name"] = json!("../../etc/passwd");
    let f = verify_manifest(
        &serde_json::to_vec(&escape).unwrap(),
        &[key],
        Some(Path::new(".")),
    )
    .failures;
    assert!(
        f.iter().any(|f| f.contains("not a plain file name")),
        "{f:?}"
    );
}

/// A manifest carries the library's checkpoint as the export began, signed
/// by the manifest's signer: a buyer who holds the manifest holds a
/// checkpoint to check the library against, and one altered under a fresh
/// manifest signature is named.
#[test]
fn a_manifest_carries_the_libraries_checkpoint_signed_by_its_signer() {
    let (w, _) = approved_world();
    let out = w.dir.path().join("manifest.json");
    let export = w
        .library
        .export_manifest(&w.rosa, &Selection::Where(Filter::default()), &out)
        .unwrap();
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let carried = &doc["checkpoint"];
    assert_eq!(carried["type"], "assay-checkpoint");
    assert_eq!(carried["signer"]["key_id"], doc["signer"]["key_id"]);
    // It is one of the library's own checkpoints, written before the
    // export's events (the export then writes another, covering them).
    let dir = w.library.root().join("checkpoints");
    let carried_bytes = canonical(carried);
    let own: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::read(p).unwrap() == carried_bytes)
        .collect();
    assert_eq!(own.len(), 1, "{own:?}");
    assert_ne!(own[0].display().to_string(), export.checkpoint);
    let after: Value = serde_json::from_slice(&std::fs::read(&export.checkpoint).unwrap()).unwrap();
    let exported = export.assets as u64;
    assert_eq!(
        after["events"]["size"].as_u64().unwrap(),
        carried["events"]["size"].as_u64().unwrap() + exported
    );

    // A buyer holding only the manifest checks the library against it.
    let held = w.dir.path().join("held.json");
    std::fs::write(&held, &carried_bytes).unwrap();
    let report = w.library.verify_provenance_against(Some(&held)).unwrap();
    assert!(report.holds(), "{report:?}");

    // Rosa's own key re-signs a manifest whose checkpoint was altered.
    let rosa = read_secret_key(&w.library.root().join("keys/rosa.key"), PASS).unwrap();
    let mut altered = doc.clone();
    altered.as_object_mut().unwrap().remove("signature");
    let size = altered["checkpoint"]["events"]["size"].as_u64().unwrap();
    altered["checkpoint"]["events"]["size"] = json!(size - 1);
    let signature = rosa.sign(&canonical(&altered));
    altered["signature"] = json!({
        "alg": "Ed25519",
        "value": base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    });
    let f = verify_manifest(
        &serde_json::to_vec(&altered).unwrap(),
        &[rosa_key(&w)],
        None,
    )
    .failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].contains("/checkpoint: its signature does not verify"),
        "{f:?}"
    );
}

/// File names every OS can create, each once, case aside: files named alike
/// in two folders, or after a Windows device, get names of their own in
/// the manifest (the originals keep theirs).
#[test]
fn a_manifest_names_each_file_once_and_safely_on_any_os() {
    let w = World::new();
    for (folder, from, to) in [
        ("x", "exif-py/jpg/exif-org/fujifilm-mx1700.jpg", "A.JPG"),
        ("y", "exif-py/jpg/exif-org/nikon-e950.jpg", "CON.jpg"),
    ] {
        let dir = w.dir.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(crate::corpus(from), dir.join(to)).unwrap();
        let options = assay_core::ImportOptions {
            actor: Some(std::sync::Arc::clone(&w.cy)),
            ..assay_core::ImportOptions::default()
        };
        w.library.import(&[dir], &options, &mut |_| {}).unwrap();
    }
    approve_everything(&w);
    let all = Selection::Where(Filter::default());
    let out = w.dir.path().join("manifest.json");
    let export = w.library.export_manifest(&w.rosa, &all, &out).unwrap();
    assert_eq!(export.assets, 4);
    let bytes = std::fs::read(&out).unwrap();
    assert!(verify_manifest(&bytes, &[rosa_key(&w)], None)
        .failures
        .is_empty());
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let mut names: Vec<String> = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["file_name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    let lower: std::collections::HashSet<String> = names.iter().map(|n| n.to_lowercase()).collect();
    assert_eq!(lower.len(), 4, "{names:?}");
    for name in &names {
        assert_eq!(
            assay_core::file_names::file_name_problem(name),
            None,
            "{name}"
        );
    }
    assert!(names.contains(&"_CON.jpg".to_owned()), "{names:?}");
    // One of a.jpg and A.JPG keeps its name, the other gets its asset's.
    let renamed: Vec<&String> = names
        .iter()
        .filter(|n| n.to_lowercase().ends_with("-a.jpg"))
        .collect();
    assert_eq!(renamed.len(), 1, "{names:?}");
}
