//! The contact directory over HTTP (DOMAIN.md §9: notifications go to the
//! authorization's registered address): `PUT` and `GET
//! /v1/contacts/{authorization}`. Who may use it (the `system` role) and
//! what an address is are the core's rules ([`casia_core::contact`]).

use axum::Json;
use axum::extract::State;
use casia_core::AuthorizationId;
use casia_core::contact;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::extract::Caller;
use crate::extract::{ApiPath, JsonBody};
use crate::problem::{ApiError, Problem};
use crate::state::AppState;

/// `PUT /v1/contacts/{authorization}`.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct ContactBody {
    /// The principal user's registered address, e.g. `gestoria@example.com`.
    pub email: String,
}

/// An authorization's contact address.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
pub struct ContactView {
    /// The autorizado RED's id.
    pub authorization: String,
    /// The contact address notifications are sent to.
    pub email: String,
}

fn authorization(raw: &str) -> Result<AuthorizationId, ApiError> {
    AuthorizationId::parse(raw).map_err(|_| {
        ApiError::Malformed("the authorization id must be 1–64 characters of [A-Za-z0-9._-]".into())
    })
}

/// Set (or replace) the contact address of an authorization (system).
#[utoipa::path(
    put, path = "/v1/contacts/{authorization}", tag = "contacts",
    security(("bearer" = [])),
    params(("authorization" = String, Path, description = "Authorization id", example = "A1")),
    request_body(content = ContactBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The address stored", body = ContactView),
        (status = 403, description = "Only the system manages contacts (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address (`invalid_field`, field `email`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_contact(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(raw): ApiPath<String>,
    JsonBody(body): JsonBody<ContactBody>,
) -> Result<Json<ContactView>, ApiError> {
    contact::check_directory_access(&actor)?;
    let authorization = authorization(&raw)?;
    let address = contact::set_contact(
        state.contacts()?.as_ref(),
        &actor,
        &authorization,
        &body.email,
    )
    .await
    .map_err(ApiError::from_service)?;
    Ok(Json(ContactView {
        authorization: authorization.as_str().to_owned(),
        email: address.to_string(),
    }))
}

/// The contact address of an authorization (system).
#[utoipa::path(
    get, path = "/v1/contacts/{authorization}", tag = "contacts",
    security(("bearer" = [])),
    params(("authorization" = String, Path, description = "Authorization id", example = "A1")),
    responses(
        (status = 200, description = "The address", body = ContactView),
        (status = 403, description = "Only the system manages contacts (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No address recorded (`not_found`)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_contact(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<ContactView>, ApiError> {
    contact::check_directory_access(&actor)?;
    let authorization = authorization(&raw)?;
    let email = contact::get_contact(state.contacts()?.as_ref(), &actor, &authorization)
        .await
        .map_err(ApiError::from_service)?;
    Ok(Json(ContactView {
        authorization: authorization.as_str().to_owned(),
        email,
    }))
}
