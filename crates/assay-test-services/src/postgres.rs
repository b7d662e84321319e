//! A throwaway PostgreSQL cluster for one test: `initdb` into a temporary
//! folder, the server on a free loopback port (its unix socket in that
//! folder too, so it never meets the system's cluster), stopped and removed
//! when the [`Cluster`] is dropped.
//!
//! The binaries are the system's: `initdb` on `PATH` if there is one, else
//! the highest version under `/usr/lib/postgresql/*/bin` (Debian keeps them
//! there, off `PATH`). PostgreSQL refuses to run as root, so a test running
//! as root runs every server command as the `postgres` system user
//! (`setpriv`, which execs in place: the child is the server itself), the
//! folder given to it first. Durability is off (`fsync`, full-page writes):
//! a test's data need not survive a power cut.
//!
//! Every wait has a deadline ([`assay_deadline`]): a server that never
//! starts fails the test with its command and log instead of hanging it.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use assay_deadline::OutputWithin;

/// The superuser `initdb` makes; connections from loopback are trusted.
pub const USER: &str = "assay";

/// How long `initdb`, a start or a stop may take.
const LIMIT: Duration = Duration::from_secs(60);

/// Ports tried before giving up: another process may take the free port
/// found between its release and the server binding it.
const PORT_ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no PostgreSQL server binaries: initdb is neither on PATH nor in /usr/lib/postgresql/*/bin (scripts/setup.sh installs them)")]
    NotInstalled,
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: ExitStatus,
        stderr: String,
    },
    #[error("{command} exited while starting ({status}); its log:\n{log}")]
    Exited {
        command: String,
        status: ExitStatus,
        log: String,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Deadline(#[from] assay_deadline::Error),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// A running cluster; dropping it stops the server and removes its folder.
pub struct Cluster {
    bin: PathBuf,
    run_as: Option<SystemUser>,
    data: PathBuf,
    port: u16,
    server: Child,
    /// Last, so the folder goes once the server has stopped.
    dir: tempfile::TempDir,
}

/// Who runs the server commands when the test runs as root.
#[derive(Clone, Copy)]
struct SystemUser {
    uid: u32,
    gid: u32,
}

impl Cluster {
    /// Initialises and starts a new cluster.
    pub fn start() -> Result<Cluster, Error> {
        Cluster::start_with(None)
    }

    /// A new cluster that also takes TLS connections, with the server
    /// certificate `cert` and its unencrypted key `key` (PEM files, copied
    /// into the cluster's folder, where only the server may read the key).
    pub fn start_with_tls(cert: &Path, key: &Path) -> Result<Cluster, Error> {
        Cluster::start_with(Some((cert, key)))
    }

    fn start_with(tls: Option<(&Path, &Path)>) -> Result<Cluster, Error> {
        let bin = binaries().ok_or(Error::NotInstalled)?;
        let dir = tempfile::Builder::new()
            .prefix("assay-postgres-")
            .tempdir()
            .map_err(io("making a folder for a PostgreSQL cluster"))?;
        let run_as = if rustix::process::geteuid().is_root() {
            let user = postgres_user()?;
            std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid))
                .map_err(io(format!("giving {} to postgres", dir.path().display())))?;
            Some(user)
        } else {
            None
        };
        let mut settings = Vec::new();
        if let Some((cert, key)) = tls {
            for (from, name, setting) in [
                (cert, "server.crt", "ssl_cert_file"),
                (key, "server.key", "ssl_key_file"),
            ] {
                let to = dir.path().join(name);
                std::fs::copy(from, &to).map_err(io(format!(
                    "copying {} to {}",
                    from.display(),
                    to.display()
                )))?;
                // PostgreSQL refuses a key others may read.
                std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600))
                    .map_err(io(format!("making {} private", to.display())))?;
                if let Some(user) = run_as {
                    std::os::unix::fs::chown(&to, Some(user.uid), Some(user.gid))
                        .map_err(io(format!("giving {} to postgres", to.display())))?;
                }
                settings.push(format!("{setting}={}", to.display()));
            }
            settings.push("ssl=on".to_owned());
        }
        let data = dir.path().join("data");
        let mut initdb = command(run_as, &bin.join("initdb"));
        initdb
            .arg("--pgdata")
            .arg(&data)
            .args(["--username", USER, "--auth", "trust"])
            .args(["--encoding", "UTF8", "--locale", "C", "--no-sync"]);
        succeed(&mut initdb)?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let port = free_port()?;
            match serve(&bin, run_as, dir.path(), &data, port, &settings)? {
                Started::Ready(server) => {
                    return Ok(Cluster {
                        bin,
                        run_as,
                        data,
                        port,
                        server,
                        dir,
                    })
                }
                Started::PortTaken(_) if attempt < PORT_ATTEMPTS => continue,
                Started::PortTaken(e) | Started::Failed(e) => return Err(e),
            }
        }
    }

    /// A URL for database `postgres` as the superuser [`USER`].
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// A URL for `database` (one [`Cluster::psql`] made, or `postgres`).
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs `sql` with `psql` against database `postgres`; its output,
    /// unaligned and without headers (`psql -At`).
    pub fn psql(&self, sql: &str) -> Result<String, Error> {
        self.psql_in("postgres", sql)
    }

    /// Runs `sql` with `psql` against `database`, as [`Cluster::psql`].
    pub fn psql_in(&self, database: &str, sql: &str) -> Result<String, Error> {
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args(["-X", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args(["-d", &self.database_url(database), "-c", sql]);
        let out = succeed(&mut psql)?;
        Ok(String::from_utf8_lossy(&out).trim_end().to_owned())
    }

    /// Every row of database `postgres` as `pg_dump --data-only` writes
    /// them: what a test looks through for what must never be stored.
    pub fn dump(&self) -> Result<String, Error> {
        let mut dump = Command::new(self.bin.join("pg_dump"));
        dump.args(["--data-only", "--no-owner", "-d", &self.url()]);
        let out = succeed(&mut dump)?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// The server's log so far: among others, every statement that failed
    /// and why (PostgreSQL logs errors by default).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("postgres-{}.log", self.port)))
            .unwrap_or_default()
    }

    /// The folder holding the cluster (its data and socket).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // An immediate stop: the server and its backends quit at once and
        // release their shared memory; nothing needs to be kept.
        let mut stop = command(self.run_as, &self.bin.join("pg_ctl"));
        stop.arg("stop").arg("--pgdata").arg(&self.data).args([
            "--mode",
            "immediate",
            "--wait",
            "--timeout",
            "30",
        ]);
        let stopped = succeed(&mut stop).is_ok()
            && assay_deadline::wait(&mut self.server, LIMIT, "postgres to stop").is_ok();
        if !stopped {
            let _ = self.server.kill();
            let _ = self.server.wait();
        }
    }
}

enum Started {
    Ready(Child),
    /// Another process bound the port first: try another.
    PortTaken(Error),
    Failed(Error),
}

/// Starts the server on `port` and waits until it accepts connections.
fn serve(
    bin: &Path,
    run_as: Option<SystemUser>,
    dir: &Path,
    data: &Path,
    port: u16,
    settings: &[String],
) -> Result<Started, Error> {
    let log_path = dir.join(format!("postgres-{port}.log"));
    let log = File::create(&log_path).map_err(io(format!("creating {}", log_path.display())))?;
    let stderr = log
        .try_clone()
        .map_err(io(format!("opening {}", log_path.display())))?;
    let mut postgres = command(run_as, &bin.join("postgres"));
    postgres
        .arg("-D")
        .arg(data)
        .args(["-p", &port.to_string(), "-h", "127.0.0.1", "-k"])
        .arg(dir)
        .args(["-c", "fsync=off", "-c", "full_page_writes=off"])
        .args(["-c", "synchronous_commit=off", "-c", "shared_buffers=16MB"])
        // In the data folder, so even a killed server leaves nothing in /dev/shm.
        .args(["-c", "dynamic_shared_memory_type=mmap"])
        .args(settings.iter().flat_map(|s| ["-c", s.as_str()]))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(stderr);
    let what = assay_deadline::describe(&postgres);
    // Not `assay_deadline::spawn`: that gives the child a process group of
    // its own, and the server is better in the test's, so that a test
    // stopped at its deadline (with its group) takes its server with it.
    let mut server = postgres.spawn().map_err(io(format!("starting {what}")))?;
    let ready =
        assay_deadline::until(
            &format!("{what} to accept connections"),
            LIMIT,
            || match server.try_wait() {
                Ok(Some(status)) => Some(Err(status)),
                Ok(None) => accepts(bin, port).then_some(Ok(())),
                Err(_) => None,
            },
        );
    let exited = match ready {
        Ok(Ok(())) => return Ok(Started::Ready(server)),
        Ok(Err(status)) => status,
        Err(e) => {
            let _ = server.kill();
            let _ = server.wait();
            return Ok(Started::Failed(e.into()));
        }
    };
    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
    let taken = log.contains("could not bind") || log.contains("already in use");
    let error = Error::Exited {
        command: what,
        status: exited,
        log,
    };
    Ok(if taken {
        Started::PortTaken(error)
    } else {
        Started::Failed(error)
    })
}

/// Whether the server on `port` takes connections (`pg_isready`).
fn accepts(bin: &Path, port: u16) -> bool {
    Command::new(bin.join("pg_isready"))
        .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-t", "1"])
        .output_within(Duration::from_secs(5))
        .is_ok_and(|out| out.status.success())
}

/// A loopback port nothing listens on now.
fn free_port() -> Result<u16, Error> {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io("finding a free loopback port"))?;
    let port = listener
        .local_addr()
        .map_err(io("finding a free loopback port"))?
        .port();
    Ok(port)
}

/// `program`, run as `run_as` when set.
fn command(run_as: Option<SystemUser>, program: &Path) -> Command {
    match run_as {
        None => Command::new(program),
        Some(user) => {
            let mut cmd = Command::new("setpriv");
            cmd.arg(format!("--reuid={}", user.uid))
                .arg(format!("--regid={}", user.gid))
                .args(["--clear-groups", "--"])
                .arg(program);
            cmd
        }
    }
}

/// Runs `cmd` within [`LIMIT`]; its stdout, or an error naming it with its
/// stderr.
fn succeed(cmd: &mut Command) -> Result<Vec<u8>, Error> {
    let out = cmd.output_within(LIMIT)?;
    if !out.status.success() {
        return Err(Error::Failed {
            command: assay_deadline::describe(cmd),
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(out.stdout)
}

/// The `postgres` system user's ids (`id`, so any user database counts).
fn postgres_user() -> Result<SystemUser, Error> {
    let id = |flag: &str| -> Result<u32, Error> {
        let out = succeed(Command::new("id").args([flag, "postgres"]))?;
        let text = String::from_utf8_lossy(&out);
        text.trim().parse().map_err(|_| Error::Failed {
            command: format!("id {flag} postgres"),
            status: ExitStatus::default(),
            stderr: format!("not a number: {text:?}"),
        })
    };
    Ok(SystemUser {
        uid: id("-u")?,
        gid: id("-g")?,
    })
}

/// The folder holding `initdb`, `postgres`, `pg_ctl`, `pg_isready` and
/// `psql`. An `initdb` on `PATH` may be a link to the real one (the others
/// not linked beside it): its folder is the one it links to.
fn binaries() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("initdb"))
            .find(|initdb| initdb.is_file())
            .and_then(|initdb| std::fs::canonicalize(initdb).ok())
            .and_then(|initdb| initdb.parent().map(Path::to_owned))
    });
    on_path.or_else(|| {
        let versions = std::fs::read_dir("/usr/lib/postgresql").ok()?;
        versions
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let version: u32 = entry.file_name().to_str()?.parse().ok()?;
                let bin = entry.path().join("bin");
                bin.join("initdb").is_file().then_some((version, bin))
            })
            .max_by_key(|(version, _)| *version)
            .map(|(_, bin)| bin)
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_cluster_starts_takes_connections_and_is_gone_when_dropped() {
        let cluster = Cluster::start().unwrap();
        assert!(cluster.url().starts_with("postgres://assay@127.0.0.1:"));
        assert_eq!(cluster.psql("SELECT 40 + 2").unwrap(), "42");
        cluster.psql("CREATE TABLE t (v TEXT)").unwrap();
        cluster.psql("INSERT INTO t VALUES ('kept')").unwrap();
        assert_eq!(cluster.psql("SELECT v FROM t").unwrap(), "kept");
        // Another at the same time is a cluster of its own.
        let other = Cluster::start().unwrap();
        assert_ne!(other.port(), cluster.port());
        let err = other.psql("SELECT v FROM t").unwrap_err().to_string();
        assert!(err.contains("psql") && err.contains("\"t\""), "{err}");

        let (dir, port) = (cluster.dir().to_owned(), cluster.port());
        drop(cluster);
        assert!(!dir.exists(), "{}", dir.display());
        assert!(!accepts(&binaries().unwrap(), port));
        assert_eq!(other.psql("SELECT 1").unwrap(), "1");
    }
}
