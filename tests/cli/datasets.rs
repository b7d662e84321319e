//! `assay dataset create|ls|show` through the binary: a saved selection in
//! the `--where` language of `ls`, listed, and shown with what a build
//! would leave out and why.

use serde_json::Value;

use crate::support::stderr;
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
