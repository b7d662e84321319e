//! Croissant 1.1 for each dataset version: the shards as `cr:FileObject`s
//! (SHA-256 and size), RecordSets over their fields that `mlcroissant`
//! loads, the licenses and their terms of use, the lineage the provenance
//! chains record (PROV-O), and the responsible-AI fields Assay knows.
//!
//! What mlcroissant can read decides the RecordSets' shape:
//! - Parquet: one `samples` RecordSet over a FileSet of the version's
//!   shards, a field per column.
//! - WebDataset: mlcroissant reads members of a tar only by file property
//!   (name, content), not by JSON path, so there is a `records` RecordSet
//!   (each sample's id and its manifest entry as JSON text) and one RecordSet
//!   of files per member extension (the id and the bytes). The license
//!   member is left to the records, which name the tag.
//!
//! The document is not signed; it names the signed dataset manifest (by
//! name and SHA-256) that is the proof, and the build's events record the
//! manifest's hash.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::Connection;
use serde_json::{json, Map, Value};

use crate::datasets::manifest::ShardEntry;
use crate::datasets::shards::{self, ShardFormat, RECORD_MEMBER};
use crate::datasets::versions::Changes;
use crate::error::{Error, Result};
use crate::exports::croissant::{context, license, CROISSANT_1_1};
use crate::exports::manifest::{str_field, Listed, RefusedAsset};

/// What a version's Croissant describes.
pub(crate) struct Described<'a> {
    pub dataset_id: &'a str,
    pub name: &'a str,
    pub version: u32,
    pub parent: Option<u32>,
    pub format: ShardFormat,
    pub delta: bool,
    pub created_at: &'a str,
    pub signer: &'a str,
    pub listed: &'a [Listed],
    pub shards: &'a [ShardEntry],
    pub changes: &'a Changes,
    pub left_out: &'a [RefusedAsset],
    /// The rights of each license tag the version's assets carry.
    pub licenses: &'a Map<String, Value>,
    /// The signed manifest's file name and `sha256:`.
    pub manifest: (&'a str, &'a str),
}

/// The id of a version's Croissant dataset.
fn version_id(dataset_id: &str, version: u32) -> String {
    format!("{dataset_id}/v{version}")
}

/// The Croissant document of a version, as bytes to write.
pub(crate) fn document(conn: &Connection, d: &Described) -> Result<Vec<u8>> {
    let id = version_id(d.dataset_id, d.version);
    let mut context = context();
    context["prov"] = json!("http://www.w3.org/ns/prov#");
    let (licenses, usage) = terms(d.licenses);
    let mut distribution: Vec<Value> = d
        .shards
        .iter()
        .map(|s| shard_object(&s.name, &s.sha256, s.size_bytes, d.format))
        .collect::<Result<_>>()?;
    let record_sets = match d.format {
        ShardFormat::Parquet => parquet_records(
            !d.shards.is_empty(),
            format!("{}-v{}-*.parquet", d.name, d.version),
            &mut distribution,
        ),
        ShardFormat::WebDataset => {
            let in_shards: BTreeSet<&str> = d
                .shards
                .iter()
                .flat_map(|s| s.assets.iter().map(String::as_str))
                .collect();
            let files = d
                .listed
                .iter()
                .map(|l| &l.entry)
                .filter(|e| in_shards.contains(e.asset_id.as_str()))
                .map(|e| (e.file_name.as_str(), e.media_type.as_str()));
            let archives: Vec<&str> = d.shards.iter().map(|s| s.name.as_str()).collect();
            member_records(Some(&archives), files, &mut distribution)
        }
    };
    let what = match d.delta {
        true => format!(
            "a delta against version {}: its shards hold the {} assets added and {} changed; {} withdrawn are listed in the signed manifest",
            d.parent.unwrap_or_default(),
            d.changes.added.len(),
            d.changes.changed.len(),
            d.changes.withdrawn.len()
        ),
        false => format!("its shards hold all {} assets", d.listed.len()),
    };
    let mut doc = json!({
        "@context": context,
        "@type": "sc:Dataset",
        "@id": id,
        "dct:conformsTo": CROISSANT_1_1,
        "name": d.name,
        "description": format!(
            "Version {} of dataset {}: {} assets approved for AI training by the rights managers of an Assay library, in {} {} shards; {what}. The signed dataset manifest {} is the proof of every checksum and license.",
            d.version,
            d.name,
            d.listed.len(),
            d.shards.len(),
            d.format.as_str(),
            d.manifest.0
        ),
        // Croissant requires a URL; a version has no web page, so its URN stands in.
        "url": id,
        "version": format!("{}.0.0", d.version),
        "datePublished": d.created_at,
        "creator": {"@type": "sc:Person", "name": d.signer},
        "citeAs": format!("{}. {} version {}. {id}.", d.signer, d.name, d.version),
        "license": licenses,
        "usageInfo": usage,
        "distribution": distribution,
        "recordSet": record_sets,
    });
    let rai = rai(conn, d)?;
    let lineage = lineage(conn, d)?;
    if let (Value::Object(doc), Value::Object(rai), Value::Object(lineage)) =
        (&mut doc, rai, lineage)
    {
        doc.extend(rai);
        doc.extend(lineage);
    }
    serde_json::to_vec_pretty(&doc).map_err(|e| Error::Internal(e.to_string()))
}

/// What a pulled folder holds of a version: shards (name, `sha256:`,
/// size), as built or converted, or its samples as loose files.
pub(crate) enum Holding {
    Shards(ShardFormat, Vec<(String, String, u64)>),
    Files,
}

/// The Croissant of a folder a pull filled, made from the newest version's
/// signed manifest `doc` alone (no library): its licenses and terms, and
/// RecordSets over what the folder holds now (after a delta's tombstones,
/// the earlier shards as they were rewritten). It names the manifest as
/// the proof; the RAI and lineage fields are the build's Croissant's,
/// which need the library.
pub(crate) fn folder_document(
    doc: &Value,
    manifest: (&str, &str),
    holding: &Holding,
) -> Result<Vec<u8>> {
    let name = str_field(doc, "name");
    let version = doc["version"].as_u64().unwrap_or_default();
    let id = format!("{}/v{version}", str_field(doc, "dataset_id"));
    let empty = Map::new();
    let rights = doc["licenses"].as_object().unwrap_or(&empty);
    let (licenses, usage) = terms(rights);
    let entries = doc["assets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let files = entries
        .iter()
        .map(|e| (str_field(e, "file_name"), str_field(e, "media_type")));
    let mut distribution = Vec::new();
    let (record_sets, what) = match holding {
        Holding::Shards(format, shards) => {
            for (shard, sha256, size) in shards {
                distribution.push(shard_object(shard, sha256, *size, *format)?);
            }
            let sets = match format {
                ShardFormat::Parquet => parquet_records(
                    !shards.is_empty(),
                    format!("{name}-v*.parquet"),
                    &mut distribution,
                ),
                ShardFormat::WebDataset => {
                    let archives: Vec<&str> = shards.iter().map(|(n, _, _)| n.as_str()).collect();
                    member_records(Some(&archives), files, &mut distribution)
                }
            };
            (
                sets,
                format!("in {} {} shards", shards.len(), format.as_str()),
            )
        }
        Holding::Files => (
            member_records(None, files, &mut distribution),
            "as one file per sample, named by asset id".to_owned(),
        ),
    };
    let signer = doc["signer"]["user"]
        .as_str()
        .unwrap_or("the rights manager");
    let doc = json!({
        "@context": context(),
        "@type": "sc:Dataset",
        "@id": id,
        "dct:conformsTo": CROISSANT_1_1,
        "name": name,
        "description": format!(
            "Version {version} of dataset {name} as pulled from a marketplace, {what}: {} assets approved for AI training. The signed dataset manifest {} is the proof of every checksum and license.",
            entries.len(),
            manifest.0
        ),
        "url": id,
        "version": format!("{version}.0.0"),
        "datePublished": str_field(doc, "created_at"),
        "creator": {"@type": "sc:Person", "name": signer},
        "citeAs": format!("{signer}. {name} version {version}. {id}."),
        "license": licenses,
        "usageInfo": usage,
        "distribution": distribution,
        "recordSet": record_sets,
        "isBasedOn": {"@id": format!("urn:{}", manifest.1), "name": manifest.0},
    });
    serde_json::to_vec_pretty(&doc).map_err(|e| Error::Internal(e.to_string()))
}

/// The `license` and `usageInfo` of the license tags `rights` names.
fn terms(rights: &Map<String, Value>) -> (Vec<Value>, Vec<Value>) {
    let licenses = rights.iter().map(|(tag, r)| license(tag, r)).collect();
    let usage = rights
        .iter()
        .map(|(tag, r)| {
            json!({
                "@type": "sc:CreativeWork",
                "name": format!("Terms of {tag}"),
                "description": usage_text(tag, r),
            })
        })
        .collect();
    (licenses, usage)
}

/// What a license tag lets a trainer do, in words.
fn usage_text(tag: &str, rights: &Value) -> String {
    let list = |key: &str| {
        rights[key]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "none".to_owned())
    };
    format!(
        "{tag}: {} AI training allowed: {}. Attribution required: {}. Rights granted: {}. Restrictions: {}.",
        rights["explanation"].as_str().unwrap_or_default(),
        yes_no(&rights["ai_training_allowed"]),
        yes_no(&rights["attribution_required"]),
        list("rights_granted"),
        list("restrictions"),
    )
}

fn yes_no(value: &Value) -> &'static str {
    match value.as_bool() {
        Some(true) => "yes",
        _ => "no",
    }
}

fn shard_object(name: &str, sha256: &str, size_bytes: u64, format: ShardFormat) -> Result<Value> {
    let sha256 = sha256
        .strip_prefix("sha256:")
        .ok_or_else(|| Error::Internal(format!("shard {name}: not a sha256: digest")))?;
    Ok(json!({
        "@type": "cr:FileObject",
        "@id": name,
        "name": name,
        "contentUrl": name,
        "encodingFormat": match format {
            ShardFormat::WebDataset => "application/x-tar",
            // mlcroissant knows Parquet by this name.
            ShardFormat::Parquet => "application/x-parquet",
        },
        "contentSize": format!("{size_bytes} B"),
        "sha256": sha256,
    }))
}

fn field(record_set: &str, name: &str, data_type: &str, source: Value, about: &str) -> Value {
    json!({
        "@type": "cr:Field",
        "@id": format!("{record_set}/{name}"),
        "name": name,
        "description": about,
        "dataType": data_type,
        "source": source,
    })
}

/// The `samples` RecordSet over the Parquet shards `includes` matches,
/// when there are any.
fn parquet_records(any: bool, includes: String, distribution: &mut Vec<Value>) -> Vec<Value> {
    if !any {
        return Vec::new();
    }
    let set = "shards";
    distribution.push(json!({
        "@type": "cr:FileSet",
        "@id": set,
        "name": set,
        "description": "The Parquet shards, one row per asset.",
        "encodingFormat": "application/x-parquet",
        "includes": includes,
    }));
    let fields: Vec<Value> = shards::COLUMNS
        .iter()
        .map(|c| {
            field(
                "samples",
                c.name,
                c.kind.croissant(),
                json!({"fileSet": {"@id": set}, "extract": {"column": c.name}}),
                c.about,
            )
        })
        .collect();
    vec![json!({
        "@type": "cr:RecordSet",
        "@id": "samples",
        "name": "samples",
        "description": "One row per asset, with the file's bytes.",
        "key": {"@id": "samples/asset_id"},
        "field": fields,
    })]
}

/// A sample's id: the member name up to its first dot.
const KEY_OF_MEMBER: &str = r"^([^.]*)\..*$";

/// The RecordSets of samples kept as files named `<asset_id>.<ext>` (and,
/// in tar shards, `<asset_id>.record.json`): inside the tar shards
/// `archives`, or loose in the folder when `None`. `files` are the
/// samples' file names and media types.
fn member_records<'a>(
    archives: Option<&[&str]>,
    files: impl Iterator<Item = (&'a str, &'a str)>,
    distribution: &mut Vec<Value>,
) -> Vec<Value> {
    if archives.is_some_and(|a| a.is_empty()) {
        return Vec::new();
    }
    let contained: Option<Vec<Value>> =
        archives.map(|a| a.iter().map(|name| json!({"@id": name})).collect());
    // One file set per member extension, with the media type its files have.
    let mut kinds: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (file_name, media_type) in files {
        kinds
            .entry(shards::member_extension(file_name))
            .or_default()
            .insert(media_type);
    }
    let member = |set: &str, pattern: String, media_type: &str, about: &str| {
        let mut set = json!({
            "@type": "cr:FileSet",
            "@id": set,
            "name": set,
            "description": about,
            "encodingFormat": media_type,
            "includes": pattern,
        });
        if let Some(archives) = &contained {
            set["containedIn"] = json!(archives);
        }
        set
    };
    let id_field = |record_set: &str, set: &str| {
        field(
            record_set,
            "asset_id",
            "sc:Text",
            json!({
                "fileSet": {"@id": set},
                "extract": {"fileProperty": "filename"},
                "transform": {"regex": KEY_OF_MEMBER},
            }),
            "The asset's id: the sample's key.",
        )
    };
    let content_field = |record_set: &str, set: &str, name: &str, data_type: &str, about: &str| {
        field(
            record_set,
            name,
            data_type,
            json!({"fileSet": {"@id": set}, "extract": {"fileProperty": "content"}}),
            about,
        )
    };
    let mut sets = Vec::new();
    // Loose files have no record beside them: the manifest holds it.
    if contained.is_some() {
        distribution.push(member(
            "record-members",
            format!("*.{RECORD_MEMBER}"),
            "application/json",
            "Each sample's manifest entry.",
        ));
        sets.push(json!({
            "@type": "cr:RecordSet",
            "@id": "records",
            "name": "records",
            "description": "Each sample's manifest entry (checksum, license tag, attribution, provenance head), as JSON text.",
            "key": {"@id": "records/asset_id"},
            "field": [
                id_field("records", "record-members"),
                content_field("records", "record-members", "record", "sc:Text", "The manifest entry, JSON."),
            ],
        }));
    }
    for (extension, media_types) in kinds {
        let set = format!("{extension}-members");
        let record_set = format!("{extension}-files");
        // One media type names the set; a set of several says only bytes.
        let media_type = match media_types.len() {
            1 => media_types
                .first()
                .copied()
                .unwrap_or("application/octet-stream"),
            _ => "application/octet-stream",
        };
        let data_type = match media_type.split('/').next() {
            Some("image") => "sc:ImageObject",
            Some("audio") => "sc:AudioObject",
            Some("video") => "sc:VideoObject",
            _ => "sc:Text",
        };
        distribution.push(member(
            &set,
            format!("*.{extension}"),
            media_type,
            &format!("The samples' .{extension} files."),
        ));
        sets.push(json!({
            "@type": "cr:RecordSet",
            "@id": record_set,
            "name": record_set,
            "description": format!("The samples' .{extension} files, by asset id."),
            "field": [
                id_field(&record_set, &set),
                content_field(&record_set, &set, "content", data_type, "The file."),
            ],
        }));
    }
    sets
}

/// The responsible-AI fields: how the data was collected, what personal
/// and sensitive information the PII scan and the sensitivity flags found,
/// what the licenses allow it to be used for, what was left out and why,
/// and how versions are maintained.
fn rai(conn: &Connection, d: &Described) -> Result<Value> {
    let rows: Vec<i64> = d.listed.iter().map(|l| l.row).collect();
    let ids = serde_json::to_string(&rows).map_err(|e| Error::Internal(e.to_string()))?;
    let mut flags: BTreeMap<String, usize> = BTreeMap::new();
    let mut pii: BTreeMap<String, usize> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT json_extract(rights, '$.sensitive_flags'), json_extract(rights, '$.pii_findings')
         FROM assets WHERE id IN (SELECT value FROM json_each(?1))",
    )?;
    let mut cursor = stmt.query([ids])?;
    while let Some(r) = cursor.next()? {
        let read = |i: usize| -> rusqlite::Result<Value> {
            Ok(r.get_ref(i)?
                .as_str_or_null()
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or(Value::Null))
        };
        for flag in read(0)?.as_array().into_iter().flatten() {
            if let Some(flag) = flag.as_str() {
                *flags.entry(flag.to_owned()).or_default() += 1;
            }
        }
        for (kind, hits) in read(1)?.as_object().into_iter().flatten() {
            *pii.entry(kind.clone()).or_default() += hits.as_u64().unwrap_or_default() as usize;
        }
    }
    let count = |map: &BTreeMap<String, usize>| {
        map.iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let personal = match (flags.is_empty(), pii.is_empty()) {
        (true, true) => "No asset in this version is flagged sensitive, and the PII scan found nothing in its datasets.".to_owned(),
        _ => format!(
                "Assets flagged sensitive by their stewards and creators, per flag: {}. Hits of the PII scan of tabular assets, per kind: {}.",
                if flags.is_empty() { "none".to_owned() } else { count(&flags) },
                if pii.is_empty() { "none".to_owned() } else { count(&pii) },
            ),
    };
    let dates: BTreeSet<&str> = d
        .listed
        .iter()
        .filter_map(|l| l.entry.capture_date.as_deref())
        .collect();
    let timeframe: Vec<&str> = match (dates.first(), dates.last()) {
        (Some(first), Some(last)) => vec![first, last],
        _ => Vec::new(),
    };
    let uses: Vec<String> = d
        .licenses
        .iter()
        .map(|(tag, rights)| usage_text(tag, rights))
        .collect();
    Ok(json!({
        "rai:dataCollection": "Files imported into an Assay library by their creators, each checked by SHA-256 at import, given a license tag, and approved by a rights manager; the provenance chain of every asset records each step, signed.",
        "rai:dataCollectionType": "Manual Human Curated",
        "rai:dataCollectionTimeframe": timeframe,
        "rai:personalSensitiveInformation": personal,
        "rai:dataUseCases": uses,
        "rai:dataLimitations": format!(
            "{} assets the selection matched were left out (not approved, or a license that does not allow AI training); the signed manifest lists each with the reason.",
            d.left_out.len()
        ),
        "rai:dataReleaseMaintenancePlan": "Versions are immutable. Each later version lists, against its parent, the assets added, changed and withdrawn; a holder of an earlier version deletes the withdrawn ones (the tombstones in the signed manifest).",
    }))
}

/// PROV-O lineage from the provenance chains of the version's assets: one
/// activity per kind of event (who, from when to when, how many), the
/// build itself, and the version it derives from.
fn lineage(conn: &Connection, d: &Described) -> Result<Value> {
    let rows: Vec<i64> = d.listed.iter().map(|l| l.row).collect();
    let ids = serde_json::to_string(&rows).map_err(|e| Error::Internal(e.to_string()))?;
    let mut stmt = conn.prepare(
        "SELECT kind, json_extract(body, '$.actor.user'), min(json_extract(body, '$.at')),
                max(json_extract(body, '$.at')), count(*)
         FROM events WHERE asset IN (SELECT value FROM json_each(?1))
         GROUP BY kind, json_extract(body, '$.actor.user') ORDER BY 3",
    )?;
    let mut activities: Vec<Value> = stmt
        .query_map([ids], |r| {
            let kind: String = r.get(0)?;
            let user: Option<String> = r.get(1)?;
            let count: i64 = r.get(4)?;
            Ok(json!({
                "@type": "prov:Activity",
                "prov:type": kind,
                "prov:wasAssociatedWith": user.map_or_else(
                    || json!({"@type": "prov:SoftwareAgent", "name": "the library"}),
                    |u| json!({"@type": "prov:Person", "name": u}),
                ),
                "prov:startedAtTime": r.get::<_, Option<String>>(2)?,
                "prov:endedAtTime": r.get::<_, Option<String>>(3)?,
                "description": format!("{count} signed {kind} events on this version's assets"),
            }))
        })?
        .collect::<rusqlite::Result<_>>()?;
    activities.push(json!({
        "@type": "prov:Activity",
        "prov:type": "dataset_build",
        "prov:wasAssociatedWith": {"@type": "prov:Person", "name": d.signer},
        "prov:endedAtTime": d.created_at,
        "description": format!(
            "This build, recorded on each asset; the signed dataset manifest {} ({}).",
            d.manifest.0, d.manifest.1
        ),
    }));
    let mut derived = vec![json!({"@id": format!("urn:{}", d.manifest.1), "name": d.manifest.0})];
    if let Some(parent) = d.parent {
        derived.push(json!({"@id": version_id(d.dataset_id, parent)}));
    }
    Ok(json!({
        "prov:wasGeneratedBy": activities,
        "prov:wasDerivedFrom": derived,
    }))
}
