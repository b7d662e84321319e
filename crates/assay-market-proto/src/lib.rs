//! The Assay marketplace protocol: the types that cross the wire between a
//! marketplace server (`assay-market`) and its clients (`assay sync`,
//! `assay pull`). Serde types and constants: no HTTP, no I/O, so a
//! client may use any HTTP stack. `schemas/marketplace.openapi.yaml` is the
//! contract; these types are its Rust form. The one computation here is the
//! HMAC both ends of a webhook need ([`webhooks::signature`],
//! [`webhooks::verify`]).
//!
//! - Every request but `GET /openapi.json` and `OPTIONS /v1/uploads` carries
//!   `Authorization: Bearer TOKEN`. A token belongs to one account, whose
//!   [`Role`] grants its [`Scope`]s.
//! - Every error is an [`ErrorBody`]: a stable [`ErrorCode`] to branch on and
//!   a message for people; refusals of a manifest also list each
//!   [`Problem`] with the asset and field it concerns.
//! - Buyers see watermarked previews and a sample of a listing
//!   ([`previews`]); publishers may have their events pushed ([`webhooks`]).
//! - A purchase's files may come with Content Credentials ([`credentials`]).
//! - Publishing is: register a key ([`keys`]), post a signed manifest
//!   ([`manifests`]), upload each file with tus 1.0 ([`tus`]), create a
//!   listing ([`listings`]).
//! - The market witnesses each library's checkpoints ([`checkpoints`]):
//!   it accepts one only if it extends the last it witnessed, and
//!   countersigns it.

pub mod auth;
pub mod checkpoints;
pub mod credentials;
pub mod error;
pub mod events;
pub mod hmac;
pub mod keys;
pub mod listings;
pub mod manifests;
pub mod previews;
pub mod purchases;
pub mod tus;
pub mod webhooks;

pub use auth::{Role, Scope};
pub use error::{ErrorBody, ErrorCode, Problem};

/// The prefix of every versioned route.
pub const API_PREFIX: &str = "/v1";
