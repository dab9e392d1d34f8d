//! The router: the routes of [`crate::openapi::routes`] (every endpoint of
//! HTTP.md with its OpenAPI description), the layers that harden it (body
//! limit, timeout, panic catching), and the middleware that gives every
//! response a request id, counts it, and turns any error that is not yet a
//! problem document into one.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::Response;
use casia_core::CasiaError;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::metrics::method_label;
use crate::problem::{
    ApiError, InternalDetail, PROBLEM_JSON, Problem, ProblemCode, problem_response,
};
use crate::state::AppState;

/// The service as an axum router over `state`; tests call it in-process.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// The service with more routes merged in before the layers, so they get
/// the same hardening (body limit and budget, timeout, panic catching,
/// request id, access log, metrics): `casia serve` merges the web pages
/// (`casia-web`, issue 18) this way. A merged route that answers
/// `text/html` keeps its body on errors (a page shows its own); every
/// other error becomes a problem document.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let (router, _) = crate::openapi::routes().split_for_parts();
    let router = router.merge(crate::docs::assets()).merge(extra);
    let limit = state.body_limit();
    router
        .fallback(not_found)
        .layer(
            ServiceBuilder::new()
                .layer(from_fn_with_state(state.clone(), observe))
                .layer(CatchPanicLayer::new())
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::SERVICE_UNAVAILABLE,
                    state.request_timeout(),
                ))
                .layer(from_fn_with_state(
                    state.clone(),
                    crate::limits::receipt_rate_limit,
                ))
                .layer(from_fn_with_state(
                    state.clone(),
                    crate::limits::body_budget,
                ))
                .layer(RequestBodyLimitLayer::new(limit))
                .layer(DefaultBodyLimit::disable()),
        )
        .with_state(state)
}

async fn not_found() -> ApiError {
    CasiaError::NotFound.into()
}

/// A request id: the client's `X-Request-Id` when it is a short token,
/// else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    if let Some(given) = headers.get("x-request-id").and_then(|v| v.to_str().ok())
        && (1..=64).contains(&given.len())
        && given
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return given.to_owned();
    }
    let prefix = PREFIX.get_or_init(|| getrandom::u32().unwrap_or(0));
    format!(
        "{prefix:08x}-{:08x}",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Whether the response already explains itself: a problem document, or
/// an HTML page (the web pages render their own errors for people).
fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON) || v.starts_with("text/html"))
}

/// Replaces a response's body with a problem document, keeping its status
/// and headers (`Allow`, `WWW-Authenticate`, …).
fn into_problem(mut response: Response, problem: &Problem) -> Response {
    let fresh = problem_response(problem);
    let (parts, body) = fresh.into_parts();
    *response.body_mut() = body;
    let h = response.headers_mut();
    h.remove(header::CONTENT_LENGTH);
    if let Some(ct) = parts.headers.get(header::CONTENT_TYPE) {
        h.insert(header::CONTENT_TYPE, ct.clone());
    }
    response.extensions_mut().insert(problem.code);
    response
}

/// Request id, problem normalisation, security headers, metrics and the
/// access log (which names the route template, never the raw path: a path
/// can carry a receipt code).
async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let id = request_id(req.headers());
    // A request that came with a body the service may not have read.
    let sent_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    let mut response = next.run(req).await;
    let status = response.status();
    if let Some(InternalDetail(detail)) = response.extensions_mut().remove::<InternalDetail>() {
        tracing::error!(request_id = %id, %route, error = %detail, "internal error");
        let mut p = Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR);
        p.request_id = Some(id.clone());
        response = into_problem(response, &p);
    } else if (status.is_client_error() || status.is_server_error()) && !is_problem(&response) {
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(request_id = %id, %route, "internal error (caught panic)");
        }
        let mut p = Problem::for_status(status);
        if status.is_server_error() {
            p.request_id = Some(id.clone());
        }
        response = into_problem(response, &p);
    }
    let h = response.headers_mut();
    // An error may come before the body was read (401, 405, 413, 415,
    // 503): closing the connection after it keeps the client from sending
    // its next request on a connection whose unread body would swallow it
    // (issue 16).
    if sent_body && (status.is_client_error() || status.is_server_error()) {
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    if let Ok(v) = HeaderValue::from_str(&id) {
        h.insert("x-request-id", v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    let elapsed = started.elapsed();
    state
        .metrics()
        .record(method, &route, status.as_u16(), elapsed);
    // Milliseconds with microsecond resolution: whole microseconds divided
    // by 1000 print as `0.429`, not `0.42941799999999997`.
    let elapsed_ms = elapsed.as_micros() as f64 / 1000.0;
    let code = response
        .extensions()
        .get::<ProblemCode>()
        .map(|c| c.as_str());
    match code {
        Some(code) => tracing::info!(
            request_id = %id,
            method,
            %route,
            status = status.as_u16(),
            code,
            elapsed_ms,
            "request"
        ),
        None => tracing::info!(
            request_id = %id,
            method,
            %route,
            status = status.as_u16(),
            elapsed_ms,
            "request"
        ),
    }
    response
}
