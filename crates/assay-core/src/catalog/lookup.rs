//! Reading the library: one asset's record, a filtered list, how many.

use crate::catalog::assets::{self, Filter};
use crate::catalog::library::Library;
use crate::catalog::record::AssetRecord;
use crate::error::Result;

impl Library {
    /// The full record of the asset `key` names: an `asset_id` (or an
    /// unambiguous prefix of one), a checksum, or the path of a location.
    pub fn record(&self, key: &str) -> Result<AssetRecord> {
        let conn = self.connect()?;
        let id = assets::resolve(&conn, key)?;
        assets::record(&conn, self.root(), id)
    }

    /// Every asset matching `filter`, oldest capture first.
    pub fn list(&self, filter: &Filter) -> Result<Vec<AssetRecord>> {
        let conn = self.connect()?;
        assets::list(&conn, self.root(), filter)
    }

    /// How many assets the library holds, stacked ones included.
    pub fn asset_count(&self) -> Result<u64> {
        let conn = self.connect()?;
        let n: i64 = conn.query_row("SELECT count(*) FROM assets", [], |r| r.get(0))?;
        Ok(n as u64)
    }
}
