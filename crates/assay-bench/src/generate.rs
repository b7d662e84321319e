//! The test files, generated once and cached. Each kind of file has a pool
//! folder keyed by its parameters (`large-6000x4000-q90-v1/pool`), and each
//! requested count a folder of hard links to the first files of the pool
//! (`.../n1000/000/IMG_000001.JPG`), so `assay import DIR` sees exactly
//! that many files and a larger run reuses what a smaller one made.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

use crate::{exif_segment, mpf_segment, synth};

/// Bump when the pixels or EXIF change, so old caches are not reused.
/// 2: an EXIF thumbnail in every file.
const GENERATOR_VERSION: u32 = 2;
/// The EXIF thumbnail's size for a 3:2 photo (cameras write 160 wide).
const THUMBNAIL: (usize, usize) = (160, 107);
/// Files per subfolder of a set, like a camera card's numbered folders.
const PER_FOLDER: usize = 1000;

/// One kind of generated file.
pub struct Kind {
    pub name: &'static str,
    pub width: u16,
    pub height: u16,
    pub quality: u8,
    /// Mixed into every file's seed, so kinds never share pixels (but a
    /// kind that differs only by its MPF preview).
    pub seed: u64,
    /// A large preview after the image, listed in an MPF index.
    pub mpf_preview: Option<(u16, u16)>,
}

pub const LARGE: Kind = Kind {
    name: "large",
    width: 6000,
    height: 4000,
    quality: 90,
    seed: 0x4C41_5247_4500_0000,
    mpf_preview: None,
};

/// [`LARGE`]'s photos, each with a camera-like 1920x1280 MPF preview.
pub const LARGE_MPF: Kind = Kind {
    name: "large-mpf",
    mpf_preview: Some((1920, 1280)),
    ..LARGE
};

/// About the size of a photo prepared for a training set.
pub const MEDIUM: Kind = Kind {
    name: "medium",
    width: 1280,
    height: 960,
    quality: 85,
    seed: 0x4D45_4449_554D_0000,
    mpf_preview: None,
};

pub const SMALL: Kind = Kind {
    name: "small",
    width: 64,
    height: 48,
    quality: 90,
    seed: 0x534D_414C_4C00_0000,
    mpf_preview: None,
};

/// A folder of exactly `files.len()` generated files.
pub struct FileSet {
    /// "6000x4000 pixels, quality 90": what every file is.
    pub format: String,
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    pub total_bytes: u64,
    pub min_bytes: u64,
    pub max_bytes: u64,
    /// Set when this run had to generate files.
    pub generation: Option<Generation>,
}

pub struct Generation {
    pub files: usize,
    pub wall: Duration,
    /// Mean time one thread spent on one file.
    pub per_file: Duration,
    pub threads: usize,
}

impl FileSet {
    pub fn mean_bytes(&self) -> u64 {
        self.total_bytes / self.files.len().max(1) as u64
    }
}

/// Returns the cached set of `count` files of `kind`, generating what is
/// missing with `threads` threads.
pub fn ensure(cache: &Path, kind: &Kind, count: usize, threads: usize) -> anyhow::Result<FileSet> {
    let root = cache.join(format!(
        "{}-{}x{}-q{}-v{GENERATOR_VERSION}",
        kind.name, kind.width, kind.height, kind.quality
    ));
    let pool = root.join("pool");
    std::fs::create_dir_all(&pool).with_context(|| format!("creating {}", pool.display()))?;
    let missing: Vec<usize> = (0..count)
        .filter(|&i| !pool.join(file_name(i)).is_file())
        .collect();
    let generation = if missing.is_empty() {
        None
    } else {
        Some(generate(kind, &pool, &missing, threads)?)
    };

    let dir = root.join(format!("n{count}"));
    let mut set = FileSet {
        format: format!(
            "{}x{} pixels, quality {}, 4:2:2, a {}x{} EXIF thumbnail{}",
            kind.width,
            kind.height,
            kind.quality,
            THUMBNAIL.0,
            THUMBNAIL.1,
            kind.mpf_preview
                .map(|(w, h)| format!(" and a {w}x{h} MPF preview"))
                .unwrap_or_default()
        ),
        dir: dir.clone(),
        files: Vec::with_capacity(count),
        total_bytes: 0,
        min_bytes: u64::MAX,
        max_bytes: 0,
        generation,
    };
    for i in 0..count {
        let source = pool.join(file_name(i));
        let folder = dir.join(format!("{:03}", i / PER_FOLDER));
        let path = folder.join(file_name(i));
        if !path.is_file() {
            std::fs::create_dir_all(&folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            link_or_copy(&source, &path)?;
        }
        let size = std::fs::metadata(&path)
            .with_context(|| format!("reading the size of {}", path.display()))?
            .len();
        set.total_bytes += size;
        set.min_bytes = set.min_bytes.min(size);
        set.max_bytes = set.max_bytes.max(size);
        set.files.push(path);
    }
    Ok(set)
}

fn file_name(index: usize) -> String {
    format!("IMG_{:06}.JPG", index + 1)
}

fn link_or_copy(source: &Path, dest: &Path) -> anyhow::Result<()> {
    if std::fs::hard_link(source, dest).is_ok() {
        return Ok(());
    }
    std::fs::copy(source, dest)
        .map(drop)
        .with_context(|| format!("copying {} to {}", source.display(), dest.display()))
}

/// Generates the pool files at `indices`, spread over `threads` threads.
fn generate(
    kind: &Kind,
    pool: &Path,
    indices: &[usize],
    threads: usize,
) -> anyhow::Result<Generation> {
    let threads = threads.clamp(1, indices.len());
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let step = (indices.len() / 20).max(1);
    eprintln!(
        "assay-bench: generating {} {}x{} files in {} (cached for later runs)",
        indices.len(),
        kind.width,
        kind.height,
        pool.display()
    );
    let started = Instant::now();
    let busy: Vec<anyhow::Result<Duration>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut rgb = Vec::new();
                    let mut busy = Duration::ZERO;
                    loop {
                        let Some(&i) = indices.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            return Ok(busy);
                        };
                        let t = Instant::now();
                        write_file(kind, i, &pool.join(file_name(i)), &mut rgb)?;
                        busy += t.elapsed();
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(step) || n == indices.len() {
                            eprintln!("assay-bench:   {n}/{}", indices.len());
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow!("a generator thread panicked")))
            })
            .collect()
    });
    let mut total = Duration::ZERO;
    for b in busy {
        total += b?;
    }
    Ok(Generation {
        files: indices.len(),
        wall: started.elapsed(),
        per_file: total / indices.len() as u32,
        threads,
    })
}

/// Renders, encodes and atomically writes file `index` of `kind` to `path`.
fn write_file(kind: &Kind, index: usize, path: &Path, rgb: &mut Vec<u8>) -> anyhow::Result<()> {
    let (width, height) = (usize::from(kind.width), usize::from(kind.height));
    synth::render(kind.seed ^ index as u64, width, height, rgb);
    let thumbnail = encode_jpeg(
        &shrink(rgb, (width, height), THUMBNAIL),
        THUMBNAIL,
        80,
        path,
    )?;
    let app1 = exif_segment::app1(index as u64, width as u32, height as u32, &thumbnail)?;

    let mut jpeg = Vec::with_capacity(width * height);
    let mut encoder = Encoder::new(&mut jpeg, kind.quality);
    // 4:2:2 chroma, as most cameras write.
    encoder.set_sampling_factor(SamplingFactor::F_2_1);
    encoder
        .add_app_segment(1, &app1)
        .map_err(|e| anyhow!("adding EXIF to {}: {e}", path.display()))?;
    if kind.mpf_preview.is_some() {
        encoder
            .add_app_segment(2, &mpf_segment::app2())
            .map_err(|e| anyhow!("adding an MPF index to {}: {e}", path.display()))?;
    }
    encoder
        .encode(rgb, kind.width, kind.height, ColorType::Rgb)
        .map_err(|e| anyhow!("encoding {}: {e}", path.display()))?;
    if let Some((w, h)) = kind.mpf_preview {
        let size = (usize::from(w), usize::from(h));
        let preview = encode_jpeg(&shrink(rgb, (width, height), size), size, 85, path)?;
        mpf_segment::complete(&mut jpeg, &preview)?;
    }
    if jpeg.is_empty() {
        bail!("encoding {} produced no bytes", path.display());
    }

    // Written under a hidden name and renamed, so a file in the pool is whole.
    let name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let tmp = path.with_file_name(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, &jpeg).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming {} into place", tmp.display()))
}

/// A baseline JPEG of `rgb` (`size` pixels) at `quality`.
fn encode_jpeg(
    rgb: &[u8],
    (width, height): (usize, usize),
    quality: u8,
    path: &Path,
) -> anyhow::Result<Vec<u8>> {
    let (Ok(w), Ok(h)) = (u16::try_from(width), u16::try_from(height)) else {
        bail!("a {width}x{height} picture is too large for a JPEG");
    };
    let mut jpeg = Vec::new();
    Encoder::new(&mut jpeg, quality)
        .encode(rgb, w, h, ColorType::Rgb)
        .map_err(|e| anyhow!("encoding a small picture of {}: {e}", path.display()))?;
    Ok(jpeg)
}

/// `rgb` (`from` pixels) scaled down to `to` by averaging each target
/// pixel's box of source pixels.
fn shrink(rgb: &[u8], from: (usize, usize), to: (usize, usize)) -> Vec<u8> {
    let ((fw, fh), (tw, th)) = (from, to);
    let mut out = Vec::with_capacity(tw * th * 3);
    for ty in 0..th {
        let (y0, y1) = (ty * fh / th, ((ty + 1) * fh / th).max(ty * fh / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * fw / tw, ((tx + 1) * fw / tw).max(tx * fw / tw + 1));
            let mut sum = [0u64; 3];
            for y in y0..y1 {
                for pixel in rgb[(y * fw + x0) * 3..(y * fw + x1) * 3].chunks_exact(3) {
                    for (s, &c) in sum.iter_mut().zip(pixel) {
                        *s += u64::from(c);
                    }
                }
            }
            let n = ((y1 - y0) * (x1 - x0)) as u64;
            out.extend(sum.map(|s| (s / n) as u8));
        }
    }
    out
}
