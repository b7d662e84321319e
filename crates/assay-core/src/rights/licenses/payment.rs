//! Payment terms: what a sale of an asset pays, checked so money is never a
//! float and shares add up.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::LicenseError;

/// What a sale of the asset pays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", try_from = "RawPaymentTerms")]
pub enum PaymentTerms {
    /// A fixed fee. The fee is a decimal string so money is never a float.
    OneTime { fee: String, currency: String },
    /// A fraction of each sale's price, from 0 to 1.
    Royalty { rate: f64 },
    /// The creator's fraction of revenue, from 0 to 1.
    RevShare { share: f64 },
}

/// The unchecked form serde reads before [`PaymentTerms::validate`].
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum RawPaymentTerms {
    OneTime { fee: String, currency: String },
    Royalty { rate: f64 },
    RevShare { share: f64 },
}

impl TryFrom<RawPaymentTerms> for PaymentTerms {
    type Error = String;

    fn try_from(raw: RawPaymentTerms) -> Result<Self, String> {
        let terms = match raw {
            RawPaymentTerms::OneTime { fee, currency } => PaymentTerms::OneTime { fee, currency },
            RawPaymentTerms::Royalty { rate } => PaymentTerms::Royalty { rate },
            RawPaymentTerms::RevShare { share } => PaymentTerms::RevShare { share },
        };
        terms.problem().map_or(Ok(terms), Err)
    }
}

impl PaymentTerms {
    const CLI_FORMS: &'static str = "one_time:FEE:CURRENCY (one_time:25.00:EUR), royalty:RATE (royalty:0.05) or rev_share:SHARE (rev_share:0.2)";

    /// Reads the CLI forms `one_time:25.00:EUR`, `royalty:0.05` and
    /// `rev_share:0.2`. The currency may be given in lower case.
    pub fn parse_cli(s: &str) -> Result<PaymentTerms, LicenseError> {
        let err = |reason: String| LicenseError::PaymentTerms {
            input: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.trim().split(':').collect();
        let fraction = |name: &str, text: &str| {
            text.trim()
                .parse::<f64>()
                .map_err(|_| err(format!("{name} {text:?} is not a number")))
        };
        let terms = match parts.as_slice() {
            ["one_time", fee, currency] => PaymentTerms::OneTime {
                fee: fee.trim().to_owned(),
                currency: currency.trim().to_ascii_uppercase(),
            },
            ["one_time", ..] => {
                return Err(err(
                    "one_time needs a fee and a currency, as in one_time:25.00:EUR".to_owned(),
                ))
            }
            ["royalty", rate] => PaymentTerms::Royalty {
                rate: fraction("rate", rate)?,
            },
            ["rev_share", share] => PaymentTerms::RevShare {
                share: fraction("share", share)?,
            },
            ["royalty" | "rev_share", ..] => {
                return Err(err(format!("expected {}", Self::CLI_FORMS)))
            }
            [kind, ..] => {
                return Err(err(format!(
                    "unknown kind {kind:?}; expected {}",
                    Self::CLI_FORMS
                )))
            }
            [] => return Err(err(format!("expected {}", Self::CLI_FORMS))),
        };
        match terms.problem() {
            Some(reason) => Err(err(reason)),
            None => Ok(terms),
        }
    }

    /// Checks values built in code the way parsing checks input.
    pub fn validate(&self) -> Result<(), LicenseError> {
        match self.problem() {
            Some(reason) => Err(LicenseError::PaymentTerms {
                input: self.to_string(),
                reason,
            }),
            None => Ok(()),
        }
    }

    fn problem(&self) -> Option<String> {
        match self {
            PaymentTerms::OneTime { fee, currency } => {
                if !is_decimal(fee) {
                    Some(format!(
                        "fee {fee:?} is not an amount like 25 or 25.00 (digits, at most 4 decimals, no sign)"
                    ))
                } else if !(currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase()))
                {
                    Some(format!(
                        "currency {currency:?} is not an ISO 4217 code of three capital letters, like EUR"
                    ))
                } else {
                    None
                }
            }
            PaymentTerms::Royalty { rate } => fraction_problem("rate", *rate),
            PaymentTerms::RevShare { share } => fraction_problem("share", *share),
        }
    }
}

fn fraction_problem(name: &str, x: f64) -> Option<String> {
    // `contains` is false for NaN, so NaN is refused too.
    (!(0.0..=1.0).contains(&x)).then(|| format!("{name} {x} is not between 0 and 1"))
}

fn is_decimal(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    digits(int) && int.len() <= 15 && frac.is_none_or(|f| digits(f) && f.len() <= 4)
}

impl PaymentTerms {
    /// The terms in words, for people and for machine-readable licenses
    /// that carry a sentence (a CAWG constraint).
    pub fn describe(&self) -> String {
        match self {
            PaymentTerms::OneTime { fee, currency } => {
                format!("a one-time fee of {fee} {currency}")
            }
            PaymentTerms::Royalty { rate } => {
                format!("a royalty of {}% of each sale", percent(*rate))
            }
            PaymentTerms::RevShare { share } => {
                format!("{}% of revenue to the creator", percent(*share))
            }
        }
    }
}

/// A fraction as a percentage, without float noise (0.07 is 7, not 7.000000000000001).
fn percent(fraction: f64) -> String {
    let text = format!("{:.4}", fraction * 100.0);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

impl fmt::Display for PaymentTerms {
    /// The CLI form, which [`PaymentTerms::parse_cli`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PaymentTerms::OneTime { fee, currency } => write!(f, "one_time:{fee}:{currency}"),
            PaymentTerms::Royalty { rate } => write!(f, "royalty:{rate}"),
            PaymentTerms::RevShare { share } => write!(f, "rev_share:{share}"),
        }
    }
}
