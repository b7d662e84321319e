//! Video and audio at import, read through ffmpeg (installed by
//! scripts/setup.sh): files made by ffmpeg itself in the formats phones and
//! recorders write, their containers' duration, streams, recording time
//! and place in the record (checked against exiftool's reading of the same
//! files), a poster frame or a waveform as their previews, and a missing
//! ffmpeg or a broken file a warning, never a failed import.

use std::path::Path;
use std::process::Command;

use assay_core::{AssetRecord, Filter, ImportOptions, Library};
use assay_deadline::OutputWithin;
use serde_json::Value;

use crate::{empty_library, CHILD_LIMIT};

/// Makes `name` in `dir` with ffmpeg from its lavfi test sources.
fn ffmpeg(dir: &Path, name: &str, args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(dir.join(name))
        .output_within(CHILD_LIMIT)
        .expect("ffmpeg is installed by scripts/setup.sh");
    assert!(
        out.status.success(),
        "ffmpeg {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A phone-like clip, a recorder's FLAC and a WAV, in `dir`.
fn media_folder(dir: &Path) {
    let clip = [
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=2:size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=2:sample_rate=48000",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-ac",
        "2",
        "-metadata",
        "creation_time=2024-05-01T10:00:00Z",
        "-metadata",
        "location=+48.8577+002.2950/",
    ];
    ffmpeg(dir, "clip.mp4", &clip);
    let tone = [
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=220:duration=1.5:sample_rate=44100",
        "-ac",
        "1",
    ];
    ffmpeg(dir, "tone.flac", &tone);
    ffmpeg(dir, "tone.wav", &tone);
}

fn import(library: &Library, dir: &Path) -> Vec<AssetRecord> {
    let summary = library
        .import(&[dir.to_owned()], &ImportOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(summary.failed, 0, "{summary:?}");
    library.list(&Filter::default()).unwrap()
}

fn named<'a>(records: &'a [AssetRecord], name: &str) -> &'a AssetRecord {
    records
        .iter()
        .find(|r| r.locations.iter().any(|l| l.path.ends_with(name)))
        .unwrap_or_else(|| panic!("no asset at {name}"))
}

fn exiftool(path: &Path) -> Value {
    let out = Command::new("exiftool")
        .args(["-j", "-n"])
        .arg(path)
        .output_within(CHILD_LIMIT)
        .expect("exiftool is installed by scripts/setup.sh");
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    all[0].clone()
}

#[test]
fn video_and_audio_carry_their_containers_facts_and_a_picture() {
    let (dir, library) = empty_library();
    let files = dir.path().join("media");
    std::fs::create_dir_all(&files).unwrap();
    media_folder(&files);
    let records = import(&library, &files);
    assert_eq!(records.len(), 3);

    let clip = named(&records, "clip.mp4");
    assert_eq!(clip.media_type, "video/mp4");
    assert!(clip.warnings.is_empty(), "{:?}", clip.warnings);
    let media = clip.media.as_ref().unwrap();
    let video = media.video.as_ref().unwrap();
    assert_eq!(video.codec, "h264");
    assert_eq!((video.width, video.height), (Some(320), Some(240)));
    assert_eq!(video.frame_rate, Some(25.0));
    let audio = media.audio.as_ref().unwrap();
    assert_eq!(
        (audio.codec.as_str(), audio.sample_rate, audio.channels),
        ("aac", Some(48000), Some(2))
    );
    assert!(media.container.as_deref().unwrap().contains("mp4"));
    assert_eq!((clip.width, clip.height), (Some(320), Some(240)));
    assert_eq!(clip.capture_date_source.as_deref(), Some("container"));
    assert!(clip
        .capture_date
        .as_deref()
        .unwrap()
        .starts_with("2024-05-01T10:00:00"));
    let gps = media.gps.as_ref().unwrap();
    assert_eq!((gps.latitude, gps.longitude), (Some(48.8577), Some(2.295)));
    // Where it was shot is flagged as sensitive, as a photo's GPS is.
    assert_eq!(
        clip.rights["sensitive_flags"],
        serde_json::json!(["location"])
    );
    // exiftool, reading the same file, agrees on what it reads too.
    let theirs = exiftool(&files.join("clip.mp4"));
    let duration = media.duration.unwrap();
    assert!(
        (duration - theirs["Duration"].as_f64().unwrap()).abs() < 0.05,
        "{duration} {theirs}"
    );
    assert_eq!(theirs["ImageWidth"], 320);
    assert_eq!(theirs["ImageHeight"], 240);
    assert_eq!(theirs["AudioSampleRate"], 48000);

    for name in ["tone.flac", "tone.wav"] {
        let tone = named(&records, name);
        assert!(tone.warnings.is_empty(), "{name}: {:?}", tone.warnings);
        let media = tone.media.as_ref().unwrap();
        assert!(media.video.is_none(), "{name}");
        let audio = media.audio.as_ref().unwrap();
        assert_eq!(
            (audio.sample_rate, audio.channels),
            (Some(44100), Some(1)),
            "{name}"
        );
        assert!((media.duration.unwrap() - 1.5).abs() < 0.05, "{name}");
        assert_eq!(tone.capture_date_source.as_deref(), Some("file_mtime"));
    }
    assert_eq!(
        named(&records, "tone.flac")
            .media
            .as_ref()
            .unwrap()
            .audio
            .as_ref()
            .unwrap()
            .codec,
        "flac"
    );

    // Every one has a thumbnail and a preview: a poster frame, a waveform.
    for record in &records {
        for picture in [&record.previews.thumbnail, &record.previews.preview] {
            let picture = picture
                .as_deref()
                .unwrap_or_else(|| panic!("{:?}", record.locations));
            let decoded = image::open(picture).unwrap();
            assert!(decoded.width() > 0 && decoded.height() > 0);
        }
    }
    // The waveform is wider than tall; the poster keeps the frame's shape.
    let wave = image::open(
        named(&records, "tone.wav")
            .previews
            .preview
            .as_deref()
            .unwrap(),
    )
    .unwrap();
    assert!(wave.width() > 3 * wave.height());
    let poster = image::open(clip.previews.preview.as_deref().unwrap()).unwrap();
    assert_eq!(poster.width() * 3, poster.height() * 4);
}

#[test]
fn without_ffmpeg_or_with_a_broken_file_media_still_import_with_a_warning() {
    let (dir, library) = empty_library();
    let files = dir.path().join("media");
    std::fs::create_dir_all(&files).unwrap();
    media_folder(&files);
    // A clip cut off half way: its index is gone.
    let clip = std::fs::read(files.join("clip.mp4")).unwrap();
    std::fs::write(files.join("cut.mp4"), &clip[..clip.len() / 2]).unwrap();
    // Each test runs in a process of its own: this reaches no other test.
    std::env::set_var("ASSAY_FFMPEG", dir.path().join("no-such-ffmpeg"));
    let records = import(&library, &files);
    assert_eq!(records.len(), 4);
    let tone = named(&records, "tone.wav");
    assert!(tone.media.is_some(), "ffprobe still describes it");
    assert!(tone.previews.preview.is_none());
    assert!(
        tone.warnings
            .iter()
            .any(|w| w.contains("no-such-ffmpeg is not installed")),
        "{:?}",
        tone.warnings
    );
    let cut = named(&records, "cut.mp4");
    assert!(
        cut.warnings
            .iter()
            .any(|w| w.starts_with("video/audio metadata: ")),
        "{:?}",
        cut.warnings
    );
    assert!(cut.media.is_none());

    std::env::set_var("ASSAY_FFPROBE", dir.path().join("no-such-ffprobe"));
    let (other_dir, other) = empty_library();
    let records = import(&other, &files);
    assert_eq!(records.len(), 4);
    let clip = named(&records, "clip.mp4");
    assert!(clip.media.is_none());
    assert!(
        clip.warnings
            .iter()
            .any(|w| w.contains("no-such-ffprobe is not installed")),
        "{:?}",
        clip.warnings
    );
    drop(other_dir);
}

#[test]
fn manifests_and_dataset_shards_carry_what_the_container_said() {
    use assay_core::{BuildOptions, Job, Selection, ShardFormat};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    let w = crate::World::new();
    let files = w.dir.path().join("media");
    std::fs::create_dir_all(&files).unwrap();
    media_folder(&files);
    let options = ImportOptions {
        actor: Some(std::sync::Arc::clone(&w.cy)),
        ..ImportOptions::default()
    };
    w.library.import(&[files], &options, &mut |_| {}).unwrap();
    let sam = crate::manifest::approve_everything(&w);
    let records = w.library.list(&Filter::default()).unwrap();
    let clip = named(&records, "clip.mp4");

    // The signed manifest's entry holds the clip's facts; a photo's has none.
    let out = w.dir.path().join("m.json");
    w.library
        .export_manifest(&w.rosa, &Selection::Where(Filter::default()), &out)
        .unwrap();
    let bytes = std::fs::read(&out).unwrap();
    let check = assay_core::verify_manifest(&bytes, &[crate::manifest::rosa_key(&w)], None);
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let entry = |id: &str| {
        doc["assets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["asset_id"] == id)
            .unwrap()
            .clone()
    };
    let listed = entry(&clip.asset_id);
    // (Canonical JSON writes 2.0 as 2: compared as what they describe.)
    let signed: assay_core::Media = serde_json::from_value(listed["media"].clone()).unwrap();
    assert_eq!(Some(&signed), clip.media.as_ref());
    assert_eq!(listed["media"]["video"]["codec"], "h264");
    let photo = records
        .iter()
        .find(|r| r.media_type == "image/jpeg")
        .unwrap();
    assert!(entry(&photo.asset_id).get("media").is_none());

    // A Parquet shard has them as a column, as JSON.
    w.library
        .create_dataset(&sam, "clips", &Filter::default())
        .unwrap();
    let build = BuildOptions {
        format: ShardFormat::Parquet,
        out: w.dir.path().join("clips"),
        shard_bytes: 1 << 30,
        delta: false,
        credentials: false,
    };
    let built = w
        .library
        .build_dataset(&w.rosa, "clips", &build, &mut Job::quiet())
        .unwrap();
    let shard = build.out.join(&built.shards[0].name);
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(shard).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut media_by_id = std::collections::HashMap::new();
    for batch in reader {
        use arrow_array::cast::AsArray;
        let batch = batch.unwrap();
        let ids = batch
            .column_by_name("asset_id")
            .unwrap()
            .as_string::<i32>()
            .clone();
        let media = batch
            .column_by_name("media")
            .unwrap()
            .as_string::<i32>()
            .clone();
        for row in 0..batch.num_rows() {
            let value = (!arrow_array::Array::is_null(&media, row))
                .then(|| serde_json::from_str::<Value>(media.value(row)).unwrap());
            media_by_id.insert(ids.value(row).to_owned(), value);
        }
    }
    assert_eq!(
        media_by_id[&clip.asset_id].as_ref().unwrap()["audio"]["sample_rate"],
        48000
    );
    assert_eq!(media_by_id[&photo.asset_id], None);
}

#[test]
fn without_libheif_a_heic_still_imports_with_a_warning() {
    let (dir, library) = empty_library();
    let files = dir.path().join("photos");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::copy(
        crate::corpus("exif-py/heic/spring_1440x960.heic"),
        files.join("spring.heic"),
    )
    .unwrap();
    std::env::set_var(
        "ASSAY_HEIF_CONVERT",
        dir.path().join("no-such-heif-convert"),
    );
    let records = import(&library, &files);
    let r = &records[0];
    assert!(
        r.warnings
            .iter()
            .any(|w| w.contains("no-such-heif-convert is not installed")),
        "{:?}",
        r.warnings
    );
    // This phone's file embeds no JPEG to fall back on: no preview, but
    // the asset is imported, its checksum and EXIF read.
    assert!(r.previews.preview.is_none());
    assert!(r.exif.is_some());
}
