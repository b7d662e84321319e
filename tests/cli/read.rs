use serde_json::Value;

use crate::support::{stderr, Sandbox};

#[test]
fn ls_filters_and_show_is_schema_valid() {
    let s = Sandbox::new();
    s.add("exif-py/jpg/Canon_40D.jpg", "canon.jpg"); // 2008-05-30, Canon
    s.add("exif-py/jpg/gps/DSCN0010.jpg", "nikon.jpg"); // 2008-10-22, NIKON, GPS
    s.add("exif-rs/exif.png", "shot.png");
    std::fs::write(s.photos().join("notes.txt"), "field notes\nsecond line\n").unwrap();
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let names = |args: &[&str]| -> Vec<String> {
        let mut full = vec!["ls"];
        full.extend_from_slice(args);
        let (lines, out) = s.json_lines(&full);
        assert!(out.status.success(), "{}", stderr(&out));
        lines
            .iter()
            .map(|l| l["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&[]).len(), 4);
    assert_eq!(names(&["--media-type", "image"]).len(), 3);
    assert_eq!(names(&["--media-type", "image/png"]), ["shot"]);
    assert_eq!(names(&["--media-type", "text/plain"]), ["notes"]);
    assert_eq!(names(&["--make", "canon"]), ["canon"]);
    assert_eq!(
        names(&[
            "--since",
            "2008-06",
            "--until",
            "2008-12-31",
            "--media-type",
            "image/jpeg"
        ]),
        ["nikon"]
    );
    assert_eq!(
        names(&["--until", "2008-05-30", "--media-type", "image/jpeg"]),
        ["canon"]
    );
    assert_eq!(
        names(&["--text", "COOLPIX"]),
        ["nikon"],
        "EXIF text is searched"
    );
    assert_eq!(
        names(&["--text", "notes.t"]),
        ["notes"],
        "paths are searched"
    );

    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/asset.schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let out = s.run(&[
        "show",
        "--json",
        s.photos().join("nikon.jpg").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&record)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(record["original_source"], "NIKON COOLPIX P6000");
    assert_eq!(record["capture_date"], "2008-10-22T16:28:39");
    let gps = &record["exif"]["gps"];
    assert!(
        (gps["latitude"].as_f64().unwrap() - 43.467_448).abs() < 1e-5,
        "{gps}"
    );
    assert!(
        (gps["longitude"].as_f64().unwrap() - 11.885_127).abs() < 1e-5,
        "{gps}"
    );

    // An unknown asset is a clear error, not a panic.
    let out = s.run(&["show", "0000dead"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no asset matches"),
        "{}",
        stderr(&out)
    );
}

/// `assay show` says what a file's Content Credentials say: state, signer,
/// actions and the training-mining entries.
#[test]
fn show_names_the_content_credentials_a_file_arrived_with() {
    let s = Sandbox::new();
    s.add("../c2pa/training-not-allowed.jpg", "refused.jpg");
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["show", s.photos().join("refused.jpg").to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "Content Credentials",
        "  state           valid",
        "  failed          signingCredential.untrusted",
        "  signer          fixture signer (Assay test fixtures)",
        "  action          c2pa.created (digitalCapture)",
        "  ai_training     notAllowed",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in\n{text}");
    }
}
