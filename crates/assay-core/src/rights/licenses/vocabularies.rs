//! One license tag, spoken in every machine-readable AI-training
//! vocabulary, from one mapping so they cannot disagree:
//!
//! | vocabulary | where Assay writes it |
//! |---|---|
//! | IPTC PLUS `DataMining` | XMP sidecars (`plus:DataMining`) |
//! | CAWG training-and-data-mining | Content Credentials (`cawg.training-mining`) |
//! | RSL 1.0 (`<rsl>` with `permits`/`prohibits` of usages and `payment`) | XMP sidecars (`assay:RSL`) |
//! | W3C TDMRep (`tdm-reservation`, `tdm-policy`) | the market's download and preview headers |
//! | IETF AI preferences (`Content-Usage: train-ai=…`) | the market's download and preview headers |
//!
//! The CAWG entries are the source ([`LicenseTag::training_mining`]): each
//! other vocabulary is read from them, so a tag that allows a use under
//! payment says so everywhere.

use serde::Serialize;

use super::{CawgEntry, CawgTrainingMining, CawgUse, IptcDataMining, LicenseTag, PaymentTerms};

/// RSL's namespace (RSL 1.0, `https://rslstandard.org/rsl`).
pub const RSL_NS: &str = "https://rslstandard.org/rsl";

/// What an asset under a tag says about AI training, in each vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingSignals {
    pub iptc_data_mining: IptcDataMining,
    pub cawg: CawgTrainingMining,
    pub rsl: RslLicense,
    /// TDMRep `tdm-reservation`: text and data mining needs a license
    /// (anything but every use `allowed` outright).
    pub tdm_reservation: bool,
    /// TDMRep `tdm-policy`: where the license that lifts the reservation is.
    pub tdm_policy: Option<String>,
    /// IETF AI preferences `train-ai` and `train-genai`: whether the tag
    /// permits training (under the payment owed, if any).
    pub train_ai: bool,
    pub train_genai: bool,
}

/// An RSL 1.0 `<license>`: the usages it permits and prohibits, and what
/// it costs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RslLicense {
    pub permits: Vec<&'static str>,
    pub prohibits: Vec<&'static str>,
    pub payment: RslPayment,
}

/// An RSL `<payment>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RslPayment {
    /// No payment (RSL's default).
    Free,
    /// Free with credit to the creator.
    Attribution,
    /// A one-time fee per licence.
    Purchase { amount: String, currency: String },
    /// Paid per training use: a royalty or a revenue share, which RSL's
    /// `<amount>` cannot state (the CAWG constraint and the manifest do).
    Training,
}

impl RslPayment {
    fn kind(&self) -> &'static str {
        match self {
            RslPayment::Free => "free",
            RslPayment::Attribution => "attribution",
            RslPayment::Purchase { .. } => "purchase",
            RslPayment::Training => "training",
        }
    }
}

/// Picks one entry of a CAWG assertion.
type EntryOf = fn(&CawgTrainingMining) -> &CawgEntry;

/// RSL's usage tokens, each read from the CAWG entry that means it.
const RSL_USAGES: [(&str, EntryOf); 3] = [
    ("ai-train", |c| &c.ai_training),
    ("ai-input", |c| &c.ai_inference),
    ("ai-index", |c| &c.data_mining),
];

impl LicenseTag {
    /// What an asset under this tag, owing `payment`, says in every
    /// vocabulary (see the module).
    pub fn signals(&self, payment: Option<&PaymentTerms>) -> TrainingSignals {
        // A use is permitted where the tag allows it outright; a payment
        // owed adds terms, not a refusal. A use the tag itself constrains
        // ("only with the brand's written permission") is not permitted to
        // whoever reads a signal without that permission.
        let own = &self.cawg_training_mining;
        let permitted = |pick: EntryOf| pick(own).use_ == CawgUse::Allowed;
        let (mut permits, mut prohibits) = (Vec::new(), Vec::new());
        for (usage, pick) in RSL_USAGES {
            if permitted(pick) {
                permits.push(usage);
            } else {
                prohibits.push(usage);
            }
        }
        let cawg = self.training_mining(payment);
        let payment = match payment {
            Some(PaymentTerms::OneTime { fee, currency }) => RslPayment::Purchase {
                amount: fee.clone(),
                currency: currency.clone(),
            },
            Some(PaymentTerms::Royalty { .. } | PaymentTerms::RevShare { .. }) => {
                RslPayment::Training
            }
            None if self.attribution_required => RslPayment::Attribution,
            None => RslPayment::Free,
        };
        let entries = [
            &cawg.ai_training,
            &cawg.ai_generative_training,
            &cawg.ai_inference,
            &cawg.data_mining,
        ];
        let tdm_reservation = entries.iter().any(|e| e.use_ != CawgUse::Allowed);
        TrainingSignals {
            iptc_data_mining: self.iptc_data_mining,
            train_ai: permitted(|c| &c.ai_training),
            train_genai: permitted(|c| &c.ai_generative_training),
            tdm_policy: tdm_reservation
                .then(|| self.web_statement.clone())
                .flatten(),
            tdm_reservation,
            rsl: RslLicense {
                permits,
                prohibits,
                payment,
            },
            cawg,
        }
    }
}

impl TrainingSignals {
    /// The `Content-Usage` header's value (IETF AI preferences).
    pub fn content_usage(&self) -> String {
        let yn = |b: bool| if b { "y" } else { "n" };
        format!(
            "train-ai={}, train-genai={}",
            yn(self.train_ai),
            yn(self.train_genai)
        )
    }

    /// The `tdm-reservation` header's value (TDMRep).
    pub fn tdm_reservation_header(&self) -> &'static str {
        if self.tdm_reservation {
            "1"
        } else {
            "0"
        }
    }
}

impl RslLicense {
    /// The license as an RSL 1.0 document for the asset at `url`, naming
    /// its rights holder when known.
    pub fn to_xml(&self, url: &str, copyright: Option<&str>) -> String {
        let mut out = format!("<rsl xmlns=\"{RSL_NS}\"><content url=\"{}\">", escape(url));
        if let Some(holder) = copyright {
            out.push_str(&format!(
                "<copyright type=\"organization\">{}</copyright>",
                escape(holder)
            ));
        }
        out.push_str("<license>");
        if !self.permits.is_empty() {
            out.push_str(&format!(
                "<permits type=\"usage\">{}</permits>",
                self.permits.join(",")
            ));
        }
        if !self.prohibits.is_empty() {
            out.push_str(&format!(
                "<prohibits type=\"usage\">{}</prohibits>",
                self.prohibits.join(",")
            ));
        }
        match &self.payment {
            RslPayment::Purchase { amount, currency } => out.push_str(&format!(
                "<payment type=\"purchase\"><amount currency=\"{}\">{}</amount></payment>",
                escape(currency),
                escape(amount)
            )),
            other => out.push_str(&format!("<payment type=\"{}\"/>", other.kind())),
        }
        out.push_str("</license></content></rsl>");
        out
    }
}

/// The usages an RSL document prohibits, read back (by a reader that
/// knows only the element names): what import compares with the tag.
pub fn rsl_prohibited_usages(xml: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find("<prohibits") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let usage = rest[..open_end].contains("type=\"usage\"");
        rest = &rest[open_end + 1..];
        let Some(close) = rest.find("</prohibits>") else {
            break;
        };
        if usage {
            found.extend(
                rest[..close]
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
            );
        }
        rest = &rest[close..];
    }
    found
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rights::licenses::Taxonomy;

    fn one_time() -> PaymentTerms {
        PaymentTerms::OneTime {
            fee: "50.00".into(),
            currency: "EUR".into(),
        }
    }

    /// Every shipped tag, with and without a payment owed: what each
    /// vocabulary says, as a table, and that they agree with one another.
    #[test]
    fn every_tag_says_the_same_in_every_vocabulary() {
        let taxonomy = Taxonomy::shipped();
        // tag, payment, cawg ai_training, RSL prohibits ai-train,
        // tdm-reservation, Content-Usage
        let expected: &[(&str, bool, CawgUse, bool, bool, &str)] = &[
            (
                "BRAND-EXCL",
                false,
                CawgUse::Constrained,
                true,
                true,
                "train-ai=n, train-genai=n",
            ),
            (
                "BRAND-NONEXCL",
                false,
                CawgUse::Allowed,
                false,
                false,
                "train-ai=y, train-genai=y",
            ),
            (
                "BRAND-NONEXCL",
                true,
                CawgUse::Constrained,
                false,
                true,
                "train-ai=y, train-genai=y",
            ),
            (
                "CREATOR-NONEXCL",
                false,
                CawgUse::NotAllowed,
                true,
                true,
                "train-ai=n, train-genai=n",
            ),
            (
                "CC-BY-4.0",
                false,
                CawgUse::Allowed,
                false,
                false,
                "train-ai=y, train-genai=y",
            ),
            (
                "PAY-ONE",
                true,
                CawgUse::Constrained,
                false,
                true,
                "train-ai=y, train-genai=y",
            ),
            (
                "REV-SHARE",
                true,
                CawgUse::Constrained,
                false,
                true,
                "train-ai=y, train-genai=y",
            ),
            (
                "NO-TRAIN",
                false,
                CawgUse::NotAllowed,
                true,
                true,
                "train-ai=n, train-genai=n",
            ),
            (
                "NO-TRAIN",
                true,
                CawgUse::NotAllowed,
                true,
                true,
                "train-ai=n, train-genai=n",
            ),
        ];
        for &(tag, paid, cawg, rsl_prohibits, reserved, usage) in expected {
            let license = taxonomy.get(tag).unwrap_or_else(|| panic!("{tag} shipped"));
            let payment = paid.then(one_time);
            let s = license.signals(payment.as_ref());
            let row = format!("{tag} (paid: {paid})");
            assert_eq!(s.cawg.ai_training.use_, cawg, "{row}");
            assert_eq!(
                s.rsl.prohibits.contains(&"ai-train"),
                rsl_prohibits,
                "{row}"
            );
            assert_eq!(s.tdm_reservation, reserved, "{row}");
            assert_eq!(s.content_usage(), usage, "{row}");
            // The vocabularies agree with one another and with the tag.
            assert_eq!(s.train_ai, license.ai_training_allowed, "{row}");
            assert_eq!(s.train_ai, !s.rsl.prohibits.contains(&"ai-train"), "{row}");
            if let Some(permits) = license.iptc_data_mining.permits_ai_training() {
                assert_eq!(permits, license.ai_training_allowed, "{row}");
            }
            let xml = s.rsl.to_xml("urn:assay:asset", Some("Studio & Co"));
            assert_eq!(
                rsl_prohibited_usages(&xml),
                s.rsl
                    .prohibits
                    .iter()
                    .map(|u| u.to_string())
                    .collect::<Vec<_>>(),
                "{row}: {xml}"
            );
            if tag == "NO-TRAIN" {
                for entry in [
                    &s.cawg.ai_training,
                    &s.cawg.ai_generative_training,
                    &s.cawg.ai_inference,
                    &s.cawg.data_mining,
                ] {
                    assert_eq!(entry.use_, CawgUse::NotAllowed, "{row}: every entry");
                }
            }
            if paid && license.ai_training_allowed {
                assert_eq!(
                    s.cawg.ai_training.constraints_info.as_deref(),
                    Some(format!("Licensed under {tag}: a one-time fee of 50.00 EUR.").as_str()),
                    "{row}"
                );
                assert!(xml.contains("<payment type=\"purchase\"><amount currency=\"EUR\">50.00</amount></payment>"), "{xml}");
            }
        }
        // Every shipped tag is in the table.
        for tag in taxonomy.iter() {
            assert!(
                expected.iter().any(|row| row.0 == tag.tag),
                "{} has no row",
                tag.tag
            );
        }
    }
}
