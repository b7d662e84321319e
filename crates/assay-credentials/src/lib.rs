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
//! - [`CredentialWriter`] signs a [`Claim`] with a [`KeySigner`] (a key
//!   and its chain) into a copy of a file, or into a `.c2pa` sidecar
//!   where C2PA defines no embedding for the format ([`embeds`]).

mod certs;
mod model;
mod read;
mod scan;
mod sign;

pub use certs::{anchor_subjects, AnchorError, Authority, CertError};
pub use model::{
    ContentCredentials, CredentialAction, CredentialIngredient, CredentialState, TrainingMining,
};
pub use read::{read, CredentialReader, ReadError, TrustAnchors};
pub use sign::{embeds, Claim, CredentialWriter, KeySigner, SignError, PARENT};
