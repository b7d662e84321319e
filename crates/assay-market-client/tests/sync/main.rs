//! `assay_market_client::sync` against a real marketplace server on a
//! loopback port: publishing, idempotence, resuming after a restart and
//! dropped connections, concurrent syncs, and withdrawals; a trainer's
//! pull, and the payments that come back through the feed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod deliver;
mod faults;
mod listings;
mod publish;
mod support;
mod vocabularies;
mod witness;
