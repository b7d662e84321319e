//! The PostgreSQL side of witnessed checkpoints: one row per checkpoint
//! the market countersigned, the newest of each library being what the
//! next must extend.

use tokio_postgres::Row;

use super::values::text;
use super::{first, get, one, to_i64, Tx};
use crate::records::{AccountId, NewWitnessed, RecordsError, Result, WitnessedRecord};

const COLUMNS: &str = "seq, account, library, checkpoint, witness, witnessed_at";

fn record(row: &Row) -> Result<WitnessedRecord> {
    Ok(WitnessedRecord {
        seq: get(row, 0)?,
        account: get(row, 1)?,
        library: get(row, 2)?,
        checkpoint: get(row, 3)?,
        witness: get(row, 4)?,
        witnessed_at: get(row, 5)?,
    })
}

pub(super) async fn latest(
    tx: &Tx<'_>,
    account: AccountId,
    library: Option<&str>,
) -> Result<Option<WitnessedRecord>> {
    let found = match library {
        Some(library) => {
            first(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM witnessed_checkpoints WHERE account = $1 AND library = $2
                     ORDER BY seq DESC LIMIT 1"
                ),
                &[&account, &text(library)],
            )
            .await?
        }
        None => {
            first(
                tx,
                &format!(
                    "SELECT {COLUMNS} FROM witnessed_checkpoints WHERE account = $1
                     ORDER BY seq DESC LIMIT 1"
                ),
                &[&account],
            )
            .await?
        }
    };
    found.map(|row| record(&row)).transpose()
}

/// The compare-and-set: the check and the insert in one serializable
/// write. Of two syncs (in one process or two) checked against the same
/// latest, both read it and both insert; the one to commit second fails
/// to serialise, runs again, finds the first's checkpoint latest and is
/// refused ([`RecordsError::WitnessMoved`]).
pub(super) async fn add(
    tx: &Tx<'_>,
    new: &NewWitnessed,
    after: Option<i64>,
) -> Result<WitnessedRecord> {
    let now = latest(tx, new.account, Some(&new.library))
        .await?
        .map(|r| r.seq);
    if now != after {
        return Err(RecordsError::WitnessMoved(new.library.clone()));
    }
    let inserted = one(
        tx,
        "INSERT INTO witnessed_checkpoints
           (account, library, events_size, checkpoint, witness, witnessed_at)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq",
        &[
            &new.account,
            &text(&new.library),
            &to_i64(new.events_size)?,
            &new.checkpoint,
            &new.witness,
            &text(&new.witnessed_at),
        ],
    )
    .await?;
    Ok(WitnessedRecord {
        seq: get(&inserted, 0)?,
        account: new.account,
        library: new.library.clone(),
        checkpoint: new.checkpoint.clone(),
        witness: new.witness.clone(),
        witnessed_at: new.witnessed_at.clone(),
    })
}
