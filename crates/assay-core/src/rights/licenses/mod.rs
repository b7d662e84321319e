//! The license taxonomy as data, and payment terms.
//!
//! The shipped tags live in `schemas/license-tags.json` (described by
//! `schemas/license-tags.schema.json`) and are compiled in. A library adds
//! its own tags in a file of the same shape; it cannot redefine a shipped
//! tag, so `CC-BY-4.0` means the same thing in every library.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use time::Date;

mod payment;
mod training;
mod vocabularies;

pub use payment::PaymentTerms;
pub use training::{CawgEntry, CawgTrainingMining, CawgUse, IptcDataMining};
pub use vocabularies::{rsl_prohibited_usages, RslLicense, RslPayment, TrainingSignals, RSL_NS};

const SHIPPED: &str = include_str!("../../../../../schemas/license-tags.json");
/// The namespace of the IPTC PLUS controlled-vocabulary terms.
const PLUS_VOCAB: &str = "http://ns.useplus.org/ldf/vocab/";

#[derive(Debug, thiserror::Error)]
pub enum LicenseError {
    #[error("license tags file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("license tags file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("license tags file {path}: tag {tag:?} {reason}")]
    InvalidTag {
        path: PathBuf,
        tag: String,
        reason: String,
    },
    #[error("license tags file {path}: tag {tag} is shipped with Assay and cannot be redefined; give the custom tag another name")]
    Redefined { path: PathBuf, tag: String },
    #[error("license tags file {path}: tag {tag} is defined twice")]
    Duplicate { path: PathBuf, tag: String },
    #[error("payment terms {input:?}: {reason}")]
    PaymentTerms { input: String, reason: String },
}

impl LicenseError {
    /// A stable, machine-readable code for UIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            LicenseError::Io { .. } => "io",
            LicenseError::Parse { .. } => "license_tags_malformed",
            LicenseError::InvalidTag { .. } => "license_tag_invalid",
            LicenseError::Redefined { .. } => "license_tag_redefined",
            LicenseError::Duplicate { .. } => "license_tag_duplicate",
            LicenseError::PaymentTerms { .. } => "payment_terms_invalid",
        }
    }
}

/// One license tag and the rights it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseTag {
    pub tag: String,
    pub label: String,
    /// One plain sentence for creators.
    pub explanation: String,
    pub rights_granted: Vec<String>,
    pub restrictions: Vec<String>,
    pub attribution_required: bool,
    pub resale_allowed: bool,
    pub ai_training_allowed: bool,
    pub iptc_data_mining: IptcDataMining,
    pub cawg_training_mining: CawgTrainingMining,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_date")]
    pub effective_date: Option<Date>,
    /// The last day the tag is in force.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "iso_date")]
    pub expiry_date: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub web_statement: Option<String>,
}

impl LicenseTag {
    /// True from the day after `expiry_date`.
    pub fn is_expired(&self, today: Date) -> bool {
        self.expiry_date.is_some_and(|last| today > last)
    }

    /// Why the tag is unusable, if it is: the checks the schema cannot
    /// express, run on shipped and custom tags alike.
    fn problem(&self) -> Option<String> {
        if !is_tag_name(&self.tag) {
            return Some("is not a valid tag name (capital letters, digits, '.' and '-', starting with a letter or digit)".to_owned());
        }
        if self.label.trim().is_empty() || self.explanation.trim().is_empty() {
            return Some("needs a label and an explanation".to_owned());
        }
        let bad_token = self
            .rights_granted
            .iter()
            .chain(&self.restrictions)
            .find(|t| !is_token(t));
        if let Some(t) = bad_token {
            return Some(format!(
                "has the right or restriction {t:?}, which is not a snake_case token"
            ));
        }
        if let (Some(from), Some(to)) = (self.effective_date, self.expiry_date) {
            if to < from {
                return Some(format!("expires ({to}) before it takes effect ({from})"));
            }
        }
        if let Some(url) = &self.web_statement {
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && !url.contains(char::is_whitespace);
            if !ok {
                return Some(format!(
                    "has web_statement {url:?}, which is not an http(s) URL"
                ));
            }
        }
        let cawg = self.cawg_training_mining.ai_training.use_ == CawgUse::Allowed;
        if cawg != self.ai_training_allowed {
            return Some(format!(
                "says ai_training_allowed is {} but cawg.ai_training is {}",
                self.ai_training_allowed, self.cawg_training_mining.ai_training.use_
            ));
        }
        if self.iptc_data_mining.permits_ai_training() == Some(!self.ai_training_allowed) {
            return Some(format!(
                "says ai_training_allowed is {} but iptc_data_mining is {}",
                self.ai_training_allowed,
                self.iptc_data_mining.code()
            ));
        }
        None
    }
}

fn is_tag_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.len() <= 64
}

fn is_token(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The shape of a taxonomy file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TaxonomyFile {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    version: u32,
    tags: Vec<LicenseTag>,
}

/// The shipped tags plus a library's custom ones, in file order.
#[derive(Clone, Debug)]
pub struct Taxonomy {
    tags: Vec<LicenseTag>,
    shipped_count: usize,
}

impl Taxonomy {
    /// The tags that ship with Assay.
    pub fn shipped() -> Taxonomy {
        static SHIPPED_TAXONOMY: OnceLock<Taxonomy> = OnceLock::new();
        SHIPPED_TAXONOMY
            .get_or_init(|| {
                let tags = parse_file(Path::new("(shipped) schemas/license-tags.json"), SHIPPED);
                // Compiled-in data, not input: a test parses it on every build.
                #[allow(clippy::expect_used)]
                let tags = tags.expect("the shipped license-tags.json is valid");
                Taxonomy {
                    shipped_count: tags.len(),
                    tags,
                }
            })
            .clone()
    }

    /// The shipped tags plus the custom tags in `path`. A library without a
    /// custom file (`path` does not exist) simply has the shipped tags.
    pub fn with_custom(path: &Path) -> Result<Taxonomy, LicenseError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::shipped()),
            Err(source) => {
                return Err(LicenseError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let mut taxonomy = Self::shipped();
        for tag in parse_file(path, &text)? {
            if taxonomy.get(&tag.tag).is_some() {
                return Err(LicenseError::Redefined {
                    path: path.to_owned(),
                    tag: tag.tag,
                });
            }
            taxonomy.tags.push(tag);
        }
        Ok(taxonomy)
    }

    pub fn get(&self, tag: &str) -> Option<&LicenseTag> {
        self.tags.iter().find(|t| t.tag == tag)
    }

    /// Shipped tags first, then custom ones, each in file order.
    pub fn iter(&self) -> impl Iterator<Item = &LicenseTag> {
        self.tags.iter()
    }

    /// Whether `tag` came from the library's file rather than with Assay.
    pub fn is_custom(&self, tag: &str) -> bool {
        self.tags
            .iter()
            .position(|t| t.tag == tag)
            .is_some_and(|i| i >= self.shipped_count)
    }

    /// Whether `tag` is past its expiry date on `today`; an unknown tag is
    /// not expired (check it with [`Taxonomy::get`]).
    pub fn is_expired(&self, tag: &str, today: Date) -> bool {
        self.get(tag).is_some_and(|t| t.is_expired(today))
    }
}

fn parse_file(path: &Path, text: &str) -> Result<Vec<LicenseTag>, LicenseError> {
    let parse_err = |message: String| LicenseError::Parse {
        path: path.to_owned(),
        message,
    };
    let file: TaxonomyFile = serde_json::from_str(text).map_err(|e| parse_err(e.to_string()))?;
    if file.version != 1 {
        return Err(parse_err(format!(
            "version {} is not one this build reads (1)",
            file.version
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for tag in &file.tags {
        if let Some(reason) = tag.problem() {
            return Err(LicenseError::InvalidTag {
                path: path.to_owned(),
                tag: tag.tag.clone(),
                reason,
            });
        }
        if !seen.insert(tag.tag.as_str()) {
            return Err(LicenseError::Duplicate {
                path: path.to_owned(),
                tag: tag.tag.clone(),
            });
        }
    }
    Ok(file.tags)
}

/// Dates as `YYYY-MM-DD`.
mod iso_date {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};
    use time::format_description::BorrowedFormatItem;
    use time::macros::format_description;
    use time::Date;

    const FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => {
                let text = d.format(FORMAT).map_err(serde::ser::Error::custom)?;
                s.serialize_str(&text)
            }
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        let text = String::deserialize(d)?;
        Date::parse(&text, FORMAT)
            .map(Some)
            .map_err(|e| D::Error::custom(format!("date {text:?} is not a YYYY-MM-DD date ({e})")))
    }
}

impl crate::catalog::library::Library {
    /// The license taxonomy: the shipped tags plus the library's own
    /// `license-tags.json`, when it has one.
    pub fn taxonomy(&self) -> crate::error::Result<Taxonomy> {
        Ok(Taxonomy::with_custom(
            &self.root().join("license-tags.json"),
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use time::macros::date;

    const ALL_SHIPPED: [&str; 7] = [
        "BRAND-EXCL",
        "BRAND-NONEXCL",
        "CREATOR-NONEXCL",
        "CC-BY-4.0",
        "PAY-ONE",
        "REV-SHARE",
        "NO-TRAIN",
    ];

    fn schema_validator() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(include_str!(
            "../../../../../schemas/license-tags.schema.json"
        ))
        .unwrap();
        jsonschema::validator_for(&schema).unwrap()
    }

    fn custom_tag(tag: &str) -> Value {
        json!({
            "tag": tag,
            "label": "Agency stock",
            "explanation": "The agency may sell this asset for training until the end of 2026.",
            "rights_granted": ["use", "ai_training"],
            "restrictions": ["agency_only"],
            "attribution_required": true,
            "resale_allowed": true,
            "ai_training_allowed": true,
            "iptc_data_mining": "DMI-PROHIBITED-GENAIMLTRAINING",
            "cawg_training_mining": {
                "cawg.ai_training": {"use": "allowed"},
                "cawg.ai_generative_training": {"use": "notAllowed"},
                "cawg.ai_inference": {"use": "allowed"},
                "cawg.data_mining": {"use": "constrained", "constraints_info": "Agency clients only."}
            },
            "effective_date": "2025-01-01",
            "expiry_date": "2026-12-31",
            "web_statement": "https://agency.example/terms"
        })
    }

    fn custom_file(dir: &tempfile::TempDir, tags: Vec<Value>) -> PathBuf {
        let path = dir.path().join("license-tags.json");
        let doc = json!({"version": 1, "tags": tags});
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        path
    }

    #[test]
    fn shipped_file_matches_its_schema() {
        let validator = schema_validator();
        let doc: Value = serde_json::from_str(SHIPPED).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&doc)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }

    #[test]
    fn schema_rejects_what_the_loader_rejects() {
        let validator = schema_validator();
        for (pointer, value) in [
            ("/tags/0/tag", json!("brand-excl")),
            (
                "/tags/0/iptc_data_mining",
                json!("DMI-ALLOWEDwithRESTRICTIONS"),
            ),
            (
                "/tags/0/cawg_training_mining/cawg.ai_training/use",
                json!("maybe"),
            ),
            ("/tags/0/expiry_date", json!("31/12/2026")),
            ("/tags/0/rights_granted", json!(["Use It"])),
            ("/version", json!(2)),
        ] {
            let mut doc: Value = serde_json::from_str(SHIPPED).unwrap();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            doc.pointer_mut(parent).unwrap()[key] = value.clone();
            assert!(!validator.is_valid(&doc), "{pointer} = {value}");
            assert!(
                parse_file(Path::new("t.json"), &doc.to_string()).is_err(),
                "{pointer} = {value}"
            );
        }
        let mut doc: Value = serde_json::from_str(SHIPPED).unwrap();
        doc["tags"][0]["surprise"] = json!(1);
        assert!(!validator.is_valid(&doc));
        assert!(parse_file(Path::new("t.json"), &doc.to_string()).is_err());
        let mut doc = json!({"version": 1, "tags": [custom_tag("AGENCY-2026")]});
        assert!(validator.is_valid(&doc));
        doc["tags"][0].as_object_mut().unwrap().remove("label");
        assert!(!validator.is_valid(&doc));
    }

    #[test]
    fn shipped_taxonomy_has_every_seed_tag() {
        let t = Taxonomy::shipped();
        let names: Vec<&str> = t.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(names, ALL_SHIPPED);
        for name in ALL_SHIPPED {
            let tag = t.get(name).unwrap();
            assert!(!t.is_custom(name));
            assert!(tag.explanation.ends_with('.'), "{name}: one sentence");
            assert_eq!(
                tag.explanation.matches(". ").count(),
                0,
                "{name}: one sentence"
            );
            assert!(tag.problem().is_none());
        }
        assert!(t.get("MADE-UP").is_none());
    }

    #[test]
    fn shipped_rights_say_what_the_seed_says() {
        let t = Taxonomy::shipped();
        let no_train = t.get("NO-TRAIN").unwrap();
        assert!(!no_train.ai_training_allowed);
        assert_eq!(
            no_train.iptc_data_mining,
            IptcDataMining::ProhibitedAiMlTraining
        );
        assert_eq!(
            no_train.iptc_data_mining.uri(),
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"
        );
        for term in IptcDataMining::ALL {
            assert_eq!(IptcDataMining::parse(&term.uri()), Some(term));
            assert_eq!(IptcDataMining::parse(term.code()), Some(term));
        }
        assert_eq!(IptcDataMining::parse("DMI-MADE-UP"), None);
        let c = &no_train.cawg_training_mining;
        for entry in [&c.ai_training, &c.ai_generative_training, &c.ai_inference] {
            assert_eq!(entry.use_, CawgUse::NotAllowed);
        }
        let cc = t.get("CC-BY-4.0").unwrap();
        assert!(cc.attribution_required && cc.ai_training_allowed && cc.resale_allowed);
        assert_eq!(
            cc.web_statement.as_deref(),
            Some("https://creativecommons.org/licenses/by/4.0/")
        );
        assert!(t.get("BRAND-NONEXCL").unwrap().resale_allowed);
        assert!(!t.get("BRAND-EXCL").unwrap().resale_allowed);
        assert!(!t.get("CREATOR-NONEXCL").unwrap().ai_training_allowed);
        assert!(t.get("PAY-ONE").unwrap().ai_training_allowed);
        assert!(t
            .get("REV-SHARE")
            .unwrap()
            .restrictions
            .contains(&"revenue_share_owed".to_owned()));
    }

    #[test]
    fn tags_serialize_back_to_the_file_shape() {
        let validator = schema_validator();
        let tags: Vec<Value> = Taxonomy::shipped()
            .iter()
            .map(|t| serde_json::to_value(t).unwrap())
            .collect();
        let original: Value = serde_json::from_str(SHIPPED).unwrap();
        assert_eq!(Value::Array(tags.clone()), original["tags"]);
        assert!(validator.is_valid(&json!({"version": 1, "tags": tags})));
        let custom: LicenseTag = serde_json::from_value(custom_tag("X1")).unwrap();
        assert_eq!(serde_json::to_value(&custom).unwrap(), custom_tag("X1"));
    }

    #[test]
    fn custom_tags_are_merged_after_the_shipped_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = custom_file(&dir, vec![custom_tag("AGENCY-2026"), custom_tag("9.LOCAL")]);
        let t = Taxonomy::with_custom(&path).unwrap();
        assert_eq!(t.iter().count(), ALL_SHIPPED.len() + 2);
        assert_eq!(t.iter().last().unwrap().tag, "9.LOCAL");
        let agency = t.get("AGENCY-2026").unwrap();
        assert_eq!(agency.expiry_date, Some(date!(2026 - 12 - 31)));
        assert!(t.is_custom("AGENCY-2026"));
        assert!(!t.is_custom("CC-BY-4.0"));
        assert!(!t.is_custom("NOPE"));
    }

    #[test]
    fn missing_custom_file_means_shipped_only() {
        let dir = tempfile::tempdir().unwrap();
        let t = Taxonomy::with_custom(&dir.path().join("license-tags.json")).unwrap();
        assert_eq!(t.iter().count(), ALL_SHIPPED.len());
    }

    #[test]
    fn expiry_is_inclusive_of_the_last_day() {
        let dir = tempfile::tempdir().unwrap();
        let t = Taxonomy::with_custom(&custom_file(&dir, vec![custom_tag("AGENCY-2026")])).unwrap();
        assert!(!t.is_expired("AGENCY-2026", date!(2026 - 12 - 31)));
        assert!(t.is_expired("AGENCY-2026", date!(2027 - 01 - 01)));
        assert!(!t.is_expired("CC-BY-4.0", date!(2100 - 01 - 01)));
        assert!(!t.is_expired("UNKNOWN", date!(2100 - 01 - 01)));
    }

    #[test]
    fn custom_file_cannot_redefine_a_shipped_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = custom_file(&dir, vec![custom_tag("CC-BY-4.0")]);
        let err = Taxonomy::with_custom(&path).unwrap_err();
        assert!(
            matches!(err, LicenseError::Redefined { ref tag, .. } if tag == "CC-BY-4.0"),
            "{err:?}"
        );
        assert!(err.to_string().contains("license-tags.json"), "{err}");
    }

    #[test]
    fn bad_custom_tags_are_refused_with_the_reason() {
        let cases: Vec<(Value, &str)> = vec![
            (json!({"tag": "lower"}), "not a valid tag name"),
            (json!({"tag": "-DASH"}), "not a valid tag name"),
            (json!({"tag": "SPACE TAG"}), "not a valid tag name"),
            (json!({"label": " "}), "label"),
            (json!({"restrictions": ["Bad Token"]}), "snake_case"),
            (
                json!({"expiry_date": "2024-12-31"}),
                "before it takes effect",
            ),
            (json!({"expiry_date": "2026-02-30"}), "YYYY-MM-DD"),
            (json!({"effective_date": "tomorrow"}), "YYYY-MM-DD"),
            (json!({"web_statement": "ftp://x"}), "http(s) URL"),
            (json!({"ai_training_allowed": false}), "cawg.ai_training"),
            (
                json!({"iptc_data_mining": "DMI-PROHIBITED"}),
                "iptc_data_mining",
            ),
            (
                json!({"iptc_data_mining": "DMI-ALLOWEDwithRESTRICTIONS"}),
                "unknown variant",
            ),
            (
                json!({"cawg_training_mining": {"cawg.ai_training": {"use": "allowed"}}}),
                "missing field",
            ),
            (json!({"colour": "red"}), "unknown field"),
        ];
        for (patch, want) in cases {
            let mut tag = custom_tag("AGENCY-2026");
            for (k, v) in patch.as_object().unwrap() {
                tag[k] = v.clone();
            }
            let dir = tempfile::tempdir().unwrap();
            let err = Taxonomy::with_custom(&custom_file(&dir, vec![tag])).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(want), "{patch}: {msg}");
            assert!(msg.contains("license-tags.json"), "{patch}: {msg}");
        }
    }

    #[test]
    fn duplicate_and_malformed_custom_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = custom_file(&dir, vec![custom_tag("A1"), custom_tag("A1")]);
        assert_eq!(
            Taxonomy::with_custom(&path).unwrap_err().code(),
            "license_tag_duplicate"
        );
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(
            Taxonomy::with_custom(&path).unwrap_err().code(),
            "license_tags_malformed"
        );
        std::fs::write(&path, r#"{"version": 2, "tags": []}"#).unwrap();
        let err = Taxonomy::with_custom(&path).unwrap_err();
        assert!(err.to_string().contains("version 2"), "{err}");
        std::fs::write(&path, r#"{"version": 1, "tags": []}"#).unwrap();
        assert_eq!(
            Taxonomy::with_custom(&path).unwrap().iter().count(),
            ALL_SHIPPED.len()
        );
        let err = Taxonomy::with_custom(dir.path()).unwrap_err();
        assert_eq!(err.code(), "io", "{err}");
    }

    #[test]
    fn payment_terms_json_shapes() {
        let cases = [
            (
                json!({"kind": "one_time", "fee": "25.00", "currency": "EUR"}),
                PaymentTerms::OneTime {
                    fee: "25.00".into(),
                    currency: "EUR".into(),
                },
            ),
            (
                json!({"kind": "royalty", "rate": 0.05}),
                PaymentTerms::Royalty { rate: 0.05 },
            ),
            (
                json!({"kind": "rev_share", "share": 0.2}),
                PaymentTerms::RevShare { share: 0.2 },
            ),
        ];
        for (value, terms) in cases {
            assert_eq!(
                serde_json::from_value::<PaymentTerms>(value.clone()).unwrap(),
                terms
            );
            assert_eq!(serde_json::to_value(&terms).unwrap(), value);
        }
    }

    #[test]
    fn payment_terms_json_is_validated() {
        for (value, want) in [
            (
                json!({"kind": "rev_share", "share": 1.5}),
                "share 1.5 is not between 0 and 1",
            ),
            (
                json!({"kind": "royalty", "rate": -0.1}),
                "rate -0.1 is not between 0 and 1",
            ),
            (
                json!({"kind": "one_time", "fee": 25.0, "currency": "EUR"}),
                "invalid type",
            ),
            (
                json!({"kind": "one_time", "fee": "-5", "currency": "EUR"}),
                "fee \"-5\"",
            ),
            (
                json!({"kind": "one_time", "fee": "5", "currency": "eur"}),
                "currency \"eur\"",
            ),
            (json!({"kind": "barter"}), "unknown variant"),
            (
                json!({"kind": "rev_share", "share": 0.2, "extra": 1}),
                "unknown field",
            ),
        ] {
            let err = serde_json::from_value::<PaymentTerms>(value.clone()).unwrap_err();
            assert!(err.to_string().contains(want), "{value}: {err}");
        }
    }

    #[test]
    fn payment_terms_cli_forms() {
        for (text, terms) in [
            (
                "one_time:25.00:EUR",
                PaymentTerms::OneTime {
                    fee: "25.00".into(),
                    currency: "EUR".into(),
                },
            ),
            (
                "one_time:1200:usd",
                PaymentTerms::OneTime {
                    fee: "1200".into(),
                    currency: "USD".into(),
                },
            ),
            ("royalty:0.05", PaymentTerms::Royalty { rate: 0.05 }),
            ("rev_share:0.2", PaymentTerms::RevShare { share: 0.2 }),
            ("rev_share:0", PaymentTerms::RevShare { share: 0.0 }),
            ("rev_share:1", PaymentTerms::RevShare { share: 1.0 }),
        ] {
            let parsed = PaymentTerms::parse_cli(text).unwrap();
            assert_eq!(parsed, terms, "{text}");
            assert!(parsed.validate().is_ok());
            assert_eq!(
                PaymentTerms::parse_cli(&parsed.to_string()).unwrap(),
                parsed
            );
        }
    }

    #[test]
    fn payment_terms_cli_errors_name_the_problem() {
        for (text, want) in [
            ("rev_share:1.5", "share 1.5 is not between 0 and 1"),
            ("rev_share:-0.1", "share -0.1 is not between 0 and 1"),
            ("rev_share:NaN", "share NaN is not between 0 and 1"),
            ("rev_share:half", "share \"half\" is not a number"),
            ("royalty:2", "rate 2 is not between 0 and 1"),
            ("royalty", "expected one_time:FEE:CURRENCY"),
            ("royalty:0.1:0.2", "expected one_time:FEE:CURRENCY"),
            ("one_time:25", "needs a fee and a currency"),
            ("one_time:25,00:EUR", "fee \"25,00\""),
            ("one_time:25.12345:EUR", "at most 4 decimals"),
            ("one_time:25:EURO", "currency \"EURO\""),
            ("one_time:25:E1R", "currency \"E1R\""),
            ("barter:goats", "unknown kind \"barter\""),
            ("", "unknown kind \"\""),
        ] {
            let err = PaymentTerms::parse_cli(text).unwrap_err();
            assert_eq!(err.code(), "payment_terms_invalid");
            let msg = err.to_string();
            assert!(msg.contains(want), "{text}: {msg}");
            assert!(msg.contains(&format!("{text:?}")), "{text}: {msg}");
        }
        let built = PaymentTerms::RevShare { share: 1.5 };
        assert!(built
            .validate()
            .unwrap_err()
            .to_string()
            .contains("share 1.5 is not between 0 and 1"));
    }
}
