//! The revenue split of a listing: who earns what from one sale, derived
//! from the payment terms and payout references in the manifest's
//! entries. The rule is `assay_market_proto::listings::Split`'s (and the
//! spec's): one-time fees first, then equal parts of the rest per asset on
//! sale, of which `rev_share`/`royalty` terms give the creator their
//! fraction; the publisher keeps the remainder.

use std::collections::BTreeMap;

use assay_core::licenses::PaymentTerms;
use assay_market_proto::listings::{CreatorShare, ListingTerms, Split};

use crate::money;
use crate::records::AssetEntry;

/// Fractions are counted in millionths.
const MILLION: u128 = 1_000_000;

/// The split of a sale at `terms`' price over the assets `on_sale`, or why
/// it cannot be made.
pub(crate) fn split(terms: &ListingTerms, on_sale: &[&AssetEntry]) -> Result<Split, String> {
    let price = u128::from(terms.price_minor);
    #[derive(Default)]
    struct Owed {
        assets: u64,
        fixed: u128,
        millionths: u128,
    }
    let mut owed: BTreeMap<&str, Owed> = BTreeMap::new();
    for asset in on_sale {
        let wallet = owed.entry(asset.creator_wallet.as_str()).or_default();
        wallet.assets += 1;
        match &asset.payment_terms {
            Some(PaymentTerms::OneTime { fee, currency }) => {
                if *currency != terms.currency {
                    return Err(format!(
                        "asset {}: its one-time fee is in {currency}, the listing is in {}",
                        asset.asset_id, terms.currency
                    ));
                }
                let minor = money::to_minor(fee, currency).ok_or_else(|| {
                    format!(
                        "asset {}: its one-time fee {fee} {currency} is not a whole number of minor units",
                        asset.asset_id
                    )
                })?;
                wallet.fixed += u128::from(minor);
            }
            Some(PaymentTerms::RevShare { share: fraction })
            | Some(PaymentTerms::Royalty { rate: fraction }) => {
                // Terms are validated to lie in [0, 1]; the cast saturates anyway.
                wallet.millionths += (fraction * MILLION as f64).round() as u128;
            }
            None => {}
        }
    }
    let fixed: u128 = owed.values().map(|o| o.fixed).sum();
    if fixed > price {
        return Err(format!(
            "the creators' one-time fees add up to {fixed} minor units of {}, more than the price, {price}",
            terms.currency
        ));
    }
    let rest = price - fixed;
    let parts = on_sale.len() as u128;
    let mut creators = Vec::with_capacity(owed.len());
    let mut paid = 0u128;
    for (wallet, o) in owed {
        let share = match parts {
            0 => 0,
            n => rest * o.millionths / (n * MILLION),
        };
        let amount = o.fixed + share;
        paid += amount;
        creators.push(CreatorShare {
            creator_wallet: wallet.to_owned(),
            assets: o.assets,
            amount_minor: u64::try_from(amount).map_err(|_| "an amount overflows".to_owned())?,
        });
    }
    Ok(Split {
        currency: terms.currency.clone(),
        price_minor: terms.price_minor,
        publisher_minor: u64::try_from(price - paid.min(price))
            .map_err(|_| "an amount overflows".to_owned())?,
        creators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(id: &str, wallet: &str, terms: Option<PaymentTerms>) -> AssetEntry {
        AssetEntry {
            asset_id: id.into(),
            title: None,
            file_name: format!("{id}.jpg"),
            checksum: String::new(),
            size_bytes: 1,
            media_type: "image/jpeg".into(),
            license_tag: "CC-BY-4.0".into(),
            creator_wallet: wallet.into(),
            payment_terms: terms,
            capture_date: None,
            usage: None,
        }
    }

    fn terms(price_minor: u64, currency: &str) -> ListingTerms {
        ListingTerms {
            title: "t".into(),
            description: String::new(),
            price_minor,
            currency: currency.into(),
        }
    }

    #[test]
    fn fees_come_first_then_shares_of_equal_parts_and_the_rest_is_the_publishers() {
        let a = asset("a", "w1", Some(PaymentTerms::RevShare { share: 0.5 }));
        let b = asset("b", "w2", Some(PaymentTerms::Royalty { rate: 0.1 }));
        let c = asset(
            "c",
            "w1",
            Some(PaymentTerms::OneTime {
                fee: "10.00".into(),
                currency: "EUR".into(),
            }),
        );
        let d = asset("d", "w3", None);
        let s = split(&terms(10_000, "EUR"), &[&a, &b, &c, &d]).unwrap();
        // 1000 fixed to w1; 9000 in four parts of 2250: w1 half of one, w2 a tenth of one.
        let amounts: Vec<_> = s
            .creators
            .iter()
            .map(|c| (c.creator_wallet.as_str(), c.assets, c.amount_minor))
            .collect();
        assert_eq!(
            amounts,
            [("w1", 2, 1000 + 1125), ("w2", 1, 225), ("w3", 1, 0)]
        );
        assert_eq!(s.publisher_minor, 10_000 - 2125 - 225);
    }

    #[test]
    fn rounding_favours_nobody_but_the_publisher_and_amounts_add_up() {
        let a = asset("a", "w1", Some(PaymentTerms::RevShare { share: 1.0 }));
        let b = asset("b", "w2", Some(PaymentTerms::RevShare { share: 1.0 }));
        let c = asset("c", "w3", Some(PaymentTerms::RevShare { share: 1.0 }));
        let s = split(&terms(100, "USD"), &[&a, &b, &c]).unwrap();
        assert!(s.creators.iter().all(|c| c.amount_minor == 33));
        assert_eq!(s.publisher_minor, 1);
    }

    #[test]
    fn fees_in_another_currency_or_above_the_price_are_refused() {
        let fee = |fee: &str, currency: &str| {
            asset(
                "x",
                "w",
                Some(PaymentTerms::OneTime {
                    fee: fee.into(),
                    currency: currency.into(),
                }),
            )
        };
        let err = split(&terms(5000, "EUR"), &[&fee("10", "USD")]).unwrap_err();
        assert!(err.contains("asset x") && err.contains("USD"), "{err}");
        let err = split(&terms(999, "EUR"), &[&fee("10", "EUR")]).unwrap_err();
        assert!(err.contains("1000") && err.contains("999"), "{err}");
        let err = split(&terms(999, "JPY"), &[&fee("1.5", "JPY")]).unwrap_err();
        assert!(err.contains("minor units"), "{err}");
        let s = split(&terms(999, "EUR"), &[]).unwrap();
        assert_eq!((s.publisher_minor, s.creators.len()), (999, 0));
    }
}
