//! Video and audio at import, through ffmpeg (Debian's `ffmpeg` package)
//! run as child processes: `ffprobe` describes the container
//! (`formats::av`), `ffmpeg` renders a poster frame of a video (a tenth of
//! the way in, past fades from black) or a waveform of an audio file, as a
//! PNG the preview pipeline then shrinks like any image. Each runs as
//! `tools.rs` runs a child: under a deadline and an address-space limit. A
//! missing or failing ffmpeg is a warning on the asset, never a failed
//! import. `ASSAY_FFPROBE` and `ASSAY_FFMPEG` name other programs.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use super::tools::{input, run};
use crate::formats::av::{self, Media};

/// How long describing a file may take.
const PROBE_LIMIT: Duration = Duration::from_secs(30);
/// How long rendering a poster or a waveform may take.
const RENDER_LIMIT: Duration = Duration::from_secs(60);
/// The waveform image, in pixels.
const WAVEFORM: &str = "1200x300";

/// What ffmpeg told of a video or audio file.
pub(crate) struct AvRead {
    pub media: Option<Media>,
    /// A PNG of the poster frame or the waveform.
    pub picture: Option<Vec<u8>>,
    pub warnings: Vec<String>,
}

/// Describes the video or audio file at `path` and renders its picture.
pub(crate) fn read(path: &Path, media_type: &str) -> AvRead {
    let mut warnings = Vec::new();
    // ffmpeg reads the file itself: bytes with no file behind them (the
    // fuzz harness's) start no process.
    if !path.is_file() {
        warnings.push(format!(
            "video/audio metadata: {} is not a file ffmpeg can read",
            path.display()
        ));
        return AvRead {
            media: None,
            picture: None,
            warnings,
        };
    }
    let probe = run(
        "ffprobe",
        "ASSAY_FFPROBE",
        &[
            "-v",
            "error",
            "-print_format",
            "json",
            "-show_format",
            "-show_streams",
        ],
        &[input("file:", path)],
        PROBE_LIMIT,
    );
    let media = match probe.and_then(|out| av::from_probe(&out)) {
        Ok(media) => Some(media),
        Err(e) => {
            warnings.push(format!("video/audio metadata: {e}"));
            None
        }
    };
    let video = media.as_ref().is_some_and(|m| m.video.is_some());
    let picture = match (&media, video) {
        (None, _) => None,
        (Some(m), true) => {
            // A tenth of the way in: past a fade from black, still early.
            let at = m.duration.map_or(0.0, |d| (d / 10.0).min(30.0));
            let at = format!("{at:.3}");
            let before = ["-v", "error", "-nostdin", "-ss", &at];
            let after = ["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"];
            Some(render(path, &before, &after))
        }
        (Some(m), false) if m.audio.is_some() || media_type.starts_with("audio/") => {
            let filter = format!("showwavespic=s={WAVEFORM}:colors=0x3b82f6");
            let after = [
                "-filter_complex",
                &filter,
                "-frames:v",
                "1",
                "-f",
                "image2pipe",
                "-c:v",
                "png",
                "-",
            ];
            Some(render(path, &["-v", "error", "-nostdin"], &after))
        }
        (Some(_), false) => None,
    };
    let picture = match picture {
        Some(Ok(png)) if !png.is_empty() => Some(png),
        Some(Ok(_)) => {
            warnings.push("preview: ffmpeg rendered no picture".to_owned());
            None
        }
        Some(Err(e)) => {
            warnings.push(format!("preview: {e}"));
            None
        }
        None => None,
    };
    AvRead {
        media,
        picture,
        warnings,
    }
}

/// `ffmpeg BEFORE -i INPUT AFTER`, its standard output.
fn render(path: &Path, before: &[&str], after: &[&str]) -> Result<Vec<u8>, String> {
    let mut args: Vec<OsString> = before.iter().map(OsString::from).collect();
    args.push("-i".into());
    args.push(input("file:", path));
    args.extend(after.iter().map(OsString::from));
    run("ffmpeg", "ASSAY_FFMPEG", &[], &args, RENDER_LIMIT)
}
