//! Several processes on one database, each a [`PostgresRecords`] of its
//! own (its own pool and runtime), racing where the SQLite records rely on
//! having one writer: migrating, an upload's offset, buying, settling and
//! failing a payout, the quota, a checkpoint's compare-and-set, and a
//! publisher's feed read while it is written. Each test starts its own
//! throwaway cluster (`assay-test-services`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::sync::{Barrier, Mutex};

use assay_market_proto::events::{EventKind, ReleaseReason};
use assay_market_proto::listings::ListingTerms;
use assay_market_proto::purchases::EscrowState;
use assay_market_proto::tus::UploadFile;
use assay_market_proto::Role;
use assay_test_services::postgres::Cluster;

use super::migrations::CURRENT_VERSION;
use super::PostgresRecords;
use crate::ids::{ListingId, PayoutId, PurchaseId, UploadId, WebhookId};
use crate::records::{
    AccountId, AssetEntry, DueDelivery, Insert, ListingRecord, NewListing, NewManifest, NewPayout,
    NewPurchase, NewUpload, NewWitnessed, PurchaseRecord, Records, RecordsError, Settlement,
};

/// `n` processes' records on `cluster`'s database.
fn processes(cluster: &Cluster, n: usize) -> Vec<PostgresRecords> {
    (0..n)
        .map(|_| PostgresRecords::open(&cluster.url()).unwrap())
        .collect()
}

/// `f(i)` for `i` in `0..n`, each on a thread of its own, released
/// together.
fn at_once<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let start = Barrier::new(n);
    std::thread::scope(|scope| {
        let threads: Vec<_> = (0..n)
            .map(|i| {
                let (start, f) = (&start, &f);
                scope.spawn(move || {
                    start.wait();
                    f(i)
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    })
}

fn token(n: usize) -> [u8; 32] {
    let mut token = [0u8; 32];
    token[..8].copy_from_slice(&(n as u64).to_be_bytes());
    token
}

fn buyer(records: &dyn Records, n: usize) -> AccountId {
    records
        .add_account(&format!("buyer-{n}"), Role::Buyer, &token(1000 + n))
        .unwrap()
        .id
}

/// A publisher with a manifest of `assets` assets (`a0`, `a1`...), listed.
struct Shop {
    publisher: AccountId,
    listing: ListingRecord,
}

fn shop(records: &dyn Records, assets: usize) -> Shop {
    let publisher = records
        .add_account("studio", Role::Publisher, &token(0))
        .unwrap()
        .id;
    records.add_key(publisher, "key-1", &[7; 32]).unwrap();
    let assets = (0..assets)
        .map(|i| AssetEntry {
            asset_id: format!("a{i}"),
            title: None,
            file_name: format!("a{i}.jpg"),
            checksum: format!("sha256:{i:064x}"),
            size_bytes: 100,
            media_type: "image/jpeg".into(),
            license_tag: "CC-BY-4.0".into(),
            creator_wallet: "acct_cy".into(),
            payment_terms: None,
            capture_date: None,
            usage: None,
        })
        .collect();
    records
        .add_manifest(NewManifest {
            manifest_id: "m-1".into(),
            account: publisher,
            manifest_hash: "sha256:00".into(),
            key_id: "key-1".into(),
            bytes: b"{}".to_vec(),
            assets,
            dataset: None,
            shards: Vec::new(),
        })
        .unwrap();
    let listing = records
        .create_listing(NewListing {
            id: ListingId::random(),
            account: publisher,
            manifest_id: "m-1".into(),
            terms: ListingTerms {
                title: "Two cameras".into(),
                description: String::new(),
                price_minor: 1000,
                currency: "EUR".into(),
            },
        })
        .unwrap();
    Shop { publisher, listing }
}

fn purchase(shop: &Shop, buyer: AccountId) -> NewPurchase {
    NewPurchase {
        id: PurchaseId::random(),
        listing: shop.listing.id.clone(),
        buyer,
        listing_updated_at: shop.listing.updated_at.clone(),
        amount_minor: 1000,
        currency: "EUR".into(),
        hold_until_ms: i64::MAX,
        files: Vec::new(),
        shards: Vec::new(),
        payouts: [None, Some("acct_cy".to_owned())]
            .into_iter()
            .map(|creator_wallet| NewPayout {
                id: PayoutId::random(),
                creator_wallet,
                asset_ids: vec!["a0".into()],
                amount_minor: 500,
            })
            .collect(),
    }
}

fn upload(shop: &Shop, asset: &str, length: u64, quota_bytes: u64) -> NewUpload {
    NewUpload {
        id: UploadId::random(),
        account: shop.publisher,
        manifest_id: "m-1".into(),
        file: UploadFile::Asset(asset.into()),
        length,
        expires_at_ms: i64::MAX,
        quota_bytes,
    }
}

fn kinds(records: &dyn Records, account: AccountId) -> Vec<String> {
    records
        .events(account, 0, 1000)
        .unwrap()
        .into_iter()
        .map(|e| {
            serde_json::to_value(&e.kind).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

#[test]
fn processes_starting_together_migrate_once_and_a_newer_schema_is_refused() {
    let cluster = Cluster::start().unwrap();
    let opened = at_once(4, |_| PostgresRecords::open(&cluster.url()));
    assert!(opened.iter().all(Result::is_ok));
    assert_eq!(
        cluster
            .psql("SELECT count(*) FROM schema_migrations")
            .unwrap(),
        CURRENT_VERSION.to_string()
    );
    drop(opened);
    cluster
        .psql("INSERT INTO schema_migrations VALUES (99, 'later')")
        .unwrap();
    match PostgresRecords::open(&cluster.url()) {
        Err(RecordsError::SchemaTooNew { found, known, path }) => {
            assert_eq!((found, known), (99, CURRENT_VERSION));
            assert!(path.starts_with("postgres://127.0.0.1:"), "{path}");
        }
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("a newer schema was opened"),
    }
}

#[test]
fn an_upload_moves_from_its_recorded_offset_once() {
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 3);
    let shop = shop(&all[0], 1);
    let created = all[0]
        .create_upload(upload(&shop, "a0", 100, 1000))
        .unwrap();
    let results = at_once(9, |i| {
        let to = 10 * (i as u64 + 1);
        (to, all[i % 3].advance_upload(&created.id, 0, to, 5))
    });
    let moved: Vec<u64> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(to, _)| *to)
        .collect();
    assert_eq!(moved.len(), 1, "{results:?}");
    assert!(results.iter().all(|(_, r)| matches!(
        r,
        Ok(()) | Err(RecordsError::OffsetMoved { expected: 0, .. })
    )));
    let now = all[1].upload(&created.id).unwrap().unwrap();
    assert_eq!((now.offset, now.expires_at_ms), (moved[0], 5));
}

#[test]
fn the_quota_holds_across_processes() {
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 2);
    let shop = shop(&all[0], 4);
    let results = at_once(4, |i| {
        all[i % 2].create_upload(upload(&shop, &format!("a{i}"), 100, 150))
    });
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert_eq!(
        results
            .iter()
            .filter(|r| matches!(r, Err(RecordsError::QuotaExceeded { .. })))
            .count(),
        3
    );
}

#[test]
fn a_buyer_is_charged_once_and_a_purchase_settled_once() {
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 3);
    let shop = shop(&all[0], 1);
    let lab = buyer(&all[0], 1);
    let bought = at_once(6, |i| {
        all[i % 3].create_purchase(purchase(&shop, lab)).unwrap()
    });
    let new: Vec<&PurchaseId> = bought
        .iter()
        .filter_map(|b| match b {
            Insert::New(p) => Some(&p.id),
            Insert::Existing(_) => None,
        })
        .collect();
    assert_eq!(new.len(), 1, "{bought:?}");
    let id = new[0].clone();
    assert!(bought.iter().all(|b| b.clone().into_inner().id == id));

    // Confirmed by the buyer in one process while another's sweeper
    // releases it and a third refunds it: one settlement wins.
    let settled = at_once(6, |i| {
        let how = match i % 3 {
            0 => Settlement::Release(ReleaseReason::Confirmed),
            1 => Settlement::Release(ReleaseReason::HoldExpired),
            _ => Settlement::Refund,
        };
        all[i % 3].settle(&id, how)
    });
    let state = all[0].purchase(&id).unwrap().unwrap().state;
    for result in &settled {
        match result {
            Ok(p) => assert_eq!(p.state, state),
            Err(RecordsError::PurchaseSettled { state: s, .. }) => assert_eq!(*s, state),
            Err(e) => panic!("{e}"),
        }
    }
    let feed = kinds(&all[1], shop.publisher);
    let once = |kind: &str| feed.iter().filter(|k| *k == kind).count();
    assert_eq!(once("purchase"), 1, "{feed:?}");
    if state == EscrowState::Released {
        assert_eq!(
            (once("escrow_released"), once("refunded")),
            (1, 0),
            "{feed:?}"
        );
        assert_eq!(once("payout_sent"), 2, "{feed:?}");
        // The rail returns a payout, reported by two operators at once.
        let payout = all[0].purchase(&id).unwrap().unwrap().payouts[0].id.clone();
        let failed = at_once(4, |i| {
            all[i % 3].fail_payout(&payout, "account closed").unwrap()
        });
        assert_eq!(failed.iter().filter(|f| f.newly).count(), 1);
        assert_eq!(once_more(&all[2], shop.publisher, "payout_failed"), 1);
    } else {
        assert_eq!(
            (once("escrow_released"), once("refunded")),
            (0, 1),
            "{feed:?}"
        );
    }
}

/// Many buyers of one publisher at once, through three processes: every
/// purchase is made and settled, and a payout of each failed, by its one
/// call, and not one transaction lost a conflict over the publisher's feed:
/// they queued for its lock (the server logs every serialization failure).
#[test]
fn many_buyers_of_one_publisher_at_once_all_buy_and_settle() {
    const BUYERS: usize = 48;
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 3);
    let shop = shop(&all[0], 2);
    let buyers: Vec<AccountId> = (0..BUYERS).map(|n| buyer(&all[0], 100 + n)).collect();
    let bought = at_once(BUYERS, |i| {
        all[i % 3].create_purchase(purchase(&shop, buyers[i]))
    });
    let ids: Vec<PurchaseId> = bought
        .into_iter()
        .map(|b| b.unwrap().into_inner().id)
        .collect();
    let settled = at_once(BUYERS, |i| {
        all[(i + 1) % 3].settle(&ids[i], Settlement::Release(ReleaseReason::Confirmed))
    });
    let settled: Vec<PurchaseRecord> = settled.into_iter().map(|r| r.unwrap()).collect();
    for record in &settled {
        assert_eq!(record.state, EscrowState::Released);
    }
    // The payment provider then bounces one payout of each, all at once.
    let failed = at_once(BUYERS, |i| {
        all[(i + 2) % 3].fail_payout(&settled[i].payouts[0].id, "account closed")
    });
    for result in failed {
        assert!(result.unwrap().newly);
    }
    let feed = kinds(&all[2], shop.publisher);
    let count = |kind: &str| feed.iter().filter(|k| *k == kind).count();
    assert_eq!(
        (
            count("purchase"),
            count("escrow_released"),
            count("payout_sent"),
            count("payout_failed")
        ),
        (BUYERS, BUYERS, 2 * BUYERS, BUYERS)
    );
    let log = cluster.log();
    let conflicts = log.matches("could not serialize access").count();
    assert_eq!(conflicts, 0, "{log}");
}

fn once_more(records: &dyn Records, account: AccountId, kind: &str) -> usize {
    kinds(records, account)
        .iter()
        .filter(|k| *k == kind)
        .count()
}

/// Writers in two processes sell while a reader follows the feed by its
/// cursor, as a publisher polling `/v1/events` does: every event is read,
/// once, though the writers commit in any order.
#[test]
fn a_feed_read_while_written_skips_no_event() {
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 3);
    let shop = shop(&all[0], 1);
    let buyers: Vec<AccountId> = (0..40).map(|n| buyer(&all[0], n)).collect();
    let done = Mutex::new(0usize);
    let seen = Mutex::new(Vec::new());
    at_once(5, |i| {
        if i < 4 {
            for b in buyers.iter().skip(i).step_by(4) {
                all[i % 2].create_purchase(purchase(&shop, *b)).unwrap();
            }
            *done.lock().unwrap() += 1;
            return;
        }
        let mut cursor = 0;
        loop {
            let finished = *done.lock().unwrap() == 4;
            let page = all[2].events(shop.publisher, cursor, 7).unwrap();
            if let Some(last) = page.last() {
                cursor = last.seq;
            }
            let empty = page.is_empty();
            seen.lock().unwrap().extend(page.into_iter().map(|e| e.seq));
            if finished && empty {
                break;
            }
            if empty {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    });
    let seen = seen.into_inner().unwrap();
    let distinct: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(distinct.len(), seen.len(), "an event was read twice");
    // The listing's event and one per purchase.
    assert_eq!(seen.len(), 1 + buyers.len());
}

#[test]
fn of_two_checkpoints_checked_against_the_same_latest_one_is_kept() {
    let cluster = Cluster::start().unwrap();
    let all = processes(&cluster, 2);
    let shop = shop(&all[0], 1);
    let new = |n: usize| NewWitnessed {
        account: shop.publisher,
        library: "lib-1".into(),
        events_size: n as u64,
        checkpoint: vec![n as u8],
        witness: vec![n as u8],
        witnessed_at: "2025-01-01T00:00:00Z".into(),
    };
    let first = at_once(6, |i| all[i % 2].add_witnessed(new(i), None));
    let kept: Vec<_> = first.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(kept.len(), 1);
    assert!(first.iter().all(|r| match r {
        Ok(_) => true,
        Err(RecordsError::WitnessMoved(library)) => library == "lib-1",
        Err(_) => false,
    }));
    let after = Some(kept[0].seq);
    let next = at_once(4, |i| all[i % 2].add_witnessed(new(10 + i), after));
    assert_eq!(next.iter().filter(|r| r.is_ok()).count(), 1);
    let latest = all[1]
        .latest_witnessed(shop.publisher, Some("lib-1"))
        .unwrap();
    assert_eq!(
        latest.map(|w| w.seq),
        next.iter().find_map(|r| r.as_ref().ok()).map(|w| w.seq)
    );
}

/// PostgreSQL's text holds no NUL; the records keep one all the same, as
/// SQLite does, and a lookup by a name holding one finds nothing.
#[test]
fn text_with_nul_is_kept_and_looked_up_like_any_other() {
    let cluster = Cluster::start().unwrap();
    let records = PostgresRecords::open(&cluster.url()).unwrap();
    let shop = shop(&records, 2);
    let odd = "a\0b\u{1}c\u{1}\u{2}";
    let terms = ListingTerms {
        title: odd.into(),
        description: "\0".into(),
        price_minor: 5,
        currency: "EUR".into(),
    };
    records.update_listing(&shop.listing.id, &terms).unwrap();
    records.withdraw(&shop.listing.id, "a1", odd).unwrap();
    let detail = records.listing(&shop.listing.id).unwrap().unwrap();
    assert_eq!(detail.listing.terms, terms);
    assert_eq!(detail.items[1].withdrawn.as_ref().unwrap().reason, odd);
    assert_eq!(
        records.manifest_asset(shop.publisher, "m-1", "\0").unwrap(),
        None
    );
    assert!(matches!(
        records.withdraw(&shop.listing.id, "\0", "x"),
        Err(RecordsError::AssetNotInListing { .. })
    ));
    let page = records.listings(None, 10).unwrap();
    assert_eq!(page[0].listing.terms.title, odd);
    assert_eq!(page[0].license_tags, ["CC-BY-4.0"]);
}

/// The records work from a plain thread and from one of tokio's blocking
/// threads, and may be dropped on an async one.
#[test]
fn calls_run_from_any_thread_and_the_records_drop_anywhere() {
    let cluster = Cluster::start().unwrap();
    let records = std::sync::Arc::new(PostgresRecords::open(&cluster.url()).unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let inner = std::sync::Arc::clone(&records);
    let account = runtime
        .block_on(
            runtime.spawn_blocking(move || inner.add_account("studio", Role::Publisher, &token(0))),
        )
        .unwrap()
        .unwrap();
    assert_eq!(records.account_by_token(&token(0)).unwrap(), Some(account));
    runtime.block_on(async move { drop(records) });
}

#[test]
fn an_event_names_its_kind() {
    // The feed's bodies are stored as the SQLite side stores them.
    let cluster = Cluster::start().unwrap();
    let records = PostgresRecords::open(&cluster.url()).unwrap();
    let shop = shop(&records, 1);
    let events = records.events(shop.publisher, 0, 10).unwrap();
    assert!(matches!(
        &events[..],
        [e] if matches!(&e.kind, EventKind::ListingCreated { manifest_id, .. } if manifest_id == "m-1")
    ));
}

#[test]
fn a_publishers_deliveries_are_leased_to_one_process_at_a_time() {
    let cluster = Cluster::start().unwrap();
    let records = processes(&cluster, 2);
    let shop = shop(&records[0], 1);
    records[0]
        .add_webhook(
            &WebhookId::random(),
            shop.publisher,
            "http://example.com/hook",
            "a secret of some length",
        )
        .unwrap();
    for n in 0..3 {
        let buyer = buyer(&records[0], n);
        records[0].create_purchase(purchase(&shop, buyer)).unwrap();
    }
    // Deliveries are due from when their event was recorded.
    let now = crate::clock::now_ms() + 1000;
    let lease = now + 60_000;
    let leased = at_once(2, |i| records[i].due_deliveries(now, 50, lease).unwrap());
    let counts: Vec<usize> = leased.iter().map(Vec::len).collect();
    assert!(counts == [3, 0] || counts == [0, 3], "{counts:?}");
    let (taker, other) = if counts[0] == 3 { (0, 1) } else { (1, 0) };
    // Leased, none is handed out again; one delivered leaves the rest
    // leased to the process that took them.
    assert!(records[other]
        .due_deliveries(now, 50, lease)
        .unwrap()
        .is_empty());
    records[taker].delivered(leased[taker][0].seq).unwrap();
    assert!(records[other]
        .due_deliveries(now, 50, lease)
        .unwrap()
        .is_empty());
    // A lease that ran out (its process stopped) lets another take them.
    let later = lease + 1;
    let again = records[other]
        .due_deliveries(later, 50, later + 60_000)
        .unwrap();
    let seqs = |d: &[DueDelivery]| d.iter().map(|d| d.seq).collect::<Vec<_>>();
    assert_eq!(seqs(&again), seqs(&leased[taker][1..]));
    // A failed attempt ends the lease too: due again at its retry time.
    records[other]
        .delivery_failed(again[0].seq, "answered 500", Some(later + 10))
        .unwrap();
    records[other].delivered(again[1].seq).unwrap();
    let retried = records[taker]
        .due_deliveries(later + 10, 50, later + 60_000)
        .unwrap();
    assert_eq!(seqs(&retried), vec![again[0].seq]);
}

#[test]
fn rate_buckets_and_server_secrets_are_the_same_for_every_process() {
    let cluster = Cluster::start().unwrap();
    let records = processes(&cluster, 2);
    let account = buyer(&records[0], 0);
    let now = 1_000_000;
    let waits = at_once(6, |i| records[i % 2].take_token(account, 4, now).unwrap());
    assert_eq!(waits.iter().filter(|w| w.is_none()).count(), 4, "{waits:?}");
    assert!(waits.iter().flatten().all(|&ms| (1..=15_000).contains(&ms)));
    // A token every 15 s comes back.
    assert_eq!(
        records[1].take_token(account, 4, now + 15_000).unwrap(),
        None
    );
    let secrets = at_once(2, |i| records[i].server_secret("link.key").unwrap());
    assert_eq!(secrets[0], secrets[1]);
    assert_ne!(records[0].server_secret("witness.key").unwrap(), secrets[0]);
    let reopened = PostgresRecords::open(&cluster.url()).unwrap();
    assert_eq!(reopened.server_secret("link.key").unwrap(), secrets[0]);
}
