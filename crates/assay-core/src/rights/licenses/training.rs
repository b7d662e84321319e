//! The AI-training vocabularies a license tag is spoken in: IPTC PLUS
//! `DataMining` and the CAWG training-and-data-mining assertion.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{LicenseTag, PaymentTerms, PLUS_VOCAB};

/// The IPTC PLUS `DataMining` vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IptcDataMining {
    #[serde(rename = "DMI-UNSPECIFIED")]
    Unspecified,
    #[serde(rename = "DMI-ALLOWED")]
    Allowed,
    #[serde(rename = "DMI-PROHIBITED-AIMLTRAINING")]
    ProhibitedAiMlTraining,
    #[serde(rename = "DMI-PROHIBITED-GENAIMLTRAINING")]
    ProhibitedGenAiMlTraining,
    #[serde(rename = "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING")]
    ProhibitedExceptSearchEngineIndexing,
    #[serde(rename = "DMI-PROHIBITED")]
    Prohibited,
    #[serde(rename = "DMI-PROHIBITED-SEECONSTRAINT")]
    ProhibitedSeeConstraint,
    #[serde(rename = "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR")]
    ProhibitedSeeEmbeddedRightsExpr,
    #[serde(rename = "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR")]
    ProhibitedSeeLinkedRightsExpr,
}

impl IptcDataMining {
    pub(super) const ALL: [IptcDataMining; 9] = [
        Self::Unspecified,
        Self::Allowed,
        Self::ProhibitedAiMlTraining,
        Self::ProhibitedGenAiMlTraining,
        Self::ProhibitedExceptSearchEngineIndexing,
        Self::Prohibited,
        Self::ProhibitedSeeConstraint,
        Self::ProhibitedSeeEmbeddedRightsExpr,
        Self::ProhibitedSeeLinkedRightsExpr,
    ];

    /// The term `value` names, as XMP carries it: the term's URI or its bare code.
    pub fn parse(value: &str) -> Option<IptcDataMining> {
        let code = value.trim();
        let code = code.strip_prefix(PLUS_VOCAB).unwrap_or(code);
        Self::ALL.into_iter().find(|term| term.code() == code)
    }

    /// The term's code, e.g. `DMI-PROHIBITED-AIMLTRAINING`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Unspecified => "DMI-UNSPECIFIED",
            Self::Allowed => "DMI-ALLOWED",
            Self::ProhibitedAiMlTraining => "DMI-PROHIBITED-AIMLTRAINING",
            Self::ProhibitedGenAiMlTraining => "DMI-PROHIBITED-GENAIMLTRAINING",
            Self::ProhibitedExceptSearchEngineIndexing => {
                "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING"
            }
            Self::Prohibited => "DMI-PROHIBITED",
            Self::ProhibitedSeeConstraint => "DMI-PROHIBITED-SEECONSTRAINT",
            Self::ProhibitedSeeEmbeddedRightsExpr => "DMI-PROHIBITED-SEEEMBEDDEDRIGHTSEXPR",
            Self::ProhibitedSeeLinkedRightsExpr => "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
        }
    }

    /// The term's URI, the value XMP `plus:DataMining` carries.
    pub fn uri(self) -> String {
        format!("{PLUS_VOCAB}{}", self.code())
    }

    /// Whether the term lets a model be trained on the asset without a
    /// further agreement; `None` when it says nothing either way.
    /// Prohibiting only generative training still permits other training.
    pub(super) fn permits_ai_training(self) -> Option<bool> {
        match self {
            Self::Unspecified => None,
            Self::Allowed | Self::ProhibitedGenAiMlTraining => Some(true),
            _ => Some(false),
        }
    }
}

/// The entries of a CAWG training-and-data-mining assertion.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CawgTrainingMining {
    #[serde(rename = "cawg.ai_training")]
    pub ai_training: CawgEntry,
    #[serde(rename = "cawg.ai_generative_training")]
    pub ai_generative_training: CawgEntry,
    #[serde(rename = "cawg.ai_inference")]
    pub ai_inference: CawgEntry,
    #[serde(rename = "cawg.data_mining")]
    pub data_mining: CawgEntry,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CawgEntry {
    #[serde(rename = "use")]
    pub use_: CawgUse,
    /// Spelled as the CAWG training-and-data-mining assertion (v1.1) spells it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints_info: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CawgUse {
    Allowed,
    NotAllowed,
    Constrained,
}

impl fmt::Display for CawgUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CawgUse::Allowed => "allowed",
            CawgUse::NotAllowed => "notAllowed",
            CawgUse::Constrained => "constrained",
        })
    }
}

impl CawgTrainingMining {
    fn entries_mut(&mut self) -> [&mut CawgEntry; 4] {
        [
            &mut self.ai_training,
            &mut self.ai_generative_training,
            &mut self.ai_inference,
            &mut self.data_mining,
        ]
    }
}

impl LicenseTag {
    /// The CAWG training-and-data-mining entries an asset under this tag
    /// carries in its Content Credentials: the tag's own, except that a use
    /// the tag allows becomes `constrained` when the asset owes `payment`
    /// for it, with the license and the payment as the constraint.
    pub fn training_mining(&self, payment: Option<&PaymentTerms>) -> CawgTrainingMining {
        let mut entries = self.cawg_training_mining.clone();
        if let Some(payment) = payment {
            let info = format!("Licensed under {}: {}.", self.tag, payment.describe());
            for entry in entries.entries_mut() {
                if entry.use_ == CawgUse::Allowed {
                    *entry = CawgEntry {
                        use_: CawgUse::Constrained,
                        constraints_info: Some(info.clone()),
                    };
                }
            }
        }
        entries
    }
}
