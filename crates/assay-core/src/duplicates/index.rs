//! A whole library's fingerprints in memory, for grouping: the multi-index
//! hashing of `catalog::fingerprints` (`assay_preview`'s bands, probed
//! within `d / 4` bits) over tables instead of SQL indexes, since grouping probes
//! thousands of band values for every asset.

use crate::preview::{bands, Fingerprint, BANDS};

/// Many fingerprints, looked up by band; positions are those of the slice
/// it was built from. Each band is a table over all 65,536 values (where
/// each value's positions start, and the positions in value order), so a
/// probe is two reads, not a hash lookup: grouping a whole library makes
/// thousands of probes per asset.
pub(crate) struct Index {
    uprights: Vec<u64>,
    bands: [Band; BANDS],
}

struct Band {
    /// Where the positions of value `v` start in `positions`; `v + 1`'s start ends them.
    starts: Vec<u32>,
    positions: Vec<u32>,
}

impl Band {
    fn new(values: impl Iterator<Item = u16> + Clone) -> Self {
        let mut starts = vec![0u32; (1 << 16) + 1];
        for v in values.clone() {
            starts[usize::from(v) + 1] += 1;
        }
        for v in 0..1 << 16 {
            starts[v + 1] += starts[v];
        }
        let mut next = starts.clone();
        let mut positions = vec![0u32; values.clone().count()];
        for (at, v) in values.enumerate() {
            let slot = &mut next[usize::from(v)];
            positions[*slot as usize] = at as u32;
            *slot += 1;
        }
        Band { starts, positions }
    }

    fn holding(&self, value: u16) -> &[u32] {
        let v = usize::from(value);
        &self.positions[self.starts[v] as usize..self.starts[v + 1] as usize]
    }
}

impl Index {
    pub(crate) fn new(fingerprints: &[Fingerprint]) -> Self {
        let uprights: Vec<u64> = fingerprints.iter().map(|f| f.turns[0]).collect();
        let bands = std::array::from_fn(|band| {
            Band::new(uprights.iter().map(move |&u| self::bands(u)[band]))
        });
        Index { uprights, bands }
    }

    /// The positions of the fingerprints within `max` bits of `query` (any
    /// of its turns), with their distances, `query`'s own included if held.
    pub(crate) fn near(&self, query: &Fingerprint, max: u32) -> Vec<(usize, u32)> {
        // Each candidate is checked where it is met: four XORs and counts
        // cost less than gathering thousands of them to sort out repeats,
        // and only the few that match are sorted.
        let mut found = Vec::new();
        for (band, values) in query.probes(max) {
            for probe in values {
                for &at in self.bands[band].holding(probe) {
                    let d = query.distance(self.uprights[at as usize]);
                    if d <= max {
                        found.push((at as usize, d));
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upright(hash: u64) -> Fingerprint {
        // Turns far from anything, so only the upright hash matches.
        Fingerprint {
            turns: [hash, !hash, hash.rotate_left(17), hash.rotate_left(41)],
        }
    }

    #[test]
    fn finds_exactly_what_a_full_scan_finds() {
        // A pseudo-random spread, and near copies of some of it.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut hashes: Vec<u64> = (0..2000).map(|_| next()).collect();
        for i in 0..200 {
            let flips = (next() % 12) as u32;
            let mut h = hashes[i];
            for _ in 0..flips {
                h ^= 1 << (next() % 64);
            }
            hashes.push(h);
        }
        let fingerprints: Vec<Fingerprint> = hashes.iter().map(|&h| upright(h)).collect();
        let index = Index::new(&fingerprints);
        for max in [0, 4, 8, 11] {
            for query in fingerprints.iter().step_by(37) {
                let mut found = index.near(query, max);
                found.sort_unstable();
                let scanned: Vec<(usize, u32)> = fingerprints
                    .iter()
                    .enumerate()
                    .map(|(at, f)| (at, query.distance(f.turns[0])))
                    .filter(|&(_, d)| d <= max)
                    .collect();
                assert_eq!(found, scanned, "max {max}");
            }
        }
    }

    #[test]
    fn a_copy_turned_on_its_side_is_found_through_the_turns() {
        let original = Fingerprint {
            turns: [1, 2, 3, 4].map(|t: u64| t.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
        };
        // The copy, as shown, is the original turned a quarter.
        let turned = upright(original.turns[1] ^ 0b101);
        let index = Index::new(&[turned]);
        assert_eq!(index.near(&original, 4), vec![(0, 2)]);
    }
}
