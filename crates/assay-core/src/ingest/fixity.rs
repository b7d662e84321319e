//! Fixity: re-hash every location and compare with the catalog's checksum.
//! Results are written back to each location's status, so the grid can show
//! missing and modified files without re-reading them.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use assay_fsio::describe_io;
use crossbeam_channel::bounded;
use serde::Serialize;

use crate::catalog::assets::{self, path_from_bytes};
use crate::catalog::library::Library;
use crate::catalog::record::LocationStatus;
use crate::error::Result;
use crate::formats::one_pass;
use crate::ingest::import::worker_count;
use crate::job::{Job, Unit};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum FixityStatus {
    Ok,
    /// The bytes differ from the checksum: bit rot, or an edit.
    Modified,
    /// The file is gone or cannot be read.
    Missing,
}

/// One location's result, as printed by `assay verify --json`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FixityReport {
    pub path: String,
    pub asset_id: String,
    pub status: FixityStatus,
    pub expected: String,
    pub actual: Option<String>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FixitySummary {
    pub ok: u64,
    pub modified: u64,
    pub missing: u64,
    pub bytes_read: u64,
    pub cancelled: bool,
}

impl FixitySummary {
    /// Counts one location checked, as a running tally of
    /// [`FixityEvent::Checked`] events does.
    pub fn count(&mut self, status: FixityStatus, bytes: u64) {
        match status {
            FixityStatus::Ok => self.ok += 1,
            FixityStatus::Modified => self.modified += 1,
            FixityStatus::Missing => self.missing += 1,
        }
        self.bytes_read += bytes;
    }
}

pub enum FixityEvent<'a> {
    /// How many locations and bytes the run will check.
    Planned { locations: u64, bytes: u64 },
    Checked {
        report: &'a FixityReport,
        bytes: u64,
    },
}

#[derive(Debug, Clone, Default)]
pub struct FixityOptions {
    /// Worker threads; 0 means one per core.
    pub jobs: usize,
}

struct Target {
    path: PathBuf,
    asset_id: String,
    expected: String,
    size: u64,
}

impl Library {
    /// Re-hashes every location of every asset.
    pub fn check_fixity(
        &self,
        options: &FixityOptions,
        on_event: &mut dyn FnMut(FixityEvent),
    ) -> Result<FixitySummary> {
        self.check_fixity_with(options, &mut Job::quiet(), on_event)
    }

    /// [`Library::check_fixity`] as a job: progress in bytes (of the sizes the
    /// catalog holds, so a missing file counts as checked) and, when
    /// cancelled, a stop after the files in flight, every status found kept
    /// and the summary saying `cancelled`.
    pub fn check_fixity_with(
        &self,
        options: &FixityOptions,
        job: &mut Job,
        on_event: &mut dyn FnMut(FixityEvent),
    ) -> Result<FixitySummary> {
        let conn = self.connect()?;
        let targets: Vec<Target> = {
            let mut stmt = conn.prepare(
                "SELECT l.path, a.asset_id, a.checksum, l.size_bytes FROM locations l
                 JOIN assets a ON a.id = l.asset ORDER BY l.path",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Target {
                    path: path_from_bytes(&r.get::<_, Vec<u8>>(0)?),
                    asset_id: r.get(1)?,
                    expected: r.get(2)?,
                    size: r.get::<_, i64>(3)? as u64,
                })
            })?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let planned: u64 = targets.iter().map(|t| t.size).sum();
        on_event(FixityEvent::Planned {
            locations: targets.len() as u64,
            bytes: planned,
        });
        job.report(0, planned, Unit::Bytes);

        let jobs = worker_count(options.jobs);
        let cancel = job.cancel_flag();
        let (job_tx, job_rx) = bounded::<Target>(jobs * 2);
        let (out_tx, out_rx) = bounded::<Checked>(64);
        let mut done = 0u64;
        let mut summary = FixitySummary::default();
        std::thread::scope(|scope| -> Result<()> {
            scope.spawn(move || {
                for t in targets {
                    if cancel.load(Ordering::Relaxed) || job_tx.send(t).is_err() {
                        break;
                    }
                }
            });
            for _ in 0..jobs {
                let (rx, tx) = (job_rx.clone(), out_tx.clone());
                scope.spawn(move || {
                    for t in rx {
                        if tx.send(check(t)).is_err() {
                            break;
                        }
                    }
                });
            }
            drop((job_rx, out_tx));
            for Checked {
                path,
                report,
                bytes,
                planned: size,
            } in out_rx
            {
                summary.count(report.status, bytes);
                done += size;
                job.report(done, planned, Unit::Bytes);
                let status = match report.status {
                    FixityStatus::Ok => LocationStatus::Present,
                    FixityStatus::Modified => LocationStatus::Modified,
                    FixityStatus::Missing => LocationStatus::Missing,
                };
                assets::set_location_status(&conn, &path, status)?;
                on_event(FixityEvent::Checked {
                    report: &report,
                    bytes,
                });
            }
            Ok(())
        })?;
        summary.cancelled = cancel.load(Ordering::Relaxed);
        Ok(summary)
    }
}

/// One location checked: its report, the bytes read, and the size the
/// catalog holds for it (what progress counts).
struct Checked {
    path: PathBuf,
    report: FixityReport,
    bytes: u64,
    planned: u64,
}

fn check(t: Target) -> Checked {
    let mut report = FixityReport {
        path: t.path.to_string_lossy().into_owned(),
        asset_id: t.asset_id,
        status: FixityStatus::Ok,
        expected: t.expected,
        actual: None,
        error: None,
    };
    match one_pass::hash_file(&t.path) {
        Ok((actual, size)) => {
            if actual != report.expected {
                report.status = FixityStatus::Modified;
            }
            report.actual = Some(actual);
            Checked {
                path: t.path,
                report,
                bytes: size,
                planned: t.size,
            }
        }
        Err(e) => {
            report.status = FixityStatus::Missing;
            report.error = Some(describe_io(&e));
            Checked {
                path: t.path,
                report,
                bytes: 0,
                planned: t.size,
            }
        }
    }
}
