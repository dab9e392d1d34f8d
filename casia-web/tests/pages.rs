//! In-process tests of the web pages (issue 18): `app_with(state,
//! pages(config))` over the memory store, called with `oneshot`. The
//! browser test (`casia-cli/tests/browser.rs`) walks the same pages in
//! Chromium; these pin the rules a browser cannot see: sign-in and cookie
//! flags, CSRF, the CSP, visibility, the deadline preview against the
//! core, errors kept next to their fields, and an API left unchanged.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use casia_core::memory::MemoryStore;
use casia_core::ports::{Clock, Outbox, SystemClock};
use casia_core::receipt::ReceiptKey;
use casia_core::{Actor, CaseNumber, CaseRules, CaseService};
use casia_http::state::HttpOptions;
use casia_http::{AppState, Authenticator, Claims, app_with};
use casia_test_support::binary::multipart;
use casia_test_support::fixtures::{pdf, processor, user};
use casia_web::{PAGE_CSP, WebConfig, pages};
use http_body_util::BodyExt;
use tower::ServiceExt;

const SECRET: &[u8] = b"web-test-secret-0123456789abcdef";

struct Site {
    app: Router,
    config: WebConfig,
    service: CaseService,
}

fn site(dev_login: bool) -> Site {
    site_with(
        dev_login,
        HttpOptions {
            public_url: "https://casia.example.es".into(),
            ..HttpOptions::default()
        },
    )
}

fn site_with(dev_login: bool, options: HttpOptions) -> Site {
    site_over(dev_login, options, false)
}

/// A site whose service keeps files in a blob store (in memory): the form's
/// files are streamed to staging files (issue 17).
fn site_over(dev_login: bool, options: HttpOptions, blobs: bool) -> Site {
    let store = Arc::new(MemoryStore::new());
    let rules = CaseRules::with_defaults(ReceiptKey::new("web-receipt-key"));
    let mut service = CaseService::new(
        store.clone(),
        Arc::new(SystemClock) as Arc<dyn Clock>,
        Arc::new(rules),
    );
    if blobs {
        service = service.with_blobs(Arc::new(casia_core::blob::MemoryBlobStore::new()));
    }
    let state = AppState::with_options(
        service.clone(),
        store as Arc<dyn Outbox>,
        None,
        Authenticator::hs256(SECRET),
        options,
    );
    let config = WebConfig {
        dev_login,
        csrf_key: b"csrf-key-for-the-web-page-tests!".to_vec(),
        secure_cookies: false,
    };
    Site {
        app: app_with(state, pages(config.clone())),
        config,
        service,
    }
}

fn token(actor: &Actor) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Authenticator::hs256(SECRET)
        .mint(&Claims::for_actor(actor, now, 3600))
        .expect("token")
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Site {
    async fn call(&self, req: Request<Body>) -> Reply {
        let r = self.app.clone().oneshot(req).await.expect("response");
        let status = r.status();
        let headers = r.headers().clone();
        let bytes = r.into_body().collect().await.expect("body").to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, path: &str, actor: Option<&Actor>) -> Reply {
        let mut req = Request::get(path);
        if let Some(a) = actor {
            req = req.header(header::COOKIE, format!("casia_session={}", token(a)));
        }
        self.call(req.body(Body::empty()).expect("request")).await
    }

    /// A form post as `actor`'s session, with its CSRF token when
    /// `with_csrf` (else a wrong one).
    async fn post_form(
        &self,
        path: &str,
        actor: &Actor,
        with_csrf: bool,
        fields: &[(&str, &str)],
    ) -> Reply {
        let tok = token(actor);
        let csrf = if with_csrf {
            casia_web::session::csrf_token(&self.config, &tok)
        } else {
            "0123456789abcdef0123456789abcdef".to_owned()
        };
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, format!("casia_session={tok}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&all).expect("form")))
            .expect("request");
        self.call(req).await
    }

    async fn post_multipart(
        &self,
        path: &str,
        actor: &Actor,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> Reply {
        let tok = token(actor);
        let csrf = casia_web::session::csrf_token(&self.config, &tok);
        let mut all: Vec<(&str, Option<&str>, &[u8])> = vec![("csrf", None, csrf.as_bytes())];
        all.extend_from_slice(parts);
        let (content_type, body) = multipart(&all);
        // In 64 KiB frames, arriving one at a time as over a connection
        // (a reader that asks for more waits for the next).
        let frames: Vec<Vec<u8>> = body.chunks(64 * 1024).map(<[u8]>::to_vec).collect();
        let mut frames = frames.into_iter();
        let mut ready = false;
        let frames = futures_util::stream::poll_fn(move |cx| {
            // Every other poll: not yet (woken at once), as a socket would.
            ready = !ready;
            if !ready {
                cx.waker().wake_by_ref();
                return std::task::Poll::Pending;
            }
            std::task::Poll::Ready(frames.next().map(Ok::<_, std::convert::Infallible>))
        });
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, format!("casia_session={tok}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from_stream(frames))
            .expect("request");
        self.call(req).await
    }
}

fn ana() -> Actor {
    user("AUT-1", "ana", "28")
}

fn procedure_parts<'a>(nif: &'a str, file: &'a [u8]) -> Vec<(&'a str, Option<&'a str>, &'a [u8])> {
    vec![
        ("tipo", None, b"procedure".as_slice()),
        ("materia", None, b"inscripcion_empresas".as_slice()),
        ("categoria", None, b"inscripcion".as_slice()),
        ("subcategoria", None, b"inscripcion".as_slice()),
        ("titulo", None, "Inscripción de la empresa".as_bytes()),
        (
            "descripcion",
            None,
            b"Solicitamos la inscripcion.".as_slice(),
        ),
        ("dato_nif", None, nif.as_bytes()),
        ("adjunto_1_tipo", None, b"ta6".as_slice()),
        ("adjunto_1_titulo", None, b"".as_slice()),
        ("adjunto_1_fichero", Some("TA6 firmado.pdf"), file),
    ]
}

/// Files a procedure through the page and returns its number.
async fn file_case(site: &Site) -> CaseNumber {
    let doc = pdf(1, 300);
    let r = site
        .post_multipart("/casos/nuevo", &ana(), &procedure_parts("12345678Z", &doc))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let location = r.headers[header::LOCATION].to_str().expect("location");
    let number = location
        .strip_prefix("/casos/")
        .and_then(|l| l.strip_suffix("/justificante"))
        .expect("to the receipt");
    CaseNumber::parse(number).expect("a case number")
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_every_page_has_the_policy() {
    let s = site(true);
    let r = s.get("/", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/entrar");
    let csp = r.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert_eq!(csp, PAGE_CSP);
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    for path in ["/casos", "/casos/nuevo", "/cola", "/casos/2026-00000001"] {
        assert_eq!(
            s.get(path, None).await.status,
            StatusCode::SEE_OTHER,
            "{path}"
        );
    }
    let entrar = s.get("/entrar", None).await;
    assert_eq!(entrar.status, StatusCode::OK);
    assert!(entrar.body.contains("<html lang=\"es\">"));
    assert!(!entrar.body.contains("<script>") && !entrar.body.contains("style="));
    // The public page needs no session.
    assert_eq!(s.get("/verificar", None).await.status, StatusCode::OK);

    // Without --dev-login there is no form (HTTP.md): a page saying how to
    // sign in.
    let closed = site(false);
    let r = closed.get("/", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("--dev-login"), "{}", r.body);
    assert_eq!(
        closed.get("/entrar", None).await.status,
        StatusCode::NOT_FOUND
    );
    let post = Request::post("/entrar")
        .body(Body::empty())
        .expect("request");
    assert_eq!(closed.call(post).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_development_sign_in_sets_a_strict_http_only_cookie_behind_a_csrf_token() {
    let s = site(true);
    let form = s.get("/entrar", None).await;
    let nonce_cookie = form.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(nonce_cookie.contains("HttpOnly") && nonce_cookie.contains("SameSite=Strict"));
    let nonce = nonce_cookie
        .strip_prefix("casia_csrf=")
        .and_then(|c| c.split(';').next())
        .expect("nonce");
    let csrf = casia_web::session::csrf_token(&s.config, nonce);
    assert!(form.body.contains(&csrf), "the form carries the token");
    let fields = |csrf: &str| {
        serde_urlencoded::to_string([
            ("csrf", csrf),
            ("perfil", "usuario"),
            ("autorizacion", "AUT-1"),
            ("usuario", "ana"),
            ("provincia", "28"),
        ])
        .expect("form")
    };
    let post = |body: String| {
        Request::post("/entrar")
            .header(header::COOKIE, format!("casia_csrf={nonce}"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request")
    };
    // Another site's form cannot sign a visitor in.
    assert_eq!(
        s.call(post(fields("0000"))).await.status,
        StatusCode::FORBIDDEN
    );
    let r = s.call(post(fields(&csrf))).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let session = r.headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(session.starts_with("casia_session="));
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"));
    assert!(!session.contains("Secure"), "plain HTTP in development");
    let tok = session
        .strip_prefix("casia_session=")
        .and_then(|c| c.split(';').next())
        .expect("token");
    let home = s
        .call(
            Request::get("/")
                .header(header::COOKIE, format!("casia_session={tok}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Mis casos del mes") && home.body.contains("Usuario ana"));

    // A bad province is shown next to its field, with the input kept.
    let bad = serde_urlencoded::to_string([
        ("csrf", csrf.as_str()),
        ("perfil", "usuario"),
        ("autorizacion", "AUT-1"),
        ("usuario", "ana"),
        ("provincia", "99"),
    ])
    .expect("form");
    let r = s.call(post(bad)).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"provincia-error\"") && r.body.contains("value=\"99\""));
}

#[tokio::test]
async fn pages_accept_the_api_bearer_token() {
    let s = site(false);
    let req = Request::get("/casos")
        .header(header::AUTHORIZATION, format!("Bearer {}", token(&ana())))
        .body(Body::empty())
        .expect("request");
    let r = s.call(req).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Gestión de casos"));
}

#[tokio::test]
async fn filing_keeps_the_input_and_names_the_field_then_gives_the_receipt() {
    let s = site(true);
    let doc = pdf(7, 400);
    // A bad NIF: 422, the message at `dato_nif`, every value kept.
    let r = s
        .post_multipart("/casos/nuevo", &ana(), &procedure_parts("12345678A", &doc))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"dato_nif-error\""), "{}", r.body);
    assert!(
        r.body.contains("href=\"#dato_nif\""),
        "the summary links to the field"
    );
    assert!(r.body.contains("value=\"12345678A\""));
    assert!(r.body.contains("value=\"Inscripción de la empresa\""));
    // A file that is not accepted: at its own input.
    let exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00binary".to_vec();
    let r = s
        .post_multipart("/casos/nuevo", &ana(), &procedure_parts("12345678Z", &exe))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("id=\"adjunto_1_fichero-error\""),
        "{}",
        r.body
    );
    // Nothing was filed by either.
    let number = file_case(&s).await;
    assert_eq!(number.sequence(), 1, "refused submissions take no number");

    let receipt = s
        .get(&format!("/casos/{number}/justificante"), Some(&ana()))
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let stored = s.service.receipt(&ana(), number).await.expect("receipt");
    assert!(receipt.body.contains(&stored.verification_code));
    assert!(receipt.body.contains(&stored.body.submitted_at_madrid));
    // The title defaults to the file name's stem.
    assert!(receipt.body.contains("TA6 firmado"));
    let pdf_page = s
        .get(&format!("/casos/{number}/justificante.pdf"), Some(&ana()))
        .await;
    assert_eq!(pdf_page.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(pdf_page.body.starts_with("%PDF-"));

    // The public verification.
    let code = stored.verification_code.to_lowercase();
    let r = s.get(&format!("/verificar?codigo={code}"), None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Justificante auténtico") && r.body.contains(&number.to_string()));
    let r = s
        .get("/verificar?codigo=AAAA-BBBB-CCCC-DDDD-EEEE", None)
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("id=\"codigo-error\""));

    // A document downloads as what it is, never inline.
    let r = s
        .get(&format!("/casos/{number}/documentos/1"), Some(&ana()))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.headers[header::CONTENT_TYPE], "application/pdf");
    assert!(
        r.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .expect("disposition")
            .starts_with("attachment;")
    );
}

#[tokio::test]
async fn a_post_without_the_session_csrf_token_changes_nothing() {
    let s = site(true);
    let number = file_case(&s).await;
    let r = s
        .post_form(&format!("/casos/{number}/anular"), &ana(), false, &[])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let case = s.service.get(&ana(), number).await.expect("case");
    assert!(!case.state.is_closed(), "not cancelled");
    // Cancelling cannot be undone: without the confirmation it is refused
    // at the checkbox, the reason kept.
    let r = s
        .post_form(
            &format!("/casos/{number}/anular"),
            &ana(),
            true,
            &[("motivo", "Duplicado")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"confirmo-error\"") && r.body.contains("Duplicado"));
    assert!(
        !s.service
            .get(&ana(), number)
            .await
            .expect("case")
            .state
            .is_closed()
    );
    let r = s
        .post_form(
            &format!("/casos/{number}/anular"),
            &ana(),
            true,
            &[("motivo", "Duplicado"), ("confirmo", "si")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let case = s.service.get(&ana(), number).await.expect("case");
    assert!(case.state.is_closed());
}

#[tokio::test]
async fn the_processor_sees_the_deadline_the_request_then_sets() {
    let s = site(true);
    let number = file_case(&s).await;
    let pepa = processor("pepa", "28");
    let queue = s.get("/cola", Some(&pepa)).await;
    assert!(queue.body.contains(&number.to_string()));
    let r = s
        .post_form(&format!("/casos/{number}/asignar"), &pepa, true, &[])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = s
        .get(&format!("/casos/{number}?hecho=asignar"), Some(&pepa))
        .await;
    assert!(page.body.contains("Caso asignado."));
    let preview = page
        .body
        .split("id=\"plazo\"")
        .nth(1)
        .and_then(|rest| rest.split("<strong>").nth(1))
        .and_then(|rest| rest.split("</strong>").next())
        .expect("a deadline preview")
        .to_owned();
    // Empty: refused at its field, the case untouched.
    let r = s
        .post_form(
            &format!("/casos/{number}/solicitar"),
            &pepa,
            true,
            &[("observacion", "  ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"observacion-error\""));
    let r = s
        .post_form(
            &format!("/casos/{number}/solicitar"),
            &pepa,
            true,
            &[("observacion", "Aporte la escritura.")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let case = s.service.get(&pepa, number).await.expect("case");
    let set = case
        .deadline
        .expect("a deadline")
        .format("%d/%m/%Y")
        .to_string();
    assert_eq!(preview, set, "the page showed the deadline the core set");
    // The autorizado sees it and the request.
    let user_page = s.get(&format!("/casos/{number}"), Some(&ana())).await;
    assert!(user_page.body.contains(&set) && user_page.body.contains("Aporte la escritura."));
}

#[tokio::test]
async fn visibility_and_roles_hold_on_the_pages() {
    let s = site(true);
    let number = file_case(&s).await;
    let stranger = user("AUT-2", "eva", "28");
    let r = s.get(&format!("/casos/{number}"), Some(&stranger)).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(!r.body.contains("Inscripción de la empresa"));
    let other_office = processor("luis", "08");
    assert_eq!(
        s.get(&format!("/casos/{number}"), Some(&other_office))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.get("/cola", Some(&ana())).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.get("/casos/nuevo", Some(&processor("pepa", "28")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The user sees no processor action, the processor no user action.
    let mine = s.get(&format!("/casos/{number}"), Some(&ana())).await;
    assert!(mine.body.contains("/anular\"") && !mine.body.contains("/asignar\""));
    let theirs = s
        .get(&format!("/casos/{number}"), Some(&processor("pepa", "28")))
        .await;
    assert!(theirs.body.contains("/asignar\"") && !theirs.body.contains("/anular\""));
}

#[tokio::test]
async fn a_search_across_two_months_is_refused_at_its_date() {
    let s = site(true);
    let r = s
        .get(
            "/casos?estado=all&desde=2026-10-01&hasta=2026-11-30",
            Some(&ana()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"hasta-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"2026-10-01\""));
    let r = s.get("/casos?numero=2026-1", Some(&ana())).await;
    assert!(r.body.contains("id=\"numero-error\""));
}

#[tokio::test]
async fn the_api_is_unchanged_beside_the_pages() {
    let s = site(true);
    let r = s.get("/v1/cases/2026-00000001", None).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("application/problem+json")
    );
    assert_eq!(s.get("/healthz", None).await.status, StatusCode::OK);
    let css = s.get("/static/casia.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(
        css.headers[header::CONTENT_TYPE]
            .to_str()
            .expect("type")
            .starts_with("text/css")
    );
}

#[tokio::test]
async fn a_form_sent_twice_files_one_case() {
    let s = site(true);
    let doc = pdf(3, 300);
    let mut parts = procedure_parts("12345678Z", &doc);
    parts.push(("clave", None, b"form-key-0001".as_slice()));
    let first = s.post_multipart("/casos/nuevo", &ana(), &parts).await;
    let again = s.post_multipart("/casos/nuevo", &ana(), &parts).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.headers[header::LOCATION],
        again.headers[header::LOCATION]
    );
    let page = s
        .service
        .search(
            &ana(),
            &casia_core::search::SearchInput {
                status: Some("all".into()),
                ..Default::default()
            },
        )
        .await
        .expect("search");
    assert_eq!(page.items.len(), 1, "one case for one form");
    // The form carries a fresh key.
    let form = s
        .get(
            "/casos/nuevo?tipo=procedure&materia=inscripcion_empresas&categoria=inscripcion&subcategoria=inscripcion",
            Some(&ana()),
        )
        .await;
    assert!(form.body.contains("name=\"clave\""));
}

#[tokio::test]
async fn internal_notes_never_reach_the_autorizado_page() {
    let s = site(true);
    let number = file_case(&s).await;
    let pepa = processor("pepa", "28");
    assert_eq!(
        s.post_form(&format!("/casos/{number}/asignar"), &pepa, true, &[])
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let r = s
        .post_form(
            &format!("/casos/{number}/escalar"),
            &pepa,
            true,
            &[("nota_escalado", "NOTA-INTERNA-SECRETA")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let theirs = s.get(&format!("/casos/{number}"), Some(&pepa)).await;
    assert!(theirs.body.contains("NOTA-INTERNA-SECRETA") && theirs.body.contains("Nota interna"));
    let mine = s.get(&format!("/casos/{number}"), Some(&ana())).await;
    assert!(mine.body.contains("Caso escalado"), "the entry is listed");
    assert!(
        !mine.body.contains("NOTA-INTERNA-SECRETA"),
        "without its note"
    );
}

#[tokio::test]
async fn option_two_without_a_status_is_refused_and_keeps_the_dates() {
    let s = site(true);
    let r = s
        .get(
            "/casos?estado=&desde=2026-11-01&hasta=2026-11-30",
            Some(&ana()),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"estado-error\""), "{}", r.body);
    assert!(r.body.contains("value=\"2026-11-01\""));
}

#[tokio::test]
async fn the_verification_page_shares_the_receipt_rate_limit_however_encoded() {
    let s = site_with(
        false,
        HttpOptions {
            receipt_rate_per_second: 1,
            receipt_rate_burst: 1,
            ..HttpOptions::default()
        },
    );
    assert_eq!(
        s.get("/verificar?codigo=AAAA", None).await.status,
        StatusCode::NOT_FOUND
    );
    let encoded = s.get("/verificar?%63odigo=AAAA", None).await;
    assert_eq!(encoded.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(encoded.headers.contains_key(header::RETRY_AFTER));
    // The bare form is not a verification.
    assert_eq!(s.get("/verificar", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn option_two_pages_with_a_cursor() {
    let s = site(true);
    for i in 0..53 {
        let input = casia_core::SubmitInput {
            case_type: "inquiry".into(),
            materia: "afiliacion".into(),
            category: "altas".into(),
            subcategory: "plazos".into(),
            title: format!("Consulta {i}"),
            description: "Plazos de alta.".into(),
            ..Default::default()
        };
        s.service.submit(&ana(), &input).await.expect("submit");
    }
    let first = s.get("/casos", Some(&ana())).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body.matches("<th scope=\"row\">").count(), 50);
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|head| head.rsplit("href=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("a next-page link")
        .replace("&amp;", "&");
    assert!(next.contains("cursor="), "{next}");
    let second = s.get(&next, Some(&ana())).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.body.matches("<th scope=\"row\">").count(), 3);
    assert!(!second.body.contains("rel=\"next\""));
}

#[tokio::test]
async fn a_processor_reclassifies_and_transfers_through_the_page() {
    let s = site(true);
    let number = file_case(&s).await;
    let pepa = processor("pepa", "28");
    let path = |a: &str| format!("/casos/{number}/{a}");
    assert_eq!(
        s.post_form(&path("asignar"), &pepa, true, &[]).await.status,
        StatusCode::SEE_OTHER
    );
    // Another path of the same case type, offered by the form.
    let page = s.get(&format!("/casos/{number}"), Some(&pepa)).await;
    assert!(
        page.body
            .contains("value=\"inscripcion_empresas/inscripcion/ccc_secundario\"")
    );
    let r = s
        .post_form(
            &path("reclasificar"),
            &pepa,
            true,
            &[(
                "clasificacion",
                "inscripcion_empresas/inscripcion/ccc_secundario",
            )],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let case = s.service.get(&pepa, number).await.expect("case");
    assert_eq!(case.subcategory, "ccc_secundario");
    // The current office is not offered, and refused if sent.
    assert!(!page.body.contains("<option value=\"28\""));
    let r = s
        .post_form(&path("transferir"), &pepa, true, &[("oficina", "28")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("id=\"oficina-error\""));
    let r = s
        .post_form(
            &path("transferir"),
            &pepa,
            true,
            &[
                ("oficina", "08"),
                ("nota_transferencia", "Competencia de Barcelona"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    // Gone from Madrid's view, in Barcelona's queue.
    assert_eq!(
        s.get(&format!("/casos/{number}"), Some(&pepa)).await.status,
        StatusCode::NOT_FOUND
    );
    let queue = s.get("/cola", Some(&processor("jordi", "08"))).await;
    assert!(queue.body.contains(&number.to_string()));
}

#[tokio::test]
async fn form_files_stream_past_the_budget_and_a_body_read_whole_does_not() {
    // A 6 MiB budget: a streamed body holds 2 MiB (× 2); a 9 MiB one read
    // whole would need 18 MiB.
    let s = site_over(
        false,
        HttpOptions {
            body_budget_bytes: 6 * 1024 * 1024,
            ..HttpOptions::default()
        },
        true,
    );
    let big = pdf(7, 9 * 1024 * 1024);
    let r = s
        .post_multipart("/casos/nuevo", &ana(), &procedure_parts("12345678Z", &big))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let number = r.headers[header::LOCATION]
        .to_str()
        .ok()
        .and_then(|l| l.strip_prefix("/casos/"))
        .and_then(|l| l.strip_suffix("/justificante"))
        .and_then(|n| CaseNumber::parse(n).ok())
        .expect("to the receipt");
    let case = s.service.get(&ana(), number).await.expect("filed");
    assert_eq!(case.attachments[0].size, big.len() as u64);
    // The same body to a form that reads its body whole is charged for it.
    let r = s
        .post_multipart("/salir", &ana(), &procedure_parts("12345678Z", &big))
        .await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    assert!(
        r.body.contains("unavailable"),
        "the budget's 503: {}",
        r.body
    );
    // Text fields over 1 MiB in all: 413, not held.
    let long = "x".repeat(600 * 1024);
    let mut parts = procedure_parts("12345678Z", b"%PDF-1.7\n");
    parts.push(("extra_1", None, long.as_bytes()));
    parts.push(("extra_2", None, long.as_bytes()));
    let r = s.post_multipart("/casos/nuevo", &ana(), &parts).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.body);
}
