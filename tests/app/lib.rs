//! The harness for the desktop app's end-to-end tests: a private X display,
//! `tauri-driver` in front of WebKitWebDriver, and a WebDriver session on
//! the real app binary with a library of the test's own.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn corpus_file(name: &str) -> PathBuf {
    repo().join("tests/corpus/files").join(name)
}

/// The app binary `cargo build -p assay-app` put beside this test's folder.
fn app_binary() -> Result<PathBuf> {
    let exe = std::env::current_exe()?;
    // target/debug/deps/app-HASH → target/debug/assay-app
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .context("test binary has no target folder")?
        .join("assay-app");
    if !bin.is_file() {
        bail!(
            "{} is missing: build the app first (`make test` does: npm run build in ui/, then cargo build -p assay-app)",
            bin.display()
        );
    }
    Ok(bin)
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Waits for something to listen on `port`; `who` names it in the error.
fn wait_for_port(port: u16, who: &str, within: Duration) -> Result<()> {
    assay_deadline::until(&format!("{who} to listen on port {port}"), within, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).ok()
    })?;
    Ok(())
}

/// A child process in a process group of its own, stopped with every
/// process it started when dropped: SIGTERM first (tauri-driver then stops
/// WebKitWebDriver and the app cleanly), SIGKILL after five seconds.
struct Process(Child);

impl Process {
    fn spawn(cmd: &mut Command, what: &str) -> Result<Process> {
        Ok(Process(assay_deadline::spawn(cmd, what)?))
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        signal_group("TERM", self.0.id());
        let exited = assay_deadline::until("the process to exit", Duration::from_secs(5), || {
            self.0.try_wait().ok().flatten()
        });
        if exited.is_err() {
            assay_deadline::stop(&mut self.0);
        }
    }
}

fn signal_group(signal: &str, group: u32) {
    let _ = Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{group}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Stops a session that hangs: past its deadline it kills the process
/// groups of tauri-driver (with WebKitWebDriver and the app) and Xvfb, so
/// whatever WebDriver call the test waits on fails instead of waiting
/// forever, and says why on stderr. Dropped (the test ended), it is disarmed.
struct Watchdog {
    _disarm: mpsc::Sender<()>,
}

impl Watchdog {
    fn arm(groups: Vec<u32>, limit: Duration) -> Watchdog {
        let (disarm, disarmed) = mpsc::channel::<()>();
        std::thread::spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = disarmed.recv_timeout(limit) {
                eprintln!(
                    "app harness: the WebDriver session passed its {limit:?} deadline; \
                     stopping tauri-driver, WebKitWebDriver, the app and Xvfb"
                );
                for group in groups {
                    signal_group("KILL", group);
                }
            }
        });
        Watchdog { _disarm: disarm }
    }
}

/// The longest one test's window may stay open: below the per-test deadline
/// of `.config/nextest.toml`, so the watchdog names the stuck session first.
pub const SESSION_LIMIT: Duration = Duration::from_secs(150);

/// One window at a time: two WebKit processes on a 2-core CI machine make
/// every wait in the tests a race.
static ONE_AT_A_TIME: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// One app window on a library of the test's own.
pub struct App {
    pub client: Client,
    pub library: PathBuf,
    /// When the session that opened was asked for, which is when
    /// tauri-driver starts the app.
    pub launched: Instant,
    // Dropped in this order: the watchdog, the session's window, its driver, then X.
    _watchdog: Watchdog,
    _driver: Process,
    _display: Process,
    dir: tempfile::TempDir,
    _turn: tokio::sync::SemaphorePermit<'static>,
}

impl App {
    /// Starts the app on the library `prepare` makes in a fresh folder.
    pub async fn start(prepare: impl FnOnce(&Path) -> Result<()>) -> Result<App> {
        App::start_binary(app_binary()?, SESSION_LIMIT, prepare).await
    }

    /// Starts `binary` (a release build, for the benchmark) on the library
    /// `prepare` makes in a fresh folder; the watchdog stops the session
    /// after `session_limit`.
    pub async fn start_binary(
        binary: PathBuf,
        session_limit: Duration,
        prepare: impl FnOnce(&Path) -> Result<()>,
    ) -> Result<App> {
        let turn = ONE_AT_A_TIME.acquire().await?;
        // Keys made for tests use cheap Argon2 parameters (stored with each
        // key, so the app unlocks them as cheaply). Only debug builds honour
        // it: the benchmark's release build makes keys at full strength.
        std::env::set_var("ASSAY_KDF_FAST", "1");
        let dir = tempfile::tempdir()?;
        let library = dir.path().join("library");
        prepare(&library)?;

        let display_number = 100 + free_port()? % 800;
        let display = Process::spawn(
            Command::new("Xvfb")
                .arg(format!(":{display_number}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "Xvfb (scripts/setup.sh installs it)",
        )?;
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{display_number}"));
        assay_deadline::until(
            &format!("Xvfb to open display :{display_number}"),
            Duration::from_secs(10),
            || socket.exists().then_some(()),
        )?;

        // "Show in folder" runs this instead of the desktop's file manager:
        // it records the folder it was given.
        let opener = dir.path().join("opener.sh");
        std::fs::write(
            &opener,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                dir.path().join("opened").display()
            ),
        )?;
        std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755))?;

        let port = free_port()?;
        let native_port = free_port()?;
        let driver = Process::spawn(
            Command::new(tauri_driver())
                .args(["--port", &port.to_string()])
                .args(["--native-port", &native_port.to_string()])
                .env("DISPLAY", format!(":{display_number}"))
                .env("ASSAY_LIBRARY", &library)
                // What the app remembers (the library opened last) stays in the test's folder.
                .env("ASSAY_CONFIG_DIR", dir.path().join("config"))
                .env("ASSAY_OPENER", &opener)
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
            "tauri-driver (scripts/setup.sh installs it)",
        )?;
        let watchdog = Watchdog::arm(vec![driver.0.id(), display.0.id()], session_limit);
        wait_for_port(port, "tauri-driver", Duration::from_secs(20))?;

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": binary }),
        );
        // tauri-driver listens before WebKitWebDriver behind it does: on a
        // busy machine the first session request can find nobody there.
        let mut attempt = 0;
        let mut launched;
        let client = loop {
            attempt += 1;
            launched = Instant::now();
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(
                    NewSessionError::Failed(_)
                    | NewSessionError::FailedC(_)
                    | NewSessionError::Lost(_),
                ) if attempt < 3 => tokio::time::sleep(Duration::from_secs(1)).await,
                Err(e) => return Err(e).context("opening a WebDriver session on the app"),
            }
        };
        Ok(App {
            client,
            library,
            launched,
            _watchdog: watchdog,
            _driver: driver,
            _display: display,
            dir,
            _turn: turn,
        })
    }

    /// Replaces the text of the field `css` finds with `text`.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<()> {
        let input = self.find(css).await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    /// The serious and critical accessibility violations axe-core (Deque's
    /// checker, from ui/node_modules) finds in the window as it is now, one
    /// line each: the rule, its impact, and the elements it names.
    pub async fn accessibility_violations(&self) -> Result<Vec<String>> {
        let axe_js = repo().join("ui/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe_js).with_context(|| {
            format!("reading {} (`npm ci` in ui/ installs it)", axe_js.display())
        })?;
        let script = format!(
            "{source}
            ;const done = arguments[arguments.length - 1];
            window.axe.run(document, {{ resultTypes: ['violations'] }})
              .then((r) => done(r.violations
                .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                .map((v) => `${{v.id}} (${{v.impact}}): ${{v.help}}: ` +
                  v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join(', '))))
              .catch((e) => done(['axe failed: ' + e]));"
        );
        let found = self.client.execute_async(&script, vec![]).await?;
        serde_json::from_value(found).context("axe-core's answer")
    }

    /// Types `keys` into whatever has the focus, as a user at the keyboard would.
    pub async fn press(&self, keys: &str) -> Result<()> {
        self.client.active_element().await?.send_keys(keys).await?;
        Ok(())
    }

    /// Clicks what `css` finds once it is enabled, as a user waits for a
    /// button to light up (the window enables actions from the core's
    /// answer for the selection, which arrives a moment after it changes).
    pub async fn click(&self, css: &str) -> Result<()> {
        let element = self.find(css).await?;
        let start = Instant::now();
        while !element.is_enabled().await? {
            if start.elapsed() > Duration::from_secs(10) {
                bail!("{css} stayed disabled for 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        element.click().await?;
        Ok(())
    }

    /// The window's processes (the app's own and WebKit's, which inherit
    /// its environment, so found by this window's library there), by
    /// process name, with their memory maps.
    pub fn processes(&self) -> Vec<(String, String)> {
        let mark = format!("ASSAY_LIBRARY={}", self.library.display());
        let Ok(all) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        all.flatten()
            .map(|entry| entry.path())
            .filter(|dir| {
                std::fs::read(dir.join("environ")).is_ok_and(|environ| {
                    environ.split(|&b| b == 0).any(|var| var == mark.as_bytes())
                })
            })
            .filter_map(|dir| {
                let name = std::fs::read_to_string(dir.join("comm")).ok()?;
                let maps = std::fs::read_to_string(dir.join("maps")).ok()?;
                Some((name.trim().to_owned(), maps))
            })
            .collect()
    }

    /// The folders "Show in folder" opened, oldest first.
    pub fn opened(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.path().join("opened"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The element `css` finds, waiting up to ten seconds for it.
    pub async fn find(&self, css: &str) -> Result<fantoccini::elements::Element> {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .with_context(|| format!("waiting for {css}"))
    }

    /// Waits until `css`'s text satisfies `ok`, and returns that text.
    pub async fn text_until(&self, css: &str, ok: impl Fn(&str) -> bool) -> Result<String> {
        let start = Instant::now();
        let mut last = None;
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                let text = element.text().await.unwrap_or_default();
                if ok(&text) {
                    return Ok(text);
                }
                last = Some(text);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match last {
            Some(text) => bail!("{css} never showed what was expected; last text: {text:?}"),
            None => bail!("{css} never appeared"),
        }
    }

    /// Saves a PNG of the window as NAME.png, after two animation frames so
    /// it shows the state just asserted: into docs/screenshots/ (what the
    /// README shows) with `ASSAY_UPDATE_SCREENSHOTS=1`, else beside the test
    /// binary, so a test run leaves the working tree as it was.
    ///
    /// WebKitWebDriver answers a screenshot after the page's next rendering
    /// update, and a still page painted without compositing (the app turns
    /// compositing off, `webview_memory::before_webkit_starts`) makes none: the
    /// screenshot, and every command after it, would wait forever. So the
    /// page keeps rendering while it is taken: a pixel in a corner whose
    /// (invisible) colour animates, removed again after.
    pub async fn screenshot(&self, name: &str) -> Result<()> {
        self.client
            .execute_async(
                "const done = arguments[0];
                 const tick = document.createElement('div');
                 tick.id = 'assay-screenshot-tick';
                 tick.setAttribute('aria-hidden', 'true');
                 tick.style.cssText = 'position: fixed; left: 0; top: 0; width: 1px; height: 1px; pointer-events: none';
                 document.body.append(tick);
                 tick.animate([{ background: 'rgba(0, 0, 0, 0)' }, { background: 'rgba(0, 0, 0, 0.004)' }],
                              { duration: 100, iterations: Infinity, direction: 'alternate' });
                 requestAnimationFrame(() => requestAnimationFrame(() => done()));",
                vec![],
            )
            .await?;
        let png = self.client.screenshot().await;
        self.client
            .execute(
                "document.getElementById('assay-screenshot-tick')?.remove();",
                vec![],
            )
            .await?;
        let png = png?;
        let dir = if std::env::var_os("ASSAY_UPDATE_SCREENSHOTS").is_some_and(|v| v == "1") {
            repo().join("docs/screenshots")
        } else {
            let exe = std::env::current_exe()?;
            let dir = exe
                .parent()
                .context("test binary has no folder")?
                .join("screenshots");
            std::fs::create_dir_all(&dir)?;
            dir
        };
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(())
    }

    pub async fn close(self) -> Result<()> {
        self.client.clone().close().await?;
        Ok(())
    }
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let installed = home.join(".cargo/bin/tauri-driver");
    if installed.is_file() {
        installed
    } else {
        PathBuf::from("tauri-driver")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_watchdog_stops_a_session_that_passes_its_deadline_and_spares_one_that_ends() {
        // A stand-in for tauri-driver: a process that starts a child of its own.
        let mut stuck =
            Process::spawn(Command::new("sh").args(["-c", "sleep 60 & sleep 60"]), "sh").unwrap();
        let start = Instant::now();
        let _watchdog = Watchdog::arm(vec![stuck.0.id()], Duration::from_millis(300));
        let status = assay_deadline::wait(&mut stuck.0, Duration::from_secs(20), "sh").unwrap();
        assert!(!status.success(), "killed, not exited: {status:?}");
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{:?}",
            start.elapsed()
        );

        let mut quick = Process::spawn(Command::new("sleep").arg("1"), "sleep").unwrap();
        let watchdog = Watchdog::arm(vec![quick.0.id()], Duration::from_millis(500));
        drop(watchdog);
        let status = assay_deadline::wait(&mut quick.0, Duration::from_secs(20), "sleep").unwrap();
        assert!(
            status.success(),
            "a disarmed watchdog kills nothing: {status:?}"
        );
    }
}
