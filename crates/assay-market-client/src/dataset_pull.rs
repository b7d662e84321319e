//! Delivery of a dataset version to a trainer (`assay pull` of a dataset
//! listing): its signed dataset manifest, then each shard streamed through
//! SHA-256 to `.NAME.assay-part` and renamed to its name only when it is
//! the manifest's (or, with `--format files`, unpacked into one file per
//! sample, each checked against its signed entry; with the other shard
//! format, converted sample by sample with the build's own writer). A delta (`--since N`)
//! lands in a folder holding version N: its shards are added and its
//! tombstones applied, the samples of withdrawn and changed assets taken
//! out of the earlier shards (or files). `assay_core::pulled` reads the
//! shards and checks such a folder again.

use std::collections::HashSet;
use std::path::Path;

use assay_core::pulled::{self, manifest_file, VersionDocument};
use assay_core::{verify_dataset_manifest, Job, ShardFormat, Unit};
use assay_market_proto::keys::KeyList;
use assay_market_proto::listings::ListingSummary;
use assay_market_proto::purchases::{EscrowState, Purchase, PurchaseFiles};
use ed25519_dalek::VerifyingKey;

use crate::error::{Error, Result};
use crate::http::Api;
use crate::pull::{
    check_file, fetch_into, io, protocol, saved_keys, sha256, write_atomic, Entry, Fetch,
    PullEvent, PullFormat, PullOptions, PullReport, MARKET_KEYS_FILE,
};
use crate::sync::parse;

/// What a pull of a dataset listing has in hand once it bought it.
pub(crate) struct Pulled<'a> {
    pub api: &'a Api,
    pub listing_id: &'a str,
    pub purchase: &'a Purchase,
    pub links: &'a PurchaseFiles,
    /// The manifest's bytes, the purchase's (by hash), not yet verified.
    pub manifest: &'a [u8],
    pub trusted: &'a [VerifyingKey],
    /// The market's list of the publisher's keys, when those are trusted.
    pub market_keys: Option<&'a KeyList>,
    pub out: &'a Path,
}

/// Refuses, before anything is bought, what the listing cannot give:
/// shards of files, `--since` on anything but a delta of the version held,
/// and a delta without it.
pub(crate) fn check_request(
    listing: &ListingSummary,
    options: &PullOptions,
    out: &Path,
) -> Result<()> {
    let id = &listing.listing_id;
    let Some(dataset) = &listing.dataset else {
        return match (options.format, options.since) {
            (Some(PullFormat::WebDataset | PullFormat::Parquet), _) => Err(Error::Invalid(format!(
                "listing {id} sells files, not a dataset's shards: pull it without --format, or with --format files"
            ))),
            (_, Some(_)) => Err(Error::Invalid(format!(
                "listing {id} sells files, not a version of a dataset: --since applies to a dataset's deltas"
            ))),
            _ => Ok(()),
        };
    };
    let (name, version) = (&dataset.name, dataset.version);
    match (dataset.delta, options.since) {
        (false, None) => Ok(()),
        (false, Some(since)) => Err(Error::Invalid(format!(
            "listing {id} is version {version} of dataset {name} in full, not a delta of version {since}: pull it without --since"
        ))),
        (true, None) => Err(Error::Invalid(format!(
            "listing {id} is version {version} of dataset {name}, a delta: it holds only what changed, so pull the version it updates (listing {}) into {} first, then this one with --since",
            dataset.parent_listing_id.as_deref().unwrap_or("?"),
            out.display()
        ))),
        (true, Some(since)) => {
            let file = manifest_file(name, since);
            if let Some(why) = assay_core::file_names::file_name_problem(&file) {
                return Err(Error::Invalid(format!(
                    "listing {id} names its dataset {name:?}, which names no file: {why}"
                )));
            }
            let held = out.join(file);
            if !held.is_file() {
                return Err(Error::Invalid(format!(
                    "--since {since}: {} holds no version {since} of dataset {name} ({} is missing)",
                    out.display(),
                    held.display()
                )));
            }
            Ok(())
        }
    }
}

/// The rest of a pull of a dataset listing: the manifest checked and
/// kept, every shard fetched (or found) and verified, a delta's tombstones
/// applied, and, when asked, the purchase confirmed.
pub(crate) fn pull_version(
    p: &Pulled,
    options: &PullOptions,
    job: &mut Job,
    progress: &mut dyn FnMut(&PullEvent),
) -> Result<PullReport> {
    let check = verify_dataset_manifest(p.manifest, p.trusted, None);
    if !check.failures.is_empty() {
        return Err(Error::Untrusted {
            what: format!("the dataset manifest of listing {}", p.listing_id),
            failures: check.failures,
        });
    }
    // Parsed once: a manifest of 100,000 entries is tens of megabytes.
    let doc: serde_json::Value =
        serde_json::from_slice(p.manifest).map_err(|e| Error::Untrusted {
            what: format!("the dataset manifest of listing {}", p.listing_id),
            failures: vec![e.to_string()],
        })?;
    let version = VersionDocument::of(&doc)?;
    let untrusted = |why: String| Error::Untrusted {
        what: format!("the dataset manifest of listing {}", p.listing_id),
        failures: vec![why],
    };
    if version.delta {
        // The folder's version must be the one this delta updates, byte
        // for byte as signed.
        let (since, parent_hash) = version
            .parent
            .clone()
            .ok_or_else(|| untrusted("a delta without a parent version".into()))?;
        if options.since != Some(since) {
            return Err(Error::Invalid(format!(
                "listing {} is a delta of version {since}, not of version {}",
                p.listing_id,
                options.since.unwrap_or_default()
            )));
        }
        let held = p.out.join(manifest_file(&version.name, since));
        let bytes = std::fs::read(&held).map_err(|e| io(&held, e))?;
        if sha256(&bytes) != parent_hash {
            return Err(Error::Invalid(format!(
                "{} is not the version {since} this delta updates (its manifest hash is {}, the delta names {parent_hash})",
                held.display(),
                sha256(&bytes)
            )));
        }
    }
    let manifest_id = doc["manifest_id"].as_str().unwrap_or_default().to_owned();
    let mut report = PullReport {
        listing_id: p.listing_id.to_owned(),
        purchase_id: p.purchase.purchase_id.clone(),
        manifest_id: manifest_id.clone(),
        out: p.out.to_owned(),
        trusted_market_keys: p.market_keys.is_some(),
        dataset_version: Some(version.version),
        ..PullReport::default()
    };
    // The manifest's shards, not the market's links, say what each file
    // must be; a link to anything else is refused.
    let mut wanted = Vec::new();
    for link in &p.links.shards {
        let shard = version
            .shards
            .iter()
            .find(|s| s.name == link.file_name)
            .ok_or_else(|| {
                protocol(
                    "GET",
                    "/v1/purchases/{id}/files",
                    &format!(
                        "a link to {:?}, which the manifest does not list",
                        link.file_name
                    ),
                )
            })?;
        if let Some(why) = assay_core::file_names::file_name_problem(&shard.name) {
            return Err(untrusted(format!("shard {:?}: {why}", shard.name)));
        }
        wanted.push((shard, link));
    }
    if wanted.len() != version.shards.len() {
        return Err(protocol(
            "GET",
            "/v1/purchases/{id}/files",
            &format!(
                "{} shard links for the manifest's {} shards",
                wanted.len(),
                version.shards.len()
            ),
        ));
    }
    let total: u64 = wanted.iter().map(|(s, _)| s.size_bytes).sum();
    progress(&PullEvent::Manifest {
        manifest_id,
        files: wanted.len(),
        bytes: total,
    });
    write_atomic(
        p.out,
        &manifest_file(&version.name, version.version),
        p.manifest,
    )?;
    if let Some(list) = p.market_keys {
        let json = serde_json::to_vec_pretty(list)
            .map_err(|e| protocol("GET", "/v1/listings/{id}/keys", &e.to_string()))?;
        write_atomic(p.out, MARKET_KEYS_FILE, &json)?;
    }
    let purchase_json = serde_json::to_vec_pretty(p.purchase)
        .map_err(|e| protocol("POST", "/v1/purchases", &e.to_string()))?;
    write_atomic(
        p.out,
        &format!("{}-v{}.purchase.json", version.name, version.version),
        &purchase_json,
    )?;

    let unpack = options.format == Some(PullFormat::Files);
    // The shard format wanted when it is not the one the version was built in.
    let convert = match options.format {
        Some(PullFormat::WebDataset) => Some(ShardFormat::WebDataset),
        Some(PullFormat::Parquet) => Some(ShardFormat::Parquet),
        _ => None,
    }
    .filter(|&f| f != version.format);
    let checksums = version.checksums();
    let superseded: HashSet<&str> = version.superseded.iter().map(String::as_str).collect();
    let mut done = 0;
    job.report(done, total, Unit::Bytes);
    let mut tombstoned = !version.delta;
    for (shard, link) in wanted {
        if job.stopped() {
            report.cancelled = true;
            return Ok(report);
        }
        done += shard.size_bytes;
        let entry = Entry {
            asset_id: shard.name.clone(),
            file_name: shard.name.clone(),
            checksum: shard.sha256.clone(),
            size_bytes: shard.size_bytes,
            media_type: version.format.media_type().to_owned(),
        };
        let target = match convert {
            Some(to) => p.out.join(pulled::converted_name(&shard.name, to)),
            None => p.out.join(&shard.name),
        };
        let present = if unpack {
            unpacked(p.out, shard, &version)
        } else if convert.is_some() {
            converted(&target, shard, &version)
        } else {
            check_file(&target, &entry).is_ok()
        };
        if !present {
            let part = p
                .out
                .join(format!(".{}{}", shard.name, pulled::PART_SUFFIX));
            let fetched = fetch_into(p.api, &link.url, &part, &entry);
            let placed = match fetched {
                Ok(()) if unpack => {
                    // Earlier copies of what this delta supersedes go
                    // before its own are written under the same names.
                    if !tombstoned {
                        report.samples_removed += remove_files(p.out, &superseded)?;
                        tombstoned = true;
                    }
                    pulled::unpack_shard(&part, version.format, p.out, &checksums)
                        .map(|names| report.samples_unpacked += names.len())
                        .map_err(Error::from)
                }
                Ok(()) if convert.is_some() => {
                    pulled::convert_shard(&part, version.format, shard, &target, (&doc, &version))
                        .map(drop)
                        .map_err(Error::from)
                }
                Ok(()) => std::fs::rename(&part, &target).map_err(|e| io(&part, e)),
                Err(Fetch::Mismatch(problem)) => {
                    let _ = std::fs::remove_file(&part);
                    report
                        .failures
                        .push(format!("{}: {problem}", target.display()));
                    progress(&PullEvent::Failed {
                        asset_id: shard.name.clone(),
                        file_name: shard.name.clone(),
                        problem,
                    });
                    job.report(done, total, Unit::Bytes);
                    continue;
                }
                Err(Fetch::Fatal(e)) => Err(e),
            };
            if unpack || convert.is_some() || placed.is_err() {
                let _ = std::fs::remove_file(&part);
            }
            placed?;
            report.files_fetched += 1;
            report.bytes += shard.size_bytes;
        } else {
            report.files_present += 1;
        }
        progress(&PullEvent::Shard {
            name: shard.name.clone(),
            size_bytes: shard.size_bytes,
            present,
        });
        job.report(done, total, Unit::Bytes);
    }
    if version.delta && report.failures.is_empty() {
        if !tombstoned {
            report.samples_removed += remove_files(p.out, &superseded)?;
        }
        if !unpack {
            report.samples_removed += remove_from_earlier_shards(p.out, &version, &superseded)?;
        }
        progress(&PullEvent::Tombstones {
            removed: report.samples_removed,
        });
    }
    // A Croissant of what the folder now holds, for the trainer's loaders.
    if report.failures.is_empty() {
        pulled::describe_folder(
            p.out,
            &manifest_file(&version.name, version.version),
            p.manifest,
        )?;
    }
    if options.confirm && report.failures.is_empty() {
        if p.purchase.state == EscrowState::Held {
            let path = format!("/v1/purchases/{}/confirm", p.purchase.purchase_id);
            let reply = p.api.send("POST", &path, &[], &[])?;
            parse::<Purchase>(&reply, "POST", &path, &[200])?;
            progress(&PullEvent::Confirmed {
                purchase_id: p.purchase.purchase_id.clone(),
            });
        }
        report.confirmed = true;
    }
    Ok(report)
}

/// Checks a folder a pull of a dataset filled (`assay_core::pulled`),
/// against `trusted`, or, when none is given, the publisher keys the market
/// listed at pull time, kept in the folder.
pub fn verify_pulled_dataset(
    dir: &Path,
    trusted: &[VerifyingKey],
) -> Result<(pulled::PulledDatasetCheck, bool)> {
    let saved;
    let keys = if trusted.is_empty() {
        saved = saved_keys(dir)?;
        &saved[..]
    } else {
        trusted
    };
    Ok((
        pulled::verify_pulled_dataset(dir, keys)?,
        trusted.is_empty(),
    ))
}

/// Whether every sample of `shard` is unpacked in `dir` already, each
/// with its signed checksum.
fn unpacked(dir: &Path, shard: &pulled::ListedShard, version: &VersionDocument) -> bool {
    shard.assets.iter().all(|id| {
        version.members.get(id).is_some_and(|m| {
            let entry = Entry {
                asset_id: id.clone(),
                file_name: pulled::sample_file_name(id, &m.file_name),
                checksum: m.checksum.clone(),
                size_bytes: m.size_bytes,
                media_type: String::new(),
            };
            check_file(&dir.join(&entry.file_name), &entry).is_ok()
        })
    })
}

/// Whether the shard at `path`, converted from `shard`, holds its samples,
/// each with its signed checksum, and nothing else.
fn converted(path: &Path, shard: &pulled::ListedShard, version: &VersionDocument) -> bool {
    let Some(format) = pulled::shard_format_of(path).filter(|_| path.is_file()) else {
        return false;
    };
    let checksums = version.checksums();
    let mut held = Vec::new();
    let read = pulled::each_sample(path, format, &mut |id, _, file| {
        let mut reader = assay_fsio::hashing::Hashing::new(file);
        reader.drain(1 << 20).map_err(|e| assay_core::Error::Io {
            path: path.to_owned(),
            reason: e,
        })?;
        if checksums.get(id) == Some(&reader.checksum().as_str()) {
            held.push(id.to_owned());
        }
        Ok(())
    });
    read.is_ok() && held == shard.assets
}

/// Removes the unpacked samples (`<asset_id>.<ext>`) of the assets in
/// `drop`; returns how many.
fn remove_files(dir: &Path, drop: &HashSet<&str>) -> Result<usize> {
    let mut removed = 0;
    for item in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let item = item.map_err(|e| io(dir, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let id = name.split_once('.').map_or(name.as_str(), |(id, _)| id);
        if drop.contains(id) && !name.ends_with(".json") {
            std::fs::remove_file(item.path()).map_err(|e| io(&item.path(), e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Takes the samples of `drop` out of the shards of the versions a delta
/// updates that are in `dir`: its parent, and the parent's own parents
/// while those are deltas.
fn remove_from_earlier_shards(
    dir: &Path,
    version: &VersionDocument,
    drop: &HashSet<&str>,
) -> Result<usize> {
    let mut removed = 0;
    let mut parent = version.parent.clone();
    while let Some((number, _)) = parent {
        let path = dir.join(manifest_file(&version.name, number));
        let bytes = std::fs::read(&path).map_err(|e| io(&path, e))?;
        let earlier = VersionDocument::read(&bytes)?;
        for shard in &earlier.shards {
            let Some(path) = pulled::shard_in(dir, &shard.name) else {
                continue;
            };
            let format = pulled::shard_format_of(&path).unwrap_or(earlier.format);
            removed += pulled::remove_samples(&path, format, drop)?;
        }
        parent = earlier.delta.then_some(earlier.parent).flatten();
    }
    Ok(removed)
}
