//! Groups of near-duplicates across the library, and the near-duplicates of
//! one asset. Two assets belong together when their pictures lie within the
//! distance of each other (a chain of such pairs makes one group); each
//! group suggests a keeper, the copy most likely to be the original.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::decisions::DUPLICATE_OF;
use super::index::Index;
use crate::catalog::library::Library;
use crate::catalog::{assets, fingerprints};
use crate::error::{Error, Result};
use crate::preview::Fingerprint;

/// Bits two pictures may differ by and still count as one: measured on
/// resized, recompressed, cropped and turned copies and on similar but
/// different shots (BENCHMARKS.md, "Near-duplicates").
pub const DEFAULT_MAX_DISTANCE: u32 = 6;

/// The most a caller may ask for: past it, unrelated pictures match.
pub const MAX_DISTANCE: u32 = 16;

/// Near-identical assets, the suggested keeper first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DuplicateGroup {
    /// The asset to keep: the original a copy was made from, as far as the
    /// files tell.
    pub keeper: String,
    /// Why that one.
    pub reason: String,
    pub members: Vec<DuplicateMember>,
}

/// One asset of a group.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DuplicateMember {
    pub asset_id: String,
    pub title: Option<String>,
    pub media_type: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub size_bytes: u64,
    pub workflow_state: String,
    /// The thumbnail's path inside the library folder (`previews/…`).
    pub thumbnail: Option<String>,
    /// Bits between its picture and the keeper's (0: the same picture).
    pub distance: u32,
}

impl Library {
    /// Every group of near-identical assets left to decide, largest first:
    /// pictures within `max_distance` bits of each other (see
    /// [`DEFAULT_MAX_DISTANCE`]). Two assets a reviewer decided about (in
    /// one stack, kept apart, or one marked a duplicate) never join a group.
    pub fn duplicates(&self, max_distance: u32) -> Result<Vec<DuplicateGroup>> {
        check_distance(max_distance)?;
        let conn = self.connect()?;
        let all = fingerprints::all(&conn)?;
        let prints: Vec<Fingerprint> = all.iter().map(|(_, f)| *f).collect();
        let index = Index::new(&prints);
        let decided = Decided::load(&conn)?;
        let mut sets = Sets::new(prints.len());
        for (at, print) in prints.iter().enumerate() {
            for (other, _) in index.near(print, max_distance) {
                if !decided.pair(all[at].0, all[other].0) {
                    sets.join(at, other);
                }
            }
        }
        let mut groups = Vec::new();
        for members in sets.groups() {
            let rows: Vec<(i64, Fingerprint)> = members.iter().map(|&at| all[at]).collect();
            groups.push(group(&conn, &rows)?);
        }
        groups.sort_by(|a, b| {
            b.members
                .len()
                .cmp(&a.members.len())
                .then_with(|| a.keeper.cmp(&b.keeper))
        });
        Ok(groups)
    }

    /// The assets whose picture lies within `max_distance` bits of the
    /// picture of the asset `key` names, nearest first, with the distance;
    /// empty when its picture was not hashed (yet).
    pub fn near_duplicates(&self, key: &str, max_distance: u32) -> Result<Vec<(String, u32)>> {
        check_distance(max_distance)?;
        let conn = self.connect()?;
        let row = assets::resolve(&conn, key)?;
        let Some(print) = fingerprints::of(&conn, row)? else {
            return Ok(Vec::new());
        };
        let mut found = Vec::new();
        for (other, distance) in fingerprints::near(&conn, &print, max_distance)? {
            if other != row {
                found.push((assets::asset_id_of(&conn, other)?, distance));
            }
        }
        found.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Ok(found)
    }
}

/// Pairs of assets a reviewer already decided about (`decisions.rs`).
struct Decided {
    /// The top of each stacked asset's stack.
    stacked: HashMap<i64, i64>,
    marked: HashSet<i64>,
    kept_apart: HashSet<(i64, i64)>,
}

impl Decided {
    fn load(conn: &rusqlite::Connection) -> Result<Decided> {
        let stacked = conn
            .prepare(
                "SELECT id, stacked_under FROM assets WHERE stacked_under IS NOT NULL
                 UNION ALL SELECT top, top FROM stacks",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let marked = conn
            .prepare(&format!(
                "SELECT id FROM assets WHERE json_extract(rights, '$.{DUPLICATE_OF}') IS NOT NULL"
            ))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let kept_apart = conn
            .prepare("SELECT low, high FROM kept_apart")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Decided {
            stacked,
            marked,
            kept_apart,
        })
    }

    /// Whether the pair of rows `a` and `b` was decided about.
    fn pair(&self, a: i64, b: i64) -> bool {
        let same_stack = matches!(
            (self.stacked.get(&a), self.stacked.get(&b)),
            (Some(x), Some(y)) if x == y
        );
        same_stack
            || self.marked.contains(&a)
            || self.marked.contains(&b)
            || self.kept_apart.contains(&(a.min(b), a.max(b)))
    }
}

fn check_distance(max_distance: u32) -> Result<()> {
    if max_distance > MAX_DISTANCE {
        return Err(Error::refused(
            "max-distance",
            format!("{max_distance} bits would match unrelated pictures; at most {MAX_DISTANCE}"),
        ));
    }
    Ok(())
}

/// The group of assets `rows`, its keeper chosen and first.
fn group(conn: &rusqlite::Connection, rows: &[(i64, Fingerprint)]) -> Result<DuplicateGroup> {
    let mut members = Vec::with_capacity(rows.len());
    for &(row, _) in rows {
        members.push(conn.query_row(
            "SELECT asset_id, title, media_type, width, height, size_bytes, workflow_state,
                thumbnail
             FROM assets WHERE id = ?1",
            [row],
            |r| {
                Ok(DuplicateMember {
                    asset_id: r.get(0)?,
                    title: r.get(1)?,
                    media_type: r.get(2)?,
                    width: r.get(3)?,
                    height: r.get(4)?,
                    size_bytes: r.get::<_, i64>(5)? as u64,
                    workflow_state: r.get(6)?,
                    thumbnail: r.get(7)?,
                    distance: 0,
                })
            },
        )?);
    }
    // Rows are in import order, so the earliest import wins a tie.
    let keeper = (0..members.len())
        .max_by_key(|&i| {
            let m = &members[i];
            (rank(m), std::cmp::Reverse(i))
        })
        .unwrap_or(0);
    let reason = reason(&members, keeper);
    let keeper_print = rows[keeper].1;
    for (member, (_, print)) in members.iter_mut().zip(rows) {
        member.distance = keeper_print.distance(print.turns[0]);
    }
    members.swap(0, keeper);
    members[1..].sort_by(|a, b| {
        a.distance
            .cmp(&b.distance)
            .then(a.asset_id.cmp(&b.asset_id))
    });
    Ok(DuplicateGroup {
        keeper: members[0].asset_id.clone(),
        reason,
        members,
    })
}

/// What makes a copy more likely the original: a camera raw file (its JPEG
/// is made from it), then more pixels, then more bytes (less compression).
fn rank(m: &DuplicateMember) -> (bool, u64, u64) {
    let pixels = u64::from(m.width.unwrap_or(0)) * u64::from(m.height.unwrap_or(0));
    (is_raw(&m.media_type), pixels, m.size_bytes)
}

fn is_raw(media_type: &str) -> bool {
    media_type.starts_with("image/x-")
}

/// Why `keeper` was chosen, in the terms of [`rank`].
fn reason(members: &[DuplicateMember], keeper: usize) -> String {
    let k = &members[keeper];
    let (raw, pixels, size) = rank(k);
    let others: Vec<_> = members
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != keeper)
        .map(|(_, m)| rank(m))
        .collect();
    if raw && others.iter().all(|o| !o.0) {
        "the camera raw file".to_owned()
    } else if others.iter().all(|o| o.1 < pixels) {
        format!(
            "the most pixels ({}x{})",
            k.width.unwrap_or(0),
            k.height.unwrap_or(0)
        )
    } else if others.iter().all(|o| o.1 < pixels || o.2 < size) {
        "the least compressed".to_owned()
    } else {
        "imported first".to_owned()
    }
}

/// Disjoint sets over positions (union by size, path halving).
struct Sets {
    parent: Vec<usize>,
    size: Vec<usize>,
}

impl Sets {
    fn new(n: usize) -> Self {
        Sets {
            parent: (0..n).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut at: usize) -> usize {
        while self.parent[at] != at {
            self.parent[at] = self.parent[self.parent[at]];
            at = self.parent[at];
        }
        at
    }

    fn join(&mut self, a: usize, b: usize) {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a;
        self.size[a] += self.size[b];
    }

    /// The sets of more than one position, each in position order.
    fn groups(mut self) -> Vec<Vec<usize>> {
        let mut by_root: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
        for at in 0..self.parent.len() {
            let root = self.find(at);
            by_root.entry(root).or_default().push(at);
        }
        by_root.into_values().filter(|g| g.len() > 1).collect()
    }
}
