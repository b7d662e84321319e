//! The marketplace server end to end: a real library made with assay-core
//! publishes to a real server on 127.0.0.1 over HTTP; nothing is mocked.
//! Refusals are checked against what the server stored, on disk and in
//! its records.
//!
//! `main_postgres.rs` (the `market-postgres` target) runs these same
//! modules with the records in PostgreSQL: a new module goes in both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod cli;
mod datasets;
mod delivery;
mod near_duplicates;
mod previews;
mod publish;
mod purchases;
mod schemathesis;
mod security;
mod slow_peers;
mod spec;
mod support;
mod uploads;
mod webhooks;
