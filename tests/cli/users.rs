//! Users, acting as one, and the provenance chain, through the binary.

use std::process::Output;

use assay_deadline::OutputWithin;

use crate::support::{stderr, Sandbox, CHILD_LIMIT};

pub fn ok(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
}

/// A library with admin `ada` and creator `cy`; passphrases in files.
pub fn setup() -> Sandbox {
    let sb = Sandbox::new();
    for (name, pass) in [("ada", "ada pass"), ("cy", "cy pass")] {
        std::fs::write(sb.dir.path().join(format!("{name}.pass")), pass).unwrap();
    }
    let out = sb
        .assay()
        .args(["user", "add", "ada", "--role", "admin"])
        .env("ASSAY_PASSPHRASE", "ada pass")
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&out);
    let out = sb
        .assay()
        .args(["--as", "ada", "user", "add", "cy", "--role", "creator"])
        .arg("--passphrase-file")
        .arg(sb.dir.path().join("ada.pass"))
        .arg("--new-passphrase-file")
        .arg(sb.dir.path().join("cy.pass"))
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&out);
    sb
}

#[test]
fn users_are_listed_with_roles_and_keys() {
    let sb = setup();
    let (users, out) = sb.json_lines(&["user", "ls"]);
    ok(&out);
    let pairs: Vec<_> = users
        .iter()
        .map(|u| (u["name"].as_str().unwrap(), u["role"].as_str().unwrap()))
        .collect();
    assert_eq!(pairs, [("ada", "admin"), ("cy", "creator")]);
    assert!(users[1]["key_id"].as_str().unwrap().starts_with("ed25519:"));
    assert_eq!(users[1]["created_by"], "ada");

    let out = sb.run(&["user", "key", "cy"]);
    ok(&out);
    let pem = String::from_utf8(out.stdout).unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
}

#[test]
fn a_user_changes_their_passphrase_and_keeps_their_key() {
    let sb = setup();
    let (before, _) = sb.json_lines(&["user", "ls"]);
    let cy_pass = sb.dir.path().join("cy.pass");
    let new_pass = sb.dir.path().join("cy.new");
    std::fs::write(&new_pass, "cy's new pass\n").unwrap();
    let passwd = |current: &std::path::Path| {
        sb.assay()
            .args(["--as", "cy", "user", "passwd", "--new-passphrase-file"])
            .arg(&new_pass)
            .arg("--passphrase-file")
            .arg(current)
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    // The current passphrase is checked first.
    let wrong = passwd(&new_pass);
    assert!(!wrong.status.success());
    assert!(stderr(&wrong).contains("passphrase"), "{}", stderr(&wrong));
    ok(&passwd(&cy_pass));
    // The old passphrase no longer unlocks; the new one does, with the same key.
    let import_with = |pass: &std::path::Path| {
        sb.assay()
            .args(["--as", "cy", "import", sb.photos().to_str().unwrap()])
            .arg("--passphrase-file")
            .arg(pass)
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    assert!(!import_with(&cy_pass).status.success());
    ok(&import_with(&new_pass));
    let (after, _) = sb.json_lines(&["user", "ls"]);
    assert_eq!(before, after);
}

#[test]
fn a_refused_or_unauthenticated_action_says_why() {
    let sb = setup();
    let cy_pass = sb.dir.path().join("cy.pass");
    let out = sb
        .assay()
        .args(["--as", "cy", "user", "add", "eve", "--role", "admin"])
        .arg("--passphrase-file")
        .arg(&cy_pass)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused by rule role: cy is a creator"),
        "{}",
        stderr(&out)
    );
    let out = sb
        .assay()
        .args(["--as", "cy", "import"])
        .arg(sb.photos())
        .env("ASSAY_PASSPHRASE", "not it")
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("wrong passphrase"),
        "{}",
        stderr(&out)
    );
    let out = sb.run(&["--as", "nobody", "user", "ls"]);
    ok(&out); // reading needs no identity
    let out = sb
        .assay()
        .args(["--as", "nobody", "import"])
        .arg(sb.photos())
        .env("ASSAY_PASSPHRASE", "x")
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(
        stderr(&out).contains("no user named \"nobody\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn imports_are_signed_and_tampering_is_caught() {
    let sb = setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let out = sb
        .assay()
        .arg("import")
        .arg(sb.photos())
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(stderr(&out).contains("--as NAME"), "{}", stderr(&out));

    let out = sb
        .assay()
        .args(["--as", "cy", "import"])
        .arg(sb.photos())
        .env("ASSAY_PASSPHRASE", "cy pass")
        .output_within(CHILD_LIMIT)
        .unwrap();
    ok(&out);
    let (assets, _) = sb.json_lines(&["ls"]);
    let id = assets[0]["asset_id"].as_str().unwrap();
    let (events, out) = sb.json_lines(&["provenance", id]);
    ok(&out);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["kind"], "import");
    assert_eq!(events[0]["user"], "cy");
    assert_eq!(events[0]["data"]["checksum"], assets[0]["checksum"]);

    ok(&sb.run(&["verify", "--provenance"]));

    let db = rusqlite::Connection::open(sb.library().join("library.db")).unwrap();
    db.execute_batch(
        "DROP TRIGGER events_append_only_update;
         UPDATE events SET body = replace(body, 'a.jpg', 'b.jpg');",
    )
    .unwrap();
    let out = sb.run(&["verify", "--provenance"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(id) && stdout.contains("event 0"),
        "{stdout}"
    );
}

#[test]
fn edit_submit_and_review_through_the_binary() {
    let sb = setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let as_cy = |args: &[&str]| {
        sb.assay()
            .args(["--as", "cy"])
            .args(args)
            .env("ASSAY_PASSPHRASE", "cy pass")
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    ok(&as_cy(&["import", sb.photos().to_str().unwrap()]));
    let out = as_cy(&[
        "edit",
        "--where",
        "media_type=image",
        "--payment",
        "rev_share:1.5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("1.5"), "{}", stderr(&out));
    let out = as_cy(&["edit", "--where", "media_type=image", "--license", "NOPE"]);
    assert!(
        stderr(&out).contains("/license_tag: unknown license tag"),
        "{}",
        stderr(&out)
    );

    let out = as_cy(&[
        "edit",
        "--where",
        "media_type=image",
        "--license",
        "NO-TRAIN",
        "--payment",
        "rev_share:0.2",
        "--flag",
        "location",
        "--json",
    ]);
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["changed"], 1);
    let (records, _) = sb.json_lines(&["ls", "--license", "NO-TRAIN"]);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["payment_terms"]["share"], 0.2);

    let out = as_cy(&["submit", "--where", "license_tag=NO-TRAIN"]);
    ok(&out);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("quarantined") && stdout.contains("failed training-allowed"),
        "{stdout}"
    );
    ok(&sb.run(&["verify", "--provenance"]));
}

#[test]
fn creators_queues_and_transfers_through_the_binary() {
    let sb = setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let as_user = |name: &str, args: &[&str]| {
        sb.assay()
            .args(["--as", name])
            .args(args)
            .env("ASSAY_PASSPHRASE", format!("{name} pass"))
            .env("ASSAY_NEW_PASSPHRASE", "rosa pass")
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    ok(&as_user(
        "ada",
        &["user", "add", "rosa", "--role", "rights_manager"],
    ));

    // Creator profiles: admins and stewards add them, everyone reads them.
    let out = as_user("cy", &["creator", "add", "Cy T", "--payout", "acct_9"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    ok(&as_user(
        "ada",
        &[
            "creator",
            "add",
            "Cy T",
            "--payout",
            "acct_9",
            "--contact",
            "cy@example.org",
            "--user",
            "cy",
        ],
    ));
    let (creators, out) = sb.json_lines(&["creator", "ls"]);
    ok(&out);
    assert_eq!(creators.len(), 1);
    assert_eq!(creators[0]["name"], "Cy T");
    assert_eq!(creators[0]["payout_ref"], "acct_9");
    assert_eq!(creators[0]["contact"], "cy@example.org");
    assert_eq!(creators[0]["user"], "cy");

    // The profile is cy's: what cy imports is linked to it on arrival.
    ok(&as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    assert!(!assets.is_empty());
    for asset in &assets {
        assert_eq!(asset["creator"], "Cy T", "{asset}");
        assert_eq!(asset["tax_and_payout_info"], "acct_9", "{asset}");
    }
    let id = assets[0]["asset_id"].as_str().unwrap();
    ok(&as_user(
        "cy",
        &[
            "edit",
            id,
            "--creator",
            "Cy T",
            "--license",
            "CC-BY-4.0",
            "--set",
            "signed_contract_id=K-1",
        ],
    ));
    ok(&as_user("cy", &["submit", id]));

    // The rights manager's queue holds the submission, with nothing missing.
    let out = as_user("rosa", &["queue", "--json"]);
    ok(&out);
    let queue: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(queue.len(), 1, "{queue:?}");
    assert_eq!(queue[0]["asset_id"], id);
    assert_eq!(queue[0]["state"], "pending");
    assert_eq!(queue[0]["failed_gates"], serde_json::json!([]));
    ok(&as_user("rosa", &["approve", id, "--comment", "complete"]));

    // A signed manifest, verified by someone with no library, only the key.
    let manifest = sb.dir.path().join("manifest.json");
    let out = as_user(
        "rosa",
        &[
            "manifest",
            "export",
            id,
            "--out",
            manifest.to_str().unwrap(),
        ],
    );
    ok(&out);
    for (name, file) in [("rosa", "rosa.pem"), ("cy", "cy.pem")] {
        let out = sb.run(&["user", "key", name]);
        ok(&out);
        std::fs::write(sb.dir.path().join(file), out.stdout).unwrap();
    }
    let buyer = |key: &str| {
        let nowhere = sb.dir.path().join("no-library");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
            .arg("--library")
            .arg(&nowhere)
            .args(["manifest", "verify", manifest.to_str().unwrap(), "--key"])
            .arg(sb.dir.path().join(key))
            .arg("--files")
            .arg(sb.photos())
            .output_within(CHILD_LIMIT)
            .unwrap();
        assert!(!nowhere.exists(), "verifying created a library");
        out
    };
    let out = buyer("rosa.pem");
    ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok (1 asset,"),
        "{out:?}"
    );
    let out = buyer("cy.pem");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("not among the trusted keys"),
        "{out:?}"
    );
    // A folder of trusted keys: rosa's among them is enough.
    let keys = sb.dir.path().join("keys");
    std::fs::create_dir(&keys).unwrap();
    for file in ["rosa.pem", "cy.pem"] {
        std::fs::copy(sb.dir.path().join(file), keys.join(file)).unwrap();
    }
    let verify = |extra: &[&std::ffi::OsStr]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["manifest", "verify", manifest.to_str().unwrap()])
            .args(extra)
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    ok(&verify(&["--keys".as_ref(), keys.as_os_str()]));
    let out = verify(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--key FILE or --keys DIR"),
        "{}",
        stderr(&out)
    );
    // A private key file among the trusted keys is an error that says so.
    std::fs::copy(sb.library().join("keys/rosa.key"), keys.join("rosa.key")).unwrap();
    let out = verify(&["--keys".as_ref(), keys.as_os_str()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("rosa.key"), "{}", stderr(&out));

    // The same asset as a Croissant 1.1 dataset, named in its export event.
    let croissant = sb.dir.path().join("croissant.json");
    let out = as_user(
        "rosa",
        &[
            "manifest",
            "export",
            id,
            "--format",
            "croissant",
            "--out",
            croissant.to_str().unwrap(),
            "--json",
        ],
    );
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            summary["assets"].as_u64(),
            summary["refused"].as_array().map(Vec::len)
        ),
        (Some(1), Some(0))
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&croissant).unwrap()).unwrap();
    assert_eq!(doc["dct:conformsTo"], "http://mlcommons.org/croissant/1.1");
    assert_eq!(doc["@id"], summary["manifest_id"]);
    assert_eq!(doc["distribution"][0]["@id"], id);
    assert_eq!(doc["distribution"][0]["name"], "a.jpg");
    let (events, _) = sb.json_lines(&["provenance", id]);
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "export");
    assert_eq!(last["data"]["format"], "croissant");
    assert_eq!(last["data"]["manifest_hash"], summary["manifest_hash"]);
    let out = as_user(
        "rosa",
        &["manifest", "export", id, "--format", "xml", "--out", "x"],
    );
    assert_eq!(out.status.code(), Some(2));

    // Transfers: a rights manager's, with a contract, a holder and a date.
    let out = as_user("cy", &["transfer", id, "--contract", "K-2", "--to", "Acme"]);
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    let out = as_user(
        "rosa",
        &[
            "transfer",
            id,
            "--contract",
            "K-2",
            "--to",
            "Acme",
            "--effective",
            "2026-99-01",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--effective"), "{}", stderr(&out));
    let out = as_user(
        "rosa",
        &[
            "transfer",
            id,
            "--contract",
            "K-2",
            "--to",
            "Acme",
            "--effective",
            "2026-12-01",
            "--json",
        ],
    );
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (summary["changed"].as_u64(), summary["reopened"].as_u64()),
        (Some(1), Some(1))
    );
    let (events, _) = sb.json_lines(&["provenance", id]);
    let last = events.last().unwrap();
    assert_eq!(last["kind"], "transfer_of_rights");
    assert_eq!(
        last["data"]["parties"],
        serde_json::json!({"from": "Cy T", "to": "Acme"})
    );
    assert_eq!(last["data"]["effective_date"], "2026-12-01");
    let (records, _) = sb.json_lines(&["ls", "--state", "pending"]);
    assert_eq!(records[0]["rights_holder"], "Acme");
    assert_eq!(records[0]["tax_and_payout_info"], "acct_9");
    ok(&sb.run(&["verify", "--provenance"]));

    let (report, out) = sb.json_lines(&["report"]);
    ok(&out);
    assert_eq!(report[0]["assets"], 1);
    assert_eq!(report[0]["by_state"], serde_json::json!({"pending": 1}));
    assert_eq!(report[0]["by_license"], serde_json::json!({"CC-BY-4.0": 1}));
    assert_eq!(report[0]["complete"], 1);
    assert_eq!(report[0]["time_to_approval"]["count"], 1);
    let out = sb.run(&["report"]);
    ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("complete metadata   1 (100.0%)"), "{text}");
    assert!(text.contains("(1 approved)"), "{text}");
}
