//! Shared output helpers: JSON lines and progress bars.

use std::io::Write;

use indicatif::{ProgressBar, ProgressStyle};

/// Prints `value` as one JSON line on stdout.
pub fn json_line<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    Ok(())
}

/// What an export left out, one line per asset on stderr.
pub fn left_out(refused: &[assay_core::RefusedAsset]) {
    for r in refused {
        eprintln!("left out {}: {}", r.asset_id, r.reason);
    }
}

/// An export's exit code: 1 when it left any asset out.
pub fn export_code(refused: &[assay_core::RefusedAsset]) -> std::process::ExitCode {
    std::process::ExitCode::from(u8::from(!refused.is_empty()))
}

/// A bytes-and-files progress bar on stderr; hidden when stderr is not a
/// terminal or `quiet` is set, so scripts and `--json` stay clean.
pub fn bytes_bar(quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}

/// A counting progress bar on stderr (`{pos}/{len} WHAT`), hidden as
/// [`bytes_bar`] is.
pub fn count_bar(quiet: bool, len: u64, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let template = format!("{{spinner}} [{{elapsed_precise}}] {{wide_bar}} {{pos}}/{{len}} {what}");
    let bar = ProgressBar::new(len).with_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(100));
    bar
}
