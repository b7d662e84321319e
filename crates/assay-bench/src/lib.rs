//! What the benchmark binaries share: generated camera-like test files,
//! cached between runs, and a description of the machine they ran on.

mod exif_segment;
pub mod generate;
pub mod machine;
mod synth;
