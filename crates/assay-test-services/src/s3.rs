//! An S3-compatible server for one test: moto's server (`moto_server`, from
//! the virtualenv `scripts/setup.sh` installs it into) on a free loopback
//! port, with one empty bucket. It keeps objects in memory and is stopped,
//! with everything it held, when the [`S3Server`] is dropped.
//!
//! moto checks what a real S3 checks and a stand-in might not: a multipart
//! upload's parts but the last must be at least 5 MiB, an upload id must
//! exist, ranges are honoured. It does not check signatures, so any
//! access key works.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long the server may take to answer its first request.
const START_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error("moto's S3 server is not installed at {0} (scripts/setup.sh installs it)")]
    NotInstalled(PathBuf),
    #[error(transparent)]
    Deadline(#[from] assay_deadline::Error),
    #[error("the S3 server on {addr}: {what}")]
    Request { addr: SocketAddr, what: String },
}

pub struct S3Server {
    child: Child,
    addr: SocketAddr,
    bucket: String,
}

/// Where setup installs moto's server.
fn program() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    home.join(".cache/assay/venv-moto/bin/moto_server")
}

impl S3Server {
    /// Starts a server with one empty bucket, `bucket`.
    pub fn start(bucket: &str) -> Result<S3Server, S3Error> {
        let program = program();
        if !program.is_file() {
            return Err(S3Error::NotInstalled(program));
        }
        let addr = free_port().map_err(|e| S3Error::Request {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            what: format!("finding a free port: {e}"),
        })?;
        let mut cmd = Command::new(&program);
        cmd.args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let what = assay_deadline::describe(&cmd);
        let child = assay_deadline::spawn(&mut cmd, &what)?;
        let server = S3Server {
            child,
            addr,
            bucket: bucket.to_owned(),
        };
        assay_deadline::until(&format!("{what} to answer"), START_LIMIT, || {
            server.request("GET", "/").ok()
        })?;
        let (status, body) = server.request("PUT", &format!("/{bucket}"))?;
        if status != 200 {
            return Err(S3Error::Request {
                addr,
                what: format!("creating bucket {bucket}: HTTP {status}: {body}"),
            });
        }
        Ok(server)
    }

    /// `http://127.0.0.1:PORT`, the endpoint clients are given.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The market's `--blobs` value for this server's bucket.
    pub fn blobs_url(&self) -> String {
        format!("s3://{}?endpoint={}", self.bucket, self.endpoint())
    }

    /// One request with an empty body; its status and body. Path-style
    /// addressing (`/BUCKET/KEY`), unsigned: moto does not check.
    pub fn request(&self, method: &str, path: &str) -> Result<(u16, String), S3Error> {
        let fail = |what: String| S3Error::Request {
            addr: self.addr,
            what,
        };
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .map_err(|e| fail(format!("connecting: {e}")))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .map_err(|e| fail(e.to_string()))?;
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .map_err(|e| fail(format!("{method} {path}: {e}")))?;
        let mut answer = String::new();
        stream
            .read_to_string(&mut answer)
            .map_err(|e| fail(format!("{method} {path}: {e}")))?;
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| fail(format!("{method} {path}: no HTTP status in {answer:?}")))?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default();
        Ok((status, body))
    }

    /// The keys the bucket holds under `prefix`, from S3's own listing.
    pub fn keys(&self, prefix: &str) -> Result<Vec<String>, S3Error> {
        let (status, body) = self.request(
            "GET",
            &format!("/{}?list-type=2&prefix={prefix}", self.bucket),
        )?;
        if status != 200 {
            return Err(S3Error::Request {
                addr: self.addr,
                what: format!("listing {prefix}: HTTP {status}: {body}"),
            });
        }
        Ok(body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect())
    }

    /// Multipart uploads begun and neither completed nor aborted.
    pub fn open_multipart_uploads(&self) -> Result<usize, S3Error> {
        let (status, body) = self.request("GET", &format!("/{}?uploads", self.bucket))?;
        if status != 200 {
            return Err(S3Error::Request {
                addr: self.addr,
                what: format!("listing multipart uploads: HTTP {status}: {body}"),
            });
        }
        Ok(body.matches("<UploadId>").count())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        assay_deadline::stop(&mut self.child);
    }
}

/// A loopback port nothing listens on now (the system's pick for port 0).
fn free_port() -> std::io::Result<SocketAddr> {
    TcpListener::bind("127.0.0.1:0")?.local_addr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_with_an_empty_bucket_and_stops_when_dropped() {
        let server = S3Server::start("assay-test").unwrap();
        assert!(server.keys("").unwrap().is_empty());
        assert_eq!(server.open_multipart_uploads().unwrap(), 0);
        let addr = server.addr;
        drop(server);
        assert!(TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
    }
}
