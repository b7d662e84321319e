//! Near-duplicates on real pictures: copies of a camera photo made by
//! ffmpeg (resized, recompressed at a low quality, cropped by 5%, turned on
//! its side) group with it, a different shot from the same walk does not,
//! and a raw file groups with the preview exiftool takes out of it, the raw
//! kept.

use std::path::Path;
use std::process::Command;

use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::support::{raw_preview, stderr, Sandbox, CHILD_LIMIT};

fn ffmpeg(from: &Path, filter: &[&str], to: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-i"])
        .arg(from)
        .args(filter)
        .arg(to)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

fn title_of(member: &Value) -> &str {
    member["title"].as_str().unwrap()
}

#[test]
fn copies_of_a_photo_group_with_it_and_a_raw_file_with_its_preview() {
    let s = Sandbox::new();
    let original = s.add("exif-py/jpg/gps/DSCN0010.jpg", "original.jpg");
    s.add("exif-py/jpg/gps/DSCN0012.jpg", "next-shot.jpg");
    s.add("exif-py/jpg/hdr/canon_hdr_YES.jpg", "elsewhere.jpg");
    let photos = s.photos();
    ffmpeg(
        &original,
        &["-vf", "scale=320:-1"],
        &photos.join("resized.jpg"),
    );
    // ffmpeg's -q:v 20 is about quality 60 on the usual scale.
    ffmpeg(&original, &["-q:v", "20"], &photos.join("recompressed.jpg"));
    ffmpeg(
        &original,
        &["-vf", "crop=iw*0.95:ih*0.95"],
        &photos.join("cropped.jpg"),
    );
    ffmpeg(
        &original,
        &["-vf", "transpose=1"],
        &photos.join("turned.jpg"),
    );
    let raw = s.add(
        "exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
        "shot.dng",
    );
    raw_preview(&raw, &photos.join("shot-preview.jpg"));

    let (_, out) = s.import(&[&photos]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (groups, out) = s.json_lines(&["dupes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(groups.len(), 2, "{groups:#?}");

    // Largest first: the photo and its four copies, the photo kept.
    let photo = &groups[0];
    let titles: Vec<&str> = photo["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(title_of)
        .collect();
    assert_eq!(titles[0], "original", "{photo:#}");
    let mut copies = titles[1..].to_vec();
    copies.sort_unstable();
    assert_eq!(copies, ["cropped", "recompressed", "resized", "turned"]);
    assert_eq!(photo["keeper"], photo["members"][0]["asset_id"]);
    for member in photo["members"].as_array().unwrap() {
        assert!(member["distance"].as_u64().unwrap() <= 6, "{member}");
    }

    let pair = &groups[1];
    assert_eq!(pair["reason"], "the camera raw file", "{pair:#}");
    assert_eq!(pair["members"][0]["media_type"], "image/x-adobe-dng");
    assert_eq!(title_of(&pair["members"][1]), "shot-preview");

    // One asset's near-duplicates, nearest first; none for a shot of its own.
    let (near, _) = s.json_lines(&["dupes", original.to_str().unwrap()]);
    assert_eq!(near.len(), 4, "{near:#?}");
    assert!(near
        .windows(2)
        .all(|w| w[0]["distance"].as_u64() <= w[1]["distance"].as_u64()));
    let (alone, _) = s.json_lines(&["dupes", photos.join("next-shot.jpg").to_str().unwrap()]);
    assert!(alone.is_empty(), "{alone:#?}");
}

#[test]
fn a_distance_that_matches_unrelated_pictures_is_refused() {
    let s = Sandbox::new();
    s.add("exif-py/jpg/gps/DSCN0010.jpg", "a.jpg");
    let (_, out) = s.import(&[&s.photos()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = s.run(&["dupes", "--max-distance", "40"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("max-distance"), "{}", stderr(&out));
}
