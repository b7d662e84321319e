//! Mutations of seed inputs, in the manner of AFL's havoc stage: a few
//! random edits stacked on a seed (bit flips, interesting integers at
//! random offsets in either byte order, deletions, duplications, random
//! insertions, truncation and splices from another seed). Deterministic
//! for a given RNG seed, so a run can be repeated.

/// xorshift64*: small, fast and good enough to choose mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
}

/// Values that tend to sit on boundaries parsers check (or forget to).
const INTERESTING_8: [u8; 9] = [0, 1, 0x7F, 0x80, 0xFF, 0x10, 0x20, 0x40, 0x64];
const INTERESTING_16: [u16; 8] = [0, 0x7FFF, 0x8000, 0xFFFF, 0x0100, 0x00FF, 0x1000, 0xFFFE];
const INTERESTING_32: [u32; 7] = [
    0,
    0x7FFF_FFFF,
    0x8000_0000,
    0xFFFF_FFFF,
    0x0001_0000,
    0x0000_FFFF,
    0xFFFF_FF00,
];

/// The largest input a mutation makes.
pub const MAX_INPUT: usize = 1 << 20;

/// A mutant of `seed`; `other` is another seed to splice from.
pub fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut data = seed.to_vec();
    let edits = 1 + rng.below(8);
    for _ in 0..edits {
        edit(rng, &mut data, other);
    }
    data.truncate(MAX_INPUT);
    data
}

fn edit(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(11) {
        0 if len > 0 => {
            let at = rng.below(len);
            data[at] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let at = rng.below(len);
            data[at] = INTERESTING_8[rng.below(INTERESTING_8.len())];
        }
        2 if len >= 2 => {
            let at = rng.below(len - 1);
            let v = INTERESTING_16[rng.below(INTERESTING_16.len())];
            put_either_order(rng, &mut data[at..at + 2], &v.to_le_bytes());
        }
        3 if len >= 4 => {
            let at = rng.below(len - 3);
            let v = INTERESTING_32[rng.below(INTERESTING_32.len())];
            put_either_order(rng, &mut data[at..at + 4], &v.to_le_bytes());
        }
        4 if len > 0 => {
            // Add or subtract a little, as length and offset fields drift.
            let at = rng.below(len);
            let delta = 1 + rng.below(35) as u8;
            data[at] = if rng.below(2) == 0 {
                data[at].wrapping_add(delta)
            } else {
                data[at].wrapping_sub(delta)
            };
        }
        5 if len > 1 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            data.drain(at..at + n);
        }
        6 if len > 0 => {
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(256));
            let copy = data[at..at + n].to_vec();
            let to = rng.below(len + 1);
            data.splice(to..to, copy);
        }
        7 => {
            let at = rng.below(len + 1);
            let n = 1 + rng.below(64);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.splice(at..at, bytes);
        }
        8 if len > 0 => {
            data.truncate(rng.below(len));
        }
        9 if !other.is_empty() => {
            // Splice: a piece of another seed over this one.
            let from = rng.below(other.len());
            let n = 1 + rng.below((other.len() - from).min(1024));
            let at = rng.below(len + 1);
            let end = (at + n).min(len);
            data.splice(at..end, other[from..from + n].iter().copied());
        }
        _ if len > 0 => {
            // A run of one byte, as in padding or a field filled wrong.
            let at = rng.below(len);
            let n = 1 + rng.below((len - at).min(64));
            let byte = rng.next_u64() as u8;
            data[at..at + n].fill(byte);
        }
        _ => data.push(rng.next_u64() as u8),
    }
}

/// Writes the little-endian `bytes` into `slot`, in either byte order.
fn put_either_order(rng: &mut Rng, slot: &mut [u8], bytes: &[u8]) {
    slot.copy_from_slice(bytes);
    if rng.below(2) != 0 {
        slot.reverse();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutants_differ_and_repeat_for_the_same_seed() {
        let seed = b"II*\0\x08\0\0\0 a seed of some length".to_vec();
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        let mut changed = 0;
        for _ in 0..1000 {
            let (x, y) = (
                mutate(&mut a, &seed, b"other"),
                mutate(&mut b, &seed, b"other"),
            );
            assert_eq!(x, y);
            changed += usize::from(x != seed);
        }
        assert!(changed > 900, "{changed} of 1000 mutants differ");
        // Empty seeds grow.
        assert!((0..100).any(|_| !mutate(&mut a, b"", b"").is_empty()));
    }
}
