//! A sample library for a first look: `make run` with no folder to import
//! creates one in the default place when nothing is there, so every view of
//! the app has something to show: photos imported by a creator, a few of them
//! licensed and in review, one approved and one quarantined by the gates.
//!
//! It is made in a sibling folder and moved into place only when complete,
//! so an interrupted run never leaves a half-made library that later runs
//! would take for the user's own.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::json;

use crate::catalog::assets::Filter;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::identity::roles::Role;
use crate::ingest::import::ImportOptions;
use crate::rights::creators::NewCreator;
use crate::rights::edit::{Change, Selection};

/// The sample's users, one per role, all under the passphrase the caller gives.
pub const SAMPLE_USERS: [(&str, Role); 4] = [
    ("ada", Role::Admin),
    ("cy", Role::Creator),
    ("sam", Role::Steward),
    ("rosa", Role::RightsManager),
];

/// What [`Library::create_sample`] made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleLibrary {
    pub root: PathBuf,
    pub imported: u64,
    /// Assets given a license and submitted for review.
    pub licensed: Vec<String>,
    pub approved: String,
    pub quarantined: String,
}

impl Library {
    /// Creates a sample library at `root` from the images under `photos`.
    /// Refuses when `root` exists at all: a sample never replaces or adds to
    /// anything already there.
    pub fn create_sample(root: &Path, photos: &Path, passphrase: &[u8]) -> Result<SampleLibrary> {
        if root.exists() {
            return Err(Error::refused(
                "sample-library",
                format!(
                    "{} already exists; a sample library is only made where nothing is",
                    root.display()
                ),
            ));
        }
        let name = root.file_name().map_or_else(
            || "library".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let building = root.with_file_name(format!(".{name}.sample-in-progress"));
        if building.exists() {
            // Left by an interrupted run: it was never the user's library.
            std::fs::remove_dir_all(&building).map_err(|e| Error::io(&building, e))?;
        }
        let mut made = fill(&building, photos, passphrase).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&building);
        })?;
        std::fs::rename(&building, root).map_err(|e| Error::io(root, e))?;
        made.root = root.to_owned();
        Ok(made)
    }
}

/// Builds the sample in `dir` (its `root` is `dir`); the library is closed
/// when this returns.
fn fill(dir: &Path, photos: &Path, passphrase: &[u8]) -> Result<SampleLibrary> {
    let library = Library::open(dir)?;
    let [(admin, admin_role), others @ ..] = SAMPLE_USERS;
    library.add_user(None, admin, admin_role, passphrase)?;
    let ada = library.unlock(admin, passphrase)?;
    for (name, role) in others {
        library.add_user(Some(&ada), name, role, passphrase)?;
    }
    library.add_creator(
        &ada,
        &NewCreator {
            name: "Cy Sample".into(),
            contact: Some("cy@example.org".into()),
            payout_ref: "acct_sample_cy".into(),
            agreement_id: None,
            attribution: Some("Photo: Cy Sample".into()),
            default_license: None,
            user: Some("cy".into()),
        },
    )?;
    let cy = Arc::new(library.unlock("cy", passphrase)?);
    let rosa = library.unlock("rosa", passphrase)?;
    let summary = library.import(
        &[photos.to_owned()],
        &ImportOptions {
            actor: Some(Arc::clone(&cy)),
            ..ImportOptions::default()
        },
        &mut |_| {},
    )?;

    // Clean photos with previews, in a stable order, take the workflow's parts.
    let mut clean: Vec<_> = library
        .list(&Filter::default())?
        .into_iter()
        .filter(|r| r.warnings.is_empty() && r.previews.thumbnail.is_some())
        .collect();
    clean.sort_by(|a, b| {
        a.locations
            .first()
            .map(|l| &l.path)
            .cmp(&b.locations.first().map(|l| &l.path))
    });
    let ids: Vec<String> = clean.into_iter().map(|r| r.asset_id).take(5).collect();
    let [approved, second, third, fourth, quarantined] = <[String; 5]>::try_from(ids)
        .map_err(|ids| {
            Error::bad_file(photos, format!(
                "{}: a sample library needs at least five photos that import without warnings; found {}",
                photos.display(),
                ids.len()
            ))
        })?;

    let licensed = vec![approved.clone(), second, third, fourth];
    let complete = Selection::Assets(licensed.clone());
    library.edit(
        &cy,
        &complete,
        &[
            Change::set("license_tag", json!("CC-BY-4.0")),
            Change::set("tax_and_payout_info", json!("acct_sample_cy")),
            Change::set("signed_contract_id", json!("K-SAMPLE-001")),
        ],
    )?;
    library.submit(&cy, &complete)?;
    library.approve(
        &rosa,
        &Selection::Assets(vec![approved.clone()]),
        Some("Sample: rights and contract checked"),
    )?;
    // Licensed but with no contract or payout details: the gates quarantine it.
    let lacking = Selection::Assets(vec![quarantined.clone()]);
    library.edit(
        &cy,
        &lacking,
        &[Change::set("license_tag", json!("PAY-ONE"))],
    )?;
    library.submit(&cy, &lacking)?;

    Ok(SampleLibrary {
        root: dir.to_owned(),
        imported: summary.imported,
        licensed,
        approved,
        quarantined,
    })
}
