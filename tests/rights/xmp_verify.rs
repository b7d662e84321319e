//! Sidecars checked against the library: every byte of Assay's own fields
//! flipped in turn, rights changed, a stale sidecar, a changed original and
//! files that are not Assay sidecars at all.

use std::path::{Path, PathBuf};

use assay_core::{Change, Filter, Library, Selection, XmpCheck};
use serde_json::json;

use crate::manifest::approved_world;

const ASSAY_FIELDS: [&str; 5] = [
    "AssetID",
    "Checksum",
    "ProvenanceHash",
    "LicenseTag",
    "WorkflowState",
];

fn all() -> Selection {
    Selection::Where(Filter::default())
}

/// Exports the sidecars of every asset beside the originals.
fn export(library: &Library) -> Vec<PathBuf> {
    let export = library.export_xmp(&all(), None).unwrap();
    assert_eq!((export.written.len(), export.refused.len()), (2, 0));
    export.written
}

fn assert_holds(check: &XmpCheck, checked: usize) {
    assert_eq!(check.checked, checked);
    assert!(check.failures.is_empty(), "{:#?}", check.failures);
}

/// The byte range of the text of element `name` in `text`.
fn value_range(text: &str, name: &str) -> std::ops::Range<usize> {
    let (open, close) = (format!("<{name}>"), format!("</{name}>"));
    let start = text.find(&open).unwrap_or_else(|| panic!("no {name}")) + open.len();
    start..start + text[start..].find(&close).unwrap()
}

/// Another byte of the same kind, so the sidecar stays well-formed: a hex
/// digit stays a hex digit, a letter a letter, anything else becomes `_`.
fn flip(byte: u8) -> u8 {
    match byte {
        b'0'..=b'8' | b'a'..=b'e' | b'g'..=b'y' | b'A'..=b'Y' => byte + 1,
        b'9' => b'0',
        b'f' => b'a',
        b'z' => b'g',
        b'Z' => b'A',
        b'_' => b'-',
        _ => b'_',
    }
}

/// Replaces the text of element `name` in the sidecar at `path`.
fn replace_value(path: &Path, name: &str, value: &str) {
    let mut text = std::fs::read_to_string(path).unwrap();
    let range = value_range(&text, name);
    assert_ne!(&text[range.clone()], value);
    text.replace_range(range, value);
    std::fs::write(path, text).unwrap();
}

/// Asserts that the check failed and that every failure names the sidecar
/// and `property`.
fn assert_names(check: &XmpCheck, sidecar: &Path, property: &str, context: &str) {
    assert!(!check.failures.is_empty(), "{context}: not caught");
    for failure in &check.failures {
        assert!(
            failure.starts_with(&format!("{}: ", sidecar.display())) && failure.contains(property),
            "{context}: {failure:?} does not name {} and {property}",
            sidecar.display()
        );
    }
}

#[test]
fn every_flipped_byte_of_an_assay_field_fails_naming_the_field() {
    let (w, _) = approved_world();
    let sidecars = export(&w.library);
    assert_holds(&w.library.verify_xmp(&all(), None).unwrap(), 2);
    assert_holds(&w.library.verify_xmp_files(&sidecars).unwrap(), 2);

    for sidecar in &sidecars {
        let original = std::fs::read_to_string(sidecar).unwrap();
        for field in ASSAY_FIELDS {
            let property = format!("assay:{field}");
            let range = value_range(&original, &property);
            assert!(!range.is_empty(), "{property} is empty");
            for at in range {
                let mut bytes = original.clone().into_bytes();
                bytes[at] = flip(bytes[at]);
                std::fs::write(sidecar, &bytes).unwrap();
                let context = format!("{property} byte {at} of {}", sidecar.display());
                // Found by the id the sidecar carries, and where export puts it.
                let by_file = w
                    .library
                    .verify_xmp_files(std::slice::from_ref(sidecar))
                    .unwrap();
                assert_names(&by_file, sidecar, &property, &context);
                let by_asset = w.library.verify_xmp(&all(), None).unwrap();
                assert_names(&by_asset, sidecar, &property, &context);
            }
        }
        std::fs::write(sidecar, &original).unwrap();
    }
    assert_holds(&w.library.verify_xmp(&all(), None).unwrap(), 2);
}

#[test]
fn changed_rights_and_training_terms_are_named() {
    let (w, _) = approved_world();
    let sidecar = export(&w.library).remove(0);
    let original = std::fs::read_to_string(&sidecar).unwrap();
    let rights = r#"<dc:rights><rdf:Alt><rdf:li xml:lang="x-default">"#;
    let changed = original.replacen(
        &format!("{rights}Copyright Cy<"),
        &format!("{rights}Copyright Mallory<"),
        1,
    );
    assert_ne!(changed, original);
    std::fs::write(&sidecar, &changed).unwrap();
    let check = w
        .library
        .verify_xmp_files(std::slice::from_ref(&sidecar))
        .unwrap();
    assert_names(&check, &sidecar, "dc:rights", "dc:rights");
    assert_eq!(check.failures.len(), 1, "{:#?}", check.failures);
    assert!(
        check.failures[0].contains(r#"is "Copyright Mallory" but the catalog says "Copyright Cy""#),
        "{}",
        check.failures[0]
    );

    std::fs::write(&sidecar, &original).unwrap();
    let allowed = "http://ns.useplus.org/ldf/vocab/DMI-ALLOWED";
    let prohibited = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED";
    let current = &original[value_range(&original, "plus:DataMining")];
    let other = if current == allowed {
        prohibited
    } else {
        allowed
    };
    replace_value(&sidecar, "plus:DataMining", other);
    let check = w
        .library
        .verify_xmp_files(std::slice::from_ref(&sidecar))
        .unwrap();
    assert_names(&check, &sidecar, "plus:DataMining", "plus:DataMining");
    assert_eq!(check.failures.len(), 1, "{:#?}", check.failures);
}

#[test]
fn a_sidecar_written_before_an_edit_is_stale_not_tampered() {
    let (w, sam) = approved_world();
    let sidecars = export(&w.library);
    let record = w.library.list(&Filter::default()).unwrap().remove(0);
    let edit = Change::Set {
        field: "title".into(),
        value: json!("Harbour at dusk"),
    };
    w.library
        .edit(
            &sam,
            &Selection::Assets(vec![record.asset_id.clone()]),
            &[edit],
        )
        .unwrap();
    let check = w.library.verify_xmp(&all(), None).unwrap();
    assert_eq!(check.failures.len(), 1, "{:#?}", check.failures);
    let failure = &check.failures[0];
    let sidecar = sidecars
        .iter()
        .find(|s| failure.starts_with(&format!("{}: ", s.display())))
        .unwrap_or_else(|| panic!("{failure} names no sidecar"));
    assert!(
        failure.contains("assay:ProvenanceHash is stale")
            && failure.contains("later event")
            && failure.contains("export it again")
            && failure.contains("dc:title"),
        "{failure}"
    );
    assert!(
        !failure.contains("altered") && !failure.contains("but the catalog"),
        "{failure}"
    );
    // Exported again, it holds.
    export(&w.library);
    assert_holds(
        &w.library
            .verify_xmp_files(std::slice::from_ref(sidecar))
            .unwrap(),
        1,
    );
}

#[test]
fn a_changed_original_beside_its_sidecar_is_named() {
    let (w, _) = approved_world();
    let sidecars = export(&w.library);
    let sidecar = &sidecars[0];
    let original = sidecar.with_extension("");
    let mut bytes = std::fs::read(&original).unwrap();
    bytes.push(0);
    std::fs::write(&original, bytes).unwrap();
    for check in [
        w.library.verify_xmp(&all(), None).unwrap(),
        w.library.verify_xmp_files(&sidecars).unwrap(),
    ] {
        assert_eq!(check.failures.len(), 1, "{:#?}", check.failures);
        assert!(
            check.failures[0].starts_with(&format!("{}: the file changed", original.display())),
            "{}",
            check.failures[0]
        );
    }
}

#[test]
fn missing_unreadable_and_foreign_sidecars_are_named() {
    let (w, _) = approved_world();
    let sidecars = export(&w.library);
    let (garbage, foreign) = (&sidecars[0], &sidecars[1]);
    std::fs::write(garbage, b"\xFF\xD8 not a sidecar").unwrap();
    std::fs::write(
        foreign,
        r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:format="image/jpeg"/></rdf:RDF></x:xmpmeta>"#,
    )
    .unwrap();
    let check = w.library.verify_xmp_files(&sidecars).unwrap();
    assert_eq!(check.checked, 2);
    assert_eq!(
        check.failures,
        [
            format!(
                "{}: not readable XMP: neither UTF-8 nor UTF-16 text",
                garbage.display()
            ),
            format!(
                "{}: not an Assay sidecar: nothing in https://w3id.org/assay/ns/xmp/1.0/",
                foreign.display()
            ),
        ]
    );

    std::fs::remove_file(garbage).unwrap();
    let check = w.library.verify_xmp(&all(), None).unwrap();
    assert!(
        check
            .failures
            .contains(&format!("{}: no sidecar here", garbage.display())),
        "{:#?}",
        check.failures
    );
}
