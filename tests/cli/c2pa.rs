//! `assay c2pa export` and `assay c2pa trust` through the binary, checked
//! by c2patool, the Content Authenticity Initiative's own tool (installed
//! by scripts/setup.sh): every exported copy reads as valid, its
//! training-mining entries say what its license tag says, and with the
//! library's authority as a trust anchor its signer is trusted.

use std::path::{Path, PathBuf};
use std::process::Command;

use assay_deadline::OutputWithin;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::{asset_id_of, stderr, CHILD_LIMIT};
use crate::users::{ok, setup};

fn c2patool() -> PathBuf {
    let installed = std::env::var_os("HOME")
        .map(|home| Path::new(&home).join(".cargo/bin/c2patool"))
        .filter(|p| p.exists());
    installed.unwrap_or_else(|| PathBuf::from("c2patool"))
}

/// c2patool's report on `file` (its manifest store as JSON), with `trust`
/// as the trust anchors when given.
pub(crate) fn c2patool_report(file: &Path, trust: Option<&Path>) -> Value {
    let mut command = Command::new(c2patool());
    command.arg(file);
    if let Some(anchors) = trust {
        command.arg("trust").arg("--trust_anchors").arg(anchors);
    }
    let out = command
        .output_within(CHILD_LIMIT)
        .expect("c2patool runs (scripts/setup.sh installs it)");
    assert!(
        out.status.success(),
        "c2patool {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "c2patool {}: not JSON ({e}): {}",
            file.display(),
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// The data of the active manifest's assertion `label` (or a later
/// version of it: `c2pa.actions.v2`).
pub(crate) fn assertion<'a>(report: &'a Value, label: &str) -> &'a Value {
    let active = report["active_manifest"].as_str().unwrap();
    let assertions = report["manifests"][active]["assertions"]
        .as_array()
        .unwrap();
    let versioned = format!("{label}.v");
    &assertions
        .iter()
        .find(|a| {
            a["label"]
                .as_str()
                .is_some_and(|l| l == label || l.starts_with(&versioned))
        })
        .unwrap_or_else(|| panic!("no {label} in {assertions:?}"))["data"]
}

fn sha256(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn exported_copies_carry_credentials_c2patool_validates_and_trusts_with_the_library_ca() {
    let sb = setup();
    let jpeg = sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let png = sb.add("exiftool/PNG.png", "b.png");
    let raw = sb.add("exiftool/CanonRaw.cr2", "c.cr2");
    sb.add("exif-py/jpg/exif-org/kodak-dc210.jpg", "draft.jpg");
    let before: Vec<String> = [&jpeg, &png, &raw].iter().map(|p| sha256(p)).collect();
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let id_of = |name: &str| asset_id_of(&assets, name);
    let (a, b, c, draft) = (
        id_of("a.jpg"),
        id_of("b.png"),
        id_of("c.cr2"),
        id_of("draft.jpg"),
    );
    // Approved assets allow training (a gate says so); what the entries
    // say of tags that forbid it is the taxonomy's table test.
    for (id, tag) in [(&a, "CC-BY-4.0"), (&b, "PAY-ONE"), (&c, "REV-SHARE")] {
        for set in [
            format!("license_tag={tag}"),
            "tax_and_payout_info=acct_cy".to_owned(),
            "creator_name=Cy Twombly".to_owned(),
            "rights_holder=Studio Nord".to_owned(),
            "signed_contract_id=K-1".to_owned(),
        ] {
            ok(&sb.as_user("cy", &["edit", id, "--set", &set]));
        }
    }
    for (id, terms) in [
        (
            &b,
            r#"payment_terms={"kind":"one_time","fee":"50.00","currency":"EUR"}"#,
        ),
        (&c, r#"payment_terms={"kind":"rev_share","share":0.2}"#),
    ] {
        ok(&sb.as_user("cy", &["edit", id, "--set", terms]));
    }
    let out = sb.as_user("cy", &["submit", &a, &b, &c]);
    assert_eq!(
        stderr(&out).matches("quarantined").count(),
        0,
        "{}",
        stderr(&out)
    );
    ok(&out);
    ok(&sb.as_user("rosa", &["approve", &a, &b, &c]));

    let out_dir = sb.dir.path().join("delivery");
    let out = sb.as_user(
        "cy",
        &["c2pa", "export", &a, "--out", out_dir.to_str().unwrap()],
    );
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    let out = sb.as_user(
        "rosa",
        &[
            "c2pa",
            "export",
            &a,
            &b,
            &c,
            &draft,
            "--out",
            out_dir.to_str().unwrap(),
            "--json",
        ],
    );
    // One asset left out (a draft): exit 1, the others written.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["refused"][0]["asset_id"], draft.as_str());
    assert!(
        summary["refused"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("only approved assets are exported"),
        "{summary}"
    );
    assert_eq!(summary["files"].as_array().unwrap().len(), 3, "{summary}");
    let written = |id: &str| -> &Value {
        summary["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["asset_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {summary}"))
    };
    assert_eq!(written(&a)["sidecar"], Value::Null, "{summary}");
    assert_eq!(
        written(&c)["sidecar"],
        "c.c2pa",
        "a raw file gets a sidecar: {summary}"
    );
    // Originals are never touched.
    let after: Vec<String> = [&jpeg, &png, &raw].iter().map(|p| sha256(p)).collect();
    assert_eq!(before, after);
    // The raw copy is the original, byte for byte; its sidecar binds it.
    assert_eq!(sha256(&out_dir.join("c.cr2")), before[2]);

    // A manifest export can write the credentialed copies too.
    let manifest = sb.dir.path().join("manifest.json");
    let beside = sb.dir.path().join("with-manifest");
    let out = sb.as_user(
        "rosa",
        &[
            "manifest",
            "export",
            &a,
            "--out",
            manifest.to_str().unwrap(),
            "--c2pa",
            beside.to_str().unwrap(),
            "--json",
        ],
    );
    ok(&out);
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["assets"], 1);
    assert_eq!(lines[1]["files"][0]["file"], "a.jpg");
    assert!(beside.join("a.jpg").exists() && manifest.exists());

    let anchors = sb.dir.path().join("library-ca.pem");
    let trust = sb.run(&["c2pa", "trust"]);
    ok(&trust);
    assert!(String::from_utf8_lossy(&trust.stdout).starts_with("-----BEGIN CERTIFICATE-----"));
    std::fs::write(&anchors, &trust.stdout).unwrap();

    for (file, id, tag, expected, info) in [
        ("a.jpg", &a, "CC-BY-4.0", "allowed", None),
        (
            "b.png",
            &b,
            "PAY-ONE",
            "constrained",
            Some("Licensed under PAY-ONE: a one-time fee of 50.00 EUR."),
        ),
    ] {
        let path = out_dir.join(file);
        let report = c2patool_report(&path, None);
        // Valid; the signer is not trusted without the library's anchor.
        assert_eq!(report["validation_state"], "Valid", "{file}: {report:#}");
        let training = assertion(&report, "cawg.training-mining");
        for entry in [
            "cawg.ai_training",
            "cawg.ai_generative_training",
            "cawg.ai_inference",
            "cawg.data_mining",
        ] {
            assert_eq!(
                training["entries"][entry]["use"], expected,
                "{file} {entry}: {training}"
            );
            assert_eq!(
                training["entries"][entry]["constraints_info"].as_str(),
                info,
                "{file} {entry}: {training}"
            );
        }
        let assay = assertion(&report, "assay.asset");
        assert_eq!(assay["asset_id"], id.as_str());
        assert_eq!(assay["license_tag"], tag);
        assert_eq!(
            assay["checksum"].as_str().unwrap(),
            format!("sha256:{}", sha256(&sb.photos().join(file)))
        );
        assert_eq!(assay["checkpoint"]["type"], "assay-checkpoint");
        let actions = assertion(&report, "c2pa.actions");
        assert_eq!(actions["actions"][0]["action"], "c2pa.opened", "{actions}");
        assert!(
            actions["actions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["action"] == "c2pa.edited.metadata"),
            "{actions}"
        );
        let work = assertion(&report, "stds.schema-org.CreativeWork");
        assert_eq!(work["author"][0]["name"], "Cy Twombly");
        assert_eq!(work["copyrightHolder"]["name"], "Studio Nord");

        let trusted = c2patool_report(&path, Some(&anchors));
        assert_eq!(
            trusted["validation_state"], "Trusted",
            "{file}: {trusted:#}"
        );
        let active = trusted["active_manifest"].as_str().unwrap();
        assert_eq!(
            trusted["manifests"][active]["signature_info"]["common_name"],
            "rosa"
        );
    }

    // The sidecar: c2patool reads the store; Assay's reader checks that
    // it binds the copy beside it, and the payment makes training
    // constrained, naming the license and its terms.
    let report = c2patool_report(&out_dir.join("c.c2pa"), None);
    let training = assertion(&report, "cawg.training-mining");
    assert_eq!(
        training["entries"]["cawg.ai_training"]["use"],
        "constrained"
    );
    assert_eq!(
        training["entries"]["cawg.ai_training"]["constraints_info"],
        "Licensed under REV-SHARE: 20% of revenue to the creator."
    );

    // An audit package can carry each approved file's credentials: a
    // sidecar beside it, bound to its bytes. The package verifies from
    // itself alone; extracted, c2patool finds each sidecar beside its file
    // and, with the library's CA (which the package carries), trusts it.
    let package = sb.dir.path().join("audit.tar");
    let out = sb.as_user(
        "rosa",
        &[
            "audit",
            "export",
            &a,
            &c,
            &draft,
            "--out",
            package.to_str().unwrap(),
            "--c2pa",
            "--json",
        ],
    );
    ok(&out);
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["assets"], 3, "{summary}");
    assert_eq!(summary["credentials"], 2, "{summary}");
    assert_eq!(
        summary["credentials_refused"][0]["asset_id"],
        draft.as_str()
    );
    let extracted = sb.dir.path().join("audit");
    let out = sb.run(&[
        "audit",
        "verify",
        package.to_str().unwrap(),
        "--extract",
        extracted.to_str().unwrap(),
        "--json",
    ]);
    ok(&out);
    for (id, file) in [(&a, "a.jpg"), (&c, "c.cr2")] {
        let packaged = extracted.join(format!("assets/{id}/file/{file}"));
        let report = c2patool_report(&packaged, Some(&anchors));
        assert_eq!(report["validation_state"], "Trusted", "{file}: {report:#}");
        assert_eq!(assertion(&report, "assay.asset")["asset_id"], id.as_str());
    }
    assert!(!extracted
        .join(format!("assets/{draft}/file/draft.c2pa"))
        .exists());

    // An original changed since it was approved is never signed.
    let mut bytes = std::fs::read(&jpeg).unwrap();
    bytes.push(0);
    std::fs::write(&jpeg, bytes).unwrap();
    let again = sb.dir.path().join("again");
    let out = sb.as_user(
        "rosa",
        &["c2pa", "export", &a, "--out", again.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("a.jpg no longer matches its checksum"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_dir(&again).unwrap().count(), 0);
}

/// Credentials read at import are trusted when their signer chains to an
/// anchor the library trusts: one added with `c2pa trust --add` (by a
/// rights manager, never a creator; only certificates are kept).
#[test]
fn an_added_trust_anchor_makes_credentials_read_as_trusted_at_import() {
    let sb = setup();
    let fixtures = crate::support::corpus_file("../c2pa");
    std::fs::copy(fixtures.join("valid.jpg"), sb.photos().join("before.jpg")).unwrap();
    ok(&sb.as_user("ada", &["user", "add", "rosa", "--role", "rights_manager"]));
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let state = |name: &str| -> Value {
        let (assets, _) = sb.json_lines(&["ls"]);
        let asset = assets
            .iter()
            .find(|a| a["locations"][0]["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} in {assets:?}"));
        asset["content_credentials"]["state"].clone()
    };
    assert_eq!(state("before.jpg"), "valid");

    let anchors = fixtures.join("test-ca.pem");
    let anchors = anchors.to_str().unwrap();
    let out = sb.as_user("cy", &["c2pa", "trust", "--add", anchors]);
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    let junk = sb.dir.path().join("junk.pem");
    std::fs::write(
        &junk,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let out = sb.as_user("rosa", &["c2pa", "trust", "--add", junk.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("junk.pem") && stderr(&out).contains("certificate 1"),
        "{}",
        stderr(&out)
    );
    let out = sb.as_user("rosa", &["c2pa", "trust", "--add", anchors]);
    ok(&out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "trusted: Assay test fixtures certificate authority\n"
    );

    std::fs::copy(
        fixtures.join("with-ingredient.jpg"),
        sb.photos().join("after.jpg"),
    )
    .unwrap();
    ok(&sb.as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    assert_eq!(state("after.jpg"), "trusted", "{assets:#?}");
}
