//! The service's own endpoints (HTTP.md): the catalog in use, the sweep on
//! demand, health and readiness probes, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::dto::{CatalogView, HealthView, SweepView};
use crate::extract::Caller;
use crate::metrics::OutboxGauges;
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The catalog in use (DOMAIN.md §2), for any authenticated caller.
#[utoipa::path(
    get, path = "/v1/catalog", tag = "service",
    security(("bearer" = [])),
    responses((status = 200, description = "The catalog", body = CatalogView))
)]
pub async fn catalog(State(state): State<AppState>, Caller(_): Caller) -> Json<CatalogView> {
    Json(CatalogView::from(&state.service().rules().catalog))
}

/// Run the deadline sweep now (system; DOMAIN.md §5).
#[utoipa::path(
    post, path = "/v1/sweep", tag = "service",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the sweep closed and reminded", body = SweepView),
        (status = 403, description = "Only the system sweeps (`forbidden`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn sweep(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<SweepView>, ApiError> {
    let report = state
        .service()
        .sweep_as(&actor)
        .await
        .map_err(ApiError::from_service)?;
    Ok(Json(SweepView::from(&report)))
}

/// Liveness: the process answers.
#[utoipa::path(
    get, path = "/healthz", tag = "service",
    responses((status = 200, description = "Alive", body = HealthView))
)]
pub async fn healthz() -> Json<HealthView> {
    Json(HealthView {
        status: "ok".into(),
    })
}

/// Readiness: the database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "service",
    responses(
        (status = 200, description = "Ready", body = HealthView),
        (status = 503, description = "The database does not answer (`unavailable`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<HealthView>, ApiError> {
    match state.service().repository().ping().await {
        Ok(()) => Ok(Json(HealthView {
            status: "ready".into(),
        })),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            Err(ApiError::Unavailable)
        }
    }
}

/// Prometheus text: requests and latencies by route and status, cases by
/// status, pending and dead notifications.
#[utoipa::path(
    get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format 0.0.4", body = String, content_type = "text/plain"))
)]
pub async fn metrics(State(state): State<AppState>) -> Response {
    let cases = match state.service().repository().count_by_state().await {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: cannot count cases");
            None
        }
    };
    let outbox = state.outbox();
    let gauges = match (outbox.backlog().await, outbox.dead_count().await) {
        (Ok(pending), Ok(dead)) => Some(OutboxGauges { pending, dead }),
        (Err(e), _) | (_, Err(e)) => {
            tracing::warn!(error = %e, "metrics: cannot read the outbox counts");
            None
        }
    };
    let last_year = state.service().rules().calendar.last_covered_year();
    let text = state.metrics().render(cases.as_deref(), gauges, last_year);
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}
