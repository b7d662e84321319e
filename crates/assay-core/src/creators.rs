//! Creator profiles: who made the work and where their money goes. An asset
//! linked to a creator takes the profile's name, contact and payout
//! reference, so a marketplace pays whoever the profile names.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::catalog::now;
use crate::error::{Error, Result};
use crate::library::Library;
use crate::roles::Action;
use crate::users::Actor;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Creator {
    pub name: String,
    pub contact: Option<String>,
    /// Wallet or marketplace account id; never raw tax or bank data.
    pub payout_ref: String,
    pub agreement_id: Option<String>,
    pub attribution: Option<String>,
    /// The license tag linking this profile gives an asset that has none.
    pub default_license: Option<String>,
    pub created_at: String,
}

/// What `creator add` is given.
#[derive(Debug, Clone, Default)]
pub struct NewCreator {
    pub name: String,
    pub contact: Option<String>,
    pub payout_ref: String,
    pub agreement_id: Option<String>,
    pub attribution: Option<String>,
    /// A tag of the library's license taxonomy.
    pub default_license: Option<String>,
}

impl Library {
    pub fn add_creator(&self, actor: &Actor, new: &NewCreator) -> Result<Creator> {
        actor.may(Action::ManageCreators)?;
        let name = new.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::InvalidInput(
                "creator name: give 1-200 characters".into(),
            ));
        }
        if new.payout_ref.trim().is_empty() {
            return Err(Error::InvalidInput(format!(
                "creator {name}: a payout reference (--payout) is required"
            )));
        }
        let default_license = new
            .default_license
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if let Some(tag) = default_license {
            let taxonomy = self.taxonomy()?;
            if taxonomy.get(tag).is_none() {
                let known: Vec<&str> = taxonomy.iter().map(|t| t.tag.as_str()).collect();
                return Err(Error::InvalidInput(format!(
                    "creator {name}: default license {tag:?} is not a known license tag; known tags: {}",
                    known.join(", ")
                )));
            }
        }
        let conn = self.connect()?;
        let created_at = now();
        let inserted = conn.execute(
            "INSERT INTO creators
                 (name, contact, payout_ref, agreement_id, attribution, default_license, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
            params![
                name,
                new.contact,
                new.payout_ref.trim(),
                new.agreement_id,
                new.attribution,
                default_license,
                created_at
            ],
        )?;
        if inserted == 0 {
            return Err(Error::InvalidInput(format!(
                "a creator named {name:?} already exists"
            )));
        }
        Ok(Creator {
            name: name.to_owned(),
            contact: new.contact.clone(),
            payout_ref: new.payout_ref.trim().to_owned(),
            agreement_id: new.agreement_id.clone(),
            attribution: new.attribution.clone(),
            default_license: default_license.map(str::to_owned),
            created_at,
        })
    }

    pub fn creators(&self) -> Result<Vec<Creator>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT name, contact, payout_ref, agreement_id, attribution, created_at, default_license
             FROM creators ORDER BY name",
        )?;
        let rows = stmt.query_map([], row_to_creator)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

fn row_to_creator(r: &rusqlite::Row) -> rusqlite::Result<Creator> {
    Ok(Creator {
        name: r.get(0)?,
        contact: r.get(1)?,
        payout_ref: r.get(2)?,
        agreement_id: r.get(3)?,
        attribution: r.get(4)?,
        created_at: r.get(5)?,
        default_license: r.get(6)?,
    })
}

pub(crate) fn creator(conn: &rusqlite::Connection, name: &str) -> Result<Creator> {
    conn.query_row(
        "SELECT name, contact, payout_ref, agreement_id, attribution, created_at, default_license
         FROM creators WHERE name = ?1",
        [name],
        row_to_creator,
    )
    .optional()?
    .ok_or_else(|| Error::InvalidInput(format!("no creator profile named {name:?}")))
}
