//! The core's error type. Every variant names what failed and where, so a
//! front end can show it as is; `code()` gives a stable string to branch on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // The reason is in the message, which the app shows alone; it is not
    // also the error's `source`, or a chain printed whole (`{:#}`, as the
    // CLI does) would say it twice.
    #[error("{path}: {reason}")]
    Io {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("catalog: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("catalog {path}: schema version {found} is newer than this build knows ({known}); upgrade Assay")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("no asset matches {0:?}")]
    NotFound(String),
    #[error("{0:?} matches more than one asset; give more of the id")]
    Ambiguous(String),
    #[error(
        "library folder {0} does not exist (moved, renamed, or on a disk that is not mounted?)"
    )]
    MissingLibrary(PathBuf),
    #[error("no default library folder could be determined on this system; pass --library DIR")]
    NoDefaultLibrary,
    #[error("watching {path}: {message}")]
    Watch { path: PathBuf, message: String },
    #[error("cancelled")]
    Cancelled,
    /// An action the acting user may not take; `rule` names the rule that refused it.
    #[error("refused by rule {rule}: {message}")]
    Refused { rule: &'static str, message: String },
    #[error("no user named {0:?} in this library")]
    UnknownUser(String),
    /// A name Assay refuses (of a user, creator profile, contract or
    /// market); `what` says which kind of name.
    #[error("{message}")]
    InvalidName { what: &'static str, message: String },
    /// A user, creator profile or market of that name exists already.
    #[error("{message}")]
    Exists { what: &'static str, message: String },
    /// No user, creator profile, market or file of that name.
    #[error("{message}")]
    NoSuch { what: &'static str, message: String },
    /// The action needs a value that was not given; `field` names it.
    #[error("{message}")]
    Required {
        field: &'static str,
        message: String,
    },
    /// A given value cannot be used; `field` names it.
    #[error("{message}")]
    InvalidValue {
        field: &'static str,
        message: String,
    },
    /// A file given as input is not what it must be.
    #[error("{message}")]
    BadFile { path: PathBuf, message: String },
    /// Bytes changed between being checked and being written; nothing was
    /// written.
    #[error("{message}")]
    ChangedOnDisk { path: PathBuf, message: String },
    /// The catalog holds what Assay never writes: edited behind its back,
    /// or damaged.
    #[error("{0}")]
    Corrupt(String),
    /// A marketplace answered what its protocol does not allow.
    #[error("{0}")]
    MarketAnswer(String),
    /// A fault of Assay's own: a worker thread panicked, or what it built
    /// failed its own schema. Worth a bug report.
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Key(#[from] crate::identity::keys::KeyError),
    /// A value the schema or the taxonomy refuses; `pointer` is the field's JSON pointer.
    #[error("asset {asset_id}: {pointer}: {reason}")]
    Invalid {
        asset_id: String,
        pointer: String,
        reason: String,
    },
    #[error(transparent)]
    License(#[from] crate::rights::licenses::LicenseError),
    #[error("provenance of asset {asset_id}: {message}")]
    Provenance { asset_id: String, message: String },
}

impl Error {
    pub(crate) fn refused(rule: &'static str, message: impl Into<String>) -> Self {
        Error::Refused {
            rule,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_name(what: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidName {
            what,
            message: message.into(),
        }
    }

    pub(crate) fn exists(what: &'static str, message: impl Into<String>) -> Self {
        Error::Exists {
            what,
            message: message.into(),
        }
    }

    pub(crate) fn no_such(what: &'static str, message: impl Into<String>) -> Self {
        Error::NoSuch {
            what,
            message: message.into(),
        }
    }

    pub(crate) fn required(field: &'static str, message: impl Into<String>) -> Self {
        Error::Required {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_value(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidValue {
            field,
            message: message.into(),
        }
    }

    pub(crate) fn bad_file(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::BadFile {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn changed_on_disk(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::ChangedOnDisk {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, reason: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            reason,
        }
    }

    /// A stable, machine-readable code for UIs and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Io { .. } => "io",
            Error::Db(_) => "catalog",
            Error::SchemaTooNew { .. } => "schema_too_new",
            Error::NotFound(_) => "not_found",
            Error::Ambiguous(_) => "ambiguous",
            Error::MissingLibrary(_) => "library_missing",
            Error::NoDefaultLibrary => "no_default_library",
            Error::Watch { .. } => "watch",
            Error::Cancelled => "cancelled",
            Error::Refused { .. } => "refused",
            Error::UnknownUser(_) => "unknown_user",
            Error::InvalidName { .. } => "invalid_name",
            Error::Exists { .. } => "exists",
            Error::NoSuch { .. } => "no_such",
            Error::Required { .. } => "required",
            Error::InvalidValue { .. } => "invalid_value",
            Error::BadFile { .. } => "bad_file",
            Error::ChangedOnDisk { .. } => "changed_on_disk",
            Error::Corrupt(_) => "catalog_corrupt",
            Error::MarketAnswer(_) => "market_answer",
            Error::Internal(_) => "internal",
            Error::Key(e) => e.code(),
            Error::Provenance { .. } => "provenance",
            Error::Invalid { .. } => "invalid",
            Error::License(e) => e.code(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
