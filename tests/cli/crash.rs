use std::collections::HashSet;

use serde_json::Value;

use crate::support::{corpus_file, spawn_lines, stderr, Sandbox, CHILD_LIMIT};

/// Files of distinct content that each take real decoding work: a 2048x1536
/// camera JPEG with a different trailer after its end-of-image marker.
fn make_files(s: &Sandbox, n: usize) {
    let jpeg = std::fs::read(corpus_file("exif-py/jpg/hdr/canon_hdr_YES.jpg")).unwrap();
    for i in 0..n {
        let mut bytes = jpeg.clone();
        bytes.extend_from_slice(format!("trailer {i}").as_bytes());
        std::fs::write(s.photos().join(format!("IMG_{i:04}.jpg")), bytes).unwrap();
    }
}

fn preview_files(s: &Sandbox) -> Vec<std::path::PathBuf> {
    walk(&s.library().join("previews"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect()
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn kill_9_during_a_large_import_then_rerun_finishes_cleanly() {
    let s = Sandbox::new();
    let n = 60;
    make_files(&s, n);

    let (mut child, lines) = spawn_lines(s.assay().args(["import", "--json"]).arg(s.photos()));
    let mut reported = HashSet::new();
    while reported.len() < 4 {
        let line = lines
            .recv_timeout(CHILD_LIMIT)
            .expect("assay import to report its first files");
        let v: Value = serde_json::from_str(&line).unwrap();
        reported.insert(v["path"].as_str().unwrap().to_owned());
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        reported.len() < n,
        "the import finished before it could be killed"
    );

    // Files the killed run may have half-done vanish before the re-run, so
    // any preview it wrote for them is an orphan the re-run must sweep.
    let mut removed = 0;
    for i in (0..n).rev() {
        let p = s.photos().join(format!("IMG_{i:04}.jpg"));
        if removed < 5 && !reported.contains(p.to_str().unwrap()) {
            std::fs::remove_file(p).unwrap();
            removed += 1;
        }
    }

    let (lines, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines.len(), n - removed);
    for line in &lines {
        let path = line["path"].as_str().unwrap();
        let expected = if reported.contains(path) {
            "unchanged"
        } else {
            "imported"
        };
        // A file committed just before the kill but not yet reported is unchanged too.
        assert!(
            line["status"] == expected || line["status"] == "unchanged",
            "{line}"
        );
    }

    let (assets, _) = s.json_lines(&["ls"]);
    let checksums: HashSet<&str> = assets
        .iter()
        .map(|a| a["checksum"].as_str().unwrap())
        .collect();
    assert_eq!(checksums.len(), assets.len(), "no duplicate assets");
    // Assets of removed files committed before the kill stay, as they must:
    // the catalog never forgets an asset. Everything else is one per file.
    assert!(
        assets.len() >= n - removed && assets.len() <= n,
        "{} assets",
        assets.len()
    );
    // Every picture a record names is there, and nothing else is: an
    // asset whose file was removed before its previews were made keeps its
    // quick thumbnail, marked for a later run.
    let named: HashSet<String> = assets
        .iter()
        .flat_map(|a| [&a["previews"]["thumbnail"], &a["previews"]["preview"]])
        .filter_map(|p| p.as_str().map(str::to_owned))
        .collect();
    let on_disk: HashSet<String> = preview_files(&s)
        .into_iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(on_disk, named, "no orphan or missing previews");
    for a in &assets {
        let has_preview = a["previews"]["preview"].is_string();
        assert_eq!(a["previews"]["pending"], !has_preview, "{a}");
    }
    let (verify, _) = s.json_lines(&["verify"]);
    assert_eq!(verify.len(), assets.len(), "one location per asset");
}

/// An export killed (SIGKILL) after committing its events and before
/// renaming its manifest into place: the next command that opens the
/// library puts the manifest there, whole and verifying.
#[test]
fn a_manifest_export_killed_between_commit_and_rename_is_finished_by_the_next_run() {
    let sb = crate::users::setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    crate::users::ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    crate::users::ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let id = assets[0]["asset_id"].as_str().unwrap().to_owned();
    for set in [
        "license_tag=CC-BY-4.0",
        "tax_and_payout_info=acct_cy",
        "signed_contract_id=K-1",
        "creator_name=Cy",
    ] {
        crate::users::ok(&sb.as_user("cy", &["edit", &id, "--set", set]));
    }
    crate::users::ok(&sb.as_user("cy", &["submit", &id]));
    crate::users::ok(&sb.as_user("rosa", &["approve", &id]));

    let out = sb.dir.path().join("manifest.json");
    let marker = sb.dir.path().join("committed");
    let mut export = sb.assay();
    export
        .args(["--as", "rosa", "manifest", "export", &id, "--out"])
        .arg(&out)
        .env("ASSAY_PASSPHRASE", "rosa pass")
        .env("ASSAY_TEST_STOP_AFTER_COMMIT", &marker);
    let mut child = assay_deadline::spawn(&mut export, "assay manifest export").unwrap();
    assay_deadline::until("the export to commit", CHILD_LIMIT, || {
        marker.exists().then_some(())
    })
    .unwrap();
    assay_deadline::stop(&mut child);
    // Killed: the events are committed, the manifest only staged beside.
    assert!(!out.exists());
    let staged: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".manifest.json.") && n.ends_with(".tmp"))
        .collect();
    assert_eq!(staged.len(), 1, "{staged:?}");

    // Any command that opens the library finishes it.
    crate::users::ok(&sb.run(&["ls"]));
    assert!(out.is_file());
    let key = sb.dir.path().join("rosa.pem");
    let pem = sb.run(&["user", "key", "rosa"]);
    crate::users::ok(&pem);
    std::fs::write(&key, &pem.stdout).unwrap();
    crate::users::ok(&sb.run(&[
        "manifest",
        "verify",
        out.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ]));
    let events = sb.json_lines(&["provenance", &id]).0;
    assert!(events.iter().any(|e| e["kind"] == "export"), "{events:?}");
    assert!(std::fs::read_dir(sb.dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
}
