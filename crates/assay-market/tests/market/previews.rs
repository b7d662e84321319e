//! Previews and samples: the publisher uploads a preview per asset, the
//! server keeps only a watermarked, downsampled rendering, and any account
//! that reads listings sees it, never the original; samples show no
//! sensitive metadata; both are rate-limited per account.

use assay_market_proto::Role;
use serde_json::Value;

use crate::support::{entries, listed, Client, Server, Shelf};

fn put_preview(
    client: &Client,
    listing: &str,
    asset: &str,
    kind: &str,
    body: &[u8],
) -> crate::support::Reply {
    client.request(
        "PUT",
        &format!("/v1/listings/{listing}/assets/{asset}/preview"),
        &[("Content-Type", kind.to_owned())],
        body,
    )
}

#[test]
fn buyers_see_a_watermarked_downsampled_preview_never_the_original() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| c.max_preview_bytes = 1 << 20);
    let sale = listed(&server, &shelf, "studio", None);
    let (_, assets) = entries(&sale.manifest);
    let asset = assets[0]["asset_id"].as_str().unwrap().to_owned();
    let original = shelf.file(&assets[0]);
    let (ow, oh) = image::load_from_memory(&original)
        .unwrap()
        .to_rgb8()
        .dimensions();
    assert!(ow.max(oh) > 512, "the corpus photo is {ow}x{oh}");
    let listing = &sale.listing_id;

    // Refusals first: each stores nothing.
    let buyer = server.account("lab", Role::Buyer);
    let rival = server.account("rival", Role::Publisher);
    put_preview(&buyer, listing, &asset, "image/jpeg", &original).expect(403, "missing_scope");
    put_preview(&rival, listing, &asset, "image/jpeg", &original).expect(403, "not_owner");
    let publisher = &sale.publisher;
    put_preview(publisher, listing, &asset, "text/plain", &original)
        .expect(415, "unsupported_media_type");
    put_preview(
        publisher,
        listing,
        &asset,
        "image/png",
        b"not an image at all",
    )
    .expect(422, "preview_invalid");
    put_preview(publisher, listing, &asset, "image/jpeg", &original[..200])
        .expect(422, "preview_invalid");
    // Refused on its announced length, before a byte is read. The client
    // waits for the server's word before sending the body (Expect:
    // 100-continue), as a well-behaved one uploading much does: without
    // that, the server's early close can reach it as a broken pipe before
    // it reads the answer.
    publisher
        .request(
            "PUT",
            &format!("/v1/listings/{listing}/assets/{asset}/preview"),
            &[
                ("Content-Type", "image/jpeg".to_owned()),
                ("Expect", "100-continue".to_owned()),
            ],
            &vec![0xff; (1 << 20) + 1],
        )
        .expect(413, "preview_too_large");
    put_preview(publisher, listing, "no-such-asset", "image/jpeg", &original)
        .expect(404, "not_found");
    let path = format!("/v1/listings/{listing}/assets/{asset}/preview");
    buyer.get(&path).expect(404, "not_found");
    assert!(walk_previews(&server).is_empty());

    let info = put_preview(publisher, listing, &asset, "image/jpeg", &original)
        .expect(200, "")
        .json();
    assert_eq!(info["url"], Value::from(path.clone()));
    assert_eq!(info["media_type"], "image/jpeg");
    let (w, h) = (
        info["width"].as_u64().unwrap(),
        info["height"].as_u64().unwrap(),
    );
    assert_eq!(w.max(h), 512);
    assert_eq!(w * 1000 / h, u64::from(ow) * 1000 / u64::from(oh));

    // A buyer who has not bought sees it: other bytes than the original,
    // the downsampled size, and the watermark's band across the middle.
    let reply = buyer.get(&path).expect(200, "");
    assert_eq!(reply.header("Content-Type").as_deref(), Some("image/jpeg"));
    // The asset's AI-training terms, as on its download.
    assert_eq!(
        reply.header("Content-Usage").as_deref(),
        Some("train-ai=y, train-genai=y")
    );
    assert_eq!(reply.header("tdm-reservation").as_deref(), Some("1"));
    assert_ne!(reply.body, original);
    assert_eq!(
        reply.body.len() as u64,
        info["size_bytes"].as_u64().unwrap()
    );
    let shown = image::load_from_memory(&reply.body).unwrap().to_rgb8();
    assert_eq!(
        (u64::from(shown.width()), u64::from(shown.height())),
        (w, h)
    );
    let mid = shown.height() / 2;
    let white = (0..shown.width())
        .filter(|&x| shown.get_pixel(x, mid).0.iter().all(|&c| c > 200))
        .count();
    assert!(
        white as u32 > shown.width() / 3,
        "{white} white pixels in the band"
    );
    // The publisher and a rival publisher read it too.
    assert_eq!(rival.get(&path).expect(200, "").body, reply.body);
    // Only the preview is stored under previews/, and it is not a blob.
    let stored = walk_previews(&server);
    assert_eq!(stored.len(), 1);
    assert_eq!(std::fs::read(&stored[0]).unwrap(), reply.body);

    // A second upload replaces the first; the old bytes are gone.
    put_preview(
        publisher,
        listing,
        &asset,
        "image/jpeg",
        &shelf.file(&assets[1]),
    )
    .expect(200, "");
    let replaced = walk_previews(&server);
    assert_eq!(replaced.len(), 1);
    assert_ne!(replaced, stored);

    // The sample: what a buyer may know, nothing that identifies a file or a payee.
    let sample = buyer
        .get(&format!("/v1/listings/{listing}/sample"))
        .expect(200, "")
        .json();
    assert_eq!(sample["assets_on_sale"], 2);
    let shown = sample["entries"].as_array().unwrap();
    assert_eq!(shown.len(), 2);
    for entry in shown {
        let manifest_entry = assets
            .iter()
            .find(|a| a["asset_id"] == entry["asset_id"])
            .unwrap();
        for key in [
            "title",
            "media_type",
            "size_bytes",
            "license_tag",
            "capture_date",
        ] {
            assert_eq!(entry[key], manifest_entry[key], "{key}");
        }
        for key in [
            "checksum",
            "file_name",
            "creator_wallet",
            "payment_terms",
            "provenance_hash",
        ] {
            assert!(entry.get(key).is_none(), "{key} in {entry}");
        }
    }
    assert!(
        shown.iter().any(|e| e["capture_date"].is_string()),
        "{sample}"
    );
    let with_preview: Vec<_> = shown.iter().filter_map(|e| e["preview"].as_str()).collect();
    assert_eq!(with_preview, [path.as_str()]);
    buyer
        .get(&format!("/v1/listings/{listing}/sample?limit=1"))
        .expect(200, "");
    buyer
        .get(&format!("/v1/listings/{listing}/sample?limit=99"))
        .expect(400, "invalid_request");

    // Kept across a restart; a withdrawn asset's preview is no longer shown.
    let token_buyer = buyer;
    let server = server.restart();
    let buyer = token_buyer.moved_to(&server);
    buyer.get(&path).expect(200, "");
    sale.publisher
        .moved_to(&server)
        .post(
            &format!("/v1/listings/{listing}/withdrawals"),
            &serde_json::json!({"asset_id": asset, "reason": "revoked"}),
        )
        .expect(200, "");
    buyer.get(&path).expect(404, "not_found");
}

#[test]
fn previews_and_samples_are_rate_limited_per_account() {
    let shelf = Shelf::approved();
    let server = Server::start_with(|c| c.preview_rate_per_minute = 3);
    let sale = listed(&server, &shelf, "studio", None);
    let sample = format!("/v1/listings/{}/sample", sale.listing_id);
    let buyer = server.account("lab", Role::Buyer);
    for _ in 0..3 {
        buyer.get(&sample).expect(200, "");
    }
    let refused = buyer.get(&sample).expect(429, "rate_limited");
    let wait: u64 = refused.header("Retry-After").unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    // Previews draw on the same bucket; other routes and accounts do not.
    let (_, assets) = entries(&sale.manifest);
    let asset = assets[0]["asset_id"].as_str().unwrap();
    buyer
        .get(&format!(
            "/v1/listings/{}/assets/{asset}/preview",
            sale.listing_id
        ))
        .expect(429, "rate_limited");
    buyer
        .get(&format!("/v1/listings/{}", sale.listing_id))
        .expect(200, "");
    server
        .account("lab2", Role::Buyer)
        .get(&sample)
        .expect(200, "");
}

fn walk_previews(server: &Server) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(shards) = std::fs::read_dir(server.data().join("previews")) else {
        return found;
    };
    for shard in shards {
        for file in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            found.push(file.unwrap().path());
        }
    }
    found.sort();
    found
}
