//! `report`: the library's readiness in the figures a DAM steward tracks:
//! how long approval takes (upload to approval, from the signed events),
//! how much of the library has complete metadata, counts per state and per
//! license tag, and what is eligible against what is held back, and why;
//! and, for the dashboard's charts, the same over time: approval times per
//! week, the funnel from import to sale, and money per creator and month.

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
    /// Time to approval per ISO week of the first approval, oldest first.
    pub approval_weeks: Vec<ApprovalWeek>,
    /// How many assets ever reached each step, from the signed events.
    pub funnel: Funnel,
    /// Money per creator, month and currency, from the recorded payment
    /// events; by creator, then month.
    pub earnings: Vec<CreatorMonth>,
}

/// The assets first approved in one ISO week, and how long they took.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ApprovalWeek {
    /// `2026-W49`.
    pub week: String,
    /// The week's Monday, `2026-11-30`.
    pub starts: String,
    pub durations: Durations,
}

/// Assets that ever reached each step: imported (every asset), submitted,
/// approved, listed on a marketplace, and sold at least once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Funnel {
    pub imported: u64,
    pub submitted: u64,
    pub approved: u64,
    pub listed: u64,
    pub sold: u64,
}

/// One creator's money in one month and currency, in minor units: the
/// share of each purchase (less refunds) and of each payout sent that falls
/// on their assets. A payment covering several assets is split evenly
/// among them, the remainder a minor unit each to the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CreatorMonth {
    /// The creator the asset's rights name, else whoever imported it.
    pub creator: String,
    /// `2026-12`, in UTC, when the market recorded the payment.
    pub month: String,
    pub currency: String,
    pub revenue_minor: i64,
    pub payouts_minor: i64,
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
            approval_weeks: Vec::new(),
            funnel: Funnel::default(),
            earnings: Vec::new(),
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
        let history = History::read(&conn)?;
        report.time_to_approval = Durations::of(history.approvals.iter().map(|a| a.1).collect());
        report.approval_weeks = weeks(&history.approvals);
        report.funnel = Funnel {
            imported: report.assets,
            ..history.funnel
        };
        report.earnings = earnings(&conn, &history.payments)?;
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

/// What the report reads from the signed events, in one pass over them.
#[derive(Default)]
struct History {
    /// Each approved asset's first approval, and the seconds from its import.
    approvals: Vec<(OffsetDateTime, i64)>,
    /// Every step but `imported`, which is the catalog's count.
    funnel: Funnel,
    payments: Vec<Payment>,
}

/// A payment event's share of money: one asset's part of a purchase,
/// refund or payout.
struct Payment {
    asset: i64,
    feed_event_id: String,
    kind: String,
    at: OffsetDateTime,
    currency: String,
    amount_minor: i64,
    assets: i64,
}

impl History {
    fn read(conn: &rusqlite::Connection) -> Result<History> {
        let mut stmt = conn.prepare(
            "SELECT asset, kind, json_extract(body, '$.at'),
                    json_extract(body, '$.data.feed_event'),
                    json_extract(body, '$.data.feed_event_id'),
                    json_extract(body, '$.data.market_at'),
                    json_extract(body, '$.data.currency'),
                    json_extract(body, '$.data.amount_minor'),
                    json_extract(body, '$.data.assets')
             FROM events
             WHERE kind IN ('import', 'submission', 'approval', 'export_to_marketplace', 'payment')
             ORDER BY asset, seq",
        )?;
        let mut history = History::default();
        let mut rows = stmt.query([])?;
        // The events come asset by asset: what the current one reached.
        let mut asset = None;
        let mut reached = Reached::default();
        while let Some(r) = rows.next()? {
            let row: i64 = r.get(0)?;
            if asset != Some(row) {
                reached.count_into(&mut history);
                reached = Reached::default();
                asset = Some(row);
            }
            let kind: String = r.get(1)?;
            let at = r
                .get::<_, Option<String>>(2)?
                .and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok());
            match kind.as_str() {
                "import" => {
                    reached.imported = reached.imported.or(at);
                }
                "submission" => reached.submitted = true,
                "approval" => {
                    reached.approved = reached.approved.or(at);
                }
                "export_to_marketplace" => reached.listed = true,
                _ => {
                    let feed_event: Option<String> = r.get(3)?;
                    reached.sold |= feed_event.as_deref() == Some("purchase");
                    // The market's time when it gave one, else the event's.
                    let market_at = r
                        .get::<_, Option<String>>(5)?
                        .and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok());
                    let (Some(kind), Some(feed_event_id), Some(at), Some(currency), Some(amount)) = (
                        feed_event,
                        r.get::<_, Option<String>>(4)?,
                        market_at.or(at),
                        r.get::<_, Option<String>>(6)?,
                        // A market's feed is outside data: an amount that is
                        // not a whole number is left out, not guessed.
                        r.get::<_, Option<i64>>(7).ok().flatten(),
                    ) else {
                        continue;
                    };
                    history.payments.push(Payment {
                        asset: row,
                        feed_event_id,
                        kind,
                        at,
                        currency,
                        amount_minor: amount,
                        assets: r
                            .get::<_, Option<i64>>(8)
                            .ok()
                            .flatten()
                            .unwrap_or(1)
                            .max(1),
                    });
                }
            }
        }
        reached.count_into(&mut history);
        Ok(history)
    }
}

/// The steps one asset reached.
#[derive(Default)]
struct Reached {
    imported: Option<OffsetDateTime>,
    submitted: bool,
    approved: Option<OffsetDateTime>,
    listed: bool,
    sold: bool,
}

impl Reached {
    fn count_into(&self, history: &mut History) {
        let funnel = &mut history.funnel;
        funnel.submitted += u64::from(self.submitted);
        funnel.approved += u64::from(self.approved.is_some());
        funnel.listed += u64::from(self.listed);
        funnel.sold += u64::from(self.sold);
        if let (Some(import), Some(approval)) = (self.imported, self.approved) {
            history
                .approvals
                .push((approval, (approval - import).whole_seconds()));
        }
    }
}

/// Approval times grouped by the ISO week of the approval, oldest first.
fn weeks(approvals: &[(OffsetDateTime, i64)]) -> Vec<ApprovalWeek> {
    let mut by_week: BTreeMap<(i32, u8), (time::Date, Vec<i64>)> = BTreeMap::new();
    for (at, seconds) in approvals {
        let (year, week, _) = at.to_iso_week_date();
        let monday =
            at.date() - time::Duration::days(i64::from(at.weekday().number_days_from_monday()));
        by_week
            .entry((year, week))
            .or_insert_with(|| (monday, Vec::new()))
            .1
            .push(*seconds);
    }
    by_week
        .into_iter()
        .filter_map(|((year, week), (monday, seconds))| {
            Some(ApprovalWeek {
                week: format!("{year}-W{week:02}"),
                starts: monday.to_string(),
                durations: Durations::of(seconds)?,
            })
        })
        .collect()
}

/// Each payment's amount split over the assets it covers, summed per
/// creator, month and currency.
fn earnings(conn: &rusqlite::Connection, payments: &[Payment]) -> Result<Vec<CreatorMonth>> {
    let mut creators: HashMap<i64, String> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT a.id, coalesce(json_extract(a.rights, '$.creator_name'), u.name, '(unknown)')
         FROM assets a LEFT JOIN users u ON u.id = a.uploaded_by",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        creators.insert(r.get(0)?, r.get(1)?);
    }
    // The assets of one payment in asset order, for a stable remainder.
    let mut by_payment: BTreeMap<(&str, &str), Vec<&Payment>> = BTreeMap::new();
    for p in payments {
        by_payment
            .entry((p.feed_event_id.as_str(), p.kind.as_str()))
            .or_default()
            .push(p);
    }
    let mut sums: BTreeMap<(String, String, String), (i64, i64)> = BTreeMap::new();
    for parts in by_payment.values_mut() {
        parts.sort_by_key(|p| p.asset);
        for (i, p) in parts.iter().enumerate() {
            let (share, extra) = (p.amount_minor / p.assets, p.amount_minor % p.assets);
            let part = share + i64::from((i as i64) < extra);
            let (revenue, payout) = match p.kind.as_str() {
                "purchase" => (part, 0),
                "refunded" => (-part, 0),
                "payout_sent" => (0, part),
                _ => continue,
            };
            let creator = creators
                .get(&p.asset)
                .cloned()
                .unwrap_or_else(|| "(unknown)".to_owned());
            let month = format!("{}-{:02}", p.at.year(), u8::from(p.at.month()));
            let sum = sums
                .entry((creator, month, p.currency.clone()))
                .or_default();
            sum.0 += revenue;
            sum.1 += payout;
        }
    }
    Ok(sums
        .into_iter()
        .map(
            |((creator, month, currency), (revenue_minor, payouts_minor))| CreatorMonth {
                creator,
                month,
                currency,
                revenue_minor,
                payouts_minor,
            },
        )
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

    fn at(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    #[test]
    fn approval_times_group_by_the_iso_week_of_the_approval() {
        let weeks = weeks(&[
            (at("2027-01-04T09:00:00Z"), 50),
            (at("2026-12-31T23:00:00Z"), 10),
            (at("2026-12-28T00:00:00Z"), 30),
            (at("2026-12-27T12:00:00Z"), 7),
        ]);
        let summary: Vec<_> = weeks
            .iter()
            .map(|w| {
                (
                    w.week.as_str(),
                    w.starts.as_str(),
                    w.durations.count,
                    w.durations.median_seconds,
                )
            })
            .collect();
        // Thursday 31 December 2026 is in 2026's 53rd week; Sunday the 27th
        // in the 52nd; Monday 4 January 2027 starts 2027's first.
        assert_eq!(
            summary,
            [
                ("2026-W52", "2026-12-21", 1, 7),
                ("2026-W53", "2026-12-28", 2, 10),
                ("2027-W01", "2027-01-04", 1, 50),
            ]
        );
    }

    #[test]
    fn payments_split_over_their_assets_and_sum_per_creator_and_month() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE assets (id INTEGER PRIMARY KEY, rights TEXT, uploaded_by INTEGER);
             INSERT INTO users VALUES (1, 'cy');
             INSERT INTO assets VALUES (1, '{\"creator_name\":\"Ana\"}', 1),
                                       (2, '{}', 1), (3, '{}', NULL);",
        )
        .unwrap();
        let pay = |asset, id: &str, kind: &str, when: &str, amount, assets| Payment {
            asset,
            feed_event_id: id.into(),
            kind: kind.into(),
            at: at(when),
            currency: "EUR".into(),
            amount_minor: amount,
            assets,
        };
        let payments = [
            // 1001 over three assets: 334 to the first two, 333 to the third.
            pay(2, "e1", "purchase", "2026-11-30T10:00:00Z", 1001, 3),
            pay(1, "e1", "purchase", "2026-11-30T10:00:00Z", 1001, 3),
            pay(3, "e1", "purchase", "2026-11-30T10:00:00Z", 1001, 3),
            pay(1, "e2", "refunded", "2026-12-01T10:00:00Z", 200, 1),
            pay(1, "e3", "payout_sent", "2026-12-02T10:00:00Z", 500, 1),
            pay(2, "e4", "payout_failed", "2026-12-02T10:00:00Z", 900, 1),
        ];
        let sums: Vec<_> = earnings(&conn, &payments)
            .unwrap()
            .into_iter()
            .map(|c| (c.creator, c.month, c.revenue_minor, c.payouts_minor))
            .collect();
        let row = |c: &str, m: &str, r, p| (c.to_owned(), m.to_owned(), r, p);
        assert_eq!(
            sums,
            [
                row("(unknown)", "2026-11", 333, 0),
                row("Ana", "2026-11", 334, 0),
                row("Ana", "2026-12", -200, 500),
                row("cy", "2026-11", 334, 0),
            ]
        );
    }
}
