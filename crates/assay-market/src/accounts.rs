//! Accounts and their bearer tokens. A token is `amk_` and 32 random bytes
//! in URL-safe base64; the server keeps only its SHA-256 (32 random bytes
//! need no salt or slow hash: there is nothing to guess).

use assay_market_proto::Role;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};

use crate::records::{Account, Records, RecordsError};

const TOKEN_PREFIX: &str = "amk_";

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("account name {0:?}: use 1 to 64 letters, digits, '.', '_' or '-'")]
    InvalidName(String),
    #[error("the system random number generator failed: {0}")]
    Random(String),
    #[error(transparent)]
    Records(#[from] RecordsError),
}

/// A new token: `amk_` and 32 random bytes.
fn new_token() -> Result<String, AccountError> {
    let mut secret = [0u8; 32];
    OsRng
        .try_fill_bytes(&mut secret)
        .map_err(|e| AccountError::Random(e.to_string()))?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret)))
}

/// Gives the account `name` a new token and returns it; the old one stops
/// working at once, on every server process sharing the records.
pub fn rotate_token(records: &dyn Records, name: &str) -> Result<(Account, String), AccountError> {
    let token = new_token()?;
    let account = records.set_token(name, &token_sha256(&token))?;
    Ok((account, token))
}

/// Revokes the account `name`'s token: its hash is replaced by that of a
/// token nobody was given, so no request authenticates as it until a
/// [`rotate_token`] gives it a new one.
pub fn revoke_token(records: &dyn Records, name: &str) -> Result<Account, AccountError> {
    let nobodys = new_token()?;
    Ok(records.set_token(name, &token_sha256(&nobodys))?)
}

/// Creates an account; returns it with its token, which exists nowhere else.
pub fn add_account(
    records: &dyn Records,
    name: &str,
    role: Role,
) -> Result<(Account, String), AccountError> {
    let valid = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !valid {
        return Err(AccountError::InvalidName(name.to_owned()));
    }
    let token = new_token()?;
    let account = records.add_account(name, role, &token_sha256(&token))?;
    Ok((account, token))
}

/// What the records know a token by.
pub(crate) fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Whether `token` has the form tokens are made in; others are not looked up.
pub(crate) fn looks_like_token(token: &str) -> bool {
    token.strip_prefix(TOKEN_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
    })
}
