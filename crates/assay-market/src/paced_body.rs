//! A request body that must keep arriving: a frame at least every
//! `idle`, and on average at least `min_rate` bytes a second after a first
//! `idle` of grace (Apache's `mod_reqtimeout` rule). A per-frame timeout
//! alone lets a client that sends one byte a second hold a request for as
//! long as its `Content-Length` allows; the rate makes that bounded too,
//! while a slow but real upload keeps extending its own deadline.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// Why a paced body ended early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PaceError {
    #[error("the request body stalled: no bytes for {} s", .0.as_secs())]
    Idle(Duration),
    #[error("the request body arrived slower than {0} bytes a second")]
    TooSlow(u64),
    #[error(transparent)]
    Body(#[from] hyper::Error),
}

/// How a body must keep arriving.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    pub idle: Duration,
    pub min_rate: u64,
}

pub(crate) struct PacedBody<B> {
    body: B,
    pace: Pace,
    started: Instant,
    last_frame: Instant,
    received: u64,
    deadline: Pin<Box<Sleep>>,
}

impl<B> PacedBody<B> {
    pub(crate) fn new(body: B, pace: Pace) -> PacedBody<B> {
        let now = Instant::now();
        PacedBody {
            body,
            pace,
            started: now,
            last_frame: now,
            received: 0,
            deadline: Box::pin(tokio::time::sleep_until(now + pace.idle)),
        }
    }

    /// The earlier of the idle deadline and the one the rate allows.
    fn rate_deadline(&self) -> Instant {
        let earned = if self.pace.min_rate == 0 {
            Duration::MAX
        } else {
            Duration::from_secs_f64(self.received as f64 / self.pace.min_rate as f64)
        };
        self.started + self.pace.idle.saturating_add(earned).min(FAR)
    }

    fn idle_deadline(&self) -> Instant {
        self.last_frame + self.pace.idle
    }
}

/// Farther than any request lasts; keeps `Instant` arithmetic in range.
const FAR: Duration = Duration::from_secs(365 * 24 * 3600);

impl<B> Body for PacedBody<B>
where
    B: Body<Data = Bytes, Error = hyper::Error> + Unpin,
{
    type Data = Bytes;
    type Error = PaceError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, PaceError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                this.last_frame = Instant::now();
                let next = this.idle_deadline().min(this.rate_deadline());
                this.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    Poll::Ready(Some(Err(if this.rate_deadline() < this.idle_deadline() {
                        PaceError::TooSlow(this.pace.min_rate)
                    } else {
                        PaceError::Idle(this.pace.idle)
                    })))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
