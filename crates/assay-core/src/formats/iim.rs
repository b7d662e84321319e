//! IPTC IIM, the block of "IPTC" fields older than XMP and still written
//! beside it: a run of `0x1C record dataset length value` datasets. JPEG
//! files carry it as Photoshop image resource 0x0404 in APP13; TIFF files
//! in tag 33723. Damaged data ends the reading; what came before it stands.

/// Datasets of the application record (record 2) that carry rights.
pub const OBJECT_NAME: u8 = 5;
pub const BY_LINE: u8 = 80;
pub const COPYRIGHT_NOTICE: u8 = 116;

/// The application-record datasets of one IIM block, in file order.
#[derive(Debug, Default)]
pub struct Iim {
    datasets: Vec<(u8, Vec<u8>)>,
}

impl Iim {
    /// Every value of `dataset` (By-line repeats, one per creator).
    pub fn all(&self, dataset: u8) -> Vec<String> {
        self.datasets
            .iter()
            .filter(|(d, _)| *d == dataset)
            .map(|(_, value)| text(value))
            .collect()
    }

    pub fn first(&self, dataset: u8) -> Option<String> {
        self.all(dataset).into_iter().next()
    }
}

/// The IIM block among Photoshop image resources (`8BIM` blocks), if any.
pub fn in_photoshop_resources(mut resources: &[u8]) -> Option<&[u8]> {
    const IPTC_NAA: u16 = 0x0404;
    while let [b'8', b'B', b'I', b'M', id1, id2, name_len, rest @ ..] = resources {
        // The Pascal name (its length byte included) is padded to an even size.
        let name_size = usize::from(*name_len) + 1;
        let rest = rest.get(name_size + name_size % 2 - 1..)?;
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?);
        let size = usize::try_from(size).ok()?;
        let data = rest.get(4..4usize.checked_add(size)?)?;
        if u16::from_be_bytes([*id1, *id2]) == IPTC_NAA {
            return Some(data);
        }
        resources = rest.get(4 + size + size % 2..)?;
    }
    None
}

/// Reads the datasets of an IIM block.
pub fn parse(mut block: &[u8]) -> Iim {
    let mut iim = Iim::default();
    while let [0x1C, record, dataset, len1, len2, rest @ ..] = block {
        let len = u16::from_be_bytes([*len1, *len2]);
        // An extended dataset: the low 15 bits count the bytes of the length.
        let (len, rest) = if len & 0x8000 == 0 {
            (usize::from(len), rest)
        } else {
            let count = usize::from(len & 0x7FFF);
            let Some(digits) = rest.get(..count).filter(|_| count <= 4) else {
                break;
            };
            let len = digits
                .iter()
                .fold(0usize, |n, &b| (n << 8) | usize::from(b));
            (len, &rest[count..])
        };
        let Some(value) = rest.get(..len) else { break };
        if *record == 2 {
            iim.datasets.push((*dataset, value.to_vec()));
        }
        block = &rest[len..];
    }
    iim
}

/// A dataset's text. IIM declares UTF-8 in its envelope (1:90), but many
/// writers leave the declaration out; text that is valid UTF-8 is taken as
/// UTF-8, anything else as Windows-1252, what older writers used.
fn text(value: &[u8]) -> String {
    let text = match std::str::from_utf8(value) {
        Ok(text) => text.to_owned(),
        Err(_) => value.iter().map(|&b| windows_1252(b)).collect(),
    };
    text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned()
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9F => HIGH[usize::from(b - 0x80)],
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(record: u8, dataset: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![0x1C, record, dataset];
        out.extend((value.len() as u16).to_be_bytes());
        out.extend(value);
        out
    }

    #[test]
    fn datasets_are_read_from_photoshop_resources() {
        let mut iim = dataset(1, 90, b"\x1B%G");
        iim.extend(dataset(2, BY_LINE, b"Ann"));
        iim.extend(dataset(2, BY_LINE, b"Bo "));
        iim.extend(dataset(2, COPYRIGHT_NOTICE, b"\xA9 2004 Caf\xE9 \x93X\x94"));
        // An extended dataset: two length bytes follow the length field.
        iim.extend([0x1C, 2, OBJECT_NAME, 0x80, 0x02, 0x00, 0x04]);
        iim.extend(b"Dawn");

        let mut resources = Vec::new();
        // Another resource first, with a one-letter name (padded) and odd size.
        resources.extend(b"8BIM\x04\x0C\x01a\0\0\0\x03xyz\0");
        resources.extend(b"8BIM\x04\x04\0\0");
        resources.extend((iim.len() as u32).to_be_bytes());
        resources.extend(&iim);

        let block = in_photoshop_resources(&resources).unwrap();
        let read = parse(block);
        assert_eq!(read.all(BY_LINE), ["Ann", "Bo"]);
        assert_eq!(read.first(COPYRIGHT_NOTICE).unwrap(), "© 2004 Café “X”");
        assert_eq!(read.first(OBJECT_NAME).unwrap(), "Dawn");
    }

    #[test]
    fn damaged_blocks_keep_what_came_before() {
        let mut iim = dataset(2, BY_LINE, b"Ann");
        iim.extend([0x1C, 2, OBJECT_NAME, 0x00, 0x40, b'x']);
        assert_eq!(parse(&iim).all(BY_LINE), ["Ann"]);
        assert_eq!(parse(&iim).first(OBJECT_NAME), None);
        assert!(parse(b"\x1C\x02").all(BY_LINE).is_empty());
        assert_eq!(
            in_photoshop_resources(b"8BIM\x04\x04\0\0\xFF\xFF\xFF\xFF"),
            None
        );
        assert_eq!(in_photoshop_resources(b"8BIM"), None);
    }
}
