//! A dataset from the library to a trainer's folder through a real market:
//! `assay dataset publish` lists a built version (its shards uploaded with
//! tus), `assay pull` buys it and fetches its shards (or unpacks them with
//! `--format files`), a later delta is pulled `--since` the version held,
//! its tombstones applied, and a trainer's Python (webdataset, pyarrow)
//! reads the folder and holds every sample to the newest signed manifest,
//! as `--verify-only` does.

use std::path::Path;
use std::process::{Command, Output};

use assay_deadline::OutputWithin;
use assay_market::add_account;
use assay_market_proto::Role;
use serde_json::{json, Value};

use crate::datasets::trainer_python;
use crate::support::{asset_id_of, stderr, Sandbox, CHILD_LIMIT};
use crate::users::{ok, setup};
use crate::witness::Server;

/// Makes the assets of `ids` approved for training (as steward cy and
/// rights manager rosa), with `extra` edits.
pub(crate) fn approve(sb: &Sandbox, ids: &[&str], extra: &[&str]) {
    for id in ids {
        for set in [
            "license_tag=CC-BY-4.0",
            "tax_and_payout_info=acct_cy",
            "creator_name=Cy Twombly",
            "signed_contract_id=K-1",
        ]
        .iter()
        .chain(extra)
        {
            ok(&sb.as_user("cy", &["edit", id, "--set", set]));
        }
        let shown = sb.run(&["show", id, "--json"]);
        let shown: Value = serde_json::from_slice(&shown.stdout).unwrap();
        if shown["workflow_state"] == "draft" {
            ok(&sb.as_user("cy", &["submit", id]));
        }
        ok(&sb.as_user("rosa", &["approve", id]));
    }
}

/// `tests/trainer/read_pulled.py` on a pulled folder.
fn trainer_reads(folder: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/trainer/read_pulled.py");
    let out = Command::new(trainer_python())
        .arg(script)
        .arg(folder)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `assay pull` of `listing` as the buyer whose token is in `token`.
fn pull(
    sb: &Sandbox,
    server: &Server,
    token: &Path,
    listing: &str,
    out: &Path,
    more: &[&str],
) -> Output {
    let mut args = vec![
        "pull",
        listing,
        "--market",
        &server.url,
        "--token-file",
        token.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(more);
    sb.run(&args)
}

fn verify_only(sb: &Sandbox, folder: &Path) -> Output {
    sb.run(&["pull", "--verify-only", folder.to_str().unwrap()])
}

/// The listing ids a `dataset publish --json` reported, oldest first.
fn published(out: &Output) -> Vec<String> {
    ok(out);
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["listing_id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_trainer_pulls_a_version_then_its_delta_and_reads_every_sample_as_signed() {
    let sb = setup();
    for (from, to) in [
        ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
        ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
        ("exif-py/jpg/exif-org/canon-ixus.jpg", "c.jpg"),
        ("exif-py/jpg/exif-org/fujifilm-mx1700.jpg", "d.jpg"),
    ] {
        sb.add(from, to);
    }
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let [a, b, c, d] = ["a.jpg", "b.jpg", "c.jpg", "d.jpg"].map(|n| asset_id_of(&assets, n));
    approve(&sb, &[&a, &b, &c], &[]);
    ok(&sb.as_user(
        "rosa",
        &[
            "dataset",
            "create",
            "harbour",
            "--where",
            "media_type=image",
        ],
    ));
    let builds = sb.dir.path().join("builds");
    let build = |delta: bool| {
        let mut args = vec![
            "dataset",
            "build",
            "harbour",
            "--format",
            "webdataset",
            "--out",
            builds.to_str().unwrap(),
        ];
        if delta {
            args.push("--delta");
        }
        ok(&sb.as_user("rosa", &args));
    };
    build(false);

    let server = Server::start();
    let token_of = |name: &str, role: Role| {
        let (_, token) = add_account(&*server.records, name, role).unwrap();
        let file = sb.dir.path().join(format!("{name}.token"));
        std::fs::write(&file, format!("{token}\n")).unwrap();
        file
    };
    let studio = token_of("studio", Role::Publisher);
    let lab = token_of("lab", Role::Buyer);
    ok(&sb.run(&[
        "market",
        "add",
        "main",
        &server.url,
        "--token-file",
        studio.to_str().unwrap(),
    ]));
    let publish = || {
        sb.as_user(
            "rosa",
            &[
                "dataset",
                "publish",
                "harbour",
                "--price",
                "5000",
                "--currency",
                "EUR",
                "--json",
            ],
        )
    };
    let v1 = published(&publish()).pop().unwrap();
    // Publishing again finds everything there, and records nothing twice.
    assert_eq!(published(&publish()), std::slice::from_ref(&v1));
    let listed = |id: &str| -> Vec<(String, u64)> {
        let (events, out) = sb.json_lines(&["provenance", id]);
        ok(&out);
        events
            .iter()
            .filter(|e| e["kind"] == "export_to_marketplace")
            .map(|e| {
                assert_eq!(e["data"]["dataset"], "harbour", "{e}");
                (
                    e["data"]["listing_id"].as_str().unwrap().to_owned(),
                    e["data"]["version"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(listed(&c), [(v1.clone(), 1)]);
    assert_eq!(listed(&d), []);

    let shards = sb.dir.path().join("shards");
    let out = pull(&sb, &server, &lab, &v1, &shards, &[]);
    ok(&out);
    assert_eq!(
        trainer_reads(&shards),
        json!({"version": 1, "layout": "webdataset", "shards": 1, "samples": 3, "croissant": 3})
    );
    ok(&verify_only(&sb, &shards));
    let files = sb.dir.path().join("files");
    ok(&pull(
        &sb,
        &server,
        &lab,
        &v1,
        &files,
        &["--format", "files"],
    ));
    assert_eq!(
        trainer_reads(&files),
        json!({"version": 1, "layout": "files", "shards": 0, "samples": 3, "croissant": 3})
    );
    assert!(files.join(format!("{b}.jpg")).is_file());
    // The listing sells tar shards; a trainer who reads Parquet gets each
    // verified shard converted, sample by sample.
    let rows = sb.dir.path().join("rows");
    ok(&pull(
        &sb,
        &server,
        &lab,
        &v1,
        &rows,
        &["--format", "parquet"],
    ));
    assert_eq!(
        trainer_reads(&rows),
        json!({"version": 1, "layout": "parquet", "shards": 1, "samples": 3, "croissant": 3})
    );
    assert!(rows.join("harbour-v1-00000-of-00001.parquet").is_file());
    // Pulled again, nothing is fetched: the converted shard holds its samples.
    let out = pull(&sb, &server, &lab, &v1, &rows, &["--format", "parquet"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(
        (
            report["files_fetched"].as_u64(),
            report["files_present"].as_u64()
        ),
        (Some(0), Some(1))
    );

    // Version 2: d added, a retitled (changed), b now NO-TRAIN (withdrawn).
    approve(&sb, &[&d], &[]);
    approve(&sb, &[&a], &["title=Harbour at dawn"]);
    ok(&sb.as_user("cy", &["edit", &b, "--set", "license_tag=NO-TRAIN"]));
    build(true);
    let listings = published(&publish());
    assert_eq!(listings.len(), 2, "{listings:?}");
    assert_eq!(listings[0], v1);
    let v2 = listings[1].clone();
    // The delta's listing is on what it sells: a (changed) and d (added).
    assert_eq!(listed(&a), [(v1.clone(), 1), (v2.clone(), 2)]);
    assert_eq!(listed(&d), [(v2.clone(), 2)]);
    assert_eq!(listed(&c), [(v1.clone(), 1)]);

    // A delta holds only what changed: without the version it updates it
    // is refused, before anything is bought.
    let out = pull(&sb, &server, &lab, &v2, &shards, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
    assert!(!shards.join("harbour-v2.manifest.json").exists());
    let out = pull(&sb, &server, &lab, &v2, &shards, &["--since", "1"]);
    ok(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    // a's earlier copy and b: out of version 1's shard, which keeps c.
    assert_eq!(report["samples_removed"], 2, "{report:#}");
    assert_eq!(report["files_fetched"], 1);
    assert_eq!(
        trainer_reads(&shards),
        json!({"version": 2, "layout": "webdataset", "shards": 2, "samples": 3, "croissant": 3})
    );
    ok(&verify_only(&sb, &shards));
    ok(&pull(
        &sb,
        &server,
        &lab,
        &v2,
        &files,
        &["--since", "1", "--format", "files"],
    ));
    assert_eq!(
        trainer_reads(&files),
        json!({"version": 2, "layout": "files", "shards": 0, "samples": 3, "croissant": 3})
    );
    assert!(!files.join(format!("{b}.jpg")).exists());
    ok(&verify_only(&sb, &files));
    ok(&pull(
        &sb,
        &server,
        &lab,
        &v2,
        &rows,
        &["--since", "1", "--format", "parquet"],
    ));
    assert_eq!(
        trainer_reads(&rows),
        json!({"version": 2, "layout": "parquet", "shards": 2, "samples": 3, "croissant": 3})
    );
    ok(&verify_only(&sb, &rows));

    // The purchases come back into provenance at the library's next sync:
    // version 1's on each of its assets, the delta's on what it shipped.
    ok(&sb.as_user("rosa", &["sync", "--price", "100", "--currency", "EUR"]));
    let payments = |id: &str| -> Vec<String> {
        let (events, out) = sb.json_lines(&["provenance", id]);
        ok(&out);
        events
            .iter()
            .filter(|e| e["kind"] == "payment" && e["data"]["feed_event"] == "purchase")
            .map(|e| e["data"]["listing_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(payments(&c), std::slice::from_ref(&v1));
    assert_eq!(payments(&a), [v1.clone(), v2.clone()]);
    assert_eq!(payments(&d), std::slice::from_ref(&v2));

    // A sample's bytes changed inside a shard, or a withdrawn asset put
    // back: `--verify-only` names it.
    let v1_shard = shards.join("harbour-v1-00000-of-00001.tar");
    let mut bytes = std::fs::read(&v1_shard).unwrap();
    bytes[2000] ^= 1;
    std::fs::write(&v1_shard, &bytes).unwrap();
    let out = verify_only(&sb, &shards);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains(&format!("asset {c} hashes to")), "{said}");
    std::fs::copy(sb.photos().join("b.jpg"), files.join(format!("{b}.jpg"))).unwrap();
    let out = verify_only(&sb, &files);
    assert_eq!(out.status.code(), Some(1));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("asset {b} is not in version 2")),
        "{said}"
    );
}
