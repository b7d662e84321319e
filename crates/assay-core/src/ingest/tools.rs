//! The programs import runs as child processes (ffmpeg, heif-convert):
//! each under a deadline (`assay-deadline`: its process group is stopped
//! whole when it passes) and an address-space limit (`prlimit`,
//! util-linux), so a crafted file can neither hang an import nor take the
//! machine's memory. Their failures come back as words for a warning.

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The address space a child may map: decoding one frame of 8K video or a
/// 50-megapixel HEIF stays far below it; a crafted file that makes the
/// decoder allocate without end is stopped.
const MEMORY_LIMIT: u64 = 2 << 30;

/// `path` made absolute behind `prefix` (ffmpeg's `file:` protocol; none
/// for a program that takes plain paths), so a name that starts with `-`
/// is never read as an option.
pub(crate) fn input(prefix: &str, path: &Path) -> OsString {
    let mut absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    if prefix.is_empty() && !absolute.is_absolute() {
        absolute = Path::new(".").join(absolute);
    }
    let mut input = OsString::from(prefix);
    input.push(absolute.as_os_str());
    input
}

/// Runs `program` (or what `override_var` names) with `options` then
/// `args`, under the memory limit and `limit`; its standard output, or why
/// it failed in words.
pub(crate) fn run(
    program: &str,
    override_var: &str,
    options: &[&str],
    args: &[OsString],
    limit: Duration,
) -> Result<Vec<u8>, String> {
    let program = std::env::var_os(override_var).unwrap_or_else(|| program.into());
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--as={MEMORY_LIMIT}"))
        .arg("--")
        .arg(&program)
        .args(options)
        .args(args);
    let name = program.to_string_lossy().into_owned();
    let out = assay_deadline::output(&mut cmd, limit).map_err(|e| match e {
        assay_deadline::Error::TimedOut { limit, .. } => {
            format!("{name} did not finish within {limit:?} and was stopped")
        }
        other => format!("{name} could not be run: {other}"),
    })?;
    if out.status.success() {
        return Ok(out.stdout);
    }
    let said = String::from_utf8_lossy(&out.stderr);
    let said = said.lines().last().unwrap_or_default().trim();
    // prlimit says so when the program itself is missing.
    if out.status.code() == Some(127) || said.contains("failed to execute") {
        return Err(format!("{name} is not installed (see scripts/setup.sh)"));
    }
    Err(format!(
        "{name} failed ({}){}",
        out.status,
        if said.is_empty() {
            String::new()
        } else {
            format!(": {}", said.chars().take(200).collect::<String>())
        }
    ))
}
