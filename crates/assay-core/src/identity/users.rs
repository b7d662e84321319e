//! The people who act on a library, and the keys they sign with.
//!
//! Each user has an ed25519 key pair. The public key sits in the catalog; the
//! private key sits in `keys/NAME.key`, encrypted under the user's passphrase
//! (see [`crate::identity::keys`]). Acting as a user means unlocking that key: an
//! [`Actor`] holds it for the length of one command.
//!
//! The library also has a key of its own, `keys/library.key` (mode 0600, not
//! encrypted, since nobody is there to type a passphrase when a watched
//! folder imports a file). It signs only one kind of event: the import of an
//! asset into a library that has no users yet.

use std::path::{Path, PathBuf};

use assay_fsio::atomic::{self, Existing};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::keys::{self, KdfParams, KeyId, PreparedKey};
use crate::identity::ledger;
use crate::identity::roles::{self, Action, Role};

pub const KEYS_DIR: &str = "keys";
const LIBRARY_KEY_FILE: &str = "library.key";

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct User {
    pub name: String,
    pub role: Role,
    pub key_id: String,
    pub created_at: String,
    /// The admin who added this user; absent for the library's first admin.
    pub created_by: Option<String>,
    /// When an administrator revoked them; a revoked user signs nothing.
    pub revoked_at: Option<String>,
}

/// A user whose key is unlocked: who acts, in which role, and the key that
/// signs what they do.
pub struct Actor {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) role: Role,
    pub(crate) key: PreparedKey,
    pub(crate) key_id: KeyId,
}

impl Actor {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Proves to a marketplace that this user holds their key: the ed25519
    /// signature (base64) over its `challenge` ([`keys::possession_message`]).
    pub fn prove_possession(&self, challenge: &str) -> String {
        use base64::Engine as _;
        let signature = self.key.sign(&keys::possession_message(challenge));
        base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Refuses with the role rule when this actor's role may not take `action`.
    pub fn may(&self, action: Action) -> Result<()> {
        if roles::allows(self.role, action) {
            return Ok(());
        }
        Err(Error::refused(
            "role",
            format!(
                "{} is a {}; a {} may not {}",
                self.name,
                self.role,
                self.role,
                action.as_str()
            ),
        ))
    }
}

impl std::fmt::Debug for Actor {
    // Never print the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Actor")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// A user name is also a file name under `keys/`, so it is kept plain.
pub(crate) fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name != "library"
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.starts_with('.');
    if ok {
        return Ok(());
    }
    Err(Error::invalid_name("user", format!(
        "user name {name:?}: use 1-64 letters, digits, '.', '_' or '-', not starting with '.'; \"library\" is reserved"
    )))
}

impl Library {
    pub fn keys_dir(&self) -> PathBuf {
        self.root().join(KEYS_DIR)
    }

    fn key_file(&self, name: &str) -> PathBuf {
        self.keys_dir().join(format!("{name}.key"))
    }

    /// Adds a user with a new key pair encrypted under `passphrase`. The
    /// first user of a library must be an admin and needs no `acting` user;
    /// after that only an admin adds users.
    pub fn add_user(
        &self,
        acting: Option<&Actor>,
        name: &str,
        role: Role,
        passphrase: &[u8],
    ) -> Result<User> {
        check_name(name)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: i64 = tx.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        let created_by = match (existing, acting) {
            (0, _) if role != Role::Admin => {
                return Err(Error::refused(
                    "first-user-admin",
                    "the first user of a library must be an admin",
                ))
            }
            (0, _) => None,
            (_, None) => {
                return Err(Error::refused(
                    "acting-user",
                    "this library has users; add users as an admin (--as NAME)",
                ))
            }
            (_, Some(actor)) => {
                actor.may(Action::ManageUsers)?;
                Some(actor.id)
            }
        };
        let taken: Option<i64> = tx
            .query_row("SELECT id FROM users WHERE name = ?1", [name], |r| r.get(0))
            .optional()?;
        if taken.is_some() {
            return Err(Error::exists(
                "user",
                format!("a user named {name:?} already exists"),
            ));
        }
        let key = keys::generate();
        let key_id = keys::key_id(&key.verifying_key());
        let library_key = self.existing_library_public_key()?;
        let dir = self.keys_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = self.key_file(name);
        keys::write_secret_key(&path, &key, passphrase, &KdfParams::from_env())?;
        let created_at = now();
        // Who may sign is the signed ledger's to say: the first admin is its
        // root, every later user a grant by the acting admin.
        let prepared = PreparedKey::new(&key);
        let recorded = match acting.filter(|_| existing > 0) {
            None => ledger::record_root(
                &tx,
                &ledger::Signer {
                    user: name,
                    role,
                    key: &prepared,
                },
                library_key.as_ref(),
                None,
            ),
            Some(actor) => ledger::record_grant(
                &tx,
                &ledger::Signer {
                    user: &actor.name,
                    role: actor.role,
                    key: &actor.key,
                },
                &ledger::Granted {
                    user: name,
                    role,
                    key: prepared.verifying_key(),
                    backfilled_since: None,
                },
            ),
        };
        let inserted = recorded
            .and_then(|()| {
                tx.execute(
                    "INSERT INTO users (name, role, key_id, public_key, created_at, created_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        name,
                        role.as_str(),
                        key_id.as_str(),
                        key.verifying_key().as_bytes().as_slice(),
                        created_at,
                        created_by
                    ],
                )?;
                Ok(())
            })
            .and_then(|()| Ok(tx.commit()?));
        if let Err(e) = inserted {
            // The catalog is the source of truth: a key without its user row goes.
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(User {
            name: name.to_owned(),
            role,
            key_id: key_id.to_string(),
            created_at,
            created_by: acting.map(|a| a.name.clone()),
            revoked_at: None,
        })
    }

    /// Gives `name` the role `role` from now on, as `admin`: a signed
    /// identity event, and the catalog's row to match.
    pub fn change_role(&self, admin: &Actor, name: &str, role: Role) -> Result<()> {
        self.change_user(admin, name, |tx, signer| {
            ledger::record_role(tx, signer, name, role)?;
            tx.execute(
                "UPDATE users SET role = ?1 WHERE name = ?2",
                params![role.as_str(), name],
            )?;
            Ok(())
        })
    }

    /// Gives `name` a new key, encrypted under `passphrase`, as `admin`:
    /// their old key signs nothing from now on (what it signed before
    /// still verifies). For a key that may have leaked.
    pub fn rotate_key(&self, admin: &Actor, name: &str, passphrase: &[u8]) -> Result<User> {
        let key = keys::generate();
        let path = self.key_file(name);
        let staged = path.with_extension("key.new");
        keys::write_secret_key(&staged, &key, passphrase, &KdfParams::from_env())?;
        let changed = self.change_user(admin, name, |tx, signer| {
            ledger::record_key(tx, signer, name, &key.verifying_key())?;
            tx.execute(
                "UPDATE users SET key_id = ?1, public_key = ?2 WHERE name = ?3",
                params![
                    keys::key_id(&key.verifying_key()).as_str(),
                    key.verifying_key().as_bytes().as_slice(),
                    name
                ],
            )?;
            Ok(())
        });
        // The catalog commits first; the key file follows it, renamed in one
        // step. A crash between the two leaves the new key beside the old
        // one, under the name `NAME.key.new`.
        match changed {
            Ok(()) => std::fs::rename(&staged, &path).map_err(|e| Error::io(&path, e))?,
            Err(e) => {
                let _ = std::fs::remove_file(&staged);
                return Err(e);
            }
        }
        self.users()?
            .into_iter()
            .find(|u| u.name == name)
            .ok_or_else(|| Error::UnknownUser(name.to_owned()))
    }

    /// Revokes `name`, as `admin`: they sign nothing from now on; what they
    /// signed before still verifies.
    pub fn revoke_user(&self, admin: &Actor, name: &str) -> Result<()> {
        self.change_user(admin, name, |tx, signer| {
            ledger::record_revocation(tx, signer, name)?;
            tx.execute(
                "UPDATE users SET revoked_at = ?1 WHERE name = ?2",
                params![now(), name],
            )?;
            Ok(())
        })
    }

    /// Runs `change` on user `name` in one transaction, as `admin`, who
    /// may manage users; `name` must exist and not be revoked.
    fn change_user(
        &self,
        admin: &Actor,
        name: &str,
        change: impl FnOnce(&rusqlite::Transaction, &ledger::Signer) -> Result<()>,
    ) -> Result<()> {
        admin.may(Action::ManageUsers)?;
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let revoked: Option<Option<String>> = tx
            .query_row(
                "SELECT revoked_at FROM users WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?;
        match revoked {
            None => return Err(Error::UnknownUser(name.to_owned())),
            Some(Some(at)) => {
                return Err(Error::refused(
                    "revoked",
                    format!("{name} was revoked at {at}; add them again under a new name"),
                ))
            }
            Some(None) => {}
        }
        let signer = ledger::Signer {
            user: &admin.name,
            role: admin.role,
            key: &admin.key,
        };
        change(&tx, &signer)?;
        tx.commit()?;
        Ok(())
    }

    pub fn users(&self) -> Result<Vec<User>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT u.name, u.role, u.key_id, u.created_at, c.name, u.revoked_at
             FROM users u LEFT JOIN users c ON c.id = u.created_by ORDER BY u.id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?;
        let mut users = Vec::new();
        for row in rows {
            let (name, role, key_id, created_at, created_by, revoked_at) = row?;
            users.push(User {
                role: parse_role(&role)?,
                name,
                key_id,
                created_at,
                created_by,
                revoked_at,
            });
        }
        Ok(users)
    }

    /// The public key of user `name`.
    pub fn user_public_key(&self, name: &str) -> Result<VerifyingKey> {
        let conn = self.connect()?;
        let bytes: Vec<u8> = conn
            .query_row(
                "SELECT public_key FROM users WHERE name = ?1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::UnknownUser(name.to_owned()))?;
        verifying_key(&bytes, name)
    }

    /// Encrypts `name`'s key under `new` instead of `old`, which must unlock
    /// it. The key, its id and everything it signed stay as they are.
    pub fn change_passphrase(&self, name: &str, old: &[u8], new: &[u8]) -> Result<()> {
        let (_, _, key) = self.user_key(name, old)?;
        keys::rewrite_secret_key(&self.key_file(name), &key, new, &KdfParams::from_env())?;
        Ok(())
    }

    /// Unlocks user `name`'s key with `passphrase`, to act as them. The
    /// signed identity ledger must grant them their role and key; a library
    /// made before the ledger gets it now, when an administrator unlocks.
    pub fn unlock(&self, name: &str, passphrase: &[u8]) -> Result<Actor> {
        let (id, role, key) = self.user_key(name, passphrase)?;
        let actor = Actor {
            id,
            name: name.to_owned(),
            role,
            key_id: keys::key_id(&key.verifying_key()),
            key: PreparedKey::new(&key),
        };
        let mut conn = self.connect()?;
        if role == Role::Admin && !ledger::exists(&conn)? {
            let library_key = self.existing_library_public_key()?;
            ledger::backfill(
                &mut conn,
                &ledger::Signer {
                    user: name,
                    role,
                    key: &actor.key,
                },
                library_key.as_ref(),
            )?;
        }
        ledger::check_standing(&conn, name, role, actor.key_id.as_str())?;
        Ok(actor)
    }

    /// `name`'s id, role and key, decrypted with `passphrase` and checked
    /// against the key the catalog records for them.
    fn user_key(&self, name: &str, passphrase: &[u8]) -> Result<(i64, Role, SigningKey)> {
        let conn = self.connect()?;
        let (id, role, key_id): (i64, String, String) = conn
            .query_row(
                "SELECT id, role, key_id FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?
            .ok_or_else(|| Error::UnknownUser(name.to_owned()))?;
        let key = keys::read_secret_key(&self.key_file(name), passphrase)?;
        let actual = keys::key_id(&key.verifying_key());
        if actual.as_str() != key_id {
            return Err(Error::refused(
                "key",
                format!(
                    "the key file of {name} holds key {actual}, but the catalog records {key_id}"
                ),
            ));
        }
        Ok((id, parse_role(&role)?, key))
    }

    pub(crate) fn has_users(conn: &Connection) -> Result<bool> {
        Ok(conn.query_row("SELECT EXISTS (SELECT 1 FROM users)", [], |r| r.get(0))?)
    }

    /// The library's own key, created on first use.
    pub(crate) fn library_key(&self) -> Result<PreparedKey> {
        self.library_signing_key().map(|key| PreparedKey::new(&key))
    }

    fn library_signing_key(&self) -> Result<SigningKey> {
        let dir = self.keys_dir();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let path = dir.join(LIBRARY_KEY_FILE);
        match read_library_key(&path) {
            Err(Error::Io { reason, .. }) if reason.kind() == std::io::ErrorKind::NotFound => {
                let key = keys::generate();
                match write_library_key(&path, &key) {
                    Ok(()) => Ok(key),
                    // Another process made it first: use theirs.
                    Err(Error::Io { reason, .. })
                        if reason.kind() == std::io::ErrorKind::AlreadyExists =>
                    {
                        read_library_key(&path)
                    }
                    Err(e) => Err(e),
                }
            }
            other => other,
        }
    }

    /// The library's public key: its identity in manifests and chains.
    pub fn library_public_key(&self) -> Result<VerifyingKey> {
        Ok(*self.library_key()?.verifying_key())
    }

    /// The library's public key if it has one; reading never creates it.
    pub(crate) fn existing_library_public_key(&self) -> Result<Option<VerifyingKey>> {
        match read_library_key(&self.keys_dir().join(LIBRARY_KEY_FILE)) {
            Ok(key) => Ok(Some(key.verifying_key())),
            Err(Error::Io { reason, .. }) if reason.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

pub(crate) fn parse_role(text: &str) -> Result<Role> {
    text.parse().map_err(Error::Corrupt)
}

pub(crate) fn verifying_key(bytes: &[u8], whose: &str) -> Result<VerifyingKey> {
    let bytes: [u8; 32] = bytes
        .try_into()
        .map_err(|_| Error::Corrupt(format!("the public key of {whose} is not 32 bytes")))?;
    VerifyingKey::from_bytes(&bytes)
        .map_err(|_| Error::Corrupt(format!("the public key of {whose} is not a valid key")))
}

fn read_library_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = || {
        Error::bad_file(
            path,
            format!("{}: not an Assay library key", path.display()),
        )
    };
    let hex_secret = text
        .lines()
        .find_map(|l| l.strip_prefix("secret: "))
        .ok_or_else(bad)?;
    let bytes: [u8; 32] = hex::decode(hex_secret.trim())
        .map_err(|_| bad())?
        .try_into()
        .map_err(|_| bad())?;
    Ok(SigningKey::from_bytes(&bytes))
}

fn write_library_key(path: &Path, key: &SigningKey) -> Result<()> {
    let text = format!(
        "# Assay library key: signs imports into a library that has no users yet. Keep private.\nkey_id: {}\nsecret: {}\n",
        keys::key_id(&key.verifying_key()),
        hex::encode(key.to_bytes())
    );
    // Linked into place, so a key another process or thread wrote first is
    // never replaced (the caller reads theirs on `AlreadyExists`).
    atomic::write_secret(path, text.as_bytes(), Existing::Keep).map_err(|e| Error::io(path, e))
}
