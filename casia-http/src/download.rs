//! Attachment downloads streamed from the store (issue 17): the bytes go
//! out chunk by chunk with `Content-Length`, and a single byte range
//! (RFC 9110 §14) is answered `206 Partial Content` — a client resuming a
//! large file asks for the rest instead of starting again.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use casia_core::Attachment;
use casia_core::blob::BlobStream;
pub use casia_core::blob::ByteRange;

/// What a `Range` header asks of a representation of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable range: the whole representation (no header, another
    /// unit, several ranges or a malformed one, which RFC 9110 §14.2 lets a
    /// server ignore).
    Whole,
    /// One satisfiable range.
    Part(ByteRange),
    /// A range that starts past the end: `416`.
    Unsatisfiable,
}

/// Parses `bytes=a-b`, `bytes=a-` and `bytes=-n` against `size`.
pub fn range_request(header: Option<&HeaderValue>, size: u64) -> RangeRequest {
    let Some(spec) = header
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return RangeRequest::Whole;
    };
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    let parse = |s: &str| s.parse::<u64>().ok();
    let range = match (a.is_empty(), b.is_empty()) {
        // `-n`: the last n bytes.
        (true, false) => match parse(b) {
            None => return RangeRequest::Whole,
            // An empty suffix selects nothing (RFC 9110 §14.1.3).
            Some(0) => return RangeRequest::Unsatisfiable,
            Some(n) if size == 0 => {
                let _ = n;
                return RangeRequest::Unsatisfiable;
            }
            Some(n) => ByteRange {
                first: size.saturating_sub(n),
                last: size - 1,
            },
        },
        (false, _) => {
            let Some(first) = parse(a) else {
                return RangeRequest::Whole;
            };
            let last = if b.is_empty() {
                size.saturating_sub(1)
            } else {
                match parse(b) {
                    Some(l) if l >= first => l.min(size.saturating_sub(1)),
                    _ => return RangeRequest::Whole,
                }
            };
            if first >= size {
                return RangeRequest::Unsatisfiable;
            }
            ByteRange { first, last }
        }
        (true, true) => return RangeRequest::Whole,
    };
    RangeRequest::Part(range)
}

/// `attachment; filename="…"; filename*=UTF-8''…` (RFC 6266 §4.3, RFC
/// 8187): an ASCII fallback and the exact name, percent-encoded.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// The range `request` asks of `meta`'s bytes, to read from the store.
pub fn wanted(meta: &Attachment, request: &HeaderMap) -> Option<ByteRange> {
    match range_request(request.get(header::RANGE), meta.size) {
        RangeRequest::Part(r) => Some(r),
        RangeRequest::Whole | RangeRequest::Unsatisfiable => None,
    }
}

/// A download of `meta`'s bytes from `stream` — the range [`wanted`]
/// picked, already read as such by the store: `Content-Length`,
/// `Accept-Ranges: bytes`, the media type detected at upload,
/// `Content-Disposition: attachment` with the stored file name, and `206`
/// / `416` for a `Range` request.
pub fn download(meta: &Attachment, stream: BlobStream, request: &HeaderMap) -> Response {
    let disposition = content_disposition(&meta.file_name);
    let size = meta.size;
    let (status, body_range) = match range_request(request.get(header::RANGE), size) {
        RangeRequest::Whole => (StatusCode::OK, None),
        RangeRequest::Part(r) => (StatusCode::PARTIAL_CONTENT, Some(r)),
        RangeRequest::Unsatisfiable => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let (body, length) = match body_range {
        Some(range) => (Body::from_stream(stream), range.len()),
        None => (Body::from_stream(stream), size),
    };
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Some(range) = body_range
        && let Ok(v) =
            HeaderValue::from_str(&format!("bytes {}-{}/{size}", range.first, range.last))
    {
        h.insert(header::CONTENT_RANGE, v);
    }
    if let Ok(v) = HeaderValue::from_str(meta.format.media_type()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition)
            .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(v: &str, size: u64) -> RangeRequest {
        range_request(Some(&HeaderValue::from_str(v).expect("header")), size)
    }

    #[test]
    fn download_names_are_safe_and_keep_unicode() {
        let d = content_disposition("Łukasz \"x\".pdf");
        assert!(
            d.starts_with("attachment; filename=\"_ukasz _x_.pdf\""),
            "{d}"
        );
        assert!(
            d.ends_with("filename*=UTF-8''%C5%81ukasz%20%22x%22.pdf"),
            "{d}"
        );
    }

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let part = |first, last| RangeRequest::Part(ByteRange { first, last });
        assert_eq!(range_request(None, 100), RangeRequest::Whole);
        assert_eq!(ask("bytes=0-9", 100), part(0, 9));
        assert_eq!(ask("bytes=90-", 100), part(90, 99));
        assert_eq!(ask("bytes=-10", 100), part(90, 99));
        assert_eq!(ask("bytes=-1000", 100), part(0, 99));
        assert_eq!(ask("bytes=50-5000", 100), part(50, 99));
        assert_eq!(ask("bytes=100-", 100), RangeRequest::Unsatisfiable);
        assert_eq!(ask("bytes=-0", 100), RangeRequest::Unsatisfiable);
        assert_eq!(ask("bytes=0-1,5-6", 100), RangeRequest::Whole);
        assert_eq!(ask("bytes=9-1", 100), RangeRequest::Whole);
        assert_eq!(ask("items=0-1", 100), RangeRequest::Whole);
        assert_eq!(ask("bytes=x-1", 100), RangeRequest::Whole);
    }
}
