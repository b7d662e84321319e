//! What the marketplace benchmarks share: generated incompressible files,
//! an approved library of them, the HTTP calls a peer makes with curl, and
//! `wrk`'s reading of a URL.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::Context;
use assay_core::{Actor, Change, Filter, ImportOptions, Library, Role as LibraryRole, Selection};
use assay_deadline::OutputWithin;
use assay_market_proto::keys::{KeyChallenge, NewKey};
use serde_json::{json, Value};

/// A manifest asset as a peer uploads it: asset id, file name, size.
pub type PeerAsset = (String, String, u64);

const PASS: &[u8] = b"pw";

/// `count` files of `size` random bytes under the cache, made once.
pub fn ensure_files(cache: &Path, count: usize, size: u64) -> anyhow::Result<PathBuf> {
    let dir = cache
        .join(format!("market-random-{size}-v1"))
        .join(format!("n{count}"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for i in 0..count {
        let path = dir.join(name_of(i));
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == size) {
            continue;
        }
        eprintln!("generating {}", path.display());
        // xorshift64*, seeded per file: incompressible and reproducible.
        let mut state =
            0x9E37_79B9_7F4A_7C15_u64 ^ (i as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03);
        let mut out = std::io::BufWriter::new(
            std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?,
        );
        let mut left = size;
        let mut block = vec![0u8; 1 << 16];
        while left > 0 {
            for word in block.chunks_exact_mut(8) {
                state ^= state >> 12;
                state ^= state << 25;
                state ^= state >> 27;
                word.copy_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
            }
            let n = left.min(block.len() as u64) as usize;
            out.write_all(&block[..n])?;
            left -= n as u64;
        }
        out.flush()?;
    }
    Ok(dir)
}

pub fn name_of(i: usize) -> String {
    format!("f{i:04}.bin")
}

/// A library of the generated files, tagged, submitted by the steward sam
/// and approved by the rights manager rosa, as the sync tests build it.
pub struct Shelf {
    root: PathBuf,
    pub library: Library,
    pub rosa: Actor,
}

impl Shelf {
    pub fn approved(scratch: &Path, dir: &Path, count: usize) -> anyhow::Result<Shelf> {
        let library = Library::open(scratch.join("library"))?;
        library.add_user(None, "ada", LibraryRole::Admin, PASS)?;
        let ada = library.unlock("ada", PASS)?;
        for (name, role) in [
            ("cy", LibraryRole::Creator),
            ("sam", LibraryRole::Steward),
            ("rosa", LibraryRole::RightsManager),
        ] {
            library.add_user(Some(&ada), name, role, PASS)?;
        }
        let options = ImportOptions {
            actor: Some(Arc::new(library.unlock("cy", PASS)?)),
            ..ImportOptions::default()
        };
        let summary = library.import(&[dir.to_owned()], &options, &mut |_| {})?;
        anyhow::ensure!(summary.imported as usize == count, "imported {summary:?}");
        let sam = library.unlock("sam", PASS)?;
        let all = Selection::Where(Filter::default());
        library.edit(
            &sam,
            &all,
            &[
                Change::set("license_tag", json!("CC-BY-4.0")),
                Change::set("tax_and_payout_info", json!("acct_cy")),
                Change::set("signed_contract_id", json!("K-1")),
                Change::set("creator_name", json!("Cy")),
                Change::set("payment_terms", json!({"kind": "rev_share", "share": 0.2})),
            ],
        )?;
        library.submit(&sam, &all)?;
        let rosa = library.unlock("rosa", PASS)?;
        library.approve(&rosa, &all, None)?;
        Ok(Shelf {
            root: scratch.to_owned(),
            library,
            rosa,
        })
    }

    /// Syncs the library to market `name` as the rights manager, with no
    /// progress shown.
    pub fn sync(
        &self,
        name: &str,
        options: &assay_market_client::SyncOptions,
    ) -> anyhow::Result<assay_market_client::SyncReport> {
        Ok(assay_market_client::sync(
            &self.library,
            &self.rosa,
            Some(name),
            options,
            &mut assay_core::Job::quiet(),
            &mut |_| {},
        )?)
    }

    /// Adds market `name` at `url` (a server's, or a proxy's), where the
    /// library's publisher account has `token`.
    pub fn add_market(&self, name: &str, url: &str, token: &str) -> anyhow::Result<()> {
        let file = self.root.join(format!("{name}.token"));
        std::fs::write(&file, format!("{token}\n"))?;
        self.library.add_market(name, url, &file)?;
        Ok(())
    }

    /// Registers rosa's key for the publisher `token` on `server` and posts
    /// a fresh signed manifest of every approved asset; its id and its
    /// assets (asset id, file name, size).
    pub fn manifest_on(
        &self,
        server: &str,
        token: &str,
    ) -> anyhow::Result<(String, Vec<PeerAsset>)> {
        // The key with proof of holding it: rosa's signature over the
        // market's challenge.
        let pem = assay_core::keys::public_key_pem(&self.library.user_public_key("rosa")?);
        let answer = http_post(&format!("{}/v1/keys/challenge", server), token, b"{}")?;
        let challenge: KeyChallenge = serde_json::from_slice(&answer)?;
        let key = serde_json::to_vec(&NewKey {
            public_key: pem,
            signature: self.rosa.prove_possession(&challenge.challenge),
            challenge: challenge.challenge,
        })?;
        http_post(&format!("{}/v1/keys", server), token, &key)?;
        let out = self.root.join("peer-manifest.json");
        self.library
            .export_manifest(&self.rosa, &Selection::Where(Filter::default()), &out)?;
        let bytes = std::fs::read(&out)?;
        http_post(&format!("{}/v1/manifests", server), token, &bytes)?;
        let doc: Value = serde_json::from_slice(&bytes)?;
        let id = doc["manifest_id"]
            .as_str()
            .context("manifest without an id")?
            .to_owned();
        let mut assets = Vec::new();
        for a in doc["assets"]
            .as_array()
            .context("manifest without assets")?
        {
            let field = |k: &str| a[k].as_str().map(str::to_owned);
            assets.push((
                field("asset_id").context("asset_id")?,
                field("file_name").context("file_name")?,
                a["size_bytes"].as_u64().context("size_bytes")?,
            ));
        }
        Ok((id, assets))
    }
}

/// POSTs `body` as JSON with curl; the answer's body.
pub fn http_post(url: &str, token: &str, body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let output = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            "@-",
        ])
        .arg(url)
        // curl's own deadline: its input is written from here, so
        // assay_deadline's output cannot run it.
        .args(["--max-time", "600"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(body)?;
            }
            child.wait_with_output()
        })
        .context("running curl")?;
    let mut answer = output.stdout;
    let cut = answer.iter().rposition(|&b| b == b'\n').unwrap_or(0);
    let status = String::from_utf8_lossy(&answer[cut..]).trim().to_owned();
    answer.truncate(cut);
    anyhow::ensure!(
        status.starts_with('2'),
        "POST {url}: {status} {}",
        String::from_utf8_lossy(&answer)
    );
    Ok(answer)
}

pub fn http_get(url: &str, token: &str) -> anyhow::Result<Value> {
    let output = Command::new("curl")
        .args(["-sS", "--fail"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(url)
        .output_within(crate::TOOL_LIMIT)
        .context("running curl")?;
    anyhow::ensure!(output.status.success(), "GET {url}: {}", output.status);
    Ok(serde_json::from_slice(&output.stdout)?)
}

#[derive(Clone)]
pub struct Wrk {
    pub requests_per_second: f64,
    pub mean: String,
    pub p50: String,
    pub p99: String,
    pub non_2xx: u64,
}

pub fn run_wrk(url: &str, token: &str, seconds: u32) -> anyhow::Result<Wrk> {
    let output = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg(url)
        .output_within(std::time::Duration::from_secs(u64::from(seconds) + 60))
        .context("running wrk (scripts/setup.sh --bench installs it)")?;
    anyhow::ensure!(output.status.success(), "wrk: {}", output.status);
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    eprint!("{text}");
    let field = |prefix: &str, index: usize| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(index))
            .map(str::to_owned)
            .with_context(|| format!("no {prefix:?} in wrk's output"))
    };
    Ok(Wrk {
        requests_per_second: field("Requests/sec:", 1)?.parse()?,
        mean: field("Latency ", 1)?,
        p50: field("50%", 1)?,
        p99: field("99%", 1)?,
        non_2xx: field("Non-2xx or 3xx responses:", 4)
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    })
}
