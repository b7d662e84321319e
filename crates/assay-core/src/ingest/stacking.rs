//! Stacks made at import, as a camera user expects to browse them: a raw
//! file and the JPEG (or HEIF) shot beside it (same folder, same name, and
//! no disagreement on the second or the camera make where both record
//! them: files that merely share a name are not one shot), and
//! the frames of a burst (same camera, same second of capture by the
//! camera's clock, consecutive file numbers in one folder). Newly imported
//! assets are matched against the whole catalog, so a JPEG imported after
//! its raw file still stacks with it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::catalog::assets::{self, now};
use crate::catalog::stacks::{self, StackKind};
use crate::error::Result;

/// One file of an asset, as stacking sees it.
struct Shot {
    raw: bool,
    /// A picture that is not raw: what a raw file pairs with.
    picture: bool,
    folder: PathBuf,
    stem: String,
    /// The file number's prefix and value (`IMG_` and 42 for `IMG_0042`).
    number: Option<(String, u64)>,
}

fn is_raw(media_type: &str) -> bool {
    media_type.starts_with("image/x-")
}

fn is_picture(media_type: &str) -> bool {
    matches!(
        media_type,
        "image/jpeg" | "image/heic" | "image/heif" | "image/avif"
    )
}

/// `IMG_0042` as (`IMG_`, 42): a camera's counter is three digits or more
/// at the end of the name.
fn file_number(stem: &str) -> Option<(String, u64)> {
    let digits = stem.len() - stem.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if !(3..=9).contains(&digits) {
        return None;
    }
    let (prefix, number) = stem.split_at(stem.len() - digits);
    Some((prefix.to_owned(), number.parse().ok()?))
}

/// Every file of asset `row` (it may have been seen at several paths).
fn shots(conn: &Connection, row: i64, media_type: &str) -> Result<Vec<Shot>> {
    let mut stmt = conn.prepare_cached("SELECT path FROM locations WHERE asset = ?1")?;
    let paths = stmt
        .query_map([row], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(paths
        .iter()
        .filter_map(|bytes| {
            let path = assets::path_from_bytes(bytes);
            let stem = path.file_stem()?.to_str()?.to_owned();
            Some(Shot {
                raw: is_raw(media_type),
                picture: is_picture(media_type),
                folder: path.parent()?.to_owned(),
                number: file_number(&stem),
                stem,
            })
        })
        .collect())
}

/// What a camera recorded of a shot: the second it was taken, by its
/// clock, and its make. Two files of one shot never disagree on either.
#[derive(Debug, PartialEq)]
struct Taken {
    second: Option<String>,
    make: Option<String>,
}

impl Taken {
    fn new(date: Option<&str>, source: Option<&str>, make: Option<&str>) -> Taken {
        Taken {
            second: date
                .filter(|_| source == Some("exif"))
                .and_then(|d| d.get(..19))
                .map(str::to_owned),
            make: make.map(|m| m.trim().to_lowercase()),
        }
    }

    /// Whether nothing the two recorded says they are different shots.
    fn agrees(&self, other: &Taken) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        };
        same(&self.second, &other.second) && same(&self.make, &other.make)
    }
}

/// The assets with a file named `stem.*` in `folder`, with their media type
/// and what their camera recorded.
fn same_name(conn: &Connection, folder: &Path, stem: &str) -> Result<Vec<(i64, String, Taken)>> {
    // Paths sort as bytes, so `stem.` and everything after it up to `stem/`
    // (the byte after `.`) is one range of the path index.
    let mut low = assets::path_bytes(&folder.join(stem));
    let mut high = low.clone();
    low.push(b'.');
    high.push(b'.' + 1);
    let mut stmt = conn.prepare_cached(
        "SELECT l.asset, a.media_type, l.path, a.capture_date, a.capture_date_source, a.make
         FROM locations l JOIN assets a ON a.id = l.asset
         WHERE l.path >= ?1 AND l.path < ?2",
    )?;
    let mut rows = stmt.query(params![low, high])?;
    let mut found = Vec::new();
    while let Some(r) = rows.next()? {
        let path: Vec<u8> = r.get(2)?;
        // Not a file in a folder named `stem.something`.
        if assets::path_from_bytes(&path).parent() == Some(folder) {
            let taken = Taken::new(
                r.get::<_, Option<String>>(3)?.as_deref(),
                r.get::<_, Option<String>>(4)?.as_deref(),
                r.get::<_, Option<String>>(5)?.as_deref(),
            );
            found.push((r.get(0)?, r.get(1)?, taken));
        }
    }
    Ok(found)
}

/// Assets captured in the same second by the same camera.
fn same_second(
    conn: &Connection,
    second: &str,
    make: &str,
    model: &str,
) -> Result<Vec<(i64, String)>> {
    // Every date of that second starts with it and sorts below it + '~'.
    let mut stmt = conn.prepare_cached(
        "SELECT id, media_type FROM assets
         WHERE capture_date >= ?1 AND capture_date < ?1 || '~'
           AND capture_date_source = 'exif' AND make = ?2 AND model = ?3",
    )?;
    let rows = stmt.query_map(params![second, make, model], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Disjoint sets of rows, and the rows a burst linked.
#[derive(Default)]
struct Links {
    parent: HashMap<i64, i64>,
    in_burst: HashSet<i64>,
}

impl Links {
    fn find(&mut self, row: i64) -> i64 {
        let mut at = row;
        while let Some(&up) = self.parent.get(&at).filter(|&&up| up != at) {
            at = up;
        }
        self.parent.insert(row, at);
        at
    }

    fn join(&mut self, a: i64, b: i64, burst: bool) {
        let (root_a, root_b) = (self.find(a), self.find(b));
        if root_a != root_b {
            self.parent.insert(root_b, root_a);
        }
        if burst {
            self.in_burst.extend([a, b]);
        }
    }

    /// Each set of two rows or more, in row order, with whether a burst
    /// linked any of them.
    fn sets(mut self) -> Vec<(Vec<i64>, bool)> {
        let rows: Vec<i64> = self.parent.keys().copied().collect();
        let mut by_root: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for row in rows {
            let root = self.find(row);
            by_root.entry(root).or_default().push(row);
        }
        by_root
            .into_values()
            .filter(|rows| rows.len() > 1)
            .map(|mut rows| {
                rows.sort_unstable();
                let burst = rows.iter().any(|r| self.in_burst.contains(r));
                (rows, burst)
            })
            .collect()
    }
}

/// Stacks the assets imported after row `after` with their raw or JPEG
/// partners and burst frames, inside the caller's transaction. Returns how
/// many assets are now in a stack made or grown here.
pub(crate) fn stack_imported(conn: &Connection, after: i64) -> Result<u64> {
    let mut stmt = conn.prepare(
        "SELECT id, media_type, capture_date, capture_date_source, make, model
         FROM assets WHERE id > ?1 AND substr(media_type, 1, 6) = 'image/'",
    )?;
    type New = (
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let new = stmt
        .query_map([after], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<New>>>()?;
    let mut links = Links::default();
    let mut info: HashMap<i64, Vec<Shot>> = HashMap::new();
    for (row, media_type, date, source, make, model) in new {
        let taken = Taken::new(date.as_deref(), source.as_deref(), make.as_deref());
        let own = shots(conn, row, &media_type)?;
        for shot in &own {
            for (other, other_type, other_taken) in same_name(conn, &shot.folder, &shot.stem)? {
                let paired =
                    (shot.raw && is_picture(&other_type)) || (shot.picture && is_raw(&other_type));
                if other != row && paired && taken.agrees(&other_taken) {
                    links.join(row, other, false);
                }
            }
            let (Some(second), Some((prefix, number)), Some(make), Some(model)) =
                (&taken.second, &shot.number, &make, &model)
            else {
                continue;
            };
            for (other, other_type) in same_second(conn, second, make, model)? {
                if other == row {
                    continue;
                }
                let frames = shots(conn, other, &other_type)?;
                let next = frames.iter().any(|f| {
                    f.folder == shot.folder
                        && f.number
                            .as_ref()
                            .is_some_and(|(p, n)| p == prefix && n.abs_diff(*number) == 1)
                });
                if next {
                    links.join(row, other, true);
                    info.insert(other, frames);
                }
            }
        }
        info.insert(row, own);
    }
    let at = now();
    let mut stacked = 0;
    for (rows, burst) in links.sets() {
        let mut key = |row: i64| -> Result<(u64, bool, i64)> {
            if let std::collections::hash_map::Entry::Vacant(entry) = info.entry(row) {
                let media_type: String =
                    conn.query_row("SELECT media_type FROM assets WHERE id = ?1", [row], |r| {
                        r.get(0)
                    })?;
                entry.insert(shots(conn, row, &media_type)?);
            }
            let shots = &info[&row];
            let number = shots
                .iter()
                .filter_map(|s| s.number.as_ref().map(|n| n.1))
                .min()
                .unwrap_or(0);
            let raw = shots.first().is_some_and(|s| s.raw);
            Ok((number, !raw, row))
        };
        // The first frame, and of a raw and its JPEG, the raw file.
        let mut keys = Vec::with_capacity(rows.len());
        for &row in &rows {
            keys.push(key(row)?);
        }
        let Some(&(_, _, top)) = keys.iter().min() else {
            continue;
        };
        let kind = if burst {
            StackKind::Burst
        } else {
            StackKind::RawPair
        };
        stacked += stacks::stack(conn, top, &rows, kind, &at)?.len() as u64;
    }
    Ok(stacked)
}

#[cfg(test)]
mod tests {
    use super::{file_number, Taken};

    #[test]
    fn files_of_one_shot_never_disagree_on_the_second_or_the_make() {
        let jpeg = Taken::new(Some("2024-05-01T10:00:00.40"), Some("exif"), Some("NIKON"));
        let raw = Taken::new(Some("2024-05-01T10:00:00"), Some("exif"), Some("Nikon "));
        assert!(jpeg.agrees(&raw));
        // A raw file whose date could not be read does not contradict.
        assert!(jpeg.agrees(&Taken::new(None, None, Some("NIKON"))));
        // A file's own mtime is no capture time.
        assert!(jpeg.agrees(&Taken::new(
            Some("2026-12-06T09:37:10Z"),
            Some("file_mtime"),
            None
        )));
        let years_apart = Taken::new(Some("2007-05-22T13:58:30"), Some("exif"), Some("NIKON"));
        assert!(!jpeg.agrees(&years_apart));
        assert!(!jpeg.agrees(&Taken::new(None, None, Some("FUJIFILM"))));
    }

    #[test]
    fn a_camera_counter_is_three_digits_or_more_at_the_end() {
        assert_eq!(file_number("IMG_0042"), Some(("IMG_".into(), 42)));
        assert_eq!(file_number("DSC01234"), Some(("DSC".into(), 1234)));
        assert_eq!(file_number("_MG_9999"), Some(("_MG_".into(), 9999)));
        assert_eq!(file_number("photo12"), None);
        assert_eq!(file_number("holiday"), None);
        assert_eq!(file_number("1234567890123"), None);
    }
}
