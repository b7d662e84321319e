//! Audio and video as their container describes them: duration, the
//! container, the first video stream (codec, frame size as displayed,
//! frame rate) and the first audio stream (codec, sample rate, channels),
//! when it was recorded and where (ISO 6709, as phones write it in
//! QuickTime and MP4 `location` keys). Read from `ffprobe -print_format
//! json` output, which `ingest::av` runs; a pure function of those bytes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::exif::Gps;

/// What a video or audio file's container says of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Media {
    /// Seconds.
    pub duration: Option<f64>,
    /// The container, as ffprobe names its format (`mov,mp4,m4a,3gp,3g2,mj2`,
    /// `matroska,webm`, `wav`, `flac`, `mp3`, `ogg`, `avi`).
    pub container: Option<String>,
    pub video: Option<VideoStream>,
    pub audio: Option<AudioStream>,
    /// When it was recorded, as the container says (RFC 3339, UTC).
    pub creation_time: Option<String>,
    pub gps: Option<Gps>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VideoStream {
    /// As ffprobe names it: `h264`, `hevc`, `vp9`, `av1`, `mpeg4`, ...
    pub codec: String,
    /// Pixels as displayed: a stream stored sideways with a rotation
    /// (phones) has its width and height swapped.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Frames per second.
    pub frame_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AudioStream {
    /// As ffprobe names it: `aac`, `mp3`, `flac`, `opus`, `vorbis`, `pcm_s16le`, ...
    pub codec: String,
    /// Hertz.
    pub sample_rate: Option<u32>,
    pub channels: Option<u32>,
}

/// The media description in `ffprobe -print_format json -show_format
/// -show_streams` output.
pub fn from_probe(json: &[u8]) -> Result<Media, String> {
    let doc: Value =
        serde_json::from_slice(json).map_err(|e| format!("ffprobe's answer is not JSON: {e}"))?;
    let format = &doc["format"];
    let streams = doc["streams"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let of_type = |kind: &str| {
        streams
            .iter()
            // Cover art in an audio file is a video stream too: skip it.
            .filter(|s| s["disposition"]["attached_pic"].as_u64() != Some(1))
            .find(|s| s["codec_type"].as_str() == Some(kind))
    };
    let video = of_type("video").map(|s| {
        let (mut width, mut height) = (number(&s["width"]), number(&s["height"]));
        if rotation(s).is_some_and(|r| r.rem_euclid(180) == 90) {
            std::mem::swap(&mut width, &mut height);
        }
        VideoStream {
            codec: text(&s["codec_name"]).unwrap_or_else(|| "unknown".to_owned()),
            width,
            height,
            frame_rate: ratio(&s["avg_frame_rate"]).or_else(|| ratio(&s["r_frame_rate"])),
        }
    });
    let audio = of_type("audio").map(|s| AudioStream {
        codec: text(&s["codec_name"]).unwrap_or_else(|| "unknown".to_owned()),
        sample_rate: number(&s["sample_rate"]),
        channels: number(&s["channels"]),
    });
    let tag = |key: &str| {
        std::iter::once(format)
            .chain(streams)
            .find_map(|x| text(&x["tags"][key]))
    };
    let duration = float(&format["duration"]).filter(|d| d.is_finite() && *d >= 0.0);
    Ok(Media {
        duration,
        container: text(&format["format_name"]),
        video,
        audio,
        creation_time: tag("creation_time"),
        gps: [
            "com.apple.quicktime.location.ISO6709",
            "location",
            "location-eng",
        ]
        .iter()
        .find_map(|k| tag(k))
        .and_then(|l| iso6709(&l)),
    })
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A count ffprobe gives as a number or as text (`"44100"`).
fn number(v: &Value) -> Option<u32> {
    v.as_u64()
        .or_else(|| v.as_str()?.trim().parse().ok())
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
}

fn float(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// `"30000/1001"` → 29.97; `"0/0"` (unknown) → none.
fn ratio(v: &Value) -> Option<f64> {
    let (n, d) = v.as_str()?.split_once('/')?;
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (n > 0.0 && d > 0.0).then(|| (n / d * 1000.0).round() / 1000.0)
}

/// A video stream's rotation in degrees: its display matrix, or the older
/// `rotate` tag.
fn rotation(stream: &Value) -> Option<i64> {
    stream["side_data_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|d| d["rotation"].as_f64().map(|r| r.round() as i64))
        .or_else(|| text(&stream["tags"]["rotate"])?.parse().ok())
}

/// An ISO 6709 point, `±DD.DDDD±DDD.DDDD[±AAA.AAA][CRS]/`, as QuickTime and
/// MP4 `location` keys hold it.
fn iso6709(text: &str) -> Option<Gps> {
    let body = text.trim().trim_end_matches('/');
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in body.char_indices() {
        if c == '+' || c == '-' {
            if let Some(s) = start {
                parts.push(&body[s..i]);
            }
            start = Some(i);
        } else if !(c.is_ascii_digit() || c == '.') {
            // A coordinate reference system (`CRSWGS_84`) ends the numbers.
            if let Some(s) = start.take() {
                parts.push(&body[s..i]);
            }
            break;
        }
    }
    if let Some(s) = start {
        parts.push(&body[s..]);
    }
    let value = |i: usize| parts.get(i).and_then(|p| p.parse::<f64>().ok());
    let (latitude, longitude) = (value(0)?, value(1)?);
    if !(-90.0..=90.0).contains(&latitude) || !(-180.0..=180.0).contains(&longitude) {
        return None;
    }
    Some(Gps {
        latitude: Some(latitude),
        longitude: Some(longitude),
        altitude: value(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso6709_points_read_as_phones_write_them() {
        let gps = iso6709("+48.8577+002.2950+035.000/").unwrap();
        assert_eq!(
            (gps.latitude, gps.longitude, gps.altitude),
            (Some(48.8577), Some(2.295), Some(35.0))
        );
        let gps = iso6709("-33.8688+151.2093/").unwrap();
        assert_eq!(
            (gps.latitude, gps.longitude, gps.altitude),
            (Some(-33.8688), Some(151.2093), None)
        );
        let gps = iso6709("+40.6892-074.0445+010.5CRSWGS_84/").unwrap();
        assert_eq!(gps.altitude, Some(10.5));
        for bad in ["", "/", "+91.0+000.0/", "north", "+48.85"] {
            assert_eq!(iso6709(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn frame_rates_are_ratios_and_unknown_ones_are_none() {
        assert_eq!(ratio(&Value::from("30000/1001")), Some(29.97));
        assert_eq!(ratio(&Value::from("25/1")), Some(25.0));
        assert_eq!(ratio(&Value::from("0/0")), None);
        assert_eq!(ratio(&Value::from("x")), None);
    }

    #[test]
    fn a_phone_video_stored_sideways_is_described_as_displayed() {
        let probe =
            br#"{"format": {"format_name": "mov,mp4,m4a,3gp,3g2,mj2", "duration": "2.000000",
            "tags": {"creation_time": "2024-05-01T10:00:00.000000Z",
                     "com.apple.quicktime.location.ISO6709": "+48.8577+002.2950+035.000/"}},
          "streams": [
            {"codec_type": "video", "codec_name": "hevc", "width": 1920, "height": 1080,
             "avg_frame_rate": "30/1", "side_data_list": [{"rotation": -90}]},
            {"codec_type": "audio", "codec_name": "aac", "sample_rate": "44100", "channels": 2}]}"#;
        let media = from_probe(probe).unwrap();
        let video = media.video.unwrap();
        assert_eq!(
            (video.width, video.height, video.frame_rate),
            (Some(1080), Some(1920), Some(30.0))
        );
        assert_eq!(media.audio.unwrap().sample_rate, Some(44100));
        assert_eq!(media.duration, Some(2.0));
        assert_eq!(
            media.creation_time.as_deref(),
            Some("2024-05-01T10:00:00.000000Z")
        );
        assert_eq!(media.gps.unwrap().latitude, Some(48.8577));
        assert!(from_probe(b"not json").is_err());
    }
}
