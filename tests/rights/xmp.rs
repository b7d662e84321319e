//! XMP sidecars, read back with exiftool as Lightroom and digiKam would see
//! them.

use std::process::Command;

use assay_core::licenses::Taxonomy;
use assay_core::{Change, Filter, Role, Selection};
use assay_deadline::OutputWithin;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::{World, CHILD_LIMIT, PASS};

/// exiftool's reading of a sidecar: group-qualified names, raw values.
fn exiftool(path: &std::path::Path) -> Value {
    let out = Command::new("exiftool")
        .args(["-j", "-G1", "-n"])
        .arg(path)
        .output_within(CHILD_LIMIT)
        .expect("exiftool is installed by scripts/setup.sh (libimage-exiftool-perl)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.remove(0)
}

#[test]
fn sidecars_carry_rights_license_and_the_training_flag_and_leave_originals_alone() {
    let w = World::new();
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = w.library.unlock("sam", PASS).unwrap();
    let records = w.library.list(&Filter::default()).unwrap();
    let by_name = |name: &str| {
        records
            .iter()
            .find(|r| r.locations[0].path.ends_with(name))
            .unwrap()
            .clone()
    };
    let (a, b) = (by_name("a.jpg"), by_name("b.jpg"));
    w.library
        .edit(
            &sam,
            &Selection::Where(Filter::default()),
            &[
                Change::set("creator_name", json!("Cy Tw & Co")),
                Change::set("title", json!("Harbour <dusk>")),
            ],
        )
        .unwrap();
    for (record, tag) in [(&a, "NO-TRAIN"), (&b, "CC-BY-4.0")] {
        w.library
            .edit(
                &sam,
                &Selection::Assets(vec![record.asset_id.clone()]),
                &[Change::set("license_tag", json!(tag))],
            )
            .unwrap();
    }
    let photos = w.dir.path().join("photos");
    let before: Vec<Vec<u8>> = ["a.jpg", "b.jpg"]
        .iter()
        .map(|n| std::fs::read(photos.join(n)).unwrap())
        .collect();
    let export = w
        .library
        .export_xmp(&Selection::Where(Filter::default()), None)
        .unwrap();
    assert_eq!((export.written.len(), export.refused.len()), (2, 0));

    let taxonomy = Taxonomy::shipped();
    for (record, name, tag) in [(&a, "a.jpg", "NO-TRAIN"), (&b, "b.jpg", "CC-BY-4.0")] {
        let current = w.library.record(&record.asset_id).unwrap();
        let x = exiftool(&photos.join(format!("{name}.xmp")));
        let license = taxonomy.get(tag).unwrap();
        assert_eq!(x["XMP-dc:Creator"], "Cy Tw & Co", "{x}");
        assert_eq!(x["XMP-dc:Title"], "Harbour <dusk>", "{x}");
        assert_eq!(x["XMP-dc:Rights"], "Copyright Cy Tw & Co", "{x}");
        assert_eq!(
            x["XMP-iptcCore:CopyrightNotice"], "Copyright Cy Tw & Co",
            "{x}"
        );
        assert_eq!(
            x["XMP-xmpRights:UsageTerms"],
            json!(format!("{tag}: {}", license.explanation)),
            "{x}"
        );
        assert_eq!(x["XMP-plus:LicensorName"], "Cy Tw & Co", "{x}");
        assert_eq!(
            x["XMP-plus:DataMining"],
            json!(license.iptc_data_mining.uri()),
            "{x}"
        );
        assert_eq!(x["XMP-assay:Checksum"], json!(current.checksum), "{x}");
        assert_eq!(
            x["XMP-assay:ProvenanceHash"],
            json!(current.workflow.provenance_hash),
            "{x}"
        );
        assert_eq!(x["XMP-assay:LicenseTag"], tag, "{x}");
        // RSL 1.0, read back from exiftool's text: the same answer.
        let rsl = x["XMP-assay:Rsl"].as_str().unwrap();
        assert!(
            rsl.starts_with("<rsl xmlns=\"https://rslstandard.org/rsl\"><content url=\""),
            "{rsl}"
        );
        assert_eq!(
            assay_core::licenses::rsl_prohibited_usages(rsl).contains(&"ai-train".to_owned()),
            !license.ai_training_allowed,
            "{tag}: {rsl}"
        );
    }
    // NO-TRAIN says no to AI/ML training; CC-BY-4.0 allows it.
    let no_train = exiftool(&photos.join("a.jpg.xmp"));
    assert_eq!(
        no_train["XMP-plus:DataMining"],
        "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
    );
    // The originals are byte for byte what they were.
    for (n, bytes) in ["a.jpg", "b.jpg"].iter().zip(&before) {
        let now = std::fs::read(photos.join(n)).unwrap();
        assert_eq!(Sha256::digest(&now), Sha256::digest(bytes), "{n} changed");
    }

    // Another tool's sidecar stays as it is; --out writes elsewhere.
    std::fs::write(
        photos.join("b.jpg.xmp"),
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>",
    )
    .unwrap();
    let again = w
        .library
        .export_xmp(&Selection::Where(Filter::default()), None)
        .unwrap();
    assert_eq!(again.written.len(), 1);
    assert_eq!(again.refused[0].asset_id, b.asset_id);
    assert!(
        again.refused[0].reason.contains("another tool"),
        "{:?}",
        again.refused
    );
    let out = w.dir.path().join("sidecars");
    std::fs::create_dir(&out).unwrap();
    let elsewhere = w
        .library
        .export_xmp(&Selection::Where(Filter::default()), Some(&out))
        .unwrap();
    assert_eq!(elsewhere.written.len(), 2);
    assert_eq!(
        exiftool(&out.join("b.jpg.xmp"))["XMP-assay:LicenseTag"],
        "CC-BY-4.0"
    );
}
