//! The two phases of an import: every file browsable first, with a quick
//! thumbnail (`import --defer-previews`), then the previews (`assay
//! previews`), which resume wherever they were stopped. Picture sizes are
//! read by exiftool.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::support::{line_for, spawn_lines, stderr, Sandbox, CHILD_LIMIT};

/// A JPEG's pixel size, as exiftool reads it.
fn size(path: &Path) -> (u32, u32) {
    let out = Command::new("exiftool")
        .args(["-s3", "-ImageWidth", "-ImageHeight"])
        .arg(path)
        .output_within(CHILD_LIMIT)
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut numbers = text.lines().map(|l| l.trim().parse::<u32>().unwrap());
    (numbers.next().unwrap(), numbers.next().unwrap())
}

fn record_of<'a>(records: &'a [Value], name: &str) -> &'a Value {
    records
        .iter()
        .find(|r| {
            r["locations"][0]["path"]
                .as_str()
                .is_some_and(|p| p.ends_with(name))
        })
        .unwrap_or_else(|| panic!("no record for {name}"))
}

fn picture(record: &Value, kind: &str) -> Option<std::path::PathBuf> {
    record["previews"][kind].as_str().map(Into::into)
}

#[test]
fn a_deferred_import_is_browsable_at_once_and_assay_previews_finishes_it() {
    let s = Sandbox::new();
    // A 160x120 EXIF thumbnail in a photo shot on its side (orientation 6);
    // a 640x480 one; and a 2048x1536 photo with no thumbnail at all.
    s.add("exif-py/jpg/hdr/canon_hdr_YES.jpg", "turned.jpg");
    s.add("exif-py/jpg/gps/DSCN0012.jpg", "thumbnailed.jpg");
    s.add("exif-py/jpg/Reconyx_HC500_Hyperfire.jpg", "bare.jpg");

    let out = s
        .assay()
        .args(["import", "--json", "--defer-previews"])
        .arg(s.photos())
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (records, _) = s.json_lines(&["ls"]);
    assert_eq!(records.len(), 3);
    for r in &records {
        assert_eq!(r["previews"]["pending"], true, "{r}");
        assert!(r["previews"]["preview"].is_null(), "{r}");
        let quick = picture(r, "thumbnail").unwrap();
        assert!(quick.to_str().unwrap().ends_with("-quick.jpg"), "{quick:?}");
        // Dimensions come from the header, before any preview is made.
        assert!(r["width"].as_u64().is_some_and(|w| w > 0), "{r}");
    }
    // The EXIF thumbnail, turned upright; the DCT's 1/8 scale of the bare one.
    let quick = |name| size(&picture(record_of(&records, name), "thumbnail").unwrap());
    assert_eq!(quick("turned.jpg"), (120, 160));
    assert_eq!(quick("thumbnailed.jpg"), (160, 120));
    assert_eq!(quick("bare.jpg"), (256, 192));

    let (made, out) = s.json_lines(&["previews"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(made.len(), 3);
    for line in &made {
        assert_eq!(line["status"], "made", "{line}");
    }
    let (records, _) = s.json_lines(&["ls"]);
    for r in &records {
        assert_eq!(r["previews"]["pending"], false, "{r}");
        let thumbnail = picture(r, "thumbnail").unwrap();
        assert!(thumbnail.to_str().unwrap().ends_with("-thumb.jpg"));
        assert!(picture(r, "preview").unwrap().is_file());
    }
    let full = |name, kind| size(&picture(record_of(&records, name), kind).unwrap());
    assert_eq!(full("turned.jpg", "thumbnail"), (192, 256));
    assert_eq!(full("turned.jpg", "preview"), (1200, 1600));
    assert_eq!(full("bare.jpg", "preview"), (1600, 1200));
    // The quick thumbnails are gone with the marks that needed them.
    let quick_left = walk(&s.library().join("previews"))
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("-quick.jpg"))
        .count();
    assert_eq!(quick_left, 0);

    // Nothing is left to do: a second run reports nothing.
    let (again, out) = s.json_lines(&["previews"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(again.is_empty(), "{again:?}");
}

#[test]
fn a_file_out_of_reach_keeps_its_mark_until_it_is_back() {
    let s = Sandbox::new();
    let photo = s.add("exif-py/jpg/gps/DSCN0012.jpg", "a.jpg");
    s.add("exif-py/jpg/gps/DSCN0010.jpg", "b.jpg");
    import_deferred(&s);

    // As on a disk not connected.
    let away = s.dir.path().join("away.jpg");
    std::fs::rename(&photo, &away).unwrap();
    let (lines, out) = s.json_lines(&["previews"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(line_status(&lines, "a.jpg"), "unavailable");
    assert_eq!(line_status(&lines, "b.jpg"), "made");
    let (records, _) = s.json_lines(&["ls"]);
    assert_eq!(record_of(&records, "a.jpg")["previews"]["pending"], true);

    // A file whose bytes changed is not pictured as the asset either.
    std::fs::write(&photo, b"not the photo").unwrap();
    let (lines, _) = s.json_lines(&["previews"]);
    let line = line_for(&lines, "a.jpg");
    assert_eq!(line["status"], "unavailable", "{line}");
    assert!(
        line["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("content changed")),
        "{line}"
    );

    std::fs::rename(&away, &photo).unwrap();
    let (lines, _) = s.json_lines(&["previews"]);
    assert_eq!(lines.len(), 1);
    assert_eq!(line_status(&lines, "a.jpg"), "made");
}

/// Imports the sandbox's photos, leaving their previews for later.
fn import_deferred(s: &Sandbox) {
    let out = s
        .assay()
        .args(["import", "--defer-previews"])
        .arg(s.photos())
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn line_status<'a>(lines: &'a [Value], name: &str) -> &'a str {
    line_for(lines, name)["status"].as_str().unwrap()
}

/// `assay previews` killed (SIGKILL) midway: what it committed is kept, and
/// the next run makes exactly the rest, leaving no quick thumbnail behind.
#[test]
fn assay_previews_killed_midway_resumes_where_it_was() {
    let s = Sandbox::new();
    let n = 40;
    let jpeg = std::fs::read(crate::support::corpus_file(
        "exif-py/jpg/hdr/canon_hdr_YES.jpg",
    ))
    .unwrap();
    for i in 0..n {
        let mut bytes = jpeg.clone();
        bytes.extend_from_slice(format!("trailer {i}").as_bytes());
        std::fs::write(s.photos().join(format!("IMG_{i:04}.jpg")), bytes).unwrap();
    }
    import_deferred(&s);

    let (mut child, lines) = spawn_lines(s.assay().args(["previews", "--json", "--jobs", "1"]));
    let mut first = HashSet::new();
    while first.len() < 3 {
        let line = lines
            .recv_timeout(CHILD_LIMIT)
            .expect("assay previews to report its first assets");
        let v: Value = serde_json::from_str(&line).unwrap();
        first.insert(v["asset_id"].as_str().unwrap().to_owned());
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let (rest, out) = s.json_lines(&["previews"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let rest: HashSet<String> = rest
        .iter()
        .map(|l| l["asset_id"].as_str().unwrap().to_owned())
        .collect();
    assert!(rest.is_disjoint(&first), "reported twice");
    // The killed run committed at least what it reported.
    assert!(rest.len() <= n - first.len(), "{}", rest.len());
    let (records, _) = s.json_lines(&["ls"]);
    assert!(records.iter().all(|r| r["previews"]["pending"] == false));
    // A later import sweeps what the kill may have left unreferenced.
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let files = walk(&s.library().join("previews"));
    assert_eq!(files.len(), 2 * n, "{files:?}");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else if e.path().extension().is_some_and(|x| x == "jpg") {
            out.push(e.path());
        }
    }
    out
}
