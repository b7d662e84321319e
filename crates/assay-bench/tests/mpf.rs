//! A JPEG carrying a large preview in its MPF index, laid out as the
//! benchmark's generator writes it (`mpf_segment`): exiftool finds the
//! preview where the index says it is, and an import makes the asset's
//! preview and quick thumbnail from it rather than from the photo. The
//! photo is red and the preview blue, so a picture's colour tells which
//! one it was made from; ffmpeg draws both and reads the colours back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use assay_bench::mpf_segment;
use assay_core::{ImportOptions, Library};
use assay_deadline::OutputWithin;

const LIMIT: Duration = Duration::from_secs(120);

fn run(command: &mut Command) -> Vec<u8> {
    let out = command.output_within(LIMIT).unwrap();
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A JPEG of one `colour`, `size` pixels, drawn by ffmpeg.
fn jpeg(colour: &str, size: &str) -> Vec<u8> {
    run(Command::new("ffmpeg").args([
        "-v",
        "error",
        "-f",
        "lavfi",
        "-i",
        &format!("color=c={colour}:s={size}"),
        "-frames:v",
        "1",
        "-f",
        "image2pipe",
        "-c:v",
        "mjpeg",
        "-",
    ]))
}

/// The mean colour of the picture at `path`, as ffmpeg shrinks it to a pixel.
fn colour(path: &Path) -> [u8; 3] {
    let out = run(Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            "scale=1:1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]));
    [out[0], out[1], out[2]]
}

/// `main` with an MPF index (an APP2 segment right after its start of
/// image) listing `preview`, appended after it.
fn with_mpf(main: &[u8], preview: &[u8]) -> Vec<u8> {
    let payload = mpf_segment::app2();
    let mut file = main[..2].to_vec();
    file.extend([0xFF, 0xE2]);
    file.extend(u16::try_from(payload.len() + 2).unwrap().to_be_bytes());
    file.extend(&payload);
    file.extend(&main[2..]);
    mpf_segment::complete(&mut file, preview).unwrap();
    file
}

fn is_blue([r, _, b]: [u8; 3]) -> bool {
    b > 200 && r < 60
}

fn is_red([r, _, b]: [u8; 3]) -> bool {
    r > 200 && b < 60
}

#[test]
fn the_mpf_preview_makes_the_preview_and_the_quick_thumbnail() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    let main = jpeg("red", "4000x3000");
    let preview = jpeg("blue", "1920x1440");
    let file = with_mpf(&main, &preview);
    let path = photos.join("camera.jpg");
    std::fs::write(&path, &file).unwrap();
    // An index whose preview runs past the end of the file is ignored.
    let mut broken = with_mpf(&main, &jpeg("blue", "1920x1441"));
    broken.truncate(broken.len() - 100);
    std::fs::write(photos.join("broken.jpg"), &broken).unwrap();

    // exiftool reads the index as the standard lays it out.
    let extracted = run(Command::new("exiftool")
        .args(["-b", "-MPImage2:PreviewImage"])
        .arg(&path));
    assert!(
        extracted == preview,
        "exiftool found another MPImage2: {} bytes, not {}",
        extracted.len(),
        preview.len()
    );

    let library = Library::open(dir.path().join("library")).unwrap();
    let deferred = ImportOptions {
        defer_previews: true,
        ..ImportOptions::default()
    };
    library
        .import(std::slice::from_ref(&photos), &deferred, &mut |_| {})
        .unwrap();
    let record = |name: &str| library.record(photos.join(name).to_str().unwrap()).unwrap();
    let quick = record("camera.jpg").previews.thumbnail.unwrap();
    assert!(is_blue(colour(Path::new(&quick))), "{quick}");
    // The photo's own size, from its header.
    assert_eq!(
        (record("camera.jpg").width, record("camera.jpg").height),
        (Some(4000), Some(3000))
    );

    library
        .import(
            std::slice::from_ref(&photos),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    let made = record("camera.jpg").previews;
    assert!(!made.pending);
    assert!(is_blue(colour(Path::new(&made.preview.unwrap()))));
    let broken = record("broken.jpg").previews;
    assert!(is_red(colour(Path::new(&broken.preview.unwrap()))));
}
