//! `assay dataset publish`: a built dataset version onto a market as a
//! listing. Its signed dataset manifest is posted as built, its shards are
//! uploaded with tus, and it is listed. A delta needs the version it
//! updates listed first (the market sells a delta only to that version's
//! buyers), so the versions it builds on are published first, oldest
//! first. Each listed version is recorded in the library as signed
//! `export_to_marketplace` events on the assets it sells, once. Every
//! request is one the market takes twice without harm, and
//! the market says what it holds already (the receipt's `uploaded`, an
//! open upload's offset), so a publish that stopped anywhere is finished
//! by running it again.

use std::path::{Path, PathBuf};

use assay_core::{Actor, DatasetListing, DatasetVersion, Job, Library, Unit, UploadState};
use assay_market_proto::listings::{ListingTerms, NewListing};
use assay_market_proto::manifests::ManifestReceipt;
use assay_market_proto::tus::UploadFile;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::http::Api;
use crate::progress::SyncReport;
use crate::sync::{parse, Price, Run, SyncOptions};
use crate::upload::{Outgoing, Sender, Step};

/// What publishing a dataset version tells as it goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PublishEvent {
    /// A version's manifest was posted; `shards` of its shards (`bytes`
    /// in all) are to upload, the others are on the market already.
    Manifest {
        version: u32,
        manifest_id: String,
        shards: usize,
        bytes: u64,
    },
    /// The market acknowledged bytes of a shard up to `offset`.
    Bytes {
        shard: String,
        offset: u64,
        size: u64,
        /// What this publish has sent so far, every shard included.
        sent: u64,
    },
    /// A shard is on the market, verified against its SHA-256.
    Uploaded { shard: String },
    /// A version's listing, `created` now or found.
    Listed {
        version: u32,
        listing_id: String,
        created: bool,
    },
    /// `export_to_marketplace` events recorded on `assets` assets (0 when
    /// an earlier publish recorded them).
    Recorded { version: u32, assets: usize },
}

/// What a publish did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    pub market: String,
    pub dataset: String,
    /// The versions published, oldest first; the last is the one asked for.
    pub versions: Vec<PublishedVersion>,
    pub shards_uploaded: usize,
    pub shards_present: usize,
    pub bytes_sent: u64,
    /// `export_to_marketplace` events this publish recorded.
    pub assets_recorded: usize,
    pub cancelled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedVersion {
    pub version: u32,
    pub delta: bool,
    pub manifest_id: String,
    pub listing_id: String,
    /// The listing was created by this publish.
    pub created: bool,
}

/// Which dataset version to publish, and where.
#[derive(Debug, Clone, Copy)]
pub struct PublishTarget<'a> {
    /// The market's name; `None` for the only one.
    pub market: Option<&'a str>,
    pub dataset: &'a str,
    /// The latest when `None`.
    pub version: Option<u32>,
}

/// Publishes `target`'s version of one of `library`'s datasets as
/// `actor`, a rights manager, with the versions a delta builds on first.
/// New listings are offered at `options.price`. `job` hears the bytes sent
/// of those to send; a cancelled job stops between two requests (or two
/// chunks) and returns the report with `cancelled` set.
pub fn publish_dataset(
    library: &Library,
    actor: &Actor,
    target: PublishTarget,
    options: &SyncOptions,
    job: &mut Job,
    progress: &mut dyn FnMut(&PublishEvent),
) -> Result<PublishReport> {
    let view = library.dataset(target.dataset)?;
    let chain = chain(&view.versions, target.version, target.dataset)?;
    let market = library.market(target.market)?;
    let api = Api::of_market(&market, options.retry.clone())?;
    let mut report = PublishReport {
        market: market.name.clone(),
        dataset: view.dataset.name.clone(),
        ..PublishReport::default()
    };
    let cancel = job.cancel_flag();
    let mut to_send = 0;
    let mut progress = |event: &PublishEvent| {
        match event {
            PublishEvent::Manifest { bytes, .. } => {
                to_send += bytes;
                job.report(0, to_send, Unit::Bytes);
            }
            PublishEvent::Bytes { sent, .. } => job.report(*sent, to_send, Unit::Bytes),
            _ => {}
        }
        progress(event);
    };
    // A dataset's publish tells its own events; the sync's are not sent.
    let mut unheard = |_: &crate::progress::SyncEvent| {};
    let run = Run {
        library,
        market,
        api,
        chunk_size: options.chunk_size.max(1),
        cancel,
        progress: &mut unheard,
        report: SyncReport::default(),
    };
    let outcome = (|| {
        run.register_key(actor)?;
        for v in &chain {
            run.check_cancel()?;
            let published = publish_version(
                &run,
                actor,
                v,
                &view.dataset.name,
                options,
                &mut report,
                &mut progress,
            )?;
            report.versions.push(published);
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => Ok(report),
        Err(Error::Cancelled) => Ok(PublishReport {
            cancelled: true,
            ..report
        }),
        Err(e) => Err(e),
    }
}

/// The versions to publish for `wanted`, oldest first: it and, while one
/// is a delta, the version it updates.
fn chain<'a>(
    versions: &'a [DatasetVersion],
    wanted: Option<u32>,
    name: &str,
) -> Result<Vec<&'a DatasetVersion>> {
    let find = |n: u32| versions.iter().find(|v| v.version == n);
    let last = match wanted {
        Some(n) => find(n).ok_or_else(|| {
            Error::Invalid(format!(
                "dataset {name} has no version {n}; see `assay dataset show {name}`"
            ))
        })?,
        None => versions.iter().max_by_key(|v| v.version).ok_or_else(|| {
            Error::Invalid(format!(
                "dataset {name} has no version yet; build one with `assay dataset build`"
            ))
        })?,
    };
    let mut chain = vec![last];
    let mut at = last;
    while at.delta {
        let parent = at.parent_version.and_then(find).ok_or_else(|| {
            Error::Invalid(format!(
                "version {} of dataset {name} is a delta of a version this library no longer has",
                at.version
            ))
        })?;
        chain.push(parent);
        at = parent;
    }
    chain.reverse();
    Ok(chain)
}

/// Posts one version's manifest, uploads the shards the market lacks,
/// lists it, and records the listing on the assets it sells.
fn publish_version(
    run: &Run,
    actor: &Actor,
    version: &DatasetVersion,
    name: &str,
    options: &SyncOptions,
    report: &mut PublishReport,
    progress: &mut dyn FnMut(&PublishEvent),
) -> Result<PublishedVersion> {
    let manifest_path = PathBuf::from(&version.manifest_path);
    let bytes = std::fs::read(&manifest_path).map_err(|e| Error::Io {
        path: manifest_path.clone(),
        source: e,
    })?;
    let dir = manifest_path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = "/v1/manifests";
    let reply = run.api.send(
        "POST",
        path,
        &[("Content-Type", "application/json".to_owned())],
        &bytes,
    )?;
    let receipt: ManifestReceipt = parse(&reply, "POST", path, &[200, 201])?;
    let missing: Vec<_> = receipt.shards.iter().filter(|s| !s.uploaded).collect();
    report.shards_present += receipt.shards.len() - missing.len();
    progress(&PublishEvent::Manifest {
        version: version.version,
        manifest_id: receipt.manifest_id.clone(),
        shards: missing.len(),
        bytes: missing.iter().map(|s| s.size_bytes).sum(),
    });
    let sender = Sender {
        api: &run.api,
        chunk_size: run.chunk_size,
        cancel: run.cancel,
    };
    for shard in missing {
        run.check_cancel()?;
        let shard_path = dir.join(&shard.name);
        let outgoing = Outgoing {
            manifest_id: &receipt.manifest_id,
            file: UploadFile::Shard(shard.name.clone()),
            path: &shard_path,
            size: shard.size_bytes,
        };
        let done = report.bytes_sent;
        // The market keeps where an upload stands (a new upload of the
        // same shard answers with the open one), so nothing is kept here.
        let sent = sender.send(&outgoing, UploadState::default(), &mut |step| {
            if let Step::Bytes { offset, sent } = step {
                progress(&PublishEvent::Bytes {
                    shard: shard.name.clone(),
                    offset,
                    size: shard.size_bytes,
                    sent: done + sent,
                });
            }
            Ok(())
        })?;
        report.bytes_sent += sent;
        report.shards_uploaded += 1;
        progress(&PublishEvent::Uploaded {
            shard: shard.name.clone(),
        });
    }
    let price = options
        .price
        .as_ref()
        .ok_or_else(|| Error::NoTerms(receipt.manifest_id.clone()))?;
    let (listing_id, created) = run.create_listing(&listing(&receipt, version, name, price))?;
    progress(&PublishEvent::Listed {
        version: version.version,
        listing_id: listing_id.clone(),
        created,
    });
    let asset_ids: Vec<String> = receipt.assets.iter().map(|a| a.asset_id.clone()).collect();
    let assets = run.library.record_dataset_listing(
        actor,
        &DatasetListing {
            market: &run.market.name,
            dataset: name,
            version: version.version,
            manifest_id: &receipt.manifest_id,
            listing_id: &listing_id,
            asset_ids: &asset_ids,
        },
    )?;
    report.assets_recorded += assets;
    progress(&PublishEvent::Recorded {
        version: version.version,
        assets,
    });
    Ok(PublishedVersion {
        version: version.version,
        delta: version.delta,
        manifest_id: receipt.manifest_id,
        listing_id,
        created,
    })
}

fn listing(
    receipt: &ManifestReceipt,
    version: &DatasetVersion,
    name: &str,
    price: &Price,
) -> NewListing {
    let what = if version.delta {
        format!(
            "the changes since version {}",
            version.parent_version.unwrap_or_default()
        )
    } else {
        format!("{} assets", version.assets)
    };
    NewListing {
        manifest_id: receipt.manifest_id.clone(),
        terms: ListingTerms {
            title: format!("{name} v{}", version.version),
            description: format!(
                "Dataset {name}, version {}: {what} in {} {} shards, with signed rights and provenance; manifest {}.",
                version.version,
                version.shards,
                version.format.as_str(),
                receipt.manifest_hash
            ),
            price_minor: price.minor,
            currency: price.currency.clone(),
        },
    }
}
