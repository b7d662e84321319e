//! Contracts and audit packages through the binary: a rights manager
//! packages, anyone with the package alone checks and extracts it.

use std::process::{Command, Output};

use assay_deadline::OutputWithin;

use crate::support::{stderr, CHILD_LIMIT};
use crate::users::{ok, setup};

#[test]
fn an_audit_package_is_exported_checked_and_extracted_through_the_binary() {
    let sb = setup();
    sb.add("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg");
    let as_user = |name: &str, args: &[&str]| sb.as_user(name, args);
    ok(&as_user(
        "ada",
        &["user", "add", "rosa", "--role", "rights_manager"],
    ));
    ok(&as_user("cy", &["import", sb.photos().to_str().unwrap()]));
    let (assets, _) = sb.json_lines(&["ls"]);
    let id = assets[0]["asset_id"].as_str().unwrap();
    ok(&as_user(
        "cy",
        &["edit", id, "--set", "signed_contract_id=K-1"],
    ));
    let contract = sb.dir.path().join("k1.pdf");
    std::fs::write(&contract, b"%PDF-1.4 agreement").unwrap();
    let out = as_user(
        "cy",
        &["contract", "add", "K-1", contract.to_str().unwrap()],
    );
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    ok(&as_user(
        "rosa",
        &["contract", "add", "K-1", contract.to_str().unwrap()],
    ));
    let (held, _) = sb.json_lines(&["contract", "ls"]);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0]["file_name"], "k1.pdf");

    let package = sb.dir.path().join("audit.tar");
    let pkg = package.to_str().unwrap();
    let out = as_user("cy", &["audit", "export", id, "--out", pkg]);
    assert!(
        stderr(&out).contains("refused by rule role"),
        "{}",
        stderr(&out)
    );
    let out = as_user("rosa", &["audit", "export", id, "--out", pkg, "--json"]);
    ok(&out);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["assets"], 1);
    assert_eq!(summary["contracts_not_held"], serde_json::json!([]));

    // The auditor has no library: only the package, and perhaps rosa's key.
    let auditor = |args: &[&std::ffi::OsStr]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["audit", "verify"])
            .args(args)
            .env_remove("ASSAY_LIBRARY")
            .output_within(CHILD_LIMIT)
            .unwrap()
    };
    let out = auditor(&[package.as_os_str()]);
    ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok (1 assets") && stdout.contains("signed by rosa"),
        "{stdout}"
    );
    assert!(stdout.contains("compare the key id"), "{stdout}");
    let key = sb.dir.path().join("rosa.pem");
    let out = sb.run(&["user", "key", "rosa"]);
    ok(&out);
    std::fs::write(&key, out.stdout).unwrap();
    let into = sb.dir.path().join("extracted");
    let out = auditor(&[
        package.as_os_str(),
        "--key".as_ref(),
        key.as_os_str(),
        "--extract".as_ref(),
        into.as_os_str(),
    ]);
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("a trusted key"));
    assert_eq!(
        std::fs::read(into.join(format!("assets/{id}/file/a.jpg"))).unwrap(),
        std::fs::read(sb.photos().join("a.jpg")).unwrap()
    );
    assert!(into.join("contracts/K-1/k1.pdf").is_file());

    // One byte of the photo flipped inside the package: exit 1, member named.
    let mut bytes = std::fs::read(&package).unwrap();
    let needle = std::fs::read(sb.photos().join("a.jpg")).unwrap();
    let at = bytes.windows(64).position(|w| w == &needle[..64]).unwrap() + needle.len() / 2;
    bytes[at] ^= 0x10;
    std::fs::write(&package, &bytes).unwrap();
    let out = auditor(&[package.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("assets/{id}/file/a.jpg")),
        "{out:?}"
    );
}
