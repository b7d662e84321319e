//! Opening a library. The catalog group opens the folder and migrates the
//! catalog's schema; a few migrations also need data only higher groups can
//! make (the provenance backfill signs events with the library's key), so
//! opening is composed here, above every group.

use std::path::Path;

use crate::catalog::library::{Library, DB_FILE};
use crate::catalog::migrations::CHAIN_VERSION;
use crate::error::{Error, Result};

impl Library {
    /// Opens the library at `root`, creating the folder, catalog and
    /// `previews/` if needed, and migrating the catalog to this build's version.
    pub fn open(root: impl AsRef<Path>) -> Result<Self> {
        let (library, found) = Library::open_catalog(root.as_ref())?;
        if found < CHAIN_VERSION {
            let mut conn = library.connect()?;
            crate::provenance::chain::backfill(&library, &mut conn)?;
        }
        // Whatever a killed export left staged is put in place first.
        library.finish_pending_files()?;
        Ok(library)
    }

    /// Opens the library at `root`, which must already be a library folder:
    /// a library that went missing is reported, never silently re-created.
    pub fn open_existing(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        if !root.join(DB_FILE).is_file() {
            return Err(Error::MissingLibrary(root.to_owned()));
        }
        Library::open(root)
    }
}
