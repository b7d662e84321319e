//! `assay-market`: the reference marketplace server of the Assay
//! marketplace protocol (`schemas/marketplace.openapi.yaml`; wire types in
//! `assay-market-proto`). A real HTTP server (axum on tokio): publishers
//! register signing keys, post signed manifests, upload each file with tus
//! 1.0, and list manifests for sale with a revenue split per creator;
//! buyers purchase a listing (its price held in escrow, payouts per payee
//! recorded), download every file and the manifest through signed links,
//! and confirm; publishers follow their sales in an event feed.
//!
//! - [`Market`] opens its storage and serves; [`add_account`] makes the
//!   accounts and their bearer tokens, [`rotate_token`] and [`revoke_token`]
//!   replace or withdraw one.
//! - Storage sits behind two traits so one machine is not the limit:
//!   [`Records`] (accounts, keys, manifests, uploads, listings, purchases,
//!   payouts, events, rate buckets, the server's secrets; SQLite in
//!   [`SqliteRecords`], the default, or PostgreSQL in [`PostgresRecords`])
//!   and [`Blobs`] (file bytes; a local folder in [`FolderBlobs`], the
//!   default, or an S3-compatible bucket in [`S3Blobs`]). Both are
//!   synchronous and called on blocking threads. On PostgreSQL and S3,
//!   several server processes serve one market behind one address: what
//!   they must agree on (upload offsets, escrow, payouts, the feed's order,
//!   rate limits, quotas, webhook leases, checkpoints, the link and witness
//!   keys) is in the records.
//! - Every route is mounted in `routes.rs` with the scope it needs;
//!   [`Market::routes`] lists them for the test that holds them to the spec.
//! - `connections.rs` accepts connections with deadlines on headers, body
//!   reads and stalled writes, so no peer holds one open indefinitely.
//! - Rules: a manifest is accepted only when it is signed by a rights
//!   manager with a key the posting publisher registered, and every asset
//!   allows AI training and has a payout reference; a file is stored only
//!   when its SHA-256 is the manifest's; nothing a client names becomes a
//!   path; an original leaves only through an unexpired HMAC-signed link,
//!   to the buyer it names, while the purchase is not refunded; every
//!   refusal stores nothing and says why as `{code, message}`.
//!
//! - Before buying, any account sees a listing's sample and watermarked,
//!   downsampled previews (never an original), rate-limited per account;
//!   publishers may have their events POSTed, signed, to webhooks.
//! - The market witnesses each library's checkpoints: it countersigns one
//!   only if the publisher's key signed it and it extends the last it
//!   witnessed for that library, so a library rolled back or rewritten
//!   after a sync cannot pass verification against the market.

mod accounts;
mod app;
mod async_bridge;
mod auth;
mod blobs;
mod body_schemas;
mod checkpoints;
mod chunk;
mod clock;
mod config;
mod connections;
mod credentials;
mod delivery;
mod error;
mod extract;
mod feed;
mod free_space;
mod ids;
mod links;
mod listings;
mod manifest_check;
mod manifests;
mod market;
mod money;
mod near_duplicates;
mod paced_body;
mod page_query;
mod previews;
mod publisher_keys;
mod purchases;
mod rate_limit;
mod records;
mod routes;
mod sample;
mod server_keys;
mod slots;
mod spec;
mod split;
mod sweep;
mod uploads;
mod usage_headers;
mod watermark;
mod webhook_address;
mod webhook_delivery;
mod webhooks;
mod witness;

pub use accounts::{add_account, revoke_token, rotate_token, AccountError};
pub use blobs::{BlobError, Blobs, FolderBlobs, PartWriter, S3Blobs, S3Location};
pub use config::{BlobsAt, Config, ConnectionLimits};
pub use ids::{BlobId, EventId, ListingId, PayoutId, PreviewId, PurchaseId, UploadId, WebhookId};
pub use market::{open_records, records_path, Market, MarketError};
pub use records::{
    Account, AccountId, AssetEntry, DueDelivery, EntitledFile, EventRecord, Insert, ListedAsset,
    ListingDetail, ListingRecord, ListingRow, Manifest, NewListing, NewManifest, NewPayout,
    NewPurchase, NewUpload, PayoutFailure, PayoutRecord, PostgresRecords, PreviewRecord,
    PurchaseRecord, Records, RecordsError, Settlement, SqliteRecords, StoredAsset, StoredKey,
    Upload, UploadState, WebhookRecord, WitnessedRecord,
};
pub use routes::{Access, Route, Verb};
pub use spec::openapi;
