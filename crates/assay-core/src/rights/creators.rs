//! Creator profiles: who made the work and where their money goes. An asset
//! linked to a creator takes the profile's name, contact and payout
//! reference, so a marketplace pays whoever the profile names. A profile
//! may belong to a creator user: what they import is linked to it on
//! arrival, so a creator working alone never links their own work by hand.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::{Action, Role};
use crate::identity::users::Actor;

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
    /// The creator user whose imports take this profile.
    pub user: Option<String>,
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
    /// A user with the creator role whose imports take this profile.
    pub user: Option<String>,
}

impl Library {
    pub fn add_creator(&self, actor: &Actor, new: &NewCreator) -> Result<Creator> {
        actor.may(Action::ManageCreators)?;
        let new = self.check_creator(new)?;
        let name = new.name.as_str();
        let mut conn = self.connect()?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let user_id = match new.user.as_deref() {
            Some(user) => Some(owner(&tx, name, user)?),
            None => None,
        };
        let created_at = now();
        let inserted = tx.execute(
            "INSERT INTO creators
                 (name, contact, payout_ref, agreement_id, attribution, default_license, created_at, user_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (name) DO NOTHING",
            params![
                name,
                new.contact,
                new.payout_ref,
                new.agreement_id,
                new.attribution,
                new.default_license,
                created_at,
                user_id,
            ],
        )?;
        if inserted == 0 {
            return Err(Error::exists(
                "creator",
                format!("a creator named {name:?} already exists"),
            ));
        }
        tx.commit()?;
        Ok(Creator {
            name: new.name,
            contact: new.contact,
            payout_ref: new.payout_ref,
            agreement_id: new.agreement_id,
            attribution: new.attribution,
            default_license: new.default_license,
            user: new.user,
            created_at,
        })
    }

    /// `new` with its text trimmed and blank optional fields as none, or
    /// what is wrong with it; nothing is written. Every caller (a form, the
    /// command line) gets the same normalising.
    pub(crate) fn check_creator(&self, new: &NewCreator) -> Result<NewCreator> {
        let given = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let name = new.name.trim();
        if name.is_empty() || name.len() > 200 {
            return Err(Error::invalid_name(
                "creator",
                "creator name: give 1-200 characters",
            ));
        }
        if new.payout_ref.trim().is_empty() {
            return Err(Error::required(
                "payout_ref",
                format!("creator {name}: a payout reference (--payout) is required"),
            ));
        }
        let default_license = given(&new.default_license);
        if let Some(tag) = default_license.as_deref() {
            let taxonomy = self.taxonomy()?;
            if taxonomy.get(tag).is_none() {
                let known: Vec<&str> = taxonomy.iter().map(|t| t.tag.as_str()).collect();
                return Err(Error::invalid_value("default_license", format!(
                    "creator {name}: default license {tag:?} is not a known license tag; known tags: {}",
                    known.join(", ")
                )));
            }
        }
        Ok(NewCreator {
            name: name.to_owned(),
            contact: given(&new.contact),
            payout_ref: new.payout_ref.trim().to_owned(),
            agreement_id: given(&new.agreement_id),
            attribution: given(&new.attribution),
            default_license,
            user: given(&new.user),
        })
    }

    pub fn creators(&self) -> Result<Vec<Creator>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(&format!("{SELECT_CREATOR} ORDER BY c.name"))?;
        let rows = stmt.query_map([], row_to_creator)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// The columns [`row_to_creator`] reads, with the owning user's name.
const SELECT_CREATOR: &str =
    "SELECT c.name, c.contact, c.payout_ref, c.agreement_id, c.attribution, c.created_at,
            c.default_license, u.name
     FROM creators c LEFT JOIN users u ON u.id = c.user_id";

fn row_to_creator(r: &rusqlite::Row) -> rusqlite::Result<Creator> {
    Ok(Creator {
        name: r.get(0)?,
        contact: r.get(1)?,
        payout_ref: r.get(2)?,
        agreement_id: r.get(3)?,
        attribution: r.get(4)?,
        created_at: r.get(5)?,
        default_license: r.get(6)?,
        user: r.get(7)?,
    })
}

/// The id of `user`, who is to own profile `profile`: a creator, with no
/// profile yet.
fn owner(conn: &rusqlite::Connection, profile: &str, user: &str) -> Result<i64> {
    let found: Option<(i64, String, Option<String>)> = conn
        .query_row(
            "SELECT u.id, u.role, c.name FROM users u LEFT JOIN creators c ON c.user_id = u.id
             WHERE u.name = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    match found {
        None => Err(Error::no_such(
            "user",
            format!("creator {profile}: no user named {user:?}"),
        )),
        Some((_, role, _)) if !role.parse().is_ok_and(Role::owns_creator_profile) => {
            Err(Error::invalid_value(
                "user",
                format!(
            "creator {profile}: user {user:?} is a {role}; only a creator's imports take a profile"
        ),
            ))
        }
        Some((_, _, Some(other))) => Err(Error::exists(
            "creator",
            format!("creator {profile}: user {user:?} already has the profile {other:?}"),
        )),
        Some((id, _, None)) => Ok(id),
    }
}

/// What linking profile `c` sets on an asset: each field, its value, and
/// whether it only fills a field that is empty (the default license) rather
/// than replacing it. Linking by hand and importing as the profile's user
/// apply the same list.
pub(crate) fn linked_fields(c: &Creator) -> Vec<(&'static str, serde_json::Value, bool)> {
    use serde_json::json;
    let mut fields = vec![
        ("creator", json!(c.name), false),
        ("creator_name", json!(c.name), false),
        ("creator_contact", json!(c.contact), false),
        ("tax_and_payout_info", json!(c.payout_ref), false),
    ];
    if let Some(tag) = &c.default_license {
        fields.push(("license_tag", json!(tag), true));
    }
    fields
}

/// The profile of the creator user `user_id`, if one belongs to them.
pub(crate) fn of_user(conn: &rusqlite::Connection, user_id: i64) -> Result<Option<Creator>> {
    Ok(conn
        .query_row(
            &format!("{SELECT_CREATOR} WHERE c.user_id = ?1"),
            [user_id],
            row_to_creator,
        )
        .optional()?)
}

pub(crate) fn creator(conn: &rusqlite::Connection, name: &str) -> Result<Creator> {
    conn.query_row(
        &format!("{SELECT_CREATOR} WHERE c.name = ?1"),
        [name],
        row_to_creator,
    )
    .optional()?
    .ok_or_else(|| Error::no_such("creator", format!("no creator profile named {name:?}")))
}
