use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;

use serde_json::Value;

use crate::support::{corpus_file, stderr, Sandbox, CHILD_LIMIT};

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

fn preview_files(s: &Sandbox) -> usize {
    walk(&s.library().join("previews"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .count()
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

    let mut child = s
        .assay()
        .args(["import", "--json"])
        .arg(s.photos())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Its lines arrive through a channel, so a stalled import fails the
    // test with a reason instead of blocking the read.
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
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
    assert_eq!(
        preview_files(&s),
        2 * assets.len(),
        "no orphan or missing previews"
    );
    let (verify, _) = s.json_lines(&["verify"]);
    assert_eq!(verify.len(), assets.len(), "one location per asset");
}
