//! Child processes and waits with a hard deadline. Whatever runs past its
//! deadline is stopped (a child with every process it started) and the error
//! names what was waited for, so a test, a benchmark or a script fails with
//! a reason instead of hanging.
//!
//! A child runs in a process group of its own: killing only the child would
//! leave its children holding its output pipes open, and reading them would
//! then never end.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often [`until`] looks again.
const POLL: Duration = Duration::from_millis(20);

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{what} did not finish within {limit:?}; it was stopped")]
    TimedOut { what: String, limit: Duration },
    #[error("waited {limit:?} for {what}, in vain")]
    NeverReady { what: String, limit: Duration },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// How a command is named in errors: its program and arguments.
pub fn describe(cmd: &Command) -> String {
    let mut words = vec![cmd.get_program().to_string_lossy().into_owned()];
    words.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    words.join(" ")
}

/// Runs `cmd` to the end with its output collected, as
/// [`Command::output`] does (stdin empty), but stops it and its process
/// group once `limit` has passed.
pub fn output(cmd: &mut Command, limit: Duration) -> Result<Output, Error> {
    let what = describe(cmd);
    let mut child = spawn(
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
        &what,
    )?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let status = wait(&mut child, limit, &what)?;
    Ok(Output {
        status,
        stdout: stdout.map(collect).unwrap_or_default(),
        stderr: stderr.map(collect).unwrap_or_default(),
    })
}

/// [`output`] as a method of the command being built:
/// `Command::new("assay").arg("verify").output_within(limit)`.
pub trait OutputWithin {
    fn output_within(&mut self, limit: Duration) -> Result<Output, Error>;
}

impl OutputWithin for Command {
    fn output_within(&mut self, limit: Duration) -> Result<Output, Error> {
        output(self, limit)
    }
}

/// Starts `cmd` in a process group of its own, so [`stop`] reaches every
/// process it starts.
pub fn spawn(cmd: &mut Command, what: &str) -> Result<Child, Error> {
    cmd.process_group(0).spawn().map_err(|source| Error::Io {
        what: format!("starting {what}"),
        source,
    })
}

/// Waits for `child` (started by [`spawn`]) to exit; past `limit`, stops
/// its process group and says so. The wait itself blocks, so a quick child
/// is not kept waiting for a poll (benchmarks time their tools with it); a
/// watcher thread stops the group at the deadline.
pub fn wait(child: &mut Child, limit: Duration, what: &str) -> Result<ExitStatus, Error> {
    let group = child.id();
    let (exited, watched) = mpsc::channel::<()>();
    let watcher = std::thread::spawn(move || match watched.recv_timeout(limit) {
        Err(mpsc::RecvTimeoutError::Timeout) => {
            kill_group(group);
            true
        }
        _ => false,
    });
    let status = child.wait();
    let _ = exited.send(());
    if watcher.join().unwrap_or(false) {
        return Err(Error::TimedOut {
            what: what.to_owned(),
            limit,
        });
    }
    status.map_err(|source| Error::Io {
        what: format!("waiting for {what}"),
        source,
    })
}

/// Kills `child`'s process group (see [`spawn`]) and reaps the child.
pub fn stop(child: &mut Child) {
    kill_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

fn kill_group(group: u32) {
    // `kill(1)` rather than libc: the workspace forbids unsafe code.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Polls `ready` until it gives a value, for at most `limit`; `what` names
/// what was awaited in the error ("tauri-driver to listen on port 4444").
pub fn until<T>(
    what: &str,
    limit: Duration,
    mut ready: impl FnMut() -> Option<T>,
) -> Result<T, Error> {
    let start = Instant::now();
    loop {
        if let Some(value) = ready() {
            return Ok(value);
        }
        if start.elapsed() >= limit {
            return Err(Error::NeverReady {
                what: what.to_owned(),
                limit,
            });
        }
        std::thread::sleep(POLL);
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn collect(reader: JoinHandle<Vec<u8>>) -> Vec<u8> {
    reader.join().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quick_command_gives_its_output() {
        let out = output(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_command_past_its_deadline_is_stopped_with_its_children_and_named() {
        // The grandchild holds stdout open: only stopping the whole group
        // lets the output readers finish.
        let start = Instant::now();
        let err = output(
            Command::new("sh").args(["-c", "sleep 30 & sleep 30"]),
            Duration::from_millis(300),
        )
        .unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );
        let message = err.to_string();
        assert!(
            message.contains("sh -c sleep 30 & sleep 30") && message.contains("did not finish"),
            "{message}"
        );
    }

    #[test]
    fn until_names_what_never_came() {
        let err = until("port 9 to listen", Duration::from_millis(50), || None::<()>).unwrap_err();
        assert_eq!(err.to_string(), "waited 50ms for port 9 to listen, in vain");
        assert_eq!(until("x", Duration::from_secs(1), || Some(7)).unwrap(), 7);
    }
}
