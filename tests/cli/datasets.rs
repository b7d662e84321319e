//! `assay dataset` through the binary: a saved selection in the `--where`
//! language of `ls`, listed, and shown with what a build would leave out
//! and why; built into versions that `assay dataset verify` checks and a
//! trainer reads with webdataset and pyarrow.

use std::path::{Path, PathBuf};
use std::process::Command;

use assay_deadline::OutputWithin;
use serde_json::{json, Value};

use crate::c2pa::{assertion, c2patool_report};
use crate::checkpoints::cut_last_event;
use crate::dataset_market::approve;
use crate::support::{asset_id_of, stderr, CHILD_LIMIT};
use crate::users::{ok, setup};

#[test]
fn a_dataset_is_saved_listed_and_shown_through_the_binary() {
    let sb = setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    sb.add("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg");
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));

    let create = [
        "dataset",
        "create",
        "jpegs",
        "--where",
        "media_type=image/jpeg",
    ];
    let out = sb.as_user("cy", &create);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    let out = sb.as_user("rosa", &create);
    ok(&out);
    let out = sb.as_user(
        "rosa",
        &["dataset", "create", "odd", "--where", "colour=red"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--where colour: unknown key"),
        "{}",
        stderr(&out)
    );

    let (listed, out) = sb.json_lines(&["dataset", "ls"]);
    ok(&out);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["name"], "jpegs");
    assert_eq!(listed[0]["selector"]["media_type"], "image/jpeg");
    assert_eq!(listed[0]["created_by"], "rosa");

    let (shown, out) = sb.json_lines(&["dataset", "show", "JPEGS"]);
    ok(&out);
    let view: &Value = &shown[0];
    assert_eq!(
        (view["matched"].as_u64(), view["eligible"].as_u64()),
        (Some(2), Some(0))
    );
    let reasons: Vec<&str> = view["left_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 2);
    assert!(
        reasons.iter().all(|r| r.contains("it is draft")),
        "{reasons:?}"
    );
}

/// The Python the tests run the trainer's tools with (scripts/setup.sh
/// installs webdataset and pyarrow into it). Missing, the test fails.
pub(crate) fn trainer_python() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let python = Path::new(&home).join(".cache/assay/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    python
}

/// `tests/trainer/read_shards.py` on a version's manifest: what webdataset
/// or pyarrow read from its shards, every sample held to the manifest.
fn trainer_reads(manifest: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/trainer/read_shards.py");
    let out = Command::new(trainer_python())
        .arg(script)
        .arg(manifest)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_built_version_verifies_and_a_trainer_reads_it_with_webdataset_and_pyarrow() {
    let sb = setup();
    for (from, to) in [
        ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
        ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
        ("exif-py/jpg/exif-org/canon-ixus.jpg", "c.jpg"),
    ] {
        sb.add(from, to);
    }
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let id_of = |name: &str| asset_id_of(&assets, name);
    let ids = [id_of("a.jpg"), id_of("b.jpg"), id_of("c.jpg")];
    // Two approved; the third stays a draft and is left out, named.
    approve(&sb, &[&ids[0], &ids[1]], &[]);
    ok(&sb.as_user(
        "rosa",
        &[
            "dataset",
            "create",
            "harbour",
            "--where",
            "media_type=image",
        ],
    ));

    let tars = sb.dir.path().join("tars");
    let build = |format: &str, out: &Path, size: &str| {
        sb.as_user(
            "rosa",
            &[
                "dataset",
                "build",
                "harbour",
                "--format",
                format,
                "--out",
                out.to_str().unwrap(),
                "--shard-size",
                size,
                "--c2pa",
                "--json",
            ],
        )
    };
    let out = build("webdataset", &tars, "1");
    ok(&out);
    let built: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(built["version"], 1);
    assert_eq!(built["shards"].as_array().unwrap().len(), 2);
    assert_eq!(built["left_out"][0]["asset_id"], json!(ids[2]));
    let manifest = tars.join("harbour-v1.manifest.json");
    let out = sb.as_user("rosa", &["dataset", "verify", manifest.to_str().unwrap()]);
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 assets, 2 shards checked"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        trainer_reads(&manifest),
        json!({"format": "webdataset", "shards": 2, "samples": 2})
    );

    // Each sample's C2PA sidecar, beside its file, is what c2patool (the
    // Content Authenticity Initiative's) trusts under the library's CA.
    let anchors = sb.dir.path().join("library-ca.pem");
    let trust = sb.run(&["c2pa", "trust"]);
    ok(&trust);
    std::fs::write(&anchors, &trust.stdout).unwrap();
    let sample = sb.dir.path().join("sample");
    std::fs::create_dir_all(&sample).unwrap();
    let mut archive =
        tar::Archive::new(std::fs::File::open(tars.join("harbour-v1-00000-of-00002.tar")).unwrap());
    archive.unpack(&sample).unwrap();
    let first = built["shards"][0]["assets"][0].as_str().unwrap();
    let file = sample.join(format!("{first}.jpg"));
    assert!(sample.join(format!("{first}.c2pa")).is_file());
    let report = c2patool_report(&file, Some(&anchors));
    assert_eq!(report["validation_state"], "Trusted", "{report:#}");
    assert_eq!(assertion(&report, "assay.asset")["asset_id"], first);

    let rows = sb.dir.path().join("rows");
    ok(&build("parquet", &rows, "500MB"));
    let manifest = rows.join("harbour-v2.manifest.json");
    assert_eq!(
        trainer_reads(&manifest),
        json!({"format": "parquet", "shards": 1, "samples": 2})
    );

    // `dataset show` lists the versions built.
    let out = sb.run(&["dataset", "show", "harbour"]);
    ok(&out);
    let shown = String::from_utf8_lossy(&out.stdout);
    for line in [
        "v1\twebdataset\t2 assets\t2 shards",
        "v2\tparquet\t2 assets\t1 shards",
    ] {
        assert!(shown.contains(line), "{line:?} not in {shown}");
    }

    // A sample's bytes changed inside a shard: the trainer's read and
    // `assay dataset verify` both refuse it.
    let shard = tars.join("harbour-v1-00001-of-00002.tar");
    let mut bytes = std::fs::read(&shard).unwrap();
    bytes[2000] ^= 1;
    std::fs::write(&shard, &bytes).unwrap();
    let out = sb.as_user(
        "rosa",
        &[
            "dataset",
            "verify",
            tars.join("harbour-v1.manifest.json").to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("harbour-v1-00001-of-00002.tar"),
        "{}",
        stderr(&out)
    );
    let out = Command::new(trainer_python())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/trainer/read_shards.py"))
        .arg(tars.join("harbour-v1.manifest.json"))
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(!out.status.success());
    assert!(stderr(&out).contains("does not hash"), "{}", stderr(&out));

    // The manifest carries the library's checkpoint as the build began:
    // held apart, it catches the library folder rewritten after it (a chain
    // cut short past what it saw, the checkpoints folder removed).
    let held = tars.join("harbour-v1.manifest.json");
    let held = held.to_str().unwrap();
    ok(&sb.run(&["verify", "--provenance", "--checkpoint", held]));
    let db = rusqlite::Connection::open(sb.library().join("library.db")).unwrap();
    // The two builds' events, then the approval the checkpoint saw.
    for _ in 0..3 {
        cut_last_event(&db, &ids[0]);
    }
    std::fs::remove_dir_all(sb.library().join("checkpoints")).unwrap();
    let out = sb.run(&["verify", "--provenance", "--checkpoint", held]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        said.contains("checked against checkpoint") && said.contains("harbour-v1.manifest.json"),
        "{said}"
    );
    assert!(said.contains("are not those the checkpoint saw"), "{said}");

    // Who may build: a steward curates but does not sign.
    let out = sb.as_user(
        "cy",
        &[
            "dataset", "build", "harbour", "--format", "parquet", "--out", "x",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
}
