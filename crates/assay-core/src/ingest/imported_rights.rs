//! The rights a file arrives with, read at import so that a library tagged
//! in another tool is not tagged again by hand. Three sources, in order of
//! precedence: an XMP sidecar beside the file (where DAMs write their
//! edits), the XMP packet inside the file, and its IPTC IIM block (the
//! oldest form). Each field takes the value of the first source that has
//! one:
//!
//! - title: dc:title; IIM 2:05 Object Name.
//! - creator_name: dc:creator, entries joined by "; "; IIM 2:80 By-line, the same.
//! - rights_holder: plus:LicensorName, else whom dc:rights (or
//!   Iptc4xmpCore:CopyrightNotice) names; whom IIM 2:116 Copyright Notice names.
//! - license_terms: xmpRights:UsageTerms.
//! - license_tag: assay:LicenseTag, else NO-TRAIN when plus:DataMining rules
//!   out AI training.
//!
//! AI training is refused by whichever signal refuses it: the strictest
//! wins. A file whose plus:DataMining, RSL license (assay:RSL, prohibiting
//! `ai-train`) or Content Credentials (`cawg.training-mining`) refuse
//! training is imported as NO-TRAIN even when a license tag that allows
//! training is stated too; the import event records which signal decided
//! and the tag it overrode, and the asset gets a warning saying so.
//!
//! A copyright notice ("© 2021 Jane Doe. All rights reserved.") says who
//! holds the rights; it is no summary of license terms, which is what
//! xmpRights:UsageTerms carries. So it fills rights_holder, without its
//! formula, and only when it names someone other than the creators: an empty
//! rights_holder already means the creator holds the rights (and Assay's own
//! sidecars write "Copyright CREATOR" then). The notice as written goes into
//! the import event. IIM 2:40 Special Instructions is not read: IPTC meant
//! it for instructions *not* covered by the usage terms (embargoes, notes).
//!
//! Each value must pass the rights schema on its own; one that does not is
//! dropped with a warning saying where it was read, and so is a sidecar that
//! cannot be parsed. Nothing here fails an import.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::formats::embedded::Embedded;
use crate::formats::iim::{self, Iim};
use crate::formats::xmp::{self, Packet, XmpError, ASSAY_NS, DC, IPTC_CORE, PLUS, XMP_RIGHTS};
use crate::rights::licenses::{rsl_prohibited_usages, IptcDataMining, Taxonomy};
use crate::rights::metadata;
use assay_credentials::ContentCredentials;

/// No rights packet is this large; a bigger `.xmp` is not read.
const MAX_SIDECAR: u64 = 16 << 20;
/// The tag a data-mining term that rules out AI training maps to.
const NO_TRAIN: &str = "NO-TRAIN";

/// What import takes from a file's rights metadata.
#[derive(Debug, Default)]
pub struct Imported {
    /// Fields for the first rights document, each valid on its own.
    pub fields: Map<String, Value>,
    /// Where each value came from, for the import event; `None` when the
    /// file had nothing to say.
    pub provenance: Option<Value>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
enum SidecarError {
    #[error("larger than {} MiB", MAX_SIDECAR >> 20)]
    TooLarge,
    #[error("{}", assay_fsio::describe_io(.0))]
    Io(std::io::Error),
    #[error(transparent)]
    Xmp(#[from] XmpError),
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Sidecar,
    Xmp,
    Iim,
    Credentials,
}

impl Source {
    fn key(self) -> &'static str {
        match self {
            Source::Sidecar => "sidecar",
            Source::Xmp => "embedded_xmp",
            Source::Iim => "iptc_iim",
            Source::Credentials => "content_credentials",
        }
    }
}

/// A value as a source states it, and the property it was read from.
struct Stated {
    text: String,
    property: &'static str,
}

/// What one source says.
#[derive(Default)]
struct Said {
    title: Option<Stated>,
    creator: Option<Stated>,
    /// A rights holder by name.
    licensor: Option<Stated>,
    /// A copyright notice: the holder's name among other words.
    notice: Option<Stated>,
    usage_terms: Option<Stated>,
    license_tag: Option<Stated>,
    data_mining: Option<Stated>,
    /// An RSL 1.0 license, as text.
    rsl: Option<Stated>,
    /// Training refused outright (Content Credentials' training-mining
    /// entries).
    training_refused: Option<Stated>,
}

impl Said {
    /// The signal of this source that refuses AI training, if one does.
    fn refusal(&self) -> Option<&Stated> {
        let data_mining = self
            .data_mining
            .as_ref()
            .filter(|d| rules_out_training(&d.text));
        let rsl = || {
            self.rsl.as_ref().filter(|r| {
                rsl_prohibited_usages(&r.text)
                    .iter()
                    .any(|u| u == "ai-train" || u == "ai-all" || u == "all")
            })
        };
        self.training_refused.as_ref().or(data_mining).or_else(rsl)
    }
}

/// Reads the sidecar of `path`, if it has one, and weighs it with what the
/// file carries inside it (`embedded`, and the Content Credentials read
/// from it).
pub fn gather(
    path: &Path,
    embedded: &Embedded,
    credentials: Option<&ContentCredentials>,
    taxonomy: &Taxonomy,
) -> Imported {
    let mut warnings = Vec::new();
    let mut sources = Vec::new();
    // How warnings name the sidecar, and the one that was read.
    let (mut label, mut sidecar_read) = (String::new(), None);
    if let Some((sidecar, size)) = sidecar_of(path) {
        let name = sidecar.file_name().unwrap_or(sidecar.as_os_str());
        label = format!("sidecar {}", name.to_string_lossy());
        match read_sidecar(&sidecar, size) {
            Ok(said) => {
                sources.push((Source::Sidecar, said));
                sidecar_read = Some(sidecar);
            }
            Err(e) => warnings.push(format!("{label}: not read: {e}")),
        }
    }
    if let Some(packet) = &embedded.xmp {
        sources.push((Source::Xmp, from_xmp(packet)));
    }
    if let Some(iim) = &embedded.iim {
        sources.push((Source::Iim, from_iim(iim)));
    }
    if let Some(refusing) = credentials.filter(|c| c.forbids_training()) {
        let entries: Vec<String> = refusing
            .training_mining
            .iter()
            .map(|t| format!("{}={}", t.entry, t.permission))
            .collect();
        sources.push((
            Source::Credentials,
            Said {
                training_refused: stated(Some(&entries.join(", ")), "cawg.training-mining"),
                ..Said::default()
            },
        ));
    }
    let first = |pick: fn(&Said) -> Option<&Stated>| {
        sources
            .iter()
            .find_map(|(source, said)| pick(said).map(|s| (*source, s)))
    };

    let mut taker = Taker {
        taxonomy,
        sidecar: &label,
        fields: Map::new(),
        provenance: Map::new(),
        warnings,
    };
    if let Some((source, title)) = first(|s| s.title.as_ref()) {
        taker.take("title", source, title, title.text.clone());
    }
    let creator = first(|s| s.creator.as_ref());
    if let Some((source, creator)) = creator {
        taker.take("creator_name", source, creator, creator.text.clone());
    }
    // The first source that speaks of the holder decides, even when its
    // notice names nobody ("All rights reserved.").
    let holder = sources
        .iter()
        .find_map(|(source, said)| match &said.licensor {
            Some(licensor) => Some((*source, licensor, Some(licensor.text.clone()))),
            None => said
                .notice
                .as_ref()
                .map(|notice| (*source, notice, holder_in(&notice.text))),
        });
    if let Some((source, stated, Some(holder))) = holder {
        let holder_lower = holder.to_lowercase();
        let is_creator = creator.is_some_and(|(_, c)| {
            let creators = c.text.to_lowercase();
            creators == holder_lower || creators.split("; ").any(|name| name == holder_lower)
        });
        if !is_creator {
            taker.take("rights_holder", source, stated, holder);
        }
    }
    let stated_tag = sources
        .iter()
        .find_map(|(source, said)| match &said.license_tag {
            Some(tag) => Some((*source, tag, tag.text.clone())),
            None => said.refusal().map(|d| (*source, d, NO_TRAIN.to_owned())),
        });
    // The strictest signal wins: a refusal anywhere overrides a stated tag
    // that allows training.
    let refusal = sources
        .iter()
        .find_map(|(source, said)| said.refusal().map(|r| (*source, r)));
    let allows_training = |tag: &str| taxonomy.get(tag).is_some_and(|l| l.ai_training_allowed);
    let tag = match (stated_tag, refusal) {
        (Some((tag_source, tag_stated, tag)), Some((source, refused))) if allows_training(&tag) => {
            taker.warnings.push(format!(
                "license tag {tag} ({} {}) allows AI training, but {} {} refuses it ({}); imported as {NO_TRAIN}",
                label_of(tag_source, &label),
                tag_stated.property,
                label_of(source, &label),
                refused.property,
                refused.text
            ));
            taker
                .take("license_tag", source, refused, NO_TRAIN.to_owned())
                .then(|| {
                    if let Some(entry) = taker.provenance.get_mut("license_tag") {
                        entry["overrode"] = json!({"value": tag, "source": tag_source.key(), "property": tag_stated.property});
                    }
                    NO_TRAIN.to_owned()
                })
        }
        (Some((source, stated, tag)), _) => taker
            .take("license_tag", source, stated, tag.clone())
            .then_some(tag),
        (None, _) => None,
    };
    if let Some((source, terms)) = first(|s| s.usage_terms.as_ref()) {
        // Assay's sidecars state the tag's explanation as usage terms; that
        // is the tag again, not terms of their own.
        let from_tag = tag
            .and_then(|t| taxonomy.get(&t))
            .is_some_and(|l| terms.text == format!("{}: {}", l.tag, l.explanation));
        if !from_tag {
            taker.take("license_terms", source, terms, terms.text.clone());
        }
    }

    let mut provenance = Map::new();
    if let Some(sidecar) = sidecar_read {
        provenance.insert("sidecar".into(), json!(sidecar.to_string_lossy()));
    }
    if !taker.provenance.is_empty() {
        provenance.insert("fields".into(), Value::Object(taker.provenance));
    }
    if let Some((source, data_mining)) = first(|s| s.data_mining.as_ref()) {
        provenance.insert(
            "data_mining".into(),
            json!({"value": data_mining.text, "source": source.key()}),
        );
    }
    Imported {
        fields: taker.fields,
        provenance: (!provenance.is_empty()).then_some(Value::Object(provenance)),
        warnings: taker.warnings,
    }
}

/// Collects the values that pass the rights schema, and why others did not.
struct Taker<'a> {
    taxonomy: &'a Taxonomy,
    /// How warnings name the sidecar: `sidecar NAME.EXT.xmp`.
    sidecar: &'a str,
    fields: Map<String, Value>,
    provenance: Map<String, Value>,
    warnings: Vec<String>,
}

impl Taker<'_> {
    /// Takes `value` for `field` if it is valid; `stated` is what was read,
    /// kept beside the value when the two differ.
    fn take(&mut self, field: &str, source: Source, stated: &Stated, value: String) -> bool {
        let value = Value::String(value);
        let name = format!("{} ({field})", stated.property);
        if let Err(reason) = metadata::check_field(field, &value, &name, self.taxonomy) {
            self.warnings.push(format!(
                "{}: {reason}; not imported",
                label_of(source, self.sidecar)
            ));
            return false;
        }
        let mut entry =
            json!({"value": value, "source": source.key(), "property": stated.property});
        if value.as_str() != Some(stated.text.as_str()) {
            entry["read"] = json!(stated.text);
        }
        self.provenance.insert(field.to_owned(), entry);
        self.fields.insert(field.to_owned(), value);
        true
    }
}

/// How warnings name a source; `sidecar` names the sidecar read.
fn label_of(source: Source, sidecar: &str) -> &str {
    match source {
        Source::Sidecar => sidecar,
        Source::Xmp => "embedded XMP",
        Source::Iim => "IPTC IIM",
        Source::Credentials => "the Content Credentials",
    }
}

/// The sidecar of `path` and its size: `NAME.EXT.xmp` as Assay, darktable
/// and digiKam write it, else `NAME.xmp` as Lightroom, Bridge and Capture
/// One do (a raw and its JPEG then share one). One stat per name tried.
fn sidecar_of(path: &Path) -> Option<(PathBuf, u64)> {
    let mut name = path.file_name()?.to_owned();
    name.push(".xmp");
    [path.with_file_name(name), path.with_extension("xmp")]
        .into_iter()
        .find_map(|candidate| {
            let meta = std::fs::metadata(&candidate).ok()?;
            meta.is_file().then_some((candidate, meta.len()))
        })
}

fn read_sidecar(path: &Path, size: u64) -> Result<Said, SidecarError> {
    if size > MAX_SIDECAR {
        return Err(SidecarError::TooLarge);
    }
    let bytes = std::fs::read(path).map_err(SidecarError::Io)?;
    Ok(from_xmp(&xmp::parse(&bytes)?))
}

fn from_xmp(packet: &Packet) -> Said {
    let text = |path: &[(&str, &str)], property| stated(packet.text(path), property);
    Said {
        title: text(&[(DC, "title")], "dc:title"),
        creator: stated(
            joined(packet.items(&[(DC, "creator")])).as_deref(),
            "dc:creator",
        ),
        licensor: text(
            &[(PLUS, "Licensor"), (PLUS, "LicensorName")],
            "plus:LicensorName",
        ),
        notice: text(&[(DC, "rights")], "dc:rights").or_else(|| {
            text(
                &[(IPTC_CORE, "CopyrightNotice")],
                "Iptc4xmpCore:CopyrightNotice",
            )
        }),
        usage_terms: text(&[(XMP_RIGHTS, "UsageTerms")], "xmpRights:UsageTerms"),
        license_tag: text(&[(ASSAY_NS, "LicenseTag")], "assay:LicenseTag"),
        data_mining: text(&[(PLUS, "DataMining")], "plus:DataMining"),
        rsl: text(&[(ASSAY_NS, "RSL")], "assay:RSL"),
        training_refused: None,
    }
}

fn from_iim(block: &Iim) -> Said {
    Said {
        title: stated(block.first(iim::OBJECT_NAME).as_deref(), "2:05 Object Name"),
        creator: stated(joined(block.all(iim::BY_LINE)).as_deref(), "2:80 By-line"),
        notice: stated(
            block.first(iim::COPYRIGHT_NOTICE).as_deref(),
            "2:116 Copyright Notice",
        ),
        ..Said::default()
    }
}

/// A value worth taking: not blank.
fn stated(text: Option<&str>, property: &'static str) -> Option<Stated> {
    let text = text?.trim();
    (!text.is_empty()).then(|| Stated {
        text: text.to_owned(),
        property,
    })
}

/// Several creators as one name list, as exiftool and MWG join them.
fn joined<S: AsRef<str>>(items: Vec<S>) -> Option<String> {
    let items: Vec<&str> = items
        .iter()
        .map(|s| s.as_ref().trim())
        .filter(|s| !s.is_empty())
        .collect();
    (!items.is_empty()).then(|| items.join("; "))
}

/// Whether a PLUS data-mining term rules out AI training beyond doubt. The
/// stricter reading is taken: forbidding generative training maps to
/// NO-TRAIN as well. Prohibitions that defer to a constraint or a rights
/// expression elsewhere may allow training there, and an allowance does not
/// say under which license, so those pick no tag.
fn rules_out_training(value: &str) -> bool {
    use IptcDataMining::*;
    matches!(
        IptcDataMining::parse(value),
        Some(
            Prohibited
                | ProhibitedAiMlTraining
                | ProhibitedGenAiMlTraining
                | ProhibitedExceptSearchEngineIndexing
        )
    )
}

/// Whom a copyright notice names: "© 2019-2023 Jane Doe. All rights
/// reserved." gives "Jane Doe"; "All rights reserved." gives no one.
fn holder_in(notice: &str) -> Option<String> {
    let mut rest = notice.trim();
    let mut marked = false;
    loop {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let word = rest[..end].trim_end_matches([',', ':', '.']).to_lowercase();
        let year = word.trim_start_matches('©');
        let is_year = year.len() >= 4
            && year.starts_with(|c: char| c.is_ascii_digit())
            && year
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '-' | '–' | ','));
        let formula = matches!(word.as_str(), "copyright" | "©" | "(c)" | "copr")
            || (marked && word == "by")
            || is_year;
        if word.is_empty() || !formula {
            break;
        }
        marked = true;
        rest = rest[end..].trim_start();
    }
    const RESERVED: &str = "all rights reserved";
    let punctuation = |c: char| matches!(c, '.' | ',' | ';' | '-') || c.is_whitespace();
    let mut name = rest.trim_end_matches(punctuation);
    if let Some(cut) = name.len().checked_sub(RESERVED.len()) {
        if name
            .get(cut..)
            .is_some_and(|end| end.eq_ignore_ascii_case(RESERVED))
        {
            name = name[..cut].trim_end_matches(punctuation);
        }
    }
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_their_holder() {
        let cases = [
            ("Copyright 2004 Phil Harvey", Some("Phil Harvey")),
            (
                "© 2019-2023 Jane Doe. All rights reserved.",
                Some("Jane Doe"),
            ),
            ("©2021, ACME Ltd, all rights reserved", Some("ACME Ltd")),
            ("(C) by Caplio RR1 User", Some("Caplio RR1 User")),
            ("Copyright Cy Tw & Co", Some("Cy Tw & Co")),
            ("Bob Byers", Some("Bob Byers")),
            ("by Bob", Some("by Bob")),
            (
                "Laitche (This file is in the public domain.)",
                Some("Laitche (This file is in the public domain.)"),
            ),
            ("All rights reserved.", None),
            ("Copyright", None),
            ("  ", None),
        ];
        for (notice, holder) in cases {
            assert_eq!(holder_in(notice).as_deref(), holder, "{notice:?}");
        }
    }

    #[test]
    fn only_outright_prohibitions_pick_no_train() {
        for term in [
            "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING",
            "DMI-PROHIBITED-GENAIMLTRAINING",
            "DMI-PROHIBITED",
            "DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING",
        ] {
            assert!(rules_out_training(term), "{term}");
        }
        for term in [
            "DMI-ALLOWED",
            "DMI-UNSPECIFIED",
            "DMI-PROHIBITED-SEECONSTRAINT",
            "DMI-PROHIBITED-SEELINKEDRIGHTSEXPR",
            "no",
        ] {
            assert!(!rules_out_training(term), "{term}");
        }
    }
}
