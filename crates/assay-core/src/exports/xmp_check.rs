//! Checking XMP sidecars against the library: each sidecar is read back and
//! compared, property by property, with the sidecar `export_xmp` would write
//! for its asset now, read by the same reader. A sidecar whose provenance
//! hash is an earlier event of its asset's chain is stale, not tampered
//! with; the original beside a sidecar is hashed and compared with the
//! catalog.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::library::Library;
use crate::catalog::record::AssetRecord;
use crate::error::{Error, Result};
use crate::exports::xmp_sidecar::{self, ASSET_ID, CHECKSUM, PROPERTIES, PROVENANCE_HASH};
use crate::formats::xmp::{self, Packet, ASSAY_NS};
use crate::rights::edit::Selection;
use crate::rights::licenses::Taxonomy;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct XmpCheck {
    /// Sidecars looked at, whether they held or not.
    pub checked: usize,
    /// One line per problem, each naming the sidecar (or original) and the
    /// property.
    pub failures: Vec<String>,
}

impl Library {
    /// Checks the sidecar of each asset of `selection` where `export_xmp`
    /// puts it: beside its first present location, or in `dir`. A missing
    /// sidecar, or one that names another asset, is a failure.
    pub fn verify_xmp(&self, selection: &Selection, dir: Option<&Path>) -> Result<XmpCheck> {
        let taxonomy = self.taxonomy()?;
        let mut check = XmpCheck {
            checked: 0,
            failures: Vec::new(),
        };
        for record in self.selected(selection)? {
            match xmp_sidecar::sidecar_path(&record, dir) {
                Ok(path) => self.check(&path, Some(record), &taxonomy, &mut check)?,
                Err(reason) => check
                    .failures
                    .push(format!("asset {}: {reason}", record.asset_id)),
            }
        }
        Ok(check)
    }

    /// Checks sidecar files, each against the asset its assay:AssetID names.
    pub fn verify_xmp_files(&self, sidecars: &[PathBuf]) -> Result<XmpCheck> {
        let taxonomy = self.taxonomy()?;
        let mut check = XmpCheck {
            checked: 0,
            failures: Vec::new(),
        };
        for path in sidecars {
            self.check(path, None, &taxonomy, &mut check)?;
        }
        Ok(check)
    }

    /// Checks one sidecar against `asset`, or the asset it names.
    fn check(
        &self,
        path: &Path,
        asset: Option<AssetRecord>,
        taxonomy: &Taxonomy,
        check: &mut XmpCheck,
    ) -> Result<()> {
        check.checked += 1;
        let at = |message: String| format!("{}: {message}", path.display());
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                check.failures.push(at("no sidecar here".into()));
                return Ok(());
            }
            Err(e) => {
                check.failures.push(at(e.to_string()));
                return Ok(());
            }
        };
        let packet = match xmp::parse(&bytes) {
            Ok(packet) => packet,
            Err(e) => {
                check.failures.push(at(format!("not readable XMP: {e}")));
                return Ok(());
            }
        };
        if !packet.uses(ASSAY_NS) {
            let problem = format!("not an Assay sidecar: nothing in {ASSAY_NS}");
            check.failures.push(at(problem));
            return Ok(());
        }
        let record = match asset {
            Some(record) => record,
            None => match self.named(&packet)? {
                Ok(record) => record,
                Err(problem) => {
                    check.failures.push(at(problem));
                    return Ok(());
                }
            },
        };
        check.failures.extend(original_beside(path, &record));
        // What export would write now, read back the same way, so meaning
        // is compared, never layout.
        let wanted = xmp::parse(xmp_sidecar::sidecar(&record, taxonomy).as_bytes())
            .map_err(|e| Error::Internal(format!("asset {}: its sidecar: {e}", record.asset_id)))?;
        let mut differences: Vec<Difference> = PROPERTIES
            .iter()
            .filter_map(|&(name, path)| {
                let (is, says) = (packet.items(path), wanted.items(path));
                (is != says).then_some(Difference {
                    name,
                    path,
                    is,
                    says,
                })
            })
            .collect();
        // The kinds of the events after the one the sidecar was written at.
        let mut later: Option<Vec<&str>> = None;
        let chain;
        let hash_differs = differences.iter().any(|d| d.path == PROVENANCE_HASH);
        if let (true, Some(hash)) = (hash_differs, packet.text(PROVENANCE_HASH)) {
            chain = self.provenance(&record.asset_id)?;
            match chain.iter().position(|e| e.hash == hash) {
                Some(i) => later = Some(chain[i + 1..].iter().map(|e| e.kind.as_str()).collect()),
                None => {
                    differences.retain(|d| d.path != PROVENANCE_HASH);
                    let head = record.workflow.provenance_hash.as_deref();
                    check.failures.push(at(format!(
                        "assay:ProvenanceHash {hash:?} is no event of asset {}'s provenance: \
                         altered (the catalog says {:?})",
                        record.asset_id,
                        head.unwrap_or_default()
                    )));
                }
            }
        }
        let Some(later) = later else {
            check
                .failures
                .extend(differences.iter().map(|d| at(d.to_string())));
            return Ok(());
        };
        // The id and checksum never change with an asset's events, so a
        // stale sidecar does not explain a difference in them.
        let (own, explained): (Vec<_>, Vec<_>) = differences
            .iter()
            .filter(|d| d.path != PROVENANCE_HASH)
            .partition(|d| d.path == ASSET_ID || d.path == CHECKSUM);
        check.failures.extend(own.iter().map(|d| at(d.to_string())));
        let names: Vec<&str> = explained.iter().map(|d| d.name).collect();
        check.failures.push(at(format!(
            "assay:ProvenanceHash is stale: the asset changed since this sidecar was written: \
             {} later event{} ({}); export it again{}",
            later.len(),
            if later.len() == 1 { "" } else { "s" },
            later.join(", "),
            if names.is_empty() {
                String::new()
            } else {
                format!(" (it also differs in {})", names.join(", "))
            }
        )));
        Ok(())
    }

    /// The asset a sidecar's assay:AssetID names, exactly (not by prefix,
    /// checksum or path as `record` would also resolve it); the error says
    /// what is wrong with the field.
    fn named(&self, packet: &Packet) -> Result<Result<AssetRecord, String>> {
        let Some(id) = packet.text(ASSET_ID) else {
            return Ok(Err("assay:AssetID is missing".into()));
        };
        match self.record(id) {
            Ok(record) if record.asset_id == id => Ok(Ok(record)),
            Ok(_) | Err(Error::NotFound(_) | Error::Ambiguous(_)) => Ok(Err(format!(
                "assay:AssetID {id:?} names no asset in this library"
            ))),
            Err(e) => Err(e),
        }
    }
}

/// A property whose value in the sidecar is not the catalog's.
struct Difference<'a> {
    name: &'static str,
    path: &'static [(&'static str, &'static str)],
    is: Vec<&'a str>,
    says: Vec<&'a str>,
}

impl std::fmt::Display for Difference<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let quoted = |values: &[&str]| match values {
            [one] => format!("{one:?}"),
            many => format!("{many:?}"),
        };
        let name = self.name;
        match (self.is.as_slice(), self.says.as_slice()) {
            ([], says) => write!(f, "{name} is missing but the catalog says {}", quoted(says)),
            (is, []) => write!(f, "{name} is {} but the catalog has none", quoted(is)),
            (is, says) => write!(
                f,
                "{name} is {} but the catalog says {}",
                quoted(is),
                quoted(says)
            ),
        }
    }
}

/// The original beside a sidecar (`NAME.EXT` for `NAME.EXT.xmp`), hashed and
/// compared with the asset's checksum; `None` when it holds or is not there.
fn original_beside(sidecar: &Path, record: &AssetRecord) -> Option<String> {
    let name = sidecar.file_name()?.to_str()?;
    let original = sidecar.with_file_name(name.strip_suffix(".xmp")?);
    if !original.is_file() {
        return None;
    }
    let shown = original.display();
    match crate::formats::one_pass::hash_file(&original) {
        Ok((checksum, _)) if checksum == record.checksum => None,
        Ok((checksum, _)) => Some(format!(
            "{shown}: the file changed: its bytes are {checksum} but asset {}'s checksum is {}",
            record.asset_id, record.checksum
        )),
        Err(e) => Some(format!("{shown}: {e}")),
    }
}
