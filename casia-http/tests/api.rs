//! In-process tests of every endpoint of HTTP.md and every error mapping:
//! `app(state)` over the memory store and a fixed clock, called with
//! `tower::ServiceExt::oneshot`.

use bytes::Bytes;
use casia_test_support::binary::multipart;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use casia_core::attachment::AttachmentLimits;
use casia_core::command::Change;
use casia_core::memory::MemoryStore;
use casia_core::ports::{CaseRepository, Clock, FixedClock, Outbox};
use casia_core::receipt::ReceiptKey;
use casia_core::search::SearchFilter;
use casia_core::submission::{CaseDraft, NewCase};
use casia_core::{
    Actor, AuthorizationId, Case, CaseNumber, CaseRules, CaseService, CaseState, OfficeCode,
    ProcessorId, ProvinceCode, StoreError, UserId,
};
use casia_http::state::HttpOptions;
use casia_http::{AppState, Authenticator, Claims, app, openapi};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &[u8] = b"test-secret-0123456789abcdef-xyz";
const MAX_FILE: u64 = 100_000;
const MAX_TOTAL: u64 = 300_000;

fn limits() -> AttachmentLimits {
    AttachmentLimits {
        max_attachment_bytes: MAX_FILE,
        max_attachments: 5,
        max_total_bytes: MAX_TOTAL,
    }
}

struct Harness {
    app: Router,
    clock: Arc<FixedClock>,
    store: Arc<MemoryStore>,
    state: AppState,
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().expect("instant")
}

fn harness_with(
    repo: Arc<dyn CaseRepository>,
    store: Arc<MemoryStore>,
    timeout: Duration,
) -> Harness {
    harness_with_options(
        repo,
        store,
        HttpOptions {
            request_timeout: timeout,
            public_url: "https://casia.example.es".into(),
            ..HttpOptions::default()
        },
    )
}

fn harness_with_options(
    repo: Arc<dyn CaseRepository>,
    store: Arc<MemoryStore>,
    options: HttpOptions,
) -> Harness {
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let mut rules = CaseRules::with_defaults(ReceiptKey::new("receipt-test-key"));
    rules.limits = limits();
    let service = CaseService::new(repo, clock.clone() as Arc<dyn Clock>, Arc::new(rules));
    let state = AppState::with_options(
        service,
        store.clone() as Arc<dyn Outbox>,
        None,
        Authenticator::hs256(SECRET),
        options,
    );
    Harness {
        app: app(state.clone()),
        clock,
        store,
        state,
    }
}

fn harness() -> Harness {
    let store = Arc::new(MemoryStore::new());
    harness_with(store.clone(), store, Duration::from_secs(30))
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn token(actor: &Actor) -> String {
    Authenticator::hs256(SECRET)
        .mint(&Claims::for_actor(actor, now_secs(), 3600))
        .expect("token")
}

fn user_of(authorization: &str, user: &str, province: &str) -> Actor {
    Actor::User {
        authorization: AuthorizationId::parse(authorization).expect("id"),
        user: UserId::parse(user).expect("id"),
        province: ProvinceCode::parse(province).expect("code"),
    }
}

fn processor_of(processor: &str, office: &str) -> Actor {
    Actor::Processor {
        processor: ProcessorId::parse(processor).expect("id"),
        office: OfficeCode::parse(office).expect("code"),
    }
}

fn user() -> String {
    token(&user_of("A1", "u1", "28"))
}

fn other_user() -> String {
    token(&user_of("B2", "u9", "28"))
}

fn processor() -> String {
    token(&processor_of("P1", "28"))
}

fn system() -> String {
    token(&Actor::System)
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn header(&self, name: impl header::AsHeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// Asserts a problem document with this status and code.
    fn problem(&self, status: StatusCode, code: &str) -> Value {
        assert_eq!(
            self.status,
            status,
            "body: {}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            "application/problem+json"
        );
        let p = self.json();
        assert_eq!(p["code"], code, "{p}");
        assert_eq!(p["status"], status.as_u16());
        assert_eq!(p["type"], format!("urn:casia:problem:{code}"));
        assert!(p["title"].is_string() && p["detail"].is_string());
        p
    }
}

async fn send(h: &Harness, req: Request<Body>) -> Answer {
    let response = h.app.clone().oneshot(req).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn request(method: Method, uri: &str, token: Option<&str>) -> axum::http::request::Builder {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    b
}

async fn get(h: &Harness, uri: &str, token: Option<&str>) -> Answer {
    send(
        h,
        request(Method::GET, uri, token)
            .body(Body::empty())
            .expect("request"),
    )
    .await
}

async fn post_json(h: &Harness, uri: &str, token: Option<&str>, body: Value) -> Answer {
    send(
        h,
        request(Method::POST, uri, token)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

async fn post_json_if_match(
    h: &Harness,
    uri: &str,
    token: &str,
    body: Value,
    version: &str,
) -> Answer {
    send(
        h,
        request(Method::POST, uri, Some(token))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::IF_MATCH, version)
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

async fn post_multipart(
    h: &Harness,
    uri: &str,
    token: &str,
    parts: &[(&str, Option<&str>, &[u8])],
) -> Answer {
    let (content_type, body) = multipart(parts);
    send(
        h,
        request(Method::POST, uri, Some(token))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

fn inquiry() -> Value {
    json!({
        "case_type": "inquiry",
        "materia": "afiliacion",
        "category": "altas",
        "subcategory": "plazos",
        "title": "Plazo de alta",
        "description": "¿Cuál es el plazo para comunicar un alta?",
    })
}

/// Submits an inquiry as A1/u1 and returns its number.
async fn submit_inquiry(h: &Harness) -> String {
    let a = post_json(h, "/v1/cases", Some(&user()), inquiry()).await;
    assert_eq!(
        a.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()["number"].as_str().expect("number").to_owned()
}

fn nss_case(attachments: Value) -> Value {
    json!({
        "case_type": "procedure",
        "materia": "afiliacion",
        "category": "altas",
        "subcategory": "nss",
        "affects_current_period": true,
        "title": "Solicitud de NSS",
        "description": "Trabajador nuevo sin número de afiliación.",
        "complementary_data": {"nif": "12345678-z"},
        "attachments": attachments,
    })
}

fn nss_multipart_parts() -> Value {
    json!([
        {"part": "f1", "document_type": "ta1", "title": "Modelo TA.1"},
        {"part": "f2", "document_type": "identity", "title": "DNI del trabajador"},
    ])
}

const PDF_BYTES: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";
const TEXT_BYTES: &[u8] = b"DNI 12345678Z\nNombre: Trabajador de prueba\n";

async fn submit_nss(h: &Harness) -> Value {
    let case = nss_case(nss_multipart_parts()).to_string();
    let a = post_multipart(
        h,
        "/v1/cases",
        &user(),
        &[
            ("case", None, case.as_bytes()),
            ("f1", Some("ta1.pdf"), PDF_BYTES),
            ("f2", Some("../../dni.txt"), TEXT_BYTES),
        ],
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    a.json()
}

// ---- probes, document, metrics -------------------------------------------

#[tokio::test]
async fn probes_answer_without_a_token() {
    let h = harness();
    let a = get(&h, "/healthz", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["status"], "ok");
    let a = get(&h, "/readyz", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["status"], "ready");
    assert_eq!(a.header("x-content-type-options"), "nosniff");
    assert!(!a.header("x-request-id").is_empty());
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint_and_error() {
    let h = harness();
    let a = get(&h, "/openapi.json", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let doc = a.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let expected = [
        ("/v1/catalog", "get"),
        ("/v1/cases", "post"),
        ("/v1/cases", "get"),
        ("/v1/cases/{number}", "get"),
        ("/v1/queue", "get"),
        ("/v1/cases/{number}/history", "get"),
        ("/v1/cases/{number}/documentation", "post"),
        ("/v1/cases/{number}/attachments/{id}", "get"),
        ("/v1/cases/{number}/cancel", "post"),
        ("/v1/cases/{number}/survey", "post"),
        ("/v1/cases/{number}/receipt", "get"),
        ("/v1/receipts/{code}", "get"),
        ("/v1/cases/{number}/assign", "post"),
        ("/v1/cases/{number}/request-information", "post"),
        ("/v1/cases/{number}/escalate", "post"),
        ("/v1/cases/{number}/transfer", "post"),
        ("/v1/cases/{number}/reclassify", "post"),
        ("/v1/cases/{number}/resolve", "post"),
        ("/v1/sweep", "post"),
        ("/v1/calendar/deadline", "get"),
        ("/v1/contacts/{authorization}", "get"),
        ("/v1/contacts/{authorization}", "put"),
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/openapi.json", "get"),
        ("/metrics", "get"),
        ("/docs", "get"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    let operations: usize = paths
        .values()
        .map(|p| p.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(operations, expected.len(), "no undocumented extras");
    for (path, method) in expected {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} is missing");
        let responses = op["responses"].as_object().expect("responses");
        let has_input = op.get("requestBody").is_some()
            || op["parameters"].as_array().is_some_and(|p| !p.is_empty());
        let mut problems = vec!["500"];
        if has_input {
            problems.push("400");
        }
        for status in problems {
            assert_eq!(
                responses[status]["content"]["application/problem+json"]["schema"]["$ref"],
                "#/components/schemas/Problem",
                "{method} {path} {status}"
            );
        }
        assert_eq!(
            responses.contains_key("400"),
            has_input,
            "{method} {path}: 400 only where something can be malformed"
        );
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        let public = matches!(
            path,
            "/v1/receipts/{code}" | "/healthz" | "/readyz" | "/openapi.json" | "/metrics" | "/docs"
        );
        assert_eq!(secured, !public, "{method} {path}");
        if secured {
            assert!(responses.contains_key("401"), "{method} {path}");
        }
    }
    assert!(
        doc["paths"]["/healthz"]["get"]["responses"]
            .get("400")
            .is_none()
    );
    assert_eq!(doc["servers"][0]["url"], "/");
    // Byte bodies are strings of format binary (client generators make
    // streams of them, not arrays of integers).
    for (path, media) in [
        ("/v1/cases/{number}/receipt", "application/pdf"),
        (
            "/v1/cases/{number}/attachments/{id}",
            "application/octet-stream",
        ),
    ] {
        let schema = &doc["paths"][path]["get"]["responses"]["200"]["content"][media]["schema"];
        let schema = match schema.get("$ref").and_then(|r| r.as_str()) {
            Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or_default()],
            None => schema,
        };
        assert_eq!(schema["type"], "string", "{path}: {schema}");
        assert_eq!(schema["format"], "binary", "{path}: {schema}");
    }
    // Bodies and the problem schema are described.
    assert!(
        doc["paths"]["/v1/cases"]["post"]["requestBody"]["content"]["multipart/form-data"]
            .is_object()
    );
    assert!(
        doc["paths"]["/v1/cases"]["post"]["requestBody"]["content"]["application/json"].is_object()
    );
    assert!(doc["paths"]["/v1/cases/{number}/receipt"]["get"]["responses"]["200"]["content"]["application/pdf"].is_object());
    for c in [
        "/v1/cases/{number}/cancel",
        "/v1/cases/{number}/resolve",
        "/v1/cases/{number}/documentation",
    ] {
        let r = &doc["paths"][c]["post"]["responses"];
        for s in ["403", "404", "409", "412", "422"] {
            assert!(r[s].is_object(), "{c} {s}");
        }
    }
    let schemas = &doc["components"]["schemas"];
    for s in [
        "Problem",
        "ProblemCode",
        "CaseView",
        "SubmittedCase",
        "ReceiptView",
        "SubmitCase",
        "SurveyBody",
        "SearchPage",
        "CatalogView",
        "HistoryList",
    ] {
        assert!(schemas[s].is_object(), "schema {s}");
    }
    let codes = schemas["ProblemCode"]["enum"].as_array().expect("enum");
    for code in casia_core::ErrorCode::ALL {
        assert!(codes.contains(&json!(code.as_str())), "{code}");
    }
    assert!(codes.contains(&json!("malformed_request")));
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    assert_eq!(
        casia_http::openapi::openapi_text().expect("text"),
        openapi().to_json().expect("json")
    );
}

#[tokio::test]
async fn metrics_count_requests_cases_and_the_outbox() {
    let h = harness();
    submit_inquiry(&h).await;
    get(&h, "/v1/cases/2026-99999999", Some(&user())).await;
    let a = get(&h, "/metrics", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.header(header::CONTENT_TYPE)
            .starts_with("text/plain; version=0.0.4")
    );
    let text = String::from_utf8(a.body).expect("utf8");
    assert!(text.contains(
        "casia_http_requests_total{method=\"POST\",route=\"/v1/cases\",status=\"201\"} 1"
    ));
    assert!(text.contains(
        "casia_http_requests_total{method=\"GET\",route=\"/v1/cases/{number}\",status=\"404\"} 1"
    ));
    assert!(text.contains("casia_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/cases\",status=\"201\"} 1"));
    assert!(text.contains("casia_cases{status=\"open\",substatus=\"submitted\"} 1"));
    assert!(text.contains("casia_cases{status=\"closed\",substatus=\"resolved\"} 0"));
    assert!(text.contains("casia_outbox_backlog 1"));
    // The raw path of a case is never a label.
    assert!(!text.contains("2026-99999999"));
    assert_eq!(h.state.metrics().requests("GET", "/metrics", 200), 1);
}

// ---- authentication --------------------------------------------------------

#[tokio::test]
async fn missing_and_bad_tokens_are_401_with_a_bearer_challenge() {
    let h = harness();
    let a = get(&h, "/v1/catalog", None).await;
    a.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(a.header(header::WWW_AUTHENTICATE), "Bearer realm=\"casia\"");

    let foreign = Authenticator::hs256(b"another-secret-0123456789abcdefgh")
        .mint(&Claims::for_actor(
            &user_of("A1", "u1", "28"),
            now_secs(),
            60,
        ))
        .expect("token");
    let expired = Authenticator::hs256(SECRET)
        .mint(&Claims::for_actor(
            &user_of("A1", "u1", "28"),
            now_secs() - 7200,
            60,
        ))
        .expect("token");
    let mut bad = Claims::for_actor(&user_of("A1", "u1", "28"), now_secs(), 60);
    bad.authorization = Some("not valid!".into());
    let bad_claims = Authenticator::hs256(SECRET).mint(&bad).expect("token");
    for t in [
        foreign.as_str(),
        expired.as_str(),
        bad_claims.as_str(),
        "garbage",
    ] {
        let a = get(&h, "/v1/catalog", Some(t)).await;
        a.problem(StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(
            a.header(header::WWW_AUTHENTICATE)
                .contains("error=\"invalid_token\"")
        );
    }
    let a = send(
        &h,
        Request::get("/v1/catalog")
            .header(header::AUTHORIZATION, format!("Basic {}", user()))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    a.problem(StatusCode::UNAUTHORIZED, "unauthorized");
    // Authentication comes before anything about the case.
    let a = get(&h, "/v1/cases/not-a-number", None).await;
    a.problem(StatusCode::UNAUTHORIZED, "unauthorized");
}

// ---- catalog ---------------------------------------------------------------

#[tokio::test]
async fn the_catalog_is_served_to_any_role() {
    let h = harness();
    for t in [user(), processor(), system()] {
        let a = get(&h, "/v1/catalog", Some(&t)).await;
        assert_eq!(a.status, StatusCode::OK);
        let c = a.json();
        let types: Vec<&str> = c["case_types"]
            .as_array()
            .expect("types")
            .iter()
            .filter_map(|t| t["code"].as_str())
            .collect();
        assert_eq!(types, ["inquiry", "incident", "procedure"]);
        assert!(
            c["document_types"]
                .as_array()
                .is_some_and(|d| !d.is_empty())
        );
        let nss = c["case_types"][2]["materias"]
            .as_array()
            .expect("materias")
            .iter()
            .flat_map(|m| m["categories"].as_array().cloned().unwrap_or_default())
            .flat_map(|c| c["subcategories"].as_array().cloned().unwrap_or_default())
            .find(|s| s["code"] == "nss")
            .expect("nss");
        assert_eq!(nss["required_documents"], json!(["ta1", "identity"]));
        assert_eq!(nss["required_data"], json!([["naf", "nif"]]));
    }
}

// ---- submission ------------------------------------------------------------

#[tokio::test]
async fn submitting_json_answers_201_with_location_etag_and_receipt() {
    let h = harness();
    let a = post_json(&h, "/v1/cases", Some(&user()), inquiry()).await;
    assert_eq!(a.status, StatusCode::CREATED);
    assert_eq!(a.header(header::LOCATION), "/v1/cases/2026-00000001");
    assert_eq!(a.header(header::ETAG), "\"1\"");
    assert_eq!(a.header(header::CACHE_CONTROL), "no-store");
    let c = a.json();
    assert_eq!(c["number"], "2026-00000001");
    assert_eq!(c["status"], "open");
    assert_eq!(c["substatus"], "submitted");
    assert_eq!(c["office"], "28");
    assert_eq!(c["submitted_by"], "u1");
    assert_eq!(c["version"], 1);
    assert_eq!(c["assignee"], Value::Null);
    assert_eq!(c["deadline"], Value::Null);
    assert!(c.get("history").is_none());
    let keys: Vec<&String> = c.as_object().expect("object").keys().collect();
    for k in [
        "number",
        "case_type",
        "materia",
        "category",
        "subcategory",
        "status",
        "substatus",
        "office",
        "assignee",
        "affects_current_period",
        "title",
        "description",
        "complementary_data",
        "attachments",
        "deadline",
        "submitted_at",
        "submitted_by",
        "closed_at",
        "resolution",
        "survey",
        "version",
        "receipt",
    ] {
        assert!(keys.iter().any(|x| x.as_str() == k), "missing {k}");
    }
    let r = &c["receipt"];
    assert_eq!(r["number"], "2026-00000001");
    assert_eq!(r["submitted_at_madrid"], "2026-11-05 10:00:00 CET");
    assert_eq!(r["case_type"]["label"], "Consulta");
    assert_eq!(r["verification_code"].as_str().map(str::len), Some(24));
}

#[tokio::test]
async fn submitting_multipart_stores_files_by_content_and_lists_them_in_the_receipt() {
    let h = harness();
    let c = submit_nss(&h).await;
    assert_eq!(c["complementary_data"]["nif"], "12345678Z");
    let atts = c["attachments"].as_array().expect("attachments");
    assert_eq!(atts.len(), 2);
    assert_eq!(atts[0]["id"], 1);
    assert_eq!(atts[0]["filename"], "ta1.pdf");
    assert_eq!(atts[0]["media_type"], "application/pdf");
    assert_eq!(atts[0]["size"], PDF_BYTES.len());
    assert_eq!(atts[0]["added_by"], json!({"role": "user", "id": "u1"}));
    assert_eq!(atts[1]["filename"], "dni.txt", "path components removed");
    assert!(
        atts[1]["media_type"]
            .as_str()
            .is_some_and(|m| m.starts_with("text/plain"))
    );
    assert_eq!(
        atts[0]["sha256"],
        casia_core::attachment::sha256_hex(PDF_BYTES)
    );
    assert!(atts[0].get("content").is_none() && atts[0].get("bytes").is_none());
    let receipt_atts = c["receipt"]["attachments"].as_array().expect("receipt");
    assert_eq!(receipt_atts.len(), 2);
    assert_eq!(receipt_atts[1]["sha256"], atts[1]["sha256"]);
    assert_eq!(c["receipt"]["affects_current_period"], true);
}

#[tokio::test]
async fn submission_rule_errors_map_to_their_statuses() {
    let h = harness();
    let u = user();
    // Only users submit.
    post_json(&h, "/v1/cases", Some(&processor()), inquiry())
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let mut bad = inquiry();
    bad["materia"] = json!("nope");
    let p = post_json(&h, "/v1/cases", Some(&u), bad)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_classification");
    assert_eq!(p["field"], "materia");
    let p = post_json(
        &h,
        "/v1/cases",
        Some(&u),
        json!({"case_type": "procedure", "materia": "cotizacion", "category": "aplazamientos",
               "subcategory": "solicitud", "title": "t", "description": "d"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "not_handled_by_casia");
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Sede Electrónica"))
    );
    let mut bad = inquiry();
    bad["title"] = json!("   ");
    let p = post_json(&h, "/v1/cases", Some(&u), bad)
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(p["field"], "title");
    let mut bad = inquiry();
    bad["complementary_data"] = json!({"naf": "281234567841"});
    let p = post_json(&h, "/v1/cases", Some(&u), bad).await.problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_complementary_data",
    );
    assert_eq!(p["field"], "naf");
    let mut nss = nss_case(json!([]));
    nss["complementary_data"] = json!({});
    let p = post_json(&h, "/v1/cases", Some(&u), nss).await.problem(
        StatusCode::UNPROCESSABLE_ENTITY,
        "missing_complementary_data",
    );
    assert_eq!(p["fields"], json!(["naf", "nif"]));
    let p = post_json(&h, "/v1/cases", Some(&u), nss_case(json!([])))
        .await
        .problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "missing_required_documents",
        );
    assert_eq!(p["fields"], json!(["ta1", "identity"]));
    assert!(h.store.is_empty(), "nothing was stored");
}

/// Submits an inquiry as A1/u1 with one file part `f` of document type
/// `doc` and returns the 422 problem (`attachment_rejected`).
async fn refused_file(h: &Harness, doc: &str, name: &str, bytes: &[u8]) -> Value {
    let mut c = inquiry();
    c["attachments"] = json!([{"part": "f", "document_type": doc, "title": "Fichero"}]);
    let case = c.to_string();
    post_multipart(
        h,
        "/v1/cases",
        &user(),
        &[("case", None, case.as_bytes()), ("f", Some(name), bytes)],
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "attachment_rejected")
}

#[tokio::test]
async fn attachment_errors_map_to_422_and_409() {
    let h = harness();
    let p = refused_file(&h, "other", "x.exe", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00").await;
    assert_eq!(p["reason"], "unsupported_format");
    assert_eq!(p["index"], 0);
    let p = refused_file(&h, "passport_of_mars", "a.txt", b"hola").await;
    assert_eq!(p["reason"], "unknown_document_type");
    // One file over max_attachment_bytes, inside the request limit: the core's 422.
    let big = vec![b'a'; (MAX_FILE + 1) as usize];
    let p = refused_file(&h, "other", "big.txt", &big).await;
    assert_eq!(p["reason"], "too_large");
    // The same bytes twice.
    assert_eq!(duplicate_pair(&h).await["index"], 1);
}

/// Submits two equal files; the 409 problem (`duplicate_attachment`).
async fn duplicate_pair(h: &Harness) -> Value {
    let mut c = inquiry();
    c["attachments"] = json!([
        {"part": "a", "document_type": "other", "title": "Uno"},
        {"part": "b", "document_type": "other", "title": "Dos"},
    ]);
    let case = c.to_string();
    post_multipart(
        h,
        "/v1/cases",
        &user(),
        &[
            ("case", None, case.as_bytes()),
            ("a", Some("a.txt"), b"igual"),
            ("b", Some("b.txt"), b"igual"),
        ],
    )
    .await
    .problem(StatusCode::CONFLICT, "duplicate_attachment")
}

#[tokio::test]
async fn malformed_bodies_are_400_wrong_types_415_and_oversized_413() {
    let h = harness();
    let u = user();
    let malformed = |a: Answer| {
        a.problem(StatusCode::BAD_REQUEST, "malformed_request");
    };
    malformed(
        send(
            &h,
            request(Method::POST, "/v1/cases", Some(&u))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{\"case_type\": "))
                .expect("request"),
        )
        .await,
    );
    // A required field missing, or of the wrong type.
    malformed(post_json(&h, "/v1/cases", Some(&u), json!({"case_type": "inquiry"})).await);
    let mut wrong = inquiry();
    wrong["affects_current_period"] = json!("yes");
    malformed(post_json(&h, "/v1/cases", Some(&u), wrong).await);
    // Files named in JSON without multipart.
    let mut c = inquiry();
    c["attachments"] = json!([{"part": "f", "document_type": "other", "title": "t"}]);
    malformed(post_json(&h, "/v1/cases", Some(&u), c.clone()).await);
    // Multipart without the `case` part, with an unnamed file, with a missing file.
    malformed(post_multipart(&h, "/v1/cases", &u, &[("f", Some("a.txt"), b"hola")]).await);
    let plain = inquiry().to_string();
    malformed(
        post_multipart(
            &h,
            "/v1/cases",
            &u,
            &[
                ("case", None, plain.as_bytes()),
                ("extra", Some("a.txt"), b"hola"),
            ],
        )
        .await,
    );
    let named = c.to_string();
    malformed(post_multipart(&h, "/v1/cases", &u, &[("case", None, named.as_bytes())]).await);
    malformed(post_multipart(&h, "/v1/cases", &u, &[("case", None, b"{not json")]).await);
    // A multipart body that is not multipart.
    malformed(
        send(
            &h,
            request(Method::POST, "/v1/cases", Some(&u))
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=zzz")
                .body(Body::from("garbage without boundaries"))
                .expect("request"),
        )
        .await,
    );
    malformed(
        send(
            &h,
            request(Method::POST, "/v1/cases", Some(&u))
                .header(header::CONTENT_TYPE, "multipart/form-data")
                .body(Body::from("x"))
                .expect("request"),
        )
        .await,
    );
    // Neither JSON nor multipart.
    send(
        &h,
        request(Method::POST, "/v1/cases", Some(&u))
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("hola"))
            .expect("request"),
    )
    .await
    .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // Over max_total_bytes + 1 MiB: 413 before the core is asked, both
    // with a declared length and when streamed without one.
    let limit = h.state.body_limit();
    assert_eq!(limit as u64, MAX_TOTAL + 1024 * 1024);
    let huge = vec![b'x'; limit + 10];
    let case = inquiry().to_string();
    let (ct, body) = multipart(&[
        ("case", None, case.as_bytes()),
        ("f", Some("big.txt"), &huge),
    ]);
    send(
        &h,
        request(Method::POST, "/v1/cases", Some(&u))
            .header(header::CONTENT_TYPE, ct.clone())
            .header(header::CONTENT_LENGTH, body.len())
            .body(Body::from(body.clone()))
            .expect("request"),
    )
    .await
    .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let stream = Body::from_stream(futures_util::stream::iter(chunks));
    send(
        &h,
        request(Method::POST, "/v1/cases", Some(&u))
            .header(header::CONTENT_TYPE, ct)
            .body(stream)
            .expect("request"),
    )
    .await
    .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let json_chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        huge.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    send(
        &h,
        request(Method::POST, "/v1/cases", Some(&u))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures_util::stream::iter(json_chunks)))
            .expect("request"),
    )
    .await
    .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    send(
        &h,
        request(Method::POST, "/v1/cases", Some(&u))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, huge.len())
            .body(Body::from(huge))
            .expect("request"),
    )
    .await
    .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(h.store.is_empty());
}

// ---- reading cases ---------------------------------------------------------

#[tokio::test]
async fn a_case_is_read_by_its_authorization_and_office_only() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let uri = format!("/v1/cases/{n}");
    let a = get(&h, &uri, Some(&user())).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::ETAG), "\"1\"");
    assert_eq!(a.json()["number"], n.as_str());
    assert!(a.json().get("receipt").is_none());
    // Another user of the same authorization sees it.
    let a = get(&h, &uri, Some(&token(&user_of("A1", "u2", "08")))).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        get(&h, &uri, Some(&processor())).await.status,
        StatusCode::OK
    );
    // Another authorization, another office: exactly like a case that does not exist.
    let foreign = get(&h, &uri, Some(&other_user())).await;
    let missing = get(&h, "/v1/cases/2026-00000099", Some(&user())).await;
    let p1 = foreign.problem(StatusCode::NOT_FOUND, "not_found");
    let p2 = missing.problem(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(p1, p2);
    get(&h, &uri, Some(&token(&processor_of("P9", "08"))))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    get(&h, "/v1/cases/2026-1", Some(&user()))
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_request");
}

#[tokio::test]
async fn search_pages_and_rejects_bad_queries() {
    let h = harness();
    for _ in 0..3 {
        submit_inquiry(&h).await;
    }
    let a = get(&h, "/v1/cases?status=open&limit=2", Some(&user())).await;
    assert_eq!(a.status, StatusCode::OK);
    let page = a.json();
    let numbers: Vec<&str> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["number"].as_str())
        .collect();
    assert_eq!(numbers, ["2026-00000003", "2026-00000002"]);
    let cursor = page["next_cursor"].as_str().expect("cursor").to_owned();
    let a = get(
        &h,
        &format!("/v1/cases?status=open&limit=2&cursor={cursor}"),
        Some(&user()),
    )
    .await;
    assert_eq!(a.json()["items"][0]["number"], "2026-00000001");
    assert_eq!(a.json()["next_cursor"], Value::Null);
    let a = get(
        &h,
        "/v1/cases?status=all&from=2026-11-01&to=2026-11-30&created_by=u1",
        Some(&processor()),
    )
    .await;
    assert_eq!(a.json()["items"].as_array().map(Vec::len), Some(3));
    let a = get(&h, "/v1/cases?status=all", Some(&other_user())).await;
    assert_eq!(a.json()["items"], json!([]));
    let p = get(&h, "/v1/cases?status=all&from=2026-11-01", Some(&user()))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    assert_eq!(p["field"], "to");
    get(&h, "/v1/cases", Some(&user()))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    get(&h, "/v1/cases?status=all&limit=201", Some(&user()))
        .await
        .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_query");
    get(&h, "/v1/cases?status=all&limit=abc", Some(&user()))
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_request");
}

#[tokio::test]
async fn the_queue_is_for_processors() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let a = get(&h, "/v1/queue", Some(&processor())).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["items"][0]["number"], n.as_str());
    let a = get(&h, "/v1/queue", Some(&token(&processor_of("P2", "08")))).await;
    assert_eq!(a.json()["items"], json!([]));
    get(&h, "/v1/queue", Some(&user()))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn attachments_download_with_nosniff_and_never_leak() {
    let h = harness();
    let c = submit_nss(&h).await;
    let n = c["number"].as_str().expect("number");
    let a = get(
        &h,
        &format!("/v1/cases/{n}/attachments/2"),
        Some(&processor()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, TEXT_BYTES);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/plain"));
    assert_eq!(
        a.header(header::CONTENT_DISPOSITION),
        "attachment; filename=\"dni.txt\"; filename*=UTF-8''dni.txt"
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(
        a.header(header::CONTENT_SECURITY_POLICY)
            .contains("sandbox")
    );
    get(&h, &format!("/v1/cases/{n}/attachments/9"), Some(&user()))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    get(
        &h,
        &format!("/v1/cases/{n}/attachments/1"),
        Some(&other_user()),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    get(&h, &format!("/v1/cases/{n}/attachments/x"), Some(&user()))
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_request");
}

// ---- commands --------------------------------------------------------------

#[tokio::test]
async fn a_case_lives_assign_request_documentation_resolve_survey() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let p = processor();
    let u = user();
    let a = post_json(&h, &format!("{base}/assign"), Some(&p), json!({})).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["substatus"], "assigned");
    assert_eq!(a.json()["assignee"], "P1");
    assert_eq!(a.header(header::ETAG), "\"2\"");
    let a = post_json(
        &h,
        &format!("{base}/request-information"),
        Some(&p),
        json!({"observation": "Aporte el TA.1 firmado."}),
    )
    .await;
    assert_eq!(a.json()["substatus"], "information_requested");
    assert_eq!(a.json()["deadline"], "2026-11-25");
    let meta = json!({"comment": "Adjunto el documento.",
                      "attachments": [{"part": "doc", "document_type": "ta1", "title": "TA.1 firmado"}]})
    .to_string();
    let a = post_multipart(
        &h,
        &format!("{base}/documentation"),
        &u,
        &[
            ("meta", None, meta.as_bytes()),
            ("doc", Some("ta1.pdf"), PDF_BYTES),
        ],
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.json()["substatus"], "assigned");
    assert_eq!(a.json()["deadline"], Value::Null);
    assert_eq!(a.json()["attachments"][0]["title"], "TA.1 firmado");
    // A comment alone, as JSON.
    let a = post_json(
        &h,
        &format!("{base}/documentation"),
        Some(&u),
        json!({"comment": "Una nota más."}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    let a = post_json(
        &h,
        &format!("{base}/resolve"),
        Some(&p),
        json!({"resolution": "El plazo es de tres días."}),
    )
    .await;
    assert_eq!(a.json()["status"], "closed");
    assert_eq!(a.json()["substatus"], "resolved");
    assert!(a.json()["closed_at"].is_string());
    let a = post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 5, "comment": "Muy útil"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["survey"]["rating"], 5);
    assert_eq!(a.json()["survey"]["by"], "u1");
    let a = get(&h, &format!("{base}/history"), Some(&u)).await;
    let hist = a.json();
    let events: Vec<&str> = hist["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(
        events,
        [
            "submitted",
            "assigned",
            "information_requested",
            "documentation_added",
            "documentation_added",
            "resolved",
            "survey_submitted"
        ]
    );
    // Survey rules.
    post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 4}),
    )
    .await
    .problem(StatusCode::CONFLICT, "survey_already_submitted");
}

#[tokio::test]
async fn command_rule_errors_map_to_403_404_409_422() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let (u, p) = (user(), processor());
    post_json(&h, &format!("{base}/assign"), Some(&u), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    post_json(&h, &format!("{base}/cancel"), Some(&p), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    post_json(
        &h,
        &format!("{base}/cancel"),
        Some(&other_user()),
        json!({}),
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
    post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 3}),
    )
    .await
    .problem(StatusCode::CONFLICT, "survey_not_allowed");
    post_json(&h, &format!("{base}/assign"), Some(&p), json!({})).await;
    post_json(
        &h,
        &format!("{base}/escalate"),
        Some(&p),
        json!({"note": "Consulta a servicios centrales"}),
    )
    .await;
    post_json(
        &h,
        &format!("{base}/escalate"),
        Some(&p),
        json!({"note": "otra"}),
    )
    .await
    .problem(StatusCode::CONFLICT, "transition_not_allowed");
    let e = post_json(
        &h,
        &format!("{base}/request-information"),
        Some(&p),
        json!({"observation": "x"}),
    )
    .await;
    e.problem(StatusCode::CONFLICT, "transition_not_allowed");
    post_json(
        &h,
        &format!("{base}/assign"),
        Some(&p),
        json!({"processor": "bad id!"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    post_json(
        &h,
        &format!("{base}/transfer"),
        Some(&p),
        json!({"office": "28"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    post_json(
        &h,
        &format!("{base}/reclassify"),
        Some(&p),
        json!({"materia": "x", "category": "y", "subcategory": "z"}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_classification");
    let a = post_json(
        &h,
        &format!("{base}/reclassify"),
        Some(&p),
        json!({"materia": "cotizacion", "category": "bases", "subcategory": "calculo"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["materia"], "cotizacion");
    // Internal notes: processors read them, users do not.
    let hist = get(&h, &format!("{base}/history"), Some(&u)).await.json();
    let escalated = hist["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["event"] == "escalated")
        .cloned()
        .expect("escalated");
    assert_eq!(escalated["visibility"], "internal");
    assert!(escalated.get("observation").is_none());
    let hist = get(&h, &format!("{base}/history"), Some(&p)).await.json();
    assert!(
        hist["items"]
            .as_array()
            .expect("items")
            .iter()
            .any(|e| e["observation"] == "Consulta a servicios centrales")
    );
    let a = post_json(
        &h,
        &format!("{base}/cancel"),
        Some(&u),
        json!({"reason": "Ya resuelto"}),
    )
    .await;
    assert_eq!(a.json()["substatus"], "cancelled");
    let a = send(
        &h,
        request(Method::POST, &format!("{base}/cancel"), Some(&u))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    a.problem(StatusCode::CONFLICT, "case_closed");
    post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 9}),
    )
    .await
    .problem(StatusCode::CONFLICT, "survey_not_allowed");
}

#[tokio::test]
async fn transfer_moves_the_case_out_of_sight_of_the_old_office() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let a = post_json(
        &h,
        &format!("{base}/transfer"),
        Some(&processor()),
        json!({"office": "08", "note": "Competencia de Barcelona"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["office"], "08");
    assert_eq!(a.json()["substatus"], "transferred");
    get(&h, &base, Some(&processor()))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    let bcn = token(&processor_of("P8", "08"));
    assert_eq!(get(&h, &base, Some(&bcn)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn survey_validation_and_window() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let (u, p) = (user(), processor());
    post_json(&h, &format!("{base}/assign"), Some(&p), json!({})).await;
    post_json(
        &h,
        &format!("{base}/resolve"),
        Some(&p),
        json!({"resolution": "Hecho."}),
    )
    .await;
    let e = post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 6}),
    )
    .await
    .problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(e["field"], "rating");
    post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": "five"}),
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "malformed_request");
    post_json(&h, &format!("{base}/survey"), Some(&u), json!({}))
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_request");
    h.clock.set(at("2026-12-20T09:00:00Z"));
    post_json(
        &h,
        &format!("{base}/survey"),
        Some(&u),
        json!({"rating": 4}),
    )
    .await
    .problem(StatusCode::CONFLICT, "survey_window_closed");
}

#[tokio::test]
async fn if_match_runs_only_at_the_given_version() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let p = processor();
    let a = post_json_if_match(&h, &format!("{base}/assign"), &p, json!({}), "\"1\"").await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::ETAG), "\"2\"");
    let e = post_json_if_match(
        &h,
        &format!("{base}/escalate"),
        &p,
        json!({"note": "n"}),
        "\"1\"",
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    assert!(e["detail"].as_str().is_some_and(|d| d.contains("If-Match")));
    assert_eq!(
        get(&h, &base, Some(&p)).await.json()["version"],
        2,
        "nothing changed"
    );
    post_json_if_match(
        &h,
        &format!("{base}/escalate"),
        &p,
        json!({"note": "n"}),
        "version-two",
    )
    .await
    .problem(StatusCode::BAD_REQUEST, "malformed_request");
    // If-Match compares strongly (RFC 9110 §13.1.1): a weak tag never
    // matches.
    post_json_if_match(
        &h,
        &format!("{base}/escalate"),
        &p,
        json!({"note": "n"}),
        "W/\"2\"",
    )
    .await
    .problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    let a = post_json_if_match(
        &h,
        &format!("{base}/escalate"),
        &p,
        json!({"note": "n"}),
        "\"2\"",
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    // Not visible beats a stale version: nothing leaks.
    post_json_if_match(
        &h,
        &format!("{base}/cancel"),
        &other_user(),
        json!({}),
        "\"1\"",
    )
    .await
    .problem(StatusCode::NOT_FOUND, "not_found");
}

// ---- receipts --------------------------------------------------------------

#[tokio::test]
async fn receipts_as_json_and_pdf_and_verification_without_a_token() {
    let h = harness();
    let c = submit_nss(&h).await;
    let n = c["number"].as_str().expect("number");
    let code = c["receipt"]["verification_code"].as_str().expect("code");
    let a = get(&h, &format!("/v1/cases/{n}/receipt"), Some(&user())).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), c["receipt"]);
    let a = send(
        &h,
        request(
            Method::GET,
            &format!("/v1/cases/{n}/receipt"),
            Some(&user()),
        )
        .header(header::ACCEPT, "application/pdf")
        .body(Body::empty())
        .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.header(header::CONTENT_TYPE), "application/pdf");
    assert!(a.body.starts_with(b"%PDF-"));
    if let Some(text) = casia_test_support::env::poppler(
        "receipts_as_json_and_pdf_and_verification_without_a_token",
        "pdftotext",
        &a.body,
    ) {
        assert!(text.contains(n) && text.contains(code), "{text}");
        assert!(
            text.contains(&format!("https://casia.example.es/verificar?codigo={code}")),
            "the verification URL under the public URL: {text}"
        );
        for att in c["attachments"].as_array().expect("attachments") {
            assert!(
                text.contains(att["sha256"].as_str().expect("sha")),
                "{text}"
            );
        }
    }
    get(&h, &format!("/v1/cases/{n}/receipt"), Some(&other_user()))
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    // Anyone with the code, typed loosely.
    let a = get(
        &h,
        &format!("/v1/receipts/{}", code.to_lowercase().replace('-', "")),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json()["number"], n);
    let mut tampered = code.to_owned();
    tampered.replace_range(0..1, if code.starts_with('A') { "B" } else { "A" });
    get(&h, &format!("/v1/receipts/{tampered}"), None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
    get(&h, "/v1/receipts/short", None)
        .await
        .problem(StatusCode::NOT_FOUND, "not_found");
}

// ---- sweep -----------------------------------------------------------------

#[tokio::test]
async fn the_sweep_endpoint_closes_overdue_cases_for_the_system_only() {
    let h = harness();
    let n = submit_inquiry(&h).await;
    let base = format!("/v1/cases/{n}");
    let p = processor();
    post_json(&h, &format!("{base}/assign"), Some(&p), json!({})).await;
    post_json(
        &h,
        &format!("{base}/request-information"),
        Some(&p),
        json!({"observation": "Falta el TA.1"}),
    )
    .await;
    post_json(&h, "/v1/sweep", Some(&user()), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    post_json(&h, "/v1/sweep", Some(&p), json!({}))
        .await
        .problem(StatusCode::FORBIDDEN, "forbidden");
    let a = post_json(&h, "/v1/sweep", Some(&system()), json!({})).await;
    assert_eq!(a.json(), json!({"closed": [], "reminded": []}));
    h.clock.set(at("2026-11-27T09:00:00Z"));
    let a = send(
        &h,
        request(Method::POST, "/v1/sweep", Some(&system()))
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.json(), json!({"closed": [n.as_str()], "reminded": []}));
    let c = get(&h, &base, Some(&user())).await.json();
    assert_eq!(c["substatus"], "closed_ex_officio");
    assert_eq!(c["deadline"], "2026-11-25");
}

// ---- routing and transport errors -----------------------------------------

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let h = harness();
    let a = get(&h, "/v2/nothing", None).await;
    a.problem(StatusCode::NOT_FOUND, "not_found");
    let a = send(
        &h,
        Request::delete("/v1/catalog")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    a.problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert!(a.header(header::ALLOW).contains("GET"));
    let a = post_json(
        &h,
        "/v1/cases/2026-00000001/cancel",
        Some(&user()),
        json!([1, 2]),
    )
    .await;
    a.problem(StatusCode::BAD_REQUEST, "malformed_request");
    let a = send(
        &h,
        request(
            Method::POST,
            "/v1/cases/2026-00000001/cancel",
            Some(&user()),
        )
        .body(Body::from("{}"))
        .expect("request"),
    )
    .await;
    a.problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let a = send(
        &h,
        request(Method::GET, "/healthz", None)
            .header("x-request-id", "trace-123")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.header("x-request-id"), "trace-123");
}

/// A repository that fails, stalls or loses every write race, for the
/// 500, 503, timeout and conflict paths.
struct Faulty {
    inner: Arc<MemoryStore>,
    fail: bool,
    delay: Duration,
    conflict: bool,
}

impl Faulty {
    fn new(inner: Arc<MemoryStore>) -> Faulty {
        Faulty {
            inner,
            fail: false,
            delay: Duration::ZERO,
            conflict: false,
        }
    }

    async fn check(&self) -> Result<(), StoreError> {
        tokio::time::sleep(self.delay).await;
        if self.fail {
            Err(StoreError::backend(
                "connection refused to db-internal.example:5432 password=hunter2",
            ))
        } else {
            Ok(())
        }
    }
}

#[async_trait]
impl CaseRepository for Faulty {
    async fn get(&self, number: CaseNumber) -> Result<Option<Case>, StoreError> {
        self.check().await?;
        self.inner.get(number).await
    }
    async fn create(&self, draft: &CaseDraft) -> Result<NewCase, StoreError> {
        self.check().await?;
        self.inner.create(draft).await
    }
    async fn update(&self, change: &Change) -> Result<(), StoreError> {
        self.check().await?;
        if self.conflict {
            return Err(StoreError::VersionConflict);
        }
        self.inner.update(change).await
    }
    async fn search(&self, filter: &SearchFilter) -> Result<Vec<Case>, StoreError> {
        self.check().await?;
        self.inner.search(filter).await
    }
    async fn queue(&self, office: OfficeCode) -> Result<Vec<Case>, StoreError> {
        self.check().await?;
        self.inner.queue(office).await
    }
    async fn awaiting_information(&self) -> Result<Vec<Case>, StoreError> {
        self.check().await?;
        self.inner.awaiting_information().await
    }
    async fn find_by_receipt_code(&self, code: &str) -> Result<Option<Case>, StoreError> {
        self.check().await?;
        self.inner.find_by_receipt_code(code).await
    }
    async fn attachment_content(
        &self,
        number: CaseNumber,
        attachment: u32,
    ) -> Result<Option<Bytes>, StoreError> {
        self.check().await?;
        self.inner.attachment_content(number, attachment).await
    }
    async fn count_by_state(&self) -> Result<Vec<(CaseState, u64)>, StoreError> {
        self.check().await?;
        self.inner.count_by_state().await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.check().await
    }
}

#[tokio::test]
async fn store_failures_are_500_without_internals_and_readiness_fails() {
    let store = Arc::new(MemoryStore::new());
    let repo = Arc::new(Faulty {
        fail: true,
        ..Faulty::new(store.clone())
    });
    let h = harness_with(repo, store, Duration::from_secs(30));
    let a = post_json(&h, "/v1/cases", Some(&user()), inquiry()).await;
    let p = a.problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    let body = String::from_utf8_lossy(&a.body);
    assert!(!body.contains("hunter2") && !body.contains("db-internal"));
    assert_eq!(p["request_id"], a.header("x-request-id"));
    get(&h, "/v1/cases/2026-00000001", Some(&user()))
        .await
        .problem(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    get(&h, "/readyz", None)
        .await
        .problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    // Metrics still answer, without the gauge the store could not give.
    let m = get(&h, "/metrics", None).await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&m.body);
    assert!(!text.contains("casia_cases{"));
    assert!(text.contains("casia_outbox_backlog 0"));
    assert!(text.contains("route=\"/v1/cases\",status=\"500\""));
}

#[tokio::test]
async fn slow_requests_time_out_as_problems() {
    let store = Arc::new(MemoryStore::new());
    let repo = Arc::new(Faulty {
        delay: Duration::from_millis(500),
        ..Faulty::new(store.clone())
    });
    let h = harness_with(repo, store, Duration::from_millis(50));
    let a = get(&h, "/v1/cases/2026-00000001", Some(&user())).await;
    let p = a.problem(StatusCode::SERVICE_UNAVAILABLE, "request_timeout");
    assert!(p["request_id"].is_string());
    // Routes that do not touch the store are unaffected.
    assert_eq!(get(&h, "/healthz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn lost_write_races_are_409_and_with_if_match_412() {
    let store = Arc::new(MemoryStore::new());
    let seed = harness_with(store.clone(), store.clone(), Duration::from_secs(30));
    let n = submit_inquiry(&seed).await;
    let repo = Arc::new(Faulty {
        conflict: true,
        ..Faulty::new(store.clone())
    });
    let h = harness_with(repo, store, Duration::from_secs(30));
    let uri = format!("/v1/cases/{n}/assign");
    // Without If-Match the service re-decides until it gives up: 409.
    post_json(&h, &uri, Some(&processor()), json!({}))
        .await
        .problem(StatusCode::CONFLICT, "version_conflict");
    // With a current If-Match a lost race is a failed precondition: 412.
    post_json_if_match(&h, &uri, &processor(), json!({}), "\"1\"")
        .await
        .problem(StatusCode::PRECONDITION_FAILED, "version_conflict");
    // An empty body with a JSON content type reads as `{}`.
    let a = send(
        &seed,
        request(Method::POST, &uri, Some(&processor()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn schema_names_in_the_openapi_document_are_unique() {
    // Two wire types with one schema name make one silently replace the
    // other in `components.schemas` (seen: DeadlineView of the catalog and
    // of the calendar endpoint).
    let doc: serde_json::Value =
        serde_json::from_str(&casia_http::openapi::openapi_text().expect("text")).expect("json");
    let catalog_deadline = &doc["components"]["schemas"]["CaseTypeView"]["properties"]["deadline"];
    let referenced = catalog_deadline["$ref"]
        .as_str()
        .or_else(|| catalog_deadline["allOf"][0]["$ref"].as_str())
        .unwrap_or_default()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let schema = &doc["components"]["schemas"][&referenced];
    assert!(
        schema["properties"].get("days").is_some() && schema["properties"].get("skipped").is_none(),
        "the catalog's deadline is {{days, unit}}: {schema}"
    );
    assert!(
        doc["components"]["schemas"]["DeadlineExplanationView"]["properties"]["skipped"]
            .is_object()
    );
}

/// `GET /docs` (issue 14): the explorer page and every asset it names come
/// from this service (no CDN), under the explorer's own CSP.
#[tokio::test]
async fn the_api_explorer_is_served_from_the_binary() {
    let h = harness();
    let page = get(&h, "/docs", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.header(header::CONTENT_TYPE).starts_with("text/html"));
    let csp = page.header(header::CONTENT_SECURITY_POLICY).to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    let html = String::from_utf8_lossy(&page.body).into_owned();
    let mut assets = Vec::new();
    for attr in ["src=\"", "href=\""] {
        for piece in html.split(attr).skip(1) {
            let url = piece.split('"').next().unwrap_or_default().to_owned();
            assert!(url.starts_with('/'), "{url} is not served by this origin");
            assets.push(url);
        }
    }
    assert!(assets.iter().any(|a| a.ends_with("swagger-ui-bundle.js")));
    for asset in assets {
        let a = get(&h, &asset, None).await;
        assert_eq!(a.status, StatusCode::OK, "{asset}");
        assert!(!a.body.is_empty(), "{asset}");
        let kind = a.header(header::CONTENT_TYPE);
        let expected = match asset.rsplit('.').next() {
            Some("js") => "text/javascript",
            Some("css") => "text/css",
            Some("png") => "image/png",
            _ => "application/json",
        };
        assert!(kind.starts_with(expected), "{asset}: {kind}");
    }
    let init = get(&h, "/docs/init.js", None).await;
    assert!(String::from_utf8_lossy(&init.body).contains("/openapi.json"));
}

/// A field over its limit is named with the limit and what was sent
/// (issue 14), so a client can fix it without reading DOMAIN.md.
#[tokio::test]
async fn limits_are_named_in_the_detail() {
    let h = harness();
    let mut case = inquiry();
    case["title"] = json!("x".repeat(151));
    let a = post_json(&h, "/v1/cases", Some(&user()), case).await;
    let p = a.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert_eq!(p["field"], "title", "{p}");
    assert_eq!(
        p["detail"], "title: 1–150 characters after trimming, got 151",
        "{p}"
    );
    let mut case = inquiry();
    case["description"] = json!("   ");
    let a = post_json(&h, "/v1/cases", Some(&user()), case).await;
    let p = a.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    assert!(
        p["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("description: 1–") && d.ends_with("got 0")),
        "{p}"
    );
}

async fn post_json_with_key(h: &Harness, key: &str, body: Value) -> Answer {
    send(
        h,
        request(Method::POST, "/v1/cases", Some(&user()))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", key)
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

/// `Idempotency-Key` (issue 16): a retry of the same submission gets the
/// first case, marked replayed, with no second notification; a different
/// submission with the key is 422; a malformed key 400.
#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_files_one_case() {
    let h = harness();
    let first = post_json_with_key(&h, "\"retry-1\"", inquiry()).await;
    assert_eq!(
        first.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&first.body)
    );
    assert_eq!(first.header("idempotent-replayed"), "");
    let number = first.json()["number"].clone();
    let again = post_json_with_key(&h, "retry-1", inquiry()).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.json()["number"], number);
    assert_eq!(again.json()["receipt"], first.json()["receipt"]);
    assert_eq!(again.header("idempotent-replayed"), "true");
    assert_eq!(h.store.len(), 1);
    assert_eq!(h.store.outbox_snapshot().len(), 1, "one e-mail");

    let mut other = inquiry();
    other["title"] = json!("Otra consulta");
    let reused = post_json_with_key(&h, "retry-1", other.clone()).await;
    reused.problem(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused");
    // Another key, another case.
    let second = post_json_with_key(&h, "retry-2", other).await;
    assert_eq!(second.status, StatusCode::CREATED);
    assert_ne!(second.json()["number"], number);
    // Keys are the user's: the same key from another user is new.
    let stranger = send(
        &h,
        request(Method::POST, "/v1/cases", Some(&other_user()))
            .header(header::CONTENT_TYPE, "application/json")
            .header("idempotency-key", "retry-1")
            .body(Body::from(inquiry().to_string()))
            .expect("request"),
    )
    .await;
    assert_eq!(stranger.status, StatusCode::CREATED);
    assert_ne!(stranger.json()["number"], number);
    for bad in ["", "has space", &"k".repeat(256)] {
        let r = post_json_with_key(&h, bad, inquiry()).await;
        r.problem(StatusCode::BAD_REQUEST, "malformed_request");
    }
    // A rejected submission leaves the key free.
    let mut invalid = inquiry();
    invalid["title"] = json!("");
    let r = post_json_with_key(&h, "retry-3", invalid).await;
    r.problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field");
    let ok = post_json_with_key(&h, "retry-3", inquiry()).await;
    assert_eq!(ok.status, StatusCode::CREATED);
}

/// Fifty retries of one key at once: one case, every answer that case or
/// `idempotency_key_in_use` (409).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_retries_of_one_key_file_one_case() {
    let h = Arc::new(harness());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let h = Arc::clone(&h);
            tokio::spawn(async move { post_json_with_key(&h, "storm", inquiry()).await })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    let mut in_use = 0;
    for t in tasks {
        let a = t.await.expect("task");
        match a.status {
            StatusCode::CREATED => {
                numbers.insert(a.json()["number"].as_str().expect("number").to_owned());
            }
            StatusCode::CONFLICT => {
                a.problem(StatusCode::CONFLICT, "idempotency_key_in_use");
                in_use += 1;
            }
            other => panic!("{other}: {}", String::from_utf8_lossy(&a.body)),
        }
    }
    assert_eq!(numbers.len(), 1, "{numbers:?}");
    assert_eq!(h.store.len(), 1);
    assert!(in_use < 50);
}

/// The body budget (issue 16): a request whose body would take the bytes
/// in memory over the budget is 503 with Retry-After, declared or chunked.
#[tokio::test]
async fn bodies_over_the_memory_budget_are_503() {
    let store = Arc::new(MemoryStore::new());
    let h = harness_with_options(
        store.clone(),
        store,
        HttpOptions {
            body_budget_bytes: 4096 * casia_http::limits::MEMORY_PER_BODY_BYTE,
            ..HttpOptions::default()
        },
    );
    let big = json!({"title": "x".repeat(5000)}).to_string();
    let declared = send(
        &h,
        request(Method::POST, "/v1/cases", Some(&user()))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CONTENT_LENGTH, big.len())
            .body(Body::from(big.clone()))
            .expect("request"),
    )
    .await;
    declared.problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(declared.header(header::RETRY_AFTER), "5");
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = big
        .as_bytes()
        .chunks(1000)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let chunked = send(
        &h,
        request(Method::POST, "/v1/cases", Some(&user()))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(futures_util::stream::iter(chunks)))
            .expect("request"),
    )
    .await;
    chunked.problem(StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    // Within the budget, and after the refused ones, all is well.
    let ok = post_json(&h, "/v1/cases", Some(&user()), inquiry()).await;
    assert_eq!(ok.status, StatusCode::CREATED);
    assert_eq!(
        h.state.body_budget().in_use(),
        0,
        "every reservation released"
    );
}

// ---- streamed uploads (issue 17) -------------------------------------------

/// A memory blob store that stages in its own folder and counts how bytes
/// arrive: `put_file` (a staged upload moved in) or `put` (bytes in memory).
struct StagingProbe {
    inner: casia_core::blob::MemoryBlobStore,
    dir: tempfile::TempDir,
    files: std::sync::atomic::AtomicUsize,
    buffers: std::sync::atomic::AtomicUsize,
}

impl StagingProbe {
    fn staged_left(&self) -> usize {
        std::fs::read_dir(self.dir.path()).map_or(0, |d| d.count())
    }
}

#[async_trait]
impl casia_core::blob::BlobStore for StagingProbe {
    async fn put(&self, bytes: Bytes) -> Result<casia_core::blob::BlobKey, StoreError> {
        self.buffers
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.put(bytes).await
    }
    async fn put_file(
        &self,
        path: &std::path::Path,
        key: &casia_core::blob::BlobKey,
    ) -> Result<(), StoreError> {
        assert!(path.starts_with(self.dir.path()), "staged in staging_dir");
        self.files.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let bytes = std::fs::read(path).expect("staged file");
        assert_eq!(
            &casia_core::blob::BlobKey::of(&bytes),
            key,
            "hashed as written"
        );
        self.inner.put(bytes.into()).await.map(|_| ())
    }
    fn staging_dir(&self) -> Option<std::path::PathBuf> {
        Some(self.dir.path().to_owned())
    }
    async fn get(
        &self,
        key: &casia_core::blob::BlobKey,
    ) -> Result<Option<casia_core::blob::BlobStream>, StoreError> {
        self.inner.get(key).await
    }
    async fn exists(&self, key: &casia_core::blob::BlobKey) -> Result<bool, StoreError> {
        self.inner.exists(key).await
    }
    async fn list(&self) -> Result<Vec<casia_core::blob::BlobInfo>, StoreError> {
        self.inner.list().await
    }
    async fn delete_if_untouched_since(
        &self,
        key: &casia_core::blob::BlobKey,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<bool, StoreError> {
        self.inner.delete_if_untouched_since(key, cutoff).await
    }
}

fn streamed_harness() -> (Harness, Arc<StagingProbe>) {
    let probe = Arc::new(StagingProbe {
        inner: casia_core::blob::MemoryBlobStore::new(),
        dir: tempfile::tempdir().expect("staging dir"),
        files: Default::default(),
        buffers: Default::default(),
    });
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(at("2026-11-05T09:00:00Z")));
    let mut rules = CaseRules::with_defaults(ReceiptKey::new("receipt-test-key"));
    rules.limits = limits();
    let service = CaseService::new(
        store.clone(),
        clock.clone() as Arc<dyn Clock>,
        Arc::new(rules),
    )
    .with_blobs(probe.clone());
    let state = AppState::with_options(
        service,
        store.clone() as Arc<dyn Outbox>,
        None,
        Authenticator::hs256(SECRET),
        HttpOptions::default(),
    );
    (
        Harness {
            app: app(state.clone()),
            clock,
            store,
            state,
        },
        probe,
    )
}

#[tokio::test]
async fn with_a_blob_store_file_parts_are_staged_judged_from_disk_and_moved_in() {
    let (h, probe) = streamed_harness();
    let c = submit_nss(&h).await;
    let n = c["number"].as_str().expect("number");
    assert_eq!(probe.files.load(std::sync::atomic::Ordering::SeqCst), 2);
    assert_eq!(
        probe.buffers.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no file went through memory"
    );
    assert_eq!(probe.staged_left(), 0, "staging files are gone");
    let a = get(&h, &format!("/v1/cases/{n}/attachments/1"), Some(&user())).await;
    assert_eq!(a.body, PDF_BYTES);
    let a = get(&h, &format!("/v1/cases/{n}/attachments/2"), Some(&user())).await;
    assert_eq!(a.body, TEXT_BYTES);
    assert!(a.header(header::CONTENT_TYPE).starts_with("text/plain"));

    // Text over several read windows, a character cut by the 64 KiB
    // boundary: judged as text from the file.
    let mut text = "a".repeat(65_535).into_bytes();
    text.extend_from_slice("ñ y más texto\n".repeat(1000).as_bytes());
    let meta = json!({"comment": "Más", "attachments": [
        {"part": "t", "document_type": "other", "title": "Texto largo"}]})
    .to_string();
    let a = post_multipart(
        &h,
        &format!("/v1/cases/{n}/documentation"),
        &user(),
        &[("meta", None, meta.as_bytes()), ("t", Some("t.txt"), &text)],
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let got = get(&h, &format!("/v1/cases/{n}/attachments/3"), Some(&user())).await;
    assert_eq!(got.body, text);
    assert!(got.header(header::CONTENT_TYPE).starts_with("text/plain"));
    assert_eq!(probe.files.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(probe.staged_left(), 0);
}

#[tokio::test]
async fn staged_files_are_refused_in_rule_order_and_leave_nothing_behind() {
    let (h, probe) = streamed_harness();
    let u = user();
    // Three times the limit: the staging file is cut at limit + 1, the
    // core says too_large.
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(3 * MAX_FILE as usize, b'x');
    let p = refused_file(&h, "other", "big.pdf", &big).await;
    assert_eq!(p["reason"], "too_large");
    // A ZIP named .docx, an executable, an empty file.
    let zip = casia_test_support::samples::zip(&[casia_test_support::samples::ZipEntry::deflated(
        "word/document.xml",
        b"<w/>",
    )]);
    for (name, bytes, reason) in [
        ("x.docx", zip.as_slice(), "unsupported_format"),
        (
            "x.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".as_slice(),
            "unsupported_format",
        ),
        ("x.txt", b"".as_slice(), "empty"),
    ] {
        let p = refused_file(&h, "other", name, bytes).await;
        assert_eq!(p["reason"], reason, "{name}");
    }
    // The second of two equal files.
    assert_eq!(duplicate_pair(&h).await["index"], 1);
    assert_eq!(probe.files.load(std::sync::atomic::Ordering::SeqCst), 0);
    use casia_core::blob::BlobStore as _;
    assert!(
        probe.inner.list().await.expect("list").is_empty(),
        "nothing stored"
    );
    assert_eq!(probe.staged_left(), 0, "every staging file deleted");
    // HTTP.md: the JSON part first; a file before it is 400, unstaged.
    let case = inquiry().to_string();
    for h in [&h, &harness()] {
        let p = post_multipart(
            h,
            "/v1/cases",
            &u,
            &[
                ("f", Some("a.pdf"), PDF_BYTES),
                ("case", None, case.as_bytes()),
            ],
        )
        .await
        .problem(StatusCode::BAD_REQUEST, "malformed_request");
        assert!(p["detail"].as_str().expect("detail").contains("first"));
    }
    assert_eq!(probe.staged_left(), 0);
    // Only parts the JSON names are staged; another, or a repeat, is 400.
    let named = {
        let mut c = inquiry();
        c["attachments"] = json!([{"part": "f", "document_type": "other", "title": "F"}]);
        c.to_string()
    };
    for parts in [
        vec![
            ("case", None, named.as_bytes()),
            ("g", Some("g.pdf"), PDF_BYTES),
        ],
        vec![
            ("case", None, named.as_bytes()),
            ("f", Some("f.pdf"), PDF_BYTES),
            ("f", Some("f2.pdf"), TEXT_BYTES),
        ],
    ] {
        post_multipart(&h, "/v1/cases", &u, &parts)
            .await
            .problem(StatusCode::BAD_REQUEST, "malformed_request");
    }
    assert_eq!(probe.staged_left(), 0);
    // A JSON endpoint refuses a multipart body before reading it.
    post_multipart(
        &h,
        "/v1/cases/2026-00000001/assign",
        &processor(),
        &[("case", None, case.as_bytes())],
    )
    .await
    .problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // A JSON part over its limit is 413, not held in memory.
    let huge = format!(
        "{{\"x\":\"{}\"}}",
        "a".repeat(casia_http::extract::JSON_PART_LIMIT)
    );
    post_multipart(&h, "/v1/cases", &u, &[("case", None, huge.as_bytes())])
        .await
        .problem(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
}
