//! `report`: the library's readiness in the figures a DAM steward tracks:
//! how long approval takes (upload to approval, from the signed events),
//! how much of the library has complete metadata, counts per state and per
//! license tag, and what is eligible against what is held back, and why.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::catalog::library::Library;
use crate::error::Result;
use crate::rights::gates::{gate_fields, Gates};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Report {
    pub assets: u64,
    pub by_state: BTreeMap<String, u64>,
    /// Assets per license tag; `(none)` for those without one.
    pub by_license: BTreeMap<String, u64>,
    /// Assets that pass every gate marked `completeness` (in the shipped
    /// gates, required-fields: license, payout reference, signed contract
    /// and provenance all present).
    pub complete: u64,
    /// `complete` over `assets`, 0 to 1 (0 for an empty library).
    pub complete_share: f64,
    /// Assets that pass every gate now, whatever their state.
    pub eligible: u64,
    /// Assets that fail at least one gate, counted per gate they fail.
    pub ineligible_by_gate: BTreeMap<String, u64>,
    pub quarantined: u64,
    /// Why quarantined assets are held: each gate they fail, or, for an
    /// asset that passes every gate, the reason recorded when it was
    /// quarantined by hand.
    pub quarantined_by_reason: BTreeMap<String, u64>,
    /// From each approved asset's import to its first approval.
    pub time_to_approval: Option<Durations>,
    /// Every dataset, by name, with its newest version.
    pub datasets: Vec<DatasetSummary>,
}

/// A dataset in the report: how many versions, and the newest.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DatasetSummary {
    pub name: String,
    pub versions: u32,
    pub latest: Option<LatestVersion>,
}

/// The newest version of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LatestVersion {
    pub version: u32,
    /// `webdataset` or `parquet`.
    pub format: String,
    pub delta: bool,
    pub assets: u32,
    pub shards: u32,
    pub shard_bytes: u64,
    pub created_at: String,
}

/// A distribution of durations, in seconds, by nearest rank.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Durations {
    pub count: u64,
    pub median_seconds: i64,
    pub p90_seconds: i64,
    pub max_seconds: i64,
}

impl Durations {
    fn of(mut seconds: Vec<i64>) -> Option<Durations> {
        if seconds.is_empty() {
            return None;
        }
        seconds.sort_unstable();
        // Nearest rank: the smallest value with at least p% at or below it.
        let rank = |p: usize| seconds[(seconds.len() * p).div_ceil(100).max(1) - 1];
        Some(Durations {
            count: seconds.len() as u64,
            median_seconds: rank(50),
            p90_seconds: rank(90),
            max_seconds: rank(100),
        })
    }
}

impl Library {
    pub fn report(&self) -> Result<Report> {
        let gates = Gates::load(&self.root().join("gates.json"))?;
        let taxonomy = self.taxonomy()?;
        let today = OffsetDateTime::now_utc().date();
        let conn = self.connect()?;
        let mut report = Report {
            assets: 0,
            by_state: BTreeMap::new(),
            by_license: BTreeMap::new(),
            complete: 0,
            complete_share: 0.0,
            eligible: 0,
            ineligible_by_gate: BTreeMap::new(),
            quarantined: 0,
            quarantined_by_reason: BTreeMap::new(),
            time_to_approval: None,
            datasets: dataset_summaries(&conn)?,
        };
        let manual = quarantine_reasons(&conn)?;
        let mut stmt = conn.prepare(
            "SELECT id, asset_id, checksum, provenance_hash, rights, workflow_state,
                    content_credentials
             FROM assets",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let row: i64 = r.get(0)?;
            let asset_id: String = r.get(1)?;
            let state: String = r.get(5)?;
            let fields = gate_fields(
                &r.get::<_, String>(4)?,
                &asset_id,
                &r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?.as_deref(),
                r.get::<_, Option<String>>(6)?.as_deref(),
            );
            let failed = gates.check(&fields, &taxonomy, today);
            report.assets += 1;
            *report.by_state.entry(state.clone()).or_default() += 1;
            let tag = fields
                .get("license_tag")
                .and_then(|t| t.as_str())
                .unwrap_or("(none)");
            *report.by_license.entry(tag.to_owned()).or_default() += 1;
            if !failed.iter().any(|f| gates.is_completeness(&f.gate)) {
                report.complete += 1;
            }
            if failed.is_empty() {
                report.eligible += 1;
            }
            for f in &failed {
                *report.ineligible_by_gate.entry(f.gate.clone()).or_default() += 1;
            }
            if state == "quarantined" {
                report.quarantined += 1;
                let reasons: Vec<String> = if failed.is_empty() {
                    let reason = manual.get(&row).cloned();
                    vec![reason.unwrap_or_else(|| "(no reason recorded)".into())]
                } else {
                    failed.iter().map(|f| f.gate.clone()).collect()
                };
                for reason in reasons {
                    *report.quarantined_by_reason.entry(reason).or_default() += 1;
                }
            }
        }
        if report.assets > 0 {
            report.complete_share = report.complete as f64 / report.assets as f64;
        }
        report.time_to_approval = Durations::of(times_to_approval(&conn)?);
        Ok(report)
    }
}

/// Each dataset and its newest version, read from the catalog's tables
/// (the datasets themselves are a layer above the report).
fn dataset_summaries(conn: &rusqlite::Connection) -> Result<Vec<DatasetSummary>> {
    let mut stmt = conn.prepare(
        "SELECT d.name, (SELECT count(*) FROM dataset_versions v WHERE v.dataset = d.id),
                v.version, v.format, v.delta, v.assets, v.shards, v.shard_bytes, v.created_at
         FROM datasets d
         LEFT JOIN dataset_versions v ON v.id =
             (SELECT id FROM dataset_versions WHERE dataset = d.id ORDER BY version DESC LIMIT 1)
         ORDER BY d.name_key",
    )?;
    let rows = stmt.query_map([], |r| {
        let latest = match r.get::<_, Option<u32>>(2)? {
            Some(version) => Some(LatestVersion {
                version,
                format: r.get(3)?,
                delta: r.get(4)?,
                assets: r.get(5)?,
                shards: r.get(6)?,
                shard_bytes: r.get(7)?,
                created_at: r.get(8)?,
            }),
            None => None,
        };
        Ok(DatasetSummary {
            name: r.get(0)?,
            versions: r.get(1)?,
            latest,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The reason of each asset's latest quarantine event.
fn quarantine_reasons(conn: &rusqlite::Connection) -> Result<HashMap<i64, String>> {
    let mut stmt = conn.prepare(
        "SELECT asset, json_extract(body, '$.data.reason') FROM events
         WHERE kind = 'quarantine' ORDER BY asset, seq",
    )?;
    let mut reasons = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Some(reason) = r.get::<_, Option<String>>(1)? {
            reasons.insert(r.get(0)?, reason);
        }
    }
    Ok(reasons)
}

/// Seconds from each asset's import event to its first approval event, as
/// the signed events record them.
fn times_to_approval(conn: &rusqlite::Connection) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT asset, kind, json_extract(body, '$.at') FROM events
         WHERE kind IN ('import', 'approval') ORDER BY asset, seq",
    )?;
    let mut first: HashMap<i64, (Option<OffsetDateTime>, Option<OffsetDateTime>)> = HashMap::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let asset: i64 = r.get(0)?;
        let kind: String = r.get(1)?;
        let Some(at) = r
            .get::<_, Option<String>>(2)?
            .and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok())
        else {
            continue;
        };
        let entry = first.entry(asset).or_default();
        let slot = if kind == "import" {
            &mut entry.0
        } else {
            &mut entry.1
        };
        slot.get_or_insert(at);
    }
    Ok(first
        .into_values()
        .filter_map(|(import, approval)| Some((approval? - import?).whole_seconds()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_ranked_by_nearest_rank() {
        assert_eq!(Durations::of(Vec::new()), None);
        let one = Durations::of(vec![7]).unwrap();
        assert_eq!(
            (one.median_seconds, one.p90_seconds, one.max_seconds),
            (7, 7, 7)
        );
        // 1..=10 shuffled: the median is the 5th value, p90 the 9th.
        let d = Durations::of(vec![4, 9, 1, 10, 2, 8, 3, 7, 5, 6]).unwrap();
        assert_eq!(d.count, 10);
        assert_eq!((d.median_seconds, d.p90_seconds, d.max_seconds), (5, 9, 10));
        let d = Durations::of(vec![30, 10, 20]).unwrap();
        assert_eq!((d.median_seconds, d.p90_seconds), (20, 30));
    }
}
