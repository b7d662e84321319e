//! Previews on real files: the right size, upright whatever the EXIF
//! orientation, and made for every image format Assay decodes.

use assay_deadline::OutputWithin;

use crate::{corpus, imported};

fn record(name: &str) -> assay_core::AssetRecord {
    let path = corpus().join("files").join(name);
    imported().library.record(path.to_str().unwrap()).unwrap()
}

fn thumbnail(name: &str) -> image::RgbImage {
    let path = record(name).previews.thumbnail.unwrap();
    image::open(&path).unwrap().into_rgb8()
}

/// Mean absolute difference per channel between two same-sized images.
fn distance(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

#[test]
fn every_orientation_comes_out_upright() {
    // The corpus has the same landscape photo stored in each of the eight
    // orientations (5-8 with width and height swapped); once upright they
    // must all look alike.
    let upright = thumbnail("exif-py/jpg/orientation/landscape_1.jpg");
    let (w, h) = upright.dimensions();
    assert_eq!((w, h), (256, 192), "the upright thumbnail");
    let mirrored = image::imageops::flip_horizontal(&upright);
    for o in 2..=8 {
        let name = format!("exif-py/jpg/orientation/landscape_{o}.jpg");
        assert_eq!(record(&name).exif.unwrap().orientation, Some(o));
        let turned = thumbnail(&name);
        let d = distance(&upright, &turned);
        // Re-encoding noise keeps d near 15; a wrong turn or a missed
        // mirror is far further from the upright image than that.
        let wrong = distance(&mirrored, &turned);
        assert!(
            d < 20.0 && wrong > d + 15.0,
            "{name}: {d:.1} from upright, {wrong:.1} from its mirror image"
        );
    }
}

#[test]
fn previews_keep_the_aspect_ratio_and_never_upscale() {
    let big = record("exif-py/jpg/hdr/canon_hdr_YES.jpg"); // 2048x1536, orientation 6
    assert_eq!((big.width, big.height), (Some(2048), Some(1536)));
    let preview = image::open(big.previews.preview.unwrap()).unwrap();
    assert_eq!((preview.width(), preview.height()), (1200, 1600));
    let small = record("exif-py/jpg/Canon_40D.jpg"); // 100x68
    let preview = image::open(small.previews.preview.unwrap()).unwrap();
    assert_eq!((preview.width(), preview.height()), (100, 68));
}

#[test]
fn decodable_formats_get_previews() {
    for name in [
        "exif-rs/exif.png",
        "exif-rs/exif.webp",
        "exif-rs/exif.tif",
        "exif-py/jpg/Canon_40D.jpg",
    ] {
        let r = record(name);
        assert!(
            r.previews.thumbnail.is_some() && r.previews.preview.is_some(),
            "{name}: {:?}",
            r.warnings
        );
        assert!(std::path::Path::new(r.previews.thumbnail.as_ref().unwrap()).is_file());
    }
}

#[test]
fn raw_files_preview_the_largest_jpeg_they_embed() {
    // What exiftool extracts is the truth here: the Nikon Z 9 DNG keeps a
    // 640x424 JPEG in its PreviewIFD beside a 256x171 one in IFD0; the
    // FujiFilm RAF a 160x120 thumbnail beside an 8x8 preview image.
    for (name, tag) in [
        (
            "exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng",
            "PreviewIFD:PreviewImage",
        ),
        ("exiftool/FujiFilm.raf", "ThumbnailImage"),
    ] {
        let path = corpus().join("files").join(name);
        let out = std::process::Command::new("exiftool")
            .args(["-b", &format!("-{tag}")])
            .arg(&path)
            .output_within(std::time::Duration::from_secs(120))
            .expect("exiftool is installed by scripts/setup.sh");
        let theirs = image::load_from_memory(&out.stdout).unwrap().into_rgb8();
        let r = record(name);
        let ours = image::open(
            r.previews
                .preview
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: no preview: {:?}", r.warnings)),
        )
        .unwrap()
        .into_rgb8();
        assert_eq!(ours.dimensions(), theirs.dimensions(), "{name}");
        // The same picture, but for our preview's own JPEG encoding.
        let d = distance(&ours, &theirs);
        assert!(d < 8.0, "{name}: {d:.1} from exiftool's {tag}");
    }
}

#[test]
fn heif_and_avif_pictures_preview_whole_and_upright() {
    // The sizes exiftool reads, shrunk to the preview's 1600 px long edge.
    for (name, size) in [
        ("exif-py/heic/spring_1440x960.heic", (1440, 960)),
        ("exif-py/avif/mountains.avif", (1600, 900)),
        (
            "exif-py/heic/mobile/HMD_Nokia_8.3_5G_hdr.heif",
            (1600, 1200),
        ),
    ] {
        let r = record(name);
        let preview = image::open(
            r.previews
                .preview
                .as_deref()
                .unwrap_or_else(|| panic!("{name}: no preview: {:?}", r.warnings)),
        )
        .unwrap();
        assert_eq!(
            (preview.width(), preview.height()),
            size,
            "{name}: {:?}",
            r.warnings
        );
        assert!(
            !r.warnings.iter().any(|w| w.starts_with("preview:")),
            "{name}: {:?}",
            r.warnings
        );
    }
}

#[test]
fn jpeg_xl_previews_as_libjxl_decodes_it() {
    // libjxl (through Debian's ffmpeg) is the reference decoder.
    let name = "exif-py/jxl/test_0001.jxl";
    let path = corpus().join("files").join(name);
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"])
        .output_within(std::time::Duration::from_secs(120))
        .expect("ffmpeg is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = image::load_from_memory(&out.stdout).unwrap().into_rgb8();
    let r = record(name);
    let (w, h) = theirs.dimensions();
    assert_eq!((r.width, r.height), (Some(w), Some(h)));
    assert!(w <= 1600 && h <= 1600, "a preview would be shrunk: {w}x{h}");
    let ours = image::open(
        r.previews
            .preview
            .as_deref()
            .unwrap_or_else(|| panic!("{name}: no preview: {:?}", r.warnings)),
    )
    .unwrap()
    .into_rgb8();
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let d = distance(&ours, &theirs);
    assert!(d < 8.0, "{d:.1} from libjxl's decoding");
}
