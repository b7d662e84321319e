//! The SQLite side of witnessed checkpoints: one row per checkpoint the
//! market countersigned, the newest of each library being what the next
//! must extend.

use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::stored::to_i64;
use super::{AccountId, NewWitnessed, RecordsError, Result, WitnessedRecord};

const COLUMNS: &str = "seq, account, library, checkpoint, witness, witnessed_at";

fn record(r: &Row) -> rusqlite::Result<WitnessedRecord> {
    Ok(WitnessedRecord {
        seq: r.get(0)?,
        account: r.get(1)?,
        library: r.get(2)?,
        checkpoint: r.get(3)?,
        witness: r.get(4)?,
        witnessed_at: r.get(5)?,
    })
}

pub(super) fn latest(
    conn: &Connection,
    account: AccountId,
    library: Option<&str>,
) -> Result<Option<WitnessedRecord>> {
    let found = match library {
        Some(library) => conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM witnessed_checkpoints WHERE account = ?1 AND library = ?2
                     ORDER BY seq DESC LIMIT 1"
                ),
                params![account, library],
                record,
            )
            .optional()?,
        None => conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS} FROM witnessed_checkpoints WHERE account = ?1
                     ORDER BY seq DESC LIMIT 1"
                ),
                [account],
                record,
            )
            .optional()?,
    };
    Ok(found)
}

pub(super) fn add(
    tx: &Transaction,
    new: NewWitnessed,
    after: Option<i64>,
) -> Result<WitnessedRecord> {
    // The check and the insert in one immediate transaction: of two syncs
    // checked against the same latest, only the first is recorded.
    let now = latest(tx, new.account, Some(&new.library))?.map(|r| r.seq);
    if now != after {
        return Err(RecordsError::WitnessMoved(new.library));
    }
    tx.execute(
        "INSERT INTO witnessed_checkpoints
           (account, library, events_size, checkpoint, witness, witnessed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            new.account,
            new.library,
            to_i64(new.events_size)?,
            new.checkpoint,
            new.witness,
            new.witnessed_at
        ],
    )?;
    Ok(WitnessedRecord {
        seq: tx.last_insert_rowid(),
        account: new.account,
        library: new.library,
        checkpoint: new.checkpoint,
        witness: new.witness,
        witnessed_at: new.witnessed_at,
    })
}
