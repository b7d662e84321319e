//! Stacks through the binary: a raw file and the JPEG beside it, and the
//! frames of a burst, stack at import (made with exiftool from a camera's
//! photo); stacks by hand; and the decisions about near-duplicates (stack,
//! keep apart, mark), after which the group is no longer listed.

use std::path::Path;
use std::process::Command;

use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::support::{raw_preview, stderr, Sandbox, CHILD_LIMIT};
use crate::users::{ok, setup};

fn exiftool(args: &[&str], from: &Path, to: &Path) {
    let out = Command::new("exiftool")
        .args(args)
        .arg("-o")
        .arg(to)
        .arg(from)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn show(s: &Sandbox, key: &Path) -> Value {
    let out = s.run(&["show", key.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_raw_file_and_its_jpeg_stack_at_import_whichever_comes_first() {
    let s = Sandbox::new();
    let pair = s.photos().join("pair");
    std::fs::create_dir_all(&pair).unwrap();
    let raw = s.add(
        "exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
        "pair/DSC_0100.DNG",
    );
    let jpeg = pair.join("DSC_0100.JPG");
    raw_preview(&raw, &jpeg);
    // The same name in another folder is another shot.
    let elsewhere = s.add("exif-py/jpg/gps/DSCN0010.jpg", "elsewhere/DSC_0100.JPG");

    // The JPEG first, the raw file in a later import.
    let (_, out) = s.import(&[&jpeg, &elsewhere]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(show(&s, &jpeg).get("stack").is_none());
    let out = s.run(&["import", raw.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 in stacks"), "{}", stderr(&out));

    let (raw_id, jpeg_id) = (
        show(&s, &raw)["asset_id"].clone(),
        show(&s, &jpeg)["asset_id"].clone(),
    );
    let stack = &show(&s, &jpeg)["stack"];
    assert_eq!(stack["kind"], "raw_pair", "{stack}");
    assert_eq!(stack["top"], raw_id, "the raw file is the top: {stack}");
    assert_eq!(stack["members"], serde_json::json!([raw_id, jpeg_id]));
    assert_eq!(show(&s, &raw)["stack"], *stack);
    assert!(show(&s, &elsewhere).get("stack").is_none());

    // Stacked, the pair is decided: no near-duplicate group is left to review.
    let (groups, out) = s.json_lines(&["dupes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(groups.is_empty(), "{groups:#?}");

    // Unstacked by hand, it is a group again; `ls` lists all three throughout.
    let (freed, out) = s.json_lines(&["unstack", jpeg.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(freed[0]["unstacked"].as_array().unwrap().len(), 2);
    assert!(show(&s, &raw).get("stack").is_none());
    let (groups, _) = s.json_lines(&["dupes"]);
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let (all, _) = s.json_lines(&["ls"]);
    assert_eq!(all.len(), 3);
}

#[test]
fn the_frames_of_a_burst_stack_and_a_gap_or_another_second_does_not() {
    let s = Sandbox::new();
    let photo = crate::support::corpus_file("exif-py/jpg/gps/DSCN0010.jpg");
    let burst = s.photos().join("burst");
    std::fs::create_dir_all(&burst).unwrap();
    // Frames 41-43 in one second; 44 in the next; 46 after a gap.
    for (number, time, subsec) in [
        (41, "10:00:00", "10"),
        (42, "10:00:00", "40"),
        (43, "10:00:00", "70"),
        (44, "10:00:01", "00"),
        (46, "10:00:00", "90"),
    ] {
        exiftool(
            &[
                &format!("-DateTimeOriginal=2024:05:01 {time}"),
                &format!("-SubSecTimeOriginal={subsec}"),
            ],
            &photo,
            &burst.join(format!("DSCN00{number}.JPG")),
        );
    }
    let (_, out) = s.import(&[&burst]);
    assert!(out.status.success(), "{}", stderr(&out));

    let frame = |n: u32| show(&s, &burst.join(format!("DSCN00{n}.JPG")));
    let stack = &frame(42)["stack"];
    assert_eq!(stack["kind"], "burst", "{stack}");
    assert_eq!(
        stack["top"],
        frame(41)["asset_id"],
        "the first frame is the top"
    );
    let members: Vec<&Value> = stack["members"].as_array().unwrap().iter().collect();
    assert_eq!(members.len(), 3, "{stack}");
    for n in [41, 43] {
        assert_eq!(frame(n)["stack"], *stack);
    }
    for n in [44, 46] {
        assert!(frame(n).get("stack").is_none(), "frame {n}");
    }
}

#[test]
fn stacks_by_hand_and_each_decision_about_near_duplicates_settles_the_group() {
    let s = Sandbox::new();
    let original = s.add("exif-py/jpg/gps/DSCN0010.jpg", "original.jpg");
    let resized = s.photos().join("resized.jpg");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&original)
        .args(["-vf", "scale=320:-1"])
        .arg(&resized)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let other = s.add("exif-py/jpg/hdr/canon_hdr_YES.jpg", "other.jpg");
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let key = original.to_str().unwrap();
    let groups = || s.json_lines(&["dupes"]).0;
    assert_eq!(groups().len(), 1);

    // Stacked under the original: settled, and listed again once unstacked.
    let (stack, out) = s.json_lines(&["dupes", key, "--stack"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stack[0]["kind"], "duplicates");
    assert_eq!(stack[0]["top"], show(&s, &original)["asset_id"]);
    assert!(groups().is_empty());
    ok(&s.run(&["unstack", key]));
    assert_eq!(groups().len(), 1);

    // Kept apart: never grouped again.
    let (kept, out) = s.json_lines(&["dupes", key, "--keep-apart"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(kept[0]["pairs"], 1);
    assert!(groups().is_empty());

    // By hand, any assets; a stack of one asset is refused.
    let (stack, out) = s.json_lines(&["stack", other.to_str().unwrap(), key]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stack[0]["kind"], "manual");
    assert_eq!(stack[0]["members"].as_array().unwrap().len(), 2);
    let out = s.run(&["stack", key, key]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("two different assets"),
        "{}",
        stderr(&out)
    );
    // An asset with no near-duplicate has nothing to decide.
    let out = s.run(&["dupes", other.to_str().unwrap(), "--mark"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no near-duplicates"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_copy_marked_as_a_duplicate_cannot_be_approved_until_unmarked() {
    let s = setup();
    let original = s.add("exif-py/jpg/gps/DSCN0010.jpg", "original.jpg");
    let copy = s.photos().join("copy.jpg");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(&original)
        .args(["-q:v", "20"])
        .arg(&copy)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    ok(&s.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    // The creator imports, and edits and marks their own uploads.
    ok(&s.as_user("cy", &["import", s.photos().to_str().unwrap()]));
    let copy_key = copy.to_str().unwrap();
    ok(&s.as_user(
        "cy",
        &[
            "edit",
            copy_key,
            "--license",
            "CC-BY-4.0",
            "--set",
            "signed_contract_id=K-1",
            "--set",
            "tax_and_payout_info=acct_1",
        ],
    ));

    // Marking is a signed edit: refused without a user.
    let out = s.run(&["dupes", original.to_str().unwrap(), "--mark"]);
    assert!(!out.status.success());
    let out = s.as_user(
        "cy",
        &["dupes", original.to_str().unwrap(), "--mark", "--json"],
    );
    ok(&out);
    let original_id = show(&s, &original)["asset_id"].clone();
    assert_eq!(show(&s, &copy)["duplicate_of"], original_id);
    let (events, _) = s.json_lines(&["provenance", copy_key]);
    assert!(
        events.iter().any(|e| e["user"] == "cy"
            && e["data"]["changes"].to_string().contains("duplicate_of")),
        "{events:#?}"
    );
    assert!(s.json_lines(&["dupes"]).0.is_empty());

    // Submitted, the gate quarantines it, naming the original.
    ok(&s.as_user("cy", &["submit", copy_key]));
    let copy_record = show(&s, &copy);
    assert_eq!(copy_record["workflow_state"], "quarantined");
    let (events, _) = s.json_lines(&["provenance", copy_key]);
    let quarantine = events.last().unwrap().to_string();
    assert!(
        quarantine.contains("not-a-duplicate")
            && quarantine.contains(original_id.as_str().unwrap()),
        "{quarantine}"
    );
    assert!(!s.as_user("rosa", &["approve", copy_key]).status.success());

    // The mark undone (another signed edit), released and resubmitted, it is approved.
    let out = s.as_user("cy", &["undo", "--json"]);
    ok(&out);
    let undone: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (undone["assets"].as_u64(), undone["restored"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(show(&s, &copy).get("duplicate_of").is_none());
    ok(&s.as_user("rosa", &["release", copy_key]));
    ok(&s.as_user("cy", &["submit", copy_key]));
    ok(&s.as_user("rosa", &["approve", copy_key]));
    assert_eq!(show(&s, &copy)["workflow_state"], "approved");

    // Rosa takes her approval back: pending review again, both signed.
    let out = s.as_user("rosa", &["undo", "--decision", "--json"]);
    ok(&out);
    let undone: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (undone["decision"].as_str(), undone["reopened"].as_u64()),
        (Some("approved"), Some(1))
    );
    assert_eq!(show(&s, &copy)["workflow_state"], "pending");
    let (events, _) = s.json_lines(&["provenance", copy_key]);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(kinds[kinds.len() - 2..], ["approval", "decision_undone"]);
    // Taken back once, it is not taken back again.
    let again = s.as_user("rosa", &["undo", "--decision"]);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("taken back already"),
        "{}",
        stderr(&again)
    );
}
