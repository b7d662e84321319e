//! The fuzz targets: every parser that reads bytes from outside, driven
//! through the same public functions import, verification and the market
//! protocol use. Seeds come from the test corpus (`tests/corpus/files`)
//! and from the sample library built from its photos, whose exported
//! manifest, audit package and market messages are what those parsers
//! normally read.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context as _;
use assay_core::{Actor, Library, Selection};
use assay_market_proto::events::{Event, EventKind, EventPage, ReleaseReason};
use assay_market_proto::tus::{self, UploadFile, UploadMetadata};
use assay_market_proto::webhooks;
use ed25519_dalek::VerifyingKey;
use serde_json::Value;

/// One parser under test.
pub trait Target: Sync {
    fn name(&self) -> &'static str;
    /// The inputs mutants are made from.
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>>;
    /// Feeds one input to the parser; any outcome but a panic, a hang or
    /// unbounded memory is fine.
    fn run(&self, input: &[u8]);
}

/// Every target, over the corpus in `corpus` (`tests/corpus/files`).
pub fn all(corpus: &Path) -> Vec<Box<dyn Target>> {
    let files = || CorpusFiles(corpus.to_owned());
    vec![
        Box::new(FileTarget(files())),
        Box::new(ExifTarget(files())),
        Box::new(XmpTarget(files())),
        Box::new(IimTarget(files())),
        Box::new(SniffTarget(files())),
        Box::new(PreviewTarget(files())),
        Box::new(ManifestTarget(Shelf::new(corpus))),
        Box::new(AuditTarget(Shelf::new(corpus))),
        Box::new(FeedTarget(Shelf::new(corpus))),
        Box::new(TusTarget),
        Box::new(WebhookTarget),
    ]
}

/// The corpus's files, each cut to `limit` bytes, smallest first.
struct CorpusFiles(PathBuf);

impl CorpusFiles {
    fn read(&self, limit: usize) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut found = Vec::new();
        walk(&self.0, &mut found)?;
        found.sort();
        let mut seeds = Vec::new();
        for path in found {
            let mut bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            bytes.truncate(limit);
            seeds.push(bytes);
        }
        seeds.sort_by_key(Vec::len);
        Ok(seeds)
    }

    /// Pieces of the corpus files between `start` and `end` (included),
    /// each at most `limit` bytes.
    fn pieces(&self, start: &[u8], end: &[u8], limit: usize) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut pieces = Vec::new();
        for file in self.read(usize::MAX)? {
            let Some(at) = find(&file, start) else {
                continue;
            };
            let rest = &file[at..];
            let len = find(rest, end).map_or(rest.len(), |e| e + end.len());
            pieces.push(rest[..len.min(limit)].to_vec());
        }
        pieces.dedup();
        Ok(pieces)
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn sniffed(input: &[u8]) -> &'static str {
    assay_core::media::sniff(&input[..input.len().min(assay_core::media::SNIFF_LEN)], "")
}

/// A whole file as import reads it: sniffing, the checksum pass with its
/// row count and personal-data scan, EXIF, XMP, IIM and the preview.
struct FileTarget(CorpusFiles);

impl Target for FileTarget {
    fn name(&self) -> &'static str {
        "file"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        // Small files only: each run decodes and renders a preview.
        Ok(self
            .0
            .read(usize::MAX)?
            .into_iter()
            .filter(|s| s.len() <= 96 << 10)
            .collect())
    }
    fn run(&self, input: &[u8]) {
        assay_core::untrusted::analyze_file("input", input);
        assay_core::untrusted::analyze_file("input.csv", input);
    }
}

/// EXIF and the XMP and IIM blocks a file embeds, as import reads them.
struct ExifTarget(CorpusFiles);

impl Target for ExifTarget {
    fn name(&self) -> &'static str {
        "exif"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        self.0.read(64 << 10)
    }
    fn run(&self, input: &[u8]) {
        assay_core::untrusted::read_exif(input, sniffed(input));
    }
}

/// XMP packets, as embedded in files and written as sidecars.
struct XmpTarget(CorpusFiles);

impl Target for XmpTarget {
    fn name(&self) -> &'static str {
        "xmp"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        self.0.pieces(b"<x:xmpmeta", b"</x:xmpmeta>", 64 << 10)
    }
    fn run(&self, input: &[u8]) {
        let _ = assay_core::untrusted::parse_xmp(input);
    }
}

/// IPTC IIM blocks inside Photoshop image resources.
struct IimTarget(CorpusFiles);

impl Target for IimTarget {
    fn name(&self) -> &'static str {
        "iim"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        let mut seeds = self.0.pieces(b"Photoshop 3.0\0", b"\xFF\xD9", 16 << 10)?;
        for seed in &mut seeds {
            seed.drain(..b"Photoshop 3.0\0".len());
        }
        Ok(seeds)
    }
    fn run(&self, input: &[u8]) {
        assay_core::untrusted::parse_iim(input);
    }
}

/// Extensions the sniffer refines families with.
const EXTENSIONS: [&str; 12] = [
    "", "jpg", "tif", "dng", "nef", "cr2", "arw", "csv", "txt", "json", "heic", "mp4",
];

/// Media sniffing of a file's first bytes; the input's first byte picks
/// the extension.
struct SniffTarget(CorpusFiles);

impl Target for SniffTarget {
    fn name(&self) -> &'static str {
        "sniff"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(self
            .0
            .read(assay_core::media::SNIFF_LEN)?
            .into_iter()
            .enumerate()
            .map(|(i, head)| {
                let mut seed = vec![i as u8];
                seed.extend(head);
                seed
            })
            .collect())
    }
    fn run(&self, input: &[u8]) {
        let Some((&pick, head)) = input.split_first() else {
            return;
        };
        let ext = EXTENSIONS[usize::from(pick) % EXTENSIONS.len()];
        let media_type = assay_core::media::sniff(head, ext);
        assay_core::media::is_tabular_or_text(media_type);
    }
}

/// Preview decoding and rendering, and the streamed decode a market
/// fingerprints with, for the media type the bytes sniff as.
struct PreviewTarget(CorpusFiles);

impl Target for PreviewTarget {
    fn name(&self) -> &'static str {
        "preview"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(self
            .0
            .read(usize::MAX)?
            .into_iter()
            .filter(|s| s.len() <= 64 << 10 && sniffed(s).starts_with("image/"))
            .collect())
    }
    fn run(&self, input: &[u8]) {
        let media_type = sniffed(input);
        assay_preview::dimensions(input, media_type);
        if let Ok(decoded) = assay_preview::decode(input, media_type) {
            let _ = assay_preview::render(decoded, 1 + input.len() as u8 % 8);
        }
        // What a market fingerprints an upload with, read as a stream.
        let streamed = assay_preview::decode_covering_from(
            std::io::Cursor::new(input),
            media_type,
            assay_preview::THUMBNAIL_EDGE,
        );
        if let Ok(decoded) = streamed {
            let _ = assay_preview::fingerprint_of(decoded);
        }
    }
}

/// The sample library (`Library::create_sample`) over the corpus's
/// exif.org photos, with its approved asset exported, built once per
/// process: the source of the documents Assay reads back.
struct Shelf {
    corpus: PathBuf,
}

struct Built {
    _dir: tempfile::TempDir,
    library: Library,
    rosa: Actor,
    keys: Vec<VerifyingKey>,
    manifest: Vec<u8>,
    audit: Vec<u8>,
    asset_ids: Vec<String>,
    scratch: PathBuf,
}

const PASS: &[u8] = b"fuzzing";

impl Shelf {
    fn new(corpus: &Path) -> Shelf {
        Shelf {
            corpus: corpus.to_owned(),
        }
    }

    fn built(&self) -> anyhow::Result<&'static Built> {
        static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
        BUILT
            .get_or_init(|| build(&self.corpus).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow::anyhow!("building the seed library: {e}"))
    }
}

fn build(corpus: &Path) -> anyhow::Result<Built> {
    let dir = tempfile::tempdir()?;
    // The product's own sample library: photos imported by a creator, one
    // approved, some in review, one quarantined.
    let made = Library::create_sample(
        &dir.path().join("library"),
        &corpus.join("exif-py/jpg/exif-org"),
        PASS,
    )?;
    let library = Library::open(&made.root)?;
    let rosa = library.unlock("rosa", PASS)?;
    let approved = Selection::Assets(vec![made.approved.clone()]);
    let manifest_path = dir.path().join("manifest.json");
    library.export_manifest(&rosa, &approved, &manifest_path)?;
    let audit_path = dir.path().join("audit.tar");
    library.export_audit(&rosa, &approved, &audit_path)?;
    let token = dir.path().join("token");
    std::fs::write(&token, "fuzzing-token")?;
    library.add_market("m", "http://127.0.0.1:9", &token)?;
    let scratch = dir.path().join("scratch");
    std::fs::create_dir_all(&scratch)?;
    Ok(Built {
        keys: vec![library.user_public_key("rosa")?],
        manifest: std::fs::read(&manifest_path)?,
        audit: std::fs::read(&audit_path)?,
        _dir: dir,
        library,
        rosa,
        asset_ids: made.licensed,
        scratch,
    })
}

/// Signed manifests, verified against the library's rights manager's key.
struct ManifestTarget(Shelf);

impl Target for ManifestTarget {
    fn name(&self) -> &'static str {
        "manifest"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(vec![self.0.built()?.manifest.clone()])
    }
    fn run(&self, input: &[u8]) {
        if let Ok(built) = self.0.built() {
            assay_core::verify_manifest(input, &built.keys, None);
        }
    }
}

/// Audit packages (tar), verified from the package alone.
struct AuditTarget(Shelf);

impl Target for AuditTarget {
    fn name(&self) -> &'static str {
        "audit"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        Ok(vec![self.0.built()?.audit.clone()])
    }
    fn run(&self, input: &[u8]) {
        let Ok(built) = self.0.built() else { return };
        let path = built.scratch.join("package.tar");
        if std::fs::write(&path, input).is_ok() {
            let _ = assay_core::verify_audit(&path, &built.keys, None);
        }
    }
}

/// Pages of the market's event feed, as sync reads them and the library
/// records their payments.
struct FeedTarget(Shelf);

impl Target for FeedTarget {
    fn name(&self) -> &'static str {
        "feed"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        let built = self.0.built()?;
        let ids = built.asset_ids.clone();
        let event = |n: u32, kind: EventKind| Event {
            event_id: format!("{n:032x}"),
            cursor: n.to_string(),
            at: "2026-12-05T12:00:00Z".to_owned(),
            kind,
        };
        let purchase = |n: u32| EventKind::Purchase {
            purchase_id: format!("p{n}"),
            listing_id: "l1".to_owned(),
            manifest_id: "urn:uuid:0".to_owned(),
            asset_ids: ids.clone(),
            amount_minor: 10_000,
            currency: "EUR".to_owned(),
        };
        let page = EventPage {
            events: vec![
                event(1, purchase(1)),
                event(
                    2,
                    EventKind::EscrowReleased {
                        purchase_id: "p1".to_owned(),
                        listing_id: "l1".to_owned(),
                        amount_minor: 10_000,
                        currency: "EUR".to_owned(),
                        reason: ReleaseReason::Confirmed,
                    },
                ),
                event(
                    3,
                    EventKind::PayoutSent {
                        payout_id: "o1".to_owned(),
                        purchase_id: "p1".to_owned(),
                        listing_id: "l1".to_owned(),
                        creator_wallet: Some("acct_cy".to_owned()),
                        asset_ids: ids.clone(),
                        amount_minor: 2_000,
                        currency: "EUR".to_owned(),
                    },
                ),
                event(
                    4,
                    EventKind::Refunded {
                        purchase_id: "p1".to_owned(),
                        listing_id: "l1".to_owned(),
                        amount_minor: 10_000,
                        currency: "EUR".to_owned(),
                    },
                ),
            ],
            next_after: Some("4".to_owned()),
        };
        Ok(vec![serde_json::to_vec(&page)?])
    }
    fn run(&self, input: &[u8]) {
        let Ok(built) = self.0.built() else { return };
        let Ok(page) = serde_json::from_slice::<EventPage>(input) else {
            return;
        };
        let events: Vec<Value> = page
            .events
            .iter()
            .filter_map(|e| serde_json::to_value(e).ok())
            .collect();
        let _ = built.library.record_market_feed(
            &built.rosa,
            "m",
            None,
            &events,
            page.next_after.as_deref(),
        );
    }
}

/// tus request headers: `Upload-Metadata` on the first line,
/// `Upload-Checksum` on the second.
struct TusTarget;

impl Target for TusTarget {
    fn name(&self) -> &'static str {
        "tus"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        let metadata = UploadMetadata {
            manifest_id: "urn:uuid:5f0c6e1e-8d1b-4c55-9a1e-3b0f1f2a9c10".to_owned(),
            file: UploadFile::Asset("9d5c0e93-40fd-4d49-9943-b168db081790".to_owned()),
        };
        Ok(vec![
            format!(
                "{}\n{}",
                metadata.to_header(),
                tus::checksum_header(&[7; 32])
            )
            .into_bytes(),
            format!(
                "{},filename aGVsbG8=,filetype\nsha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=",
                metadata.to_header()
            )
            .into_bytes(),
        ])
    }
    fn run(&self, input: &[u8]) {
        let text = String::from_utf8_lossy(input);
        let (metadata, checksum) = text.split_once('\n').unwrap_or((&text, ""));
        let _ = UploadMetadata::parse(metadata);
        let _ = tus::parse_checksum(checksum);
    }
}

/// A webhook delivery as a receiver checks it: the `Assay-Signature`
/// value on the first line, the body after it.
struct WebhookTarget;

const WEBHOOK_SECRET: &str = "a webhook secret of some length";
const WEBHOOK_TIME: u64 = 1_764_936_000;

impl Target for WebhookTarget {
    fn name(&self) -> &'static str {
        "webhook"
    }
    fn seeds(&self) -> anyhow::Result<Vec<Vec<u8>>> {
        let body = serde_json::to_vec(&Event {
            event_id: format!("{:032x}", 9),
            cursor: "9".to_owned(),
            at: "2026-12-05T12:00:00Z".to_owned(),
            kind: EventKind::ListingCreated {
                listing_id: "l1".to_owned(),
                manifest_id: "urn:uuid:0".to_owned(),
                manifest_hash: format!("sha256:{}", "0".repeat(64)),
            },
        })?;
        let mut seed = webhooks::signature(WEBHOOK_SECRET, WEBHOOK_TIME, &body).into_bytes();
        seed.push(b'\n');
        seed.extend(body);
        Ok(vec![seed])
    }
    fn run(&self, input: &[u8]) {
        let (header, body) = match find(input, b"\n") {
            Some(at) => (&input[..at], &input[at + 1..]),
            None => (input, &[][..]),
        };
        let header = String::from_utf8_lossy(header);
        let _ = webhooks::verify(WEBHOOK_SECRET, &header, body, WEBHOOK_TIME, 300);
        // A receiver reads the body only once it verified, but reading it
        // must hold up whatever it is.
        let _ = serde_json::from_slice::<Event>(body);
    }
}
