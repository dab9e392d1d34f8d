//! The CASIA web pages in Spanish (issue 18; HTTP.md "the web pages"):
//! what autorizados and processors use in a browser — *Nuevo caso*, the
//! *Justificante*, *Gestión de casos* (options 1 and 2), the case with its
//! documents, history and survey, the processor's queue and actions, and
//! the public verification of a receipt code.
//!
//! Server-rendered with [maud] (templates checked at compile time), over
//! the same [`casia_http::AppState`] as the JSON API: every rule is the
//! core's ([`casia_core::CaseService`]); a page only turns form fields into
//! core inputs and core errors into Spanish messages next to the field they
//! name ([`labels`]). Pages work without JavaScript; `casia.js` (served
//! from the binary, no CDN) only submits the classification choices as
//! they are picked. Every response carries a Content-Security-Policy
//! without inline scripts or styles and `frame-ancestors 'none'`.
//!
//! [`pages`] is the router; `casia serve` merges it into the API's with
//! [`casia_http::app_with`], so the pages get the API's limits, timeout,
//! access log and metrics.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};

use casia_core::{Actor, CasiaError, ServiceError};
use casia_http::AppState;

pub mod actions;
pub mod browse;
pub mod filing;
pub mod labels;
pub mod layout;
pub mod queue;
pub mod session;
pub mod signin;
pub mod verify;

use layout::{Section, page};
use session::Visitor;

/// How the pages are served.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Whether `/entrar` (the development sign-in form) exists: only with
    /// `serve --dev-login` and the development secret.
    pub dev_login: bool,
    /// The key CSRF tokens are derived with (from the service's secret).
    pub csrf_key: Vec<u8>,
    /// Whether cookies are `Secure` (the service is reached over TLS).
    pub secure_cookies: bool,
}

/// The policy of every page: scripts, styles and images from this origin
/// only, forms posting to it, never framed.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const CSS: &str = include_str!("../assets/casia.css");
const JS: &str = include_str!("../assets/casia.js");

/// The pages as a router over the API's state, to merge with
/// [`casia_http::app_with`]: `/`, `/entrar` (with `dev_login`), `/salir`,
/// `/casos/nuevo`, `/casos`, `/casos/{número}` and its documents, receipt
/// and actions, `/cola`, `/verificar`, `/static/…`.
pub fn pages(config: WebConfig) -> Router<AppState> {
    let config = Arc::new(config);
    let mut router = Router::new()
        .route("/", get(browse::home))
        .route("/salir", post(signin::sign_out))
        .route("/casos", get(browse::list))
        .route("/casos/nuevo", get(filing::form).post(filing::submit))
        .route("/casos/{number}", get(browse::detail))
        .route("/casos/{number}/justificante", get(filing::receipt))
        .route("/casos/{number}/justificante.pdf", get(filing::receipt_pdf))
        .route("/casos/{number}/documentos/{id}", get(browse::document))
        .route("/casos/{number}/{action}", post(actions::run))
        .route("/cola", get(queue::queue))
        .route("/verificar", get(verify::verify))
        .route(
            "/static/casia.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .route(
            "/static/casia.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        );
    // HTTP.md: `/entrar` exists only with `--dev-login`.
    if config.dev_login {
        router = router.route("/entrar", get(signin::form).post(signin::sign_in));
    }
    router
        .layer(axum::Extension(config))
        .layer(map_response(page_headers))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

async fn page_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// What every page handler starts from: the state, the pages' settings,
/// the visitor and the CSRF token its forms carry.
#[derive(Clone)]
pub struct Ctx {
    /// The API's state (service, authenticator, public URL).
    pub state: AppState,
    /// The pages' settings.
    pub config: Arc<WebConfig>,
    /// Who is browsing.
    pub visitor: Visitor,
    /// The CSRF token of this visitor's forms.
    pub csrf: String,
    /// The body budget's handle for a streamable body (issue 17): the
    /// form reader holds its `stream()` guard while it stages a file.
    pub streamed: Option<casia_http::limits::StreamedBody>,
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let config = parts
            .extensions
            .get::<Arc<WebConfig>>()
            .cloned()
            .unwrap_or_else(|| {
                Arc::new(WebConfig {
                    dev_login: false,
                    csrf_key: Vec::new(),
                    secure_cookies: true,
                })
            });
        let visitor =
            match <Visitor as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
                Ok(v) => v,
                Err(never) => match never {},
            };
        let csrf = session::form_token(&config, &visitor);
        let streamed = parts
            .extensions
            .get::<casia_http::limits::StreamedBody>()
            .cloned();
        Ok(Ctx {
            state: state.clone(),
            config,
            visitor,
            csrf,
            streamed,
        })
    }
}

impl Ctx {
    /// The signed-in user or processor, or the response that sends the
    /// visitor to sign in (`303` to `/entrar` with the development
    /// sign-in, else a `401` page saying how to sign in).
    // The error is the response itself, returned at once by the handler.
    #[allow(clippy::result_large_err)]
    pub fn person(&self) -> Result<Actor, Response> {
        match self.visitor.person() {
            Some(a) => Ok(a.clone()),
            None => Err(self.sign_in_needed()),
        }
    }

    fn sign_in_needed(&self) -> Response {
        if self.config.dev_login {
            return redirect("/entrar");
        }
        self.page_response(
            StatusCode::UNAUTHORIZED,
            "Acceso",
            Section::SignIn,
            signin::how_to_sign_in(),
        )
    }

    /// A page for this visitor with `status`.
    pub fn page_response(
        &self,
        status: StatusCode,
        title: &str,
        section: Section,
        main: Markup,
    ) -> Response {
        html_response(
            status,
            page(title, section, self.visitor.person(), &self.csrf, main),
        )
    }

    /// Whether a posted form's CSRF token is this visitor's.
    pub fn csrf_ok(&self, sent: &str) -> bool {
        session::csrf_ok(&self.config, &self.visitor, sent)
    }

    /// The page for a refused form whose CSRF token is missing or stale.
    pub fn csrf_refused(&self) -> Response {
        self.page_response(
            StatusCode::FORBIDDEN,
            "Formulario caducado",
            Section::Home,
            html! {
                p { "El formulario ha caducado o no procede de esta página. Vuelva atrás, recargue la página y envíelo de nuevo." }
            },
        )
    }

    /// The page for a service error that no form shows: `not_found` 404,
    /// `forbidden` 403, a store outage 503 with `Retry-After`, any other
    /// rule 422 with its message.
    pub fn error_page(&self, e: ServiceError) -> Response {
        match e {
            ServiceError::Rule(CasiaError::NotFound) => self.page_response(
                StatusCode::NOT_FOUND,
                "Caso no encontrado",
                Section::Cases,
                html! { p { "El caso no existe o no puede verlo con su perfil." } p { a href="/casos" { "Volver a Gestión de casos" } } },
            ),
            ServiceError::Rule(CasiaError::Forbidden) => self.page_response(
                StatusCode::FORBIDDEN,
                "Acceso no permitido",
                Section::Home,
                html! { p { "Su perfil no permite esta página." } },
            ),
            ServiceError::Rule(rule) => {
                let m = labels::error_message(&rule, &|_| None);
                self.page_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "No se ha podido completar",
                    Section::Home,
                    html! { p { (m.message) } },
                )
            }
            other => unavailable(self, &other),
        }
    }
}

fn unavailable(ctx: &Ctx, e: &ServiceError) -> Response {
    tracing::warn!(error = %casia_core::error::report(e), "page: service unavailable");
    let mut r = ctx.page_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "Servicio no disponible",
        Section::Home,
        html! { p { "El servicio no está disponible en este momento. Inténtelo de nuevo en unos segundos; no se ha guardado nada." } },
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    r
}

/// An HTML response.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut r = (status, markup.into_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// `303 See Other` to `to` (after a form post: the browser then GETs it).
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// The fields of an `application/x-www-form-urlencoded` body; a repeated
/// name keeps its first value. A body that does not parse is no fields.
pub fn form_fields(body: &[u8]) -> BTreeMap<String, String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k).or_insert(v);
    }
    out
}
