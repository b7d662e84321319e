use std::collections::BTreeSet;

use assay_core::FileStatus;
use serde_json::Value;

use crate::{corpus, imported};

/// Where Assay and exiftool 12.57 disagree, and why. The test fails on any
/// disagreement not listed here, and on any listed one that has gone away.
const KNOWN: &[(&str, &str, &str)] = &[];

#[test]
fn every_corpus_file_imports_and_none_fails() {
    let imported = imported();
    let files = walk(&corpus().join("files"));
    assert_eq!(imported.reports.len(), files.len(), "one report per file");
    assert_eq!(files.len(), 160);
    for r in &imported.reports {
        assert_ne!(r.status, FileStatus::Failed, "{}: {:?}", r.path, r.error);
        let checksum = r.checksum.as_deref().unwrap();
        assert!(
            checksum.starts_with("sha256:") && checksum.len() == 71,
            "{checksum}"
        );
    }
    // The broken files are imported with a warning that says what is wrong.
    for (name, expected) in [
        ("derived/empty.jpg", "empty"),
        ("derived/DSCN0010_trunc_half.jpg", "damaged"),
        ("derived/Canon_40D_trunc_in_app1_1000B.jpg", "EXIF"),
        ("exif-py/jpg/corrupted.jpg", "damaged"),
    ] {
        let record = imported
            .library
            .record(corpus().join("files").join(name).to_str().unwrap())
            .unwrap();
        assert!(
            record.warnings.iter().any(|w| w.contains(expected)),
            "{name}: {:?}",
            record.warnings
        );
    }
}

#[test]
fn every_record_is_valid_against_the_asset_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../schemas/asset.schema.json")).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let records = imported().library.list(&Default::default()).unwrap();
    assert!(records.len() > 150, "{} records", records.len());
    for record in records {
        let json = serde_json::to_value(&record).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", record.checksum);
    }
}

#[test]
fn normalised_exif_matches_exiftool() {
    let reference: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("exiftool-n.json")).unwrap()).unwrap();
    let library = &imported().library;
    let mut disagreements = BTreeSet::new();
    let mut compared = 0;
    for entry in &reference {
        let file = entry["SourceFile"].as_str().unwrap();
        let path = corpus().join("files").join(file);
        let record = library.record(path.to_str().unwrap()).unwrap();
        let exif = record.exif.clone().unwrap_or_default();
        let mut check = |field: &'static str, theirs: Option<Value>, ours: Option<Value>| {
            let Some(theirs) = theirs else { return };
            compared += 1;
            if !same(&theirs, ours.as_ref()) {
                disagreements.insert((
                    file.to_owned(),
                    field,
                    format!("exiftool {theirs}, assay {ours:?}"),
                ));
            }
        };
        let str_of = |v: &Value| {
            v.as_str()
                .map(|s| Value::from(s.trim()))
                .or_else(|| v.is_number().then(|| Value::from(v.to_string())))
        };
        check(
            "make",
            entry.get("IFD0:Make").and_then(str_of),
            exif.make.map(Value::from),
        );
        check(
            "model",
            entry.get("IFD0:Model").and_then(str_of),
            exif.model.map(Value::from),
        );
        check(
            "date_time_original",
            entry
                .get("ExifIFD:DateTimeOriginal")
                .and_then(Value::as_str)
                .filter(|d| {
                    d.as_bytes().first().is_some_and(u8::is_ascii_digit) && !d.starts_with("0000")
                })
                .map(|d| {
                    Value::from(
                        d.get(..19)
                            .unwrap_or(d)
                            .replacen(':', "-", 2)
                            .replacen(' ', "T", 1),
                    )
                }),
            exif.date_time_original
                .map(|d| Value::from(d.get(..19).unwrap_or(&d).to_owned())),
        );
        check(
            "offset_time_original",
            entry.get("ExifIFD:OffsetTimeOriginal").and_then(str_of),
            exif.offset_time_original.map(Value::from),
        );
        check(
            "orientation",
            entry.get("IFD0:Orientation").cloned(),
            exif.orientation.map(Value::from),
        );
        let gps = exif.gps.clone().unwrap_or_default();
        check(
            "gps.latitude",
            entry
                .get("Composite:GPSLatitude")
                .filter(|v| v.is_number())
                .cloned(),
            gps.latitude.map(Value::from),
        );
        check(
            "gps.longitude",
            entry
                .get("Composite:GPSLongitude")
                .filter(|v| v.is_number())
                .cloned(),
            gps.longitude.map(Value::from),
        );
        check(
            "gps.altitude",
            entry
                .get("Composite:GPSAltitude")
                .filter(|v| v.is_number())
                .cloned(),
            gps.altitude.map(Value::from),
        );
        check(
            "exposure_time",
            positive(entry.get("ExifIFD:ExposureTime")),
            exif.exposure_time.map(Value::from),
        );
        check(
            "f_number",
            positive(entry.get("ExifIFD:FNumber")),
            exif.f_number.map(Value::from),
        );
        check(
            "iso",
            positive(entry.get("ExifIFD:ISO")),
            exif.iso.map(Value::from),
        );
        check(
            "focal_length",
            positive(entry.get("ExifIFD:FocalLength")),
            exif.focal_length.map(Value::from),
        );
    }
    assert!(compared > 700, "only {compared} values compared");

    let known: BTreeSet<(&str, &str)> = KNOWN.iter().map(|(f, field, _)| (*f, *field)).collect();
    let unexpected: Vec<_> = disagreements
        .iter()
        .filter(|(f, field, _)| !known.contains(&(f.as_str(), *field)))
        .collect();
    let found: BTreeSet<(&str, &str)> = disagreements
        .iter()
        .map(|(f, field, _)| (f.as_str(), *field))
        .collect();
    let stale: Vec<_> = known.difference(&found).collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "{compared} values compared.\nUnexplained disagreements:\n{unexpected:#?}\nListed but no longer disagreeing:\n{stale:#?}"
    );
}

/// Every TIFF-structured file (BigTIFF too) keeps at least as many IFD0,
/// Exif and GPS tags as exiftool reads from it.
#[test]
fn tiff_files_keep_every_tag_exiftool_reads() {
    let reference: Vec<Value> =
        serde_json::from_slice(&std::fs::read(corpus().join("exiftool.json")).unwrap()).unwrap();
    let library = &imported().library;
    let mut checked = 0;
    for entry in &reference {
        let file = entry["SourceFile"].as_str().unwrap();
        if !file.ends_with(".tif") && !file.ends_with(".tiff") && !file.ends_with(".btf") {
            continue;
        }
        let path = corpus().join("files").join(file);
        let record = library.record(path.to_str().unwrap()).unwrap();
        let raw = record.exif.map(|e| e.raw).unwrap_or_default();
        for group in ["IFD0", "ExifIFD", "GPS"] {
            let prefix = format!("{group}:");
            let theirs = entry
                .as_object()
                .unwrap()
                .keys()
                .filter(|k| k.starts_with(&prefix))
                .count();
            let ours = raw.keys().filter(|k| k.starts_with(&prefix)).count();
            assert!(
                ours >= theirs,
                "{file}: {ours} {group} tags, exiftool reads {theirs}"
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 14);
}

/// One malformed entry (a count running far past the end of the file)
/// costs that tag alone: the others are read as from the intact file, and
/// a warning says what was skipped.
#[test]
fn a_malformed_entry_costs_only_itself() {
    let intact = std::fs::read(corpus().join("files/exiftool/ExifTool.tif")).unwrap();
    let mut damaged = intact.clone();
    // Big-endian (MM); IFD0's entries follow its offset and count.
    assert_eq!(&intact[..2], b"MM");
    let u16_at = |at: usize| u16::from_be_bytes([intact[at], intact[at + 1]]);
    let ifd = u32::from_be_bytes(intact[4..8].try_into().unwrap()) as usize;
    let description = (0..usize::from(u16_at(ifd)))
        .map(|i| ifd + 2 + 12 * i)
        .find(|&e| u16_at(e) == 0x010E)
        .expect("ExifTool.tif has an ImageDescription");
    damaged[description + 4..description + 8].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());

    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir_all(&files).unwrap();
    std::fs::write(files.join("intact.tif"), &intact).unwrap();
    std::fs::write(files.join("damaged.tif"), &damaged).unwrap();
    let library = assay_core::Library::open(dir.path().join("lib")).unwrap();
    library
        .import(
            std::slice::from_ref(&files),
            &Default::default(),
            &mut |_| {},
        )
        .unwrap();
    let record = |name: &str| library.record(files.join(name).to_str().unwrap()).unwrap();
    let (intact, damaged) = (record("intact.tif"), record("damaged.tif"));
    let mut expected = intact.exif.clone().unwrap().raw;
    assert!(expected.remove("IFD0:ImageDescription").is_some());
    let exif = damaged.exif.clone().unwrap();
    assert_eq!(exif.raw, expected);
    assert_eq!(exif.make.as_deref(), Some("Canon"));
    assert!(
        damaged.warnings.iter().any(|w| w.contains("damaged entry")),
        "{:?}",
        damaged.warnings
    );
}

/// exiftool writes 0 or "undef" where a value is unknown; Assay leaves it out.
fn positive(v: Option<&Value>) -> Option<Value> {
    v.filter(|v| v.as_f64().is_some_and(|n| n > 0.0)).cloned()
}

fn same(theirs: &Value, ours: Option<&Value>) -> bool {
    let Some(ours) = ours else { return false };
    match (theirs.as_f64(), ours.as_f64()) {
        // exiftool prints rationals rounded to about ten significant digits.
        (Some(a), Some(b)) => (a - b).abs() <= 1e-6 * a.abs().max(1.0),
        _ => theirs == ours,
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
