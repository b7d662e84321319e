//! The PostgreSQL side of accounts and publishers' keys: an account known
//! by the SHA-256 of its bearer token, and the ed25519 keys a publisher
//! registers. Each function runs inside the transaction
//! [`super::PostgresRecords`] hands it.
//!
//! A name and a key id are each unique in their table; the inserts say
//! `ON CONFLICT DO NOTHING`, and a row already there (of another process,
//! say) is answered as the SQLite side answers it: the name is taken, or
//! the key is the publisher's already or another's.

use assay_market_proto::Role;
use tokio_postgres::Row;

use super::values::text;
use super::{conflict, corrupt, execute, first, get, rows, Tx};
use crate::clock;
use crate::rate_limit::Bucket;
use crate::records::{Account, AccountId, Insert, RecordsError, Result, StoredKey};

fn account(row: &Row) -> Result<Account> {
    let role: String = get(row, 2)?;
    Ok(Account {
        id: get(row, 0)?,
        name: get(row, 1)?,
        role: role
            .parse()
            .map_err(|e| corrupt(format!("accounts.role: {e}")))?,
        created_at: get(row, 3)?,
    })
}

fn key(row: &Row, start: usize) -> Result<StoredKey> {
    let key_id: String = get(row, start)?;
    let public_key: Vec<u8> = get(row, start + 1)?;
    let public_key = <[u8; 32]>::try_from(public_key.as_slice())
        .map_err(|_| corrupt(format!("publisher_keys {key_id}: not a 32-byte key")))?;
    Ok(StoredKey {
        key_id,
        public_key,
        created_at: get(row, start + 2)?,
    })
}

pub(super) async fn add(
    tx: &Tx<'_>,
    name: &str,
    role: Role,
    token_sha256: &[u8; 32],
) -> Result<Account> {
    let created_at = clock::timestamp();
    let token: &[u8] = token_sha256;
    let inserted = first(
        tx,
        "INSERT INTO accounts (name, role, token_sha256, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING RETURNING id",
        &[
            &text(name),
            &text(role.as_str()),
            &token,
            &text(&created_at),
        ],
    )
    .await?;
    let Some(row) = inserted else {
        return Err(RecordsError::NameTaken(name.to_owned()));
    };
    Ok(Account {
        id: get(&row, 0)?,
        name: name.to_owned(),
        role,
        created_at,
    })
}

pub(super) async fn set_token(tx: &Tx<'_>, name: &str, token_sha256: &[u8; 32]) -> Result<Account> {
    let token: &[u8] = token_sha256;
    let updated = first(
        tx,
        "UPDATE accounts SET token_sha256 = $1 WHERE name = $2
         RETURNING id, name, role, created_at",
        &[&token, &text(name)],
    )
    .await?;
    match updated {
        Some(row) => account(&row),
        None => Err(RecordsError::Missing {
            what: "account",
            id: name.to_owned(),
        }),
    }
}

pub(super) async fn by_token(tx: &Tx<'_>, token_sha256: &[u8; 32]) -> Result<Option<Account>> {
    let token: &[u8] = token_sha256;
    first(
        tx,
        "SELECT id, name, role, created_at FROM accounts WHERE token_sha256 = $1",
        &[&token],
    )
    .await?
    .map(|row| account(&row))
    .transpose()
}

pub(super) async fn add_key(
    tx: &Tx<'_>,
    account: AccountId,
    key_id: &str,
    public_key: &[u8; 32],
) -> Result<Insert<StoredKey>> {
    let created_at = clock::timestamp();
    let bytes: &[u8] = public_key;
    let inserted = first(
        tx,
        "INSERT INTO publisher_keys (key_id, account, public_key, created_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (key_id) DO NOTHING RETURNING seq",
        &[&text(key_id), &account, &bytes, &text(&created_at)],
    )
    .await?;
    if inserted.is_some() {
        return Ok(Insert::New(StoredKey {
            key_id: key_id.to_owned(),
            public_key: *public_key,
            created_at,
        }));
    }
    // Nothing inserted: the key is there, in this transaction's snapshot
    // (one committed since would have been a serialization failure).
    let row = first(
        tx,
        "SELECT account, key_id, public_key, created_at FROM publisher_keys WHERE key_id = $1",
        &[&text(key_id)],
    )
    .await?
    .ok_or_else(|| conflict(format!("publisher key {key_id}")))?;
    let owner: AccountId = get(&row, 0)?;
    let stored = key(&row, 1)?;
    if owner != account || stored.public_key != *public_key {
        return Err(RecordsError::KeyRegisteredElsewhere(key_id.to_owned()));
    }
    Ok(Insert::Existing(stored))
}

pub(super) async fn keys(tx: &Tx<'_>, account: AccountId) -> Result<Vec<StoredKey>> {
    rows(
        tx,
        "SELECT key_id, public_key, created_at FROM publisher_keys WHERE account = $1 ORDER BY seq",
        &[&account],
    )
    .await?
    .iter()
    .map(|row| key(row, 0))
    .collect()
}

/// Takes a token from `account`'s rate bucket (a full one when it has
/// none yet), storing what is left; the row is locked until the write
/// commits, so processes take their turns.
pub(super) async fn take_token(
    tx: &Tx<'_>,
    account: AccountId,
    per_minute: u32,
    now_ms: i64,
) -> Result<Option<u64>> {
    let stored = first(
        tx,
        "SELECT tokens, at_ms FROM rate_buckets WHERE account = $1 FOR UPDATE",
        &[&account],
    )
    .await?;
    let bucket = match stored {
        Some(row) => Bucket {
            tokens: get(&row, 0)?,
            at_ms: get(&row, 1)?,
        },
        None => Bucket::full(per_minute, now_ms),
    };
    let (after, wait) = bucket.take(per_minute, now_ms);
    execute(
        tx,
        "INSERT INTO rate_buckets (account, tokens, at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (account) DO UPDATE SET tokens = excluded.tokens, at_ms = excluded.at_ms",
        &[&account, &after.tokens, &after.at_ms],
    )
    .await?;
    Ok(wait)
}

/// The secret named `name`: the one stored, or `fresh`, stored now.
pub(super) async fn server_secret(tx: &Tx<'_>, name: &str, fresh: &[u8; 32]) -> Result<[u8; 32]> {
    execute(
        tx,
        "INSERT INTO server_secrets (name, secret) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[&text(name), &fresh.to_vec()],
    )
    .await?;
    let row = first(
        tx,
        "SELECT secret FROM server_secrets WHERE name = $1",
        &[&text(name)],
    )
    .await?
    .ok_or_else(|| corrupt(format!("server_secrets: {name} was stored and is gone")))?;
    let secret: Vec<u8> = get(&row, 0)?;
    <[u8; 32]>::try_from(secret.as_slice())
        .map_err(|_| corrupt(format!("server_secrets: {name} is not 32 bytes")))
}
