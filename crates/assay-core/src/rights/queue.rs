//! `queue`: what waits for the acting user's role, oldest first, with its
//! age and the gates it still fails (what is missing).

use assay_credentials::ContentCredentials;
use rusqlite::params;
use serde::Serialize;
use serde_json::json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::catalog::grid::file_name;
use crate::catalog::library::Library;
use crate::error::Result;
use crate::identity::roles::Role;
use crate::identity::users::Actor;
use crate::rights::gates::{gate_fields, FailedGate, Gates};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueItem {
    pub asset_id: String,
    pub title: Option<String>,
    pub state: String,
    /// When the asset entered its state (its import, if it never moved).
    pub since: String,
    pub age_seconds: i64,
    pub failed_gates: Vec<FailedGate>,
    /// Set when the asset's Content Credentials name it as made by a
    /// trained model, wholly or in part: the IPTC digital source type they
    /// give (`trainedAlgorithmicMedia`, `compositeWithTrainedAlgorithmicMedia`,
    /// ...), for the rights manager to weigh.
    pub model_made: Option<String>,
    /// The thumbnail's and the large preview's paths inside the library
    /// folder (`previews/…`), so the queue shows what is decided on.
    pub thumbnail: Option<String>,
    pub preview: Option<String>,
    /// The file name of the first place its bytes were seen, for an
    /// asset without a title.
    pub file_name: Option<String>,
    /// Who made it: the creator its rights name, else whoever imported it.
    pub creator: Option<String>,
}

impl Library {
    /// Creators: their own drafts, rejections and quarantined assets to fix.
    /// Stewards: every draft, rejection and quarantined asset. Rights
    /// managers: pending assets to decide and quarantined ones to release.
    /// Admins have no asset queue.
    pub fn queue(&self, actor: &Actor) -> Result<Vec<QueueItem>> {
        let (states, own_only): (&[&str], bool) = match actor.role() {
            Role::Creator => (&["draft", "rejected", "quarantined"], true),
            Role::Steward => (&["draft", "rejected", "quarantined"], false),
            Role::RightsManager => (&["pending", "quarantined"], false),
            Role::Admin => (&[], false),
        };
        let gates = Gates::load(&self.root().join("gates.json"))?;
        let taxonomy = self.taxonomy()?;
        let now = OffsetDateTime::now_utc();
        let conn = self.connect()?;
        let mut stmt = conn.prepare(
            "SELECT asset_id, title, workflow_state, coalesce(state_since, imported_at), rights,
                    checksum, provenance_hash, content_credentials, thumbnail, preview,
                    coalesce(json_extract(rights, '$.creator_name'),
                             (SELECT name FROM users WHERE users.id = uploaded_by)),
                    (SELECT path_text FROM locations l WHERE l.asset = assets.id ORDER BY l.id LIMIT 1)
             FROM assets
             WHERE workflow_state IN (SELECT value FROM json_each(?1))
               AND (?2 = 0 OR uploaded_by = ?3)
             ORDER BY coalesce(state_since, imported_at), id",
        )?;
        let states = json!(states).to_string();
        let mut rows = stmt.query(params![states, own_only, actor.id])?;
        let mut items = Vec::new();
        while let Some(r) = rows.next()? {
            let asset_id: String = r.get(0)?;
            let since: String = r.get(3)?;
            let credentials = r.get::<_, Option<String>>(7)?;
            let fields = gate_fields(
                &r.get::<_, String>(4)?,
                &asset_id,
                &r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?.as_deref(),
                credentials.as_deref(),
            );
            // Stored by import; one that no longer reads flags nothing
            // here (the gates name it).
            let model_made = credentials
                .as_deref()
                .and_then(|text| serde_json::from_str::<ContentCredentials>(text).ok())
                .and_then(|c| c.model_made_as().map(str::to_owned));
            let age_seconds =
                OffsetDateTime::parse(&since, &Rfc3339).map_or(0, |t| (now - t).whole_seconds());
            items.push(QueueItem {
                failed_gates: gates.check(&fields, &taxonomy, now.date()),
                asset_id,
                title: r.get(1)?,
                state: r.get(2)?,
                since,
                age_seconds,
                model_made,
                thumbnail: r.get(8)?,
                preview: r.get(9)?,
                creator: r.get(10)?,
                file_name: r.get::<_, Option<String>>(11)?.as_deref().map(file_name),
            });
        }
        Ok(items)
    }
}
