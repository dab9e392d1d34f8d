//! The router: every endpoint of HTTP.md registered together with its
//! OpenAPI description (so the document cannot miss one), the layers that
//! harden it (body limit, timeout, panic catching), and the middleware that
//! gives every response a request id, counts it, and turns any error that
//! is not yet a problem document into one.

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
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::metrics::method_label;
use crate::problem::{ApiError, InternalDetail, PROBLEM_JSON, Problem, problem_response};
use crate::state::AppState;
use crate::{calendar, cases, contacts, operations, receipts};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "CASIA",
        description = "Coordinación, Atención y Soporte Integral al Autorizado RED: the case service of the TGSS for autorizados del Sistema RED. Errors are RFC 9457 problem documents whose `code` is stable (DOMAIN.md).",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(Problem, crate::problem::ProblemCode)),
    tags(
        (name = "cases", description = "Submit, read and search cases"),
        (name = "commands", description = "Commands on a case; each accepts `If-Match`"),
        (name = "receipts", description = "Justificante de Apertura and its verification"),
        (name = "contacts", description = "The e-mail address notifications go to, per authorization (system)"),
        (name = "service", description = "Catalog, deadlines on the calendar, sweep, probes, metrics, this document"),
    )
)]
struct ApiDoc;

/// Every route with its OpenAPI description.
fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(cases::submit, cases::search))
        .routes(routes!(cases::get_case))
        .routes(routes!(cases::history))
        .routes(routes!(cases::queue))
        .routes(routes!(cases::attachment))
        .routes(routes!(cases::documentation))
        .routes(routes!(cases::cancel))
        .routes(routes!(cases::survey))
        .routes(routes!(cases::assign))
        .routes(routes!(cases::request_information))
        .routes(routes!(cases::escalate))
        .routes(routes!(cases::transfer))
        .routes(routes!(cases::reclassify))
        .routes(routes!(cases::resolve))
        .routes(routes!(receipts::receipt))
        .routes(routes!(receipts::verify))
        .routes(routes!(contacts::get_contact, contacts::put_contact))
        .routes(routes!(operations::catalog))
        .routes(routes!(calendar::deadline))
        .routes(routes!(operations::sweep))
        .routes(routes!(operations::healthz))
        .routes(routes!(operations::readyz))
        .routes(routes!(operations::metrics))
        .routes(routes!(operations::openapi_json))
}

/// Adds what every operation can answer, so no operation's error list
/// omits them: 400 `malformed_request` and 500 `internal` everywhere, 401
/// where a token is required; and declares the bearer scheme.
struct CommonProblems;

impl Modify for CommonProblems {
    fn modify(&self, api: &mut OpenApiDoc) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "HS256 JWT with claims sub, role (user|processor|system), authorization and province (users), office (processors), exp",
                    ))
                    .build(),
            ),
        );
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                "Problem",
                            ))))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in api.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
            ]
            .into_iter()
            .flatten()
            {
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let responses = &mut op.responses.responses;
                responses.entry("400".into()).or_insert_with(|| {
                    problem(
                        "Malformed JSON, query, path, header or multipart (`malformed_request`)",
                    )
                });
                if secured {
                    responses.entry("401".into()).or_insert_with(|| {
                        problem("Missing or invalid bearer token (`unauthorized`); `WWW-Authenticate: Bearer`")
                    });
                }
                responses.entry("500".into()).or_insert_with(|| {
                    problem("Internal error, logged under the request id (`internal`)")
                });
            }
        }
    }
}

/// The OpenAPI 3.1 document of every endpoint.
pub fn openapi() -> OpenApiDoc {
    let (_, mut api) = routes().split_for_parts();
    CommonProblems.modify(&mut api);
    api
}

/// The document as JSON, built once.
pub fn openapi_text() -> Result<String, String> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    TEXT.get_or_init(|| openapi().to_json().map_err(|e| e.to_string()))
        .clone()
}

/// The service as an axum router over `state`; tests call it in-process.
pub fn app(state: AppState) -> Router {
    let (router, _) = routes().split_for_parts();
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

fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_JSON))
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
    tracing::info!(
        request_id = %id,
        method,
        %route,
        status = status.as_u16(),
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    response
}
