//! Content Credentials (C2PA) for Assay, over the `c2pa` crate without
//! OpenSSL and without network features.
//!
//! - [`CredentialReader`] (or [`read`] for one file) validates the
//!   manifest store a file carries, offline, and
//!   returns what Assay records of it ([`ContentCredentials`]): its state
//!   (`valid`, `trusted` against the given anchors, or `invalid` with the
//!   failed codes), claim generator, signer, actions with their digital
//!   source type, ingredients and `cawg.training-mining` entries.
//! - [`Authority`] is a library's own certificate authority: it issues
//!   each signer an ed25519 end-entity certificate C2PA validators accept.

mod certs;
mod model;
mod read;

pub use certs::{Authority, CertError};
pub use model::{
    ContentCredentials, CredentialAction, CredentialIngredient, CredentialState, TrainingMining,
};
pub use read::{read, CredentialReader, ReadError, TrustAnchors};
