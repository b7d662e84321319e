//! Saved selections: a dataset is a name and a filter over the catalog
//! (the same filter `ls` and `edit` take), kept, not a list of assets: what
//! it holds is whatever the filter matches when asked. What a build would
//! take now is every asset it matches that is approved and whose license
//! allows AI training; the others are listed with the reason.

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::catalog::assets::{now, Filter};
use crate::catalog::library::Library;
use crate::datasets::versions::{self, DatasetVersion};
use crate::error::{Error, Result};
use crate::exports::manifest::{self, Listed, RefusedAsset, Selected};
use crate::formats::file_names;
use crate::identity::roles::Action;
use crate::identity::users::Actor;
use crate::job::Job;
use crate::rights::edit::{self, Selection};
use crate::rights::licenses::Taxonomy;

/// A saved selection.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Dataset {
    /// `urn:uuid:`, fixed for the dataset's life.
    pub dataset_id: String,
    pub name: String,
    /// The filter it was saved with.
    pub selector: Filter,
    pub created_at: String,
    pub created_by: String,
}

/// A dataset and what its filter matches now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DatasetView {
    pub dataset: Dataset,
    /// Assets the filter matches.
    pub matched: usize,
    /// Of those, the ones a build would take now: approved, with a license
    /// that allows AI training.
    pub eligible: usize,
    /// The others, each with the reason.
    pub left_out: Vec<RefusedAsset>,
    /// The versions built so far, oldest first.
    pub versions: Vec<DatasetVersion>,
}

impl Library {
    /// Saves `selector` as dataset `name` (stewards and rights managers).
    /// Names are unique, case aside, and name shard files, so they are kept
    /// to letters, digits, '-', '_' and '.'.
    pub fn create_dataset(&self, actor: &Actor, name: &str, selector: &Filter) -> Result<Dataset> {
        actor.may(Action::CurateDatasets)?;
        if !file_names::is_plain_name(name) {
            return Err(Error::invalid_name("dataset", format!(
                "dataset name {name:?}: use 1 to 64 letters, digits, '-', '_' or '.', not starting with '.'"
            )));
        }
        let selector_json =
            serde_json::to_string(selector).map_err(|e| Error::Internal(e.to_string()))?;
        let dataset = Dataset {
            dataset_id: format!("urn:uuid:{}", uuid::Uuid::new_v4()),
            name: name.to_owned(),
            selector: selector.clone(),
            created_at: now(),
            created_by: actor.name().to_owned(),
        };
        let conn = self.connect()?;
        let added = conn.execute(
            "INSERT INTO datasets (dataset_id, name, name_key, selector, created_at, created_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (name_key) DO NOTHING",
            params![
                dataset.dataset_id,
                dataset.name,
                file_names::collision_key(name),
                selector_json,
                dataset.created_at,
                actor.id
            ],
        )?;
        if added == 0 {
            return Err(Error::exists(
                "dataset",
                format!("a dataset named {name:?} exists already (names are unique, case aside)"),
            ));
        }
        Ok(dataset)
    }

    /// Every dataset, by name.
    pub fn datasets(&self) -> Result<Vec<Dataset>> {
        let conn = self.connect()?;
        let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY d.name_key"))?;
        let rows = stmt.query_map([], row)?;
        rows.map(|r| Ok(r??.1)).collect()
    }

    /// Dataset `name` (case aside) and what its filter matches now.
    pub fn dataset(&self, name: &str) -> Result<DatasetView> {
        let conn = self.connect()?;
        let (row, dataset) = find(&conn, name)?;
        let versions = versions::list(&conn, row)?;
        let taxonomy = self.taxonomy()?;
        let held = holding(&conn, &dataset.selector, &taxonomy, &mut Job::quiet())?;
        Ok(DatasetView {
            dataset,
            versions,
            matched: held.matched,
            eligible: held.eligible.len(),
            left_out: held.left_out,
        })
    }
}

/// What a selection holds now: the manifest entries of the assets a build
/// takes (approved, with a license that allows AI training), the others
/// with the reason, and the rights of the taken assets' license tags.
pub(crate) struct Held {
    pub matched: usize,
    pub eligible: Vec<Listed>,
    pub left_out: Vec<RefusedAsset>,
    pub licenses: Map<String, Value>,
}

pub(crate) fn holding(
    conn: &Connection,
    selector: &Filter,
    taxonomy: &Taxonomy,
    job: &mut Job,
) -> Result<Held> {
    let rows = edit::select(conn, &Selection::Where(selector.clone()))?;
    let Selected {
        listed,
        mut refused,
        mut licenses,
    } = manifest::entries(conn, &rows, taxonomy, job)?;
    let mut eligible = Vec::with_capacity(listed.len());
    for item in listed {
        match taxonomy.get(&item.entry.license_tag) {
            Some(license) if license.ai_training_allowed => eligible.push(item),
            _ => refused.push(RefusedAsset {
                reason: format!(
                    "its license {} does not allow AI training",
                    item.entry.license_tag
                ),
                asset_id: item.entry.asset_id,
            }),
        }
    }
    // Only the rights of tags the build takes.
    let taken: std::collections::HashSet<&str> = eligible
        .iter()
        .map(|l| l.entry.license_tag.as_str())
        .collect();
    licenses.retain(|tag, _| taken.contains(tag.as_str()));
    Ok(Held {
        matched: rows.len(),
        eligible,
        left_out: refused,
        licenses,
    })
}

const SELECT: &str = "SELECT d.dataset_id, d.name, d.selector, d.created_at, u.name, d.id
     FROM datasets d JOIN users u ON u.id = d.created_by";

/// A dataset's row id and dataset; a selector the catalog holds that is not
/// a filter is named as damage, not skipped.
fn row(r: &rusqlite::Row) -> rusqlite::Result<Result<(i64, Dataset)>> {
    let (dataset_id, name, selector, created_at, created_by): (
        String,
        String,
        String,
        String,
        String,
    ) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    Ok(match serde_json::from_str(&selector) {
        Ok(selector) => Ok((
            r.get(5)?,
            Dataset {
                dataset_id,
                name,
                selector,
                created_at,
                created_by,
            },
        )),
        Err(e) => Err(Error::Corrupt(format!(
            "dataset {name}: its selector is not a filter ({e}); the catalog was edited behind Assay's back"
        ))),
    })
}

/// Dataset `name` (case aside), with its row id.
pub(crate) fn find(conn: &Connection, name: &str) -> Result<(i64, Dataset)> {
    conn.query_row(
        &format!("{SELECT} WHERE d.name_key = ?1"),
        [file_names::collision_key(name)],
        row,
    )
    .optional()?
    .unwrap_or_else(|| {
        Err(Error::no_such(
            "dataset",
            format!("no dataset named {name:?} (`assay dataset ls` lists them)"),
        ))
    })
}
