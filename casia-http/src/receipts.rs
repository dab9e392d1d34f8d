//! The receipt endpoints (DOMAIN.md §8): a case's receipt as JSON or PDF
//! for whoever sees the case, and verification of a code for anyone.

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use casia_core::CasiaError;

use crate::dto::ReceiptView;
use crate::extract::Caller;
use crate::extract::{ApiPath, case_number};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// The quality a client's `Accept` gives to exactly `media_type` (0 when
/// not listed). Wildcards do not count: the PDF is sent only when asked for.
fn quality(accept: &str, media_type: &str) -> f32 {
    accept
        .split(',')
        .filter_map(|range| {
            let mut parts = range.split(';');
            let essence = parts.next()?.trim();
            if !essence.eq_ignore_ascii_case(media_type) {
                return None;
            }
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .filter_map(|q| q.trim().parse::<f32>().ok())
                .next()
                .unwrap_or(1.0);
            Some(q.clamp(0.0, 1.0))
        })
        .fold(0.0, f32::max)
}

/// Whether the client asked for the PDF rather than JSON.
pub fn wants_pdf(headers: &HeaderMap) -> bool {
    let accept = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let pdf = quality(&accept, "application/pdf");
    pdf > 0.0 && pdf >= quality(&accept, "application/json")
}

/// The receipt (justificante) of a case: JSON, or the PDF with
/// `Accept: application/pdf`.
#[utoipa::path(
    get, path = "/v1/cases/{number}/receipt", tag = "receipts",
    security(("bearer" = [])),
    params(("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001")),
    responses(
        (status = 200, description = "The receipt", content(
            (ReceiptView = "application/json"),
            (crate::dto::Binary = "application/pdf"),
        )),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn receipt(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(number): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let number = case_number(&number)?;
    let receipt = state
        .service()
        .receipt(&actor, number)
        .await
        .map_err(ApiError::from_service)?;
    if !wants_pdf(&headers) {
        return Ok(Json(ReceiptView::from(&receipt)).into_response());
    }
    let pdf = casia_receipt_pdf::render(
        &receipt,
        &state.service().rules().catalog,
        state.public_url(),
    )
    .map_err(|e| ApiError::Internal(casia_core::error::report(&e)))?;
    let mut r = Response::new(Body::from(pdf));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"justificante-{number}.pdf\""))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(r)
}

/// Verify a receipt code; no token needed (the código seguro de
/// verificación of Ley 40/2015 art. 42).
#[utoipa::path(
    get, path = "/v1/receipts/{code}", tag = "receipts",
    params(("code" = String, Path, description = "The verification code, e.g. `ABCD-EFGH-IJKL-MNOP-QRST` (case and dashes are ignored)")),
    responses(
        (status = 200, description = "The code verifies: the receipt it certifies", body = ReceiptView),
        (status = 404, description = "Unknown or tampered code (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn verify(
    State(state): State<AppState>,
    ApiPath(code): ApiPath<String>,
) -> Result<Json<ReceiptView>, ApiError> {
    match state
        .service()
        .verify_receipt(&code)
        .await
        .map_err(ApiError::from_service)?
    {
        Some(r) => Ok(Json(ReceiptView::from(&r))),
        None => Err(CasiaError::NotFound.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).expect("header"));
        wants_pdf(&h)
    }

    #[test]
    fn the_pdf_is_sent_only_when_preferred() {
        assert!(accept("application/pdf"));
        assert!(accept("application/json;q=0.5, application/pdf"));
        assert!(!accept("application/json, application/pdf;q=0.5"));
        assert!(!accept("application/pdf;q=0"));
        assert!(!accept("*/*"));
        assert!(!accept("application/json"));
        assert!(!wants_pdf(&HeaderMap::new()));
    }
}
