//! BigTIFF (TIFF with 64-bit offsets, magic 43) rewritten as a classic
//! TIFF holding the same tags, so the one EXIF reader reads both.
//! kamadak-exif knows classic TIFF only; without this a BigTIFF kept none
//! of its tags.
//!
//! Only the metadata moves: IFD0, IFD1 and the Exif, GPS and Interop IFDs
//! they point to, each entry's values copied out beside it. Offsets inside
//! values (strip offsets, say) still point into the original file; they
//! are shown as numbers, never followed. The input is untrusted: every
//! count and offset is checked against the file, IFDs are visited once,
//! and the output is never larger than the tags it copies.

use std::collections::HashSet;

/// Entries read from one IFD at most; real files have tens.
const MAX_ENTRIES: u64 = 4096;
/// Bytes of values copied at most; a classic TIFF's offsets are 32-bit.
const MAX_OUTPUT: usize = 64 << 20;

/// Pointer tags to sub-IFDs that are carried over (Exif, GPS, Interop).
const SUB_IFDS: [u16; 3] = [0x8769, 0x8825, 0xA005];

/// Whether `bytes` begins like a BigTIFF.
pub fn is_bigtiff(bytes: &[u8]) -> bool {
    bytes.starts_with(b"II+\0") || bytes.starts_with(b"MM\0+")
}

/// The classic TIFF holding `bytes`' metadata; an error says what about
/// the BigTIFF structure could not be read. Entries that cannot be carried
/// over (values past the end of the file, 64-bit values too large for a
/// classic TIFF) are skipped and named in the returned warnings.
pub fn to_classic(bytes: &[u8]) -> Result<(Vec<u8>, Vec<String>), String> {
    let source = Source::new(bytes)?;
    if source.u16(4)? != 8 || source.u16(6)? != 0 {
        return Err("BigTIFF: offsets are not 8 bytes wide".to_owned());
    }
    let first = source.u64(8)?;
    let mut writer = Writer {
        source: &source,
        out: Vec::with_capacity(bytes.len().min(1 << 16)),
        visited: HashSet::new(),
        warnings: Vec::new(),
    };
    writer.out.extend_from_slice(if source.little {
        b"II*\0\x08\0\0\0"
    } else {
        b"MM\0*\0\0\0\x08"
    });
    let ifd1 = writer.ifd(first)?;
    // IFD1 (the thumbnail's) follows IFD0 in the chain.
    if let Some(next) = ifd1.filter(|&n| n != 0) {
        let at = writer.out.len();
        if writer.ifd(next).is_ok() {
            writer.patch_next_of_first(at)?;
        } else {
            writer.out.truncate(at);
        }
    }
    Ok((writer.out, writer.warnings))
}

struct Source<'a> {
    bytes: &'a [u8],
    little: bool,
}

impl<'a> Source<'a> {
    fn new(bytes: &'a [u8]) -> Result<Source<'a>, String> {
        let little = match bytes.get(..4) {
            Some(b"II+\0") => true,
            Some(b"MM\0+") => false,
            _ => return Err("not a BigTIFF".to_owned()),
        };
        Ok(Source { bytes, little })
    }

    fn slice(&self, at: u64, len: u64) -> Result<&'a [u8], String> {
        let start = usize::try_from(at).map_err(|_| self.past(at))?;
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| start.checked_add(len))
            .ok_or_else(|| self.past(at))?;
        self.bytes.get(start..end).ok_or_else(|| self.past(at))
    }

    fn past(&self, at: u64) -> String {
        format!(
            "BigTIFF: offset {at} is past the end of the file ({} bytes)",
            self.bytes.len()
        )
    }

    /// `N` bytes at `at`, in little-endian order whatever the file's.
    fn le<const N: usize>(&self, at: u64) -> Result<[u8; N], String> {
        let b: [u8; N] = self
            .slice(at, N as u64)?
            .try_into()
            .map_err(|_| self.past(at))?;
        Ok(swapped(self.little, b))
    }

    fn u16(&self, at: u64) -> Result<u16, String> {
        self.le(at).map(u16::from_le_bytes)
    }

    fn u64(&self, at: u64) -> Result<u64, String> {
        self.le(at).map(u64::from_le_bytes)
    }
}

/// `bytes` turned between little-endian and the file's byte order (the
/// same reversal either way).
fn swapped<const N: usize>(little: bool, mut bytes: [u8; N]) -> [u8; N] {
    if !little {
        bytes.reverse();
    }
    bytes
}

/// The size of one value of a TIFF field type; `None` for unknown types.
fn type_size(kind: u16) -> Option<u64> {
    Some(match kind {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

struct Writer<'s, 'a> {
    source: &'s Source<'a>,
    out: Vec<u8>,
    visited: HashSet<u64>,
    warnings: Vec<String>,
}

/// One entry as it goes into the classic IFD.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// The values, in the file's byte order.
    data: Vec<u8>,
    /// A sub-IFD to copy, whose new offset becomes the value.
    sub_ifd: Option<u64>,
}

impl Writer<'_, '_> {
    fn u16_bytes(&self, v: u16) -> [u8; 2] {
        swapped(self.source.little, v.to_le_bytes())
    }

    fn u32_bytes(&self, v: u32) -> [u8; 4] {
        swapped(self.source.little, v.to_le_bytes())
    }

    fn offset(&self) -> Result<u32, String> {
        u32::try_from(self.out.len())
            .ok()
            .filter(|_| self.out.len() <= MAX_OUTPUT)
            .ok_or_else(|| "BigTIFF: its tags are too large to carry over".to_owned())
    }

    /// Copies the IFD at `at` (and the sub-IFDs it points to) to the end of
    /// the output; returns the offset of the next IFD in the source chain.
    fn ifd(&mut self, at: u64) -> Result<Option<u64>, String> {
        if !self.visited.insert(at) {
            return Err(format!("BigTIFF: the IFD at {at} is reached twice"));
        }
        let source = self.source;
        let count = source.u64(at)?;
        if count > MAX_ENTRIES {
            return Err(format!("BigTIFF: the IFD at {at} claims {count} entries"));
        }
        let mut entries = Vec::new();
        // Values are copied before they are written: bound them here too.
        let mut copied = self.out.len();
        for i in 0..count {
            let e = at + 8 + i * 20;
            let tag = source.u16(e)?;
            match self.entry(e) {
                Ok(entry) => {
                    copied = copied.saturating_add(entry.data.len());
                    if copied > MAX_OUTPUT {
                        return Err("BigTIFF: its tags are too large to carry over".to_owned());
                    }
                    entries.push(entry);
                }
                Err(why) => self.warnings.push(format!(
                    "EXIF: skipped a damaged entry (tag {tag:#06x}): {why}"
                )),
            }
        }
        let next = source.u64(at + 8 + count * 20).ok();
        self.write_ifd(entries)?;
        Ok(next)
    }

    fn entry(&mut self, e: u64) -> Result<Entry, String> {
        let source = self.source;
        let tag = source.u16(e)?;
        let kind = source.u16(e + 2)?;
        let count = source.u64(e + 4)?;
        let size = type_size(kind).ok_or_else(|| format!("unknown field type {kind}"))?;
        let len = count
            .checked_mul(size)
            .filter(|&len| len <= source.bytes.len() as u64)
            .ok_or_else(|| format!("{count} values are more than the file holds"))?;
        let data = if len <= 8 {
            source.slice(e + 12, len)?
        } else {
            source.slice(source.u64(e + 12)?, len)?
        };
        let count32 = u32::try_from(count).map_err(|_| format!("{count} values"))?;
        if SUB_IFDS.contains(&tag) {
            let pointer = match (kind, data.len()) {
                (4 | 13, 4) => u64::from(u32::from_le_bytes(self.in_order(data)?)),
                (16 | 18, 8) => u64::from_le_bytes(self.in_order(data)?),
                _ => return Err("a sub-IFD pointer that is not one offset".to_owned()),
            };
            return Ok(Entry {
                tag,
                kind: 4,
                count: 1,
                data: Vec::new(),
                sub_ifd: Some(pointer),
            });
        }
        if matches!(kind, 16..=18) {
            // LONG8, SLONG8, IFD8: classic TIFF has LONG and SLONG only.
            let mut narrowed = Vec::with_capacity(data.len() / 2);
            for value in data.chunks_exact(8) {
                let v = u64::from_le_bytes(self.in_order(value)?);
                let fits = if kind == 17 {
                    i32::try_from(v as i64).is_ok()
                } else {
                    u32::try_from(v).is_ok()
                };
                if !fits {
                    return Err(format!("the 64-bit value {v} does not fit a classic TIFF"));
                }
                narrowed.extend_from_slice(&self.u32_bytes(v as u32));
            }
            return Ok(Entry {
                tag,
                kind: if kind == 17 { 9 } else { 4 },
                count: count32,
                data: narrowed,
                sub_ifd: None,
            });
        }
        Ok(Entry {
            tag,
            kind,
            count: count32,
            data: data.to_vec(),
            sub_ifd: None,
        })
    }

    /// `data` (a value in the file's byte order) as a little-endian array.
    fn in_order<const N: usize>(&self, data: &[u8]) -> Result<[u8; N], String> {
        let b: [u8; N] = data
            .try_into()
            .map_err(|_| "a value of the wrong size".to_owned())?;
        Ok(swapped(self.source.little, b))
    }

    /// Writes a classic IFD of `entries`, then their values and sub-IFDs.
    fn write_ifd(&mut self, mut entries: Vec<Entry>) -> Result<(), String> {
        entries.sort_by_key(|e| e.tag);
        let start = self.out.len();
        let count = u16::try_from(entries.len()).map_err(|_| "too many entries".to_owned())?;
        let count = self.u16_bytes(count);
        self.out.extend_from_slice(&count);
        // Entries are filled in once their values have a place.
        self.out.resize(start + 2 + entries.len() * 12 + 4, 0);
        for (i, entry) in entries.iter().enumerate() {
            let at = start + 2 + i * 12;
            let value: [u8; 4] = if let Some(sub) = entry.sub_ifd {
                let here = self.offset()?;
                match self.ifd(sub) {
                    Ok(_) => self.u32_bytes(here),
                    Err(why) => {
                        self.out.truncate(here as usize);
                        self.warnings
                            .push(format!("EXIF: skipped a damaged IFD: {why}"));
                        continue;
                    }
                }
            } else if entry.data.len() <= 4 {
                let mut inline = [0u8; 4];
                inline[..entry.data.len()].copy_from_slice(&entry.data);
                inline
            } else {
                let here = self.offset()?;
                self.out.extend_from_slice(&entry.data);
                // Values start on a word boundary.
                if self.out.len() % 2 == 1 {
                    self.out.push(0);
                }
                self.u32_bytes(here)
            };
            let mut head = Vec::with_capacity(12);
            let (tag, kind, n) = (entry.tag, entry.kind, entry.count);
            head.extend_from_slice(&self.u16_bytes(tag));
            head.extend_from_slice(&self.u16_bytes(kind));
            head.extend_from_slice(&self.u32_bytes(n));
            head.extend_from_slice(&value);
            self.out[at..at + 12].copy_from_slice(&head);
        }
        self.offset().map(|_| ())
    }

    /// Points IFD0's next-IFD link (IFD0 starts at 8) at `ifd1`.
    fn patch_next_of_first(&mut self, ifd1: usize) -> Result<(), String> {
        let count = usize::from(u16::from_le_bytes(
            self.in_order(self.out.get(8..10).ok_or("no IFD0")?)?,
        ));
        let link = 8 + 2 + count * 12;
        let value = self.u32_bytes(u32::try_from(ifd1).map_err(|_| "too large")?);
        self.out
            .get_mut(link..link + 4)
            .ok_or("no IFD0 link")?
            .copy_from_slice(&value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian BigTIFF with IFD0 holding Make (ASCII, out of line),
    /// Orientation (SHORT, inline), an ImageWidth as LONG8, and a pointer
    /// to an Exif IFD with ISO.
    fn sample(big_endian: bool) -> Vec<u8> {
        let mut b = Vec::new();
        let w16 = |b: &mut Vec<u8>, v: u16| {
            b.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        let w64 = |b: &mut Vec<u8>, v: u64| {
            b.extend_from_slice(&if big_endian {
                v.to_be_bytes()
            } else {
                v.to_le_bytes()
            })
        };
        b.extend_from_slice(if big_endian { b"MM\0+" } else { b"II+\0" });
        w16(&mut b, 8);
        w16(&mut b, 0);
        w64(&mut b, 16);
        // IFD0 at 16: 4 entries, then next = 0; Make's text at 16+8+80+8.
        let text_at = 16 + 8 + 4 * 20 + 8;
        let exif_at = text_at + 16;
        w64(&mut b, 4);
        for (tag, kind, count, value) in [
            (0x010F_u16, 2_u16, 11_u64, Some(text_at as u64)),
            (0x0112, 3, 1, None),
            (0x0100, 16, 1, Some(4000)),
            (0x8769, 18, 1, Some(exif_at as u64)),
        ] {
            w16(&mut b, tag);
            w16(&mut b, kind);
            w64(&mut b, count);
            match value {
                Some(v) => w64(&mut b, v),
                None => {
                    // Orientation 6, inline in the first two bytes.
                    w16(&mut b, 6);
                    b.extend_from_slice(&[0; 6]);
                }
            }
        }
        w64(&mut b, 0);
        b.extend_from_slice(b"Hasselblad\0\0\0\0\0\0");
        // Exif IFD: ISO (SHORT) 400.
        w64(&mut b, 1);
        w16(&mut b, 0x8827);
        w16(&mut b, 3);
        w64(&mut b, 1);
        w16(&mut b, 400);
        b.extend_from_slice(&[0; 6]);
        w64(&mut b, 0);
        b
    }

    #[test]
    fn a_bigtiff_reads_as_the_classic_tiff_of_its_tags() {
        for big_endian in [false, true] {
            let (classic, warnings) = to_classic(&sample(big_endian)).unwrap();
            assert!(warnings.is_empty(), "{warnings:?}");
            let exif = exif::Reader::new().read_raw(classic).unwrap();
            let field = |tag| exif.get_field(tag, exif::In::PRIMARY).unwrap();
            assert_eq!(
                field(exif::Tag::Make).display_value().to_string(),
                "\"Hasselblad\""
            );
            assert_eq!(field(exif::Tag::Orientation).value.get_uint(0), Some(6));
            assert_eq!(field(exif::Tag::ImageWidth).value.get_uint(0), Some(4000));
            assert_eq!(
                field(exif::Tag::PhotographicSensitivity).value.get_uint(0),
                Some(400)
            );
        }
    }

    #[test]
    fn damage_costs_only_the_damaged_entry() {
        let mut bytes = sample(false);
        // Make's count: far more than the file holds.
        bytes[16 + 8 + 4..16 + 8 + 12].copy_from_slice(&u64::MAX.to_le_bytes());
        let (classic, warnings) = to_classic(&bytes).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("0x010f"), "{warnings:?}");
        let exif = exif::Reader::new().read_raw(classic).unwrap();
        assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_none());
        assert!(exif
            .get_field(exif::Tag::PhotographicSensitivity, exif::In::PRIMARY)
            .is_some());
        // Entries that each claim the whole file cannot add up past the cap.
        let mut greedy = sample(false);
        greedy.resize(1 << 20, 0);
        let entries = 2000u64;
        let ifd = greedy.len() as u64;
        greedy[8..16].copy_from_slice(&ifd.to_le_bytes());
        greedy.extend_from_slice(&entries.to_le_bytes());
        for _ in 0..entries {
            greedy.extend_from_slice(&0x010Eu16.to_le_bytes());
            greedy.extend_from_slice(&7u16.to_le_bytes());
            greedy.extend_from_slice(&(ifd - 16).to_le_bytes());
            greedy.extend_from_slice(&16u64.to_le_bytes());
        }
        greedy.extend_from_slice(&0u64.to_le_bytes());
        assert!(to_classic(&greedy)
            .err()
            .is_some_and(|e| e.contains("too large")));
        // IFD0 whose next IFD is itself is read once.
        let mut looped = sample(false);
        looped[104..112].copy_from_slice(&16u64.to_le_bytes());
        let (classic, _) = to_classic(&looped).unwrap();
        assert!(exif::Reader::new().read_raw(classic).is_ok());
        // Truncated anywhere: an error or fewer tags, never a panic.
        let whole = sample(true);
        for len in 0..whole.len() {
            let _ = to_classic(&whole[..len]);
        }
    }
}
