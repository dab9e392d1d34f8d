//! Every error the service answers, as RFC 9457 problem details
//! (`application/problem+json`) carrying the DOMAIN.md code, and the one
//! function that maps an error to its HTTP status (HTTP.md "Errors").

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casia_core::{CasiaError, ErrorCode, ServiceError};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The `code` of a problem: a DOMAIN.md code, or one of the few the HTTP
/// layer adds for what happens before the core is asked (HTTP.md "Errors",
/// docs/DECISIONS.md 25). The domain codes are [`ErrorCode`] itself, so a
/// code added to the core is answered and documented here with no change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemCode {
    /// A verdict of the core (DOMAIN.md "Error codes").
    Domain(ErrorCode),
    /// Bad JSON, query, path, header or multipart.
    MalformedRequest,
    /// Missing or bad bearer token.
    Unauthorized,
    /// The body is over the request limit.
    PayloadTooLarge,
    /// A body in a media type the endpoint does not take.
    UnsupportedMediaType,
    /// The path exists but not with this method (405).
    MethodNotAllowed,
    /// The request took longer than the configured timeout.
    RequestTimeout,
    /// The database does not answer, or the service is over its memory
    /// budget for request bodies (503 with `Retry-After`).
    Unavailable,
    /// Too many requests from one client (429 with `Retry-After`).
    TooManyRequests,
    /// A submission with this `Idempotency-Key` is still being processed
    /// (409).
    IdempotencyKeyInUse,
    /// An `Idempotency-Key` reused for a different submission (422).
    IdempotencyKeyReused,
    /// Anything else: logged with the request id, answered without internals.
    Internal,
}

impl ProblemCode {
    /// The codes only the HTTP layer answers with.
    pub const HTTP_ONLY: [ProblemCode; 11] = [
        ProblemCode::MalformedRequest,
        ProblemCode::Unauthorized,
        ProblemCode::PayloadTooLarge,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::MethodNotAllowed,
        ProblemCode::RequestTimeout,
        ProblemCode::Unavailable,
        ProblemCode::TooManyRequests,
        ProblemCode::IdempotencyKeyInUse,
        ProblemCode::IdempotencyKeyReused,
        ProblemCode::Internal,
    ];

    /// `not_found` (404).
    pub const NOT_FOUND: ProblemCode = ProblemCode::Domain(ErrorCode::NotFound);
    /// `forbidden` (403).
    pub const FORBIDDEN: ProblemCode = ProblemCode::Domain(ErrorCode::Forbidden);
    /// `version_conflict` (409, or 412 for a stale `If-Match`).
    pub const VERSION_CONFLICT: ProblemCode = ProblemCode::Domain(ErrorCode::VersionConflict);

    /// Every code a problem can carry: the domain's, then the HTTP layer's.
    pub fn all() -> impl Iterator<Item = ProblemCode> {
        ErrorCode::ALL
            .into_iter()
            .map(ProblemCode::Domain)
            .chain(ProblemCode::HTTP_ONLY)
    }

    /// The wire code.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemCode::Domain(code) => code.as_str(),
            ProblemCode::MalformedRequest => "malformed_request",
            ProblemCode::Unauthorized => "unauthorized",
            ProblemCode::PayloadTooLarge => "payload_too_large",
            ProblemCode::UnsupportedMediaType => "unsupported_media_type",
            ProblemCode::MethodNotAllowed => "method_not_allowed",
            ProblemCode::RequestTimeout => "request_timeout",
            ProblemCode::Unavailable => "unavailable",
            ProblemCode::TooManyRequests => "too_many_requests",
            ProblemCode::IdempotencyKeyInUse => "idempotency_key_in_use",
            ProblemCode::IdempotencyKeyReused => "idempotency_key_reused",
            ProblemCode::Internal => "internal",
        }
    }
}

impl From<ErrorCode> for ProblemCode {
    fn from(code: ErrorCode) -> ProblemCode {
        ProblemCode::Domain(code)
    }
}

impl Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// In the OpenAPI document: a string, one of [`ProblemCode::all`].
impl utoipa::PartialSchema for ProblemCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A DOMAIN.md error code, or one the HTTP layer adds (HTTP.md \"Errors\").",
            ))
            .enum_values(Some(ProblemCode::all().map(ProblemCode::as_str)))
            .into()
    }
}

impl ToSchema for ProblemCode {}

/// The body of every error response (RFC 9457 with the CASIA extensions of
/// HTTP.md "Errors").
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:casia:problem:<code>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// The status's reason phrase, e.g. `Unprocessable Entity`.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong, for people; for `not_handled_by_casia`, the catalog's message.
    pub detail: String,
    /// The stable code (DOMAIN.md "Error codes", or one of the HTTP layer's).
    pub code: ProblemCode,
    /// The field a validation error names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The codes `missing_complementary_data` / `missing_required_documents` name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
    /// The `attachment_rejected` reason (DOMAIN.md §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Position (0-based) of the offending attachment in the request's list.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// The request id an internal error was logged under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// A problem with only the code and a detail.
    pub fn new(code: ProblemCode, status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem {
            problem_type: format!("urn:casia:problem:{}", code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            code,
            field: None,
            fields: None,
            reason: None,
            index: None,
            request_id: None,
        }
    }

    /// The problem for a bare error status produced outside the handlers
    /// (the router's 405, the body limit's 413, the timeout, a caught panic).
    pub fn for_status(status: StatusCode) -> Problem {
        let (code, detail) = match status {
            StatusCode::BAD_REQUEST => (ProblemCode::MalformedRequest, "malformed request"),
            StatusCode::UNAUTHORIZED => (ProblemCode::Unauthorized, "a bearer token is required"),
            StatusCode::FORBIDDEN => (ProblemCode::FORBIDDEN, "forbidden"),
            StatusCode::NOT_FOUND => (ProblemCode::NOT_FOUND, "not found"),
            StatusCode::METHOD_NOT_ALLOWED => (
                ProblemCode::MethodNotAllowed,
                "method not allowed on this path",
            ),
            StatusCode::PAYLOAD_TOO_LARGE => (
                ProblemCode::PayloadTooLarge,
                "the request body is over the limit",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                ProblemCode::UnsupportedMediaType,
                "unsupported content type",
            ),
            StatusCode::SERVICE_UNAVAILABLE => {
                (ProblemCode::RequestTimeout, "the request took too long")
            }
            StatusCode::TOO_MANY_REQUESTS => (
                ProblemCode::TooManyRequests,
                "too many requests from this address; retry after the time in Retry-After",
            ),
            s if s.is_client_error() => (ProblemCode::MalformedRequest, "bad request"),
            _ => (ProblemCode::Internal, "internal error"),
        };
        Problem::new(code, status, detail)
    }
}

/// What a handler or extractor fails with. [`ApiError::status`] is the one
/// place that maps errors to HTTP statuses.
#[derive(Debug)]
pub enum ApiError {
    /// A verdict of the core, with its DOMAIN.md code.
    Rule(CasiaError),
    /// `If-Match` named a version the case is no longer at.
    Stale,
    /// Bad JSON, query, path, header or multipart.
    Malformed(String),
    /// No bearer token (`false`) or a bad one (`true`).
    Unauthorized {
        /// Whether a token was sent but did not verify (`WWW-Authenticate` then says
        /// `error="invalid_token"`).
        invalid_token: bool,
    },
    /// The body is over the request limit (413).
    PayloadTooLarge,
    /// A `Content-Type` the endpoint does not take (415), with the detail.
    UnsupportedMediaType(String),
    /// The store does not answer (readiness probe).
    Unavailable,
    /// Request bodies in memory are at the service's budget: 503 with
    /// `Retry-After` (issue 16).
    Busy,
    /// A submission with this `Idempotency-Key` is still in flight (409).
    IdempotencyKeyInUse,
    /// The `Idempotency-Key` was used for a different submission (422).
    IdempotencyKeyReused,
    /// A failure that is not the client's: logged, never shown.
    Internal(String),
}

impl ApiError {
    /// HTTP.md "Errors": the status of every error, in one place.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Rule(e) => status_of_code(e.code()),
            ApiError::Stale => StatusCode::PRECONDITION_FAILED,
            ApiError::Malformed(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::IdempotencyKeyInUse => StatusCode::CONFLICT,
            ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The problem body (internal errors get theirs from the request
    /// middleware, which knows the request id).
    pub fn problem(&self) -> Problem {
        let status = self.status();
        match self {
            ApiError::Rule(e) => {
                let mut p = Problem::new(e.code().into(), status, e.to_string());
                match e {
                    CasiaError::NotHandledByCasia { message } => p.detail.clone_from(message),
                    // The limit in words: "title: 1–150 characters after
                    // trimming, got 151".
                    CasiaError::InvalidField { field, rule } => {
                        p.detail = format!("{field}: {rule}")
                    }
                    _ => {}
                }
                p.field = e.field().map(str::to_owned);
                if matches!(
                    e,
                    CasiaError::MissingComplementaryData { .. }
                        | CasiaError::MissingRequiredDocuments { .. }
                ) {
                    p.fields = Some(e.fields().into_iter().map(str::to_owned).collect());
                }
                p.reason = e.reason().map(|r| r.as_str().to_owned());
                p.index = match e {
                    CasiaError::AttachmentRejected { index, .. }
                    | CasiaError::DuplicateAttachment { index } => Some(*index),
                    _ => None,
                };
                p
            }
            ApiError::Stale => Problem::new(
                ProblemCode::VERSION_CONFLICT,
                status,
                "the case is no longer at the version given in If-Match",
            ),
            ApiError::Malformed(detail) => {
                Problem::new(ProblemCode::MalformedRequest, status, detail.clone())
            }
            ApiError::Unauthorized { invalid_token } => Problem::new(
                ProblemCode::Unauthorized,
                status,
                if *invalid_token {
                    "the bearer token is invalid or expired"
                } else {
                    "a bearer token is required"
                },
            ),
            ApiError::PayloadTooLarge => Problem::for_status(status),
            ApiError::UnsupportedMediaType(detail) => {
                Problem::new(ProblemCode::UnsupportedMediaType, status, detail.clone())
            }
            ApiError::Unavailable => Problem::new(
                ProblemCode::Unavailable,
                status,
                "the database cannot serve now; retry later",
            ),
            ApiError::Busy => Problem::new(
                ProblemCode::Unavailable,
                status,
                "the service is receiving too much data at once; retry later",
            ),
            ApiError::IdempotencyKeyInUse => Problem::new(
                ProblemCode::IdempotencyKeyInUse,
                status,
                "a submission with this Idempotency-Key is still being processed; retry later",
            ),
            ApiError::IdempotencyKeyReused => Problem::new(
                ProblemCode::IdempotencyKeyReused,
                status,
                "this Idempotency-Key was used for a different submission",
            ),
            ApiError::Internal(_) => Problem::new(ProblemCode::Internal, status, "internal error"),
        }
    }

    /// A service error; a store failure becomes an internal error.
    pub fn from_service(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Rule(rule) => ApiError::Rule(rule),
            // The database cannot be reached: a passing outage (503 with
            // Retry-After), not a bug.
            ServiceError::Store(store) if store.is_unavailable() => {
                tracing::warn!(error = %casia_core::error::report(&store), "store unavailable");
                ApiError::Unavailable
            }
            ServiceError::Store(store) => ApiError::Internal(casia_core::error::report(&store)),
            ServiceError::Idempotency(casia_core::idempotency::Reservation::InFlight) => {
                ApiError::IdempotencyKeyInUse
            }
            ServiceError::Idempotency(_) => ApiError::IdempotencyKeyReused,
        }
    }

    /// A service error for a command sent with `If-Match`: a version
    /// conflict is then a failed precondition (HTTP.md: stale → 412).
    pub fn from_conditional(e: ServiceError) -> ApiError {
        match e {
            ServiceError::Rule(CasiaError::VersionConflict) => ApiError::Stale,
            other => ApiError::from_service(other),
        }
    }
}

impl From<CasiaError> for ApiError {
    fn from(e: CasiaError) -> ApiError {
        ApiError::Rule(e)
    }
}

/// DOMAIN.md codes → statuses (HTTP.md "Errors").
pub fn status_of_code(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::CaseClosed
        | ErrorCode::TransitionNotAllowed
        | ErrorCode::DuplicateAttachment
        | ErrorCode::DeadlineNotReached
        | ErrorCode::SurveyNotAllowed
        | ErrorCode::SurveyAlreadySubmitted
        | ErrorCode::SurveyWindowClosed
        | ErrorCode::VersionConflict => StatusCode::CONFLICT,
        ErrorCode::InvalidField
        | ErrorCode::InvalidClassification
        | ErrorCode::NotHandledByCasia
        | ErrorCode::InvalidComplementaryData
        | ErrorCode::MissingComplementaryData
        | ErrorCode::MissingRequiredDocuments
        | ErrorCode::AttachmentRejected
        | ErrorCode::InvalidQuery => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// Marks a 500 response with what went wrong, for the request middleware to
/// log under the request id; never serialised.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// Builds a problem response.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_vec(problem).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    // The access log names the code of every problem it answers.
    response.extensions_mut().insert(problem.code);
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = self {
            // The request middleware logs the detail and writes the body.
            let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            r.extensions_mut().insert(InternalDetail(detail));
            return r;
        }
        let mut response = problem_response(&self.problem());
        if let ApiError::Unauthorized { invalid_token } = self {
            let challenge = if invalid_token {
                "Bearer realm=\"casia\", error=\"invalid_token\""
            } else {
                "Bearer realm=\"casia\""
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        if let ApiError::Unavailable | ApiError::Busy = self {
            // HTTP.md: a database that cannot serve now is 503 with
            // Retry-After; clients and load balancers retry.
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECONDS),
            );
        }
        response
    }
}

/// Seconds a client should wait before retrying a 503.
pub const RETRY_AFTER_SECONDS: &str = "5";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_code_maps_to_a_client_error_and_round_trips() {
        for code in ErrorCode::ALL {
            let status = status_of_code(code);
            assert!(status.is_client_error(), "{code}");
            let p: ProblemCode = code.into();
            assert_eq!(p.as_str(), code.as_str());
            assert_eq!(
                serde_json::to_value(p).expect("json"),
                serde_json::Value::String(code.as_str().to_owned())
            );
        }
    }

    #[test]
    fn statuses_are_those_of_http_md() {
        use ErrorCode as C;
        let expected = [
            (C::NotFound, 404),
            (C::Forbidden, 403),
            (C::CaseClosed, 409),
            (C::TransitionNotAllowed, 409),
            (C::InvalidField, 422),
            (C::InvalidClassification, 422),
            (C::NotHandledByCasia, 422),
            (C::InvalidComplementaryData, 422),
            (C::MissingComplementaryData, 422),
            (C::MissingRequiredDocuments, 422),
            (C::AttachmentRejected, 422),
            (C::DuplicateAttachment, 409),
            (C::InvalidQuery, 422),
            (C::DeadlineNotReached, 409),
            (C::SurveyNotAllowed, 409),
            (C::SurveyAlreadySubmitted, 409),
            (C::SurveyWindowClosed, 409),
            (C::VersionConflict, 409),
        ];
        assert_eq!(expected.len(), ErrorCode::ALL.len());
        for (code, status) in expected {
            assert_eq!(status_of_code(code).as_u16(), status, "{code}");
        }
        let p = ApiError::Rule(CasiaError::DeadlineNotReached).problem();
        assert_eq!(
            (p.status, p.code),
            (409, ProblemCode::Domain(ErrorCode::DeadlineNotReached))
        );
        assert_eq!(ApiError::Stale.status().as_u16(), 412);
        assert_eq!(
            ApiError::Stale.problem().code,
            ProblemCode::VERSION_CONFLICT
        );
        assert_eq!(ApiError::Malformed(String::new()).status().as_u16(), 400);
        assert_eq!(ApiError::PayloadTooLarge.status().as_u16(), 413);
        assert_eq!(
            ApiError::Unauthorized {
                invalid_token: false
            }
            .status()
            .as_u16(),
            401
        );
        assert_eq!(ApiError::Internal("x".into()).status().as_u16(), 500);
    }

    #[test]
    fn every_code_serialises_as_its_wire_name_and_names_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for p in ProblemCode::all() {
            assert_eq!(
                serde_json::to_value(p).expect("json"),
                serde_json::Value::String(p.as_str().to_owned())
            );
            assert!(seen.insert(p.as_str()), "{} twice", p.as_str());
        }
        assert_eq!(
            seen.len(),
            ErrorCode::ALL.len() + ProblemCode::HTTP_ONLY.len()
        );
        for code in ErrorCode::ALL {
            assert_eq!(ProblemCode::from(code).as_str(), code.as_str());
        }
    }
}
