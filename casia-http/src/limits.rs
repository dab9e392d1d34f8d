//! What bounds the service's memory and its cheapest target (issue 16).
//!
//! - [`BodyBudget`]: the memory request bodies take across all requests,
//!   each body byte counted [`MEMORY_PER_BODY_BYTE`] times
//!   ([`MEMORY_PER_BODY_BYTE_WITH_BLOBS`] with a blob store). A request with
//!   a `Content-Length` reserves it before its body is read; a body without
//!   one reserves frame by frame as it arrives. Over
//!   the budget the request is answered `503 unavailable` with
//!   `Retry-After`: a client retries later instead of the service growing
//!   until the kernel kills it. Reservations end with the request.
//! - [`ReceiptRateLimit`]: `GET /v1/receipts/{code}` needs no token, so it
//!   is limited per client address (GCRA, the `governor` crate): by default
//!   10 per second with bursts of 50; over it, `429 too_many_requests` with
//!   `Retry-After`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use http_body_util::BodyExt;

use crate::problem::{ApiError, Problem, problem_response};
use crate::state::AppState;

/// The default body budget: 256 MiB.
pub const DEFAULT_BODY_BUDGET_BYTES: u64 = 256 * 1024 * 1024;

/// Bytes of memory one byte of a request body costs while its request
/// runs: the body itself, the copy the SQL store binds and the copy SQLite
/// or PostgreSQL's driver makes of it (measured with
/// `scripts/body-budget-rss`: 8 concurrent 38 MiB submissions held about
/// 2.8 bytes of resident memory per body byte). The budget counts bodies at
/// this weight, so it bounds the memory they take, not only their size.
pub const MEMORY_PER_BODY_BYTE: u64 = 3;

/// The same with a blob store (issue 17): the store binds no copy of the
/// bytes, which go from the body to a blob file (measured with
/// `scripts/body-budget-rss`: two concurrent 38 MiB submissions held 1.4
/// bytes of resident memory per body byte; 2 keeps a margin).
pub const MEMORY_PER_BODY_BYTE_WITH_BLOBS: u64 = 2;

/// What a streamed multipart body holds in memory at most (issue 17,
/// "Streaming"): with a blob store its file parts go to staging files as
/// they arrive, so only the JSON part
/// ([`JSON_PART_LIMIT`](crate::extract::JSON_PART_LIMIT)) and the parser's
/// and the file writer's buffers are in memory. The budget counts a
/// streamed body as this many bytes (or its length, when smaller).
pub const STREAMED_BODY_HOLD: u64 = 2 * 1024 * 1024;

/// The weight of a body byte for the service `state` runs.
pub fn memory_per_body_byte(state: &AppState) -> u64 {
    if state.service().blobs().is_some() {
        MEMORY_PER_BODY_BYTE_WITH_BLOBS
    } else {
        MEMORY_PER_BODY_BYTE
    }
}

/// Request-body bytes in memory across all requests, bounded.
#[derive(Debug)]
pub struct BodyBudget {
    limit: u64,
    used: AtomicU64,
}

impl BodyBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: u64) -> BodyBudget {
        BodyBudget {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The budget, bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    fn try_reserve(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(n).filter(|total| *total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// What one request holds of the budget; released when dropped (the
/// request is answered, or abandoned).
struct Held {
    budget: Arc<BodyBudget>,
    bytes: AtomicU64,
    exceeded: AtomicBool,
    /// A streaming reader took the body ([`StreamedBody::streaming`]).
    streaming: AtomicBool,
}

/// The handle a streaming reader of a multipart body uses to say so
/// (issue 17): put in the request's extensions by [`body_budget`] when the
/// service has a blob store and the body is multipart. Such a body is
/// counted as at most [`STREAMED_BODY_HOLD`] bytes, and past them every
/// byte read is charged to the budget — except bytes read while a file
/// part is being copied to a staging file ([`StreamedBody::stream`], held by
/// [`crate::extract::read_multipart`] with staging and by the web form's
/// reader around each file). Part headers, text fields and anything a
/// handler reads whole are charged.
#[derive(Clone)]
pub struct StreamedBody(Arc<Held>);

impl StreamedBody {
    /// Bytes read while the returned guard lives go to a staging file, not
    /// memory: they are not charged.
    pub fn stream(&self) -> Streaming<'_> {
        self.0.streaming.store(true, Ordering::Release);
        Streaming(self)
    }
}

/// While it lives, the body's bytes are being staged ([`StreamedBody::stream`]).
pub struct Streaming<'a>(&'a StreamedBody);

impl Drop for Streaming<'_> {
    fn drop(&mut self) {
        self.0.0.streaming.store(false, Ordering::Release);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.budget.release(self.bytes.load(Ordering::Acquire));
    }
}

/// The error a metered body ends with when the budget is exhausted.
#[derive(Debug, thiserror::Error)]
#[error("the service's budget for request bodies is exhausted")]
struct OverBudget;

/// A body that reserves each frame's bytes before handing it on.
struct Metered {
    inner: Body,
    held: Arc<Held>,
    /// Bytes of memory per body byte.
    weight: u64,
    /// Body bytes already covered by a reservation made up front.
    covered: u64,
    /// Body bytes seen so far that count (not read while a file part was
    /// being staged).
    seen: u64,
}

impl http_body::Body for Metered {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            if self.held.streaming.load(Ordering::Acquire) {
                return Poll::Ready(Some(Ok(frame)));
            }
            let before = self.seen;
            self.seen = before.saturating_add(data.len() as u64);
            let charged = self.seen.saturating_sub(before.max(self.covered));
            if charged == 0 {
                return Poll::Ready(Some(Ok(frame)));
            }
            let n = charged.saturating_mul(self.weight);
            if !self.held.budget.try_reserve(n) {
                self.held.exceeded.store(true, Ordering::Release);
                return Poll::Ready(Some(Err(Box::new(OverBudget))));
            }
            self.held.bytes.fetch_add(n, Ordering::AcqRel);
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The body-budget middleware (see the module documentation).
pub async fn body_budget(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let budget = Arc::clone(state.body_budget());
    let per_byte = memory_per_body_byte(&state);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let held = Arc::new(Held {
        budget: Arc::clone(&budget),
        bytes: AtomicU64::new(0),
        exceeded: AtomicBool::new(false),
        streaming: AtomicBool::new(false),
    });
    // A multipart body may be streamed to staging files when there is a
    // blob store (crate::staging): STREAMED_BODY_HOLD is reserved up front,
    // and the rest is charged as it is read unless a streaming reader says
    // it takes the body (StreamedBody).
    let streamable = state.service().blobs().is_some()
        && matches!(
            crate::extract::body_kind(req.headers()),
            Ok(crate::extract::BodyKind::Multipart)
        );
    let (up_front, metered) = match declared {
        // Over the request limit: the limit's 413 comes next, before any
        // byte is read.
        Some(n) if n > state.body_limit() as u64 => (0, false),
        Some(n) if streamable => (n.min(STREAMED_BODY_HOLD), n > STREAMED_BODY_HOLD),
        Some(n) => (n, false),
        // No length: chunked (or no body at all); reserve as it arrives.
        None if streamable => (STREAMED_BODY_HOLD, true),
        None => (0, true),
    };
    if up_front > 0 {
        let weight = up_front.saturating_mul(per_byte);
        if !budget.try_reserve(weight) {
            return ApiError::Busy.into_response();
        }
        held.bytes.store(weight, Ordering::Release);
    }
    let mut req = req;
    if streamable {
        req.extensions_mut().insert(StreamedBody(Arc::clone(&held)));
    }
    let req = if metered {
        let (parts, body) = req.into_parts();
        let metered = Metered {
            inner: body,
            held: Arc::clone(&held),
            weight: per_byte,
            covered: up_front,
            seen: 0,
        };
        Request::from_parts(parts, Body::new(metered.map_err(|e| e)))
    } else {
        req
    };
    let response = next.run(req).await;
    if held.exceeded.load(Ordering::Acquire) {
        return ApiError::Busy.into_response();
    }
    drop(held);
    response
}

/// The per-address limit of receipt verifications.
pub struct ReceiptRateLimit {
    limiter: RateLimiter<IpAddr, governor::state::keyed::HashMapStateStore<IpAddr>, DefaultClock>,
    clock: DefaultClock,
    checks: AtomicU64,
}

impl std::fmt::Debug for ReceiptRateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReceiptRateLimit")
    }
}

impl ReceiptRateLimit {
    /// `per_second` verifications per address, with bursts of `burst`
    /// (each at least 1).
    pub fn new(per_second: u32, burst: u32) -> ReceiptRateLimit {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
        ReceiptRateLimit {
            limiter: RateLimiter::hashmap(Quota::per_second(rate).allow_burst(burst)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// `None` when `peer` may go on; else how long it should wait.
    fn check(&self, peer: IpAddr) -> Option<std::time::Duration> {
        // Forget addresses that have been quiet, now and then.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.limiter.retain_recent();
        }
        match self.limiter.check_key(&peer) {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(self.clock.now())),
        }
    }
}

/// The rate-limit middleware of `/v1/receipts/…` (see the module
/// documentation). The client address is the connection's peer; a request
/// served in-process without one counts as `0.0.0.0`.
pub async fn receipt_rate_limit(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    // The API's verification and the web page's (`/verificar` with any
    // query: its parameter may come percent-encoded, issue 18) share one
    // budget per address.
    let verifies = req.uri().path().starts_with("/v1/receipts/")
        || (req.uri().path() == "/verificar" && req.uri().query().is_some_and(|q| !q.is_empty()));
    if !verifies {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match state.receipt_rate_limit().check(peer) {
        None => next.run(req).await,
        Some(wait) => {
            let mut response =
                problem_response(&Problem::for_status(StatusCode::TOO_MANY_REQUESTS));
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if let Ok(v) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_weigh_less_when_bytes_go_to_a_blob_store() {
        use casia_core::memory::MemoryStore;
        use casia_core::ports::SystemClock;
        use casia_core::receipt::ReceiptKey;
        use std::sync::Arc;
        let store = Arc::new(MemoryStore::new());
        let service = casia_core::CaseService::new(
            store.clone(),
            Arc::new(SystemClock),
            Arc::new(casia_core::CaseRules::with_defaults(ReceiptKey::new("k"))),
        );
        let auth = || crate::Authenticator::hs256(b"0123456789abcdef0123456789abcdef");
        let plain = AppState::new(service.clone(), store.clone(), auth());
        assert_eq!(memory_per_body_byte(&plain), MEMORY_PER_BODY_BYTE);
        let with_blobs = AppState::new(
            service.with_blobs(Arc::new(casia_core::blob::MemoryBlobStore::new())),
            store,
            auth(),
        );
        assert_eq!(
            memory_per_body_byte(&with_blobs),
            MEMORY_PER_BODY_BYTE_WITH_BLOBS
        );
    }

    #[test]
    fn the_budget_reserves_up_to_its_limit_and_releases() {
        let b = BodyBudget::new(100);
        assert!(b.try_reserve(60));
        assert!(!b.try_reserve(41));
        assert!(b.try_reserve(40));
        assert_eq!(b.in_use(), 100);
        b.release(60);
        assert_eq!(b.in_use(), 40);
        b.release(1000);
        assert_eq!(b.in_use(), 0);
    }

    #[test]
    fn each_address_gets_its_burst_then_waits() {
        let limit = ReceiptRateLimit::new(10, 5);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        for _ in 0..5 {
            assert_eq!(limit.check(a), None);
        }
        let wait = limit.check(a).expect("over the burst");
        assert!(wait <= std::time::Duration::from_millis(100), "{wait:?}");
        assert_eq!(limit.check(b), None, "another address has its own");
    }
}
