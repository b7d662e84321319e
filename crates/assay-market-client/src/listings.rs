//! A publisher's listings on one market, outside a sync: read one, replace
//! its terms (`PUT`) or change some of them (`PATCH`), e.g. to reprice it.
//! Both changes are idempotent, so [`Api::send`]'s retries are safe.

use assay_market_proto::listings::{Listing, ListingChanges, ListingTerms};
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::http::{Api, Reply, Retry};

/// One market's listings, as one account.
pub struct Listings {
    api: Api,
}

impl Listings {
    /// The market at `url` (`http://host:port`), with a bearer token.
    pub fn new(url: &str, token: impl Into<String>, retry: Retry) -> Listings {
        Listings {
            api: Api::new(url, token.into(), retry),
        }
    }

    /// `GET /v1/listings/{id}`.
    pub fn get(&self, listing_id: &str) -> Result<Listing> {
        let path = path(listing_id);
        let reply = self.api.send("GET", &path, &[], &[])?;
        answer("GET", &path, &reply)
    }

    /// `PUT /v1/listings/{id}`: every term replaced.
    pub fn replace(&self, listing_id: &str, terms: &ListingTerms) -> Result<Listing> {
        self.json("PUT", listing_id, terms)
    }

    /// `PATCH /v1/listings/{id}`: the terms `changes` names, the others kept.
    pub fn change(&self, listing_id: &str, changes: &ListingChanges) -> Result<Listing> {
        self.json("PATCH", listing_id, changes)
    }

    /// Sets a new price, keeping the currency unless one is given.
    pub fn reprice(
        &self,
        listing_id: &str,
        price_minor: u64,
        currency: Option<&str>,
    ) -> Result<Listing> {
        let changes = ListingChanges {
            price_minor: Some(price_minor),
            currency: currency.map(str::to_owned),
            ..ListingChanges::default()
        };
        self.change(listing_id, &changes)
    }

    fn json(
        &self,
        method: &'static str,
        listing_id: &str,
        body: &impl serde::Serialize,
    ) -> Result<Listing> {
        let path = path(listing_id);
        let body = serde_json::to_vec(body).map_err(|e| Error::Protocol {
            method,
            path: path.clone(),
            message: format!("the body does not serialise: {e}"),
        })?;
        let headers = [("Content-Type", "application/json".to_owned())];
        let reply = self.api.send(method, &path, &headers, &body)?;
        answer(method, &path, &reply)
    }
}

fn path(listing_id: &str) -> String {
    // Percent-encoded, so an id that is not one (the server's are hex) is
    // simply not found rather than read as another path.
    let mut path = String::from("/v1/listings/");
    for b in listing_id.bytes() {
        if b.is_ascii_alphanumeric() {
            path.push(char::from(b));
        } else {
            path.push_str(&format!("%{b:02X}"));
        }
    }
    path
}

fn answer<T: DeserializeOwned>(method: &'static str, path: &str, reply: &Reply) -> Result<T> {
    if reply.status != 200 {
        return Err(Error::refused(method, path, reply.status, &reply.body));
    }
    serde_json::from_slice(&reply.body).map_err(|e| Error::Protocol {
        method,
        path: path.to_owned(),
        message: format!("the listing does not parse: {e}"),
    })
}
