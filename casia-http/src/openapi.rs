//! The OpenAPI 3.1 document (HTTP.md `GET /openapi.json`): every route is
//! registered together with its description, so the document cannot miss
//! one; [`routes()`] is what both the router ([`crate::app::app`]) and the
//! document are built from.

use std::sync::OnceLock;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as OpenApiDoc, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::{ApiError, PROBLEM_JSON, Problem};
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
pub fn routes() -> OpenApiRouter<AppState> {
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
        .routes(routes!(openapi_json))
        .routes(routes!(crate::docs::docs))
}

/// Adds what operations can answer besides their own responses, so no
/// operation's error list omits them — and none lists what it cannot
/// answer: 400 `malformed_request` where there is a parameter or a body to
/// be malformed, 401 where a token is required, 503 `unavailable` where the
/// database is asked, 500 `internal` everywhere; declares the bearer scheme
/// and the server (this service, relative to where the document was read).
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
                let has_input = op.request_body.is_some()
                    || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let asks_the_database = secured || has_input;
                let responses = &mut op.responses.responses;
                if has_input {
                    responses.entry("400".into()).or_insert_with(|| {
                        problem(
                            "Malformed JSON, query, path, header or multipart (`malformed_request`)",
                        )
                    });
                }
                if asks_the_database {
                    responses.entry("503".into()).or_insert_with(|| {
                        problem("The database cannot serve now (`unavailable`); retry after `Retry-After` seconds")
                    });
                }
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
    api.servers = Some(vec![utoipa::openapi::server::Server::new("/")]);
    api
}

/// The document as JSON, built once.
pub fn openapi_text() -> Result<String, String> {
    static TEXT: OnceLock<Result<String, String>> = OnceLock::new();
    TEXT.get_or_init(|| openapi().to_json().map_err(|e| e.to_string()))
        .clone()
}

/// This document: OpenAPI 3.1, generated from the handlers.
#[utoipa::path(
    get, path = "/openapi.json", tag = "service",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
pub async fn openapi_json() -> Result<Response, ApiError> {
    let text = openapi_text().map_err(ApiError::Internal)?;
    let mut r = text.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(r)
}
