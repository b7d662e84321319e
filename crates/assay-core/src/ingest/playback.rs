//! Playing a video or audio asset where the library is browsed: the
//! original when every webview Assay runs in plays its codecs (H.264 with
//! AAC or MP3 in MP4 or QuickTime; MP3; AAC in MP4; PCM WAV), else a proxy
//! rendition ffmpeg makes once and keeps beside the previews: H.264 and AAC
//! in MP4, at most 720 lines and the first five minutes (a reviewer's look,
//! not a delivery), or AAC in MP4 for audio. The proxy is named by the
//! original's checksum, so it never goes stale; an import's sweep of
//! orphan previews keeps it while its asset exists.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::catalog::library::{Library, PREVIEWS_DIR};
use crate::catalog::record::{AssetRecord, LocationStatus, Media};
use crate::error::{Error, Result};
use crate::ingest::tools::{input, run};

/// The longest a proxy plays: a reviewer's look at the asset.
const PROXY_SECONDS: u32 = 300;
/// The most lines a video proxy has.
const PROXY_LINES: u32 = 720;
/// How long making a proxy may take (five minutes of 720p at ffmpeg's
/// `veryfast` takes well under a minute on two cores).
const PROXY_LIMIT: Duration = Duration::from_secs(600);

/// What plays for an asset, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playback {
    pub asset_id: String,
    /// The media type of the file that plays.
    pub media_type: String,
    /// The file that plays: the original, or the proxy under `previews/`.
    pub path: PathBuf,
    /// A proxy rendition plays, not the original.
    pub proxy: bool,
    /// The proxy holds only the start of a longer original.
    pub shortened: bool,
}

/// Whether every webview Assay runs in plays the file as it is.
fn plays_as_is(media_type: &str, media: &Media) -> bool {
    let audio = media.audio.as_ref().map(|a| a.codec.as_str());
    let container = media.container.as_deref().unwrap_or_default();
    match &media.video {
        Some(video) => {
            container.contains("mp4")
                && video.codec == "h264"
                && matches!(audio, None | Some("aac" | "mp3"))
        }
        None => match media_type {
            "audio/mpeg" => audio == Some("mp3"),
            "audio/mp4" | "audio/x-m4a" | "audio/aac" => audio == Some("aac"),
            "audio/wav" | "audio/x-wav" | "audio/vnd.wave" => {
                audio.is_some_and(|c| c.starts_with("pcm_s16") || c.starts_with("pcm_s24"))
            }
            _ => false,
        },
    }
}

impl Library {
    /// What to play for the video or audio asset `key`: its original, or
    /// a proxy rendition made now if there is none yet (which can take a
    /// while: call it off the UI thread).
    pub fn playback(&self, key: &str) -> Result<Playback> {
        let record = self.record(key)?;
        let Some(media) = record
            .media
            .as_ref()
            .filter(|m| m.video.is_some() || m.audio.is_some())
        else {
            return Err(Error::refused(
                "playback",
                format!(
                    "asset {} is no video or audio file Assay read",
                    record.asset_id
                ),
            ));
        };
        let original = present_copy(&record)?;
        if plays_as_is(&record.media_type, media) {
            return Ok(Playback {
                asset_id: record.asset_id.clone(),
                media_type: record.media_type.clone(),
                path: original,
                proxy: false,
                shortened: false,
            });
        }
        let video = media.video.is_some();
        let (name, media_type) = proxy_name(&record.checksum, video);
        let path = self.previews_dir().join(&name);
        if !path.is_file() {
            make_proxy(&original, &path, video)?;
        }
        Ok(Playback {
            asset_id: record.asset_id,
            media_type: media_type.to_owned(),
            path,
            proxy: true,
            shortened: media.duration.is_some_and(|d| d > f64::from(PROXY_SECONDS)),
        })
    }
}

/// The first location of `record` that holds its bytes.
fn present_copy(record: &AssetRecord) -> Result<PathBuf> {
    record
        .locations
        .iter()
        .find(|l| l.status == LocationStatus::Present && Path::new(&l.path).is_file())
        .map(|l| PathBuf::from(&l.path))
        .ok_or_else(|| {
            Error::refused(
                "playback",
                format!(
                    "no copy of asset {} is where the catalog last saw it",
                    record.asset_id
                ),
            )
        })
}

/// The proxy's path under the previews folder and its media type.
pub(crate) fn proxy_name(checksum: &str, video: bool) -> (String, &'static str) {
    let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
    let shard = hex.get(..2).unwrap_or("00");
    let (extension, media_type) = if video {
        ("mp4", "video/mp4")
    } else {
        ("m4a", "audio/mp4")
    };
    (format!("{shard}/{hex}-proxy.{extension}"), media_type)
}

/// Whether `name` (a file in a previews shard) is a proxy, and of which
/// checksum's hex.
pub(crate) fn proxy_of(name: &str) -> Option<&str> {
    name.strip_suffix("-proxy.mp4")
        .or_else(|| name.strip_suffix("-proxy.m4a"))
}

/// Renders the proxy of `original` to `to`, through a file beside it that
/// is renamed into place whole.
fn make_proxy(original: &Path, to: &Path, video: bool) -> Result<()> {
    let dir = to.parent().unwrap_or(Path::new(PREVIEWS_DIR));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let partial = to.with_extension("part");
    let seconds = PROXY_SECONDS.to_string();
    let scale = format!("scale=-2:'min({PROXY_LINES},ih)'");
    let mut args: Vec<OsString> = ["-v", "error", "-nostdin", "-y", "-i"]
        .iter()
        .map(OsString::from)
        .collect();
    args.push(input("file:", original));
    let mut after = vec!["-t", &seconds, "-map_metadata", "-1"];
    if video {
        after.extend([
            "-map", "0:v:0", "-map", "0:a:0?", "-vf", &scale, "-c:v", "libx264", "-preset",
            "veryfast", "-crf", "26", "-pix_fmt", "yuv420p",
        ]);
    } else {
        after.extend(["-map", "0:a:0", "-vn"]);
    }
    after.extend([
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
    ]);
    args.extend(after.iter().map(OsString::from));
    args.push(input("file:", &partial));
    let made = run("ffmpeg", "ASSAY_FFMPEG", &[], &args, PROXY_LIMIT)
        .and_then(|_| std::fs::rename(&partial, to).map_err(|e| format!("{}: {e}", to.display())));
    made.map_err(|why| {
        let _ = std::fs::remove_file(&partial);
        Error::refused(
            "playback",
            format!("no playable copy of {}: {why}", original.display()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::record::{AudioStream, VideoStream};

    fn media(container: &str, video: Option<&str>, audio: Option<&str>) -> Media {
        Media {
            duration: Some(1.0),
            container: Some(container.into()),
            video: video.map(|codec| VideoStream {
                codec: codec.into(),
                width: Some(640),
                height: Some(360),
                frame_rate: Some(25.0),
            }),
            audio: audio.map(|codec| AudioStream {
                codec: codec.into(),
                sample_rate: Some(48_000),
                channels: Some(2),
            }),
            creation_time: None,
            gps: None,
        }
    }

    #[test]
    fn only_what_every_webview_plays_is_played_as_it_is() {
        let mp4 = "mov,mp4,m4a,3gp,3g2,mj2";
        assert!(plays_as_is(
            "video/mp4",
            &media(mp4, Some("h264"), Some("aac"))
        ));
        assert!(plays_as_is(
            "video/quicktime",
            &media(mp4, Some("h264"), None)
        ));
        assert!(!plays_as_is(
            "video/mp4",
            &media(mp4, Some("hevc"), Some("aac"))
        ));
        assert!(!plays_as_is(
            "video/mp4",
            &media(mp4, Some("h264"), Some("opus"))
        ));
        assert!(!plays_as_is(
            "video/webm",
            &media("matroska,webm", Some("vp9"), Some("opus"))
        ));
        assert!(!plays_as_is(
            "video/x-msvideo",
            &media("avi", Some("h264"), None)
        ));
        assert!(plays_as_is("audio/mpeg", &media("mp3", None, Some("mp3"))));
        assert!(plays_as_is(
            "audio/wav",
            &media("wav", None, Some("pcm_s16le"))
        ));
        assert!(!plays_as_is(
            "audio/flac",
            &media("flac", None, Some("flac"))
        ));
        assert!(!plays_as_is(
            "audio/ogg",
            &media("ogg", None, Some("vorbis"))
        ));
    }

    #[test]
    fn a_proxy_is_named_by_its_originals_checksum() {
        let (name, media_type) = proxy_name("sha256:abcdef", true);
        assert_eq!(
            (name.as_str(), media_type),
            ("ab/abcdef-proxy.mp4", "video/mp4")
        );
        assert_eq!(proxy_of("abcdef-proxy.mp4"), Some("abcdef"));
        assert_eq!(proxy_of("abcdef-proxy.m4a"), Some("abcdef"));
        assert_eq!(proxy_of("abcdef-thumb.jpg"), None);
    }
}
