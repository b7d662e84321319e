//! Videos play in the detail panel: an H.264 MP4 as it is, a VP9 WebM
//! through the proxy rendition the core makes once, both read in byte
//! ranges from the app's loopback media server.

use std::path::Path;
use std::process::Command;

use anyhow::{ensure, Result};
use assay_app_e2e::App;
use assay_core::{Library, Role};

use crate::library::{import_as, unlock, PASSPHRASE};

/// Renders two seconds of ffmpeg's test pattern as `name` with `codec`.
fn clip(dir: &Path, name: &str, codec: &[&str]) -> Result<()> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=2:size=320x240:rate=25")
        .args(codec)
        .arg(dir.join(name))
        .output()?;
    ensure!(out.status.success(), "ffmpeg: {out:?}");
    Ok(())
}

fn two_clips(library: &Path) -> Result<()> {
    let lib = Library::open(library)?;
    lib.add_user(None, "ada", Role::Admin, PASSPHRASE.as_bytes())?;
    let ada = lib.unlock("ada", PASSPHRASE.as_bytes())?;
    lib.add_user(Some(&ada), "cy", Role::Creator, PASSPHRASE.as_bytes())?;
    let clips = library.with_file_name("clips");
    std::fs::create_dir_all(&clips)?;
    clip(
        &clips,
        "plain.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    )?;
    clip(&clips, "web.webm", &["-c:v", "libvpx-vp9", "-b:v", "200k"])?;
    import_as(&lib, "cy", &clips)
}

/// Opens the asset whose cell is captioned `name`, plays it and returns
/// the player's duration once it has read it.
async fn play(app: &App, lib: &Library, name: &str) -> Result<f64> {
    let asset = lib
        .list(&Default::default())?
        .into_iter()
        .find(|r| r.locations[0].path.ends_with(name))
        .ok_or_else(|| anyhow::anyhow!("{name} was not imported"))?;
    app.click(&format!(".cell[data-asset='{}']", asset.asset_id))
        .await?;
    app.click("button[aria-label='Play']").await?;
    app.find("video[data-testid=player]").await?;
    let start = std::time::Instant::now();
    loop {
        let state = app
            .client
            .execute(
                "const v = document.querySelector('video[data-testid=player]');
                 return [v.readyState, v.duration, v.error ? v.error.code : 0];",
                vec![],
            )
            .await?;
        let ready = state[0].as_u64().unwrap_or(0);
        let error = state[2].as_u64().unwrap_or(0);
        ensure!(
            error == 0,
            "{name}: the player failed with media error {error}"
        );
        if ready >= 1 {
            return Ok(state[1].as_f64().unwrap_or(0.0));
        }
        ensure!(
            start.elapsed().as_secs() < 30,
            "{name}: the player read nothing in 30 s ({state:?})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_mp4_plays_as_it_is_and_a_webm_through_its_proxy() -> Result<()> {
    let app = App::start(two_clips).await?;
    let lib = Library::open(&app.library)?;
    unlock(&app, "cy", PASSPHRASE).await?;
    app.text_until("[data-testid=acting]", |t| t.starts_with("cy"))
        .await?;

    let duration = play(&app, &lib, "plain.mp4").await?;
    ensure!((duration - 2.0).abs() < 0.2, "plain.mp4 lasts {duration} s");
    // The player reads the original in byte ranges, from behind the token.
    let src = app
        .client
        .execute(
            "return document.querySelector('video[data-testid=player]').src",
            vec![],
        )
        .await?;
    let src = src.as_str().unwrap_or_default().to_owned();
    ensure!(src.starts_with("http://127.0.0.1:"), "{src}");
    let original = std::fs::read(app.library.with_file_name("clips").join("plain.mp4"))?;
    let (status, range, body) = get(&src, Some("bytes=0-99"))?;
    ensure!(status == 206, "a range answered {status}");
    ensure!(range == format!("bytes 0-99/{}", original.len()), "{range}");
    ensure!(
        body == original[..100],
        "the first 100 bytes are not the file's"
    );
    let (token, asset) = src.rsplit_once('/').unwrap_or_default();
    let wrong = format!("{}zzzz/{asset}", &token[..token.len() - 4]);
    ensure!(get(&wrong, None)?.0 == 404, "another token was answered");
    ensure!(get(&src.replace(asset, "nothing"), None)?.0 == 404);
    let proxies = |lib: &Library| -> Result<usize> {
        Ok(walk(&lib.previews_dir())?
            .iter()
            .filter(|p| p.to_string_lossy().ends_with("-proxy.mp4"))
            .count())
    };
    ensure!(proxies(&lib)? == 0, "an MP4 that plays needs no proxy");

    let duration = play(&app, &lib, "web.webm").await?;
    ensure!(
        (duration - 2.0).abs() < 0.2,
        "web.webm's proxy lasts {duration} s"
    );
    app.text_until(".player", |t| t.contains("A playable copy"))
        .await?;
    ensure!(proxies(&lib)? == 1, "the WebM's proxy is kept");
    app.screenshot("playback").await?;
    app.close().await
}

/// Every file under `dir`.
fn walk(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(walk(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}

/// `GET url` (with a `Range` header): the status, `Content-Range` and body.
fn get(url: &str, range: Option<&str>) -> Result<(u16, String, Vec<u8>)> {
    let mut request = ureq::get(url);
    if let Some(range) = range {
        request = request.header("Range", range);
    }
    let mut response = request
        .config()
        .http_status_as_error(false)
        .build()
        .call()?;
    let range = response
        .headers()
        .get("content-range")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = response.body_mut().read_to_vec()?;
    Ok((response.status().as_u16(), range, body))
}
