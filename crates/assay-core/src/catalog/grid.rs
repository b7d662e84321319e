//! Pages of the library grid: the few columns a thumbnail cell shows, read
//! by position so a virtualized grid can jump anywhere in a million assets.

use serde::{Deserialize, Serialize};

use crate::catalog::assets::{where_clause, Filter};
use crate::catalog::library::Library;
use crate::error::Result;

/// The order of the grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum GridSort {
    /// Newest capture first; assets without a capture date last.
    #[default]
    CaptureDate,
    /// Most recently imported first.
    ImportDate,
}

/// Which page of which selection.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GridQuery {
    #[serde(default)]
    pub filter: Filter,
    #[serde(default)]
    pub sort: GridSort,
    /// Position of the first asset of the page in the sorted selection.
    pub offset: u32,
    /// At most this many assets (capped at [`GridQuery::MAX_LIMIT`]).
    pub limit: u32,
    /// How many assets the filter matches, as the caller last counted them
    /// ([`Library::grid_count`]). With it, a page past the middle is found
    /// from the end, so the deepest page costs what the middle one does. A
    /// count that went stale shifts such a page by the difference, as any
    /// change to the library shifts pages by position.
    #[serde(default)]
    pub total: Option<u32>,
    /// An open stack: the asset id of its top (or of any member). Its
    /// assets are the page, the top first, and `filter` and `sort` are not
    /// used. Without one, the whole library (no filter) shows each stack
    /// as its top alone; a filter shows every asset it matches, so no
    /// match hides behind a top that does not match.
    #[serde(default)]
    pub stack: Option<String>,
    /// The asset id of the cell just before this page, as the caller holds
    /// it: the page is then the `limit` cells after it, found by an index
    /// seek (keyset) instead of walking `offset` entries, so scrolling on
    /// costs the same at any depth. `offset` still says where the page
    /// sits; a cursor the catalog no longer has falls back to it.
    #[serde(default)]
    pub after: Option<String>,
    /// The asset id of the cell just after this page: the `limit` cells
    /// before it, by index seek, for scrolling back up.
    #[serde(default)]
    pub before: Option<String>,
}

impl GridQuery {
    pub const MAX_LIMIT: u32 = 1000;
}

/// One cell of the grid: what its thumbnail, caption and badges need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct GridItem {
    pub asset_id: String,
    pub title: Option<String>,
    /// The file name of the first place the bytes were seen.
    pub file_name: Option<String>,
    pub media_type: String,
    pub capture_date: Option<String>,
    pub imported_at: String,
    pub license_tag: Option<String>,
    pub workflow_state: String,
    /// The thumbnail's path inside the library folder (`previews/…`).
    pub thumbnail: Option<String>,
    pub warnings: u32,
    /// Some location of the asset is missing or no longer holds its bytes.
    pub missing: bool,
    /// Assets in the stack this asset is the top of, itself included; 0
    /// when it tops none.
    pub stack_count: u32,
}

impl Library {
    /// One page of the assets `query.filter` matches, in `query.sort` order.
    pub fn grid_page(&self, query: &GridQuery) -> Result<Vec<GridItem>> {
        let conn = self.connect()?;
        let fold = folds(&conn, &query.filter, query.stack.as_deref())?;
        let (sql, args) = match keyset_ids(&conn, query, fold)? {
            Some(ids) => (
                format!(
                    "SELECT {CELL} FROM json_each(?1) p CROSS JOIN assets a ON a.id = p.value
                     ORDER BY p.key"
                ),
                vec![serde_json::to_string(&ids)
                    .map_err(|e| crate::Error::Internal(e.to_string()))?],
            ),
            None => page_sql(query, fold),
        };
        let mut stmt = conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
            let path: Option<String> = r.get(9)?;
            Ok(GridItem {
                asset_id: r.get(0)?,
                title: r.get(1)?,
                file_name: path.as_deref().map(file_name),
                media_type: r.get(2)?,
                capture_date: r.get(3)?,
                imported_at: r.get(4)?,
                license_tag: r.get(5)?,
                workflow_state: r.get(6)?,
                thumbnail: r.get(7)?,
                warnings: r.get(8)?,
                missing: r.get(10)?,
                stack_count: r.get(11)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many cells the grid shows for `filter`, or for the open `stack`
    /// (see [`GridQuery::stack`]): its scroll height.
    pub fn grid_count(&self, filter: &Filter, stack: Option<&str>) -> Result<u64> {
        let conn = self.connect()?;
        let n: i64 = if folds(&conn, filter, stack)? {
            // Every asset but the folded ones: SQLite counts a table
            // without reading its rows, and the folded ones are few and
            // indexed alone, where counting `stacked_under IS NULL` would
            // test every row.
            conn.query_row(
                "SELECT (SELECT count(*) FROM assets)
                      - (SELECT count(*) FROM assets WHERE stacked_under IS NOT NULL)",
                [],
                |r| r.get(0),
            )?
        } else {
            let (clause, args) = selection(filter, stack, false);
            let sql = format!("SELECT count(*) FROM assets a{clause}");
            conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?
        };
        Ok(n as u64)
    }
}

/// Whether the grid folds stacks for this selection: the whole library
/// (no filter, no open stack) of a library that has stacks. Without any,
/// the pages walk the plain indexes, which cost half as much to skip
/// through as the partial ones (whose condition SQLite tests on each row).
fn folds(conn: &rusqlite::Connection, filter: &Filter, stack: Option<&str>) -> Result<bool> {
    if stack.is_some() || *filter != Filter::default() {
        return Ok(false);
    }
    Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM stacks)", [], |r| r.get(0))?)
}

/// The WHERE clause of the grid's cells: an open stack's assets, else what
/// `filter` matches, each stack folded under its top when `fold`.
fn selection(filter: &Filter, stack: Option<&str>, fold: bool) -> (String, Vec<String>) {
    if let Some(key) = stack {
        // The top of the stack `key` is in, whichever member it names.
        let top = "(SELECT coalesce(k.stacked_under, k.id) FROM assets k WHERE k.asset_id = ?1)";
        let clause = format!(" WHERE (a.id = {top} OR a.stacked_under = {top})");
        return (clause, vec![key.to_owned()]);
    }
    let (mut clause, args) = where_clause(filter);
    if fold {
        clause.push_str(" AND a.stacked_under IS NULL");
    }
    (clause, args)
}

/// The page query and its arguments, stacks folded when `fold`.
fn page_sql(query: &GridQuery, fold: bool) -> (String, Vec<String>) {
    let (clause, mut args) = selection(&query.filter, query.stack.as_deref(), fold);
    let (order, reversed) = match (&query.stack, query.sort) {
        // The top first, then the rest in import order.
        (Some(_), _) => (
            "a.stacked_under IS NOT NULL, a.id",
            "a.stacked_under IS NULL, a.id DESC",
        ),
        // NULL sorts below every date, so undated assets come last, and
        // the order is the capture-date index read backwards: no sort.
        (None, GridSort::CaptureDate) => ("a.capture_date DESC, a.id DESC", "a.capture_date, a.id"),
        (None, GridSort::ImportDate) => ("a.imported_at DESC, a.id DESC", "a.imported_at, a.id"),
    };
    let window = window(query);
    let walk = if window.from_end { reversed } else { order };
    args.push(window.limit.to_string());
    args.push(window.offset.to_string());
    let (limit, offset) = (args.len() - 1, args.len());
    // The page's ids are found first and its columns read after, so
    // skipping to a deep page walks the index without reading rows.
    // CROSS JOIN keeps the page as the outer loop: SQLite never reorders
    // it, and otherwise may scan every asset looking for the page's ids.
    let sql = format!(
        "SELECT {CELL}
         FROM (SELECT id FROM assets a{clause} ORDER BY {walk} LIMIT ?{limit} OFFSET ?{offset}) p
         CROSS JOIN assets a ON a.id = p.id
         ORDER BY {order}"
    );
    (sql, args)
}

/// The columns of a grid cell, read from the asset `a`.
const CELL: &str = "asset_id, title, media_type, capture_date, imported_at,
    json_extract(rights, '$.license_tag'), workflow_state, thumbnail,
    json_array_length(warnings),
    (SELECT path_text FROM locations l WHERE l.asset = a.id ORDER BY l.id LIMIT 1),
    EXISTS (SELECT 1 FROM locations l WHERE l.asset = a.id AND l.status != 'present'),
    (SELECT CASE WHEN count(*) > 0 THEN count(*) + 1 ELSE 0 END
     FROM assets s WHERE s.stacked_under = a.id)";

/// The ids of the page next to a cursor (`after` or `before`), in the
/// grid's order, found by seeking the sort's index to the cursor's key:
/// `None` without a cursor, for an open stack (a few assets, read by
/// position), or when the cursor's asset is gone (the caller's offset
/// then finds the page).
///
/// The grid shows dated assets newest first and undated ones after them
/// (the highest id first), so the cells after a dated cursor are the
/// older dated ones, then the undated; and the cells before an undated
/// cursor are the undated with higher ids, then the oldest dated ones.
/// Each part is one index range (a row value, `(key, id) < (?, ?)`).
fn keyset_ids(
    conn: &rusqlite::Connection,
    query: &GridQuery,
    fold: bool,
) -> Result<Option<Vec<i64>>> {
    let (cursor, forward) = match (&query.after, &query.before) {
        (Some(after), _) => (after, true),
        (None, Some(before)) => (before, false),
        (None, None) => return Ok(None),
    };
    if query.stack.is_some() {
        return Ok(None);
    }
    let key = match query.sort {
        GridSort::CaptureDate => "capture_date",
        GridSort::ImportDate => "imported_at",
    };
    let found: Option<(Option<String>, i64)> = {
        use rusqlite::OptionalExtension;
        conn.query_row(
            &format!("SELECT {key}, id FROM assets WHERE asset_id = ?1"),
            [cursor],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    };
    let Some((value, id)) = found else {
        return Ok(None);
    };
    let limit = query.limit.min(GridQuery::MAX_LIMIT) as usize;
    let (clause, args) = selection(&query.filter, None, fold);
    let (k, i) = (args.len() + 1, args.len() + 2);
    // (condition, order) of each part, nearest to the cursor first.
    let parts: Vec<(String, &str)> = match (forward, value.is_some()) {
        (true, true) => vec![
            (format!("(a.{key}, a.id) < (?{k}, ?{i})"), "DESC"),
            (format!("a.{key} IS NULL"), "DESC"),
        ],
        (true, false) => vec![(format!("a.{key} IS NULL AND a.id < ?{i}"), "DESC")],
        (false, true) => vec![(format!("(a.{key}, a.id) > (?{k}, ?{i})"), "ASC")],
        (false, false) => vec![
            (format!("a.{key} IS NULL AND a.id > ?{i}"), "ASC"),
            (format!("a.{key} IS NOT NULL"), "ASC"),
        ],
    };
    let mut ids = Vec::with_capacity(limit);
    for (condition, direction) in parts {
        if ids.len() >= limit {
            break;
        }
        let sql = format!(
            "SELECT id FROM assets a{clause} AND {condition}
             ORDER BY a.{key} {direction}, a.id {direction} LIMIT {}",
            limit - ids.len()
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut all: Vec<rusqlite::types::Value> = args
            .iter()
            .map(|a| rusqlite::types::Value::Text(a.clone()))
            .collect();
        all.push(
            value
                .clone()
                .map_or(rusqlite::types::Value::Null, rusqlite::types::Value::Text),
        );
        all.push(rusqlite::types::Value::Integer(id));
        // A part names the cursor's key, its id, both or neither: bind as
        // many as the statement numbers.
        all.truncate(stmt.parameter_count());
        let rows = stmt.query_map(rusqlite::params_from_iter(all), |r| r.get::<_, i64>(0))?;
        for row in rows {
            ids.push(row?);
        }
    }
    if !forward {
        ids.reverse();
    }
    Ok(Some(ids))
}

/// Which entries of the sort's index a page takes: `limit` of them after
/// skipping `offset`, counted from the end when `from_end`.
#[derive(Debug, PartialEq, Eq)]
struct Window {
    offset: u32,
    limit: u32,
    from_end: bool,
}

/// A deep page by position walks the index up to it (`OFFSET`), so a page
/// in the second half is found walking from the other end, which holds
/// fewer entries before it.
fn window(query: &GridQuery) -> Window {
    let limit = query.limit.min(GridQuery::MAX_LIMIT);
    match query.total {
        Some(total) if query.offset > total / 2 && query.offset < total => {
            let end = query.offset.saturating_add(limit).min(total);
            Window {
                offset: total - end,
                limit: end - query.offset,
                from_end: true,
            }
        }
        _ => Window {
            offset: query.offset,
            limit,
            from_end: false,
        },
    }
}

/// The last component of a displayed path, whichever separator it uses.
pub(crate) fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::{file_name, folds, page_sql, window, GridQuery, GridSort, Window};
    use crate::catalog::assets::Filter;

    /// How SQLite would run `query`'s page on an empty catalog, stacks
    /// folded when `fold`.
    fn plan(query: &GridQuery, fold: bool) -> String {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::catalog::migrations::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        let (sql, args) = page_sql(query, fold);
        let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                r.get::<_, String>(3)
            })
            .unwrap();
        rows.map(Result::unwrap).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn filtered_pages_walk_the_index_of_their_filter_and_sort() {
        for (filter, sort, index) in [
            // The whole library of a library without stacks.
            (
                Filter::default(),
                GridSort::CaptureDate,
                "assets_capture_date",
            ),
            (
                Filter::default(),
                GridSort::ImportDate,
                "assets_imported_at",
            ),
            // The whole library, each stack folded under its top.
            (
                Filter::default(),
                GridSort::CaptureDate,
                "assets_unstacked_capture",
            ),
            (
                Filter::default(),
                GridSort::ImportDate,
                "assets_unstacked_imported",
            ),
            (
                Filter {
                    make: Some("Canon".into()),
                    ..Filter::default()
                },
                GridSort::CaptureDate,
                "assets_capture_date",
            ),
            (
                Filter {
                    make: Some("Canon".into()),
                    ..Filter::default()
                },
                GridSort::ImportDate,
                "assets_imported_at",
            ),
            (
                Filter {
                    license_tag: Some("CC-BY-4.0".into()),
                    ..Filter::default()
                },
                GridSort::CaptureDate,
                "assets_license_capture",
            ),
            (
                Filter {
                    license_tag: Some("CC-BY-4.0".into()),
                    ..Filter::default()
                },
                GridSort::ImportDate,
                "assets_license_imported",
            ),
            (
                Filter {
                    state: Some("pending".into()),
                    ..Filter::default()
                },
                GridSort::CaptureDate,
                "assets_state_capture",
            ),
            (
                Filter {
                    state: Some("pending".into()),
                    ..Filter::default()
                },
                GridSort::ImportDate,
                "assets_state_imported",
            ),
        ] {
            for (offset, total) in [(0, None), (900, Some(1000))] {
                let query = GridQuery {
                    filter: filter.clone(),
                    sort,
                    offset,
                    limit: 50,
                    total,
                    ..GridQuery::default()
                };
                let plan = plan(&query, index.contains("unstacked"));
                assert!(plan.contains(index), "{sort:?} {filter:?}: {plan}");
                // The index gives the order: no sort of the whole selection.
                let inner = plan
                    .lines()
                    .take_while(|l| !l.contains("SCAN p"))
                    .collect::<Vec<_>>();
                assert!(
                    !inner.iter().any(|l| l.contains("TEMP B-TREE")),
                    "{sort:?} {filter:?}: {plan}"
                );
            }
        }
    }

    /// The asset ids of `query`'s page in a catalog of seven assets, where
    /// 2 and 3 are stacked under 1 and 6 under 5.
    fn page(query: &GridQuery) -> Vec<String> {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        crate::catalog::migrations::migrate(&mut conn, std::path::Path::new(":memory:")).unwrap();
        for id in 1..=7 {
            conn.execute(
                "INSERT INTO assets (id, asset_id, checksum, size_bytes, media_type,
                    capture_date, imported_at, rights)
                 VALUES (?1, 'a' || ?1, ?1, 1, 'image/jpeg', '2026-01-0' || ?1,
                    '2026-01-01T00:00:00Z', '{}')",
                [id],
            )
            .unwrap();
        }
        let kind = crate::catalog::stacks::StackKind::Burst;
        crate::catalog::stacks::stack(&conn, 1, &[2, 3], kind, "t").unwrap();
        crate::catalog::stacks::stack(&conn, 5, &[6], kind, "t").unwrap();
        let fold = folds(&conn, &query.filter, query.stack.as_deref()).unwrap();
        let (sql, args) = page_sql(query, fold);
        let mut stmt = conn.prepare(&sql).unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                Ok(format!(
                    "{}:{}",
                    r.get::<_, String>(0)?,
                    r.get::<_, u32>(11)?
                ))
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    #[test]
    fn the_library_shows_one_cell_per_stack_and_an_open_stack_shows_its_assets() {
        let all = GridQuery {
            limit: 50,
            ..GridQuery::default()
        };
        // Newest capture first; each stack as its top, with its count.
        assert_eq!(page(&all), ["a7:0", "a5:2", "a4:0", "a1:3"]);
        // A filter shows every asset it matches.
        let filtered = GridQuery {
            filter: Filter {
                media_type: Some("image".into()),
                ..Filter::default()
            },
            ..all.clone()
        };
        assert_eq!(page(&filtered).len(), 7);
        // An open stack, named by any member: the top first.
        for key in ["a1", "a3"] {
            let open = GridQuery {
                stack: Some(key.into()),
                ..all.clone()
            };
            assert_eq!(page(&open), ["a1:3", "a2:0", "a3:0"]);
        }
        // Its last page found from the end keeps the order.
        let tail = GridQuery {
            stack: Some("a2".into()),
            offset: 2,
            limit: 1,
            total: Some(3),
            ..all.clone()
        };
        assert_eq!(page(&tail), ["a3:0"]);
        let alone = GridQuery {
            stack: Some("a7".into()),
            ..all
        };
        assert_eq!(page(&alone), ["a7:0"]);
    }

    fn at(offset: u32, limit: u32, total: Option<u32>) -> Window {
        window(&GridQuery {
            offset,
            limit,
            total,
            ..GridQuery::default()
        })
    }

    #[test]
    fn pages_past_the_middle_are_found_from_the_end() {
        let from_start = |offset, limit| Window {
            offset,
            limit,
            from_end: false,
        };
        let from_end = |offset, limit| Window {
            offset,
            limit,
            from_end: true,
        };
        // Without a count, or in the first half, from the start.
        assert_eq!(at(900, 50, None), from_start(900, 50));
        assert_eq!(at(500, 50, Some(1000)), from_start(500, 50));
        // The last full page skips nothing from the end.
        assert_eq!(at(950, 50, Some(1000)), from_end(0, 50));
        assert_eq!(at(700, 50, Some(1000)), from_end(250, 50));
        // A short last page takes only what is there.
        assert_eq!(at(980, 50, Some(1000)), from_end(0, 20));
        // Past the end: the empty answer by position, as without a count.
        assert_eq!(at(1000, 50, Some(1000)), from_start(1000, 50));
        // The limit is capped either way.
        assert_eq!(at(0, 5000, Some(10)).limit, GridQuery::MAX_LIMIT);
        assert_eq!(
            at(600_000, 5000, Some(1_000_000)),
            from_end(399_000, GridQuery::MAX_LIMIT)
        );
    }

    #[test]
    fn file_name_takes_the_last_component() {
        assert_eq!(file_name("/a/b/c.jpg"), "c.jpg");
        assert_eq!(file_name(r"C:\x\y.png"), "y.png");
        assert_eq!(file_name("plain"), "plain");
    }
}
