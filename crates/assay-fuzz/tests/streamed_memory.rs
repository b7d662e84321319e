//! What a market holds to fingerprint an upload: the picture decoded from
//! a stream holds a small part of the file at once, where decoding it from
//! memory holds it whole. Measured with the counting allocator (here for
//! the allocator; the fuzz binary installs the same): for a 23.9 MB file,
//! 1.2 MB from the stream, 24.6 MB from memory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufReader, Read, Seek, Write};

use assay_fuzz::memory::{self, Counting};
use assay_preview::{decode_covering, decode_covering_from, fingerprint_of, THUMBNAIL_EDGE};

#[global_allocator]
static ALLOC: Counting = Counting;

/// A 4000x3000 JPEG at quality 98, large squares under noise: the noise
/// makes it the megabytes a camera's would be, the squares give it a shape
/// to hash (a print of noise alone flips with any rounding).
fn large_jpeg() -> Vec<u8> {
    let (width, height) = (4000u16, 3000u16);
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut pixels = Vec::with_capacity(usize::from(width) * usize::from(height) * 3);
    for y in 0..usize::from(height) {
        for x in 0..usize::from(width) {
            let square = ((x / 700 + y / 500) % 3) as u8 * 80;
            for channel in 0..3u8 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                pixels.push(square + channel * 10 + (state as u8) / 4);
            }
        }
    }
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 98)
        .encode(&pixels, width, height, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    jpeg
}

#[test]
fn a_picture_read_from_a_stream_is_never_held_whole() {
    let jpeg = large_jpeg();
    let len = jpeg.len();
    assert!(len > 8 << 20, "{len} bytes: too small to tell");
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&jpeg).unwrap();
    drop(jpeg);

    // From the file, as the market's upload sweep reads its spool.
    file.rewind().unwrap();
    let before = memory::live();
    memory::reset_peak();
    let decoded =
        decode_covering_from(BufReader::new(&file), "image/jpeg", THUMBNAIL_EDGE).unwrap();
    let streamed = fingerprint_of(decoded).unwrap();
    let held_streaming = memory::peak() - before;

    // The peer: the same file read into memory, then decoded.
    file.rewind().unwrap();
    let before = memory::live();
    memory::reset_peak();
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).unwrap();
    let decoded = decode_covering(&bytes, "image/jpeg", THUMBNAIL_EDGE).unwrap();
    let whole = fingerprint_of(decoded).unwrap();
    drop(bytes);
    let held_whole = memory::peak() - before;

    // Rounding apart (4 bits here), one picture to the market.
    let apart = whole.distance(streamed.turns[0]);
    assert!(
        apart <= assay_core::DEFAULT_MAX_DISTANCE,
        "the two prints are {apart} bits apart"
    );
    assert!(
        held_whole > len,
        "decoding from memory held {held_whole} bytes of a {len}-byte file"
    );
    assert!(
        held_streaming < len / 8,
        "decoding from a stream held {held_streaming} bytes of a {len}-byte file"
    );
}
