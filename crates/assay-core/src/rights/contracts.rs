//! Contracts the library holds: the signed agreements assets cite by
//! `signed_contract_id`, kept so an audit package can carry them. A contract
//! is evidence, so it is never replaced: its bytes are stored once under
//! their SHA-256 in `contracts/`, and an id, once held, keeps its file.

use std::path::{Path, PathBuf};

use assay_fsio::atomic;
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;

pub(crate) const CONTRACTS_DIR: &str = "contracts";
/// Contract ids become folder names in audit packages.
const ID_RULE: &str = "1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contract {
    pub contract_id: String,
    pub file_name: String,
    pub checksum: String,
    pub size_bytes: u64,
    pub added_at: String,
    pub added_by: Option<String>,
}

impl Library {
    /// Keeps a copy of the contract at `file` under `contract_id`
    /// (rights managers). The original is only read.
    pub fn add_contract(&self, actor: &Actor, contract_id: &str, file: &Path) -> Result<Contract> {
        actor.may(Action::TransferRights)?;
        if !valid_id(contract_id) {
            return Err(Error::invalid_name(
                "contract",
                format!("contract id {contract_id:?}: use {ID_RULE}"),
            ));
        }
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| Error::bad_file(file, format!("{}: not a file", file.display())))?;
        let bytes = std::fs::read(file).map_err(|e| Error::io(file, e))?;
        if bytes.is_empty() {
            return Err(Error::bad_file(
                file,
                format!(
                    "{}: the file is empty; a contract needs its signed document",
                    file.display()
                ),
            ));
        }
        let hex = hex::encode(Sha256::digest(&bytes));
        let conn = self.connect()?;
        if let Some(held) = contract(&conn, contract_id)? {
            return Err(Error::refused(
                "contracts-immutable",
                format!(
                    "contract {contract_id} is already held ({}, {}); a contract is never replaced",
                    held.file_name, held.checksum
                ),
            ));
        }
        let dir = self.root().join(CONTRACTS_DIR);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let stored = dir.join(&hex);
        if !stored.exists() {
            atomic::write(&stored, &bytes).map_err(|e| Error::io(&stored, e))?;
        }
        let added = Contract {
            contract_id: contract_id.to_owned(),
            file_name,
            checksum: format!("sha256:{hex}"),
            size_bytes: bytes.len() as u64,
            added_at: now(),
            added_by: Some(actor.name().to_owned()),
        };
        conn.execute(
            "INSERT INTO contracts (contract_id, file_name, checksum, size_bytes, added_at, added_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![
                added.contract_id,
                added.file_name,
                added.checksum,
                added.size_bytes as i64,
                added.added_at,
                actor.id
            ],
        )?;
        Ok(added)
    }

    /// Every contract the library holds, by id.
    pub fn contracts(&self) -> Result<Vec<Contract>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY c.contract_id"))?;
        let rows = stmt.query_map([], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

const SELECT: &str =
    "SELECT c.contract_id, c.file_name, c.checksum, c.size_bytes, c.added_at, u.name
     FROM contracts c LEFT JOIN users u ON u.id = c.added_by";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Contract> {
    Ok(Contract {
        contract_id: r.get(0)?,
        file_name: r.get(1)?,
        checksum: r.get(2)?,
        size_bytes: r.get::<_, i64>(3)?.try_into().unwrap_or(0),
        added_at: r.get(4)?,
        added_by: r.get(5)?,
    })
}

/// The contract held under `id`, if any.
pub(crate) fn contract(conn: &Connection, id: &str) -> Result<Option<Contract>> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE c.contract_id = ?1"), [id], row)
        .optional()?)
}

/// Where the library keeps a held contract's bytes.
pub(crate) fn stored_path(root: &Path, contract: &Contract) -> PathBuf {
    let hex = contract
        .checksum
        .strip_prefix("sha256:")
        .unwrap_or(&contract.checksum);
    root.join(CONTRACTS_DIR).join(hex)
}

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    id.len() <= 128
        && chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::valid_id;

    #[test]
    fn contract_ids_are_safe_folder_names() {
        for ok in ["K-1", "2026.contract_7", "a"] {
            assert!(valid_id(ok), "{ok}");
        }
        for bad in [
            "",
            "..",
            ".hidden",
            "a/b",
            "a b",
            "-x",
            &"k".repeat(129),
            "é",
        ] {
            assert!(!valid_id(bad), "{bad}");
        }
    }
}
