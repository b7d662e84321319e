//! One round trip for every tag of the license taxonomy: what each channel
//! an asset leaves by says of AI training, read back by a tool someone
//! else wrote, is what the tag's signals say. The XMP sidecar through
//! exiftool (IPTC PLUS data mining, the RSL license), the Content
//! Credentials through c2patool (CAWG training-mining), and the market's
//! headers on a preview (IETF AI preferences, TDMRep). Tags that forbid
//! training are never approved, so they leave by their sidecar alone.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use assay_core::{Job, Selection};
use assay_deadline::OutputWithin;
use serde_json::{json, Value};

use crate::support::{options, sync, Server, Shelf};

const TOOL_LIMIT: Duration = Duration::from_secs(120);

/// `tool args... file`'s JSON answer.
fn read_with(tool: &Path, args: &[&str], file: &Path) -> Value {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output_within(TOOL_LIMIT)
        .unwrap_or_else(|e| {
            panic!(
                "{} runs (scripts/setup.sh installs it): {e}",
                tool.display()
            )
        });
    assert!(
        out.status.success(),
        "{} {}: {}",
        tool.display(),
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn c2patool() -> PathBuf {
    let installed = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".cargo/bin/c2patool"))
        .filter(|p| p.exists());
    installed.unwrap_or_else(|| PathBuf::from("c2patool"))
}

#[test]
fn every_channel_says_what_each_tag_says() {
    let one_time = json!({"kind": "one_time", "fee": "50.00", "currency": "EUR"});
    let rev_share = json!({"kind": "rev_share", "share": 0.2});
    // Every shipped tag; those that allow training with and without a
    // payment owed where the taxonomy lets them go either way.
    let cases: Vec<(&str, Option<Value>)> = vec![
        ("BRAND-NONEXCL", None),
        ("BRAND-NONEXCL", Some(one_time.clone())),
        ("CC-BY-4.0", None),
        ("PAY-ONE", Some(one_time)),
        ("REV-SHARE", Some(rev_share)),
        ("BRAND-EXCL", None),
        ("CREATOR-NONEXCL", None),
        ("NO-TRAIN", None),
    ];
    let photos: Vec<(String, String)> = [
        "canon-ixus",
        "fujifilm-dx10",
        "kodak-dc240",
        "nikon-e950",
        "olympus-c960",
        "ricoh-rdc5300",
        "sanyo-vpcg250",
        "sony-d700",
    ]
    .iter()
    .map(|n| (format!("exif-py/jpg/exif-org/{n}.jpg"), format!("{n}.jpg")))
    .collect();
    let photo_refs: Vec<(&str, &str)> = photos
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let (shelf, ids) = Shelf::with_photos(&photo_refs);
    let taxonomy = shelf.library.taxonomy().unwrap();
    let mut allowed = Vec::new();
    for ((tag, payment), id) in cases.iter().zip(&ids) {
        shelf.complete(&Selection::Assets(vec![id.clone()]), tag, payment.clone());
        if taxonomy.get(tag).unwrap().ai_training_allowed {
            allowed.push(id.clone());
        }
    }
    let approvable = Selection::Assets(allowed.clone());
    shelf.library.submit(&shelf.sam, &approvable).unwrap();
    shelf
        .library
        .approve(&shelf.rosa, &approvable, None)
        .unwrap();
    let signals = |i: usize| {
        let (tag, payment) = &cases[i];
        let payment = payment.clone().map(|p| serde_json::from_value(p).unwrap());
        taxonomy.get(tag).unwrap().signals(payment.as_ref())
    };

    // XMP sidecars of every asset, read by exiftool.
    let sidecars = shelf.dir.path().join("sidecars");
    std::fs::create_dir_all(&sidecars).unwrap();
    let all = Selection::Assets(ids.clone());
    shelf.library.export_xmp(&all, Some(&sidecars)).unwrap();
    for (i, (_, name)) in photos.iter().enumerate() {
        let (tag, payment) = &cases[i];
        let expected = signals(i);
        let read = read_with(
            Path::new("exiftool"),
            &["-j", "-G1"],
            &sidecars.join(format!("{name}.xmp")),
        );
        let x = &read[0];
        let case = format!("{tag} (payment {payment:?})");
        assert_eq!(
            x["XMP-plus:DataMining"],
            json!(expected.iptc_data_mining.uri()),
            "{case}: {x}"
        );
        let rsl = x["XMP-assay:Rsl"]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: {x}"));
        let mut prohibited = assay_core::licenses::rsl_prohibited_usages(rsl);
        prohibited.sort();
        let mut expected_prohibited: Vec<String> = expected
            .rsl
            .prohibits
            .iter()
            .map(|u| u.to_string())
            .collect();
        expected_prohibited.sort();
        assert_eq!(prohibited, expected_prohibited, "{case}: {rsl}");
    }

    // Content Credentials of the approved ones, read by c2patool.
    let signed = shelf.dir.path().join("signed");
    let export = shelf
        .library
        .export_credentials(&shelf.rosa, &approvable, &signed, &mut Job::quiet())
        .unwrap();
    assert_eq!(export.files.len(), allowed.len());
    for file in &export.files {
        let i = ids.iter().position(|id| *id == file.asset_id).unwrap();
        let report = read_with(&c2patool(), &[], &signed.join(&file.file));
        let active = report["active_manifest"].as_str().unwrap();
        let training = report["manifests"][active]["assertions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["label"] == "cawg.training-mining")
            .unwrap_or_else(|| panic!("{}: {report:#}", file.file));
        assert_eq!(
            training["data"]["entries"],
            serde_json::to_value(&signals(i).cawg).unwrap(),
            "{:?}",
            cases[i]
        );
    }

    // The market's headers on each approved asset's preview.
    let server = Server::start();
    shelf.add_market(&server);
    // Two one-time fees of 50.00 EUR are owed: the price covers them.
    let mut priced = options(1 << 20);
    priced.price = Some(assay_market_client::Price {
        minor: 50_000,
        currency: "EUR".into(),
    });
    let (report, events) = sync(&shelf, &priced);
    let report = report.unwrap();
    assert_eq!(report.previews_sent, allowed.len(), "{report:?}");
    let listing = events
        .iter()
        .find_map(|e| match e {
            assay_market_client::SyncEvent::Listed { listing_id, .. } => Some(listing_id.clone()),
            _ => None,
        })
        .unwrap();
    let token = server.buyer("lab");
    let agent = ureq::Agent::new_with_defaults();
    for id in &allowed {
        let i = ids.iter().position(|x| x == id).unwrap();
        let expected = signals(i);
        let reply = agent
            .get(format!(
                "{}/v1/listings/{listing}/assets/{id}/preview",
                server.url
            ))
            .header("Authorization", format!("Bearer {token}"))
            .call()
            .unwrap();
        let header = |name: &str| {
            reply
                .headers()
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let case = format!("{:?}", cases[i]);
        assert_eq!(
            header("Content-Usage"),
            Some(expected.content_usage()),
            "{case}"
        );
        assert_eq!(
            header("tdm-reservation").as_deref(),
            Some(expected.tdm_reservation_header()),
            "{case}"
        );
        assert_eq!(header("tdm-policy"), expected.tdm_policy, "{case}");
    }
}
