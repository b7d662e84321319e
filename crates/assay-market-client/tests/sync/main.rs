//! `assay_market_client::sync` against a real marketplace server on a
//! loopback port: publishing, idempotence, resuming after a restart and
//! dropped connections, concurrent syncs, and withdrawals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod faults;
mod listings;
mod publish;
mod support;
