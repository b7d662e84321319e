//! Near-duplicates: how well they are found, and how fast.
//!
//! Quality: every camera JPEG of the test corpus (at least 400 pixels on its
//! long edge) and generated benchmark photos, each copied by libvips
//! (`vips`) resized to half, recompressed at quality 60, cropped by 5% and
//! turned 90°, plus pairs that are similar but different shots (each
//! generated photo panned by a tenth of its width; the corpus's own
//! consecutive shots are originals of their own), all imported into one
//! library. Precision and recall per transformation at each distance, from
//! every asset's near-duplicates: a pair is right when both files come
//! from one original.
//!
//! Speed: the catalog grown to 100,000 fingerprints (half at random, half
//! near the real ones, as a library of many similar shoots would be) and
//! grouped whole (`Library::duplicates`); then grown to 1,000,000, and one
//! asset's near-duplicates (`Library::near_duplicates`, band indexes) timed
//! beside the peer, a scan of every fingerprint in SQL.
//!
//! Usage: assay-dupes-bench [--generated N] [--grouped N] [--fingerprints N] [--queries Q] [--cache DIR]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;
use assay_bench::generate;
use assay_bench::stats::{max, median};
use assay_core::{ImportOptions, Library};
use clap::Parser;

#[derive(Parser)]
struct Args {
    /// Generated photos among the originals.
    #[arg(long, default_value_t = 60)]
    generated: usize,
    /// Fingerprints in the catalog the lookups are timed on.
    #[arg(long, default_value_t = 1_000_000)]
    fingerprints: usize,
    /// Assets of the library whose grouping is timed.
    #[arg(long, default_value_t = 100_000)]
    grouped: usize,
    /// Lookups timed.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// What a copy was made by; `Shot` is a different shot, not a copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Original,
    Resized,
    Recompressed,
    Cropped,
    Turned,
    Shot,
}

const COPIES: [Kind; 4] = [
    Kind::Resized,
    Kind::Recompressed,
    Kind::Cropped,
    Kind::Turned,
];

/// A distance past the default, whose lookups probe more band values.
const WIDER: u32 = 10;

/// Distances reported.
const DISTANCES: [u32; 6] = [4, 6, 8, 10, 12, 14];

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache.clone())?;
    let machine = assay_bench::machine::Machine::detect();
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("dupes-")
        .tempdir_in(&cache)?;
    let files = scratch.path().join("files");
    std::fs::create_dir_all(&files)?;

    let originals = originals(&cache, args.generated, machine.cores)?;
    eprintln!("copying {} originals with vips", originals.len());
    // Each file's original (its group) and kind, by file name.
    let mut truth: HashMap<String, (usize, Kind)> = HashMap::new();
    let mut group = 0;
    let mut sources: HashMap<usize, PathBuf> = HashMap::new();
    for (source, pan) in &originals {
        let name = |kind: Kind| format!("{group:04}-{kind:?}.jpg").to_lowercase();
        let mut kinds = COPIES.to_vec();
        if *pan {
            kinds.push(Kind::Shot);
        }
        // A damaged original vips cannot read whole is left out.
        let made: anyhow::Result<()> = size(source)
            .with_context(|| format!("vips cannot read {}", source.display()))
            .and_then(|size| {
                kinds
                    .iter()
                    .try_for_each(|&kind| copy(source, size, kind, &files.join(name(kind))))
            });
        if let Err(e) = made {
            eprintln!("left out: {e:#}");
            for kind in kinds {
                let _ = std::fs::remove_file(files.join(name(kind)));
            }
            continue;
        }
        std::fs::copy(source, files.join(name(Kind::Original)))
            .with_context(|| format!("copying {}", source.display()))?;
        for kind in kinds {
            // A different shot is a group of its own.
            let of = if kind == Kind::Shot {
                usize::MAX - group
            } else {
                group
            };
            truth.insert(name(kind), (of, kind));
        }
        truth.insert(name(Kind::Original), (group, Kind::Original));
        sources.insert(group, source.clone());
        group += 1;
    }
    let originals = group;

    let library = Library::open(scratch.path().join("library"))?;
    eprintln!("importing {} files", truth.len());
    let imported = library.import(
        std::slice::from_ref(&files),
        &ImportOptions::default(),
        &mut |_| {},
    )?;
    anyhow::ensure!(imported.failed == 0, "{imported:?}");
    let ids: HashMap<String, String> = library
        .list(&Default::default())?
        .into_iter()
        .filter_map(|r| {
            let path = PathBuf::from(&r.locations.first()?.path);
            Some((r.asset_id, path.file_name()?.to_string_lossy().into_owned()))
        })
        .collect();
    // Every pair within the widest distance reported, found as an asset's
    // near-duplicates.
    let widest = DISTANCES[DISTANCES.len() - 1];
    let mut found: BTreeMap<(String, String), u32> = BTreeMap::new();
    for (id, name) in &ids {
        for (other, d) in library.near_duplicates(id, widest)? {
            let other = ids.get(&other).context("an unknown asset")?.clone();
            let pair = if *name < other {
                (name.clone(), other)
            } else {
                (other, name.clone())
            };
            found.insert(pair, d);
        }
    }
    quality(&truth, &found, &machine, originals);
    // What the default distance takes for copies wrongly, by source.
    for ((a, b), d) in &found {
        if *d <= assay_core::DEFAULT_MAX_DISTANCE && truth[a.as_str()].0 != truth[b.as_str()].0 {
            let of = |n: &str| {
                sources
                    .get(&truth[n].0)
                    .map(|p| p.display().to_string())
                    .unwrap_or(n.to_owned())
            };
            eprintln!("false pair at {d}: {} ~ {}", of(a), of(b));
        }
    }
    speed(&library, &args, scratch.path())?;
    Ok(())
}

/// The originals: the corpus's camera JPEGs and `generated` benchmark
/// photos; each with whether a panned shot of it is made (the generated
/// ones).
fn originals(cache: &Path, generated: usize, cores: usize) -> anyhow::Result<Vec<(PathBuf, bool)>> {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files");
    let mut out = Vec::new();
    for path in walk(&corpus)? {
        let is_jpeg = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"));
        // The corpus stores one picture in each EXIF orientation: one
        // original of each family, the rest would be its near-duplicates.
        let name = path.to_string_lossy();
        let turned_copy = name.contains("/orientation/") && !name.ends_with("_1.jpg");
        // Large enough to be a photo, and whole (vips reads it).
        if is_jpeg && !turned_copy && size(&path).is_some_and(|(w, h)| w.max(h) >= 400) {
            out.push((path, false));
        }
    }
    let set = generate::ensure(cache, &generate::MEDIUM, generated, cores)?;
    out.extend(set.files.into_iter().map(|f| (f, true)));
    Ok(out)
}

fn walk(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            out.extend(walk(&path)?);
        } else {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The pixel size of the picture at `path`, as vips reads it; `None` when
/// vips cannot read it.
fn size(path: &Path) -> Option<(u32, u32)> {
    let field = |name: &str| -> Option<u32> {
        let out = Command::new("vipsheader")
            .args(["-f", name])
            .arg(path)
            .output()
            .ok()?;
        out.status.success().then_some(())?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((field("width")?, field("height")?))
}

/// Makes the `kind` of copy of `source` at `to`, with libvips.
/// `(width, height)` is the source's size.
fn copy(source: &Path, (width, height): (u32, u32), kind: Kind, to: &Path) -> anyhow::Result<()> {
    let out = to.to_string_lossy().into_owned();
    let src = source.to_string_lossy().into_owned();
    let args: Vec<String> = match kind {
        Kind::Resized => vec!["resize".into(), src, out, "0.5".into()],
        Kind::Recompressed => vec!["copy".into(), src, format!("{out}[Q=60]")],
        Kind::Cropped => {
            // 5% off each dimension, the picture's middle kept.
            let (w, h) = (width * 95 / 100, height * 95 / 100);
            let (left, top) = ((width - w) / 2, (height - h) / 2);
            [
                "crop",
                &src,
                &out,
                &left.to_string(),
                &top.to_string(),
                &w.to_string(),
                &h.to_string(),
            ]
            .map(str::to_owned)
            .to_vec()
        }
        Kind::Turned => vec!["rot".into(), src, out, "d90".into()],
        Kind::Shot => {
            // The camera moved a tenth of the frame to the right.
            let (w, pan) = (width * 9 / 10, width / 10);
            [
                "crop",
                &src,
                &out,
                &pan.to_string(),
                "0",
                &w.to_string(),
                &height.to_string(),
            ]
            .map(str::to_owned)
            .to_vec()
        }
        Kind::Original => anyhow::bail!("an original is not a copy"),
    };
    assay_bench::run_quietly(Command::new("vips").args(&args))
        .with_context(|| format!("making the {kind:?} copy of {}", source.display()))
}

fn quality(
    truth: &HashMap<String, (usize, Kind)>,
    found: &BTreeMap<(String, String), u32>,
    machine: &assay_bench::machine::Machine,
    originals: usize,
) {
    println!("## Near-duplicate quality\n");
    println!(
        "{originals} originals ({} files with their copies and shots); machine: {}, {} cores\n",
        truth.len(),
        machine.cpu,
        machine.cores
    );
    println!("| Distance ≤ | Kind | Pairs | Found | Recall | Precision |");
    println!("|---:|---|---:|---:|---:|---:|");
    let same = |a: &str, b: &str| truth[a].0 == truth[b].0;
    for max_distance in DISTANCES {
        let detected: Vec<(&String, &String)> = found
            .iter()
            .filter(|(_, &d)| d <= max_distance)
            .map(|((a, b), _)| (a, b))
            .collect();
        for kind in COPIES {
            // The pairs of each original and its copy of this kind.
            let pairs = truth.values().filter(|(_, k)| *k == kind).count();
            let hit = detected
                .iter()
                .filter(|(a, b)| {
                    same(a, b) && {
                        let kinds = [truth[a.as_str()].1, truth[b.as_str()].1];
                        kinds.contains(&kind) && kinds.contains(&Kind::Original)
                    }
                })
                .count();
            // Of the pairs found that hold a copy of this kind, how many are
            // of one original.
            let involving: Vec<_> = detected
                .iter()
                .filter(|(a, b)| truth[a.as_str()].1 == kind || truth[b.as_str()].1 == kind)
                .collect();
            let right = involving.iter().filter(|(a, b)| same(a, b)).count();
            println!(
                "| {max_distance} | {kind:?} | {pairs} | {hit} | {:.3} | {} |",
                hit as f64 / pairs.max(1) as f64,
                precision(right, involving.len())
            );
        }
        let shots = truth.values().filter(|(_, k)| *k == Kind::Shot).count();
        let shot_found = detected
            .iter()
            .filter(|(a, b)| truth[a.as_str()].1 == Kind::Shot || truth[b.as_str()].1 == Kind::Shot)
            .filter(|(a, b)| !same(a, b))
            .count();
        let right = detected.iter().filter(|(a, b)| same(a, b)).count();
        println!(
            "| {max_distance} | different shots (found is wrong) | {shots} | {shot_found} | — | — |"
        );
        println!(
            "| {max_distance} | all pairs found | | {} | | {} |",
            detected.len(),
            precision(right, detected.len())
        );
    }
    println!();
}

fn precision(right: usize, of: usize) -> String {
    match of {
        0 => "—".into(),
        n => format!("{:.3}", right as f64 / n as f64),
    }
}

fn speed(library: &Library, args: &Args, scratch: &Path) -> anyhow::Result<()> {
    let db = library.db_path();
    let real = library.list(&Default::default())?.len();
    let conn = rusqlite::Connection::open(&db)?;
    // Grouping holds every fingerprint in memory and probes for each: it
    // is timed on a copy of the library grown to `--grouped` assets, the
    // lookups on the whole catalog.
    let copy = scratch.join("grouped");
    std::fs::create_dir_all(&copy)?;
    conn.execute(
        "VACUUM INTO ?1",
        [copy.join("library.db").to_string_lossy()],
    )?;
    let grouped = Library::open(&copy)?;
    eprintln!(
        "growing a copy of the catalog to {} fingerprints",
        args.grouped
    );
    assay_bench::grow_catalog(&grouped.db_path(), args.grouped)?;
    grow_fingerprints(&rusqlite::Connection::open(grouped.db_path())?, real)?;
    let t = Instant::now();
    let groups = grouped.duplicates(assay_core::DEFAULT_MAX_DISTANCE)?;
    let grouping = t.elapsed().as_secs_f64();
    eprintln!("growing the catalog to {} fingerprints", args.fingerprints);
    assay_bench::grow_catalog(&db, args.fingerprints)?;
    grow_fingerprints(&conn, real)?;
    let held: i64 = conn.query_row("SELECT count(*) FROM fingerprints", [], |r| r.get(0))?;

    // Assets spread over the catalog, real and grown.
    let ids: Vec<String> = {
        let step = (args.fingerprints / args.queries.max(1)).max(1);
        let mut stmt = conn.prepare("SELECT asset_id FROM assets WHERE id % ?1 = 0 LIMIT ?2")?;
        let rows = stmt.query_map([step as i64, args.queries as i64], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    // At the default distance, and at a wider one (more band values probed).
    let mut lookups = Vec::new();
    for max_distance in [assay_core::DEFAULT_MAX_DISTANCE, WIDER] {
        let (mut times, mut matches) = (Vec::new(), 0);
        for id in &ids {
            let t = Instant::now();
            matches += library.near_duplicates(id, max_distance)?.len();
            times.push(t.elapsed().as_secs_f64());
        }
        lookups.push((max_distance, times, matches));
    }
    let mut scans = Vec::new();
    for id in ids.iter().take(20) {
        let t = Instant::now();
        scan(&conn, id)?;
        scans.push(t.elapsed().as_secs_f64());
    }
    println!("## Near-duplicate lookups\n");
    println!("{held} fingerprints; {} assets looked up\n", ids.len());
    println!("| Measurement | Median (ms) | Max (ms) |");
    println!("|---|---:|---:|");
    for (max_distance, times, matches) in &lookups {
        println!(
            "| one asset's near-duplicates within {max_distance} bits (`Library::near_duplicates`, band indexes; {matches} found in all) | {:.2} | {:.2} |",
            median(times) * 1e3,
            max(times) * 1e3
        );
    }
    println!(
        "| peer: scan every fingerprint in SQL | {:.2} | {:.2} |",
        median(&scans) * 1e3,
        max(&scans) * 1e3
    );
    println!(
        "| every group of a library of {} assets within {} bits (`Library::duplicates`, {} groups) | {:.0} | |",
        args.grouped,
        assay_core::DEFAULT_MAX_DISTANCE,
        groups.len(),
        grouping * 1e3
    );
    println!();
    Ok(())
}

/// Gives every asset the catalog grew a fingerprint: half at random, half a
/// real one with 16 to 31 of its 64 bits flipped (a similar but different
/// picture), its bands those the catalog indexes (`assay_preview::bands`).
fn grow_fingerprints(conn: &rusqlite::Connection, real: usize) -> anyhow::Result<()> {
    let reals: Vec<[i64; 4]> = {
        let mut stmt =
            conn.prepare("SELECT upright, quarter, half, three_quarters FROM fingerprints")?;
        let rows = stmt.query_map([], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    anyhow::ensure!(
        !reals.is_empty() && reals.len() <= real,
        "no real fingerprints"
    );
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    conn.execute_batch("BEGIN")?;
    {
        let mut missing =
            conn.prepare("SELECT id FROM assets WHERE id NOT IN (SELECT asset FROM fingerprints)")?;
        let rows: Vec<i64> = missing
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut insert = conn.prepare(
            "INSERT INTO fingerprints (asset, upright, quarter, half, three_quarters,
                band0, band1, band2, band3) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (i, row) in rows.into_iter().enumerate() {
            let turns: [u64; 4] = if i % 2 == 0 {
                [next(), next(), next(), next()]
            } else {
                let base = reals[(next() % reals.len() as u64) as usize];
                let mut mask = 0u64;
                let flips = 16 + next() % 16;
                while u64::from(mask.count_ones()) < flips {
                    mask |= 1 << (next() % 64);
                }
                base.map(|t| t as u64 ^ mask)
            };
            let [b0, b1, b2, b3] = assay_core::preview::bands(turns[0]);
            insert.execute(rusqlite::params![
                row,
                turns[0] as i64,
                turns[1] as i64,
                turns[2] as i64,
                turns[3] as i64,
                b0,
                b1,
                b2,
                b3,
            ])?;
        }
    }
    conn.execute_batch("COMMIT; ANALYZE")?;
    Ok(())
}

/// The peer: every fingerprint read and compared.
fn scan(conn: &rusqlite::Connection, id: &str) -> anyhow::Result<usize> {
    let turns: [i64; 4] = conn.query_row(
        "SELECT upright, quarter, half, three_quarters FROM fingerprints f
         JOIN assets a ON a.id = f.asset WHERE a.asset_id = ?1",
        [id],
        |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?]),
    )?;
    let mut stmt = conn.prepare_cached("SELECT upright FROM fingerprints")?;
    let mut rows = stmt.query([])?;
    let mut near = 0;
    while let Some(r) = rows.next()? {
        let up = r.get::<_, i64>(0)? as u64;
        let d = turns
            .iter()
            .map(|&t| (t as u64 ^ up).count_ones())
            .min()
            .unwrap_or(64);
        if d <= assay_core::DEFAULT_MAX_DISTANCE {
            near += 1;
        }
    }
    Ok(near)
}
