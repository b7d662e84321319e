//! The Croissant 1.1 view of a manifest export: what MLCommons' own
//! validator makes of it, and that it lists what the signed manifest would.

use std::path::{Path, PathBuf};
use std::process::Command;

use assay_core::{Change, Filter, Selection};
use assay_deadline::OutputWithin;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::manifest::approved_world;
use crate::CHILD_LIMIT;

/// MLCommons' `mlcroissant`, which scripts/setup.sh installs. Missing, the
/// test fails: a skipped validation would pass unnoticed.
pub(crate) fn mlcroissant() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let bin = Path::new(&home).join(".cache/assay/venv/bin/mlcroissant");
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/setup.sh",
        bin.display()
    );
    bin
}

/// Runs `mlcroissant validate` on `file`; panics with its output unless it
/// accepts the file without an error or a warning.
pub(crate) fn validate(file: &Path) {
    let out = Command::new(mlcroissant())
        .args(["validate", "--jsonld"])
        .arg(file)
        .output_within(CHILD_LIMIT)
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "mlcroissant validate failed:\n{log}");
    assert!(
        !log.contains("error(s)") && !log.contains("warning(s)"),
        "mlcroissant validate complained:\n{log}"
    );
    assert!(log.contains("Done."), "{log}");
}

/// The records mlcroissant loads from `record_set` of the Croissant file
/// `file`, each field's value as JSON: bytes as `{"sha256", "text"}` (the
/// text when they are UTF-8), an image as `{"width", "height"}`, other
/// values as they are. Its cache (which
/// it keys by a file's URL alone) is a fresh folder each time.
pub(crate) fn load_records(file: &Path, record_set: &str) -> Vec<Value> {
    const LOAD: &str = r#"
import hashlib, json, sys
import mlcroissant as mlc
def plain(v):
    if isinstance(v, bytes):
        try:
            text = v.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        return {"sha256": hashlib.sha256(v).hexdigest(), "text": text}
    if hasattr(v, "item"):
        return v.item()
    if hasattr(v, "size") and hasattr(v, "mode"):
        return {"width": v.size[0], "height": v.size[1]}
    return v
for record in mlc.Dataset(jsonld=sys.argv[1]).records(sys.argv[2]):
    print(json.dumps({k.split("/", 1)[1]: plain(v) for k, v in record.items()}))
"#;
    let python = mlcroissant().with_file_name("python");
    let cache = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .args(["-c", LOAD])
        .arg(file)
        .arg(record_set)
        .env("CROISSANT_CACHE", cache.path())
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        out.status.success(),
        "mlcroissant could not load {record_set}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_croissant_view_lists_approved_assets_with_their_licenses_and_validates() {
    let (w, sam) = approved_world();
    let records = w.library.list(&Filter::default()).unwrap();
    // Two licenses: b.jpg moves to a brand license (back to review) and is approved again.
    let b = records
        .iter()
        .find(|r| r.locations[0].path.ends_with("b.jpg"))
        .unwrap();
    let just_b = Selection::Assets(vec![b.asset_id.clone()]);
    w.library
        .edit(
            &sam,
            &just_b,
            &[Change::set("license_tag", json!("BRAND-NONEXCL"))],
        )
        .unwrap();
    w.library.approve(&w.rosa, &just_b, None).unwrap();

    // Written beside the photos, so each contentUrl names a real file.
    let photos = w.dir.path().join("photos");
    let out = photos.join("croissant.json");
    let all = Selection::Where(Filter::default());
    let export = w.library.export_croissant(&w.rosa, &all, &out).unwrap();
    assert_eq!((export.assets, export.refused.len()), (2, 0));
    validate(&out);

    let bytes = std::fs::read(&out).unwrap();
    let file_hash = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    assert_eq!(export.manifest_hash, file_hash);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(doc["@type"], "sc:Dataset");
    assert_eq!(doc["dct:conformsTo"], "http://mlcommons.org/croissant/1.1");
    assert_eq!(doc["@id"], json!(export.manifest_id));
    assert_eq!(doc["creator"]["name"], "rosa");
    let licenses = doc["license"].as_array().unwrap();
    assert_eq!(licenses.len(), 2, "{licenses:?}");
    let license = |id: &Value| licenses.iter().find(|l| l["@id"] == *id).unwrap();

    let files = doc["distribution"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    for file in files {
        let r = records.iter().find(|r| r.asset_id == file["@id"]).unwrap();
        assert_eq!(file["@type"], "cr:FileObject");
        let name = Path::new(&r.locations[0].path).file_name().unwrap();
        assert_eq!(file["name"], json!(name.to_str().unwrap()));
        assert_eq!(file["contentUrl"], file["name"]);
        assert_eq!(
            file["sha256"],
            json!(r.checksum.strip_prefix("sha256:").unwrap())
        );
        // The file the contentUrl names has that digest and size.
        let content = std::fs::read(photos.join(name)).unwrap();
        assert_eq!(file["sha256"], json!(hex::encode(Sha256::digest(&content))));
        assert_eq!(file["contentSize"], json!(format!("{} B", content.len())));
        assert_eq!(file["encodingFormat"], json!(r.media_type));
        assert_eq!(file["encodingFormat"], "image/jpeg");
        assert_eq!(file["creditText"], "Cy");
        let tag = if r.asset_id == b.asset_id {
            "BRAND-NONEXCL"
        } else {
            "CC-BY-4.0"
        };
        let license = license(&file["license"]["@id"]);
        assert_eq!(license["name"], tag);
        if tag == "CC-BY-4.0" {
            assert_eq!(
                license["url"],
                "https://creativecommons.org/licenses/by/4.0/"
            );
        }
        // The export is the asset's latest event, and it names this file.
        let events = w.library.provenance(&r.asset_id).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.kind, "export");
        assert_eq!(last.data["format"], "croissant");
        assert_eq!(last.data["manifest_id"], json!(export.manifest_id));
        assert_eq!(last.data["manifest_hash"], json!(file_hash));
    }
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());

    // An edit sends a.jpg back to review: it is refused, and absent.
    let a = records.iter().find(|r| r.asset_id != b.asset_id).unwrap();
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![a.asset_id.clone()]),
            &[Change::set("title", json!("x"))],
        )
        .unwrap();
    let export = w.library.export_croissant(&w.rosa, &all, &out).unwrap();
    assert_eq!(export.assets, 1);
    assert_eq!(export.refused.len(), 1);
    assert_eq!(export.refused[0].asset_id, a.asset_id);
    assert!(
        export.refused[0].reason.contains("pending"),
        "{:?}",
        export.refused
    );
    validate(&out);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let files = doc["distribution"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["@id"], json!(b.asset_id));
    assert_eq!(doc["license"].as_array().unwrap().len(), 1);
    assert!(!String::from_utf8_lossy(&std::fs::read(&out).unwrap()).contains(&a.asset_id));
}

#[test]
fn only_a_rights_manager_exports_a_croissant_view_and_never_an_empty_one() {
    let (w, sam) = approved_world();
    let all = Selection::Where(Filter::default());
    let out = w.dir.path().join("c.json");
    let err = w.library.export_croissant(&sam, &all, &out).unwrap_err();
    assert!(
        matches!(err, assay_core::Error::Refused { rule: "role", .. }),
        "{err}"
    );
    w.library
        .edit(&sam, &all, &[Change::set("title", json!("x"))])
        .unwrap();
    let err = w.library.export_croissant(&w.rosa, &all, &out).unwrap_err();
    assert!(
        matches!(
            err,
            assay_core::Error::Refused {
                rule: "approved-only",
                ..
            }
        ),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_videos_length_and_frame_size_are_in_its_file_object_and_mlcroissant_accepts_them() {
    let w = crate::World::new();
    let photos = w.dir.path().join("photos");
    let video = photos.join("clip.mp4");
    crate::test_clip(
        &video,
        2.5,
        "320x240",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    let options = assay_core::ImportOptions {
        actor: Some(std::sync::Arc::clone(&w.cy)),
        ..Default::default()
    };
    w.library.import(&[video], &options, &mut |_| {}).unwrap();
    crate::manifest::approve_everything(&w);

    let out = photos.join("croissant.json");
    let all = Selection::Where(Filter::default());
    let export = w.library.export_croissant(&w.rosa, &all, &out).unwrap();
    assert_eq!(export.assets, 3);
    validate(&out);
    let doc: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let files = doc["distribution"].as_array().unwrap();
    let clip = files.iter().find(|f| f["name"] == "clip.mp4").unwrap();
    assert_eq!(clip["encodingFormat"], "video/mp4");
    // The container's length (the encoder's priming included), to the millisecond.
    let seconds: f64 = clip["duration"]
        .as_str()
        .and_then(|d| d.strip_prefix("PT")?.strip_suffix('S')?.parse().ok())
        .unwrap_or_else(|| panic!("{clip:#}"));
    let record = w.library.record(clip["@id"].as_str().unwrap()).unwrap();
    let recorded = record.media.unwrap().duration.unwrap();
    assert!(
        (seconds - recorded).abs() < 0.001 && (seconds - 2.5).abs() < 0.1,
        "{clip:#}"
    );
    assert_eq!(clip["videoFrameSize"], "320x240", "{clip:#}");
    // Photos have neither.
    for photo in files.iter().filter(|f| f["name"] != "clip.mp4") {
        assert!(photo.get("duration").is_none() && photo.get("videoFrameSize").is_none());
    }
}
