//! tus behaviour: resuming after an interruption or a restart, broken
//! connections, checksums of chunks and of whole files, expiry,
//! termination, and the protocol's own preconditions.

use std::time::{Duration, Instant};

use assay_deadline::OutputWithin;
use assay_market_proto::tus;
use sha2::{Digest, Sha256};

use crate::support::{entries, publisher_with, Server, Shelf};

/// The first asset of a fresh manifest, posted by a new publisher.
fn ready(server: &Server, shelf: &Shelf) -> (crate::support::Client, String, String, Vec<u8>) {
    let manifest = shelf.export();
    let publisher = publisher_with(server, shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let asset_id = assets[0]["asset_id"].as_str().unwrap().to_owned();
    let bytes = shelf.file(&assets[0]);
    (publisher, manifest_id, asset_id, bytes)
}

fn offset(publisher: &crate::support::Client, url: &str) -> u64 {
    let head = publisher.tus("HEAD", url).expect(200, "");
    head.header(tus::UPLOAD_OFFSET).unwrap().parse().unwrap()
}

#[test]
fn an_interrupted_upload_resumes_from_head_even_across_a_restart() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, bytes) = ready(&server, &shelf);
    let url = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    let half = bytes.len() / 2;
    publisher
        .patch(&url, 0, &bytes[..half], true)
        .expect(204, "");
    assert_eq!(offset(&publisher, &url), half as u64);
    // Re-sending the chunk at its old offset is refused, not appended twice.
    publisher
        .patch(&url, 0, &bytes[..half], true)
        .expect(409, "offset_mismatch");

    let server = server.restart();
    let publisher = publisher.moved_to(&server);
    assert_eq!(offset(&publisher, &url), half as u64);
    publisher
        .patch(&url, half as u64, &bytes[half..], true)
        .expect(204, "");
    let head = publisher.tus("HEAD", &url).expect(200, "");
    assert_eq!(
        head.header(tus::UPLOAD_OFFSET),
        Some(bytes.len().to_string())
    );
    assert_eq!(server.stored_files().len(), 1);
    assert_eq!(std::fs::read(&server.stored_files()[0]).unwrap(), bytes);
    // A finished upload takes no more bytes.
    publisher
        .patch(&url, bytes.len() as u64, b"x", true)
        .expect(409, "upload_complete");
}

#[test]
fn a_restart_reconciles_what_a_crash_left_behind() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let (a, b) = (shelf.file(&assets[0]), shelf.file(&assets[1]));
    let create = |entry: &serde_json::Value, len: usize| {
        publisher
            .create_upload(
                &manifest_id,
                entry["asset_id"].as_str().unwrap(),
                len as u64,
            )
            .expect(201, "")
            .header("Location")
            .unwrap()
    };
    let (url_a, url_b) = (create(&assets[0], a.len()), create(&assets[1], b.len()));
    publisher.patch(&url_a, 0, &a[..100], true).expect(204, "");
    publisher
        .patch(&url_b, 0, &b[..b.len() - 1], true)
        .expect(204, "");
    let id = |url: &str| url.rsplit('/').next().unwrap().to_owned();
    let (id_a, id_b) = (id(&url_a), id(&url_b));
    let (orphan_part, orphan_blob) = ("ab".repeat(16), "cd".repeat(16));

    let server = server.restart_with(|stopped| {
        let data = stopped.data();
        // A write to A that never committed: bytes past the recorded offset.
        let mut part = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("parts").join(&id_a))
            .unwrap();
        std::io::Write::write_all(&mut part, b"junk").unwrap();
        // B's last byte written and recorded, but never verified.
        let mut part = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("parts").join(&id_b))
            .unwrap();
        std::io::Write::write_all(&mut part, &b[b.len() - 1..]).unwrap();
        stopped.execute(&format!(
            "UPDATE uploads SET received = length WHERE id = '{id_b}'"
        ));
        // Files no record knows.
        std::fs::write(data.join("parts").join(&orphan_part), b"x").unwrap();
        std::fs::create_dir_all(data.join("blobs/cd")).unwrap();
        std::fs::write(data.join("blobs/cd").join(&orphan_blob), b"x").unwrap();
    });
    let publisher = publisher.moved_to(&server);
    // B was verified and stored at start; the orphans are gone.
    let head = publisher.tus("HEAD", &url_b).expect(200, "");
    assert_eq!(head.header(tus::UPLOAD_OFFSET), Some(b.len().to_string()));
    assert_eq!(head.header(tus::UPLOAD_EXPIRES), None);
    let files = server.stored_files();
    assert_eq!(files.len(), 2, "{files:?}");
    assert!(files
        .iter()
        .all(|f| !f.ends_with(&orphan_part) && !f.ends_with(&orphan_blob)));
    // A resumes from its recorded offset; the junk is not part of the file.
    assert_eq!(offset(&publisher, &url_a), 100);
    publisher
        .patch(&url_a, 100, &a[100..], true)
        .expect(204, "");
    let mut stored: Vec<Vec<u8>> = server
        .stored_files()
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    stored.sort();
    let mut expected = vec![a, b];
    expected.sort();
    assert_eq!(stored, expected);
}

#[test]
fn a_body_that_breaks_off_keeps_what_arrived_and_the_rest_follows() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, bytes) = ready(&server, &shelf);
    let url = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    // Announce the whole file, send half, and hang up.
    let half = bytes.len() / 2;
    publisher.hang_up(
        &format!(
            "PATCH {url} HTTP/1.1\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\nContent-Type: {}\r\nContent-Length: {}",
            tus::OFFSET_OCTET_STREAM,
            bytes.len()
        ),
        &bytes[..half],
    );
    let start = Instant::now();
    while offset(&publisher, &url) != half as u64 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the kept half never showed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // The writer may still hold the upload for a moment after the offset moved.
    let start = Instant::now();
    loop {
        let reply = publisher.patch(&url, half as u64, &bytes[half..], true);
        if reply.status != 423 {
            reply.expect(204, "");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(std::fs::read(&server.stored_files()[0]).unwrap(), bytes);
}

#[test]
fn a_chunk_that_fails_its_checksum_is_discarded() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, bytes) = ready(&server, &shelf);
    let url = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    let third = bytes.len() / 3;
    publisher
        .patch(&url, 0, &bytes[..third], true)
        .expect(204, "");
    let mut headers = vec![
        (tus::TUS_RESUMABLE, tus::VERSION.to_owned()),
        (tus::UPLOAD_OFFSET, third.to_string()),
        ("Content-Type", tus::OFFSET_OCTET_STREAM.to_owned()),
        // The checksum of other bytes.
        (
            tus::UPLOAD_CHECKSUM,
            tus::checksum_header(&Sha256::digest(b"other")),
        ),
    ];
    let reply = publisher
        .request("PATCH", &url, &headers, &bytes[third..2 * third])
        .expect(460, "chunk_checksum_mismatch");
    assert_eq!(reply.header(tus::TUS_RESUMABLE).as_deref(), Some("1.0.0"));
    assert_eq!(offset(&publisher, &url), third as u64);
    let parts = server.stored_files();
    assert_eq!(parts.len(), 1);
    assert_eq!(std::fs::metadata(&parts[0]).unwrap().len(), third as u64);
    // sha1 and sha256 are spoken, nothing else.
    headers[3] = (
        tus::UPLOAD_CHECKSUM,
        "md5 1B2M2Y8AsgTpgAmY7PhCfg==".to_owned(),
    );
    publisher
        .request("PATCH", &url, &headers, &bytes[third..])
        .expect(400, "checksum_algorithm_unsupported");
    let sha1 = |chunk: &[u8]| {
        use base64::Engine as _;
        let digest = <sha1::Sha1 as sha2::Digest>::digest(chunk);
        format!(
            "sha1 {}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    };
    headers[3] = (tus::UPLOAD_CHECKSUM, sha1(b"other"));
    publisher
        .request("PATCH", &url, &headers, &bytes[third..2 * third])
        .expect(460, "chunk_checksum_mismatch");
    assert_eq!(offset(&publisher, &url), third as u64);
    headers[3] = (tus::UPLOAD_CHECKSUM, sha1(&bytes[third..2 * third]));
    publisher
        .request("PATCH", &url, &headers, &bytes[third..2 * third])
        .expect(204, "");
    // Without a checksum the chunk is taken as it comes.
    publisher
        .patch(&url, 2 * third as u64, &bytes[2 * third..], false)
        .expect(204, "");
}

#[test]
fn a_file_whose_bytes_are_not_the_manifests_is_discarded_whole() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, mut bytes) = ready(&server, &shelf);
    let url = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    // Every chunk is what it claims to be; the file is not what the manifest says.
    let half = bytes.len() / 2;
    publisher
        .patch(&url, 0, &bytes[..half], true)
        .expect(204, "");
    let reply = publisher
        .patch(&url, half as u64, &bytes[half..], true)
        .expect(422, "file_checksum_mismatch");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains(&asset_id));
    publisher.tus("HEAD", &url).expect(404, "not_found");
    assert!(server.stored_files().is_empty());
    assert_eq!(server.count("uploads"), 0);
    assert_eq!(server.count("blobs"), 0);
    assert_eq!(
        server.count("manifest_assets WHERE blob IS NOT NULL"),
        0,
        "the asset is not uploaded"
    );
}

#[test]
fn expired_uploads_are_refused_and_swept() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| {
        c.upload_ttl = Duration::from_millis(300);
        c.sweep_every = Duration::from_millis(100);
    });
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let mut urls = Vec::new();
    for entry in &assets {
        let bytes = shelf.file(entry);
        let url = publisher
            .create_upload(
                &manifest_id,
                entry["asset_id"].as_str().unwrap(),
                bytes.len() as u64,
            )
            .expect(201, "")
            .header("Location")
            .unwrap();
        publisher.patch(&url, 0, &bytes[..10], true).expect(204, "");
        urls.push(url);
    }
    assert_eq!(server.stored_files().len(), 2);
    std::thread::sleep(Duration::from_millis(400));
    publisher
        .patch(&urls[0], 10, b"more", true)
        .expect(410, "upload_expired");
    publisher
        .tus("HEAD", &urls[1])
        .expect(410, "upload_expired");
    // The sweeper frees the other one's bytes too, then records it expired
    // (two steps: wait for both).
    let start = Instant::now();
    while !server.stored_files().is_empty() || server.count("uploads WHERE state = 'expired'") < 2 {
        assert!(start.elapsed() < Duration::from_secs(10), "never swept");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.count("uploads WHERE state = 'expired'"), 2);
    // An expired upload does not stand in the way of a new one.
    let entry = &assets[0];
    publisher.upload(
        &manifest_id,
        entry["asset_id"].as_str().unwrap(),
        &shelf.file(entry),
        1,
    );
}

#[test]
fn an_upload_in_progress_is_resumed_not_duplicated_and_can_be_terminated() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, bytes) = ready(&server, &shelf);
    let created = publisher.create_upload(&manifest_id, &asset_id, bytes.len() as u64);
    let url = created.expect(201, "").header("Location").unwrap();
    let again = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(409, "upload_in_progress");
    assert_eq!(again.header("Location"), Some(url.clone()));

    publisher
        .patch(&url, 0, &bytes[..100], true)
        .expect(204, "");
    publisher.tus("DELETE", &url).expect(204, "");
    publisher.tus("HEAD", &url).expect(404, "not_found");
    assert!(server.stored_files().is_empty());
    assert_eq!(server.count("uploads"), 0);

    let url = publisher.upload(&manifest_id, &asset_id, &bytes, 2);
    publisher.tus("DELETE", &url).expect(409, "upload_complete");
    assert_eq!(server.stored_files().len(), 1);
}

#[test]
fn tus_preconditions_are_enforced() {
    let shelf = Shelf::approved();
    let server = Server::start();
    let (publisher, manifest_id, asset_id, bytes) = ready(&server, &shelf);
    let url = publisher
        .create_upload(&manifest_id, &asset_id, bytes.len() as u64)
        .expect(201, "")
        .header("Location")
        .unwrap();
    // No Tus-Resumable, or another version.
    let reply = publisher.request("HEAD", &url, &[], &[]).expect(412, "");
    assert_eq!(reply.header(tus::TUS_VERSION).as_deref(), Some("1.0.0"));
    publisher
        .request(
            "PATCH",
            &url,
            &[
                (tus::TUS_RESUMABLE, "0.2.2".into()),
                (tus::UPLOAD_OFFSET, "0".into()),
                ("Content-Type", tus::OFFSET_OCTET_STREAM.into()),
            ],
            b"x",
        )
        .expect(412, "tus_version_unsupported");
    publisher
        .request(
            "PATCH",
            &url,
            &[
                (tus::TUS_RESUMABLE, tus::VERSION.into()),
                (tus::UPLOAD_OFFSET, "0".into()),
                ("Content-Type", "application/octet-stream".into()),
            ],
            b"x",
        )
        .expect(415, "unsupported_media_type");
    publisher
        .request(
            "PATCH",
            &url,
            &[
                (tus::TUS_RESUMABLE, tus::VERSION.into()),
                (tus::UPLOAD_OFFSET, "-1".into()),
                ("Content-Type", tus::OFFSET_OCTET_STREAM.into()),
            ],
            b"x",
        )
        .expect(400, "invalid_request");
    // Metadata that is not tus metadata.
    publisher
        .request(
            "POST",
            tus::UPLOADS_PATH,
            &[
                (tus::TUS_RESUMABLE, tus::VERSION.into()),
                (tus::UPLOAD_LENGTH, "10".into()),
                (tus::UPLOAD_METADATA, "manifest_id !!!".into()),
            ],
            &[],
        )
        .expect(400, "upload_metadata_invalid");

    // One writer at a time: a PATCH that is still sending holds the upload.
    // Its first bytes reaching the part prove it is being written.
    let writer = publisher.open_patch(&url, bytes.len(), &bytes[..100]);
    let start = Instant::now();
    while std::fs::metadata(&server.stored_files()[0]).unwrap().len() < 100 {
        assert!(start.elapsed() < Duration::from_secs(10), "never written");
        std::thread::sleep(Duration::from_millis(10));
    }
    publisher
        .patch(&url, 0, &[], false)
        .expect(423, "upload_locked");
    writer.finish(&bytes[100..]);
    assert_eq!(offset(&publisher, &url), bytes.len() as u64);
}

/// A publisher's files and open uploads stay within its quota, and an
/// upload is taken only while the disk keeps its free margin; a refusal
/// stores nothing.
#[test]
fn uploads_past_the_quota_or_the_free_disk_are_refused_and_store_nothing() {
    let shelf = Shelf::approved();
    let manifest = shelf.export();
    let (manifest_id, assets) = entries(&manifest);
    let size = |i: usize| assets[i]["size_bytes"].as_u64().unwrap();
    let id = |i: usize| assets[i]["asset_id"].as_str().unwrap().to_owned();
    // Room for the first file, not for both.
    let quota = size(0) + size(1) - 1;
    let server = Server::start_with(|c| c.account_quota_bytes = quota);
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    publisher.upload(&manifest_id, &id(0), &shelf.file(&assets[0]), 2);
    let reply = publisher
        .create_upload(&manifest_id, &id(1), size(1))
        .expect(507, "storage_quota_exceeded");
    assert!(reply.json()["message"]
        .as_str()
        .unwrap()
        .contains(&quota.to_string()));
    assert_eq!(server.count("uploads"), 1);
    assert_eq!(server.stored_files().len(), 1);

    // A volume that cannot keep the free margin takes no upload.
    let full = Server::start_with(|c| c.min_free_bytes = u64::MAX / 4);
    let publisher = publisher_with(&full, &shelf, "studio", &manifest);
    publisher
        .create_upload(&manifest_id, &id(0), size(0))
        .expect(507, "insufficient_storage");
    assert_eq!(full.count("uploads"), 0);
    assert!(full.stored_files().is_empty());
}

/// tuspy, the Python tus client tus.io lists (scripts/setup.sh installs
/// it), uploads with its own defaults (sha1 `Upload-Checksum` on every
/// chunk), is interrupted after its first chunk, and a new uploader resumes
/// from the server's offset; the file is stored, checked against the
/// manifest.
#[test]
fn tuspy_uploads_checksums_and_resumes_with_its_defaults() {
    let home = std::env::var_os("HOME").expect("HOME is not set");
    let python = std::path::Path::new(&home).join(".cache/assay/venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup.sh",
        python.display()
    );
    let shelf = Shelf::approved();
    let server = Server::start();
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let bytes = shelf.file(&assets[0]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("photo.jpg");
    std::fs::write(&file, &bytes).unwrap();
    let chunk = bytes.len() / 3 + 1;
    let out = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/market/tuspy_upload.py"
        ))
        .arg(format!("{}{}", server.url, tus::UPLOADS_PATH))
        .arg(publisher.token())
        .arg(&file)
        .arg(&manifest_id)
        .arg(assets[0]["asset_id"].as_str().unwrap())
        .arg(dir.path().join("tuspy-urls.json"))
        .arg(chunk.to_string())
        .output_within(crate::support::CHILD_LIMIT)
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{said}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = bytes.len();
    assert!(
        said.contains(&format!("interrupted_at {chunk}\n")),
        "{said}"
    );
    assert!(said.contains(&format!("resumed_from {chunk}\n")), "{said}");
    assert!(
        said.contains(&format!("finished_at {size} of {size}\n")),
        "{said}"
    );
    let url = said
        .lines()
        .find_map(|l| l.strip_prefix("url "))
        .unwrap()
        .trim_start_matches(&server.url)
        .to_owned();
    assert_eq!(offset(&publisher, &url), size as u64);
    let stored = server.stored_files();
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(std::fs::read(&stored[0]).unwrap(), bytes);
}

/// A client trickling a chunk holds one of its account's few upload slots:
/// another chunk of the same account is refused (429) while it lasts, and
/// taken once it ends.
#[test]
fn an_account_sends_only_its_share_of_chunks_at_once() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| c.uploads_at_once_per_account = 1);
    let manifest = shelf.export();
    let publisher = publisher_with(&server, &shelf, "studio", &manifest);
    let (manifest_id, assets) = entries(&manifest);
    let url = |i: usize| {
        let id = assets[i]["asset_id"].as_str().unwrap();
        let size = assets[i]["size_bytes"].as_u64().unwrap();
        publisher
            .create_upload(&manifest_id, id, size)
            .expect(201, "")
            .header("Location")
            .unwrap()
    };
    let (first, second) = (url(0), url(1));
    let (a, b) = (shelf.file(&assets[0]), shelf.file(&assets[1]));
    // Half of the first file's chunk sent, the rest held back.
    let trickling = publisher.open_patch(&first, a.len(), &a[..a.len() / 2]);
    let deadline = Instant::now() + Duration::from_secs(30);
    // The chunk's first bytes on disk: its request is in the handler,
    // holding the account's slot.
    let part = server
        .data()
        .join("parts")
        .join(first.rsplit('/').next().unwrap());
    while std::fs::metadata(&part).map_or(0, |m| m.len()) == 0 {
        assert!(
            Instant::now() < deadline,
            "the trickling chunk never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let refused = publisher
        .patch(&second, 0, &b, false)
        .expect(429, "rate_limited");
    assert_eq!(offset(&publisher, &second), 0);
    assert_eq!(refused.code(), "rate_limited");
    assert_eq!(refused.header("Retry-After").as_deref(), Some("1"));
    trickling.finish(&a[a.len() / 2..]);
    publisher.patch(&second, 0, &b, false).expect(204, "");
}
