//! The SQLite side of accounts and publishers' keys: an account known by
//! the SHA-256 of its bearer token, and the ed25519 keys a publisher
//! registers. Each function runs inside the transaction or on the
//! connection [`super::SqliteRecords`] hands it.

use assay_market_proto::Role;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use super::stored::corrupt;
use super::{Account, AccountId, Insert, RecordsError, Result, StoredKey};
use crate::clock;
use crate::rate_limit::Bucket;

fn role(text: &str) -> Result<Role> {
    text.parse()
        .map_err(|e| corrupt(format!("accounts.role: {e}")))
}

fn account(r: &Row) -> rusqlite::Result<(AccountId, String, String, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn into_account(
    (id, name, role_text, created_at): (AccountId, String, String, String),
) -> Result<Account> {
    Ok(Account {
        id,
        name,
        role: role(&role_text)?,
        created_at,
    })
}

fn key(r: &Row) -> rusqlite::Result<(String, Vec<u8>, String)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
}

fn into_key((key_id, public_key, created_at): (String, Vec<u8>, String)) -> Result<StoredKey> {
    let public_key = <[u8; 32]>::try_from(public_key.as_slice())
        .map_err(|_| corrupt(format!("publisher_keys {key_id}: not a 32-byte key")))?;
    Ok(StoredKey {
        key_id,
        public_key,
        created_at,
    })
}

pub(super) fn add(
    tx: &Transaction,
    name: &str,
    role: Role,
    token_sha256: &[u8; 32],
) -> Result<Account> {
    let taken = tx
        .query_row("SELECT 1 FROM accounts WHERE name = ?1", [name], |_| Ok(()))
        .optional()?;
    if taken.is_some() {
        return Err(RecordsError::NameTaken(name.to_owned()));
    }
    let created_at = clock::timestamp();
    tx.execute(
        "INSERT INTO accounts (name, role, token_sha256, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![name, role.as_str(), &token_sha256[..], created_at],
    )?;
    Ok(Account {
        id: tx.last_insert_rowid(),
        name: name.to_owned(),
        role,
        created_at,
    })
}

pub(super) fn set_token(tx: &Transaction, name: &str, token_sha256: &[u8; 32]) -> Result<Account> {
    let changed = tx.execute(
        "UPDATE accounts SET token_sha256 = ?1 WHERE name = ?2",
        params![&token_sha256[..], name],
    )?;
    if changed == 0 {
        return Err(RecordsError::Missing {
            what: "account",
            id: name.to_owned(),
        });
    }
    tx.query_row(
        "SELECT id, name, role, created_at FROM accounts WHERE name = ?1",
        [name],
        account,
    )
    .map_err(RecordsError::from)
    .and_then(into_account)
}

pub(super) fn by_token(conn: &Connection, token_sha256: &[u8; 32]) -> Result<Option<Account>> {
    conn.query_row(
        "SELECT id, name, role, created_at FROM accounts WHERE token_sha256 = ?1",
        [&token_sha256[..]],
        account,
    )
    .optional()?
    .map(into_account)
    .transpose()
}

pub(super) fn add_key(
    tx: &Transaction,
    account: AccountId,
    key_id: &str,
    public_key: &[u8; 32],
) -> Result<Insert<StoredKey>> {
    let existing = tx
        .query_row(
            "SELECT account, key_id, public_key, created_at FROM publisher_keys WHERE key_id = ?1",
            [key_id],
            |r| Ok((r.get::<_, AccountId>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?))),
        )
        .optional()?;
    if let Some((owner, columns)) = existing {
        let stored = into_key(columns)?;
        if owner != account || stored.public_key != *public_key {
            return Err(RecordsError::KeyRegisteredElsewhere(key_id.to_owned()));
        }
        return Ok(Insert::Existing(stored));
    }
    let created_at = clock::timestamp();
    tx.execute(
        "INSERT INTO publisher_keys (key_id, account, public_key, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![key_id, account, &public_key[..], created_at],
    )?;
    Ok(Insert::New(StoredKey {
        key_id: key_id.to_owned(),
        public_key: *public_key,
        created_at,
    }))
}

pub(super) fn keys(conn: &Connection, account: AccountId) -> Result<Vec<StoredKey>> {
    let mut stmt = conn.prepare(
        "SELECT key_id, public_key, created_at FROM publisher_keys WHERE account = ?1 ORDER BY rowid",
    )?;
    let rows = stmt
        .query_map([account], key)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter().map(into_key).collect()
}

/// Takes a token from `account`'s rate bucket (a full one when it has
/// none yet), storing what is left.
pub(super) fn take_token(
    tx: &Transaction,
    account: AccountId,
    per_minute: u32,
    now_ms: i64,
) -> Result<Option<u64>> {
    let stored = tx
        .query_row(
            "SELECT tokens, at_ms FROM rate_buckets WHERE account = ?1",
            params![account],
            |r| {
                Ok(Bucket {
                    tokens: r.get(0)?,
                    at_ms: r.get(1)?,
                })
            },
        )
        .optional()?;
    let bucket = stored.unwrap_or_else(|| Bucket::full(per_minute, now_ms));
    let (after, wait) = bucket.take(per_minute, now_ms);
    tx.execute(
        "INSERT INTO rate_buckets (account, tokens, at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (account) DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms",
        params![account, after.tokens, after.at_ms],
    )?;
    Ok(wait)
}
