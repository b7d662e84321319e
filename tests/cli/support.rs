use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assay_deadline::OutputWithin;
use serde_json::Value;

/// The longest any child process of a test may run: past it the child is
/// stopped and the test fails naming the command.
pub const CHILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

pub fn corpus_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/corpus/files")
        .join(name)
}

/// A temporary library and a folder of files to import.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("photos")).unwrap();
        Sandbox { dir }
    }

    pub fn library(&self) -> PathBuf {
        self.dir.path().join("library")
    }

    pub fn photos(&self) -> PathBuf {
        self.dir.path().join("photos")
    }

    /// Copies a corpus file into the photos folder as `name`.
    pub fn add(&self, corpus_name: &str, name: &str) -> PathBuf {
        let to = self.photos().join(name);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(corpus_file(corpus_name), &to).unwrap();
        to
    }

    pub fn assay(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_assay"));
        cmd.arg("--library").arg(self.library());
        for var in [
            "ASSAY_LIBRARY",
            "ASSAY_USER",
            "ASSAY_PASSPHRASE",
            "ASSAY_NEW_PASSPHRASE",
        ] {
            cmd.env_remove(var);
        }
        // Full-strength argon2id costs about a second per key.
        cmd.env("ASSAY_KDF_FAST", "1");
        cmd
    }

    /// Runs `assay --as NAME ARGS` with `NAME pass` as the passphrase (and
    /// `rosa pass` for a new user, the rights manager tests add).
    pub fn as_user(&self, name: &str, args: &[&str]) -> Output {
        self.assay()
            .args(["--as", name])
            .args(args)
            .env("ASSAY_PASSPHRASE", format!("{name} pass"))
            .env("ASSAY_NEW_PASSPHRASE", "rosa pass")
            .output_within(CHILD_LIMIT)
            .unwrap()
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.assay().args(args).output_within(CHILD_LIMIT).unwrap()
    }

    /// Runs `assay ARGS --json` and parses each stdout line.
    pub fn json_lines(&self, args: &[&str]) -> (Vec<Value>, Output) {
        let out = self
            .assay()
            .args(args)
            .arg("--json")
            .output_within(CHILD_LIMIT)
            .unwrap();
        (parse_lines(&out), out)
    }

    pub fn import(&self, paths: &[&Path]) -> (Vec<Value>, Output) {
        let out = self
            .assay()
            .arg("import")
            .arg("--json")
            .args(paths)
            .output_within(CHILD_LIMIT)
            .unwrap();
        (parse_lines(&out), out)
    }
}

fn parse_lines(out: &Output) -> Vec<Value> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The id of the asset among `assets` (lines of `ls --json`) whose first
/// location ends with `name`.
pub fn asset_id_of(assets: &[Value], name: &str) -> String {
    assets
        .iter()
        .find(|a| a["locations"][0]["path"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("{name} in {assets:?}"))["asset_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The import line for the file whose path ends with `suffix`.
pub fn line_for<'a>(lines: &'a [Value], suffix: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["path"].as_str().unwrap().ends_with(suffix))
        .unwrap_or_else(|| panic!("no line for {suffix} in {lines:#?}"))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Starts `cmd` with its stdout piped and read line by line on a thread of
/// its own, so a stalled child fails a test with a reason (a
/// `recv_timeout`) instead of blocking the read.
pub fn spawn_lines(cmd: &mut Command) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, lines)
}

/// The preview JPEG a raw file embeds, as exiftool takes it out
/// (`-b -PreviewImage`), written to `to`.
pub fn raw_preview(raw: &Path, to: &Path) {
    let preview = Command::new("exiftool")
        .args(["-b", "-PreviewImage"])
        .arg(raw)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        preview.status.success() && !preview.stdout.is_empty(),
        "exiftool took no preview out of {}",
        raw.display()
    );
    std::fs::write(to, &preview.stdout).unwrap();
}
