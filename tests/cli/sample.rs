//! `assay sample-library`: what `make run` opens on a first run, made from
//! the repository's own photos, never over an existing library.

use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::support::{corpus_file, stderr, Sandbox, CHILD_LIMIT};

fn sample(s: &Sandbox, extra: &[&str]) -> std::process::Output {
    let photos = corpus_file("exif-py/jpg");
    let mut args = vec!["sample-library", "--from", photos.to_str().unwrap()];
    args.extend_from_slice(extra);
    s.run(&args)
}

fn states(records: &[Value]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["workflow_state"].as_str().unwrap().to_owned(),
                r["license_tag"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_sample_library_has_every_view_something_to_show() {
    let s = Sandbox::new();
    let out = sample(&s, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("passphrase of every sample user: sample"),
        "{said}"
    );

    let (records, out) = s.json_lines(&["ls"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let photos = walk_count(&corpus_file("exif-py/jpg"));
    assert_eq!(records.len(), photos, "every photo is an asset");
    let states = states(&records);
    let count = |state: &str, license: &str| {
        states
            .iter()
            .filter(|(s, l)| s == state && l == license)
            .count()
    };
    assert_eq!(count("approved", "CC-BY-4.0"), 1, "{states:?}");
    assert_eq!(count("pending", "CC-BY-4.0"), 3, "{states:?}");
    assert_eq!(count("quarantined", "PAY-ONE"), 1, "{states:?}");
    assert_eq!(count("draft", ""), photos - 5, "{states:?}");
    // Some photos are damaged: the grid shows their warnings too.
    assert!(records
        .iter()
        .any(|r| !r["warnings"].as_array().unwrap().is_empty()));

    // Each sample user unlocks with the printed passphrase, in their role.
    let out = s
        .assay()
        .env("ASSAY_PASSPHRASE", "sample")
        .args(["--as", "rosa", "queue", "--json"])
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let queue = String::from_utf8_lossy(&out.stdout);
    // A rights manager's queue: the three pending, and the quarantined one.
    assert_eq!(queue.lines().count(), 4, "{queue}");

    // The provenance of the approved asset verifies.
    let out = s.run(&["verify", "--provenance"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_sample_never_touches_an_existing_library() {
    let s = Sandbox::new();
    s.add("exif-py/jpg/Canon_40D.jpg", "mine.jpg");
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(s.library().join("library.db")).unwrap();

    let out = sample(&s, &[]);
    assert_eq!(out.status.code(), Some(2), "refused");
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = sample(&s, &["--if-missing"]);
    assert!(out.status.success(), "{}", stderr(&out));

    assert_eq!(
        std::fs::read(s.library().join("library.db")).unwrap(),
        before
    );
    let (records, _) = s.json_lines(&["ls"]);
    assert_eq!(records.len(), 1, "only the user's own asset");
}

#[test]
fn a_sample_that_cannot_be_made_leaves_nothing_behind() {
    let s = Sandbox::new();
    // Two photos are too few for every state a sample shows.
    s.add("exif-py/jpg/Canon_40D.jpg", "a.jpg");
    s.add("exif-py/jpg/gps/DSCN0010.jpg", "b.jpg");
    let photos = s.photos();
    let out = s.run(&["sample-library", "--from", photos.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("at least five photos"),
        "{}",
        stderr(&out)
    );
    let left: Vec<_> = std::fs::read_dir(s.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["photos"], "no library and no half-made one");
}

fn walk_count(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            if path.is_dir() {
                walk_count(&path)
            } else {
                1
            }
        })
        .sum()
}
