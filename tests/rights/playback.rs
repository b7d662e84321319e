//! What plays for a video: an H.264 MP4 as it is, a VP9 WebM through a
//! proxy rendition ffmpeg makes once (H.264 and AAC in MP4, read back by
//! ffprobe), kept beside the previews under the original's checksum.

use std::path::Path;
use std::process::Command;

use assay_core::{Filter, ImportOptions};
use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::{test_clip, World, CHILD_LIMIT};

fn probe(path: &Path) -> Value {
    let out = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_streams",
            "-show_format",
        ])
        .arg(path)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn an_mp4_plays_as_it_is_and_a_webm_through_a_proxy_made_once() {
    let w = World::new();
    let clips = w.dir.path().join("clips");
    std::fs::create_dir_all(&clips).unwrap();
    test_clip(
        &clips.join("plain.mp4"),
        2.0,
        "320x240",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    test_clip(
        &clips.join("web.webm"),
        2.0,
        "1920x1080",
        &[
            "-c:v",
            "libvpx-vp9",
            "-b:v",
            "300k",
            "-deadline",
            "realtime",
        ],
    );
    let options = ImportOptions {
        actor: Some(std::sync::Arc::clone(&w.cy)),
        ..Default::default()
    };
    w.library
        .import(std::slice::from_ref(&clips), &options, &mut |_| {})
        .unwrap();
    let records = w.library.list(&Filter::default()).unwrap();
    let id = |name: &str| {
        records
            .iter()
            .find(|r| r.locations[0].path.ends_with(name))
            .unwrap()
            .asset_id
            .clone()
    };

    let plain = w.library.playback(&id("plain.mp4")).unwrap();
    assert!(!plain.proxy);
    assert_eq!(plain.path, clips.join("plain.mp4"));

    let web = w.library.playback(&id("web.webm")).unwrap();
    assert!(web.proxy && !web.shortened);
    assert_eq!(web.media_type, "video/mp4");
    assert!(web.path.starts_with(w.library.previews_dir()), "{web:?}");
    let streams = probe(&web.path);
    let video = &streams["streams"][0];
    assert_eq!(video["codec_name"], "h264", "{streams:#}");
    assert_eq!(video["height"], 720, "at most 720 lines: {streams:#}");
    let seconds: f64 = streams["format"]["duration"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((seconds - 2.0).abs() < 0.2, "{seconds}");

    // Asked again, the proxy is the one made.
    let made = std::fs::metadata(&web.path).unwrap().modified().unwrap();
    let again = w.library.playback(&id("web.webm")).unwrap();
    assert_eq!(again, web);
    assert_eq!(
        std::fs::metadata(&web.path).unwrap().modified().unwrap(),
        made
    );

    // A photo does not play.
    let photo = records
        .iter()
        .find(|r| r.media_type == "image/jpeg")
        .unwrap();
    let err = w.library.playback(&photo.asset_id).unwrap_err();
    assert_eq!(err.code(), "refused", "{err}");
}
