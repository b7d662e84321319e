//! Pages of the library grid: the few columns a thumbnail cell shows, read
//! by position so a virtualized grid can jump anywhere in a million assets.

use serde::{Deserialize, Serialize};

use crate::catalog::{where_clause, Filter};
use crate::error::Result;
use crate::library::Library;

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
}

impl Library {
    /// One page of the assets `query.filter` matches, in `query.sort` order.
    pub fn grid_page(&self, query: &GridQuery) -> Result<Vec<GridItem>> {
        let conn = self.connect()?;
        let (clause, mut args) = where_clause(&query.filter);
        let order = match query.sort {
            // NULL sorts below every date, so undated assets come last, and
            // the order is the capture-date index read backwards: no sort.
            GridSort::CaptureDate => "a.capture_date DESC, a.id DESC",
            GridSort::ImportDate => "a.imported_at DESC, a.id DESC",
        };
        args.push(query.limit.min(GridQuery::MAX_LIMIT).to_string());
        args.push(query.offset.to_string());
        let (limit, offset) = (args.len() - 1, args.len());
        // The page's ids are found first and its columns read after, so
        // skipping to a deep page walks the index without reading rows.
        // CROSS JOIN keeps the page as the outer loop: SQLite never reorders
        // it, and otherwise may scan every asset looking for the page's ids.
        let sql = format!(
            "SELECT asset_id, title, media_type, capture_date, imported_at,
                    json_extract(rights, '$.license_tag'), workflow_state, thumbnail,
                    json_array_length(warnings),
                    (SELECT path_text FROM locations l WHERE l.asset = a.id ORDER BY l.id LIMIT 1),
                    EXISTS (SELECT 1 FROM locations l WHERE l.asset = a.id AND l.status != 'present')
             FROM (SELECT id FROM assets a{clause} ORDER BY {order} LIMIT ?{limit} OFFSET ?{offset}) p
             CROSS JOIN assets a ON a.id = p.id
             ORDER BY {order}"
        );
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
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// How many assets `filter` matches: the grid's scroll height.
    pub fn grid_count(&self, filter: &Filter) -> Result<u64> {
        let conn = self.connect()?;
        let (clause, args) = where_clause(filter);
        let sql = format!("SELECT count(*) FROM assets a{clause}");
        let n: i64 = conn.query_row(&sql, rusqlite::params_from_iter(args.iter()), |r| r.get(0))?;
        Ok(n as u64)
    }
}

/// The last component of a displayed path, whichever separator it uses.
fn file_name(path: &str) -> String {
    path.rsplit(['/', '\\']).next().unwrap_or(path).to_owned()
}

#[cfg(test)]
mod tests {
    use super::file_name;

    #[test]
    fn file_name_takes_the_last_component() {
        assert_eq!(file_name("/a/b/c.jpg"), "c.jpg");
        assert_eq!(file_name(r"C:\x\y.png"), "y.png");
        assert_eq!(file_name("plain"), "plain");
    }
}
