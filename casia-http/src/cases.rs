//! The case endpoints of HTTP.md: each handler translates HTTP into a core
//! input (`SubmitInput`, `Command`, `SearchInput`), asks the
//! [`casia_core::CaseService`], and translates the answer back. No rule is
//! decided here: who may do what is the core's verdict.

use axum::Json;
use axum::extract::{FromRequest, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use casia_core::case::Case;
use casia_core::idempotency::IdempotencyKey;
use casia_core::search::SearchInput;
use casia_core::{Command, SubmitInput};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::dto::{
    AssignBody, CancelBody, CaseList, CaseView, DocumentationMeta, DocumentationMultipart,
    EscalateBody, HistoryEntryView, HistoryList, ReceiptView, ReclassifyBody,
    RequestInformationBody, ResolveBody, SearchPage, SubmitCase, SubmitMultipart, SubmittedCase,
    SurveyBody, TransferBody,
};
use crate::extract::Caller;
use crate::extract::{
    ApiPath, BodyKind, IfMatch, JsonBody, attachments_from_parts, body_kind, case_number,
    parse_json, read_multipart,
};
use crate::problem::{ApiError, Problem};
use crate::staging::Staging;
use crate::state::AppState;

/// A case answer: the case JSON with `ETag: "<version>"`.
fn case_response(status: StatusCode, case: &Case) -> Response {
    let mut r = (status, Json(CaseView::from(case))).into_response();
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", case.version)) {
        r.headers_mut().insert(header::ETAG, tag);
    }
    r
}

fn submit_input(
    body: SubmitCase,
    attachments: Vec<casia_core::attachment::NewAttachment>,
) -> SubmitInput {
    SubmitInput {
        case_type: body.case_type,
        materia: body.materia,
        category: body.category,
        subcategory: body.subcategory,
        affects_current_period: body.affects_current_period,
        title: body.title,
        description: body.description,
        complementary_data: body.complementary_data,
        attachments,
    }
}

/// Submit a case (alta de caso, DOMAIN.md §4).
#[utoipa::path(
    post, path = "/v1/cases", tag = "cases",
    security(("bearer" = [])),
    request_body(
        description = "JSON without files, or multipart with a `case` part and one file part per attachment",
        content((SubmitCase = "application/json"), (SubmitMultipart = "multipart/form-data"))
    ),
    params(
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters (IETF draft \"The Idempotency-Key HTTP Header Field\"; a quoted string is unquoted): the same submission sent again with the same key within 24 h returns the first one's 201 and case — no second case, number or e-mail", max_length = 257),
    ),
    responses(
        (status = 201, description = "Submitted: the case with its receipt (also the answer to a retry with the same `Idempotency-Key`, then with `Idempotent-Replayed: true`)", body = SubmittedCase,
            headers(("Location" = String, description = "/v1/cases/{number}"), ("ETag" = String, description = "\"<version>\""), ("Idempotent-Replayed" = String, description = "`true` when an earlier attempt with the same key wrote the case"))),
        (status = 400, description = "A malformed body or `Idempotency-Key` (`malformed_request`)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Only users submit (`forbidden`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`duplicate_attachment`, or `idempotency_key_in_use`: the first submission with this key is still being written", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over max_total_bytes + 1 MiB", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A validation code of DOMAIN.md §4/§6, or `idempotency_key_reused`: the key belongs to a different submission", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn submit(
    State(state): State<AppState>,
    Caller(actor): Caller,
    req: Request,
) -> Result<Response, ApiError> {
    let key = match req.headers().get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(IdempotencyKey::parse)
                .ok_or_else(|| {
                    ApiError::Malformed("Idempotency-Key: 1–255 visible ASCII characters".into())
                })?,
        ),
    };
    // Files staged for this request are deleted when it ends (moved into
    // the blob store first when accepted).
    let mut staging = Staging::for_state(&state);
    let input = match body_kind(req.headers())? {
        BodyKind::Multipart => {
            let form = read_multipart(req, &state, "case", staging.as_mut()).await?;
            let json = form.json.ok_or_else(|| {
                ApiError::Malformed("the multipart part `case` is missing".into())
            })?;
            let body: SubmitCase = parse_json(&json, "the `case` part")?;
            let attachments = attachments_from_parts(&body.attachments, form.files)?;
            submit_input(body, attachments)
        }
        BodyKind::Json | BodyKind::Empty => {
            let JsonBody(body) = JsonBody::<SubmitCase>::from_request(req, &state).await?;
            if let Some(a) = body.attachments.first() {
                return Err(ApiError::Malformed(format!(
                    "attachment part `{}`: files need multipart/form-data",
                    a.part
                )));
            }
            submit_input(body, Vec::new())
        }
    };
    let (outcome, replayed) = match &key {
        None => (
            state
                .service()
                .submit(&actor, &input)
                .await
                .map_err(ApiError::from_service)?,
            false,
        ),
        Some(key) => {
            let submitted = state
                .service()
                .submit_idempotent(&actor, &input, key)
                .await
                .map_err(ApiError::from_service)?;
            (submitted.outcome, submitted.replayed)
        }
    };
    let case = &outcome.case;
    let body = SubmittedCase {
        case: CaseView::from(case),
        receipt: ReceiptView::from(&case.receipt),
    };
    let mut r = (StatusCode::CREATED, Json(body)).into_response();
    let headers = r.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("/v1/cases/{}", case.number)) {
        headers.insert(header::LOCATION, location);
    }
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", case.version)) {
        headers.insert(header::ETAG, tag);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(r)
}

/// Search option 2 (DOMAIN.md §7).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// `open`, `closed` or `all`.
    #[param(required = true)]
    pub status: Option<String>,
    /// First Madrid date of submission (`YYYY-MM-DD`), inclusive; with `to`, in one calendar month.
    pub from: Option<String>,
    /// Last Madrid date of submission (`YYYY-MM-DD`), inclusive.
    pub to: Option<String>,
    /// A substatus of `status`.
    pub substatus: Option<String>,
    /// `inquiry`, `incident` or `procedure`.
    pub case_type: Option<String>,
    /// A materia code.
    pub materia: Option<String>,
    /// The submitting user's id.
    pub created_by: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Search the cases visible to the caller (option 2).
#[utoipa::path(
    get, path = "/v1/cases", tag = "cases",
    security(("bearer" = [])),
    params(SearchQuery),
    responses(
        (status = 200, description = "One page, newest first", body = SearchPage),
        (status = 422, description = "`invalid_query`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    Caller(actor): Caller,
    RawQuery(query): RawQuery,
) -> Result<Json<SearchPage>, ApiError> {
    let input = search_input(query.as_deref().unwrap_or(""))?;
    let page = state
        .service()
        .search(&actor, &input)
        .await
        .map_err(ApiError::from_service)?;
    Ok(Json(SearchPage {
        items: page.items.iter().map(CaseView::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Parses the query string of `GET /v1/cases` into the core's search input
/// (unknown parameters are ignored; a malformed string is 400). The rules
/// of §7 are the core's: this only translates.
pub fn search_input(query: &str) -> Result<SearchInput, ApiError> {
    let q: SearchQuery = serde_urlencoded::from_str(query)
        .map_err(|e| ApiError::Malformed(format!("malformed query: {e}")))?;
    Ok(SearchInput {
        status: q.status,
        from: q.from,
        to: q.to,
        substatus: q.substatus,
        case_type: q.case_type,
        materia: q.materia,
        created_by: q.created_by,
        limit: q.limit,
        cursor: q.cursor,
    })
}

/// A case (option 1). Cases the caller may not see are `not_found`.
#[utoipa::path(
    get, path = "/v1/cases/{number}", tag = "cases",
    security(("bearer" = [])),
    params(("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001")),
    responses(
        (status = 200, description = "The case", body = CaseView, headers(("ETag" = String, description = "\"<version>\""))),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_case(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Response, ApiError> {
    let number = case_number(&number)?;
    let case = state
        .service()
        .get(&actor, number)
        .await
        .map_err(ApiError::from_service)?;
    Ok(case_response(StatusCode::OK, &case))
}

/// The history entries the caller may read (DOMAIN.md §7).
#[utoipa::path(
    get, path = "/v1/cases/{number}/history", tag = "cases",
    security(("bearer" = [])),
    params(("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001")),
    responses(
        (status = 200, description = "Entries in the order they happened", body = HistoryList),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn history(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(number): ApiPath<String>,
) -> Result<Json<HistoryList>, ApiError> {
    let number = case_number(&number)?;
    let entries = state
        .service()
        .history(&actor, number)
        .await
        .map_err(ApiError::from_service)?;
    Ok(Json(HistoryList {
        items: entries.iter().map(HistoryEntryView::from).collect(),
    }))
}

/// The processor's office work queue (DOMAIN.md §7).
#[utoipa::path(
    get, path = "/v1/queue", tag = "cases",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Open cases of the office, in queue order", body = CaseList),
        (status = 403, description = "Only processors have a queue", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn queue(
    State(state): State<AppState>,
    Caller(actor): Caller,
) -> Result<Json<CaseList>, ApiError> {
    let cases = state
        .service()
        .queue(&actor)
        .await
        .map_err(ApiError::from_service)?;
    Ok(Json(CaseList {
        items: cases.iter().map(CaseView::from).collect(),
    }))
}

/// An attachment's bytes, only ever as a download.
#[utoipa::path(
    get, path = "/v1/cases/{number}/attachments/{id}", tag = "cases",
    security(("bearer" = [])),
    params(
        ("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001"),
        ("id" = u32, Path, description = "Attachment id", minimum = 1, example = 1),
    ),
    responses(
        (status = 200, description = "The bytes, streamed from the store with `Content-Length`, `Accept-Ranges: bytes`, `Content-Disposition: attachment`, `X-Content-Type-Options: nosniff`",
            content_type = "application/octet-stream", body = crate::dto::Binary),
        (status = 206, description = "One byte range of a `Range: bytes=…` request, with `Content-Range`",
            content_type = "application/octet-stream", body = crate::dto::Binary),
        (status = 416, description = "The range starts past the end (`Content-Range: bytes */size`)"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn attachment(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath((number, id)): ApiPath<(String, String)>,
    request: HeaderMap,
) -> Result<Response, ApiError> {
    let number = case_number(&number)?;
    let id: u32 = id
        .parse()
        .map_err(|_| ApiError::Malformed("the attachment id must be a number".into()))?;
    let (meta, stream) = state
        .service()
        .attachment_part(&actor, number, id, |meta| {
            crate::download::wanted(meta, &request)
        })
        .await
        .map_err(ApiError::from_service)?;
    let mut r = crate::download::download(&meta, stream, &request);
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(r)
}

/// Runs a command, with `If-Match` when given (stale → 412).
async fn run(
    state: &AppState,
    actor: &casia_core::Actor,
    number: &str,
    if_match: IfMatch,
    command: Command,
) -> Result<Response, ApiError> {
    let number = case_number(number)?;
    let service = state.service();
    let outcome = match if_match.0 {
        Some(version) => service
            .execute_at_version(actor, number, &command, version)
            .await
            .map_err(ApiError::from_conditional)?,
        None => service
            .execute(actor, number, &command)
            .await
            .map_err(ApiError::from_service)?,
    };
    Ok(case_response(StatusCode::OK, &outcome.case))
}

/// Add documentation (anexar información, DOMAIN.md §5, §6).
#[utoipa::path(
    post, path = "/v1/cases/{number}/documentation", tag = "commands",
    security(("bearer" = [])),
    params(
        ("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001"),
        ("If-Match" = Option<String>, Header, description = "\"<version>\": run only if the case is still at it", pattern = "^(\\*|(W/)?\"?[0-9]+\"?)$"),
    ),
    request_body(
        description = "multipart with a `meta` part and file parts, or JSON `{comment}` without files",
        content((DocumentationMultipart = "multipart/form-data"), (DocumentationMeta = "application/json"))
    ),
    responses(
        (status = 200, description = "The case after the command", body = CaseView),
        (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`case_closed`, `duplicate_attachment`, `version_conflict`", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale `If-Match` (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "The body is over the limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Neither JSON nor multipart", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid_field`, `attachment_rejected`", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn documentation(
    State(state): State<AppState>,
    Caller(actor): Caller,
    ApiPath(number): ApiPath<String>,
    if_match: IfMatch,
    req: Request,
) -> Result<Response, ApiError> {
    let mut staging = Staging::for_state(&state);
    let (comment, attachments) = match body_kind(req.headers())? {
        BodyKind::Multipart => {
            let form = read_multipart(req, &state, "meta", staging.as_mut()).await?;
            let meta: DocumentationMeta = match form.json {
                Some(json) => parse_json(&json, "the `meta` part")?,
                None => {
                    return Err(ApiError::Malformed(
                        "the multipart part `meta` is missing".into(),
                    ));
                }
            };
            let attachments = attachments_from_parts(&meta.attachments, form.files)?;
            (meta.comment, attachments)
        }
        BodyKind::Json | BodyKind::Empty => {
            let JsonBody(meta) = JsonBody::<DocumentationMeta>::from_request(req, &state).await?;
            if let Some(a) = meta.attachments.first() {
                return Err(ApiError::Malformed(format!(
                    "attachment part `{}`: files need multipart/form-data",
                    a.part
                )));
            }
            (meta.comment, Vec::new())
        }
    };
    let command = Command::AddDocumentation {
        comment,
        attachments,
    };
    let answer = run(&state, &actor, &number, if_match, command).await;
    drop(staging);
    answer
}

macro_rules! command_endpoint {
    (
        $(#[$doc:meta])*
        $name:ident, $path:tt, $body:ident, $errors409:tt, $errors422:tt,
        |$b:ident| $command:expr
    ) => {
        $(#[$doc])*
        #[utoipa::path(
            post, path = $path, tag = "commands",
            security(("bearer" = [])),
            params(
                ("number" = String, Path, description = "Case number `YYYY-NNNNNNNN`", pattern = "^[0-9]{4}-[0-9]{8}$", example = "2026-00000001"),
                ("If-Match" = Option<String>, Header, description = "\"<version>\": run only if the case is still at it", pattern = "^(\\*|(W/)?\"?[0-9]+\"?)$"),
            ),
            request_body(content = $body, content_type = "application/json"),
            responses(
                (status = 200, description = "The case after the command", body = CaseView,
                    headers(("ETag" = String, description = "\"<version>\""))),
                (status = 403, description = "`forbidden`", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = "`not_found`", body = Problem, content_type = "application/problem+json"),
                (status = 409, description = $errors409, body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "Stale `If-Match` (`version_conflict`)", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = $errors422, body = Problem, content_type = "application/problem+json"),
            )
        )]
        pub async fn $name(
            State(state): State<AppState>,
            Caller(actor): Caller,
            ApiPath(number): ApiPath<String>,
            if_match: IfMatch,
            JsonBody($b): JsonBody<$body>,
        ) -> Result<Response, ApiError> {
            run(&state, &actor, &number, if_match, $command).await
        }
    };
}

command_endpoint!(
    /// Cancel the case (user; DOMAIN.md §5).
    cancel, "/v1/cases/{number}/cancel", CancelBody,
    "`case_closed`, `version_conflict`", "`invalid_field` (`reason`)",
    |b| Command::Cancel { reason: b.reason }
);

command_endpoint!(
    /// Rate a resolved case (user; the survey rule of DOMAIN.md §5).
    survey, "/v1/cases/{number}/survey", SurveyBody,
    "`survey_not_allowed`, `survey_already_submitted`, `survey_window_closed`, `version_conflict`",
    "`invalid_field` (`rating`, `comment`)",
    |b| Command::Survey { rating: b.rating, comment: b.comment }
);

command_endpoint!(
    /// Assign the case to a processor of its office (default: the caller).
    assign, "/v1/cases/{number}/assign", AssignBody,
    "`case_closed`, `transition_not_allowed`, `version_conflict`", "`invalid_field` (`processor`)",
    |b| Command::Assign { processor: b.processor }
);

command_endpoint!(
    /// Request information from the user (assigned processor); sets the deadline.
    request_information, "/v1/cases/{number}/request-information", RequestInformationBody,
    "`case_closed`, `transition_not_allowed`, `version_conflict`", "`invalid_field` (`observation`)",
    |b| Command::RequestInformation { observation: b.observation }
);

command_endpoint!(
    /// Escalate within TGSS (assigned processor); the note is internal.
    escalate, "/v1/cases/{number}/escalate", EscalateBody,
    "`case_closed`, `transition_not_allowed`, `version_conflict`", "`invalid_field` (`note`)",
    |b| Command::Escalate { note: b.note }
);

command_endpoint!(
    /// Transfer to another office (processor of the office).
    transfer, "/v1/cases/{number}/transfer", TransferBody,
    "`case_closed`, `transition_not_allowed`, `version_conflict`", "`invalid_field` (`office`, `note`)",
    |b| Command::Transfer { office: b.office, note: b.note }
);

command_endpoint!(
    /// Reclassify within the case type (processor of the office).
    reclassify, "/v1/cases/{number}/reclassify", ReclassifyBody,
    "`case_closed`, `version_conflict`", "`invalid_classification`, `not_handled_by_casia`",
    |b| Command::Reclassify { materia: b.materia, category: b.category, subcategory: b.subcategory }
);

command_endpoint!(
    /// Resolve the case (assigned processor).
    resolve, "/v1/cases/{number}/resolve", ResolveBody,
    "`case_closed`, `transition_not_allowed`, `version_conflict`", "`invalid_field` (`resolution`)",
    |b| Command::Resolve { resolution: b.resolution }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::download::content_disposition;

    #[test]
    fn download_names_are_quoted_safely() {
        assert_eq!(
            content_disposition("informe año.pdf"),
            "attachment; filename=\"informe a_o.pdf\"; filename*=UTF-8''informe%20a%C3%B1o.pdf"
        );
        let d = content_disposition("a\"b\\c.txt");
        assert!(d.starts_with("attachment; filename=\"a_b_c.txt\""));
        assert!(HeaderValue::from_str(&d).is_ok());
    }
}
