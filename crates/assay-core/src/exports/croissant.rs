//! A Croissant 1.1 view of a manifest export: the same approved assets, as a
//! dataset MLCommons' tools read (`mlcroissant validate` accepts it).
//!
//! Each asset is a `cr:FileObject` in `distribution`, named by its file name
//! relative to the document, with its media type, size and SHA-256. Its
//! license is a schema.org `license` on the file (a FileObject is a
//! CreativeWork), pointing at one of the dataset's `license` entries, one per
//! distinct license tag; its attribution is `creditText`; a video's or audio
//! file's length is `duration`, and a video's frame size `videoFrameSize`.
//!
//! There is no `recordSet`. Croissant draws a record set's fields from file
//! contents or embeds them as `data`: drawn from a signed manifest, the view
//! would be incomplete without that second file beside it; embedded, every
//! asset would be listed twice. The per-file `license` says the same without
//! either.
//!
//! The document is not signed; the signed manifest is the proof. The `export`
//! events of a Croissant view record the hash of its bytes as written (not of
//! canonical JSON, as a manifest's do), so `sha256sum` checks it.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::assets::now;
use crate::catalog::library::Library;
use crate::error::{Error, Result};
use crate::exports::manifest::{str_field, Document, Entry, ManifestExport};
use crate::identity::users::Actor;
use crate::job::Job;
use crate::rights::edit::Selection;

pub(crate) const CROISSANT_1_1: &str = "http://mlcommons.org/croissant/1.1";

impl Library {
    /// Exports the approved assets of `selection` to a Croissant 1.1 dataset
    /// at `out`, as [`Library::export_manifest`] does to a signed manifest:
    /// the same assets, the same refusals, an `export` event on each.
    pub fn export_croissant(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
    ) -> Result<ManifestExport> {
        self.export_croissant_with(actor, selection, out, &mut Job::quiet())
    }

    /// [`Library::export_croissant`] as a job: progress in assets, and a
    /// cancel that leaves neither the file nor its events.
    pub fn export_croissant_with(
        &self,
        actor: &Actor,
        selection: &Selection,
        out: &Path,
        job: &mut Job,
    ) -> Result<ManifestExport> {
        self.export_document(
            actor,
            selection,
            out,
            |entries, licenses| dataset(actor, &entries, &licenses),
            job,
        )
    }
}

/// The Croissant dataset listing the manifest `entries`.
fn dataset(actor: &Actor, entries: &[Entry], rights: &Map<String, Value>) -> Result<Document> {
    let id = format!("urn:uuid:{}", uuid::Uuid::new_v4());
    let at = now();
    let day = at.get(..10).unwrap_or(&at);
    let mut licenses = BTreeMap::new();
    let mut files = Vec::with_capacity(entries.len());
    for entry in entries {
        let tag = entry.license_tag.as_str();
        licenses
            .entry(tag)
            .or_insert_with(|| license(tag, rights.get(tag).unwrap_or(&Value::Null)));
        files.push(file_object(entry)?);
    }
    let name = format!("Assets exported by {} on {day}", actor.name());
    let doc = json!({
        "@context": context(),
        "@type": "sc:Dataset",
        "@id": id,
        "dct:conformsTo": CROISSANT_1_1,
        "name": name,
        "description": format!(
            "{} approved asset{}, each with its license, checksum and size, exported from an Assay library by {}, a rights manager.",
            entries.len(),
            if entries.len() == 1 { "" } else { "s" },
            actor.name()
        ),
        // Croissant requires a URL; an export has no web page, so its URN stands in.
        "url": id,
        // Each export is a dataset of its own, so always its first version.
        "version": "1.0.0",
        "datePublished": at,
        "creator": {"@type": "sc:Person", "name": actor.name()},
        "citeAs": format!("{}. {name}. {id}.", actor.name()),
        "license": licenses.into_values().collect::<Vec<_>>(),
        "distribution": files,
    });
    let bytes = serde_json::to_vec_pretty(&doc).map_err(|e| Error::Internal(e.to_string()))?;
    let hash = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    Ok(Document {
        data: json!({"format": "croissant", "manifest_id": id, "manifest_hash": hash}),
        id,
        hash,
        bytes,
        // mlcroissant is the judge of a Croissant file; the tests run it.
        check: None,
    })
}

/// The `@id` of a license tag's entry in the dataset's `license`.
pub(crate) fn license_id(tag: &str) -> String {
    format!("license/{tag}")
}

/// A license tag as a schema.org CreativeWork, from the manifest entry's
/// `license` (the taxonomy's tag).
pub(crate) fn license(tag: &str, license: &Value) -> Value {
    let mut work = json!({
        "@type": "sc:CreativeWork",
        "@id": license_id(tag),
        "name": tag,
        "description": format!(
            "{}: {}",
            str_field(license, "label"),
            str_field(license, "explanation")
        ),
    });
    if let Some(url) = license.get("web_statement").and_then(Value::as_str) {
        work["url"] = json!(url);
    }
    work
}

/// One asset's `cr:FileObject`, from its manifest entry.
fn file_object(entry: &Entry) -> Result<Value> {
    let asset_id = entry.asset_id.as_str();
    let checksum = entry.checksum.as_str();
    // Croissant's sha256 is the bare hex digest.
    let sha256 = checksum
        .strip_prefix("sha256:")
        .ok_or_else(|| Error::Invalid {
            asset_id: asset_id.to_owned(),
            pointer: "/checksum".to_owned(),
            reason: format!("{checksum:?} is not a sha256: checksum"),
        })?;
    let file_name = entry.file_name.as_str();
    let size = u64::try_from(entry.size_bytes).map_err(|_| Error::Invalid {
        asset_id: asset_id.to_owned(),
        pointer: "/size_bytes".to_owned(),
        reason: format!("{} is not a size", entry.size_bytes),
    })?;
    let mut file = json!({
        "@type": "cr:FileObject",
        "@id": asset_id,
        "name": file_name,
        "contentUrl": file_name,
        "encodingFormat": entry.media_type,
        "contentSize": format!("{size} B"),
        "sha256": sha256,
        "license": {"@id": license_id(&entry.license_tag)},
    });
    if let Some(credit) = &entry.creator_attribution_text {
        file["creditText"] = json!(credit);
    }
    if let (Some(media), Some(terms)) = (&entry.media, file.as_object_mut()) {
        terms.extend(media_terms(media));
    }
    Ok(file)
}

/// A video's or audio file's container facts as schema.org's MediaObject
/// and VideoObject terms (a FileObject is a CreativeWork): `duration` in
/// ISO 8601 and `videoFrameSize` as WIDTHxHEIGHT.
fn media_terms(media: &Value) -> Map<String, Value> {
    let mut terms = Map::new();
    if let Some(seconds) = media["duration"]
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0)
    {
        // Milliseconds at most, without trailing zeros: PT12.5S, PT3S.
        let text = format!("{seconds:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        terms.insert("duration".into(), json!(format!("PT{text}S")));
    }
    let video = &media["video"];
    if let (Some(w), Some(h)) = (video["width"].as_u64(), video["height"].as_u64()) {
        terms.insert("videoFrameSize".into(), json!(format!("{w}x{h}")));
    }
    terms
}

/// The terms of the Croissant 1.1 context that are plain `cr:` names.
const CROISSANT_TERMS: &[&str] = &[
    "annotation",
    "arrayShape",
    "citeAs",
    "column",
    "containedIn",
    "equivalentProperty",
    "excludes",
    "extract",
    "field",
    "fileProperty",
    "fileObject",
    "fileSet",
    "format",
    "includes",
    "isArray",
    "isLiveDataset",
    "jsonPath",
    "key",
    "md5",
    "parentField",
    "path",
    "readLines",
    "recordSet",
    "references",
    "regex",
    "repeated",
    "replace",
    "samplingRate",
    "sdVersion",
    "separator",
    "source",
    "subField",
    "transform",
    "unArchive",
    "value",
];

/// The JSON-LD context of Croissant 1.1: the spec's (its Appendix 1) with the
/// terms mlcroissant also expects, and schema.org over https, as the spec's
/// example datasets and mlcroissant have it (over http, mlcroissant does not
/// see a schema.org Dataset).
pub(crate) fn context() -> Value {
    let mut context = json!({
        "@language": "en",
        "@vocab": "https://schema.org/",
        "sc": "https://schema.org/",
        "cr": "http://mlcommons.org/croissant/",
        "rai": "http://mlcommons.org/croissant/RAI/",
        "dct": "http://purl.org/dc/terms/",
        "conformsTo": "dct:conformsTo",
        "data": {"@id": "cr:data", "@type": "@json"},
        "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
        "description": {"@container": "@language"},
        "examples": {"@id": "cr:examples", "@type": "@json"},
        "name": {"@container": "@language"},
    });
    for term in CROISSANT_TERMS {
        context[*term] = json!(format!("cr:{term}"));
    }
    context
}
