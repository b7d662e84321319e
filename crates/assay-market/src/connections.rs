//! The accept loop: HTTP/1.1 connections that no peer can hold open
//! indefinitely, and a shutdown that finishes in bounded time.
//!
//! `axum::serve` has no timeouts at all: a client that sends its headers a
//! byte a minute, a body that never ends, or a download it never reads
//! holds a connection (and for uploads and downloads a slot and a thread)
//! forever. Here each of those has a deadline:
//!
//! - request headers, and the idle wait for the next request on a kept-alive
//!   connection, end after [`ConnectionLimits::header_read`] (hyper's own
//!   header timer, which restarts for every request);
//! - a request body that sends no bytes for [`ConnectionLimits::body_idle`],
//!   or arrives slower than [`ConnectionLimits::body_min_rate`] on average,
//!   ends with an error, which the handler sees as a broken body (an
//!   upload keeps what arrived, as tus asks; `paced_body.rs`);
//! - a response write that makes no progress for
//!   [`ConnectionLimits::write_stall`] closes the connection, so a download
//!   nobody reads gives back its slot and its reader thread;
//! - on shutdown, connections finish the request under way and get
//!   [`ConnectionLimits::shutdown_grace`] to do so; whatever is left is
//!   dropped.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use rustix::io::Errno;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio::time::Sleep;
use tower::ServiceExt as _;

use crate::paced_body::{Pace, PacedBody};

/// How long a peer may keep a connection waiting.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// From the first byte of a request (or the end of the last one) to the
    /// end of its headers.
    pub header_read: Duration,
    /// Between two pieces of a request body; also the grace before
    /// `body_min_rate` applies.
    pub body_idle: Duration,
    /// The slowest a request body may arrive on average, in bytes a second.
    pub body_min_rate: u64,
    /// A response write that moves no byte for this long ends the connection.
    pub write_stall: Duration,
    /// How long requests under way may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
}

impl Default for ConnectionLimits {
    fn default() -> ConnectionLimits {
        ConnectionLimits {
            header_read: Duration::from_secs(20),
            body_idle: Duration::from_secs(30),
            body_min_rate: 1024,
            write_stall: Duration::from_secs(60),
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then lets
/// requests under way finish within the grace period.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors or a connection reset before it
                // was taken: the listener itself is fine. A short pause
                // keeps a descriptor shortage from spinning the loop.
                Err(e) if is_transient(&e) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                Err(e) => return Err(e),
            },
            // Reap finished connections as they go, so the set stays small.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(StallLimit::new(stream, limits.write_stall));
        let router = router.clone();
        let pace = Pace {
            idle: limits.body_idle,
            min_rate: limits.body_min_rate,
        };
        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
            let request = request.map(|body| Body::new(PacedBody::new(body, pace)));
            router.clone().oneshot(request)
        });
        let connection = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .serve_connection(io, service);
        let watched = graceful.watch(connection);
        connections.spawn(async move {
            // A connection's error (a timeout, a reset) is the peer's
            // business; it ends only this connection.
            let _ = watched.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_grace, graceful.shutdown())
        .await
        .is_err()
    {
        connections.abort_all();
    }
    while connections.join_next().await.is_some() {}
    Ok(())
}

fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    ) || matches!(
        // The process or the system is out of something for a moment.
        Errno::from_io_error(e),
        Some(Errno::MFILE | Errno::NFILE | Errno::NOBUFS | Errno::NOMEM)
    )
}

/// A socket whose writes fail once they have made no progress for
/// `limit`: the peer stopped reading.
struct StallLimit {
    stream: TcpStream,
    limit: Duration,
    /// Running while a write waits; reset whenever one moves bytes.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl StallLimit {
    fn new(stream: TcpStream, limit: Duration) -> StallLimit {
        StallLimit {
            stream,
            limit,
            stalled: None,
        }
    }

    /// What a write that returned `poll` means once the stall timer is
    /// consulted.
    fn watch<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if poll.is_ready() {
            self.stalled = None;
            return poll;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("the peer read nothing for {} s", limit.as_secs()),
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for StallLimit {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for StallLimit {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write(cx, buf);
        self.watch(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        self.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_flush(cx);
        self.watch(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let poll = Pin::new(&mut self.stream).poll_shutdown(cx);
        self.watch(cx, poll)
    }
}
