//! The client's error type: what the market refused (with its stable code),
//! what could not be reached after every retry, and what the library said.

use assay_market_proto::ErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The market answered 4xx: the request itself is wrong and sending it
    /// again would not help. `code` is the protocol's stable error code.
    #[error("{method} {path}: the market refused it ({status} {code}): {message}")]
    Refused {
        method: &'static str,
        path: String,
        status: u16,
        code: String,
        message: String,
    },
    /// The market could not be reached, or kept failing (5xx), after every retry.
    #[error("{method} {path}: gave up after {attempts} attempts: {last}")]
    Unreachable {
        method: &'static str,
        path: String,
        attempts: u32,
        last: String,
    },
    /// An answer that breaks the protocol (a missing header, a body that
    /// does not parse).
    #[error("{method} {path}: unexpected answer: {message}")]
    Protocol {
        method: &'static str,
        path: String,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A listing must be created and no price was given.
    #[error("manifest {0} needs a listing: give a price and a currency")]
    NoTerms(String),
    #[error("asset {0}: no location of its file is present; run `assay verify`")]
    NoFile(String),
    #[error("cancelled")]
    Cancelled,
    /// A request the client will not send, such as a malformed id.
    #[error("{0}")]
    Invalid(String),
    /// A signed document that does not hold: not the one expected, or its
    /// signature is not a trusted key's.
    #[error("{what} cannot be trusted: {}", failures.join("; "))]
    Untrusted { what: String, failures: Vec<String> },
    #[error(transparent)]
    Library(#[from] assay_core::Error),
}

impl Error {
    /// A stable, machine-readable code for scripts: the market's own code
    /// for its refusals.
    pub fn code(&self) -> &str {
        match self {
            Error::Refused { code, .. } => code,
            Error::Unreachable { .. } => "unreachable",
            Error::Protocol { .. } => "protocol",
            Error::Io { .. } => "io",
            Error::NoTerms(_) => "no_terms",
            Error::NoFile(_) => "no_file",
            Error::Cancelled => "cancelled",
            Error::Invalid(_) => "invalid",
            Error::Untrusted { .. } => "untrusted",
            Error::Library(e) => e.code(),
        }
    }

    pub(crate) fn refused(method: &'static str, path: &str, status: u16, body: &[u8]) -> Error {
        let (code, message) = match serde_json::from_slice::<ErrorBody>(body) {
            Ok(body) => {
                let mut message = body.message;
                for problem in body.problems.iter().skip(1) {
                    message.push_str(&format!("; {}: {}", problem.pointer, problem.message));
                }
                (body.code, message)
            }
            Err(_) => (
                "unknown".to_owned(),
                String::from_utf8_lossy(body).chars().take(500).collect(),
            ),
        };
        Error::Refused {
            method,
            path: path.to_owned(),
            status,
            code,
            message,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
