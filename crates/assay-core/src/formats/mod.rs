//! Reading bytes: media sniffing, what ffprobe says of video and audio, the one pass over a file (checksum and
//! sniffing as it streams), EXIF (BigTIFF too), IPTC IIM, XMP, the metadata a file
//! embeds, the largest JPEG a camera raw embeds, the MPF index of a JPEG's other images, text and PII scanning, and file names every OS can hold. Pure functions of bytes; never opens the
//! catalog and never fails an import (problems are warnings).

pub mod av;
pub(crate) mod bigtiff;
pub mod canonical;
pub(crate) mod embedded;
pub(crate) mod exif;
pub mod file_names;
pub(crate) mod iim;
pub mod media;
pub(crate) mod mpf;
pub(crate) mod one_pass;
pub(crate) mod pii;
pub(crate) mod raw_preview;
pub(crate) mod text;
pub(crate) mod xmp;
