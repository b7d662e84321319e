//! The market's end-to-end tests again, with the records in PostgreSQL:
//! the modules of `main.rs`, compiled as the `market-postgres` target, for
//! which `support.rs` starts a throwaway cluster beside each server and
//! points the server (and the binary, in `cli.rs`) at it. Every test runs
//! on both backends. `scale_out.rs`, only here, runs the hosted
//! configuration: two processes on one database and one S3 bucket;
//! `postgres_tls.rs`, only here too, the records' TLS to the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bodies.rs"]
mod bodies;
#[path = "cli.rs"]
mod cli;
#[path = "datasets.rs"]
mod datasets;
#[path = "delivery.rs"]
mod delivery;
#[path = "near_duplicates.rs"]
mod near_duplicates;
/// Only here: the records over TLS.
mod postgres_tls;
#[path = "previews.rs"]
mod previews;
#[path = "publish.rs"]
mod publish;
#[path = "purchases.rs"]
mod purchases;
/// Only here: two processes on one database and one S3 bucket.
mod scale_out;
#[path = "schemathesis.rs"]
mod schemathesis;
#[path = "security.rs"]
mod security;
#[path = "slow_peers.rs"]
mod slow_peers;
#[path = "spec.rs"]
mod spec;
#[path = "support.rs"]
mod support;
#[path = "uploads.rs"]
mod uploads;
#[path = "webhooks.rs"]
mod webhooks;
