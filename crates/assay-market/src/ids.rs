//! Ids the server makes: 128 random bits as 32 lowercase hex digits.
//! Parsing accepts that form and nothing else, so an id read from a URL is
//! safe to name a file with; anything else is simply not found.

use std::fmt;

macro_rules! server_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn random() -> $name {
                $name(uuid::Uuid::new_v4().simple().to_string())
            }

            /// The id `text` spells, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                is_id(text).then(|| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

server_id!(
    /// A tus upload; its URL is `/v1/uploads/{id}`.
    UploadId
);
server_id!(
    /// A listing; its URL is `/v1/listings/{id}`.
    ListingId
);
server_id!(
    /// A purchase; its URL is `/v1/purchases/{id}`.
    PurchaseId
);
server_id!(
    /// One payee's payout of a purchase.
    PayoutId
);
server_id!(
    /// An event of a publisher's feed.
    EventId
);
server_id!(
    /// A stored file. A finished upload's blob takes the upload's id.
    BlobId
);
server_id!(
    /// A listing asset's watermarked preview, stored apart from blobs.
    PreviewId
);
server_id!(
    /// A publisher's webhook; its URL is `/v1/webhooks/{id}`.
    WebhookId
);

impl From<&UploadId> for BlobId {
    fn from(upload: &UploadId) -> BlobId {
        BlobId(upload.0.clone())
    }
}

fn is_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_servers_own_form_parses() {
        let id = UploadId::random();
        assert_eq!(UploadId::parse(id.as_str()), Some(id.clone()));
        for bad in [
            "",
            "..",
            "../../market.db",
            &id.as_str().to_uppercase(),
            &format!("{id}/x"),
            &id.as_str()[1..],
            "0123456789abcdef0123456789abcde\0",
        ] {
            assert_eq!(UploadId::parse(bad), None, "{bad:?}");
        }
    }
}
