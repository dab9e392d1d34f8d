//! `GET /docs` (HTTP.md): an explorer of the OpenAPI document, served from
//! the binary — swagger-ui-dist (npm, Apache-2.0, `assets/swagger-ui/`,
//! provenance in `scripts/vendor-assets`), never from a CDN. Its pages get
//! their own Content-Security-Policy: scripts and styles from this origin
//! only (Swagger UI sets inline styles, so `style-src` allows them), no
//! framing.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::state::AppState;

const INDEX: &str = include_str!("../assets/docs/index.html");
const INIT: &str = include_str!("../assets/docs/init.js");
const CSS: &str = include_str!("../assets/swagger-ui/swagger-ui.css");
const BUNDLE: &str = include_str!("../assets/swagger-ui/swagger-ui-bundle.js");
const FAVICON: &[u8] = include_bytes!("../assets/swagger-ui/favicon-32x32.png");

/// The policy of the explorer's pages.
pub const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(body: impl IntoResponse, content_type: &'static str, cache: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DOCS_CSP),
    );
    r
}

/// An API explorer of `/openapi.json` (Swagger UI, served from the binary).
#[utoipa::path(
    get, path = "/docs", tag = "service",
    responses((status = 200, description = "The explorer page", content_type = "text/html"))
)]
pub async fn docs() -> Response {
    asset(INDEX, "text/html; charset=utf-8", "no-cache")
}

/// The explorer's scripts, styles and icon (not in the OpenAPI document).
pub fn assets() -> Router<AppState> {
    const DAY: &str = "public, max-age=86400";
    Router::new()
        .route(
            "/docs/init.js",
            get(|| async { asset(INIT, "text/javascript; charset=utf-8", DAY) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8", DAY) }),
        )
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset(BUNDLE, "text/javascript; charset=utf-8", DAY) }),
        )
        .route(
            "/docs/favicon-32x32.png",
            get(|| async { asset(FAVICON, "image/png", DAY) }),
        )
}
