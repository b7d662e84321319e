//! Watched folders: the `notify` crate with debouncing. New and changed
//! files are imported; a file moved within the watched folders keeps its
//! asset (found again by checksum); a deleted file only marks its location
//! missing, never deletes the asset.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use notify_debouncer_full::{new_debouncer, notify::RecursiveMode, DebounceEventResult};
use rusqlite::params;

use crate::catalog::assets::{self, path_bytes, path_from_bytes};
use crate::catalog::library::Library;
use crate::catalog::record::LocationStatus;
use crate::error::{Error, Result};
use crate::identity::users::Actor;
use crate::ingest::import::{FileReport, FileStatus, ImportEvent, ImportOptions};

#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// How long a burst of file-system events settles before it is handled.
    pub debounce: Duration,
    /// Set from another thread to stop watching.
    pub cancel: Arc<AtomicBool>,
    /// Who imports what appears; required once the library has users.
    pub actor: Option<Arc<Actor>>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            debounce: Duration::from_millis(500),
            cancel: Arc::default(),
            actor: None,
        }
    }
}

/// What the watcher did, for a live view of the library.
#[derive(Debug)]
pub enum WatchEvent<'a> {
    /// The initial catch-up is done and the folders are being watched.
    Ready {
        folders: &'a [PathBuf],
    },
    Imported(&'a FileReport),
    /// The file at `from` now lives at `to`; same asset.
    Moved {
        from: &'a Path,
        to: &'a Path,
        asset_id: &'a str,
    },
    /// The file at `path` is gone; its asset stays, its location is marked missing.
    Missing {
        path: &'a Path,
    },
}

impl Library {
    /// Adds `dir` to the library's watched folders (a setting the app reads).
    pub fn add_watched_folder(&self, dir: &Path) -> Result<PathBuf> {
        let dir = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
        self.connect()?.execute(
            "INSERT OR IGNORE INTO watched_folders (path, path_text, added_at) VALUES (?1, ?2, ?3)",
            params![path_bytes(&dir), dir.to_string_lossy(), assets::now()],
        )?;
        Ok(dir)
    }

    pub fn remove_watched_folder(&self, dir: &Path) -> Result<bool> {
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_owned());
        let n = self.connect()?.execute(
            "DELETE FROM watched_folders WHERE path = ?1",
            [path_bytes(&dir)],
        )?;
        Ok(n > 0)
    }

    pub fn watched_folders(&self) -> Result<Vec<PathBuf>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare("SELECT path FROM watched_folders ORDER BY path")?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
        Ok(rows
            .map(|r| r.map(|b| path_from_bytes(&b)))
            .collect::<rusqlite::Result<_>>()?)
    }

    /// Catches up with `folders` (imports what changed, marks what vanished),
    /// then watches them until `options.cancel` is set.
    pub fn watch(
        &self,
        folders: &[PathBuf],
        options: &WatchOptions,
        on_event: &mut dyn FnMut(WatchEvent),
    ) -> Result<()> {
        // Refused now, not at the first file that appears.
        if options.actor.is_none() && Library::has_users(&self.connect()?)? {
            return Err(Error::refused(
                "acting-user",
                "this library has users; watch as one of them (--as NAME)",
            ));
        }
        let folders: Vec<PathBuf> = folders
            .iter()
            .map(|f| std::fs::canonicalize(f).map_err(|e| Error::io(f, e)))
            .collect::<Result<_>>()?;
        let (tx, rx) = mpsc::channel::<DebounceEventResult>();
        let mut debouncer =
            new_debouncer(options.debounce, None, tx).map_err(|e| Error::Watch {
                path: folders.first().cloned().unwrap_or_default(),
                message: e.to_string(),
            })?;
        for folder in &folders {
            debouncer
                .watch(folder, RecursiveMode::Recursive)
                .map_err(|e| Error::Watch {
                    path: folder.clone(),
                    message: e.to_string(),
                })?;
        }

        // Catch up with what happened while nobody watched.
        let mut gone = BTreeSet::new();
        let conn = self.connect()?;
        for folder in &folders {
            for (path, status) in assets::locations_under(&conn, folder)? {
                if status != LocationStatus::Missing && !path.exists() {
                    gone.insert(path);
                }
            }
        }
        let mut recent = Recent::default();
        self.settle(&folders, gone, &mut recent, options, on_event)?;
        on_event(WatchEvent::Ready { folders: &folders });

        while !options.cancel.load(Ordering::Relaxed) {
            let events = match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Ok(events)) => events,
                Ok(Err(errors)) => {
                    let message = errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ");
                    return Err(Error::Watch {
                        path: folders.first().cloned().unwrap_or_default(),
                        message,
                    });
                }
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let (mut present, mut gone) = (BTreeSet::new(), BTreeSet::new());
            for path in events.into_iter().flat_map(|e| e.event.paths) {
                if path.exists() {
                    gone.remove(&path);
                    present.insert(path);
                } else {
                    present.remove(&path);
                    gone.insert(path);
                }
            }
            let present: Vec<PathBuf> = present.into_iter().collect();
            recent.forget_older_than(options.debounce * 4 + Duration::from_secs(2));
            self.settle(&present, gone, &mut recent, options, on_event)?;
        }
        Ok(())
    }

    /// Imports `present`, then resolves each vanished path. The two halves
    /// of a rename can arrive in one batch or in two, in either order; a
    /// vanished location and an arrival of the same asset close together
    /// are a move (the old location row goes), anything else vanished is
    /// marked missing. A vanished folder covers every location under it.
    fn settle(
        &self,
        present: &[PathBuf],
        gone: BTreeSet<PathBuf>,
        recent: &mut Recent,
        options: &WatchOptions,
        on_event: &mut dyn FnMut(WatchEvent),
    ) -> Result<()> {
        let import = ImportOptions {
            actor: options.actor.clone(),
            ..ImportOptions::default()
        };
        let mut arrivals: Vec<(PathBuf, String)> = Vec::new();
        if !present.is_empty() {
            self.import(present, &import, &mut |event| {
                if let ImportEvent::File(report) = event {
                    if report.status != FileStatus::Unchanged {
                        if let Some(id) = &report.asset_id {
                            arrivals.push((PathBuf::from(&report.path), id.clone()));
                        }
                        on_event(WatchEvent::Imported(report));
                    }
                }
            })?;
        }
        let conn = self.connect()?;
        for (to, asset_id) in arrivals {
            // The file system may coalesce a create and a rename into one
            // event and never name the old path: a location of the same
            // asset that is no longer on disk is where the file came from.
            let vanished = match recent.take(&asset_id, Half::Vanished, &to) {
                Some(from) => Some(from),
                None => assets::locations_of(&conn, &asset_id)?
                    .into_iter()
                    .find(|(p, status)| {
                        *p != to && *status == LocationStatus::Present && !p.exists()
                    })
                    .map(|(p, _)| p),
            };
            match vanished {
                Some(from) => {
                    assets::remove_location(&conn, &from)?;
                    on_event(WatchEvent::Moved {
                        from: &from,
                        to: &to,
                        asset_id: &asset_id,
                    });
                }
                None => recent.push(to, asset_id, Half::Arrived),
            }
        }
        for path in gone {
            let mut locations = vec![path.clone()];
            locations.extend(
                assets::locations_under(&conn, &path)?
                    .into_iter()
                    .map(|(p, _)| p),
            );
            for from in locations {
                let Some(asset_id) = assets::asset_id_at(&conn, &from)? else {
                    continue;
                };
                if let Some(to) = recent.take(&asset_id, Half::Arrived, &from) {
                    assets::remove_location(&conn, &from)?;
                    on_event(WatchEvent::Moved {
                        from: &from,
                        to: &to,
                        asset_id: &asset_id,
                    });
                } else if assets::set_location_status(&conn, &from, LocationStatus::Missing)? {
                    on_event(WatchEvent::Missing { path: &from });
                    recent.push(from, asset_id, Half::Vanished);
                }
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Arrived,
    Vanished,
}

/// Arrivals and disappearances not yet paired into moves.
#[derive(Default)]
struct Recent(Vec<(Instant, PathBuf, String, Half)>);

impl Recent {
    fn push(&mut self, path: PathBuf, asset_id: String, half: Half) {
        self.0.push((Instant::now(), path, asset_id, half));
    }

    /// Removes and returns the path of the latest `half` entry for
    /// `asset_id`, other than `other_end` itself. An arrival counts only
    /// while its file is still there.
    fn take(&mut self, asset_id: &str, half: Half, other_end: &Path) -> Option<PathBuf> {
        let at = self.0.iter().rposition(|(_, path, id, h)| {
            id == asset_id
                && *h == half
                && path != other_end
                && (half == Half::Vanished || path.exists())
        })?;
        Some(self.0.remove(at).1)
    }

    fn forget_older_than(&mut self, age: Duration) {
        self.0.retain(|(t, ..)| t.elapsed() < age);
    }
}
