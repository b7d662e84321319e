use crate::support::{line_for, stderr, Sandbox};

#[test]
fn verify_finds_a_flipped_byte_and_a_missing_file() {
    let s = Sandbox::new();
    let a = s.add("exif-py/jpg/Canon_40D.jpg", "a.jpg");
    let b = s.add("exif-py/jpg/gps/DSCN0010.jpg", "b.jpg");
    s.add("exif-rs/exif.png", "c.png");
    s.import(&[&s.photos()]);

    let (lines, out) = s.json_lines(&["verify"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l["status"] == "ok"));

    // Bit rot: one byte flipped in the middle of a.jpg. And b.jpg deleted.
    let mut bytes = std::fs::read(&a).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&a, bytes).unwrap();
    std::fs::remove_file(&b).unwrap();

    let (lines, out) = s.json_lines(&["verify"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let a_line = line_for(&lines, "/a.jpg");
    assert_eq!(a_line["status"], "modified");
    assert_ne!(a_line["actual"], a_line["expected"]);
    assert_eq!(line_for(&lines, "/b.jpg")["status"], "missing");
    assert_eq!(line_for(&lines, "/c.png")["status"], "ok");

    // The catalog remembers; the asset itself is never deleted.
    let show = s.run(&[
        "show",
        "--json",
        "sha256:6bfdabd4fc33d112283c147acccc574e770bbe6fbdbc3d4da968ba7b606ecc2f",
    ]);
    let record: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(record["locations"][0]["status"], "modified");
    let (all, _) = s.json_lines(&["ls"]);
    assert_eq!(all.len(), 3);
}
