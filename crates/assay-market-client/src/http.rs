//! One market's HTTP API: the bearer token on every request, and retries
//! with exponential backoff on connection errors and 5xx answers. Any
//! other answer goes back to the caller, which knows what its statuses mean.

use std::time::Duration;

use crate::error::{Error, Result};

/// How hard to try before giving up on a request.
#[derive(Debug, Clone)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The wait after the first failure; it doubles after each one.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Retry {
        Retry {
            attempts: 6,
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
        }
    }
}

impl Retry {
    /// The wait after failed attempt `n` (1 for the first).
    pub(crate) fn delay(&self, n: u32) -> Duration {
        self.first_delay
            .saturating_mul(1 << n.saturating_sub(1).min(16))
            .min(self.max_delay)
    }
}

/// An answer, whatever its status.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub(crate) struct Api {
    agent: ureq::Agent,
    base: String,
    token: String,
    pub retry: Retry,
}

/// Answers up to this size are read; the largest the protocol sends is a
/// manifest receipt or a listing.
const MAX_ANSWER: u64 = 256 << 20;
/// An error body is a short JSON document.
const MAX_ERROR: u64 = 1 << 20;

impl Api {
    /// The API of the library's market `market`, with the token its file
    /// holds, read now (the library keeps only the file's path).
    pub fn of_market(market: &assay_core::Market, retry: Retry) -> crate::error::Result<Api> {
        let token = std::fs::read_to_string(&market.token_file).map_err(|source| {
            crate::error::Error::Io {
                path: market.token_file.clone(),
                source,
            }
        })?;
        Ok(Api::new(&market.url, token.trim().to_owned(), retry))
    }

    pub fn new(base: &str, token: String, retry: Retry) -> Api {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(600)))
            // The protocol never redirects; a redirect could carry the
            // token to another origin.
            .max_redirects(0)
            .build()
            .new_agent();
        Api {
            agent,
            base: base.trim_end_matches('/').to_owned(),
            token,
            retry,
        }
    }

    /// Sends a request the server may see twice without harm, again after
    /// a connection error or a 5xx, waiting longer each time.
    pub fn send(
        &self,
        method: &'static str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Reply> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = match self.once(method, path, headers, body) {
                Ok(reply) if reply.status < 500 => return Ok(reply),
                Ok(reply) => format!(
                    "{} {}",
                    reply.status,
                    String::from_utf8_lossy(&reply.body)
                        .chars()
                        .take(200)
                        .collect::<String>()
                ),
                Err(e) => e,
            };
            if attempt >= self.retry.attempts {
                return Err(Error::Unreachable {
                    method,
                    path: path.to_owned(),
                    attempts: attempt,
                    last,
                });
            }
            std::thread::sleep(self.retry.delay(attempt));
        }
    }

    /// `GET path` once, its body written to `sink` as it arrives (never
    /// all in memory) when the answer is 200, and at most `limit` bytes of
    /// it; any other answer's body is in the reply. `Err` is a connection
    /// error or a body cut short, as text.
    pub fn get_to(
        &self,
        path: &str,
        limit: u64,
        sink: &mut dyn std::io::Write,
    ) -> Result<Reply, String> {
        let request = ureq::http::Request::builder()
            .method("GET")
            .uri(self.url(path)?)
            .header("Authorization", format!("Bearer {}", self.token))
            .body(())
            .map_err(|e| e.to_string())?;
        let response = self.agent.run(request).map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        if status != 200 {
            let body = body
                .with_config()
                .limit(MAX_ERROR)
                .read_to_vec()
                .map_err(|e| e.to_string())?;
            return Ok(Reply {
                status,
                headers,
                body,
            });
        }
        let mut reader = body.with_config().limit(limit).reader();
        std::io::copy(&mut reader, sink).map_err(|e| e.to_string())?;
        Ok(Reply {
            status,
            headers,
            body: Vec::new(),
        })
    }

    /// The URL of `path` on the market. An absolute URL (a link the market
    /// answered with) must be on the market's own origin, scheme included:
    /// the bearer token goes with every request, so it never goes to
    /// another host, nor over plain HTTP to a market reached over HTTPS.
    fn url(&self, path: &str) -> Result<String, String> {
        if !(path.starts_with("http://") || path.starts_with("https://")) {
            return Ok(format!("{}{path}", self.base));
        }
        if origin(path) == origin(&self.base) {
            Ok(path.to_owned())
        } else {
            Err(format!(
                "{path:?} is not on the market's origin {}; the token is not sent there",
                origin(&self.base)
            ))
        }
    }

    /// Sends a request once; `Err` is a connection error, as text.
    pub fn once(
        &self,
        method: &'static str,
        path: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<Reply, String> {
        let url = self.url(path)?;
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Authorization", format!("Bearer {}", self.token));
        for (name, value) in headers {
            builder = builder.header(*name, value);
        }
        let sent = match method {
            "GET" | "HEAD" | "DELETE" => builder.body(()).map(|r| self.agent.run(r)),
            _ => builder.body(body).map(|r| self.agent.run(r)),
        };
        let response = sent
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = if method == "HEAD" {
            Vec::new()
        } else {
            response
                .into_body()
                .with_config()
                .limit(MAX_ANSWER)
                .read_to_vec()
                .map_err(|e| e.to_string())?
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

/// `scheme://host[:port]` of an absolute URL, lowercased.
fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    format!(
        "{}://{}",
        scheme.to_ascii_lowercase(),
        authority.to_ascii_lowercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_only_to_the_markets_own_origin() {
        let api = Api::new(
            "https://market.example:8443",
            "amk_x".into(),
            Retry::default(),
        );
        assert_eq!(
            api.url("/v1/keys").unwrap(),
            "https://market.example:8443/v1/keys"
        );
        assert!(api
            .url("https://MARKET.example:8443/v1/downloads/t")
            .is_ok());
        for elsewhere in [
            "http://market.example:8443/v1/downloads/t",
            "https://market.example/v1/downloads/t",
            "https://evil.example:8443/v1/downloads/t",
            "https://market.example:8443@evil.example/x",
        ] {
            assert!(api.url(elsewhere).is_err(), "{elsewhere}");
        }
    }
}
