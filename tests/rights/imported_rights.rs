//! Import reads the rights a file arrives with: an XMP sidecar beside it,
//! its embedded XMP packet and its IPTC IIM block, written here by exiftool
//! as other tools would write them.

use std::path::{Path, PathBuf};
use std::process::Command;

use assay_core::{
    AssetRecord, Change, Event, FileReport, FileStatus, Filter, ImportEvent, ImportOptions,
    ImportSummary, Library, Role, Selection,
};
use assay_deadline::OutputWithin;
use serde_json::{json, Value};

use crate::{corpus, World, CHILD_LIMIT, PASS};

/// Teaches exiftool 12.57 the PLUS DataMining property (it arrived in later
/// versions) and Assay's own namespace.
const EXIFTOOL_CONFIG: &str = r#"
%Image::ExifTool::UserDefined = (
    'Image::ExifTool::PLUS::XMP' => { DataMining => { } },
    'Image::ExifTool::XMP::Main' => {
        assay => { SubDirectory => { TagTable => 'Image::ExifTool::UserDefined::assay' } },
    },
);
%Image::ExifTool::UserDefined::assay = (
    GROUPS => { 0 => 'XMP', 1 => 'XMP-assay', 2 => 'Other' },
    NAMESPACE => { 'assay' => 'https://w3id.org/assay/ns/xmp/1.0/' },
    WRITABLE => 'string',
    LicenseTag => { },
);
1;
"#;

const NO_AI_TRAINING: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

/// Runs exiftool with `args` in `dir`.
fn exiftool(dir: &Path, args: &[&str]) {
    let config = dir.join("exiftool.config");
    std::fs::write(&config, EXIFTOOL_CONFIG).unwrap();
    let out = Command::new("exiftool")
        .arg("-config")
        .arg(&config)
        .args(args)
        .current_dir(dir)
        .output_within(CHILD_LIMIT)
        .expect("exiftool is installed by scripts/setup.sh (libimage-exiftool-perl)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // exiftool leaves a tag it cannot write with a warning, not a failure.
    assert!(
        out.status.success() && !stderr.contains("Warning"),
        "exiftool {args:?}: {stderr}"
    );
    std::fs::remove_file(config).unwrap();
}

/// Copies corpus photos (distinct contents) into `dir` under new names.
fn copy_photos(dir: &Path, photos: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (from, to) in photos {
        std::fs::copy(corpus(from), dir.join(to)).unwrap();
    }
}

struct Imported {
    summary: ImportSummary,
    files: Vec<FileReport>,
    skipped: Vec<(PathBuf, String)>,
}

impl Imported {
    fn file(&self, name: &str) -> &FileReport {
        self.files
            .iter()
            .find(|f| f.path.ends_with(&format!("/{name}")))
            .unwrap_or_else(|| panic!("no report for {name}: {:#?}", self.files))
    }
}

fn import(library: &Library, paths: &[PathBuf]) -> Imported {
    let (mut files, mut skipped) = (Vec::new(), Vec::new());
    let summary = library
        .import(paths, &ImportOptions::default(), &mut |event| match event {
            ImportEvent::File(report) => files.push(report.clone()),
            ImportEvent::Skipped { path, reason } => {
                skipped.push((path.to_owned(), reason.to_owned()))
            }
            _ => {}
        })
        .unwrap();
    Imported {
        summary,
        files,
        skipped,
    }
}

fn record_of(library: &Library, report: &FileReport) -> AssetRecord {
    library.record(report.asset_id.as_deref().unwrap()).unwrap()
}

/// The `import` event of an asset.
fn import_event(library: &Library, record: &AssetRecord) -> Event {
    let events = library.provenance(&record.asset_id).unwrap();
    assert_eq!(events[0].kind, "import");
    events[0].clone()
}

/// The rights fields import can fill, as the record has them.
fn rights(record: &AssetRecord) -> Value {
    let field = |name: &str| record.rights.get(name).cloned().unwrap_or(Value::Null);
    json!({
        "title": record.title,
        "creator_name": field("creator_name"),
        "rights_holder": field("rights_holder"),
        "license_terms": field("license_terms"),
        "license_tag": field("license_tag"),
    })
}

#[test]
fn an_exiftool_sidecar_fills_the_record_and_the_import_event_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    // A photo with GPS coordinates: the location flag must survive.
    copy_photos(&photos, &[("exif-py/jpg/gps/DSCN0010.jpg", "a.jpg")]);
    exiftool(
        &photos,
        &[
            "-XMP-dc:Title=Harbour at dusk",
            "-XMP-dc:Creator=Ann Example",
            "-XMP-dc:Creator=Bo Example",
            "-XMP-dc:Rights=© 2024 Harbour Media Ltd. All rights reserved.",
            "-XMP-xmpRights:UsageTerms=Editorial use only; ask before any AI training.",
            "-XMP-plus:DataMining=http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
            "a.jpg.xmp",
        ],
    );
    let library = Library::open(dir.path().join("library")).unwrap();
    let run = import(&library, std::slice::from_ref(&photos));
    assert_eq!(
        (
            run.summary.imported,
            run.summary.skipped,
            run.summary.failed
        ),
        (1, 1, 0)
    );
    assert_eq!(run.skipped[0].0, photos.join("a.jpg.xmp"));
    assert!(
        run.skipped[0].1.contains("XMP sidecar"),
        "{:?}",
        run.skipped
    );
    let report = run.file("a.jpg");
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);

    let record = record_of(&library, report);
    assert_eq!(
        rights(&record),
        json!({
            "title": "Harbour at dusk",
            "creator_name": "Ann Example; Bo Example",
            "rights_holder": "Harbour Media Ltd",
            "license_terms": "Editorial use only; ask before any AI training.",
            "license_tag": "NO-TRAIN",
        })
    );
    assert_eq!(record.rights["sensitive_flags"], json!(["location"]));

    let data = import_event(&library, &record).data;
    let sidecar = photos.join("a.jpg.xmp");
    assert_eq!(
        data["imported_rights"],
        json!({
            "sidecar": sidecar.to_str().unwrap(),
            "fields": {
                "title": {"value": "Harbour at dusk", "source": "sidecar", "property": "dc:title"},
                "creator_name": {
                    "value": "Ann Example; Bo Example", "source": "sidecar", "property": "dc:creator",
                },
                "rights_holder": {
                    "value": "Harbour Media Ltd", "source": "sidecar", "property": "dc:rights",
                    "read": "© 2024 Harbour Media Ltd. All rights reserved.",
                },
                "license_terms": {
                    "value": "Editorial use only; ask before any AI training.",
                    "source": "sidecar", "property": "xmpRights:UsageTerms",
                },
                "license_tag": {
                    "value": "NO-TRAIN", "source": "sidecar", "property": "plus:DataMining",
                    "read": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
                },
            },
            "data_mining": {
                "value": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-GENAIMLTRAINING",
                "source": "sidecar",
            },
        })
    );
    assert_eq!(data["auto_flags"], json!(["location"]));

    // Content the library knows keeps its rights, whatever a new sidecar says.
    let elsewhere = dir.path().join("elsewhere");
    copy_photos(&elsewhere, &[("exif-py/jpg/gps/DSCN0010.jpg", "copy.jpg")]);
    exiftool(
        &elsewhere,
        &["-XMP-dc:Creator=Someone Else", "copy.jpg.xmp"],
    );
    exiftool(&photos, &["-XMP-dc:Creator=Someone Else", "a.xmp"]);
    let again = import(&library, &[photos, elsewhere]);
    assert_eq!(again.file("a.jpg").status, FileStatus::Unchanged);
    assert_eq!(again.file("copy.jpg").status, FileStatus::Duplicate);
    let after = library.record(&record.asset_id).unwrap();
    assert_eq!(rights(&after), rights(&record));
    assert_eq!(library.provenance(&record.asset_id).unwrap().len(), 1);
}

#[test]
fn embedded_xmp_and_iptc_are_read_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    copy_photos(
        &photos,
        &[
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "both.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "iptc.jpg"),
        ],
    );
    exiftool(
        &photos,
        &[
            "-overwrite_original",
            "-XMP-dc:Title=XMP title",
            "-XMP-dc:Creator=XMP Ann",
            "-XMP-xmpRights:UsageTerms=Credit the photographer.",
            "-IPTC:ObjectName=IIM title",
            "-IPTC:By-line=IIM Ann",
            "-IPTC:CopyrightNotice=(c) 2020 IIM Holder",
            "both.jpg",
        ],
    );
    exiftool(
        &photos,
        &[
            "-overwrite_original",
            "-IPTC:ObjectName=Only IIM",
            "-IPTC:By-line=Cy",
            "-IPTC:By-line=Dee",
            "-IPTC:CopyrightNotice=Copyright 2019 Cy",
            "iptc.jpg",
        ],
    );
    let library = Library::open(dir.path().join("library")).unwrap();
    let run = import(&library, &[photos]);
    assert_eq!((run.summary.imported, run.summary.failed), (2, 0));

    let both = record_of(&library, run.file("both.jpg"));
    assert_eq!(
        rights(&both),
        json!({
            "title": "XMP title",
            "creator_name": "XMP Ann",
            "rights_holder": "IIM Holder",
            "license_terms": "Credit the photographer.",
            "license_tag": null,
        })
    );
    let fields = &import_event(&library, &both).data["imported_rights"]["fields"];
    assert_eq!(fields["title"]["source"], "embedded_xmp");
    assert_eq!(fields["creator_name"]["source"], "embedded_xmp");
    assert_eq!(
        fields["rights_holder"],
        json!({
            "value": "IIM Holder", "source": "iptc_iim", "property": "2:116 Copyright Notice",
            "read": "(c) 2020 IIM Holder",
        })
    );

    // By-line repeats; the notice names a creator, who holds the rights anyway.
    let iptc = record_of(&library, run.file("iptc.jpg"));
    assert_eq!(
        rights(&iptc),
        json!({
            "title": "Only IIM",
            "creator_name": "Cy; Dee",
            "rights_holder": null,
            "license_terms": null,
            "license_tag": null,
        })
    );
    let data = import_event(&library, &iptc).data;
    assert_eq!(
        data["imported_rights"]["fields"]["title"]["source"],
        "iptc_iim"
    );
    assert!(data["imported_rights"].get("sidecar").is_none());
}

#[test]
fn assay_sidecars_round_trip_through_a_fresh_library() {
    let w = World::new();
    w.library
        .add_user(Some(&w.ada), "sam", Role::Steward, PASS)
        .unwrap();
    let sam = w.library.unlock("sam", PASS).unwrap();
    let set = |field: &str, value: Value| Change::Set {
        field: field.into(),
        value,
    };
    let records = w.library.list(&Filter::default()).unwrap();
    let by_name = |name: &str| {
        records
            .iter()
            .find(|r| r.locations[0].path.ends_with(name))
            .unwrap()
            .asset_id
            .clone()
    };
    let edits = [
        (
            "a.jpg",
            vec![
                set("title", json!("Harbour <dusk> & more")),
                set("creator_name", json!("Cy Tw")),
                set("license_tag", json!("NO-TRAIN")),
            ],
        ),
        (
            "b.jpg",
            vec![
                set("title", json!("Kodak day")),
                set("creator_name", json!("Cy Tw")),
                set("rights_holder", json!("Acme Brand Ltd")),
                set("license_tag", json!("CREATOR-NONEXCL")),
            ],
        ),
    ];
    for (name, changes) in &edits {
        w.library
            .edit(&sam, &Selection::Assets(vec![by_name(name)]), changes)
            .unwrap();
    }
    let all = Selection::Where(Filter::default());
    assert_eq!(w.library.export_xmp(&all, None).unwrap().written.len(), 2);

    let fresh = Library::open(w.dir.path().join("fresh")).unwrap();
    let run = import(&fresh, &[w.dir.path().join("photos")]);
    assert_eq!((run.summary.imported, run.summary.skipped), (2, 2));
    for (name, _) in &edits {
        let before = w.library.record(&by_name(name)).unwrap();
        let after = record_of(&fresh, run.file(name));
        assert_eq!(before.checksum, after.checksum);
        assert_eq!(rights(&after), rights(&before), "{name}");
        assert!(run.file(name).warnings.is_empty(), "{:?}", run.file(name));
    }

    // The fresh library writes the same rights into its own sidecars.
    let out = w.dir.path().join("again");
    std::fs::create_dir(&out).unwrap();
    assert_eq!(fresh.export_xmp(&all, Some(&out)).unwrap().written.len(), 2);
    for (name, _) in &edits {
        let original = read_xmp(&w.dir.path().join("photos").join(format!("{name}.xmp")));
        let again = read_xmp(&out.join(format!("{name}.xmp")));
        for tag in [
            "XMP-dc:Title",
            "XMP-dc:Creator",
            "XMP-dc:Rights",
            "XMP-xmpRights:UsageTerms",
            "XMP-xmpRights:WebStatement",
            "XMP-plus:LicensorName",
            "XMP-plus:DataMining",
            "XMP-assay:LicenseTag",
            "XMP-assay:Checksum",
        ] {
            assert_eq!(again.get(tag), original.get(tag), "{name} {tag}");
        }
        assert!(original.get("XMP-xmpRights:UsageTerms").is_some());
    }
}

/// exiftool's reading of a sidecar.
fn read_xmp(path: &Path) -> Value {
    let out = Command::new("exiftool")
        .args(["-j", "-G1", "-n"])
        .arg(path)
        .output_within(CHILD_LIMIT)
        .unwrap();
    assert!(out.status.success());
    let mut all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.remove(0)
}

#[test]
fn a_sidecar_wins_over_what_the_file_embeds() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    copy_photos(
        &photos,
        &[
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "d.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "e.jpg"),
        ],
    );
    exiftool(
        &photos,
        &[
            "-overwrite_original",
            "-XMP-dc:Title=Embedded title",
            "-XMP-dc:Creator=Embedded Ann",
            "-XMP-assay:LicenseTag=CC-BY-4.0",
            "-IPTC:ObjectName=IIM title",
            "-IPTC:By-line=IIM Ann",
            "-IPTC:CopyrightNotice=© IIM Holder",
            "d.jpg",
        ],
    );
    // Lightroom's naming, NAME.xmp; a tag-less prohibition still beats the
    // embedded tag, as the sidecar is the later word.
    exiftool(
        &photos,
        &[
            "-XMP-dc:Title=Sidecar title",
            &format!("-XMP-plus:DataMining={NO_AI_TRAINING}"),
            "d.xmp",
        ],
    );
    // Both namings: NAME.EXT.xmp, Assay's and darktable's, wins.
    exiftool(&photos, &["-XMP-dc:Title=From e.jpg.xmp", "e.jpg.xmp"]);
    exiftool(&photos, &["-XMP-dc:Title=From e.xmp", "e.xmp"]);

    let library = Library::open(dir.path().join("library")).unwrap();
    let run = import(&library, std::slice::from_ref(&photos));
    assert_eq!((run.summary.imported, run.summary.skipped), (2, 3));

    let d = record_of(&library, run.file("d.jpg"));
    assert_eq!(
        rights(&d),
        json!({
            "title": "Sidecar title",
            "creator_name": "Embedded Ann",
            "rights_holder": "IIM Holder",
            "license_terms": null,
            "license_tag": "NO-TRAIN",
        })
    );
    let imported = &import_event(&library, &d).data["imported_rights"];
    assert_eq!(imported["sidecar"], photos.join("d.xmp").to_str().unwrap());
    let sources: Vec<&Value> = ["title", "creator_name", "rights_holder", "license_tag"]
        .iter()
        .map(|f| &imported["fields"][f]["source"])
        .collect();
    assert_eq!(sources, ["sidecar", "embedded_xmp", "iptc_iim", "sidecar"]);
    assert_eq!(
        imported["data_mining"],
        json!({"value": NO_AI_TRAINING, "source": "sidecar"})
    );

    let e = record_of(&library, run.file("e.jpg"));
    assert_eq!(e.title.as_deref(), Some("From e.jpg.xmp"));
}

#[test]
fn a_malformed_sidecar_is_a_warning_and_the_import_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    copy_photos(
        &photos,
        &[
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "cut.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "binary.jpg"),
            ("exif-py/jpg/Canon_40D.jpg", "empty.jpg"),
        ],
    );
    // The embedded packet is still read when the sidecar is not.
    exiftool(
        &photos,
        &[
            "-overwrite_original",
            "-XMP-dc:Creator=Still Read",
            "cut.jpg",
        ],
    );
    exiftool(
        &photos,
        &[
            "-XMP-dc:Title=Never seen",
            "-XMP-dc:Creator=Nor this",
            "cut.jpg.xmp",
        ],
    );
    let whole = std::fs::read(photos.join("cut.jpg.xmp")).unwrap();
    std::fs::write(photos.join("cut.jpg.xmp"), &whole[..whole.len() / 2]).unwrap();
    let garbage = std::fs::read(corpus("exif-py/jpg/Canon_40D.jpg")).unwrap();
    std::fs::write(photos.join("binary.jpg.xmp"), &garbage[..4096]).unwrap();
    std::fs::write(photos.join("empty.xmp"), b"").unwrap();

    let library = Library::open(dir.path().join("library")).unwrap();
    let run = import(&library, &[photos]);
    assert_eq!(
        (
            run.summary.imported,
            run.summary.failed,
            run.summary.skipped
        ),
        (3, 0, 3)
    );
    let problems: [(&str, &str, &[&str]); 3] = [
        ("cut.jpg", "cut.jpg.xmp", &["malformed XML", "cut short"]),
        (
            "binary.jpg",
            "binary.jpg.xmp",
            &["neither UTF-8 nor UTF-16"],
        ),
        ("empty.jpg", "empty.xmp", &["empty"]),
    ];
    for (name, sidecar, problem) in problems {
        let report = run.file(name);
        assert_eq!(report.status, FileStatus::Imported);
        let warning = format!("sidecar {sidecar}: not read: ");
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.starts_with(&warning) && problem.iter().any(|p| w.contains(p))),
            "{name}: {:?}",
            report.warnings
        );
        // The warning stays on the asset.
        assert_eq!(record_of(&library, report).warnings, report.warnings);
    }
    let cut = record_of(&library, run.file("cut.jpg"));
    assert_eq!(cut.rights["creator_name"], "Still Read");
    assert_eq!(cut.title.as_deref(), Some("cut"));
}

#[test]
fn values_the_schema_refuses_are_dropped_with_a_warning_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    copy_photos(
        &photos,
        &[
            ("exif-py/jpg/exif-org/sanyo-vpcg250.jpg", "a.jpg"),
            ("exif-py/jpg/exif-org/kodak-dc210.jpg", "b.jpg"),
        ],
    );
    let long_title = format!("-XMP-dc:Title={}", "t".repeat(501));
    exiftool(
        &photos,
        &[
            &long_title,
            "-XMP-dc:Creator=Kept Creator",
            "-XMP-assay:LicenseTag=MADE-UP",
            "a.jpg.xmp",
        ],
    );
    exiftool(
        &photos,
        &[
            &format!("-XMP-dc:Rights=Copyright {}", "h".repeat(201)),
            "-XMP-assay:LicenseTag=not a tag",
            "b.jpg.xmp",
        ],
    );
    let library = Library::open(dir.path().join("library")).unwrap();
    let run = import(&library, &[photos]);
    assert_eq!((run.summary.imported, run.summary.failed), (2, 0));

    let a = run.file("a.jpg");
    assert_eq!(
        a.warnings,
        [
            "sidecar a.jpg.xmp: dc:title (title) is longer than 500 characters; not imported",
            "sidecar a.jpg.xmp: assay:LicenseTag (license_tag) \"MADE-UP\" is not a license tag \
             of this library; not imported",
        ]
    );
    let record = record_of(&library, a);
    assert_eq!(
        rights(&record),
        json!({
            "title": "a",
            "creator_name": "Kept Creator",
            "rights_holder": null,
            "license_terms": null,
            "license_tag": null,
        })
    );
    let fields = &import_event(&library, &record).data["imported_rights"]["fields"];
    assert_eq!(
        fields.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["creator_name"]
    );

    let b = run.file("b.jpg");
    assert_eq!(b.warnings.len(), 2, "{:?}", b.warnings);
    assert!(b.warnings[0]
        .starts_with("sidecar b.jpg.xmp: dc:rights (rights_holder) is longer than 200 characters"));
    assert!(b.warnings[1]
        .starts_with("sidecar b.jpg.xmp: assay:LicenseTag (license_tag) does not match"));
}

/// The rights fields exiftool reports for a corpus file, in the groups
/// Assay reads (not IPTC2, which lives in FotoStation and AFCP trailers).
struct Reference {
    file: String,
    xmp_title: Option<String>,
    iim_title: Option<String>,
    xmp_creators: Option<String>,
    iim_creators: Option<String>,
    xmp_notice: Option<String>,
    iim_notice: Option<String>,
}

fn reference() -> Vec<Reference> {
    let path = corpus("../exiftool.json");
    let all: Vec<Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let text = |v: &Value, tag: &str| -> Option<String> {
        let joined = match &v[tag] {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("; "),
            Value::Null => return None,
            other => other.to_string(),
        };
        Some(joined.trim().to_owned()).filter(|s| !s.is_empty())
    };
    all.iter()
        .map(|v| Reference {
            file: v["SourceFile"].as_str().unwrap().to_owned(),
            xmp_title: text(v, "XMP-dc:Title"),
            iim_title: text(v, "IPTC:ObjectName"),
            xmp_creators: text(v, "XMP-dc:Creator"),
            iim_creators: text(v, "IPTC:By-line"),
            xmp_notice: text(v, "XMP-dc:Rights"),
            iim_notice: text(v, "IPTC:CopyrightNotice"),
        })
        .filter(|r| {
            [
                &r.xmp_title,
                &r.iim_title,
                &r.xmp_creators,
                &r.iim_creators,
                &r.xmp_notice,
                &r.iim_notice,
            ]
            .iter()
            .any(|f| f.is_some())
        })
        .collect()
}

#[test]
fn corpus_files_tagged_elsewhere_read_as_exiftool_reports_them() {
    let files = reference();
    assert!(files.len() >= 15, "{}", files.len());
    let dir = tempfile::tempdir().unwrap();
    let library = Library::open(dir.path().join("library")).unwrap();
    let paths: Vec<PathBuf> = files.iter().map(|r| corpus(&r.file)).collect();
    let run = import(&library, &paths);
    assert_eq!(run.summary.failed, 0);
    for r in &files {
        let report = run.file(&r.file);
        assert!(
            !report.warnings.iter().any(|w| w.contains("XMP")),
            "{}: {:?}",
            r.file,
            report.warnings
        );
        let record = record_of(&library, report);
        let stem = Path::new(&r.file).file_stem().unwrap().to_str().unwrap();
        let title = r.xmp_title.as_deref().or(r.iim_title.as_deref());
        assert_eq!(
            record.title.as_deref(),
            Some(title.unwrap_or(stem)),
            "{}",
            r.file
        );
        let creators = r.xmp_creators.as_deref().or(r.iim_creators.as_deref());
        assert_eq!(
            record.rights.get("creator_name").and_then(Value::as_str),
            creators,
            "{}",
            r.file
        );
        // The holder is taken from the notice exiftool reports, as written.
        let notice = r.xmp_notice.as_deref().or(r.iim_notice.as_deref());
        let data = import_event(&library, &record).data;
        let holder = &data["imported_rights"]["fields"]["rights_holder"];
        if !holder.is_null() {
            let read = holder.get("read").unwrap_or(&holder["value"]);
            assert_eq!(read.as_str(), notice, "{}", r.file);
        }
    }
    // Where the holder is and is not the creator, as the notices say.
    let holder = |file: &str| {
        let record = record_of(&library, run.file(file));
        record.rights.get("rights_holder").cloned()
    };
    assert_eq!(holder("exiftool/IPTC.jpg"), None); // "Copyright 2004 Phil Harvey", by Phil Harvey
    assert_eq!(
        holder("exiftool/GPS.jpg"),
        Some(json!("ian Britton - FreeFoto.com"))
    );
    assert_eq!(
        holder("exiftool/MWG.jpg"),
        Some(json!("RIGHT-XMP-Copyright"))
    );
    // "All rights reserved." names nobody.
    assert_eq!(
        holder("exif-py/raw/nikon_z_9_high_efficiency_compressed_dx_cropped_max_overexposed.dng"),
        None
    );
}
