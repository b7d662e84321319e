use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::support::{corpus_file, Sandbox, CHILD_LIMIT};

/// A running `assay watch --json`, killed when dropped.
struct Watcher {
    child: Child,
    lines: mpsc::Receiver<Value>,
}

impl Watcher {
    fn start(s: &Sandbox) -> Watcher {
        Watcher::start_as(s, &[])
    }

    /// Started with `who` (e.g. `--as NAME`) before the command.
    fn start_as(s: &Sandbox, who: &[&str]) -> Watcher {
        let mut child = s
            .assay()
            .args(who)
            .args(["watch", "--json", "--debounce-ms", "200"])
            .arg(s.photos())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(serde_json::from_str(&line).unwrap()).is_err() {
                    break;
                }
            }
        });
        Watcher { child, lines }
    }

    /// The next event of kind `event`, skipping others; fails after 30 s.
    fn next(&self, event: &str) -> Value {
        let mut skipped = Vec::new();
        loop {
            let v = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no {event} event within 30 s; skipped {skipped:#?}"));
            if v["event"] == event {
                return v;
            }
            skipped.push(v);
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn watch_imports_new_files_follows_renames_and_marks_deletions() {
    let s = Sandbox::new();
    let w = Watcher::start(&s);
    w.next("ready");

    let a = s.photos().join("a.jpg");
    std::fs::copy(corpus_file("exif-py/jpg/Canon_40D.jpg"), &a).unwrap();
    let imported = w.next("file");
    assert_eq!(imported["file"]["status"], "imported");
    assert!(imported["file"]["path"]
        .as_str()
        .unwrap()
        .ends_with("/a.jpg"));
    let asset_id = imported["file"]["asset_id"].clone();

    let renamed = s.photos().join("renamed.jpg");
    std::fs::rename(&a, &renamed).unwrap();
    let moved = w.next("moved");
    assert!(
        moved["from"].as_str().unwrap().ends_with("/a.jpg"),
        "{moved}"
    );
    assert!(
        moved["to"].as_str().unwrap().ends_with("/renamed.jpg"),
        "{moved}"
    );
    assert_eq!(moved["asset_id"], asset_id, "a moved file keeps its asset");

    std::fs::remove_file(&renamed).unwrap();
    let missing = w.next("missing");
    assert!(missing["path"].as_str().unwrap().ends_with("/renamed.jpg"));
    drop(w);

    // The asset survives with its one location marked missing.
    let out = s.run(&["show", "--json", asset_id.as_str().unwrap()]);
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(record["locations"].as_array().unwrap().len(), 1, "{record}");
    assert_eq!(record["locations"][0]["status"], "missing");
}

#[test]
fn watch_catches_up_with_changes_made_while_not_watching() {
    let s = Sandbox::new();
    let a = s.add("exif-py/jpg/Canon_40D.jpg", "a.jpg");
    s.import(&[&s.photos()]);
    std::fs::remove_file(&a).unwrap();
    s.add("exif-rs/exif.png", "new.png");

    let w = Watcher::start(&s);
    let mut events = vec![w.next("file")];
    events.push(w.next("missing"));
    w.next("ready");
    assert!(events[0]["file"]["path"]
        .as_str()
        .unwrap()
        .ends_with("/new.png"));
    assert!(events[1]["path"].as_str().unwrap().ends_with("/a.jpg"));
}

#[test]
fn once_a_library_has_users_watch_imports_as_one_of_them() {
    let s = Sandbox::new();
    let out = s
        .assay()
        .args(["user", "add", "ada", "--role", "admin"])
        .env("ASSAY_NEW_PASSPHRASE", "pw")
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without an acting user it refuses at once, saying how to fix it.
    let out = s.run(&["watch", s.photos().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("watch as one of them (--as NAME)"),
        "{stderr}"
    );

    let pass = s.dir.path().join("ada.pass");
    std::fs::write(&pass, "pw").unwrap();
    let w = Watcher::start_as(
        &s,
        &["--as", "ada", "--passphrase-file", pass.to_str().unwrap()],
    );
    w.next("ready");
    std::fs::copy(
        corpus_file("exif-py/jpg/Canon_40D.jpg"),
        s.photos().join("a.jpg"),
    )
    .unwrap();
    let imported = w.next("file");
    drop(w);
    let id = imported["file"]["asset_id"].as_str().unwrap().to_owned();
    let (events, _) = s.json_lines(&["provenance", &id]);
    assert_eq!(events[0]["kind"], "import");
    assert_eq!(events[0]["user"], "ada");
}
