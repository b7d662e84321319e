//! Dataset builds: signed, sharded versions that record what changed, ship
//! deltas, carry a checkpoint, put an event on every asset they hold, and
//! leave nothing behind when they fail or are cancelled.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use assay_core::{
    verify_dataset_manifest, BuildOptions, Change, DatasetBuild, Error, Filter, ImportOptions, Job,
    Progress, Selection, ShardFormat, Unit,
};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::croissant::{load_records, validate};
use crate::manifest::{approved_world, rosa_key};
use crate::{corpus, World};

fn options(format: ShardFormat, out: &Path, shard_bytes: u64, delta: bool) -> BuildOptions {
    BuildOptions {
        format,
        out: out.to_owned(),
        shard_bytes,
        delta,
        credentials: false,
    }
}

fn build(w: &World, name: &str, options: &BuildOptions) -> Result<DatasetBuild, Error> {
    w.library
        .build_dataset(&w.rosa, name, options, &mut Job::quiet())
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn manifest_of(built: &DatasetBuild) -> (Vec<u8>, Value) {
    let bytes = std::fs::read(&built.manifest_path).unwrap();
    let doc = serde_json::from_slice(&bytes).unwrap();
    (bytes, doc)
}

/// Every member of a tar shard, by name.
fn tar_members(path: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    let mut members = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        members.insert(name, bytes);
    }
    members
}

/// A Parquet shard's rows, read with the `parquet` crate's Arrow reader.
struct Row {
    asset_id: String,
    checksum: String,
    width: Option<i64>,
    bytes: Vec<u8>,
    c2pa: Option<Vec<u8>>,
}

fn parquet_rows(path: &Path) -> Vec<Row> {
    use arrow_array::{Array, Int64Array, LargeBinaryArray, StringArray};
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let column = |name: &str| batch.column_by_name(name).unwrap().clone();
        let (ids, sums, widths) = (column("asset_id"), column("checksum"), column("width"));
        let (files, stores) = (column("bytes"), column("c2pa"));
        let text = |c: &std::sync::Arc<dyn Array>| {
            c.as_any().downcast_ref::<StringArray>().unwrap().clone()
        };
        let binary = |c: &std::sync::Arc<dyn Array>| {
            c.as_any()
                .downcast_ref::<LargeBinaryArray>()
                .unwrap()
                .clone()
        };
        let (ids, sums, files, stores) = (text(&ids), text(&sums), binary(&files), binary(&stores));
        let widths = widths.as_any().downcast_ref::<Int64Array>().unwrap();
        for i in 0..batch.num_rows() {
            rows.push(Row {
                asset_id: ids.value(i).to_owned(),
                checksum: sums.value(i).to_owned(),
                width: (!widths.is_null(i)).then(|| widths.value(i)),
                bytes: files.value(i).to_vec(),
                c2pa: (!stores.is_null(i)).then(|| stores.value(i).to_vec()),
            });
        }
    }
    rows
}

/// Every file in `dir`, hidden ones too.
fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|listing| {
            listing
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_webdataset_build_is_signed_sharded_checkable_and_an_event_on_every_asset() {
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "harbour", &Filter::default())
        .unwrap();
    let out = w.dir.path().join("shards");
    // Stewards curate; only a rights manager signs what leaves.
    let err = w
        .library
        .build_dataset(
            &sam,
            "harbour",
            &options(ShardFormat::WebDataset, &out, 1, false),
            &mut Job::quiet(),
        )
        .unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");

    // A one-byte target: each asset in a shard of its own.
    let built = build(
        &w,
        "HARBOUR",
        &options(ShardFormat::WebDataset, &out, 1, false),
    )
    .unwrap();
    assert_eq!((built.version, built.parent_version), (1, None));
    assert_eq!(built.assets, 2);
    let names: Vec<&str> = built.shards.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "harbour-v1-00000-of-00002.tar",
            "harbour-v1-00001-of-00002.tar"
        ]
    );
    assert_eq!(built.changes.added.len(), 2);
    assert!(built.changes.changed.is_empty() && built.changes.withdrawn.is_empty());
    assert_eq!(
        files_in(&out),
        BTreeSet::from([
            "harbour-v1-00000-of-00002.tar".to_owned(),
            "harbour-v1-00001-of-00002.tar".to_owned(),
            "harbour-v1.croissant.json".to_owned(),
            "harbour-v1.manifest.json".to_owned(),
        ])
    );

    let (bytes, doc) = manifest_of(&built);
    assert_eq!(sha256(&bytes), built.manifest_hash);
    assert_eq!(doc["@type"], "DatasetManifest");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["parent"], Value::Null);
    assert_eq!(doc["format"], "webdataset");
    assert_eq!(doc["signer"]["user"], "rosa");
    assert_eq!(doc["checkpoint"]["type"], "assay-checkpoint");
    let check = verify_dataset_manifest(&bytes, &[rosa_key(&w)], Some(&out));
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!((check.assets, check.shards_checked), (2, 2));
    // Another key is not the signer's.
    let stranger = w.library.user_public_key("cy").unwrap();
    let check = verify_dataset_manifest(&bytes, &[stranger], Some(&out));
    assert!(!check.failures.is_empty());

    // Each sample is the file, its manifest entry and its license, grouped
    // by the asset id; the file is the one the manifest's checksum names.
    let entries: BTreeMap<&str, &Value> = doc["assets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["asset_id"].as_str().unwrap(), a))
        .collect();
    for shard in &built.shards {
        let members = tar_members(&out.join(&shard.name));
        assert_eq!(members.len(), 3, "{:?}", members.keys());
        let id = shard.assets[0].as_str();
        let entry = entries[id];
        assert_eq!(sha256(&members[&format!("{id}.jpg")]), entry["checksum"]);
        let record: Value = serde_json::from_slice(&members[&format!("{id}.record.json")]).unwrap();
        assert_eq!(&record, entry);
        let license: Value =
            serde_json::from_slice(&members[&format!("{id}.license.json")]).unwrap();
        assert_eq!(license, doc["licenses"]["CC-BY-4.0"]);
        assert!(license["ai_training_allowed"].as_bool().unwrap());
    }

    // Croissant: MLCommons' validator accepts it, and mlcroissant loads
    // each sample's record and file from the shards.
    let croissant = Path::new(&built.croissant_path);
    validate(croissant);
    let records = load_records(croissant, "records");
    assert_eq!(records.len(), 2, "{records:?}");
    for r in &records {
        let id = r["asset_id"]["text"].as_str().unwrap();
        let record: Value = serde_json::from_str(r["record"]["text"].as_str().unwrap()).unwrap();
        assert_eq!(&record, entries[id]);
    }
    // The files come as images, of the size the catalog read.
    let files = load_records(croissant, "jpg-files");
    assert_eq!(files.len(), 2, "{files:?}");
    let catalog = w.library.list(&Filter::default()).unwrap();
    for f in &files {
        let id = f["asset_id"]["text"].as_str().unwrap();
        let record = catalog.iter().find(|r| r.asset_id == id).unwrap();
        assert_eq!(
            (
                f["content"]["width"].as_u64(),
                f["content"]["height"].as_u64()
            ),
            (record.width.map(u64::from), record.height.map(u64::from))
        );
    }
    let described: Value = serde_json::from_slice(&std::fs::read(croissant).unwrap()).unwrap();
    for (object, shard) in described["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&built.shards)
    {
        assert_eq!(object["name"], json!(shard.name));
        assert_eq!(
            json!(format!("sha256:{}", object["sha256"].as_str().unwrap())),
            json!(shard.sha256)
        );
        assert_eq!(
            object["contentSize"],
            json!(format!("{} B", shard.size_bytes))
        );
    }
    let kinds: BTreeSet<&str> = described["prov:wasGeneratedBy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["prov:type"].as_str().unwrap())
        .collect();
    for kind in ["import", "approval", "dataset_build"] {
        assert!(kinds.contains(kind), "{kinds:?}");
    }
    assert!(described["rai:personalSensitiveInformation"]
        .as_str()
        .unwrap()
        .starts_with("No asset"));
    assert!(described["rai:dataUseCases"][0]
        .as_str()
        .unwrap()
        .contains("AI training allowed: yes"));

    // The build is the newest event on every asset it holds, and the
    // dataset lists the version.
    for id in entries.keys() {
        let events = w.library.provenance(id).unwrap();
        let last = events.last().unwrap();
        assert_eq!(last.kind, "dataset_build");
        assert_eq!(last.data["manifest_hash"], json!(built.manifest_hash));
        assert_eq!(last.data["version"], 1);
        assert_eq!(last.user.as_deref(), Some("rosa"));
    }
    assert!(Path::new(&built.checkpoint).is_file());
    let view = w.library.dataset("harbour").unwrap();
    assert_eq!(view.versions.len(), 1);
    assert_eq!(view.versions[0].manifest_hash, built.manifest_hash);
    assert_eq!(view.versions[0].shards, 2);
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());

    // A shard changed after the build, or a manifest edited, is named.
    let first = out.join(&built.shards[0].name);
    let mut shard = std::fs::read(&first).unwrap();
    shard[700] ^= 1;
    std::fs::write(&first, &shard).unwrap();
    let check = w
        .library
        .verify_dataset_manifest_file(Path::new(&built.manifest_path))
        .unwrap();
    assert_eq!(check.failures.len(), 1, "{:?}", check.failures);
    assert!(
        check.failures[0].contains(&built.shards[0].name) && check.failures[0].contains("SHA-256"),
        "{:?}",
        check.failures
    );
    let mut edited = doc.clone();
    edited["left_out"] = json!([{"asset_id": "x", "reason": "hidden"}]);
    let edited = serde_json::to_vec(&edited).unwrap();
    let check = verify_dataset_manifest(&edited, &[rosa_key(&w)], None);
    assert!(
        check.failures.iter().any(|f| f.contains("signature")),
        "{:?}",
        check.failures
    );
}

/// Imports one more photo, as cy; returns its asset id.
fn import_third(w: &World) -> String {
    let dir = w.dir.path().join("more");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        corpus("exif-py/jpg/exif-org/canon-ixus.jpg"),
        dir.join("c.jpg"),
    )
    .unwrap();
    let options = ImportOptions {
        actor: Some(Arc::clone(&w.cy)),
        ..ImportOptions::default()
    };
    w.library.import(&[dir], &options, &mut |_| {}).unwrap();
    w.library
        .list(&Filter {
            text: Some("c.jpg".into()),
            ..Filter::default()
        })
        .unwrap()[0]
        .asset_id
        .clone()
}

/// Tags `ids` as the world's photos are and approves them: a draft is
/// submitted first, an approved asset an edit sent back to review is not.
fn approve(w: &World, sam: &assay_core::Actor, ids: &[&str], extra: &[Change]) {
    let these = Selection::Assets(ids.iter().map(|s| s.to_string()).collect());
    let mut changes = vec![
        Change::set("license_tag", json!("CC-BY-4.0")),
        Change::set("tax_and_payout_info", json!("acct_cy")),
        Change::set("signed_contract_id", json!("K-1")),
        Change::set("creator_name", json!("Cy")),
    ];
    changes.extend_from_slice(extra);
    w.library.edit(sam, &these, &changes).unwrap();
    let drafts = w.library.list(&Filter {
        state: Some("draft".into()),
        ..Filter::default()
    });
    if drafts
        .unwrap()
        .iter()
        .any(|r| ids.contains(&r.asset_id.as_str()))
    {
        w.library.submit(sam, &these).unwrap();
    }
    w.library.approve(&w.rosa, &these, None).unwrap();
}

#[test]
fn a_version_records_what_changed_and_a_delta_ships_only_that() {
    let (w, sam) = approved_world();
    let ids: Vec<String> = w
        .library
        .list(&Filter::default())
        .unwrap()
        .into_iter()
        .map(|r| r.asset_id)
        .collect();
    let (a, b) = (ids[0].clone(), ids[1].clone());
    let c = import_third(&w);
    w.library
        .create_dataset(&sam, "street", &Filter::default())
        .unwrap();
    let out = w.dir.path().join("street");
    // A delta needs a version to be a delta of.
    let err = build(&w, "street", &options(ShardFormat::Parquet, &out, 1, true)).unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "delta", .. }), "{err}");

    let v1 = build(
        &w,
        "street",
        &options(ShardFormat::Parquet, &out, 1 << 30, false),
    )
    .unwrap();
    assert_eq!(v1.shards.len(), 1);
    assert_eq!(v1.shards[0].name, "street-v1-00000-of-00001.parquet");
    assert_eq!(v1.left_out.len(), 1);
    assert_eq!(v1.left_out[0].asset_id, c);
    assert!(v1.left_out[0].reason.contains("draft"), "{:?}", v1.left_out);

    // c is approved (added), a retitled and approved again (changed), b's
    // license changed, which takes it out of the approved state (withdrawn).
    approve(
        &w,
        &sam,
        &[&c],
        &[Change::set("sensitive_flags", json!(["location"]))],
    );
    approve(
        &w,
        &sam,
        &[&a],
        &[Change::set("title", json!("Harbour at dawn"))],
    );
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![b.clone()]),
            &[Change::set("license_tag", json!("NO-TRAIN"))],
        )
        .unwrap();

    let v2 = build(
        &w,
        "street",
        &options(ShardFormat::Parquet, &out, 1 << 30, true),
    )
    .unwrap();
    assert_eq!(
        (v2.version, v2.parent_version, v2.delta),
        (2, Some(1), true)
    );
    assert_eq!(v2.changes.added, [c.as_str()]);
    assert_eq!(v2.changes.changed, [a.as_str()]);
    assert_eq!(v2.changes.withdrawn.len(), 1);
    assert_eq!(v2.changes.withdrawn[0].asset_id, b);
    assert!(
        v2.changes.withdrawn[0].reason.contains("only approved"),
        "{:?}",
        v2.changes.withdrawn
    );
    assert_eq!(v2.assets, 2);
    let (bytes, doc) = manifest_of(&v2);
    assert_eq!(doc["parent"]["version"], 1);
    assert_eq!(doc["parent"]["manifest_hash"], json!(v1.manifest_hash));
    assert_eq!(doc["changes"]["withdrawn"][0]["asset_id"], json!(b));
    let check = verify_dataset_manifest(&bytes, &[rosa_key(&w)], Some(&out));
    assert!(check.failures.is_empty(), "{:?}", check.failures);

    // The delta's one shard holds a and c, one row each, with the file's
    // bytes under its checksum and the fields a trainer filters on.
    let mut rows = BTreeMap::new();
    for row in parquet_rows(&out.join(&v2.shards[0].name)) {
        assert_eq!(sha256(&row.bytes), row.checksum);
        assert!(row.width.unwrap() > 0);
        rows.insert(row.asset_id, row.checksum);
    }
    assert_eq!(
        rows.keys().cloned().collect::<BTreeSet<_>>(),
        BTreeSet::from([a.clone(), c.clone()])
    );

    // mlcroissant loads the delta's rows; the RAI fields count the flag.
    let croissant = Path::new(&v2.croissant_path);
    validate(croissant);
    let samples = load_records(croissant, "samples");
    assert_eq!(samples.len(), 2, "{samples:?}");
    for row in &samples {
        let id = row["asset_id"]["text"].as_str().unwrap();
        assert_eq!(
            json!(format!(
                "sha256:{}",
                row["bytes"]["sha256"].as_str().unwrap()
            )),
            json!(rows[id])
        );
        assert!(row["width"].as_i64().unwrap() > 0);
    }
    let described: Value = serde_json::from_slice(&std::fs::read(croissant).unwrap()).unwrap();
    assert!(
        described["rai:personalSensitiveInformation"]
            .as_str()
            .unwrap()
            .contains("location: 1"),
        "{}",
        described["rai:personalSensitiveInformation"]
    );
    assert_eq!(
        described["prov:wasDerivedFrom"][1]["@id"],
        json!(format!("{}/v1", v2.dataset_id))
    );

    // A delta is read in its parent's format.
    let err = build(
        &w,
        "street",
        &options(ShardFormat::WebDataset, &out, 1 << 30, true),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "delta", .. }), "{err}");

    // A version with nothing new: no shards, nothing changed.
    let v3 = build(
        &w,
        "street",
        &options(ShardFormat::Parquet, &out, 1 << 30, true),
    )
    .unwrap();
    assert_eq!(v3.version, 3);
    assert!(v3.shards.is_empty());
    assert_eq!(
        (
            v3.changes.added.len(),
            v3.changes.changed.len(),
            v3.changes.withdrawn.len()
        ),
        (0, 0, 0)
    );
    let versions: Vec<u32> = w
        .library
        .dataset("street")
        .unwrap()
        .versions
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let report = w.library.report().unwrap();
    assert_eq!(report.datasets.len(), 1);
    let street = &report.datasets[0];
    assert_eq!((street.name.as_str(), street.versions), ("street", 3));
    let latest = street.latest.as_ref().unwrap();
    assert_eq!(
        (
            latest.version,
            latest.format.as_str(),
            latest.delta,
            latest.assets,
            latest.shards
        ),
        (3, "parquet", true, 2, 0)
    );
}

#[test]
fn a_build_that_fails_or_is_cancelled_leaves_nothing() {
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "harbour", &Filter::default())
        .unwrap();
    let out = w.dir.path().join("out");
    let versions = |w: &World| -> i64 {
        w.db()
            .query_row("SELECT count(*) FROM dataset_versions", [], |r| r.get(0))
            .unwrap()
    };
    let builds = |w: &World| -> i64 {
        w.db()
            .query_row(
                "SELECT count(*) FROM events WHERE kind = 'dataset_build'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };

    // Cancelled once the first file is in its shard: nothing written,
    // nothing recorded.
    for format in [ShardFormat::WebDataset, ShardFormat::Parquet] {
        let cancel = AtomicBool::new(false);
        let mut on_progress = |p: Progress| {
            if p.unit == Unit::Bytes && p.done > 0 {
                cancel.store(true, Ordering::Relaxed);
            }
        };
        let err = w
            .library
            .build_dataset(
                &w.rosa,
                "harbour",
                &options(format, &out, 1 << 30, false),
                &mut Job::new(&cancel, &mut on_progress),
            )
            .unwrap_err();
        assert!(matches!(err, Error::Cancelled), "{err}");
        assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    }

    // A file that changed on disk since import is never shipped under the
    // checksum the catalog holds.
    let record = &w.library.list(&Filter::default()).unwrap()[1];
    let path = w.dir.path().join("photos/b.jpg");
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 3;
    bytes[last] ^= 0x55;
    std::fs::write(&path, &bytes).unwrap();
    for format in [ShardFormat::WebDataset, ShardFormat::Parquet] {
        let err = build(&w, "harbour", &options(format, &out, 1 << 30, false)).unwrap_err();
        assert!(
            matches!(err, Error::Refused { rule: "fixity", .. }),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.contains("b.jpg") && message.contains(&record.asset_id),
            "{message}"
        );
        assert!(files_in(&out).is_empty(), "{:?}", files_in(&out));
    }
    assert_eq!((versions(&w), builds(&w)), (0, 0));

    // A version is immutable: a folder that holds its files already is
    // not written over.
    std::fs::write(&path, {
        bytes[last] ^= 0x55;
        &bytes
    })
    .unwrap();
    std::fs::write(out.join("harbour-v1.manifest.json"), b"mine").unwrap();
    let err = build(
        &w,
        "harbour",
        &options(ShardFormat::WebDataset, &out, 1 << 30, false),
    )
    .unwrap_err();
    assert!(matches!(err, Error::Exists { .. }), "{err}");
    assert_eq!(
        std::fs::read(out.join("harbour-v1.manifest.json")).unwrap(),
        b"mine"
    );
    assert_eq!((versions(&w), builds(&w)), (0, 0));
}

/// C2PA's validator on a sample's sidecar and file: what it found, and the
/// `assay.asset` assertion.
fn read_sidecar(
    w: &World,
    store: &[u8],
    file: &[u8],
) -> (assay_credentials::CredentialState, Value) {
    let anchors = assay_credentials::TrustAnchors {
        pem: Some(w.library.trust_anchor().unwrap()),
    };
    let reader = assay_credentials::CredentialReader::new(&anchors).unwrap();
    let (credentials, assertion) = reader.read_sidecar_assertion(
        store,
        std::io::Cursor::new(file.to_vec()),
        "image/jpeg",
        Some(assay_core::ASSAY_ASSERTION),
    );
    (credentials.state, assertion.unwrap_or_default())
}

#[test]
fn with_credentials_each_sample_carries_a_c2pa_sidecar_bound_to_its_file() {
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "signed", &Filter::default())
        .unwrap();
    for format in [ShardFormat::WebDataset, ShardFormat::Parquet] {
        let out = w.dir.path().join(format.as_str());
        let built = build(
            &w,
            "signed",
            &BuildOptions {
                credentials: true,
                ..options(format, &out, 1 << 30, false)
            },
        )
        .unwrap();
        let (_, doc) = manifest_of(&built);
        assert_eq!(doc["credentials"], true);
        let entries: BTreeMap<&str, &Value> = doc["assets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["asset_id"].as_str().unwrap(), a))
            .collect();
        // (asset id, file, sidecar) of every sample.
        let mut samples = Vec::new();
        let shard = out.join(&built.shards[0].name);
        match format {
            ShardFormat::WebDataset => {
                let members = tar_members(&shard);
                for id in entries.keys() {
                    samples.push((
                        id.to_string(),
                        members[&format!("{id}.jpg")].clone(),
                        members[&format!("{id}.c2pa")].clone(),
                    ));
                }
            }
            ShardFormat::Parquet => {
                for row in parquet_rows(&shard) {
                    samples.push((row.asset_id, row.bytes, row.c2pa.unwrap()));
                }
            }
        }
        assert_eq!(samples.len(), 2);
        for (id, file, store) in &samples {
            let (state, assertion) = read_sidecar(&w, store, file);
            assert_eq!(
                state,
                assay_credentials::CredentialState::Trusted,
                "{format:?} {id}"
            );
            assert_eq!(assertion["asset_id"], json!(id));
            assert_eq!(assertion["checksum"], entries[id.as_str()]["checksum"]);
            // Bound to every byte: another file is not the one it signs.
            let mut changed = file.clone();
            changed[100] ^= 1;
            let (state, _) = read_sidecar(&w, store, &changed);
            assert_eq!(state, assay_credentials::CredentialState::Invalid);
        }
    }
}

/// A version whose format the catalog no longer names is damage, named
/// with its version, never read as some format.
#[test]
fn a_version_edited_behind_assays_back_is_named() {
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "edited", &Filter::default())
        .unwrap();
    let out = w.dir.path().join("edited");
    build(
        &w,
        "edited",
        &options(ShardFormat::Parquet, &out, 1 << 30, false),
    )
    .unwrap();
    w.db()
        .execute("UPDATE dataset_versions SET format = 'zip'", [])
        .unwrap();
    let err = w.library.dataset("edited").unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err}");
    assert!(err.to_string().contains("dataset version 1"), "{err}");
}

#[test]
fn tombstones_come_out_of_a_parquet_shard_and_a_pulled_folder_is_held_to_every_entry() {
    use assay_core::pulled;
    let (w, sam) = approved_world();
    w.library
        .create_dataset(&sam, "rows", &Filter::default())
        .unwrap();
    let out = w.dir.path().join("rows");
    let v1 = build(
        &w,
        "rows",
        &options(ShardFormat::Parquet, &out, 1 << 30, false),
    )
    .unwrap();
    let keys = [rosa_key(&w)];
    let check = pulled::verify_pulled_dataset(&out, &keys).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!(
        (check.layout.as_str(), check.shards, check.samples),
        ("shards", 1, 2)
    );

    // A pulled folder's Croissant, made from the signed manifest alone,
    // is valid and mlcroissant reads the rows through it.
    let (bytes, _) = manifest_of(&v1);
    let described = pulled::describe_folder(&out, "rows-v1.manifest.json", &bytes).unwrap();
    assert!(described.ends_with("rows.croissant.json"));
    validate(&described);
    let rows = load_records(&described, "samples");
    assert_eq!(rows.len(), 2);
    for row in &rows {
        let id = row["asset_id"]["text"].as_str().unwrap();
        let entry = v1.shards[0].assets.iter().find(|a| *a == id);
        assert!(entry.is_some(), "{row}");
    }

    // Unpacked, each sample is a file named by its asset, its entry's bytes.
    let shard = out.join(&v1.shards[0].name);
    let version = pulled::VersionDocument::read(&bytes).unwrap();
    let files = w.dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    let written =
        pulled::unpack_shard(&shard, ShardFormat::Parquet, &files, &version.checksums()).unwrap();
    assert_eq!(written.len(), 2);
    std::fs::write(files.join("rows-v1.manifest.json"), &bytes).unwrap();
    let check = pulled::verify_pulled_dataset(&files, &keys).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!((check.layout.as_str(), check.samples), ("files", 2));
    // A key the signer's is not is refused before any sample is read.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let check = pulled::verify_pulled_dataset(&files, &[stranger]).unwrap();
    assert!(!check.failures.is_empty());
    assert_eq!(check.samples, 0);

    // Converted to a WebDataset tar (for a trainer who reads those), each
    // sample is its file, its signed entry as the record, and its license.
    let tars = w.dir.path().join("tars");
    std::fs::create_dir_all(&tars).unwrap();
    std::fs::write(tars.join("rows-v1.manifest.json"), &bytes).unwrap();
    let tar = tars.join(pulled::converted_name(
        &v1.shards[0].name,
        ShardFormat::WebDataset,
    ));
    assert!(tar
        .to_string_lossy()
        .ends_with("rows-v1-00000-of-00001.tar"));
    let listed = &version.shards[0];
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(
        pulled::convert_shard(&shard, ShardFormat::Parquet, listed, &tar, (&doc, &version))
            .unwrap(),
        2
    );
    let members = tar_members(&tar);
    for entry in doc["assets"].as_array().unwrap() {
        let id = entry["asset_id"].as_str().unwrap();
        let record: Value = serde_json::from_slice(&members[&format!("{id}.record.json")]).unwrap();
        assert_eq!(&record, entry);
        let license: Value =
            serde_json::from_slice(&members[&format!("{id}.license.json")]).unwrap();
        assert_eq!(
            license,
            doc["licenses"][entry["license_tag"].as_str().unwrap()]
        );
        assert_eq!(
            sha256(&members[&format!("{id}.jpg")]),
            entry["checksum"].as_str().unwrap()
        );
    }
    let check = pulled::verify_pulled_dataset(&tars, &keys).unwrap();
    assert!(check.failures.is_empty(), "{:?}", check.failures);
    assert_eq!((check.shards, check.samples), (1, 2));
    // Nothing of the conversion is left beside it.
    let names: Vec<String> = std::fs::read_dir(&tars)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");

    // A tombstone takes its row out of the shard, which keeps the other
    // row as it was; the folder then lacks an asset of the version.
    let gone = v1.shards[0].assets[0].clone();
    let kept = v1.shards[0].assets[1].clone();
    let drop = std::collections::HashSet::from([gone.as_str()]);
    assert_eq!(
        pulled::remove_samples(&shard, ShardFormat::Parquet, &drop).unwrap(),
        1
    );
    let rows = parquet_rows(&shard);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].asset_id, kept);
    assert_eq!(
        sha256(&rows[0].bytes),
        version.members[&kept].checksum,
        "the kept row's bytes"
    );
    assert_eq!(
        pulled::remove_samples(&shard, ShardFormat::Parquet, &drop).unwrap(),
        0
    );
    let check = pulled::verify_pulled_dataset(&out, &keys).unwrap();
    assert_eq!(check.failures.len(), 1, "{:?}", check.failures);
    assert!(
        check.failures[0].contains(&format!("asset {gone} of version 1 is in no shard")),
        "{:?}",
        check.failures
    );
    // The last sample out, the shard goes.
    let drop = std::collections::HashSet::from([kept.as_str()]);
    pulled::remove_samples(&shard, ShardFormat::Parquet, &drop).unwrap();
    assert!(!shard.exists());
}

#[test]
fn a_shard_cannot_unpack_a_sample_outside_its_folder() {
    use assay_core::pulled;
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("evil-v1-00000-of-00001.tar");
    let mut tar = tar::Builder::new(std::fs::File::create(&shard).unwrap());
    let bytes = b"not a photo";
    let mut header = tar::Header::new_old();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    // A member whose "extension" climbs out of the folder, written raw (the
    // tar crate refuses to make one).
    let name = b"a1.jpg/../../escaped";
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    header.set_cksum();
    tar.append(&header, &bytes[..]).unwrap();
    tar.finish().unwrap();
    drop(tar);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let checksums = std::collections::HashMap::from([("a1", sha256(bytes))]);
    let checksums = checksums.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let err = pulled::unpack_shard(&shard, ShardFormat::WebDataset, &out, &checksums).unwrap_err();
    assert!(err.to_string().contains("no plain extension"), "{err}");
    assert!(!dir.path().join("escaped").exists());
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}
