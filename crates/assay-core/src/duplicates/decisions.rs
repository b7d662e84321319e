//! What a reviewer decides about near-duplicates, and stacks made by hand:
//! stack them (one cell in the grid, the keeper on top), keep them apart
//! (different works that look alike: never grouped again), or mark the
//! others as duplicates of the keeper (a signed edit of their rights,
//! `duplicate_of`, which the gates refuse to approve for sale; clearing the
//! field undoes it). A decided pair no longer groups in
//! [`Library::duplicates`].

use serde::Serialize;
use serde_json::Value;

use crate::catalog::assets::{self, now};
use crate::catalog::library::Library;
use crate::catalog::stacks::{self, Stack, StackKind};
use crate::error::{Error, Result};
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::rights::edit::{Change, EditSummary, Selection};

/// The rights field that marks an asset as a copy of another.
pub const DUPLICATE_OF: &str = "duplicate_of";

/// What keeping assets apart recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct KeptApart {
    pub assets: Vec<String>,
    /// Pairs newly recorded as different works.
    pub pairs: u32,
}

/// Most assets one keep-apart decision takes: it records every pair.
pub const MAX_KEPT_APART: usize = 200;

impl Library {
    /// Stacks the assets `others` name with the one `top` names, shown as
    /// `top`; any stack one of them is in joins whole. Organising needs no
    /// signature, but once the library has users it needs one who may edit.
    pub fn stack(
        &self,
        actor: Option<&Actor>,
        top: &str,
        others: &[String],
        kind: StackKind,
    ) -> Result<Stack> {
        let mut conn = self.connect()?;
        may_organise(&conn, actor)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let top_row = assets::resolve(&tx, top)?;
        let mut rows = Vec::with_capacity(others.len());
        for key in others {
            rows.push(assets::resolve(&tx, key)?);
        }
        if rows.iter().all(|&r| r == top_row) {
            return Err(Error::required(
                "assets",
                "a stack needs at least two different assets",
            ));
        }
        stacks::stack(&tx, top_row, &rows, kind, &now())?;
        let stack = stacks::of(&tx, top_row)?
            .ok_or_else(|| Error::Internal("the stack just made is not there".into()))?;
        tx.commit()?;
        Ok(stack)
    }

    /// Dissolves the stack the asset `key` names is in; returns its assets
    /// (none when it was in no stack).
    pub fn unstack(&self, actor: Option<&Actor>, key: &str) -> Result<Vec<String>> {
        let mut conn = self.connect()?;
        may_organise(&conn, actor)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let row = assets::resolve(&tx, key)?;
        let mut freed = Vec::new();
        for row in stacks::unstack(&tx, row)? {
            freed.push(assets::asset_id_of(&tx, row)?);
        }
        tx.commit()?;
        Ok(freed)
    }

    /// Records that the assets `keys` name are different works, however
    /// alike they look: no pair of them groups as near-duplicates again.
    pub fn keep_apart(&self, actor: Option<&Actor>, keys: &[String]) -> Result<KeptApart> {
        if keys.len() > MAX_KEPT_APART {
            return Err(Error::refused(
                "assets",
                format!("at most {MAX_KEPT_APART} assets are kept apart at once"),
            ));
        }
        let mut conn = self.connect()?;
        may_organise(&conn, actor)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            rows.push(assets::resolve(&tx, key)?);
        }
        rows.sort_unstable();
        rows.dedup();
        if rows.len() < 2 {
            return Err(Error::required(
                "assets",
                "keeping apart needs at least two different assets",
            ));
        }
        let at = now();
        let mut pairs = 0;
        {
            let mut insert = tx.prepare(
                "INSERT OR IGNORE INTO kept_apart (low, high, kept_at) VALUES (?1, ?2, ?3)",
            )?;
            for (i, &low) in rows.iter().enumerate() {
                for &high in &rows[i + 1..] {
                    pairs += insert.execute(rusqlite::params![low, high, at])? as u32;
                }
            }
        }
        let mut assets_kept = Vec::with_capacity(rows.len());
        for &row in &rows {
            assets_kept.push(assets::asset_id_of(&tx, row)?);
        }
        tx.commit()?;
        Ok(KeptApart {
            assets: assets_kept,
            pairs,
        })
    }

    /// Marks each asset `others` names as a duplicate of the one `keeper`
    /// names, as `actor`'s signed edit of their rights (`duplicate_of`).
    /// A marked asset fails the `not-a-duplicate` gate, so it is never
    /// approved for sale beside its original; an approved one goes back
    /// to pending. Clearing the field (`assay edit --set duplicate_of=`)
    /// undoes it, as another signed edit.
    pub fn mark_duplicates(
        &self,
        actor: &Actor,
        keeper: &str,
        others: &[String],
    ) -> Result<EditSummary> {
        let keeper_id = {
            let conn = self.connect()?;
            let keeper_row = assets::resolve(&conn, keeper)?;
            for key in others {
                if assets::resolve(&conn, key)? == keeper_row {
                    return Err(Error::invalid_value(
                        DUPLICATE_OF,
                        format!("{key} is the keeper itself"),
                    ));
                }
            }
            assets::asset_id_of(&conn, keeper_row)?
        };
        if others.is_empty() {
            return Err(Error::required("assets", "no asset to mark"));
        }
        self.edit(
            actor,
            &Selection::Assets(others.to_vec()),
            &[Change::set(DUPLICATE_OF, Value::from(keeper_id))],
        )
    }
}

/// Organising (stacks, keeping apart) is unsigned; once the library has
/// users it needs one who may edit metadata, as an import needs one.
fn may_organise(conn: &rusqlite::Connection, actor: Option<&Actor>) -> Result<()> {
    match actor {
        Some(actor) => actor.may(Action::EditMetadata),
        None if Library::has_users(conn)? => Err(Error::refused(
            "acting-user",
            "this library has users; act as one of them (--as NAME)",
        )),
        None => Ok(()),
    }
}
