//! Which library the window opens, and remembering the one the user picked.
//! `ASSAY_LIBRARY` wins, then the library opened last, then the default
//! folder when it holds a library. A library that went missing (a moved
//! folder, an unplugged disk) is reported to the window, which offers to
//! find or create one: it is never re-created behind the user's back.

use std::path::{Path, PathBuf};

use assay_core::Library;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the window starts with.
pub struct Startup {
    pub library: Option<Library>,
    /// Why no library is open, when one was expected.
    pub problem: Option<AppError>,
    /// Where the picker proposes to open or create a library.
    pub suggested: PathBuf,
}

/// Picks the library from the environment's choice, the remembered one and
/// the default folder, in that order.
pub fn choose(chosen: Option<PathBuf>, remembered: Option<PathBuf>, default: PathBuf) -> Startup {
    let Some(root) = chosen.or(remembered) else {
        // First run: nothing was picked yet; the default folder is the proposal.
        return match Library::open_existing(&default) {
            Ok(library) => opened(library),
            Err(_) => Startup {
                library: None,
                problem: None,
                suggested: default,
            },
        };
    };
    match Library::open_existing(&root) {
        Ok(library) => opened(library),
        Err(e) => Startup {
            library: None,
            problem: Some(e.into()),
            suggested: root,
        },
    }
}

fn opened(library: Library) -> Startup {
    let suggested = library.root().to_owned();
    Startup {
        library: Some(library),
        problem: None,
        suggested,
    }
}

/// The app's own settings folder: `ASSAY_CONFIG_DIR`, else the platform's
/// (e.g. `~/.config/assay`).
pub fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("ASSAY_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("org", "Assay", "assay").map(|d| d.config_dir().to_owned())
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Remembered {
    library: Option<PathBuf>,
}

const FILE: &str = "window.json";

/// The library opened last; an unreadable file counts as none.
pub fn remembered(config: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config.join(FILE)).ok()?;
    serde_json::from_str::<Remembered>(&text).ok()?.library
}

/// Remembers `library` for the next start (written whole, then renamed).
pub fn remember(config: &Path, library: &Path) -> Result<(), AppError> {
    let io = |e: std::io::Error| AppError::new("io", format!("{}: {e}", config.display()));
    std::fs::create_dir_all(config).map_err(io)?;
    let text = serde_json::to_string_pretty(&Remembered {
        library: Some(library.to_owned()),
    })
    .map_err(|e| AppError::new("io", e.to_string()))?;
    let partial = config.join(format!("{FILE}.partial"));
    std::fs::write(&partial, text).map_err(io)?;
    std::fs::rename(&partial, config.join(FILE)).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_reported_and_never_created() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("unplugged/library");
        let start = choose(Some(gone.clone()), None, dir.path().join("default"));
        assert!(start.library.is_none());
        assert_eq!(
            start.problem.map(|p| p.code),
            Some("library_missing".into())
        );
        assert_eq!(start.suggested, gone);
        assert!(!gone.exists());
    }

    #[test]
    fn first_run_proposes_the_default_folder_and_later_runs_open_it() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("default");
        let first = choose(None, None, default.clone());
        assert!(first.library.is_none() && first.problem.is_none());
        assert_eq!(first.suggested, default);
        assert!(!default.exists());

        Library::open(&default).unwrap();
        let later = choose(None, None, default.clone());
        assert!(later.library.is_some());
    }

    #[test]
    fn the_remembered_library_comes_back_and_the_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        assert_eq!(remembered(&config), None);
        let picked = dir.path().join("picked");
        let env = dir.path().join("env");
        Library::open(&picked).unwrap();
        Library::open(&env).unwrap();
        remember(&config, &picked).unwrap();
        assert_eq!(remembered(&config), Some(picked.clone()));

        let default = dir.path().join("default");
        let start = choose(None, remembered(&config), default.clone());
        let root = start.library.map(|l| l.root().to_owned());
        assert_eq!(root, Some(std::fs::canonicalize(&picked).unwrap()));
        let start = choose(Some(env.clone()), remembered(&config), default);
        let root = start.library.map(|l| l.root().to_owned());
        assert_eq!(root, Some(std::fs::canonicalize(&env).unwrap()));

        std::fs::write(config.join(FILE), "{oops").unwrap();
        assert_eq!(remembered(&config), None);
    }
}
