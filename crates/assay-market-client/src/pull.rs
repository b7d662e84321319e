//! Delivery to a trainer (`assay pull`): buy a listing unless the buyer
//! holds it already, fetch its signed manifest and every file through the
//! purchase's signed links, and keep only what verifies.
//!
//! The manifest must be the one the purchase names (its SHA-256) and carry
//! a valid signature by a key the trainer trusts (`verify_manifest`), before
//! any file is fetched. Each file streams to a temporary name in the
//! folder while it is hashed, and is renamed to its manifest name only when
//! its size and SHA-256 are the manifest's; otherwise it is deleted and the
//! failure names it. The manifest's entries, not the market's links, say
//! what each file must be. [`verify_pulled`] checks such a folder again.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};

use assay_core::{file_names, keys, verify_manifest, Job, Unit, ASSAY_ASSERTION};
use assay_credentials::{CredentialReader, CredentialState, TrustAnchors};
use assay_fsio::atomic;
use assay_fsio::hashing::{Hashing, HashingWriter};
use assay_market_proto::keys::KeyList;
use assay_market_proto::listings::Listing;
use assay_market_proto::purchases::{EscrowState, FileLink, Purchase, PurchaseFiles};
use ed25519_dalek::VerifyingKey;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::http::{Api, Retry};
use crate::sync::parse;

/// The manifest's name in a pulled folder.
pub const MANIFEST_FILE: &str = "manifest.json";
/// The purchase as the market answered it: which assets it delivered.
pub const PURCHASE_FILE: &str = "purchase.json";
/// The publisher's keys as the market listed them, kept when the trainer
/// gave none, so `--verify-only` checks against the same keys later.
pub const MARKET_KEYS_FILE: &str = "publisher-keys.json";
/// The last checkpoint the market witnessed for the listing's publisher,
/// with the market's countersignature (checked), when it witnessed one: a
/// checkpoint the trainer holds apart from the library.
pub const WITNESSED_FILE: &str = "witnessed-checkpoint.json";
/// What a download in progress is named after: `.NAME` and this.
use assay_core::pulled::PART_SUFFIX;

/// How a pull runs.
#[derive(Debug, Clone, Default)]
pub struct PullOptions {
    pub retry: Retry,
    /// Once every file is verified, confirm the purchase: the market
    /// releases escrow and pays the publisher and creators.
    pub confirm: bool,
    /// Beside each file the publisher sent Content Credentials for, write
    /// them as a `.c2pa` sidecar, once they validate against the file and
    /// name its asset and checksum.
    pub credentials: bool,
    /// How a dataset version is wanted: its shards (in the format it was
    /// built in) or one file per sample. `None`: as the listing sells it.
    pub format: Option<PullFormat>,
    /// The version of the dataset the folder holds: the listing must be a
    /// delta of it, whose shards are fetched and whose tombstones are
    /// applied to the folder.
    pub since: Option<u32>,
}

/// How a pull lays out what it fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullFormat {
    WebDataset,
    Parquet,
    /// One file per asset: a listing's files as they are, a dataset's
    /// samples unpacked from its shards (`<asset_id>.<ext>`).
    Files,
}

impl std::str::FromStr for PullFormat {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "webdataset" => Ok(PullFormat::WebDataset),
            "parquet" => Ok(PullFormat::Parquet),
            "files" => Ok(PullFormat::Files),
            other => Err(format!(
                "{other:?} is not a pull format: use webdataset, parquet or files"
            )),
        }
    }
}

/// One step of a pull, as it happens; `assay pull --json` prints each as a
/// line.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PullEvent {
    /// The trainer gave no key, so the manifest is checked against the
    /// keys the market lists for the listing's publisher: the market's
    /// word, not the publisher's.
    MarketKeys { key_ids: Vec<String> },
    /// The buyer's purchase of the listing: `created` now, or held already.
    Purchased {
        purchase_id: String,
        created: bool,
        amount_minor: u64,
        currency: String,
    },
    /// The manifest is the purchase's and its signature holds; `files`
    /// (`bytes` in all) are to fetch.
    Manifest {
        manifest_id: String,
        files: usize,
        bytes: u64,
    },
    /// A file verified against the manifest and in place; `present` when
    /// the folder held it already, verified, so it was not fetched again.
    Verified {
        asset_id: String,
        file_name: String,
        size_bytes: u64,
        present: bool,
    },
    /// A file that did not verify; nothing of it is left in the folder.
    Failed {
        asset_id: String,
        file_name: String,
        problem: String,
    },
    /// The market's witnessed checkpoint of the publisher's library, of
    /// `events` events, kept in the folder ([`WITNESSED_FILE`]).
    Witnessed { events: u64, witnessed_at: String },
    /// A dataset shard verified against its signed SHA-256 (and, for
    /// `--format files`, unpacked); `present` when the folder held it.
    Shard {
        name: String,
        size_bytes: u64,
        present: bool,
    },
    /// A delta's tombstones applied: `removed` samples of withdrawn or
    /// changed assets taken out of the folder's earlier shards or files.
    Tombstones { removed: usize },
    /// The purchase was confirmed: escrow released.
    Confirmed { purchase_id: String },
}

/// What a pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullReport {
    pub listing_id: String,
    pub purchase_id: String,
    pub manifest_id: String,
    pub out: PathBuf,
    /// Files fetched and verified, and their bytes.
    pub files_fetched: usize,
    pub bytes: u64,
    /// Files the folder held already, verified. For a dataset version,
    /// shards in both.
    pub files_present: usize,
    /// A dataset version: its version, samples unpacked into files
    /// (`--format files`) and samples its tombstones removed.
    pub dataset_version: Option<u32>,
    pub samples_unpacked: usize,
    pub samples_removed: usize,
    /// With credentials asked for: the `.c2pa` sidecars written, and the
    /// files the publisher sent none for.
    pub credentials: Vec<String>,
    pub credentials_missing: Vec<String>,
    pub confirmed: bool,
    /// The manifest was checked against the keys the market lists for the
    /// publisher, not keys the trainer gave.
    pub trusted_market_keys: bool,
    /// The events of the publisher's library checkpoint the market
    /// witnessed, kept in [`WITNESSED_FILE`]; none when it witnessed none.
    pub witnessed_events: Option<u64>,
    /// Each file that did not verify, naming it; a pull with failures
    /// confirms nothing.
    pub failures: Vec<String>,
    /// The pull was cancelled between two files; the files above are kept
    /// and verified, and nothing was confirmed.
    pub cancelled: bool,
}

/// What [`verify_pulled`] found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullCheck {
    pub dir: PathBuf,
    pub manifest_id: Option<String>,
    /// Files checked against the manifest.
    pub files: usize,
    /// No key was given: the signature was checked against the keys kept
    /// in the folder when it was pulled (the market's word for them).
    pub trusted_saved_keys: bool,
    /// Every problem, each naming its file.
    pub failures: Vec<String>,
    /// Files the manifest names that are not in the folder and that the
    /// purchase record says were not delivered (withdrawn before the
    /// purchase). That record is nobody's signed word: it never spares a
    /// file in the folder from being checked, it only explains an absence.
    pub not_delivered: Vec<String>,
}

/// One file the manifest lists.
pub(crate) struct Entry {
    pub asset_id: String,
    pub file_name: String,
    pub checksum: String,
    pub size_bytes: u64,
    pub media_type: String,
}

/// What to pull, from where, and whom to trust.
#[derive(Debug, Clone, Copy)]
pub struct PullTarget<'a> {
    /// The market's base URL.
    pub url: &'a str,
    /// The buyer's bearer token.
    pub token: &'a str,
    pub listing_id: &'a str,
    /// The folder the files go to; made if missing.
    pub out: &'a Path,
    /// The publisher keys a manifest must be signed with; none trusts the
    /// keys the market lists for the listing's publisher.
    pub trusted: &'a [VerifyingKey],
}

/// Buys `target`'s listing unless the buyer holds a purchase of it already,
/// and fetches its manifest and files into its folder. Files that do not
/// verify are left out and listed in the report's `failures`. `job` hears
/// the bytes verified of the manifest's; a cancelled job stops between two
/// files, keeps the files verified so far, confirms nothing, and returns the
/// report with `cancelled` set.
pub fn pull(
    target: &PullTarget,
    options: &PullOptions,
    job: &mut Job,
    progress: &mut dyn FnMut(&PullEvent),
) -> Result<PullReport> {
    let PullTarget {
        url,
        token,
        listing_id,
        out,
        trusted,
    } = *target;
    if !is_id(listing_id) {
        return Err(Error::Invalid(format!(
            "{listing_id:?} is not a listing id (32 lowercase hex digits)"
        )));
    }
    let api = Api::new(url, token.trim().to_owned(), options.retry.clone());
    // What the listing sells decides what may be asked of it, before anything is bought.
    let path = format!("/v1/listings/{listing_id}");
    let listing: Listing = parse(&api.send("GET", &path, &[], &[])?, "GET", &path, &[200])?;
    crate::dataset_pull::check_request(&listing.summary, options, out)?;
    std::fs::create_dir_all(out).map_err(|e| io(out, e))?;
    let market_keys = if trusted.is_empty() {
        let path = format!("/v1/listings/{listing_id}/keys");
        let reply = api.send("GET", &path, &[], &[])?;
        let list: KeyList = parse(&reply, "GET", &path, &[200])?;
        let keys = market_keys(&list).map_err(|why| protocol("GET", &path, &why))?;
        progress(&PullEvent::MarketKeys {
            key_ids: list.keys.iter().map(|k| k.key_id.clone()).collect(),
        });
        Some((list, keys))
    } else {
        None
    };
    let trusted = market_keys.as_ref().map_or(trusted, |(_, keys)| keys);

    let path = format!("/v1/listings/{listing_id}/purchases");
    let reply = api.send("POST", &path, &[], &[])?;
    let purchase: Purchase = parse(&reply, "POST", &path, &[200, 201])?;
    progress(&PullEvent::Purchased {
        purchase_id: purchase.purchase_id.clone(),
        created: reply.status == 201,
        amount_minor: purchase.amount_minor,
        currency: purchase.currency.clone(),
    });
    if !is_id(&purchase.purchase_id) {
        return Err(protocol("POST", &path, "the purchase id is not an id"));
    }
    let path = format!("/v1/purchases/{}/files", purchase.purchase_id);
    let reply = api.send("GET", &path, &[], &[])?;
    let links: PurchaseFiles = parse(&reply, "GET", &path, &[200])?;

    // The manifest first: nothing is fetched on a document not trusted.
    let manifest = fetch_manifest(&api, &links.manifest.url, &purchase.manifest_hash)?;
    if listing.summary.dataset.is_some() {
        let pulled = crate::dataset_pull::Pulled {
            api: &api,
            listing_id,
            purchase: &purchase,
            links: &links,
            manifest: &manifest,
            trusted,
            market_keys: market_keys.as_ref().map(|(list, _)| list),
            out,
        };
        return crate::dataset_pull::pull_version(&pulled, options, job, progress);
    }
    let check = verify_manifest(&manifest, trusted, None);
    if !check.failures.is_empty() {
        return Err(Error::Untrusted {
            what: format!("the manifest of listing {listing_id}"),
            failures: check.failures,
        });
    }
    let entries = entries(&manifest)?;
    let by_asset: HashMap<&str, &Entry> =
        entries.iter().map(|e| (e.asset_id.as_str(), e)).collect();
    let mut report = PullReport {
        listing_id: listing_id.to_owned(),
        purchase_id: purchase.purchase_id.clone(),
        manifest_id: check.manifest_id.unwrap_or_default(),
        out: out.to_owned(),
        trusted_market_keys: market_keys.is_some(),
        ..PullReport::default()
    };
    let mut wanted = Vec::new();
    for link in &links.files {
        let entry = link
            .asset_id
            .as_deref()
            .and_then(|id| by_asset.get(id))
            .ok_or_else(|| {
                protocol(
                    "GET",
                    &path,
                    &format!(
                        "a link to {:?}, which the manifest does not list",
                        link.file_name
                    ),
                )
            })?;
        wanted.push((*entry, link));
    }
    let total: u64 = wanted.iter().map(|(e, _)| e.size_bytes).sum();
    progress(&PullEvent::Manifest {
        manifest_id: report.manifest_id.clone(),
        files: wanted.len(),
        bytes: total,
    });
    let mut done = 0;
    job.report(done, total, Unit::Bytes);
    write_atomic(out, MANIFEST_FILE, &manifest)?;
    if let Some((list, _)) = &market_keys {
        let json = serde_json::to_vec_pretty(list)
            .map_err(|e| protocol("GET", "/v1/listings/{id}/keys", &e.to_string()))?;
        write_atomic(out, MARKET_KEYS_FILE, &json)?;
    }
    let purchase_json = serde_json::to_vec_pretty(&purchase)
        .map_err(|e| protocol("POST", "/v1/purchases", &e.to_string()))?;
    write_atomic(out, PURCHASE_FILE, &purchase_json)?;
    if let Some((answer, seen)) = crate::witness::of_listing(&api, listing_id)? {
        let json = serde_json::to_vec_pretty(&answer)
            .map_err(|e| protocol("GET", "/v1/listings/{id}/checkpoint", &e.to_string()))?;
        write_atomic(out, WITNESSED_FILE, &json)?;
        report.witnessed_events = Some(seen.events);
        progress(&PullEvent::Witnessed {
            events: seen.events,
            witnessed_at: seen.witnessed_at,
        });
    }

    let mut sidecars = Sidecars::new(options.credentials, &entries)?;
    for (entry, link) in wanted {
        if job.stopped() {
            report.cancelled = true;
            return Ok(report);
        }
        done += entry.size_bytes;
        let target = out.join(&entry.file_name);
        if check_file(&target, entry).is_ok() {
            report.files_present += 1;
            progress(&PullEvent::Verified {
                asset_id: entry.asset_id.clone(),
                file_name: entry.file_name.clone(),
                size_bytes: entry.size_bytes,
                present: true,
            });
            sidecars.fetch(&api, link, entry, out, &mut report)?;
            job.report(done, total, Unit::Bytes);
            continue;
        }
        match fetch_file(&api, &link.url, out, entry) {
            Ok(()) => {
                sidecars.fetch(&api, link, entry, out, &mut report)?;
                report.files_fetched += 1;
                report.bytes += entry.size_bytes;
                progress(&PullEvent::Verified {
                    asset_id: entry.asset_id.clone(),
                    file_name: entry.file_name.clone(),
                    size_bytes: entry.size_bytes,
                    present: false,
                });
            }
            Err(Fetch::Mismatch(problem)) => {
                report
                    .failures
                    .push(format!("{}: {problem}", target.display()));
                progress(&PullEvent::Failed {
                    asset_id: entry.asset_id.clone(),
                    file_name: entry.file_name.clone(),
                    problem,
                });
            }
            Err(Fetch::Fatal(e)) => return Err(e),
        }
        job.report(done, total, Unit::Bytes);
    }
    if options.confirm && report.failures.is_empty() {
        if purchase.state == EscrowState::Held {
            let path = format!("/v1/purchases/{}/confirm", purchase.purchase_id);
            let reply = api.send("POST", &path, &[], &[])?;
            parse::<Purchase>(&reply, "POST", &path, &[200])?;
            progress(&PullEvent::Confirmed {
                purchase_id: purchase.purchase_id.clone(),
            });
        }
        report.confirmed = true;
    }
    Ok(report)
}

/// Checks a folder `pull` filled: the manifest's signature by one of
/// `trusted`, that it is the purchase's, the size and SHA-256 of every file
/// the manifest names that is in the folder (an absent one is a failure
/// unless the purchase record says it was not delivered), and that no
/// unverified download is left. Every failure is
/// listed, naming its file.
pub fn verify_pulled(dir: &Path, trusted: &[VerifyingKey]) -> Result<PullCheck> {
    let mut check = PullCheck {
        dir: dir.to_owned(),
        trusted_saved_keys: trusted.is_empty(),
        ..PullCheck::default()
    };
    let saved;
    let trusted = if trusted.is_empty() {
        saved = saved_keys(dir)?;
        &saved[..]
    } else {
        trusted
    };
    let manifest_path = dir.join(MANIFEST_FILE);
    let manifest = std::fs::read(&manifest_path).map_err(|e| io(&manifest_path, e))?;
    let signed = verify_manifest(&manifest, trusted, None);
    check.manifest_id = signed.manifest_id;
    let named = |failure: String| format!("{}: {failure}", manifest_path.display());
    check
        .failures
        .extend(signed.failures.into_iter().map(named));
    if !check.failures.is_empty() {
        return Ok(check);
    }
    // The purchase record is nobody's signed word: every file the signed
    // manifest names that is in the folder is checked; the record only
    // explains a file that is absent.
    let purchase_path = dir.join(PURCHASE_FILE);
    let delivered: Option<HashSet<String>> = match std::fs::read(&purchase_path) {
        Ok(bytes) => match serde_json::from_slice::<Purchase>(&bytes) {
            Ok(purchase) => {
                if purchase.manifest_hash != sha256(&manifest) {
                    check.failures.push(format!(
                        "{}: the purchase's manifest is {}, not this one",
                        manifest_path.display(),
                        purchase.manifest_hash
                    ));
                }
                Some(purchase.asset_ids.into_iter().collect())
            }
            Err(e) => {
                check
                    .failures
                    .push(format!("{}: not a purchase: {e}", purchase_path.display()));
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io(&purchase_path, e)),
    };
    for entry in entries(&manifest)? {
        let path = dir.join(&entry.file_name);
        let undelivered = delivered
            .as_ref()
            .is_some_and(|ids| !ids.contains(&entry.asset_id));
        if undelivered && !path.exists() {
            check.not_delivered.push(entry.file_name);
            continue;
        }
        check.files += 1;
        if let Err(problem) = check_file(&path, &entry) {
            check
                .failures
                .push(format!("{}: {problem}", path.display()));
        }
    }
    let listing = std::fs::read_dir(dir).map_err(|e| io(dir, e))?;
    for item in listing {
        let item = item.map_err(|e| io(dir, e))?;
        let name = item.file_name();
        if name.to_string_lossy().ends_with(PART_SUFFIX) {
            check.failures.push(format!(
                "{}: an unfinished, unverified download",
                item.path().display()
            ));
        }
    }
    Ok(check)
}

/// The keys of a `GET /v1/listings/{id}/keys` answer.
fn market_keys(list: &KeyList) -> std::result::Result<Vec<VerifyingKey>, String> {
    if list.keys.is_empty() {
        return Err("the market lists no key for the publisher".into());
    }
    list.keys
        .iter()
        .map(|k| {
            keys::parse_public_key(&k.public_key).map_err(|e| format!("key {}: {e}", k.key_id))
        })
        .collect()
}

/// The keys `pull` kept in `dir` when it trusted the market's.
pub(crate) fn saved_keys(dir: &Path) -> Result<Vec<VerifyingKey>> {
    let path = dir.join(MARKET_KEYS_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Invalid(format!(
                "no trusted key: give the publisher's public key ({} holds no {MARKET_KEYS_FILE})",
                dir.display()
            )))
        }
        Err(e) => return Err(io(&path, e)),
    };
    let list: KeyList = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid(format!("{}: not a key list: {e}", path.display())))?;
    market_keys(&list).map_err(|why| Error::Invalid(format!("{}: {why}", path.display())))
}

/// The manifest's bytes through its link, checked against the purchase's
/// hash of them.
pub(crate) fn fetch_manifest(api: &Api, link: &str, expected: &str) -> Result<Vec<u8>> {
    let reply = api.send("GET", link, &[], &[])?;
    if reply.status != 200 {
        return Err(Error::refused("GET", link, reply.status, &reply.body));
    }
    let actual = sha256(&reply.body);
    if actual != expected {
        return Err(Error::Untrusted {
            what: "the manifest".into(),
            failures: vec![format!(
                "it hashes to {actual}, but the purchase names {expected}"
            )],
        });
    }
    Ok(reply.body)
}

/// Why a file was not fetched: it did not verify (the pull goes on with
/// the others), or nothing more can be fetched.
pub(crate) enum Fetch {
    Mismatch(String),
    Fatal(Error),
}

/// Streams one file to its temporary name in `out`, hashing it; renames it
/// into place only when it is the manifest's. Connection failures are
/// retried from the start; whatever fails, the temporary file is removed.
pub(crate) fn fetch_file(api: &Api, link: &str, out: &Path, entry: &Entry) -> Result<(), Fetch> {
    let part = out.join(format!(".{}{PART_SUFFIX}", entry.file_name));
    let result = fetch_into(api, link, &part, entry);
    let result = result.and_then(|()| {
        std::fs::rename(&part, out.join(&entry.file_name)).map_err(|e| Fetch::Fatal(io(&part, e)))
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

pub(crate) fn fetch_into(api: &Api, link: &str, part: &Path, entry: &Entry) -> Result<(), Fetch> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let file = File::create(part).map_err(|e| Fetch::Fatal(io(part, e)))?;
        let mut sink = HashingWriter::new(BufWriter::new(file));
        // One byte more than the manifest says, so a longer file is seen.
        let last = match api.get_to(link, entry.size_bytes.saturating_add(1), &mut sink) {
            Ok(reply) if reply.status == 200 => {
                let arrived = sink.written();
                let (out, actual) = sink.finish();
                let file = out
                    .into_inner()
                    .map_err(|e| Fetch::Fatal(io(part, e.into_error())))?;
                file.sync_all().map_err(|e| Fetch::Fatal(io(part, e)))?;
                return if arrived != entry.size_bytes {
                    Err(Fetch::Mismatch(format!(
                        "{arrived} bytes arrived, but the manifest says {}",
                        entry.size_bytes
                    )))
                } else if actual != entry.checksum {
                    Err(Fetch::Mismatch(format!(
                        "checksum {actual}, but the manifest says {}",
                        entry.checksum
                    )))
                } else {
                    Ok(())
                };
            }
            Ok(reply) if reply.status < 500 => {
                return Err(Fetch::Fatal(Error::refused(
                    "GET",
                    link,
                    reply.status,
                    &reply.body,
                )))
            }
            Ok(reply) => format!("{}", reply.status),
            Err(e) => e,
        };
        if attempt >= api.retry.attempts {
            return Err(Fetch::Fatal(Error::Unreachable {
                method: "GET",
                path: link.to_owned(),
                attempts: attempt,
                last,
            }));
        }
        std::thread::sleep(api.retry.delay(attempt));
    }
}

/// Whether the file at `path` is `entry`'s: its size, then its SHA-256.
pub(crate) fn check_file(path: &Path, entry: &Entry) -> std::result::Result<(), String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let size = file.metadata().map_err(|e| e.to_string())?.len();
    if size != entry.size_bytes {
        return Err(format!(
            "{size} bytes, but the manifest says {}",
            entry.size_bytes
        ));
    }
    let mut file = Hashing::new(file);
    file.drain(1 << 20).map_err(|e| e.to_string())?;
    let actual = file.checksum();
    if actual != entry.checksum {
        return Err(format!(
            "checksum {actual}, but the manifest says {}",
            entry.checksum
        ));
    }
    Ok(())
}

/// The manifest's entries, each with a file name safe to create in the
/// folder: a plain name, not hidden, not one the pull writes itself, and
/// not another entry's.
fn entries(manifest: &[u8]) -> Result<Vec<Entry>> {
    let bad = |why: String| Error::Untrusted {
        what: "the manifest".into(),
        failures: vec![why],
    };
    let doc: Value = serde_json::from_slice(manifest).map_err(|e| bad(e.to_string()))?;
    let assets = doc
        .get("assets")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no assets".into()))?;
    let mut names = HashSet::new();
    let mut entries = Vec::with_capacity(assets.len());
    for (i, asset) in assets.iter().enumerate() {
        let text = |name: &str| {
            asset
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(format!("/assets/{i}: no {name}")))
        };
        let entry = Entry {
            asset_id: text("asset_id")?,
            file_name: text("file_name")?,
            checksum: text("checksum")?,
            size_bytes: asset
                .get("size_bytes")
                .and_then(Value::as_u64)
                .ok_or_else(|| bad(format!("/assets/{i}: no size_bytes")))?,
            media_type: text("media_type")?,
        };
        let name = entry.file_name.as_str();
        // A name every OS can create, none the pull writes itself, and no
        // other entry's, case aside (the folder may be on a file system
        // that ignores case).
        let key = file_names::collision_key(name);
        let reserved = [
            MANIFEST_FILE,
            PURCHASE_FILE,
            MARKET_KEYS_FILE,
            WITNESSED_FILE,
        ]
        .iter()
        .any(|r| file_names::collision_key(r) == key);
        if let Some(why) = file_names::file_name_problem(name) {
            return Err(bad(format!(
                "/assets/{i}: file_name {name:?} cannot be written into a folder safely: {why}"
            )));
        }
        if reserved {
            return Err(bad(format!(
                "/assets/{i}: file_name {name:?} is one the pull writes itself"
            )));
        }
        if !names.insert(key) {
            return Err(bad(format!(
                "/assets/{i}: file_name {name:?} is another asset's too, case aside"
            )));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The `.c2pa` sidecars a pull writes, when asked to: each fetched from the
/// link the market gives, checked against the verified file beside it with
/// C2PA's validator, and required to name the manifest's asset and
/// checksum (the manifest is signed; the credentials are held to it).
struct Sidecars {
    reader: Option<CredentialReader>,
    /// The collision keys of every name in the folder so far: the files'
    /// and the sidecars'.
    taken: HashSet<String>,
}

impl Sidecars {
    fn new(wanted: bool, entries: &[Entry]) -> Result<Sidecars> {
        let reader = match wanted {
            true => Some(
                CredentialReader::new(&TrustAnchors::default())
                    .map_err(|e| Error::Invalid(e.to_string()))?,
            ),
            false => None,
        };
        let taken = entries
            .iter()
            .map(|e| file_names::collision_key(&e.file_name))
            .collect();
        Ok(Sidecars { reader, taken })
    }

    /// Fetches and writes the credentials of `entry`'s verified file, when
    /// asked for; a failure to validate is the report's, naming the file.
    fn fetch(
        &mut self,
        api: &Api,
        link: &FileLink,
        entry: &Entry,
        out: &Path,
        report: &mut PullReport,
    ) -> Result<()> {
        let Some(reader) = &self.reader else {
            return Ok(());
        };
        let Some(url) = &link.credentials else {
            report.credentials_missing.push(entry.file_name.clone());
            return Ok(());
        };
        let reply = api.send("GET", url, &[], &[])?;
        if reply.status != 200 {
            return Err(Error::refused("GET", url, reply.status, &reply.body));
        }
        let file = out.join(&entry.file_name);
        let opened = File::open(&file).map_err(|e| io(&file, e))?;
        let (read, assertion) = reader.read_sidecar_assertion(
            &reply.body,
            BufReader::new(opened),
            &entry.media_type,
            Some(ASSAY_ASSERTION),
        );
        let mut problems = Vec::new();
        if read.state == CredentialState::Invalid {
            problems.push(format!(
                "they do not validate against it ({})",
                read.failures.join(", ")
            ));
        }
        let assertion = assertion.unwrap_or_default();
        for (field, expected) in [("asset_id", &entry.asset_id), ("checksum", &entry.checksum)] {
            if assertion[field].as_str() != Some(expected.as_str()) {
                problems.push(format!(
                    "their {ASSAY_ASSERTION} {field} is {}, the manifest's {expected}",
                    assertion[field]
                ));
            }
        }
        if !problems.is_empty() {
            report.failures.push(format!(
                "{}: Content Credentials refused: {}",
                file.display(),
                problems.join("; ")
            ));
            return Ok(());
        }
        // `a.jpg` → `a.c2pa`, where C2PA readers look; `a.jpg.c2pa` when
        // another file or sidecar has that name.
        let mut name = file_names::c2pa_sidecar(&entry.file_name);
        if !self.taken.insert(file_names::collision_key(&name)) {
            name = format!("{}.c2pa", entry.file_name);
            self.taken.insert(file_names::collision_key(&name));
        }
        write_atomic(out, &name, &reply.body)?;
        report.credentials.push(name);
        Ok(())
    }
}

/// Writes `bytes` as `dir/name` through a temporary name and a rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let target = dir.join(name);
    atomic::write(&target, bytes).map_err(|e| io(&target, e))
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// A server id: 32 lowercase hex digits, safe in a URL path.
fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub(crate) fn io(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_owned(),
        source,
    }
}

pub(crate) fn protocol(method: &'static str, path: &str, message: &str) -> Error {
    Error::Protocol {
        method,
        path: path.to_owned(),
        message: message.to_owned(),
    }
}
