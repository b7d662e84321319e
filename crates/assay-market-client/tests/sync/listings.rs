//! Editing a listing after a sync: repricing with `PATCH`, replacing the
//! terms with `PUT`, and another publisher refused.

use assay_market_client::{Error, Listings};
use assay_market_proto::listings::{ListingChanges, ListingTerms};

use crate::support::{options, sync, Server, Shelf};

#[test]
fn a_publisher_reprices_and_edits_its_listing_and_no_one_else_can() {
    let server = Server::start();
    let shelf = Shelf::approved();
    let token = shelf.add_market(&server);
    let opts = options(1 << 20);
    sync(&shelf, &opts).0.unwrap();
    let listing_id = server.get(&token, "/v1/listings")["listings"][0]["listing_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mine = Listings::new(&server.url, token.clone(), opts.retry.clone());
    let before = mine.get(&listing_id).unwrap();
    let repriced = mine.reprice(&listing_id, 7_500, None).unwrap();
    assert_eq!(repriced.summary.terms.price_minor, 7_500);
    assert_eq!(repriced.summary.terms.currency, "EUR");
    assert_eq!(repriced.summary.terms.title, before.summary.terms.title);
    assert_eq!(repriced.split.price_minor, 7_500);
    assert_ne!(repriced.summary.updated_at, "");

    let changes = ListingChanges {
        title: Some("Three photos".into()),
        description: Some("Camera originals, EXIF intact.".into()),
        ..ListingChanges::default()
    };
    let edited = mine.change(&listing_id, &changes).unwrap();
    assert_eq!(edited.summary.terms.title, "Three photos");
    assert_eq!(edited.summary.terms.price_minor, 7_500);

    let replaced = mine
        .replace(
            &listing_id,
            &ListingTerms {
                title: "Photos".into(),
                description: String::new(),
                price_minor: 9_000,
                currency: "USD".into(),
            },
        )
        .unwrap();
    assert_eq!(replaced.summary.terms.currency, "USD");
    assert_eq!(mine.get(&listing_id).unwrap(), replaced);

    // A refused change names the market's code and changes nothing.
    let empty_title = ListingChanges {
        title: Some("  ".into()),
        ..ListingChanges::default()
    };
    let refused = mine.change(&listing_id, &empty_title).unwrap_err();
    assert_eq!(refused.code(), "listing_invalid", "{refused}");

    // Another publisher may read the listing but not change it.
    let other = Listings::new(&server.url, server.publisher("rival"), opts.retry.clone());
    assert_eq!(other.get(&listing_id).unwrap(), replaced);
    let refused = other.reprice(&listing_id, 1, None).unwrap_err();
    assert!(
        matches!(&refused, Error::Refused { status: 403, code, .. } if code == "not_owner"),
        "{refused}"
    );
    assert_eq!(mine.get(&listing_id).unwrap(), replaced);
    assert_eq!(mine.get("../keys").unwrap_err().code(), "not_found");
}
