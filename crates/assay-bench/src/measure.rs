//! Runs `assay --library LIB import --json DIR` (or `previews --json`) as a
//! child process and measures its wall time, peak memory and what it
//! reported per file.
//!
//! Peak memory is the child's maximum resident set size. The workspace
//! forbids `unsafe`, so `wait4` is out of reach; GNU time (which calls
//! `wait4` itself, and which `scripts/setup.sh --bench` installs) reports
//! it exactly. Without GNU time the child's `VmHWM` is sampled from /proc.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use assay_deadline::OutputWithin;

/// How the child's peak memory is found.
pub enum RssProbe {
    GnuTime(PathBuf),
    ProcSampling,
}

impl RssProbe {
    pub fn detect() -> Self {
        let time = PathBuf::from("/usr/bin/time");
        let gnu = Command::new(&time)
            .arg("--version")
            .output_within(assay_bench::TOOL_LIMIT)
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU"));
        if gnu {
            RssProbe::GnuTime(time)
        } else {
            RssProbe::ProcSampling
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            RssProbe::GnuTime(_) => "maximum resident set size from GNU time (wait4 rusage)",
            RssProbe::ProcSampling => "VmHWM sampled from /proc every 2 ms (GNU time not found)",
        }
    }
}

/// What `assay import --json` or `assay previews --json` reported, one
/// count per status.
#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub imported: u64,
    pub duplicate: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Previews made, not made (the warnings say why) and files unavailable.
    pub made: u64,
    pub not_made: u64,
    pub unavailable: u64,
    pub with_warnings: u64,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.imported
            + self.duplicate
            + self.unchanged
            + self.failed
            + self.made
            + self.not_made
            + self.unavailable
    }
}

/// One measured import.
pub struct Import {
    pub files: u64,
    pub bytes: u64,
    pub wall: Duration,
    pub peak_rss_bytes: Option<u64>,
    pub tally: Tally,
}

impl Import {
    pub fn files_per_second(&self) -> f64 {
        self.files as f64 / self.wall.as_secs_f64()
    }

    pub fn mb_per_second(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.wall.as_secs_f64()
    }
}

/// The longest one measured import may take before it is stopped: far
/// above any run of the benchmark's sizes on a 2-core machine.
const IMPORT_LIMIT: Duration = Duration::from_secs(3600);

/// What to run: `assay import --json [--defer-previews] DIR`, or the
/// second phase, `assay previews --json`.
pub enum Step<'a> {
    Import { dir: &'a Path, defer_previews: bool },
    Previews,
}

/// Runs `step` on the library at `library`, over `files` files of `bytes`
/// bytes in all. `scratch` is a private folder for the probe.
pub fn import(
    assay: &Path,
    library: &Path,
    step: Step,
    (files, bytes): (u64, u64),
    probe: &RssProbe,
    scratch: &Path,
) -> anyhow::Result<Import> {
    let rss_file = scratch.join("peak-rss.txt");
    let mut command = match probe {
        RssProbe::GnuTime(time) => {
            let mut c = Command::new(time);
            c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(assay);
            c
        }
        RssProbe::ProcSampling => Command::new(assay),
    };
    command.arg("--library").arg(library);
    let what = match step {
        Step::Import {
            dir,
            defer_previews,
        } => {
            command.args(["import", "--json"]);
            if defer_previews {
                command.arg("--defer-previews");
            }
            command.arg(dir);
            format!("assay import {}", dir.display())
        }
        Step::Previews => {
            command.args(["previews", "--json"]);
            format!("assay previews in {}", library.display())
        }
    };
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let started = Instant::now();
    let mut child = assay_deadline::spawn(&mut command, &what)?;
    let stdout = child
        .stdout
        .take()
        .context("the child has no stdout pipe")?;
    let mut stderr = child
        .stderr
        .take()
        .context("the child has no stderr pipe")?;
    let out_reader = std::thread::spawn(move || tally(stdout));
    let err_reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        stderr.read_to_end(&mut text).map(|_| text)
    });
    let (status, sampled) = match probe {
        RssProbe::GnuTime(_) => (assay_deadline::wait(&mut child, IMPORT_LIMIT, &what), None),
        RssProbe::ProcSampling => sample_until_exit(&mut child, &what),
    };
    let wall = started.elapsed();
    let status = status?;

    let tally = out_reader
        .join()
        .map_err(|_| anyhow!("the stdout reader panicked"))?
        .with_context(|| format!("reading the output of {what}"))?;
    let err_text = err_reader
        .join()
        .map_err(|_| anyhow!("the stderr reader panicked"))?
        .with_context(|| format!("reading the errors of {what}"))?;
    let err_text = String::from_utf8_lossy(&err_text);
    // Exit 1 means some files failed: still a measurement, and the report
    // shows the failures. Anything else means the import itself broke.
    let some_failed = status.code() == Some(1) && tally.failed > 0;
    if !(status.success() || some_failed) {
        bail!("{what} failed ({status}):\n{}", tail(&err_text, 20));
    }

    let peak_rss_bytes = match probe {
        RssProbe::GnuTime(_) => Some(read_gnu_time(&rss_file)? * 1024),
        RssProbe::ProcSampling => sampled,
    };
    Ok(Import {
        files,
        bytes,
        wall,
        peak_rss_bytes,
        tally,
    })
}

/// Counts the statuses in `assay import --json` or `assay previews --json`
/// output, one object a line.
fn tally(stdout: impl Read) -> anyhow::Result<Tally> {
    let mut tally = Tally::default();
    for (n, line) in BufReader::new(stdout).lines().enumerate() {
        let line = line?;
        let value: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("line {} is not JSON: {line}", n + 1))?;
        match value["status"].as_str() {
            Some("imported") => tally.imported += 1,
            Some("duplicate") => tally.duplicate += 1,
            Some("unchanged") => tally.unchanged += 1,
            Some("failed") => tally.failed += 1,
            Some("made") => tally.made += 1,
            Some("not_made") => tally.not_made += 1,
            Some("unavailable") => tally.unavailable += 1,
            other => bail!("line {} has an unknown status {other:?}", n + 1),
        }
        if value["warnings"].as_array().is_some_and(|w| !w.is_empty()) {
            tally.with_warnings += 1;
        }
    }
    Ok(tally)
}

/// GNU time's `-o` file: the `%M` figure (KiB) is its last line; a line
/// before it may say the command exited non-zero.
fn read_gnu_time(path: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading GNU time's report {}", path.display()))?;
    let last = text.lines().rev().find(|l| !l.trim().is_empty());
    last.and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("no peak memory figure in {}: {text:?}", path.display()))
}

/// Waits for `child` (for at most [`IMPORT_LIMIT`]), sampling its peak
/// resident set size meanwhile.
fn sample_until_exit(
    child: &mut Child,
    what: &str,
) -> (Result<ExitStatus, assay_deadline::Error>, Option<u64>) {
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = None;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Ok(status), peak),
            Ok(None) if started.elapsed() > IMPORT_LIMIT => {
                assay_deadline::stop(child);
                let error = assay_deadline::Error::TimedOut {
                    what: what.to_owned(),
                    limit: IMPORT_LIMIT,
                };
                return (Err(error), peak);
            }
            Ok(None) => {}
            Err(source) => {
                let error = assay_deadline::Error::Io {
                    what: format!("waiting for {what}"),
                    source,
                };
                return (Err(error), peak);
            }
        }
        if let Some(kib) = vm_hwm(&status_file) {
            peak = Some(peak.unwrap_or(0).max(kib * 1024));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn vm_hwm(status_file: &str) -> Option<u64> {
    let text = std::fs::read_to_string(status_file).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The last `lines` lines of `text`.
fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_statuses_and_warnings() {
        let out = concat!(
            r#"{"path":"a","status":"imported","warnings":[]}"#,
            "\n",
            r#"{"path":"b","status":"unchanged","warnings":["x"]}"#,
            "\n",
            r#"{"path":"c","status":"failed","warnings":[]}"#,
            "\n",
            r#"{"asset_id":"d","status":"made","warnings":[]}"#,
            "\n"
        );
        let t = tally(out.as_bytes()).unwrap();
        assert_eq!(
            (t.imported, t.unchanged, t.failed, t.made, t.with_warnings),
            (1, 1, 1, 1, 1)
        );
        assert_eq!(t.total(), 4);
        assert!(tally(&b"not json\n"[..]).is_err());
    }
}
