//! Video and audio, through ffmpeg (Debian's `ffmpeg` package) run as
//! child processes: at import `ffprobe` describes the container
//! (`formats::av`); with the previews, `ffmpeg` renders a poster frame of
//! a video (a tenth of the way in, past fades from black) or a waveform of
//! an audio file, as a PNG the preview pipeline then shrinks like any image. Each runs as
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

/// Describes the video or audio file at `path` from its container, as
/// ffprobe reads it; why not, as a warning.
pub(crate) fn describe(path: &Path) -> (Option<Media>, Vec<String>) {
    // ffmpeg reads the file itself: bytes with no file behind them (the
    // fuzz harness's) start no process.
    if !path.is_file() {
        let warning = format!(
            "video/audio metadata: {} is not a file ffmpeg can read",
            path.display()
        );
        return (None, vec![warning]);
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
    match probe.and_then(|out| av::from_probe(&out)) {
        Ok(media) => (Some(media), Vec::new()),
        Err(e) => (None, vec![format!("video/audio metadata: {e}")]),
    }
}

/// A PNG of the poster frame of the video at `path`, or of the waveform of
/// an audio file, as `media` (what [`describe`] found) says it is; `None`
/// for a file with neither a video nor an audio stream.
pub(crate) fn picture(
    path: &Path,
    media_type: &str,
    media: &Media,
) -> Result<Option<Vec<u8>>, String> {
    let png = if media.video.is_some() {
        // A tenth of the way in: past a fade from black, still early.
        let at = media.duration.map_or(0.0, |d| (d / 10.0).min(30.0));
        let at = format!("{at:.3}");
        let before = ["-v", "error", "-nostdin", "-ss", &at];
        let after = ["-frames:v", "1", "-f", "image2pipe", "-c:v", "png", "-"];
        render(path, &before, &after)?
    } else if media.audio.is_some() || media_type.starts_with("audio/") {
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
        render(path, &["-v", "error", "-nostdin"], &after)?
    } else {
        return Ok(None);
    };
    if png.is_empty() {
        return Err("ffmpeg rendered no picture".to_owned());
    }
    Ok(Some(png))
}

/// `ffmpeg BEFORE -i INPUT AFTER`, its standard output.
fn render(path: &Path, before: &[&str], after: &[&str]) -> Result<Vec<u8>, String> {
    let mut args: Vec<OsString> = before.iter().map(OsString::from).collect();
    args.push("-i".into());
    args.push(input("file:", path));
    args.extend(after.iter().map(OsString::from));
    run("ffmpeg", "ASSAY_FFMPEG", &[], &args, RENDER_LIMIT)
}
