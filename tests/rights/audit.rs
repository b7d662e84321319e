//! Audit packages: what goes in, a check from the package alone, tampering
//! caught member by member, and packages that try to write outside their
//! folder refused.

use std::path::{Path, PathBuf};

use assay_core::keys::read_secret_key;
use assay_core::{verify_audit, AuditCheck, AuditOptions, Error, Filter, Job, Selection};
use base64::Engine as _;
use ed25519_dalek::Signer as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::manifest::{approved_world, rosa_key};
use crate::{World, PASS};

fn all() -> Selection {
    Selection::Where(Filter::default())
}

/// The approved world with contract K-1 held, packaged by rosa.
fn packaged() -> (World, assay_core::Actor, PathBuf, assay_core::AuditExport) {
    let (w, sam) = approved_world();
    let contract = w.dir.path().join("K-1 signed.pdf");
    std::fs::write(&contract, b"%PDF-1.4 the signed agreement").unwrap();
    w.library.add_contract(&w.rosa, "K-1", &contract).unwrap();
    let out = w.dir.path().join("audit.tar");
    let export = w.library.export_audit(&w.rosa, &all(), &out).unwrap();
    (w, sam, out, export)
}

fn check(package: &Path) -> AuditCheck {
    verify_audit(package, &[], None).unwrap()
}

/// Every member of a tar: path, offset of its data, bytes.
fn members(package: &Path) -> Vec<(String, u64, Vec<u8>)> {
    let mut archive = tar::Archive::new(std::fs::File::open(package).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = e.path().unwrap().to_string_lossy().into_owned();
            let offset = e.raw_file_position();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut bytes).unwrap();
            (path, offset, bytes)
        })
        .collect()
}

/// A tar of `members`, written as a package writer would.
fn write_tar(path: &Path, members: &[(String, Vec<u8>)]) {
    let mut tar = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, bytes) in members {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        tar.append_data(&mut header, name, bytes.as_slice())
            .unwrap();
    }
    tar.finish().unwrap();
}

#[test]
fn a_package_holds_everything_and_verifies_from_the_package_alone() {
    let (w, _, out, export) = packaged();
    assert_eq!((export.assets, export.refused.len()), (2, 0));
    assert!(export.contracts_not_held.is_empty());

    let ok = check(&out);
    assert!(ok.failures.is_empty(), "{:?}", ok.failures);
    assert_eq!(ok.assets, 2);
    assert_eq!(ok.members, export.members);
    assert_eq!(ok.signer.as_deref(), Some("rosa"));
    assert_eq!(ok.pinned, None);
    let rosa = rosa_key(&w);
    assert_eq!(
        ok.signer_key_id.as_deref(),
        Some(assay_core::keys::key_id(&rosa).as_str())
    );
    let pinned = verify_audit(&out, &[rosa], None).unwrap();
    assert!(pinned.failures.is_empty(), "{:?}", pinned.failures);
    assert_eq!(pinned.pinned, Some(true));
    // A reader who trusts only another key is told so.
    let cy = w.library.user_public_key("cy").unwrap();
    let other = verify_audit(&out, &[cy], None).unwrap();
    assert_eq!(other.pinned, Some(false));
    assert!(
        other
            .failures
            .iter()
            .any(|f| f.contains("not among the trusted keys")),
        "{:?}",
        other.failures
    );

    let dir = w.dir.path().join("extracted");
    let extracted = verify_audit(&out, &[], Some(&dir)).unwrap();
    assert_eq!(extracted.extracted.as_deref(), Some(dir.as_path()));
    let photos = w.dir.path().join("photos");
    for record in w.library.list(&Filter::default()).unwrap() {
        let id = &record.asset_id;
        let name = Path::new(&record.locations[0].path).file_name().unwrap();
        let asset = dir.join("assets").join(id);
        assert_eq!(
            std::fs::read(asset.join("file").join(name)).unwrap(),
            std::fs::read(photos.join(name)).unwrap()
        );
        let doc: Value =
            serde_json::from_slice(&std::fs::read(asset.join("record.jsonld")).unwrap()).unwrap();
        assert_eq!(doc["@type"], "Asset");
        assert_eq!(doc["checksum"], json!(record.checksum));
        assert_eq!(doc["license_tag"], "CC-BY-4.0");
        // The chain as it stood when packaged; the export came after it and
        // names the package's index.
        let events = w.library.provenance(id).unwrap();
        let chain = std::fs::read_to_string(asset.join("provenance.jsonl")).unwrap();
        assert_eq!(chain.lines().count(), events.len() - 1);
        let last = events.last().unwrap();
        assert_eq!(last.kind, "export");
        assert_eq!(last.data["index_hash"], json!(export.index_hash));
        assert_eq!(doc["provenance_hash"], json!(events[events.len() - 2].hash));
    }
    assert_eq!(
        std::fs::read(dir.join("contracts/K-1/K-1 signed.pdf")).unwrap(),
        b"%PDF-1.4 the signed agreement"
    );
    // Every signer's key, as PEM: cy imported, sam edited, rosa approved.
    let signers: Value =
        serde_json::from_slice(&std::fs::read(dir.join("keys/signers.json")).unwrap()).unwrap();
    let mut users: Vec<&str> = signers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["user"].as_str().unwrap())
        .collect();
    users.sort_unstable();
    assert_eq!(users, ["cy", "rosa", "sam"]);
    let index: Value =
        serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    for member in index["members"].as_array().unwrap() {
        let bytes = std::fs::read(dir.join(member["path"].as_str().unwrap())).unwrap();
        assert_eq!(member["sha256"], hex::encode(Sha256::digest(&bytes)));
    }
    assert!(w.library.verify_provenance().unwrap().breaks.is_empty());

    // Extraction never writes into a folder that already holds something.
    let err = verify_audit(&out, &[], Some(&dir)).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
}

#[test]
fn a_flipped_byte_in_any_member_is_caught_and_the_member_named() {
    let (_w, _, out, _) = packaged();
    let bytes = std::fs::read(&out).unwrap();
    for (path, offset, data) in members(&out) {
        // The first, middle and last byte of each member.
        for at in [0, data.len() / 2, data.len() - 1] {
            let mut bad = bytes.clone();
            bad[offset as usize + at] ^= 0x01;
            let tampered = out.with_extension("bad.tar");
            std::fs::write(&tampered, &bad).unwrap();
            let check = check(&tampered);
            assert!(
                check.failures.iter().any(|f| f.contains(&path)),
                "flipping byte {at} of {path}: {:?}",
                check.failures
            );
        }
    }
}

#[test]
fn swapped_checksums_and_a_stewards_signature_are_caught() {
    let (w, _, out, _) = packaged();
    let original = members(&out);
    let rebuilt = out.with_extension("rebuilt.tar");
    let records: Vec<usize> = original
        .iter()
        .enumerate()
        .filter(|(_, m)| m.0.ends_with("record.jsonld"))
        .map(|(i, _)| i)
        .collect();
    let record = |i: usize| serde_json::from_slice::<Value>(&original[i].2).unwrap();
    let (mut r0, mut r1) = (record(records[0]), record(records[1]));
    let c0 = r0["checksum"].clone();
    r0["checksum"] = r1["checksum"].clone();
    r1["checksum"] = c0;
    let mut swapped: Vec<(String, Vec<u8>)> = original
        .iter()
        .map(|m| (m.0.clone(), m.2.clone()))
        .collect();
    swapped[records[0]].1 = serde_json::to_vec(&r0).unwrap();
    swapped[records[1]].1 = serde_json::to_vec(&r1).unwrap();
    write_tar(&rebuilt, &swapped);
    let f = check(&rebuilt).failures;
    for i in &records {
        let path = &original[*i].0;
        assert!(
            f.iter().any(
                |f| f.starts_with(path.as_str()) && f.contains("not the ones the index signed")
            ),
            "{path}: {f:?}"
        );
        let file = path.replace("record.jsonld", "file/");
        assert!(
            f.iter()
                .any(|f| f.starts_with(&file) && f.contains("but the record says")),
            "{file}: {f:?}"
        );
    }

    // The index rewritten to match and re-signed by a steward: the package
    // holds together, but a steward does not sign packages.
    let sam = read_secret_key(&w.library.root().join("keys/sam.key"), PASS).unwrap();
    resign(&mut swapped, &sam, "sam", "steward");
    write_tar(&rebuilt, &swapped);
    let f = check(&rebuilt).failures;
    assert!(
        f.iter()
            .any(|f| f.starts_with("index.json: signer: sam signed as a steward")),
        "{f:?}"
    );
    assert!(
        !f.iter()
            .any(|f| f.contains("not the ones the index signed")),
        "{f:?}"
    );
    let f = verify_audit(&rebuilt, &[rosa_key(&w)], None)
        .unwrap()
        .failures;
    assert!(
        f.iter().any(|f| f.contains("not among the trusted keys")),
        "{f:?}"
    );
}

/// Rewrites the index (last member) to match the other members and signs it
/// with `secret` as `user` in `role`.
fn resign(
    members: &mut [(String, Vec<u8>)],
    secret: &ed25519_dalek::SigningKey,
    user: &str,
    role: &str,
) {
    let public = secret.verifying_key();
    let (index_bytes, rest) = members.split_last_mut().unwrap();
    assert_eq!(index_bytes.0, "index.json");
    let mut index: Value = serde_json::from_slice(&index_bytes.1).unwrap();
    index.as_object_mut().unwrap().remove("signature");
    for (member, (path, bytes)) in index["members"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .zip(rest.iter())
    {
        assert_eq!(member["path"], json!(path));
        member["size"] = json!(bytes.len());
        member["sha256"] = json!(hex::encode(Sha256::digest(bytes)));
    }
    index["signer"]["user"] = json!(user);
    index["signer"]["role"] = json!(role);
    index["signer"]["key_id"] = json!(assay_core::keys::key_id(&public).as_str());
    index["signer"]["public_key"] = json!(assay_core::keys::public_key_compact(&public));
    let signature = secret.sign(&assay_core::canonical::canonical_json(&index));
    index["signature"] = json!({
        "alg": "Ed25519",
        "value": base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
    });
    index_bytes.1 = serde_json::to_vec(&index).unwrap();
}

#[test]
fn a_chain_changed_under_a_rights_managers_own_signature_is_caught() {
    let (w, _, out, _) = packaged();
    let rosa = read_secret_key(&w.library.root().join("keys/rosa.key"), PASS).unwrap();
    let original: Vec<(String, Vec<u8>)> = members(&out).into_iter().map(|m| (m.0, m.2)).collect();
    let chain = original
        .iter()
        .position(|m| m.0.ends_with("provenance.jsonl"))
        .unwrap();
    let path = original[chain].0.clone();
    let rebuilt = out.with_extension("rebuilt.tar");
    let text = String::from_utf8(original[chain].1.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();

    // An approval's comment rewritten: the event's hash no longer holds.
    let mut edited = original.clone();
    let approval = lines
        .iter()
        .position(|l| l.contains("\"approval\""))
        .unwrap();
    let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut event: Value = serde_json::from_str(&changed[approval]).unwrap();
    event["body"]["at"] = json!("2020-01-01T00:00:00Z");
    changed[approval] = serde_json::to_string(&event).unwrap();
    edited[chain].1 = (changed.join("\n") + "\n").into_bytes();
    resign(&mut edited, &rosa, "rosa", "rights_manager");
    write_tar(&rebuilt, &edited);
    let f = check(&rebuilt).failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with(&path)
            && f[0].contains(&format!(
                "event {approval}: its bytes do not match its hash"
            )),
        "{f:?}"
    );

    // The last event dropped: the chain no longer ends at the record's head.
    let mut cut = original.clone();
    cut[chain].1 = (lines[..lines.len() - 1].join("\n") + "\n").into_bytes();
    resign(&mut cut, &rosa, "rosa", "rights_manager");
    write_tar(&rebuilt, &cut);
    let f = check(&rebuilt).failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with(&path) && f[0].contains("the chain ends at"),
        "{f:?}"
    );
}

/// A tar whose second member is `name`, of type `kind`, written raw so the
/// tar crate's own path checks do not stop it.
fn hostile(path: &Path, name: &[u8], kind: tar::EntryType, duplicate: bool) {
    let mut tar = tar::Builder::new(std::fs::File::create(path).unwrap());
    let mut ok = tar::Header::new_gnu();
    ok.set_size(2);
    ok.set_mode(0o644);
    tar.append_data(&mut ok, "keys/a.pem", &b"ok"[..]).unwrap();
    let mut header = tar::Header::new_gnu();
    header.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
    header.set_entry_type(kind);
    header.set_mode(0o644);
    if kind == tar::EntryType::Symlink {
        header.set_link_name("/etc/passwd").unwrap();
        header.set_size(0);
        header.set_cksum();
        tar.append(&header, &b""[..]).unwrap();
    } else {
        header.set_size(4);
        header.set_cksum();
        tar.append(&header, &b"evil"[..]).unwrap();
    }
    if duplicate {
        let mut again = tar::Header::new_gnu();
        again.set_size(5);
        again.set_mode(0o644);
        tar.append_data(&mut again, "keys/a.pem", &b"again"[..])
            .unwrap();
    }
    tar.finish().unwrap();
}

#[test]
fn members_that_would_write_outside_the_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[u8], tar::EntryType, bool, &str); 5] = [
        (b"../outside", tar::EntryType::Regular, false, "climbs out"),
        (
            b"assets/../../outside",
            tar::EntryType::Regular,
            false,
            "climbs out",
        ),
        (
            b"/tmp/outside",
            tar::EntryType::Regular,
            false,
            "absolute path",
        ),
        (
            b"keys/link",
            tar::EntryType::Symlink,
            false,
            "symbolic link",
        ),
        (
            b"keys/b.pem",
            tar::EntryType::Regular,
            true,
            "second member",
        ),
    ];
    for (i, (name, kind, duplicate, why)) in cases.into_iter().enumerate() {
        let package = dir.path().join(format!("hostile-{i}.tar"));
        hostile(&package, name, kind, duplicate);
        let target = dir.path().join(format!("out-{i}"));
        let check = verify_audit(&package, &[], Some(&target)).unwrap();
        assert!(
            check.failures.iter().any(|f| f.contains(why)),
            "{}: {:?}",
            String::from_utf8_lossy(name),
            check.failures
        );
        assert_eq!(check.extracted, None);
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
    }
    assert!(!dir.path().join("outside").exists());
}

#[test]
fn an_asset_whose_file_changed_is_left_out_and_only_rights_managers_package() {
    let (w, sam) = approved_world();
    let out = w.dir.path().join("audit.tar");
    let err = w.library.export_audit(&sam, &all(), &out).unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");

    let photos = w.dir.path().join("photos");
    std::fs::write(photos.join("b.jpg"), b"not the photo any more").unwrap();
    let export = w.library.export_audit(&w.rosa, &all(), &out).unwrap();
    assert_eq!((export.assets, export.refused.len()), (1, 1));
    assert!(
        export.refused[0].reason.contains("unchanged"),
        "{:?}",
        export.refused
    );
    // K-1 is cited but was never added: the package says so, and holds.
    assert_eq!(export.contracts_not_held, ["K-1"]);
    assert!(check(&out).failures.is_empty());

    // Nothing left to package: refused, nothing written, nothing recorded.
    std::fs::write(photos.join("a.jpg"), b"gone too").unwrap();
    let none = w.dir.path().join("none.tar");
    let before = w.library.verify_provenance().unwrap().events;
    let err = w.library.export_audit(&w.rosa, &all(), &none).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "audit-files",
                ..
            }
        ),
        "{err}"
    );
    assert!(!none.exists());
    assert_eq!(w.library.verify_provenance().unwrap().events, before);
}

#[test]
fn a_contract_is_kept_once_and_never_replaced() {
    let (w, sam) = approved_world();
    let file = w.dir.path().join("k1.pdf");
    std::fs::write(&file, b"%PDF first").unwrap();
    let err = w.library.add_contract(&sam, "K-1", &file).unwrap_err();
    assert!(matches!(err, Error::Refused { rule: "role", .. }), "{err}");
    let err = w
        .library
        .add_contract(&w.rosa, "../K-1", &file)
        .unwrap_err();
    assert!(err.to_string().contains("contract id"), "{err}");
    let added = w.library.add_contract(&w.rosa, "K-1", &file).unwrap();
    assert_eq!(added.added_by.as_deref(), Some("rosa"));
    std::fs::write(&file, b"%PDF second").unwrap();
    let err = w.library.add_contract(&w.rosa, "K-1", &file).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Refused {
                rule: "contracts-immutable",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(w.library.contracts().unwrap(), [added]);
}

#[test]
fn events_signed_in_a_batch_carry_their_proof_and_a_bent_proof_is_caught() {
    let (w, _) = approved_world();
    let manifest = w.dir.path().join("manifest.json");
    w.library
        .export_manifest(&w.rosa, &all(), &manifest)
        .unwrap();
    let out = w.dir.path().join("audit.tar");
    w.library.export_audit(&w.rosa, &all(), &out).unwrap();
    assert!(
        check(&out).failures.is_empty(),
        "{:?}",
        check(&out).failures
    );

    let original: Vec<(String, Vec<u8>)> = members(&out).into_iter().map(|m| (m.0, m.2)).collect();
    let chain = original
        .iter()
        .position(|m| m.0.ends_with("provenance.jsonl"))
        .unwrap();
    let path = original[chain].0.clone();
    let text = String::from_utf8(original[chain].1.clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let export = lines.len() - 1;
    let line: Value = serde_json::from_str(lines[export]).unwrap();
    assert_eq!(line["body"]["kind"], "export");
    let proof = &line["batch"];
    assert_eq!(
        (
            proof["size"].as_u64(),
            proof["path"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1))
    );
    // The import was signed on its own; it carries its own signature.
    assert!(!lines[0].contains("\"batch\""), "{}", lines[0]);

    let rosa = read_secret_key(&w.library.root().join("keys/rosa.key"), PASS).unwrap();
    let rebuilt = out.with_extension("rebuilt.tar");
    let with_line = |line: &Value| {
        let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        changed[export] = serde_json::to_string(line).unwrap();
        let mut edited = original.clone();
        edited[chain].1 = (changed.join("\n") + "\n").into_bytes();
        resign(&mut edited, &rosa, "rosa", "rights_manager");
        write_tar(&rebuilt, &edited);
        check(&rebuilt).failures
    };
    let mut bent = line.clone();
    let mut sibling = bent["batch"]["path"][0].as_str().unwrap().to_owned();
    let last = if sibling.ends_with('0') { "1" } else { "0" };
    sibling.replace_range(sibling.len() - 1.., last);
    bent["batch"]["path"][0] = json!(sibling);
    let f = with_line(&bent);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with(&path)
            && f[0].contains(&format!("event {export}: its bytes are not leaf")),
        "{f:?}"
    );

    let mut moved = line.clone();
    moved["batch"]["index"] = json!(1 - proof["index"].as_u64().unwrap());
    let f = with_line(&moved);
    assert!(f.len() == 1 && f[0].contains("are not leaf"), "{f:?}");

    let mut foreign = line.clone();
    let other = ed25519_dalek::SigningKey::from_bytes(&[9; 32]).sign(b"another message");
    foreign["signature"] =
        json!(base64::engine::general_purpose::STANDARD.encode(other.to_bytes()));
    let f = with_line(&foreign);
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with(&path) && f[0].contains("signature does not verify"),
        "{f:?}"
    );
}

#[test]
fn a_package_carries_the_newest_checkpoint_signed_with_it() {
    let (w, _) = approved_world();
    let written = w.library.checkpoint(&w.rosa).unwrap();
    let out = w.dir.path().join("audit.tar");
    let export = w.library.export_audit(&w.rosa, &all(), &out).unwrap();
    let carried: Vec<(String, Vec<u8>)> = members(&out)
        .into_iter()
        .filter(|(path, _, _)| path.starts_with("checkpoint/"))
        .map(|(path, _, bytes)| (path, bytes))
        .collect();
    let name = Path::new(&written.path)
        .file_name()
        .unwrap()
        .to_string_lossy();
    let paths: Vec<&str> = carried.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            format!("checkpoint/{name}"),
            format!("checkpoint/{}", name.replace(".json", ".heads"))
        ]
    );
    assert_eq!(carried[0].1, std::fs::read(&written.path).unwrap());
    // Listed and hashed in the signed index, so the package verifies, and
    // the export wrote the next checkpoint after it.
    let ok = check(&out);
    assert!(ok.failures.is_empty(), "{:?}", ok.failures);
    assert_ne!(export.checkpoint, written.path);
    assert!(w.library.verify_provenance().unwrap().holds());
}

#[test]
fn a_package_judges_its_signers_by_the_identity_ledger_it_carries() {
    let (w, _, out, _) = packaged();
    let original: Vec<(String, Vec<u8>)> = members(&out).into_iter().map(|m| (m.0, m.2)).collect();
    assert!(original.iter().any(|(p, _)| p == "keys/identity.jsonl"));

    // Mallory, with a key of her own, listed as a rights manager and the
    // index re-signed under rosa's own key: the ledger grants her nothing.
    let rosa = read_secret_key(&w.library.root().join("keys/rosa.key"), PASS).unwrap();
    let mallory = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let key_id = assay_core::keys::key_id(&mallory.verifying_key()).to_string();
    let mut planted = original.clone();
    let signers = planted
        .iter()
        .position(|(p, _)| p == "keys/signers.json")
        .unwrap();
    let mut list: Value = serde_json::from_slice(&planted[signers].1).unwrap();
    list.as_array_mut().unwrap().push(json!({
        "user": "mallory", "role": "rights_manager", "key_id": key_id,
        "public_key": assay_core::keys::public_key_compact(&mallory.verifying_key()),
    }));
    planted[signers].1 = serde_json::to_vec(&list).unwrap();
    let pem = format!("keys/{}.pem", key_id.split_once(':').unwrap().1);
    let at = planted.len() - 1;
    planted.insert(
        at,
        (
            pem,
            assay_core::keys::public_key_pem(&mallory.verifying_key()).into_bytes(),
        ),
    );
    // The index lists members in order; the new one goes in its place.
    let mut index: Value = serde_json::from_slice(&planted[planted.len() - 1].1).unwrap();
    let members = index["members"].as_array_mut().unwrap();
    members.push(json!({"path": planted[at].0, "size": 0, "sha256": ""}));
    let last = planted.len() - 1;
    planted[last].1 = serde_json::to_vec(&index).unwrap();
    resign(&mut planted, &rosa, "rosa", "rights_manager");
    let rebuilt = out.with_extension("planted.tar");
    write_tar(&rebuilt, &planted);
    let f = check(&rebuilt).failures;
    assert!(
        f.iter()
            .any(|f| f.contains("mallory") && f.contains("identity ledger grants")),
        "{f:?}"
    );
}

#[test]
fn a_role_changed_after_signing_still_verifies_in_a_package() {
    let (w, _) = approved_world();
    // cy signed her imports and edits as a creator; she is a steward now.
    w.library
        .change_role(&w.ada, "cy", assay_core::Role::Steward)
        .unwrap();
    let out = w.dir.path().join("audit.tar");
    w.library.export_audit(&w.rosa, &all(), &out).unwrap();
    let ok = check(&out);
    assert!(ok.failures.is_empty(), "{:?}", ok.failures);
}

/// Content Credentials in a package are held to the files they bind and
/// to the records beside them: even under the rights manager's own
/// signature, sidecars swapped between assets, and one signed under an
/// authority that is not the library's, are named.
#[test]
fn packaged_credentials_are_held_to_their_files_records_and_library_ca() {
    let (w, _) = approved_world();
    let out = w.dir.path().join("audit.tar");
    let options = AuditOptions {
        content_credentials: true,
    };
    let export = w
        .library
        .export_audit_with(&w.rosa, &all(), &out, options, &mut Job::quiet())
        .unwrap();
    assert_eq!((export.credentials, export.assets), (2, 2));
    assert!(export.credentials_refused.is_empty());
    let f = check(&out).failures;
    assert!(f.is_empty(), "{f:?}");

    let rosa = read_secret_key(&w.library.root().join("keys/rosa.key"), PASS).unwrap();
    let original: Vec<(String, Vec<u8>)> = members(&out).into_iter().map(|m| (m.0, m.2)).collect();
    let sidecars: Vec<usize> = (0..original.len())
        .filter(|&i| original[i].0.ends_with(".c2pa"))
        .collect();
    assert_eq!(
        sidecars.len(),
        2,
        "{:?}",
        original.iter().map(|m| &m.0).collect::<Vec<_>>()
    );
    let rebuilt = out.with_extension("rebuilt.tar");

    // Swapped: each binds the other's file and names the other asset.
    let mut swapped = original.clone();
    let (i, j) = (sidecars[0], sidecars[1]);
    let first = swapped[i].1.clone();
    swapped[i].1 = swapped[j].1.clone();
    swapped[j].1 = first;
    resign(&mut swapped, &rosa, "rosa", "rights_manager");
    write_tar(&rebuilt, &swapped);
    let f = check(&rebuilt).failures;
    assert_eq!(f.len(), 8, "{f:?}"); // per sidecar: the hash, and 3 fields of 4 (same tag)
    for k in [i, j] {
        let named = |what: &str| {
            f.iter()
                .any(|x| x.starts_with(&original[k].0) && x.contains(what))
        };
        assert!(named("do not hold"), "{f:?}");
        assert!(named("assay.asset asset_id"), "{f:?}");
    }

    // Signed with rosa's own key, claiming the right asset, but under an
    // authority of someone's making: not the library CA the package carries.
    let sidecar = &original[i].0;
    let asset_dir = sidecar.rsplit_once("/file/").unwrap().0;
    let record: Value = serde_json::from_slice(
        &original
            .iter()
            .find(|m| m.0 == format!("{asset_dir}/record.jsonld"))
            .unwrap()
            .1,
    )
    .unwrap();
    let file = original
        .iter()
        .find(|m| m.0.starts_with(&format!("{asset_dir}/file/")) && !m.0.ends_with(".c2pa"))
        .unwrap();
    let elsewhere = assay_credentials::Authority::new("Elsewhere").unwrap();
    let chain = elsewhere
        .issue("rosa", "Elsewhere", rosa.verifying_key().as_bytes())
        .unwrap();
    let signer = assay_credentials::KeySigner::new(&chain, |m| rosa.sign(m).to_bytes()).unwrap();
    let claim = assay_credentials::Claim {
        parent_has_credentials: false,
        title: "forged".into(),
        generator: "Assay".into(),
        generator_version: "0".into(),
        assertions: vec![
            (
                "c2pa.actions".into(),
                json!({"actions": [{"action": "c2pa.opened",
                    "parameters": {"ingredientIds": [assay_credentials::PARENT]}}]}),
            ),
            (
                "assay.asset".into(),
                json!({
                    "asset_id": record["asset_id"],
                    "checksum": record["checksum"],
                    "license_tag": record["license_tag"],
                    "provenance_hash": record["provenance_hash"],
                }),
            ),
        ],
    };
    let forged = assay_credentials::CredentialWriter::new()
        .unwrap()
        .sidecar(
            &signer,
            &claim,
            record["media_type"].as_str().unwrap(),
            &mut std::io::Cursor::new(&file.1),
            None,
        )
        .unwrap();
    let mut replaced = original.clone();
    replaced[i].1 = forged;
    resign(&mut replaced, &rosa, "rosa", "rights_manager");
    write_tar(&rebuilt, &replaced);
    let f = check(&rebuilt).failures;
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(
        f[0].starts_with(sidecar.as_str()) && f[0].contains("not the package's library CA"),
        "{f:?}"
    );
}
