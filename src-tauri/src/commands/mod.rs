//! The commands the front end calls. Each takes the state, calls the core
//! and maps its error; none decides anything itself.

pub mod assets;
pub mod duplicates;
pub mod export;
pub mod fields;
pub mod fixity;
pub mod import;
pub mod library;
pub mod market;
pub mod report;
pub mod review;
pub mod settings;
