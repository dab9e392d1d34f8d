//! Extractors whose rejections are [`ApiError`]s, so malformed input gets
//! the same problem format as every other error (HTTP.md "Errors"): bad
//! JSON, query, path, header or multipart → 400 `malformed_request`; a body
//! over the limit → 413.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Multipart, Path, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use casia_core::attachment::{AttachmentContent, NewAttachment};
use casia_core::{Actor, CaseNumber};
use serde::de::DeserializeOwned;

use crate::dto::AttachmentRef;
use crate::problem::ApiError;
use crate::staging::Staging;
use crate::state::AppState;

/// How a request body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// `application/json` or any `application/*+json`.
    Json,
    /// `multipart/form-data`.
    Multipart,
    /// No body and no content type.
    Empty,
}

/// The kind of a body from its `Content-Type`.
///
/// # Errors
///
/// [`ApiError::Malformed`] for an unreadable header;
/// [`ApiError::UnsupportedMediaType`] for a type no endpoint takes.
pub fn body_kind(headers: &HeaderMap) -> Result<BodyKind, ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(BodyKind::Empty);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::Malformed("unreadable Content-Type".into()))?;
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(BodyKind::Json)
    } else if essence == "multipart/form-data" {
        Ok(BodyKind::Multipart)
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type {essence:?}: use application/json or multipart/form-data"
        )))
    }
}

fn bytes_rejection(e: &BytesRejection) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::Malformed(format!("cannot read the body: {}", e.body_text()))
    }
}

/// A multipart error as the API answers it: 413 past the body limit,
/// else 400.
pub(crate) fn multipart_error(e: &MultipartError) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::Malformed(format!("malformed multipart body: {}", e.body_text()))
    }
}

/// Parses JSON text into `T`, naming where it failed.
///
/// # Errors
///
/// [`ApiError::Malformed`] (400 `malformed_request`) naming `what`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::Malformed(format!("malformed JSON in {what}: {e}")))
}

/// A JSON body. An empty body reads as `{}`, so commands whose fields are
/// all optional need no body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let kind = body_kind(req.headers())?;
        if kind == BodyKind::Multipart {
            // Refused before a byte of it is read.
            return Err(ApiError::UnsupportedMediaType(
                "this endpoint takes application/json".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| bytes_rejection(&e))?;
        match kind {
            BodyKind::Json | BodyKind::Empty if bytes.is_empty() => {
                parse_json(b"{}", "the body").map(JsonBody)
            }
            BodyKind::Json => parse_json(&bytes, "the body").map(JsonBody),
            BodyKind::Empty => Err(ApiError::UnsupportedMediaType(
                "a body needs Content-Type: application/json".into(),
            )),
            BodyKind::Multipart => Err(ApiError::UnsupportedMediaType(
                "this endpoint takes application/json".into(),
            )),
        }
    }
}

/// Path parameters.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(p)| ApiPath(p))
            .map_err(|e| ApiError::Malformed(format!("malformed path: {}", e.body_text())))
    }
}

/// A case number from the path: `YYYY-NNNNNNNN`, else 400.
///
/// # Errors
///
/// [`ApiError::Malformed`] when it does not parse.
pub fn case_number(raw: &str) -> Result<CaseNumber, ApiError> {
    CaseNumber::parse(raw)
        .map_err(|_| ApiError::Malformed("the case number must look like YYYY-NNNNNNNN".into()))
}

/// `If-Match: "<version>"` (HTTP.md "Case JSON"); `*` or absent → none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<u64>);

impl IfMatch {
    /// Reads the header: `"3"` or a bare `3` is version 3; `*` or no header
    /// is none.
    ///
    /// # Errors
    ///
    /// [`ApiError::Stale`] (412) for a weak tag `W/"3"`: `If-Match` uses the
    /// strong comparison (RFC 9110 §13.1.1), under which a weak tag never
    /// matches — whatever the case, so the answer leaks nothing.
    /// [`ApiError::Malformed`] (400) for anything else.
    pub fn parse(headers: &HeaderMap) -> Result<IfMatch, ApiError> {
        let Some(value) = headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || ApiError::Malformed("If-Match must be a case version, e.g. \"3\"".into());
        let text = value.to_str().map_err(|_| bad())?.trim();
        if text == "*" {
            return Ok(IfMatch(None));
        }
        if text.starts_with("W/") {
            return Err(ApiError::Stale);
        }
        let tag = text;
        let inner = tag
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(tag);
        inner
            .parse::<u64>()
            .map(|v| IfMatch(Some(v)))
            .map_err(|_| bad())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        IfMatch::parse(&parts.headers)
    }
}

/// A file part of a multipart request.
#[derive(Debug, Clone)]
pub struct FilePart {
    /// The part's file name as the client sent it (the part name when it sent none); sanitised
    /// later by the core.
    pub file_name: String,
    /// The part's bytes: in memory, or staged in a file as they arrived.
    pub content: AttachmentContent,
}

/// The most bytes the JSON part of a multipart body may have: it is
/// held in memory (a case's title, description and complementary data
/// are a few KiB).
pub const JSON_PART_LIMIT: usize = 1024 * 1024;

/// A multipart request split into its JSON part and its file parts.
#[derive(Debug)]
pub struct MultipartForm {
    /// The JSON part's bytes, if it was sent.
    pub json: Option<Bytes>,
    /// Every other part, by part name.
    pub files: BTreeMap<String, FilePart>,
}

/// Reads a whole multipart body; `json_part` names the JSON part, which
/// must come first (HTTP.md), every other part is a file. A repeated part
/// name is malformed. With
/// `staging`, each file part is written to a staging file as it arrives
/// ([`Staging::stage`]) instead of being read into memory.
///
/// # Errors
///
/// [`ApiError::Malformed`] for a malformed body, an unnamed or repeated
/// part, a file part before the JSON part; [`ApiError::PayloadTooLarge`]
/// past the body limit or a JSON part
/// over [`JSON_PART_LIMIT`]; [`ApiError::Internal`] when staging fails.
pub async fn read_multipart<S: Send + Sync>(
    req: Request,
    state: &S,
    json_part: &str,
    mut staging: Option<&mut Staging>,
) -> Result<MultipartForm, ApiError> {
    // The declared body length bounds every part: a part is read into one
    // buffer of about its size instead of one that doubles as it grows.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let streamed = req
        .extensions()
        .get::<crate::limits::StreamedBody>()
        .cloned();
    // With staging, only file parts the JSON part names are staged.
    let mut wanted: Option<std::collections::HashSet<String>> = None;
    let mut multipart = Multipart::from_request(req, state)
        .await
        .map_err(|e| ApiError::Malformed(format!("malformed multipart body: {}", e.body_text())))?;
    let mut form = MultipartForm {
        json: None,
        files: BTreeMap::new(),
    };
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| multipart_error(&e))?
    {
        let name = field
            .name()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| ApiError::Malformed("a multipart part has no name".into()))?
            .to_owned();
        // HTTP.md: the JSON part comes first, so files can be streamed
        // knowing what they are for; a file part before it is malformed.
        if name != json_part && form.json.is_none() {
            return Err(ApiError::Malformed(format!(
                "the file part `{name}` comes before the part `{json_part}`, which must be first"
            )));
        }
        let file_name = field.file_name().map(str::to_owned);
        let mut field = field;
        if name != json_part
            && let Some(staging) = staging.as_deref_mut()
        {
            // Refused before a byte is staged: a part no attachment names,
            // a repeated one, one too many.
            if !wanted.as_ref().is_some_and(|w| w.contains(&name)) {
                return Err(ApiError::Malformed(format!(
                    "file part `{name}` is not named by any attachment"
                )));
            }
            if form.files.contains_key(&name) {
                return Err(ApiError::Malformed(format!(
                    "the part `{name}` is repeated"
                )));
            }
            if form.files.len() >= staging.max_parts() {
                return Err(ApiError::Malformed(format!(
                    "at most {} file parts",
                    staging.max_parts()
                )));
            }
            let staged = staging.stage_field(&mut field, streamed.as_ref()).await?;
            let part = FilePart {
                file_name: file_name.unwrap_or_else(|| name.clone()),
                content: AttachmentContent::Staged(staged),
            };
            form.files.insert(name, part);
            continue;
        }
        let mut buffer: Vec<u8> = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|e| multipart_error(&e))? {
            if buffer.is_empty()
                && let Some(total) = declared
            {
                let cap = if name == json_part {
                    JSON_PART_LIMIT
                } else {
                    total
                };
                buffer.reserve_exact(cap.min(total).max(chunk.len()));
            }
            buffer.extend_from_slice(&chunk);
            if name == json_part && buffer.len() > JSON_PART_LIMIT {
                return Err(ApiError::PayloadTooLarge);
            }
        }
        buffer.shrink_to_fit();
        let bytes = Bytes::from(buffer);
        if name == json_part {
            if staging.is_some() {
                // The names its attachment list gives (`attachments[].part`);
                // the caller reads the rest of it.
                let value: serde_json::Value =
                    parse_json(&bytes, &format!("the `{json_part}` part"))?;
                wanted = Some(
                    value["attachments"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|a| a["part"].as_str().map(str::to_owned))
                        .collect(),
                );
            }
            if form.json.replace(bytes).is_some() {
                return Err(ApiError::Malformed(format!(
                    "the part `{json_part}` is repeated"
                )));
            }
            continue;
        }
        let part = FilePart {
            file_name: file_name.unwrap_or_else(|| name.clone()),
            content: bytes.into(),
        };
        if form.files.insert(name.clone(), part).is_some() {
            return Err(ApiError::Malformed(format!(
                "the part `{name}` is repeated"
            )));
        }
    }
    Ok(form)
}

/// Pairs the attachment list of the JSON part with the file parts, in the
/// list's order (the order the core checks them in, DOMAIN.md §6). Every
/// named part must exist and every file part must be named.
///
/// # Errors
///
/// [`ApiError::Malformed`] naming a missing part or an unnamed file part.
pub fn attachments_from_parts(
    refs: &[AttachmentRef],
    mut files: BTreeMap<String, FilePart>,
) -> Result<Vec<NewAttachment>, ApiError> {
    let mut used = Vec::with_capacity(refs.len());
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        let file = match files.get(&r.part) {
            Some(f) => f.clone(),
            None => {
                return Err(ApiError::Malformed(format!(
                    "attachment part `{}` is not in the request",
                    r.part
                )));
            }
        };
        used.push(r.part.clone());
        out.push(NewAttachment {
            document_type: r.document_type.clone(),
            title: r.title.clone(),
            file_name: file.file_name,
            content: file.content,
        });
    }
    for name in used {
        files.remove(&name);
    }
    if let Some(name) = files.keys().next() {
        return Err(ApiError::Malformed(format!(
            "file part `{name}` is not named by any attachment"
        )));
    }
    Ok(out)
}

/// The authenticated caller of a `/v1` endpoint.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(ApiError::Unauthorized {
                invalid_token: false,
            });
        };
        let invalid = ApiError::Unauthorized {
            invalid_token: true,
        };
        let text = value.to_str().map_err(|_| ApiError::Unauthorized {
            invalid_token: true,
        })?;
        let (scheme, token) = text.trim().split_once(' ').ok_or(ApiError::Unauthorized {
            invalid_token: true,
        })?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(invalid);
        }
        state
            .auth()
            .verify(token.trim())
            .await
            .map(Caller)
            .ok_or(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn if_match(v: &str) -> Result<IfMatch, ApiError> {
        let mut h = HeaderMap::new();
        h.insert(header::IF_MATCH, HeaderValue::from_str(v).expect("header"));
        IfMatch::parse(&h)
    }

    #[test]
    fn if_match_forms() {
        assert_eq!(if_match("\"3\"").ok(), Some(IfMatch(Some(3))));
        assert!(
            matches!(if_match("W/\"4\""), Err(ApiError::Stale)),
            "weak tags never match"
        );
        assert_eq!(if_match("5").ok(), Some(IfMatch(Some(5))));
        assert_eq!(if_match("*").ok(), Some(IfMatch(None)));
        assert!(matches!(if_match("\"x\""), Err(ApiError::Malformed(_))));
        assert_eq!(IfMatch::parse(&HeaderMap::new()).ok(), Some(IfMatch(None)));
    }

    #[test]
    fn content_types() {
        let kind = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(v).expect("header"),
            );
            body_kind(&h)
        };
        assert_eq!(
            kind("application/json; charset=utf-8").ok(),
            Some(BodyKind::Json)
        );
        assert_eq!(
            kind("application/merge-patch+json").ok(),
            Some(BodyKind::Json)
        );
        assert_eq!(
            kind("multipart/form-data; boundary=x").ok(),
            Some(BodyKind::Multipart)
        );
        assert!(matches!(
            kind("text/plain"),
            Err(ApiError::UnsupportedMediaType(_))
        ));
        assert_eq!(body_kind(&HeaderMap::new()).ok(), Some(BodyKind::Empty));
    }

    #[test]
    fn parts_must_match_the_attachment_list() {
        let file = |n: &str| FilePart {
            file_name: format!("{n}.pdf"),
            content: Bytes::from(b"%PDF-1.4".to_vec()).into(),
        };
        let r = |p: &str| AttachmentRef {
            part: p.into(),
            document_type: "other".into(),
            title: "t".into(),
        };
        let files: BTreeMap<String, FilePart> =
            [("a".to_owned(), file("a")), ("b".to_owned(), file("b"))].into();
        let ok = attachments_from_parts(&[r("b"), r("a")], files.clone()).expect("ok");
        assert_eq!(
            ok.iter().map(|a| a.file_name.as_str()).collect::<Vec<_>>(),
            ["b.pdf", "a.pdf"]
        );
        assert!(matches!(
            attachments_from_parts(&[r("a")], files.clone()),
            Err(ApiError::Malformed(m)) if m.contains("`b`")
        ));
        assert!(matches!(
            attachments_from_parts(&[r("a"), r("b"), r("c")], files),
            Err(ApiError::Malformed(m)) if m.contains("`c`")
        ));
    }
}
