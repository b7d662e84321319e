//! Bringing files in and keeping them honest: walking folders, the import
//! pipeline and its work items (then its second phase, the previews:
//! `previews.rs`, drawing with `pictures.rs`), analysis of each file (video and audio
//! through ffmpeg, `av.rs`; HEIF and AVIF through libheif, `heif.rs`; both
//! as children `tools.rs` runs), the rights a file
//! brings with it, watched folders, and fixity checks. `untrusted.rs`
//! opens the parsers an import runs to the fuzz harness.

pub(crate) mod analyze;
pub(crate) mod av;
pub(crate) mod fixity;
pub(crate) mod heif;
pub(crate) mod import;
pub(crate) mod import_marks;
pub(crate) mod imported_rights;
pub(crate) mod pictures;
pub(crate) mod playback;
pub(crate) mod previews;
pub(crate) mod stacking;
pub(crate) mod tools;
pub mod untrusted;
pub(crate) mod walk;
pub(crate) mod watch;
