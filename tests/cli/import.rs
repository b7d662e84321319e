use std::os::unix::ffi::OsStrExt;

use assay_deadline::OutputWithin;

use crate::support::{corpus_file, line_for, stderr, Sandbox, CHILD_LIMIT};

#[test]
fn import_reimport_and_duplicates() {
    let s = Sandbox::new();
    s.add("exif-py/jpg/Canon_40D.jpg", "a.jpg");
    s.add("exif-py/jpg/gps/DSCN0010.jpg", "nested/deeper/b.jpg");
    s.add("exif-py/jpg/Canon_40D.jpg", "c-copy.jpg");
    s.add("exif-py/jpg/Canon_40D.jpg", ".hidden.jpg");
    std::fs::write(s.photos().join("Thumbs.db"), b"system junk").unwrap();
    std::fs::write(
        s.photos().join("data.csv"),
        b"name,email\nann,a@x.org\n\"multi\nline\",b@x.org\n",
    )
    .unwrap();
    std::fs::write(s.photos().join("empty.jpg"), b"").unwrap();

    let (lines, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        lines.len(),
        5,
        "hidden and system files are skipped: {lines:#?}"
    );
    // Two workers race for identical bytes: either copy may be the one
    // imported; the other is a duplicate of the same asset.
    let (a, copy) = (line_for(&lines, "/a.jpg"), line_for(&lines, "/c-copy.jpg"));
    let mut statuses = [
        a["status"].as_str().unwrap(),
        copy["status"].as_str().unwrap(),
    ];
    statuses.sort_unstable();
    assert_eq!(statuses, ["duplicate", "imported"]);
    assert_eq!(
        a["checksum"],
        "sha256:6bfdabd4fc33d112283c147acccc574e770bbe6fbdbc3d4da968ba7b606ecc2f"
    );
    assert_eq!(copy["asset_id"], a["asset_id"], "same bytes, same asset");
    assert_eq!(line_for(&lines, "/b.jpg")["status"], "imported");
    let empty = line_for(&lines, "/empty.jpg");
    assert_eq!(empty["status"], "imported");
    assert!(empty["warnings"][0].as_str().unwrap().contains("empty"));

    // The duplicate is a second location of one asset.
    let show = s.run(&["show", "--json", a["asset_id"].as_str().unwrap()]);
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(record["locations"].as_array().unwrap().len(), 2);
    let csv = s.run(&[
        "show",
        "--json",
        s.photos().join("data.csv").to_str().unwrap(),
    ]);
    let csv: serde_json::Value = serde_json::from_slice(&csv.stdout).unwrap();
    assert_eq!(
        (csv["media_type"].as_str(), csv["row_count"].as_u64()),
        (Some("text/csv"), Some(2))
    );

    // A second run reads nothing again.
    let (again, out) = s.import(&[&s.photos()]);
    assert!(out.status.success());
    assert_eq!(again.len(), 5);
    assert!(
        again.iter().all(|l| l["status"] == "unchanged"),
        "{again:#?}"
    );
    assert!(
        stderr(&out).contains("0 imported, 0 duplicates, 5 unchanged"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn odd_names_links_and_loops() {
    let s = Sandbox::new();
    // A name that is not UTF-8.
    let odd = s
        .photos()
        .join(std::ffi::OsStr::from_bytes(b"caf\xe9 \xff.jpg"));
    std::fs::copy(
        crate::support::corpus_file("exif-py/jpg/Canon_40D.jpg"),
        &odd,
    )
    .unwrap();
    s.add(
        "exif-py/jpg/gps/DSCN0010.jpg",
        "spaces and ünïcödé/DSCN 0010 (1).jpg",
    );
    // A symlink loop and a dangling link.
    std::os::unix::fs::symlink(s.photos(), s.photos().join("loop")).unwrap();
    std::os::unix::fs::symlink(s.photos().join("gone.jpg"), s.photos().join("dangling.jpg"))
        .unwrap();

    let (lines, out) = s.import(&[&s.photos()]);
    let err = stderr(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file that cannot be read fails the run: {err}"
    );
    let dangling = line_for(&lines, "/dangling.jpg");
    assert_eq!(dangling["status"], "failed");
    assert!(
        dangling["error"].as_str().unwrap().contains("not found"),
        "{dangling}"
    );
    assert!(err.contains("symbolic link loop"), "{err}");
    let odd_line = lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().contains("caf"))
        .unwrap();
    assert_eq!(odd_line["status"], "imported");
    assert!(odd_line["warnings"].to_string().contains("not valid UTF-8"));
    assert_eq!(line_for(&lines, "/DSCN 0010 (1).jpg")["status"], "imported");

    // The non-UTF-8 path round-trips: re-import finds it unchanged.
    let (again, _) = s.import(&[&odd]);
    assert_eq!(again[0]["status"], "unchanged");
}

#[test]
fn a_missing_argument_is_a_clear_failure() {
    let s = Sandbox::new();
    let missing = s.photos().join("nope");
    let (lines, out) = s.import(&[&missing]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(lines[0]["status"], "failed");
    assert!(lines[0]["path"].as_str().unwrap().ends_with("/nope"));
}

#[test]
fn two_imports_at_once_into_one_library_both_finish_with_every_preview() {
    // The app's watched folder and an import in a terminal, at the same time.
    let s = Sandbox::new();
    let jpeg = std::fs::read(corpus_file("exif-py/jpg/hdr/canon_hdr_YES.jpg")).unwrap();
    let folders = [s.photos().join("one"), s.photos().join("two")];
    for (n, folder) in folders.iter().enumerate() {
        std::fs::create_dir_all(folder).unwrap();
        for i in 0..12 {
            let mut bytes = jpeg.clone();
            bytes.extend_from_slice(format!("folder {n} file {i}").as_bytes());
            std::fs::write(folder.join(format!("IMG_{i:02}.jpg")), bytes).unwrap();
        }
    }
    // The library exists first, so neither import creates it under the other.
    let empty = s.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (_, out) = s.import(&[&empty]);
    assert!(out.status.success(), "{}", stderr(&out));

    let imports: Vec<_> = folders
        .iter()
        .map(|folder| {
            let mut cmd = s.assay();
            cmd.args(["import", "--json"]).arg(folder);
            std::thread::spawn(move || cmd.output_within(CHILD_LIMIT).unwrap())
        })
        .collect();
    for import in imports {
        let out = import.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }

    let (records, _) = s.json_lines(&["ls"]);
    assert_eq!(records.len(), 24);
    for r in &records {
        for preview in ["thumbnail", "preview"] {
            let path = r["previews"][preview].as_str().unwrap();
            assert!(
                std::path::Path::new(path).is_file(),
                "{preview} of {}: {path}",
                r["asset_id"]
            );
        }
    }
}
