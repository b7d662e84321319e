//! Who may sign, recorded so that nobody who can write `library.db` can
//! change it unseen: the identity ledger, a hash chain of signed events of
//! its own beside the assets' chains.
//!
//! The first event is the library's root: its first administrator, signed
//! by that administrator's own key (and the library's key, when the library
//! already had one, pinned by its id). Every later event grants a user a
//! role and a public key, signed by an administrator the ledger already
//! grants. Each body is canonical JSON (as provenance events are):
//!
//! ```json
//! {"v":1,"seq":2,"kind":"add_user","at":"2026-…Z",
//!  "actor":{"user":"ada","role":"admin","key_id":"ed25519:…"},
//!  "prev":"sha256:<hash of event 1>",
//!  "data":{"user":"cy","role":"creator","key_id":"ed25519:…","public_key":"<hex>"}}
//! ```
//!
//! Verification derives every signer from these events alone ([`replay`]);
//! the `users` table is only compared with them, so a user planted in the
//! catalog, a changed role or a swapped public key is named as such. A
//! library made before the ledger existed gets its events once, when its
//! first administrator next unlocks their key (their signature is needed),
//! each marked `backfilled` with the user's original creation time.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::catalog::assets::now;
use crate::error::{Error, Result};
use crate::formats::canonical::canonical_json;
use crate::identity::keys::{self, PreparedKey};
use crate::identity::roles::Role;

const VERSION: u64 = 1;
const ROOT: &str = "root";
const ADD_USER: &str = "add_user";
const CHANGE_ROLE: &str = "change_role";
const ROTATE_KEY: &str = "rotate_key";
const REVOKE: &str = "revoke";

/// One span of a user's standing: a role and a key, from the event that
/// granted them until the event that ended them (a role changed, a key
/// rotated, the user revoked), if one did.
#[derive(Debug, Clone)]
pub(crate) struct Standing {
    pub role: Role,
    pub key_id: String,
    pub key: VerifyingKey,
    /// When the span ended, and what ended it.
    pub until: Option<(String, &'static str)>,
}

/// Who may sign, as the ledger's events say: each user's standings, oldest
/// first; the last is current unless it ended.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    pub users: HashMap<String, Vec<Standing>>,
    /// The library's own key, when the root pinned one.
    pub library_key_id: Option<String>,
    /// Events replayed, and the hash of the last.
    pub len: i64,
    pub head: Option<String>,
}

/// Who signs a ledger event: an administrator's name, role and key.
pub(crate) struct Signer<'a> {
    pub user: &'a str,
    pub role: Role,
    pub key: &'a PreparedKey,
}

/// A user a ledger event grants.
pub(crate) struct Granted<'a> {
    pub user: &'a str,
    pub role: Role,
    pub key: &'a VerifyingKey,
    /// For a backfilled event: when the catalog says the user was added.
    pub backfilled_since: Option<&'a str>,
}

/// Records the library's root: its first administrator, who signs it.
pub(crate) fn record_root(
    tx: &Transaction,
    admin: &Signer,
    library_key: Option<&VerifyingKey>,
    backfilled_since: Option<&str>,
) -> Result<()> {
    let mut data = grant_data(&Granted {
        user: admin.user,
        role: admin.role,
        key: admin.key.verifying_key(),
        backfilled_since,
    });
    if let Some(key) = library_key {
        data["library_key_id"] = json!(keys::key_id(key).to_string());
    }
    append(tx, ROOT, admin, data)
}

/// Records that `admin` granted `user` its role and key.
pub(crate) fn record_grant(tx: &Transaction, admin: &Signer, user: &Granted) -> Result<()> {
    append(tx, ADD_USER, admin, grant_data(user))
}

/// Records that `admin` gave `user` the role `role` from now on.
pub(crate) fn record_role(tx: &Transaction, admin: &Signer, user: &str, role: Role) -> Result<()> {
    append(
        tx,
        CHANGE_ROLE,
        admin,
        json!({"user": user, "role": role.as_str()}),
    )
}

/// Records that `user` signs with `key` from now on; their old key signs
/// nothing after this.
pub(crate) fn record_key(
    tx: &Transaction,
    admin: &Signer,
    user: &str,
    key: &VerifyingKey,
) -> Result<()> {
    append(
        tx,
        ROTATE_KEY,
        admin,
        json!({
            "user": user,
            "key_id": keys::key_id(key).to_string(),
            "public_key": hex::encode(key.as_bytes()),
        }),
    )
}

/// Records that `user` signs nothing from now on.
pub(crate) fn record_revocation(tx: &Transaction, admin: &Signer, user: &str) -> Result<()> {
    append(tx, REVOKE, admin, json!({"user": user}))
}

/// Whether the ledger has any event.
pub(crate) fn exists(conn: &Connection) -> Result<bool> {
    Ok(
        conn.query_row("SELECT EXISTS (SELECT 1 FROM identity_events)", [], |r| {
            r.get(0)
        })?,
    )
}

fn grant_data(user: &Granted) -> Value {
    let mut data = json!({
        "user": user.user,
        "role": user.role.as_str(),
        "key_id": keys::key_id(user.key).to_string(),
        "public_key": hex::encode(user.key.as_bytes()),
    });
    if let Some(since) = user.backfilled_since {
        data["backfilled"] = json!(true);
        data["since"] = json!(since);
    }
    data
}

fn append(tx: &Transaction, kind: &str, signer: &Signer, data: Value) -> Result<()> {
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM identity_events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev) = match head {
        Some((seq, hash)) => (seq + 1, Some(hash)),
        None => (1, None),
    };
    let key_id = keys::key_id(signer.key.verifying_key()).to_string();
    let body = canonical_json(&json!({
        "v": VERSION,
        "seq": seq,
        "kind": kind,
        "at": now(),
        "actor": {"user": signer.user, "role": signer.role.as_str(), "key_id": key_id},
        "prev": prev,
        "data": data,
    }));
    let digest: [u8; 32] = Sha256::digest(&body).into();
    let signature = signer.key.sign(&digest);
    tx.execute(
        "INSERT INTO identity_events (seq, kind, body, hash, signature, key_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            seq,
            kind,
            String::from_utf8_lossy(&body),
            format!("sha256:{}", hex::encode(digest)),
            signature.to_bytes().as_slice(),
            key_id
        ],
    )?;
    Ok(())
}

/// Replays the ledger from its root: every event's hash, link and signature,
/// and each signer's standing when it signed. The first problem ends it,
/// named by the event's number; what was granted before it is returned
/// with it.
pub(crate) fn replay(conn: &Connection) -> Result<(Ledger, Option<String>)> {
    let mut stmt =
        conn.prepare("SELECT seq, body, hash, signature FROM identity_events ORDER BY seq")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(replay_rows(rows))
}

/// [`replay`] over rows read elsewhere (an audit package carries them):
/// each event's number, body, hash and signature, in order.
pub(crate) fn replay_rows(
    rows: impl IntoIterator<Item = (i64, String, String, Vec<u8>)>,
) -> (Ledger, Option<String>) {
    let mut ledger = Ledger::default();
    for (seq, body, hash, signature) in rows {
        if let Err(problem) = ledger.apply(seq, &body, &hash, &signature) {
            return (ledger, Some(format!("identity event {seq}: {problem}")));
        }
    }
    (ledger, None)
}

impl Ledger {
    fn apply(&mut self, seq: i64, body: &str, hash: &str, signature: &[u8]) -> Result<(), String> {
        if seq != self.len + 1 {
            return Err(format!("follows event {}, so one is missing", self.len));
        }
        let value: Value = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
        if canonical_json(&value) != body.as_bytes() {
            return Err("not in canonical form".into());
        }
        let digest: [u8; 32] = Sha256::digest(body.as_bytes()).into();
        if hash != format!("sha256:{}", hex::encode(digest)) {
            return Err("its stored hash is not the hash of its body".into());
        }
        let text = |v: &Value, name: &str| -> Result<String, String> {
            v.get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("no {name}"))
        };
        if value.get("v").and_then(Value::as_u64) != Some(VERSION)
            || value.get("seq").and_then(Value::as_i64) != Some(seq)
        {
            return Err("its version or number is not what is stored".into());
        }
        let prev = value.get("prev").and_then(Value::as_str);
        if prev != self.head.as_deref() {
            return Err("does not link to the event before it".into());
        }
        let kind = text(&value, "kind")?;
        let at = text(&value, "at")?;
        let actor = value.get("actor").ok_or("no actor")?;
        let (signer, signer_role, signer_key_id) = (
            text(actor, "user")?,
            text(actor, "role")?,
            text(actor, "key_id")?,
        );
        let data = value.get("data").ok_or("no data")?;
        let user = text(data, "user")?;
        let role = || -> Result<Role, String> { text(data, "role")?.parse() };
        let public = || -> Result<(VerifyingKey, String), String> {
            let bytes = hex::decode(text(data, "public_key")?).map_err(|e| e.to_string())?;
            let key = <[u8; 32]>::try_from(bytes.as_slice())
                .ok()
                .and_then(|b| VerifyingKey::from_bytes(&b).ok())
                .ok_or("its public key is not an ed25519 key")?;
            let key_id = keys::key_id(&key).to_string();
            if text(data, "key_id")? != key_id {
                return Err("its key id is not its public key's".into());
            }
            Ok((key, key_id))
        };
        // The root is signed by the administrator it names; every other
        // event by an administrator the ledger grants at that point.
        let signing_key = if kind == ROOT {
            if seq != 1 {
                return Err("a second root".into());
            }
            let (key, key_id) = public()?;
            if role()? != Role::Admin || signer != user || signer_key_id != key_id {
                return Err("the root must be an administrator signing for themselves".into());
            }
            self.library_key_id = data
                .get("library_key_id")
                .and_then(Value::as_str)
                .map(str::to_owned);
            key
        } else {
            if seq == 1 {
                return Err("the ledger does not start with its root".into());
            }
            let standing = self
                .current(&signer)
                .ok_or_else(|| format!("signed by {signer:?}, whom the ledger does not grant"))?;
            if standing.role != Role::Admin || signer_role != "admin" {
                return Err(format!("signed by {signer:?}, who is not an administrator"));
            }
            if standing.key_id != signer_key_id {
                return Err(format!("signed by a key that is not {signer}'s"));
            }
            standing.key
        };
        let signature = Signature::from_slice(signature).map_err(|e| e.to_string())?;
        signing_key
            .verify_strict(&digest, &signature)
            .map_err(|_| "its signature does not verify".to_owned())?;
        match kind.as_str() {
            ROOT | ADD_USER => {
                if self.users.contains_key(&user) {
                    return Err(format!("grants {user:?} a second time"));
                }
                let (key, key_id) = public()?;
                let standing = Standing {
                    role: role()?,
                    key_id,
                    key,
                    until: None,
                };
                self.users.insert(user, vec![standing]);
            }
            CHANGE_ROLE | ROTATE_KEY | REVOKE => {
                let mut next = self
                    .current(&user)
                    .cloned()
                    .ok_or_else(|| format!("changes {user:?}, whom the ledger does not grant"))?;
                let ended_by = match kind.as_str() {
                    CHANGE_ROLE => {
                        next.role = role()?;
                        "a change of role"
                    }
                    ROTATE_KEY => {
                        (next.key, next.key_id) = public()?;
                        "a new key"
                    }
                    _ => "revocation",
                };
                let spans = self.users.entry(user).or_default();
                if let Some(last) = spans.last_mut() {
                    last.until = Some((at, ended_by));
                }
                if kind != REVOKE {
                    spans.push(next);
                }
            }
            other => return Err(format!("an unknown kind {other:?}")),
        }
        self.len = seq;
        self.head = Some(hash.to_owned());
        Ok(())
    }

    /// `name`'s current standing: the last span, unless it ended.
    pub(crate) fn current(&self, name: &str) -> Option<&Standing> {
        self.users
            .get(name)
            .and_then(|spans| spans.last())
            .filter(|s| s.until.is_none())
    }

    /// How the `users` table departs from the ledger: each user the catalog
    /// holds that the ledger does not grant, or grants another role or key.
    pub(crate) fn departures(&self, conn: &Connection) -> Result<Vec<String>> {
        let mut found = Vec::new();
        let mut stmt =
            conn.prepare("SELECT name, role, key_id, revoked_at FROM users ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (name, role, key_id): (String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?);
            let revoked = row.get::<_, Option<String>>(3)?.is_some();
            match self.current(&name) {
                None if self.users.contains_key(&name) && !revoked => found.push(format!(
                    "user {name:?} is active in the catalog, but the signed identity events revoked them"
                )),
                None if self.users.contains_key(&name) => {}
                None => found.push(format!(
                    "user {name:?} is in the catalog, but no signed identity event adds them"
                )),
                Some(_) if revoked => found.push(format!(
                    "user {name:?} is revoked in the catalog, but no signed identity event revoked them"
                )),
                Some(grant) if grant.role.as_str() != role => found.push(format!(
                    "user {name:?} is a {role} in the catalog, but the signed identity events make them a {}",
                    grant.role
                )),
                Some(grant) if grant.key_id != key_id => found.push(format!(
                    "user {name:?} has key {key_id} in the catalog, but the signed identity events grant {}",
                    grant.key_id
                )),
                Some(_) => {}
            }
        }
        Ok(found)
    }
}

/// The ledger's standing for one unlock: `name` must be granted `role` and
/// the key `key_id`, or acting as them is refused.
pub(crate) fn check_standing(
    conn: &Connection,
    name: &str,
    role: Role,
    key_id: &str,
) -> Result<()> {
    if !exists(conn)? {
        // A library from before the ledger: its first admin's unlock records it.
        return Ok(());
    }
    let refuse = |why: String| Err(Error::refused("identity", why));
    match replay(conn)? {
        (_, Some(problem)) => refuse(format!(
            "the library's signed identity record does not hold ({problem}); nobody may act until it is restored"
        )),
        (ledger, None) => match ledger.current(name) {
            None if ledger.users.contains_key(name) => {
                refuse(format!("{name} was revoked and signs nothing"))
            }
            None => refuse(format!(
                "{name} is in the catalog, but no signed identity event adds them"
            )),
            Some(grant) if grant.role != role || grant.key_id != key_id => refuse(format!(
                "{name}'s role or key in the catalog is not what the signed identity events grant"
            )),
            Some(_) => Ok(()),
        },
    }
}

/// Records the ledger of a library made before it existed, once: `admin`
/// (the first administrator to unlock) is its root, and every other user
/// the catalog holds is granted as the catalog says, each event marked
/// `backfilled` with the user's creation time. Nothing when it exists.
pub(crate) fn backfill(
    conn: &mut Connection,
    admin: &Signer,
    library_key: Option<&VerifyingKey>,
) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    if exists(&tx)? {
        return Ok(());
    }
    let users: Vec<(String, String, Vec<u8>, String)> = {
        let mut stmt =
            tx.prepare("SELECT name, role, public_key, created_at FROM users ORDER BY id")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let since = |name: &str| users.iter().find(|u| u.0 == name).map(|u| u.3.clone());
    record_root(&tx, admin, library_key, since(admin.user).as_deref())?;
    for (name, role, public_key, created_at) in &users {
        if name == admin.user {
            continue;
        }
        let role: Role = role.parse().map_err(Error::Corrupt)?;
        let key = crate::identity::users::verifying_key(public_key, name)?;
        record_grant(
            &tx,
            admin,
            &Granted {
                user: name,
                role,
                key: &key,
                backfilled_since: Some(created_at),
            },
        )?;
    }
    tx.commit()?;
    Ok(())
}
