//! Content Credentials, two figures (issue 26):
//!
//! 1. `assay c2pa export` (re-hash each original, sign a manifest with the
//!    rights manager's key and embed it in a copy) beside `c2patool`
//!    signing the same files one process per file with an equivalent
//!    manifest, on the test corpus's JPEGs and on generated 6000x4000
//!    (24 MP) JPEGs. Rounds alternate between the two, after a `sync`,
//!    with the files in the page cache. c2patool's thumbnail is turned off
//!    (Assay makes none); it reads back and prints what it signed, as it
//!    always does. The export fsyncs every copy before it records the
//!    export; c2patool leaves its output in the page cache, so `c2patool`
//!    then `sync` is shown too.
//! 2. The cost of reading credentials at import: `CredentialReader::read`
//!    per file from its bytes in memory (as import reads an image), on the
//!    24 MP originals (no manifest store) and on their signed copies (one
//!    store each), beside the time a one-worker import takes per original.
//!
//! Usage: assay-c2pa-bench [--large N] [--rounds R] [--cache DIR]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use assay_bench::stats::{max, median, min};
use assay_bench::{generate, machine::Machine};
use assay_bench::{run_quietly as run, settle};
use assay_core::{Change, Filter, ImportOptions, Job, Library, Selection};
use assay_credentials::{Authority, CredentialReader, TrustAnchors};
use assay_deadline::OutputWithin;
use clap::Parser;
use serde_json::json;

#[derive(Parser)]
struct Args {
    /// Generated 6000x4000 JPEGs to sign.
    #[arg(long, default_value_t = 40)]
    large: usize,
    /// Rounds of each measurement.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..))]
    rounds: u16,
    #[arg(long)]
    cache: Option<PathBuf>,
}

/// One set of files, approved in a library of its own.
struct Approved {
    name: String,
    dir: PathBuf,
    files: Vec<PathBuf>,
    bytes: u64,
    library: Library,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let cache = assay_bench::cache_dir(args.cache)?;
    let machine = Machine::detect();
    let c2patool = c2patool()?;
    let version = Command::new(&c2patool)
        .arg("--version")
        .output_within(assay_bench::TOOL_LIMIT)?;
    let version = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    let scratch = tempfile::tempdir_in(&cache)?;

    let photos = corpus_photos(&cache)?;
    let large = generate::ensure(&cache, &generate::LARGE, args.large, machine.cores)?;
    let sets = [
        approved(
            scratch.path(),
            "test corpus JPEGs",
            &photos,
            &jpegs(&photos)?,
        )?,
        approved(
            scratch.path(),
            &format!("generated {}", large.format),
            &large.dir,
            &large.files,
        )?,
    ];

    // c2patool signs with a key and chain of the same kind (ed25519, an
    // end entity under a CA), with the same assertions.
    let authority = Authority::new("Assay bench")?;
    let (key, chain) = authority.new_signer("rosa", "Assay bench")?;
    let peer_dir = scratch.path().join("peer");
    std::fs::create_dir_all(&peer_dir)?;
    std::fs::write(peer_dir.join("key.pem"), key)?;
    std::fs::write(peer_dir.join("chain.pem"), chain)?;
    let manifest = peer_dir.join("manifest.json");
    std::fs::write(
        &manifest,
        json!({
            "alg": "ed25519",
            "private_key": peer_dir.join("key.pem"),
            "sign_cert": peer_dir.join("chain.pem"),
            "claim_generator_info": [{"name": "bench", "version": "1"}],
            "assertions": [
                {"label": "c2pa.actions", "data": {"actions": [{"action": "c2pa.opened"}]}},
                {"label": "cawg.training-mining", "data": {"entries": {
                    "cawg.ai_training": {"use": "allowed"},
                    "cawg.ai_generative_training": {"use": "allowed"},
                    "cawg.ai_inference": {"use": "allowed"},
                    "cawg.data_mining": {"use": "allowed"}}}},
                {"label": "stds.schema-org.CreativeWork", "data": {
                    "@context": "https://schema.org", "@type": "CreativeWork",
                    "author": [{"@type": "Person", "name": "Cy"}]}}
            ]
        })
        .to_string(),
    )?;
    let settings = peer_dir.join("settings.json");
    std::fs::write(
        &settings,
        json!({"builder": {"thumbnail": {"enabled": false}},
               "verify": {"remote_manifest_fetch": false, "ocsp_fetch": false}})
        .to_string(),
    )?;

    println!(
        "Machine: {}, {} cores, load {}; {}",
        machine.cpu, machine.cores, machine.load, machine.os
    );
    println!("Peer: {version}; median of {} rounds each\n", args.rounds);
    println!("| Files | Measurement | Median (s) | Range (s) | Files/s | MB/s |");
    println!("|---|---|---:|---:|---:|---:|");
    let all = Selection::Where(Filter::default());
    let mut ratios = Vec::new();
    for set in &sets {
        let rosa = set.library.unlock("rosa", b"pw")?;
        let (mut ours, mut theirs, mut synced) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..usize::from(args.rounds) {
            let out = scratch.path().join("out");
            settle()?;
            let started = Instant::now();
            let export = set
                .library
                .export_credentials(&rosa, &all, &out, &mut Job::quiet())?;
            ours.push(started.elapsed().as_secs_f64());
            anyhow::ensure!(
                export.files.len() == set.files.len() && export.refused.is_empty(),
                "{}: {export:?}",
                set.name
            );
            std::fs::remove_dir_all(&out)?;

            let out = scratch.path().join("peer-out");
            std::fs::create_dir_all(&out)?;
            settle()?;
            let started = Instant::now();
            for file in &set.files {
                let name = file.file_name().unwrap_or_default();
                run(Command::new(&c2patool)
                    .arg(file)
                    .arg("--settings")
                    .arg(&settings)
                    .arg("-m")
                    .arg(&manifest)
                    .arg("-o")
                    .arg(out.join(name))
                    .arg("-f"))?;
            }
            theirs.push(started.elapsed().as_secs_f64());
            settle()?;
            synced.push(started.elapsed().as_secs_f64());
            std::fs::remove_dir_all(&out)?;
            eprintln!(
                "{} round {}: assay {:.3} s, c2patool {:.3} s",
                set.name,
                round + 1,
                ours[round],
                theirs[round]
            );
        }
        let (n, mb) = (set.files.len() as f64, set.bytes as f64 / 1e6);
        for (what, times) in [
            (
                "`assay c2pa export` (one process, every copy fsynced)",
                &ours,
            ),
            ("peer: `c2patool` one process per file", &theirs),
            (
                "peer: `c2patool` one process per file, then `sync`",
                &synced,
            ),
        ] {
            let m = median(times);
            println!(
                "| {} ({} files, {:.0} MB) | {what} | {m:.3} | {:.3}-{:.3} | {:.1} | {:.1} |",
                set.name,
                set.files.len(),
                mb,
                min(times),
                max(times),
                n / m,
                mb / m
            );
        }
        ratios.push((
            set.name.clone(),
            median(&theirs) / median(&ours),
            median(&synced) / median(&ours),
        ));
    }
    for (name, ratio, synced) in &ratios {
        println!(
            "\n{name}: Assay signs {ratio:.1}x as fast as c2patool ({synced:.1}x c2patool then sync; target at least 3x)"
        );
    }

    // Reading at import: the large originals (no store) and signed copies.
    let large_set = &sets[1];
    let rosa = large_set.library.unlock("rosa", b"pw")?;
    let signed = scratch.path().join("signed");
    large_set
        .library
        .export_credentials(&rosa, &all, &signed, &mut Job::quiet())?;
    let copies = jpegs(&signed)?;
    anyhow::ensure!(
        copies.len() == large_set.files.len(),
        "{} signed copies in {}",
        copies.len(),
        signed.display()
    );
    let reader = CredentialReader::new(&TrustAnchors::default())?;
    let read_each = |files: &[PathBuf], expect_store: bool| -> anyhow::Result<Vec<f64>> {
        let mut per_file = Vec::new();
        for _ in 0..args.rounds {
            let mut elapsed = 0.0;
            for file in files {
                let bytes = std::fs::read(file)?;
                let started = Instant::now();
                let found = reader.read_bytes(&bytes, "image/jpeg")?;
                elapsed += started.elapsed().as_secs_f64();
                anyhow::ensure!(found.is_some() == expect_store, "{}", file.display());
            }
            per_file.push(elapsed / files.len() as f64);
        }
        Ok(per_file)
    };
    let without = read_each(&large_set.files, false)?;
    let with = read_each(&copies, true)?;
    let mut import = Vec::new();
    for round in 0..usize::from(args.rounds) {
        let library = Library::open(scratch.path().join(format!("import-{round}")))?;
        settle()?;
        let started = Instant::now();
        let summary = library.import(
            std::slice::from_ref(&large_set.dir),
            &ImportOptions {
                jobs: 1,
                ..ImportOptions::default()
            },
            &mut |_| {},
        )?;
        import.push(started.elapsed().as_secs_f64() / large_set.files.len() as f64);
        anyhow::ensure!(
            summary.imported as usize == large_set.files.len(),
            "{summary:?}"
        );
    }
    let imported = median(&import);
    println!(
        "\nReading credentials at import ({} 24 MP JPEGs; per file, median of {} rounds):\n",
        large_set.files.len(),
        args.rounds
    );
    println!(
        "| Measurement | Per file (ms) | Share of a one-worker import of a file without a store |"
    );
    println!("|---|---:|---:|");
    println!(
        "| one-worker `assay import` of a file without a store | {:.1} | 100% |",
        imported * 1e3
    );
    for (what, times) in [
        ("reading credentials: no manifest store", &without),
        ("reading credentials: one manifest store (validated)", &with),
    ] {
        let m = median(times);
        println!("| {what} | {:.2} | {:.2}% |", m * 1e3, 100.0 * m / imported);
    }
    println!("\nTarget: under 5% of the import time of a file without a store.");
    Ok(())
}

/// The corpus's distinct JPEGs, copied once into the cache (the library
/// keeps one asset per content, so a duplicate would not be signed twice).
fn corpus_photos(cache: &Path) -> anyhow::Result<PathBuf> {
    let dir = cache.join("c2pa-corpus-jpegs");
    if dir.join(".complete").exists() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/files/exif-py/jpg");
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![root];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("jpg"))
            {
                let bytes = std::fs::read(&path)?;
                let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
                // Only files c2pa can sign: some corpus files are damaged on purpose.
                if seen.insert(digest.clone()) && signable(&bytes) {
                    std::fs::write(dir.join(format!("{}.jpg", &digest[..16])), bytes)?;
                }
            }
        }
    }
    std::fs::write(dir.join(".complete"), b"")?;
    Ok(dir)
}

/// Whether `bytes` is a JPEG c2pa can embed a manifest in.
fn signable(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0xff, 0xd8]) && bytes.ends_with(&[0xff, 0xd9])
}

fn jpegs(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("jpg")));
    files.sort();
    Ok(files)
}

/// A library holding `files` (in `dir`) imported by a creator, completed
/// and approved by a rights manager.
fn approved(scratch: &Path, name: &str, dir: &Path, files: &[PathBuf]) -> anyhow::Result<Approved> {
    let (library, cy, rosa) =
        assay_bench::team_library(&scratch.join(format!("library-{}", files.len())))?;
    eprintln!("{name}: importing and approving {} files", files.len());
    let summary = library.import(
        &[dir.to_path_buf()],
        &ImportOptions {
            actor: Some(cy.clone()),
            ..ImportOptions::default()
        },
        &mut |_| {},
    )?;
    anyhow::ensure!(summary.imported as usize == files.len(), "{summary:?}");
    let all = Selection::Where(Filter::default());
    library.edit(
        &cy,
        &all,
        &[
            Change::set("license_tag", json!("CC-BY-4.0")),
            Change::set("tax_and_payout_info", json!("acct_cy")),
            Change::set("signed_contract_id", json!("K-1")),
            Change::set("creator_name", json!("Cy")),
        ],
    )?;
    library.submit(&cy, &all)?;
    library.approve(&rosa, &all, None)?;
    let mut bytes = 0;
    for file in files {
        bytes += std::fs::metadata(file)?.len();
    }
    Ok(Approved {
        name: name.to_owned(),
        dir: dir.to_path_buf(),
        files: files.to_vec(),
        bytes,
        library,
    })
}

fn c2patool() -> anyhow::Result<PathBuf> {
    let installed = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".cargo/bin/c2patool"))
        .filter(|p| p.exists());
    installed.ok_or_else(|| anyhow::anyhow!("c2patool is missing: run scripts/setup.sh"))
}
