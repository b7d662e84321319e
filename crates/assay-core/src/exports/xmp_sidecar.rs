//! XMP sidecars: an asset's rights, license and AI-training flag in the form
//! Lightroom, digiKam and exiftool read, written as `NAME.EXT.xmp` beside
//! the original (or into a chosen folder). The original is never opened
//! for writing, and a sidecar another tool wrote is never overwritten.

use std::path::{Path, PathBuf};

use assay_fsio::atomic;
use serde::Serialize;
use serde_json::Value;

use crate::catalog::library::Library;
use crate::catalog::record::{AssetRecord, LocationStatus};
use crate::error::{Error, Result};
use crate::formats::xmp::{ASSAY_NS, DC, IPTC_CORE, PLUS, XMP_RIGHTS};
use crate::job::Job;
use crate::rights::edit::Selection;
use crate::rights::licenses::{IptcDataMining, PaymentTerms, Taxonomy};

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct XmpExport {
    pub written: Vec<PathBuf>,
    pub refused: Vec<crate::exports::manifest::RefusedAsset>,
    /// Stopped before every asset had its sidecar; the ones in `written`
    /// are complete (each is written whole, then renamed into place).
    pub cancelled: bool,
}

impl Library {
    /// Writes a sidecar for each asset of `selection`: beside its first
    /// present location, or into `out_dir`. No acting user is needed: a
    /// sidecar restates what the catalog holds with its hashes, signs
    /// nothing and records no event, so the CLI and the app both write
    /// them for whoever has the library open.
    pub fn export_xmp(&self, selection: &Selection, out_dir: Option<&Path>) -> Result<XmpExport> {
        self.export_xmp_with(selection, out_dir, &mut Job::quiet())
    }

    /// [`Library::export_xmp`] as a job: it reports each asset and, when
    /// cancelled, stops between two sidecars.
    pub fn export_xmp_with(
        &self,
        selection: &Selection,
        out_dir: Option<&Path>,
        job: &mut Job,
    ) -> Result<XmpExport> {
        let taxonomy = self.taxonomy()?;
        let mut export = XmpExport {
            written: Vec::new(),
            refused: Vec::new(),
            cancelled: false,
        };
        let records = self.selected(selection)?;
        for (done, record) in records.iter().enumerate() {
            if job.step(done, records.len()).is_err() {
                export.cancelled = true;
                break;
            }
            let refuse = |reason: String| crate::exports::manifest::RefusedAsset {
                asset_id: record.asset_id.clone(),
                reason,
            };
            let path = match sidecar_path(record, out_dir) {
                Ok(path) => path,
                Err(reason) => {
                    export.refused.push(refuse(reason));
                    continue;
                }
            };
            match std::fs::read_to_string(&path) {
                Ok(existing) if !existing.contains(ASSAY_NS) => {
                    export.refused.push(refuse(format!(
                        "{}: another tool's sidecar is there; write elsewhere with --out DIR",
                        path.display()
                    )));
                    continue;
                }
                _ => {}
            }
            atomic::write(&path, sidecar(record, &taxonomy).as_bytes())
                .map_err(|e| Error::io(&path, e))?;
            export.written.push(path);
        }
        Ok(export)
    }

    /// The records of `selection`, in its order.
    pub(crate) fn selected(&self, selection: &Selection) -> Result<Vec<AssetRecord>> {
        match selection {
            Selection::Assets(keys) => keys.iter().map(|k| self.record(k)).collect(),
            Selection::Where(filter) => self.list(filter),
        }
    }
}

/// Where the sidecar of `record` belongs: `NAME.EXT.xmp` beside its first
/// present location, or in `dir`. The error says why there is no place.
pub(crate) fn sidecar_path(record: &AssetRecord, dir: Option<&Path>) -> Result<PathBuf, String> {
    let original = record
        .locations
        .iter()
        .find(|l| l.status == LocationStatus::Present)
        .map(|l| PathBuf::from(&l.path))
        .ok_or("no present location to name the sidecar after")?;
    let name = original
        .file_name()
        .ok_or_else(|| format!("{}: no file name", original.display()))?;
    let mut sidecar_name = name.to_owned();
    sidecar_name.push(".xmp");
    let dir = match dir {
        Some(dir) => dir,
        None => original.parent().unwrap_or(Path::new("")),
    };
    Ok(dir.join(sidecar_name))
}

/// Every property `sidecar` may write: its name in the packet, and its
/// path as `xmp_read` looks it up. Verification compares exactly these.
pub(crate) const PROPERTIES: &[(&str, &[(&str, &str)])] = &[
    ("dc:title", &[(DC, "title")]),
    ("dc:rights", &[(DC, "rights")]),
    ("dc:creator", &[(DC, "creator")]),
    ("xmpRights:UsageTerms", &[(XMP_RIGHTS, "UsageTerms")]),
    ("xmpRights:WebStatement", &[(XMP_RIGHTS, "WebStatement")]),
    (
        "Iptc4xmpCore:CopyrightNotice",
        &[(IPTC_CORE, "CopyrightNotice")],
    ),
    ("plus:DataMining", &[(PLUS, "DataMining")]),
    (
        "plus:Licensor/plus:LicensorName",
        &[(PLUS, "Licensor"), (PLUS, "LicensorName")],
    ),
    ("assay:AssetID", ASSET_ID),
    ("assay:Checksum", CHECKSUM),
    ("assay:ProvenanceHash", PROVENANCE_HASH),
    ("assay:LicenseTag", &[(ASSAY_NS, "LicenseTag")]),
    ("assay:WorkflowState", &[(ASSAY_NS, "WorkflowState")]),
    ("assay:RSL", &[(ASSAY_NS, "RSL")]),
];
pub(crate) const ASSET_ID: &[(&str, &str)] = &[(ASSAY_NS, "AssetID")];
pub(crate) const CHECKSUM: &[(&str, &str)] = &[(ASSAY_NS, "Checksum")];
pub(crate) const PROVENANCE_HASH: &[(&str, &str)] = &[(ASSAY_NS, "ProvenanceHash")];

/// The sidecar of one asset: an XMP packet with one `rdf:Description`.
pub(crate) fn sidecar(record: &AssetRecord, taxonomy: &Taxonomy) -> String {
    let text = |field: &str| record.rights.get(field).and_then(Value::as_str);
    let tag = text("license_tag");
    let license = tag.and_then(|t| taxonomy.get(t));
    let holder = text("rights_holder").or(text("creator_name"));
    let data_mining = license.map_or(IptcDataMining::Unspecified, |l| l.iptc_data_mining);
    let mut body = String::new();
    let mut alt = |name: &str, value: &str| {
        body.push_str(&format!(
            "   <{name}><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></{name}>\n",
            escape(value)
        ));
    };
    if let Some(title) = record.title.as_deref().or(text("title")) {
        alt("dc:title", title);
    }
    let notice = holder.map(|h| format!("Copyright {h}"));
    if let Some(notice) = &notice {
        alt("dc:rights", notice);
    }
    if let Some(l) = license {
        alt(
            "xmpRights:UsageTerms",
            &format!("{}: {}", l.tag, l.explanation),
        );
    }
    let mut simple = |name: &str, value: &str| {
        body.push_str(&format!("   <{name}>{}</{name}>\n", escape(value)));
    };
    if let Some(notice) = &notice {
        simple("Iptc4xmpCore:CopyrightNotice", notice);
    }
    if let Some(web) = license.and_then(|l| l.web_statement.as_deref()) {
        simple("xmpRights:WebStatement", web);
    }
    simple("plus:DataMining", &data_mining.uri());
    simple("assay:AssetID", &record.asset_id);
    simple("assay:Checksum", &record.checksum);
    if let Some(hash) = &record.workflow.provenance_hash {
        simple("assay:ProvenanceHash", hash);
    }
    if let Some(tag) = tag {
        simple("assay:LicenseTag", tag);
    }
    simple("assay:WorkflowState", &record.workflow.workflow_state);
    // The tag as an RSL 1.0 license (the document, as text): RSL defines no
    // XMP property of its own.
    if let Some(l) = license {
        let payment: Option<PaymentTerms> = record
            .rights
            .get("payment_terms")
            .and_then(|terms| serde_json::from_value(terms.clone()).ok());
        let file_name = original_name(record);
        let rsl = l.signals(payment.as_ref()).rsl.to_xml(&file_name, holder);
        simple("assay:RSL", &rsl);
    }
    if let Some(creator) = text("creator_name") {
        body.push_str(&format!(
            "   <dc:creator><rdf:Seq><rdf:li>{}</rdf:li></rdf:Seq></dc:creator>\n",
            escape(creator)
        ));
    }
    if let Some(holder) = holder {
        body.push_str(&format!(
            "   <plus:Licensor><rdf:Seq><rdf:li rdf:parseType=\"Resource\"><plus:LicensorName>{}</plus:LicensorName></rdf:li></rdf:Seq></plus:Licensor>\n",
            escape(holder)
        ));
    }
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">
 <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">
  <rdf:Description rdf:about=\"\"
    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"
    xmlns:xmpRights=\"http://ns.adobe.com/xap/1.0/rights/\"
    xmlns:plus=\"http://ns.useplus.org/ldf/xmp/1.0/\"
    xmlns:Iptc4xmpCore=\"http://iptc.org/std/Iptc4xmpCore/1.0/xmlns/\"
    xmlns:assay=\"{ASSAY_NS}\">
{body}  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end=\"w\"?>
"
    )
}

/// The asset's file name, which the RSL license names as its content.
fn original_name(record: &AssetRecord) -> String {
    record
        .locations
        .first()
        .and_then(|l| Path::new(&l.path).file_name())
        .map_or_else(
            || record.asset_id.clone(),
            |n| n.to_string_lossy().into_owned(),
        )
}

/// Escapes text for an XML element's content or an attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no form for other control characters; drop them.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_is_escaped_for_xml() {
        assert_eq!(
            super::escape("Tom & \"Jerry\" <b>'s\u{1}"),
            "Tom &amp; &quot;Jerry&quot; &lt;b&gt;&apos;s"
        );
    }
}
