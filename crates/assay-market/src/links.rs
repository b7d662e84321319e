//! Signed download links. A link is a token naming one purchase, its buyer,
//! one file (a blob, or the manifest) and an expiry, with an HMAC-SHA256
//! over them under the server's link key, so no table is needed: a link
//! cannot be altered or made without the key, and a refund revokes it
//! through the purchase it names.
//!
//! The key is 32 random bytes the records keep (`link.key`: a file of the
//! data folder readable by the server's user only, beside SQLite's
//! `market.db`; a row of PostgreSQL's `server_secrets`), made once and kept
//! across restarts, so links outlive a restart until they expire and work
//! at every server process sharing the records.

use assay_market_proto::hmac::{hmac_sha256, same};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

use crate::ids::{BlobId, PurchaseId};
use crate::records::{self, AccountId, Records};

const KEY_FILE: &str = "link.key";
/// What a link to the manifest names instead of a blob.
const MANIFEST: &str = "manifest";

/// The file a link is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Manifest,
    Blob(BlobId),
}

/// What a link grants: one buyer one file of one purchase, until `expires_ms`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Link {
    pub purchase: PurchaseId,
    pub buyer: AccountId,
    pub target: Target,
    pub expires_ms: i64,
}

/// The server's key for signing links.
pub(crate) struct LinkKey([u8; 32]);

impl LinkKey {
    /// The key the records keep (made on first use): the same in every
    /// server process sharing them, so a link one made works at another.
    pub fn of(records: &dyn Records) -> records::Result<LinkKey> {
        records.server_secret(KEY_FILE).map(LinkKey)
    }

    /// A MAC under this key for another purpose than links; `domain` keeps
    /// that purpose's messages apart from links and from each other.
    pub fn mac(&self, domain: &[u8], message: &[u8]) -> [u8; 32] {
        hmac_sha256(&self.0, &[domain, b"\n", message].concat())
    }

    /// Whether `given` is the MAC [`LinkKey::mac`] makes, compared in
    /// constant time.
    pub fn mac_holds(&self, domain: &[u8], message: &[u8], given: &[u8]) -> bool {
        same(&self.mac(domain, message), given)
    }

    /// The token of `link`: its fields and their MAC, both base64url.
    pub fn sign(&self, link: &Link) -> String {
        let target = match &link.target {
            Target::Manifest => MANIFEST,
            Target::Blob(blob) => blob.as_str(),
        };
        let payload = format!(
            "{}.{}.{target}.{}",
            link.purchase, link.buyer, link.expires_ms
        );
        let mac = hmac_sha256(&self.0, payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(mac)
        )
    }

    /// The link `token` stands for, when this key signed it; `None` for
    /// anything else, malformed or altered alike.
    pub fn open(&self, token: &str) -> Option<Link> {
        let (payload, mac) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !same(&hmac_sha256(&self.0, &payload), &mac) {
            return None;
        }
        let payload = String::from_utf8(payload).ok()?;
        let mut fields = payload.split('.');
        let purchase = PurchaseId::parse(fields.next()?)?;
        let buyer = fields.next()?.parse().ok()?;
        let target = match fields.next()? {
            MANIFEST => Target::Manifest,
            blob => Target::Blob(BlobId::parse(blob)?),
        };
        let expires_ms = fields.next()?.parse().ok()?;
        if fields.next().is_some() {
            return None;
        }
        Some(Link {
            purchase,
            buyer,
            target,
            expires_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::SqliteRecords;

    #[test]
    fn a_link_reads_back_and_any_change_breaks_it() {
        let dir = tempfile::tempdir().unwrap();
        let records = SqliteRecords::open(&dir.path().join("market.db")).unwrap();
        let key = LinkKey::of(&records).unwrap();
        let link = Link {
            purchase: PurchaseId::random(),
            buyer: 7,
            target: Target::Blob(BlobId::random()),
            expires_ms: 1_700_000_000_000,
        };
        let token = key.sign(&link);
        assert_eq!(key.open(&token), Some(link.clone()));
        // The same key after a restart; another data folder's key refuses it.
        let reopened = SqliteRecords::open(&dir.path().join("market.db")).unwrap();
        assert_eq!(
            LinkKey::of(&reopened).unwrap().open(&token),
            Some(link.clone())
        );
        let other = tempfile::tempdir().unwrap();
        let others = SqliteRecords::open(&other.path().join("market.db")).unwrap();
        assert_eq!(LinkKey::of(&others).unwrap().open(&token), None);
        let forged = Link {
            buyer: 8,
            ..link.clone()
        };
        let (_, mac) = token.split_once('.').unwrap();
        let (payload, _) = key
            .sign(&forged)
            .split_once('.')
            .map(|(p, m)| (p.to_owned(), m.to_owned()))
            .unwrap();
        assert_eq!(key.open(&format!("{payload}.{mac}")), None);
        for bad in ["", ".", "x.y", &token[1..], &format!("{token}A")] {
            assert_eq!(key.open(bad), None, "{bad:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
