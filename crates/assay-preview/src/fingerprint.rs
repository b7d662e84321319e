//! Perceptual hashes for near-duplicates, and the multi-index hashing
//! that finds them: the catalog's band indexes and the market's both cut a
//! hash into [`BANDS`] bands and probe each band's [`neighbours`].
//!
//! Multi-index hashing (Norouzi, Punjani and Fleet, 2012): two 64-bit
//! hashes at most `d` bits apart agree on some 16-bit band to within `d / 4`
//! bits (were every band further apart, the bands alone would differ in
//! more than `d` bits). So the candidates are the hashes holding, in some
//! band, a value within `d / 4` bits of the query's, each checked in full.

use crate::{copy, orient, scratch, thumbnail_pixels, Decoded, PreviewError, Rgb};

/// Perceptual hashes of a picture as shown (upright), and turned a quarter,
/// a half and three quarters clockwise: a copy resized, recompressed or
/// lightly cropped hashes within a few bits of the original, and a copy
/// turned on its side within a few bits of one of the turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint {
    pub turns: [u64; 4],
}

impl Fingerprint {
    /// The fewest bits between `upright` (another picture as shown) and any
    /// turn of this one.
    pub fn distance(&self, upright: u64) -> u32 {
        self.turns
            .iter()
            .map(|turn| (turn ^ upright).count_ones())
            .min()
            .unwrap_or(u64::BITS)
    }
}

impl Fingerprint {
    /// What to look up to find every hash within `max` bits of any turn
    /// of this one: for each turn and band, the band's index and every
    /// value within `max / BANDS` bits of the turn's.
    pub fn probes(&self, max: u32) -> Vec<(usize, Vec<u16>)> {
        let radius = max / BANDS as u32;
        self.turns
            .iter()
            .flat_map(|&turn| bands(turn).into_iter().enumerate())
            .map(|(band, value)| (band, neighbours(value, radius)))
            .collect()
    }
}

/// Bands a hash is cut into.
pub const BANDS: usize = 4;

/// The four 16-bit bands of `hash`, most significant first.
pub fn bands(hash: u64) -> [u16; BANDS] {
    [
        (hash >> 48) as u16,
        (hash >> 32) as u16,
        (hash >> 16) as u16,
        hash as u16,
    ]
}

/// Every 16-bit value within `radius` bits of `value`, `value` first.
pub fn neighbours(value: u16, radius: u32) -> Vec<u16> {
    let mut out = vec![value];
    let mut frontier = vec![(value, 0u32)];
    for _ in 0..radius {
        let mut next = Vec::new();
        for (v, lowest) in frontier {
            // Flip only bits above the last flipped, so each set of flipped
            // bits is made once.
            for bit in lowest..16 {
                let flipped = v ^ (1 << bit);
                out.push(flipped);
                next.push((flipped, bit + 1));
            }
        }
        frontier = next;
    }
    out
}

/// The fingerprint of `decoded` as stored, without a preview: what a
/// market computes of an uploaded file. No orientation is applied; the
/// turns cover a picture stored on its side.
pub fn fingerprint_of(decoded: Decoded) -> Result<Fingerprint, PreviewError> {
    let thumbnail = thumbnail_pixels(decoded)?;
    let print = fingerprint(&thumbnail);
    scratch::give(thumbnail.0);
    print
}

/// The [`Fingerprint`] of an upright picture, from its thumbnail: the
/// classic pHash (a 32x32 grey image's lowest 8x8 DCT frequencies, each
/// above or below their median) by `image_hasher`, of each turn.
pub(crate) fn fingerprint(upright: &Rgb) -> Result<Fingerprint, PreviewError> {
    // Made once: a hasher plans its DCT when it is built, and every
    // rendering hashes four pictures.
    static HASHER: std::sync::OnceLock<image_hasher::Hasher> = std::sync::OnceLock::new();
    let hasher = HASHER.get_or_init(|| {
        image_hasher::HasherConfig::new()
            .hash_size(8, 8)
            .hash_alg(image_hasher::HashAlg::Median)
            .preproc_dct()
            .to_hasher()
    });
    let mut turns = [0u64; 4];
    // EXIF orientations 1, 6, 3 and 8: upright, then a quarter turn clockwise at a time.
    for (turn, orientation) in turns.iter_mut().zip([1, 6, 3, 8]) {
        let (rgb, w, h) = orient(copy(upright), orientation);
        let image = image::RgbImage::from_raw(w, h, rgb)
            .ok_or_else(|| PreviewError::Encode("thumbnail buffer of the wrong size".into()))?;
        let hash = hasher.hash_image(&image);
        let bytes: [u8; 8] = hash
            .as_bytes()
            .try_into()
            .map_err(|_| PreviewError::Encode("perceptual hash of the wrong size".into()))?;
        *turn = u64::from_be_bytes(bytes);
        scratch::give(image.into_raw());
    }
    Ok(Fingerprint { turns })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_every_value_within_the_radius_once() {
        for radius in 0..=3 {
            let all = neighbours(0b1010, radius);
            let expected: usize = (0..=radius as usize).map(|k| binomial(16, k)).sum();
            assert_eq!(all.len(), expected);
            let distinct: std::collections::HashSet<_> = all.iter().collect();
            assert_eq!(distinct.len(), all.len());
            assert!(all.iter().all(|v| (v ^ 0b1010).count_ones() <= radius));
        }
    }

    fn binomial(n: usize, k: usize) -> usize {
        (0..k).fold(1, |acc, i| acc * (n - i) / (i + 1))
    }

    #[test]
    fn the_distance_is_to_the_nearest_turn_and_bands_cut_from_the_top() {
        let print = Fingerprint {
            turns: [0, u64::MAX, 0xFF, 0xF0F0],
        };
        assert_eq!(print.distance(0), 0);
        assert_eq!(print.distance(0xFE), 1);
        assert_eq!(print.distance(u64::MAX ^ 0b111), 3);
        assert_eq!(bands(0x0001_0002_0003_0004), [1, 2, 3, 4]);
    }
}
