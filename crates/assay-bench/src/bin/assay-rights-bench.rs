//! Measures the rights issue's two speeds on a library of 100,000 assets:
//! a bulk license edit (validated, signed, one transaction) and verification
//! of 1,000,000 provenance events. Peers, measured in the same run: the bare
//! SQL update the edit has to make anyway, and a naive one-core verifier that
//! checks each event's hash and signature one by one. Then, on the same
//! library with every asset approved, the exports issue's manifest figures:
//! export, the signature alone, and verification, beside plain JSON
//! serialization and parsing of the same document.
//!
//! Usage: assay-rights-bench [--assets N] [--rounds R] [--cache DIR]

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use assay_core::{Change, Filter, Library, Role, Selection};
use clap::Parser;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

#[derive(Parser)]
struct Args {
    /// Assets in the library (small text files, generated once and cached).
    #[arg(long, default_value_t = 100_000)]
    assets: usize,
    /// Bulk edits over every asset; each adds one event per asset.
    #[arg(long, default_value_t = 9)]
    rounds: usize,
    #[arg(long)]
    cache: Option<PathBuf>,
}

const TAGS: [&str; 3] = ["CC-BY-4.0", "PAY-ONE", "REV-SHARE"];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache)?;
    let assay_bench::TextLibrary {
        scratch,
        library,
        ada,
        sam,
    } = assay_bench::text_library(&cache, args.assets)?;

    // A first checkpoint, of the imports alone: the one timed below extends
    // it, with consistency proofs over the events written since.
    library.checkpoint(&sam)?;

    let mut edits = Vec::new();
    for round in 0..args.rounds {
        if round + 1 == args.rounds {
            // What an export before the last bulk edit would have written:
            // the timed checkpoint below grows from it.
            library.checkpoint(&sam)?;
        }
        let change = Change::Set {
            field: "license_tag".into(),
            value: TAGS[round % TAGS.len()].into(),
        };
        let started = Instant::now();
        let s = library.edit(&sam, &Selection::Where(Filter::default()), &[change])?;
        edits.push(started.elapsed().as_secs_f64());
        anyhow::ensure!(s.changed == args.assets, "round {round}: {s:?}");
        eprintln!("bulk edit {}: {:.3} s", round + 1, edits[round]);
    }
    let sql = sql_update(&library.db_path())?;

    let started = Instant::now();
    let report = library.verify_provenance()?;
    let verify = started.elapsed().as_secs_f64();
    anyhow::ensure!(report.breaks.is_empty(), "{:?}", &report.breaks[..1]);
    let events = report.events;
    let started = Instant::now();
    let naive = naive_verify(&library.db_path())?;
    let naive_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        naive == events,
        "naive verifier saw {naive} events, not {events}"
    );

    // Anchoring (issue 24): a checkpoint of the whole library, grown from
    // the one before the last bulk edit; then one made from every event,
    // as when the catalog holds no frontier to grow from (the peer); then
    // the same verification checked against the newest as well.
    let started = Instant::now();
    let written = library.checkpoint(&sam)?;
    let checkpoint_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(written.events == events, "{written:?}");
    rusqlite::Connection::open(library.db_path())?
        .execute("UPDATE checkpoints SET frontier = NULL", [])?;
    let started = Instant::now();
    let written = library.checkpoint(&sam)?;
    let whole_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(written.events == events, "{written:?}");
    let started = Instant::now();
    let anchored = library.verify_provenance()?;
    let anchored_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(anchored.holds(), "{anchored:?}");
    anyhow::ensure!(anchored.checkpoint.is_some(), "no checkpoint was checked");

    let manifest = manifest_figures(&library, &sam, &ada, args.assets, scratch.path())?;

    let mut sorted = edits.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    println!("| Measurement | Count | Time (s) | Rate |");
    println!("|---|---:|---:|---:|");
    println!(
        "| bulk license edit, first (validate, sign, write) | {} assets | {:.3} | {:.0} assets/s |",
        args.assets,
        edits[0],
        args.assets as f64 / edits[0]
    );
    println!(
        "| bulk license edit, median of {} | {} assets | {median:.3} | {:.0} assets/s |",
        edits.len(),
        args.assets,
        args.assets as f64 / median
    );
    println!(
        "| peer: bare SQL update of the same rows | {} assets | {sql:.3} | {:.0} assets/s |",
        args.assets,
        args.assets as f64 / sql
    );
    println!(
        "| assay verify --provenance | {events} events | {verify:.3} | {:.0} events/s |",
        events as f64 / verify
    );
    println!(
        "| peer: naive verifier, one event at a time, one core | {events} events | {naive_time:.3} | {:.0} events/s |",
        events as f64 / naive_time
    );
    println!(
        "| assay checkpoint, grown from the last ({} events since; two tree heads, consistency proofs, heads list, signed) | {events} events | {checkpoint_time:.3} | {:.0} events/s |",
        args.assets,
        events as f64 / checkpoint_time
    );
    println!(
        "| peer: the same checkpoint made from every event (no frontier to grow from) | {events} events | {whole_time:.3} | {:.0} events/s |",
        events as f64 / whole_time
    );
    println!(
        "| assay verify --provenance, against that checkpoint too | {events} events | {anchored_time:.3} | {:.0} events/s |",
        events as f64 / anchored_time
    );
    for (what, seconds) in manifest {
        println!(
            "| {what} | {} assets | {seconds:.3} | {:.0} assets/s |",
            args.assets,
            args.assets as f64 / seconds
        );
    }
    Ok(())
}

/// Completes, submits and approves every asset, then times a manifest
/// export, its signature alone and its verification, with their peers.
fn manifest_figures(
    library: &Library,
    sam: &assay_core::Actor,
    ada: &assay_core::Actor,
    assets: usize,
    scratch: &Path,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    let all = Selection::Where(Filter::default());
    let set = |field: &str, value: &str| Change::Set {
        field: field.into(),
        value: value.into(),
    };
    library.edit(
        sam,
        &all,
        &[
            set("tax_and_payout_info", "acct_bench"),
            set("signed_contract_id", "K-bench"),
        ],
    )?;
    library.add_user(Some(ada), "rosa", Role::RightsManager, b"pw")?;
    let rosa = library.unlock("rosa", b"pw")?;
    eprintln!("submitting and approving {assets} assets");
    library.submit(sam, &all)?;
    library.approve(&rosa, &all, None)?;

    let out = scratch.join("manifest.json");
    let started = Instant::now();
    let export = library.export_manifest(&rosa, &all, &out)?;
    let export_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(export.assets == assets, "exported {}", export.assets);
    let event_writes = event_writes(&library.db_path())?;

    let bytes = std::fs::read(&out)?;
    let key = library.user_public_key("rosa")?;
    let started = Instant::now();
    let check = assay_core::verify_manifest(&bytes, &[key], None);
    let verify_time = started.elapsed().as_secs_f64();
    anyhow::ensure!(check.failures.is_empty(), "{:?}", check.failures);

    let mut doc: serde_json::Value = serde_json::from_slice(&bytes)?;
    if let Some(map) = doc.as_object_mut() {
        map.remove("signature");
    }
    let signer = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let started = Instant::now();
    let signature =
        ed25519_dalek::Signer::sign(&signer, &assay_core::canonical::canonical_json(&doc));
    let sign_time = started.elapsed().as_secs_f64();
    std::hint::black_box(signature);

    let started = Instant::now();
    std::fs::write(scratch.join("plain.json"), serde_json::to_vec(&doc)?)?;
    let plain_write = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let parsed: serde_json::Value = serde_json::from_slice(&bytes)?;
    let plain_parse = started.elapsed().as_secs_f64();
    std::hint::black_box(parsed);
    Ok(vec![
        (
            "manifest export (select, build, validate, sign, an export event per asset, write)",
            export_time,
        ),
        (
            "manifest signature alone (canonical JSON and one ed25519 signature)",
            sign_time,
        ),
        (
            "manifest verify (parse, schema, canonical JSON, signature)",
            verify_time,
        ),
        ("peer: serde_json writing the same document", plain_write),
        ("peer: serde_json parsing the same document", plain_parse),
        (
            "peer: the export's event rows and head updates alone, bare SQL",
            event_writes,
        ),
    ])
}

/// What recording an export on every asset costs SQLite alone, with no
/// building, hashing or signing: the export's event rows written again, in
/// one committed transaction, into a scratch table shaped like `events`
/// (dropped afterwards), and each asset's head set (to the hash it holds).
fn event_writes(db: &Path) -> anyhow::Result<f64> {
    let mut conn = rusqlite::Connection::open(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.execute_batch(
        "CREATE TABLE events_peer (
             id INTEGER PRIMARY KEY, asset INTEGER NOT NULL REFERENCES assets(id),
             seq INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, hash TEXT NOT NULL,
             signature BLOB NOT NULL, key_id TEXT NOT NULL,
             batch INTEGER REFERENCES batches(id), leaf INTEGER, UNIQUE (asset, seq));",
    )?;
    let batch: i64 = conn.query_row("SELECT max(id) FROM batches", [], |r| r.get(0))?;
    let rows: Vec<(i64, i64, String, String, String, String)> = conn
        .prepare("SELECT asset, seq, kind, body, hash, key_id FROM events WHERE kind = 'export'")?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO events_peer (asset, seq, kind, body, hash, signature, key_id, batch, leaf)
             VALUES (?1, ?2, ?3, ?4, ?5, x'', ?6, ?7, ?8)",
        )?;
        let mut head = tx.prepare("UPDATE assets SET provenance_hash = ?1 WHERE id = ?2")?;
        for (leaf, (asset, seq, kind, body, hash, key_id)) in rows.iter().enumerate() {
            insert.execute(rusqlite::params![
                asset, seq, kind, body, hash, key_id, batch, leaf
            ])?;
            head.execute(rusqlite::params![hash, asset])?;
        }
    }
    tx.commit()?;
    let elapsed = started.elapsed().as_secs_f64();
    conn.execute_batch("DROP TABLE events_peer;")?;
    Ok(elapsed)
}

/// `n` small text files with distinct contents, generated once.
/// The write the edit cannot avoid, on its own: one UPDATE per asset in one
/// transaction, rolled back so the library is left as it was.
fn sql_update(db: &Path) -> anyhow::Result<f64> {
    let mut conn = rusqlite::Connection::open(db)?;
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM assets")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let started = Instant::now();
    let tx = conn.transaction()?;
    {
        let mut stmt = tx.prepare(
            "UPDATE assets SET rights = json_set(rights, '$.license_tag', 'CC-BY-4.0') WHERE id = ?1",
        )?;
        for id in ids {
            stmt.execute([id])?;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    tx.rollback()?;
    Ok(elapsed)
}

/// Re-hashes each event and checks its signature alone, on one core (an
/// event signed in a batch: its leaf, and the batch's signature once).
fn naive_verify(db: &Path) -> anyhow::Result<u64> {
    let conn = rusqlite::Connection::open(db)?;
    let keys: std::collections::HashMap<String, VerifyingKey> = conn
        .prepare("SELECT key_id, public_key FROM users")?
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
        })?
        .map(|row| {
            let (id, bytes) = row?;
            let bytes: [u8; 32] = bytes.try_into().map_err(|_| anyhow::anyhow!("key size"))?;
            Ok((id, VerifyingKey::from_bytes(&bytes)?))
        })
        .collect::<anyhow::Result<_>>()?;
    let mut stmt =
        conn.prepare("SELECT body, hash, signature, key_id, batch, leaf FROM events ORDER BY id")?;
    let mut rows = stmt.query([])?;
    // Batches (events signed together) are checked once each: their root
    // recomputed from their leaves, and its signature.
    let mut batches: std::collections::HashMap<i64, Vec<u8>> = std::collections::HashMap::new();
    let mut n = 0;
    while let Some(row) = rows.next()? {
        let body: String = row.get(0)?;
        let digest = Sha256::digest(body.as_bytes());
        let hash: String = row.get(1)?;
        anyhow::ensure!(hash == format!("sha256:{}", hex::encode(digest)), "hash");
        let key_id: String = row.get(3)?;
        let key = keys.get(&key_id).context("unknown key")?;
        match (row.get::<_, Option<i64>>(4)?, row.get::<_, Option<i64>>(5)?) {
            (Some(batch), Some(leaf)) => {
                let leaves = match batches.entry(batch) {
                    std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                    std::collections::hash_map::Entry::Vacant(slot) => {
                        slot.insert(checked_batch(&conn, batch, key)?)
                    }
                };
                let at = usize::try_from(leaf)? * 32;
                anyhow::ensure!(leaves.get(at..at + 32) == Some(digest.as_slice()), "leaf");
            }
            _ => {
                let signature = Signature::from_slice(&row.get::<_, Vec<u8>>(2)?)?;
                key.verify_strict(&digest, &signature)?;
            }
        }
        n += 1;
    }
    Ok(n)
}

/// A batch's leaves, once its RFC 6962 root (recomputed level by level) and
/// the signature over it hold. Written here again on purpose: the peer
/// checks the catalog with none of the core's verification code.
fn checked_batch(
    conn: &rusqlite::Connection,
    batch: i64,
    key: &VerifyingKey,
) -> anyhow::Result<Vec<u8>> {
    let (leaves, signature, size): (Vec<u8>, Vec<u8>, u64) = conn.query_row(
        "SELECT leaves, signature, size FROM batches WHERE id = ?1",
        [batch],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let node = |prefix: u8, parts: &[&[u8]]| {
        let mut sha = Sha256::new();
        sha.update([prefix]);
        for part in parts {
            sha.update(part);
        }
        <[u8; 32]>::from(sha.finalize())
    };
    let mut level: Vec<[u8; 32]> = leaves.chunks(32).map(|l| node(0, &[l])).collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => node(1, &[left, right]),
                _ => pair[0],
            })
            .collect();
    }
    let root = level.first().context("an empty batch")?;
    let message = format!(
        "{{\"batch_root\":\"sha256:{}\",\"size\":{size}}}",
        hex::encode(root)
    );
    let signature = Signature::from_slice(&signature)?;
    key.verify_strict(&Sha256::digest(message.as_bytes()), &signature)?;
    Ok(leaves)
}
