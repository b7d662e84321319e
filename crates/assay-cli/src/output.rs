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
