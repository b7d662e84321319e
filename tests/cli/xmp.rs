//! `assay xmp verify` through the binary: exit 0 only when every sidecar
//! holds, 1 with one line per failure.

use crate::support::{stderr, Sandbox};

#[test]
fn xmp_verify_exits_zero_when_sidecars_hold_and_one_naming_each_failure() {
    let sb = Sandbox::new();
    let photo = sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let (lines, out) = sb.import(&[&sb.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let id = lines[0]["asset_id"].as_str().unwrap().to_owned();
    let out = sb.run(&["xmp", "export", &id]);
    assert!(out.status.success(), "{}", stderr(&out));
    let sidecar = sb.photos().join("a.jpg.xmp");
    let path = sidecar.to_str().unwrap();

    for args in [
        vec!["xmp", "verify", &id],
        vec!["xmp", "verify", "--where", "media_type=image/jpeg"],
        vec!["xmp", "verify", "--sidecar", path],
    ] {
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            stderr(&out).contains("1 sidecar checked, all hold"),
            "{args:?}"
        );
    }

    let text = std::fs::read_to_string(&sidecar).unwrap();
    let tampered = text.replacen("<assay:WorkflowState>", "<assay:WorkflowState>x", 1);
    std::fs::write(&sidecar, tampered).unwrap();
    let out = sb.run(&["xmp", "verify", &id]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let failures: Vec<&str> = stdout.lines().collect();
    assert_eq!(failures.len(), 1, "{stdout}");
    assert!(
        failures[0].starts_with(&format!("{path}: assay:WorkflowState is \"x")),
        "{stdout}"
    );
    let (json, out) = sb.json_lines(&["xmp", "verify", "--sidecar", path]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(json[0]["checked"], 1);
    assert_eq!(json[0]["failures"][0].as_str(), Some(failures[0]));

    // The original changed too: a second line, naming the file.
    let mut bytes = std::fs::read(&photo).unwrap();
    bytes.push(0);
    std::fs::write(&photo, bytes).unwrap();
    let out = sb.run(&["xmp", "verify", "--sidecar", path]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stdout.contains(&format!("{}: the file changed", photo.display())),
        "{stdout}"
    );

    // Sidecar files and a selection are two ways to ask, not one.
    let out = sb.run(&["xmp", "verify", &id, "--sidecar", path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
