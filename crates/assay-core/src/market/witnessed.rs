//! The checkpoint a market last witnessed for this library, kept in the
//! library folder beside the library's own (`checkpoints/witnessed-MARKET.json`),
//! so `verify --provenance --market NAME` checks the catalog against what
//! the market saw.

use std::path::{Path, PathBuf};

use serde_json::Value;

use assay_fsio::atomic;

use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::formats::canonical::canonical_json;
use crate::market::sync::check_market_name;
use crate::provenance::checkpoint::CHECKPOINTS_DIR;

impl Library {
    /// Keeps the checkpoint a market witnessed as
    /// `checkpoints/witnessed-MARKET.json`, with the heads list of the
    /// library's own copy of it beside it where the folder still holds one
    /// (so verification against it can name what changed), and returns
    /// its path. Never one of the numbered checkpoints the library writes.
    pub fn keep_witnessed(&self, market: &str, checkpoint: &Value) -> Result<PathBuf> {
        check_market_name(market)?;
        let dir = self.root().join(CHECKPOINTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let bytes = canonical_json(checkpoint);
        let path = dir.join(format!("witnessed-{market}.json"));
        let heads = path.with_extension("heads");
        match own_copy(self, &dir, &bytes)? {
            Some(own) => {
                let text = std::fs::read(&own).map_err(|e| Error::io(&own, e))?;
                atomic::write(&heads, &text).map_err(|e| Error::io(&heads, e))?;
            }
            None => match std::fs::remove_file(&heads) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Error::io(&heads, e))
                }
                _ => {}
            },
        }
        atomic::write(&path, &bytes).map_err(|e| Error::io(&path, e))?;
        Ok(path)
    }
}

/// The heads list of the library's own checkpoint whose bytes are `bytes`,
/// found by the catalog's copy of each checkpoint (the list's digest is
/// checked against the checkpoint when it is used).
fn own_copy(library: &Library, dir: &Path, bytes: &[u8]) -> Result<Option<PathBuf>> {
    use rusqlite::OptionalExtension;
    let number: Option<i64> = library
        .connect()?
        .query_row(
            "SELECT number FROM checkpoints WHERE body = ?1",
            [String::from_utf8_lossy(bytes)],
            |r| r.get(0),
        )
        .optional()?;
    Ok(number
        .map(|n| dir.join(format!("{n:08}.heads")))
        .filter(|heads| heads.is_file()))
}
