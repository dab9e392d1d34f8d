//! `PUT` and `GET /v1/contacts/{authorization}` (DOMAIN.md §9: the address
//! notifications go to), in-process over the memory store: only the
//! system manages contacts; the address must be an e-mail address; a
//! missing one is `not_found`; the OpenAPI document describes both.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use casia_core::memory::MemoryStore;
use casia_core::ports::{Clock, ContactDirectory, FixedClock, Outbox};
use casia_core::receipt::ReceiptKey;
use casia_core::{
    Actor, AuthorizationId, CaseRules, CaseService, OfficeCode, ProcessorId, ProvinceCode, UserId,
};
use casia_http::{AppState, Authenticator, Claims, app, openapi};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &[u8] = b"contacts-test-secret-0123456789ab";

fn harness(with_contacts: bool) -> (Router, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let clock = Arc::new(FixedClock::new(
        "2026-11-05T09:00:00Z".parse().expect("instant"),
    ));
    let service = CaseService::new(
        store.clone(),
        clock as Arc<dyn Clock>,
        Arc::new(CaseRules::with_defaults(ReceiptKey::new("k"))),
    );
    let contacts = with_contacts.then(|| store.clone() as Arc<dyn ContactDirectory>);
    let state = AppState::with_options(
        service,
        store.clone() as Arc<dyn Outbox>,
        contacts,
        Authenticator::hs256(SECRET),
        casia_http::state::HttpOptions::default(),
    );
    (app(state), store)
}

fn token(actor: &Actor) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Authenticator::hs256(SECRET)
        .mint(&Claims::for_actor(actor, now, 600))
        .expect("token")
}

fn system() -> String {
    token(&Actor::System)
}

fn user() -> String {
    token(&Actor::User {
        authorization: AuthorizationId::parse("A1").expect("id"),
        user: UserId::parse("u1").expect("id"),
        province: ProvinceCode::parse("28").expect("province"),
    })
}

fn processor() -> String {
    token(&Actor::Processor {
        processor: ProcessorId::parse("P1").expect("id"),
        office: OfficeCode::parse("28").expect("office"),
    })
}

async fn call(
    app: &Router,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let body = match body {
        Some(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let response = app
        .clone()
        .oneshot(req.body(body).expect("request"))
        .await
        .expect("response");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test]
async fn the_system_sets_replaces_and_reads_an_address() {
    let (app, store) = harness(true);
    let sys = system();
    let (status, body) = call(&app, Method::GET, "/v1/contacts/A1", Some(&sys), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );

    let (status, body) = call(
        &app,
        Method::PUT,
        "/v1/contacts/A1",
        Some(&sys),
        Some(json!({"email": "  gestoria@example.com "})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"authorization": "A1", "email": "gestoria@example.com"})
    );
    let a1 = AuthorizationId::parse("A1").expect("id");
    assert_eq!(
        store.contact(&a1).await.expect("contact").as_deref(),
        Some("gestoria@example.com")
    );

    call(
        &app,
        Method::PUT,
        "/v1/contacts/A1",
        Some(&sys),
        Some(json!({"email": "otra@example.es"})),
    )
    .await;
    let (status, body) = call(&app, Method::GET, "/v1/contacts/A1", Some(&sys), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["email"], "otra@example.es");
}

#[tokio::test]
async fn only_the_system_manages_contacts() {
    let (app, store) = harness(true);
    for (who, t) in [("user", user()), ("processor", processor())] {
        let (status, body) = call(
            &app,
            Method::PUT,
            "/v1/contacts/A1",
            Some(&t),
            Some(json!({"email": "x@example.com"})),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (StatusCode::FORBIDDEN, Some("forbidden")),
            "{who}"
        );
        let (status, _) = call(&app, Method::GET, "/v1/contacts/A1", Some(&t), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
    }
    let (status, _) = call(&app, Method::GET, "/v1/contacts/A1", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let a1 = AuthorizationId::parse("A1").expect("id");
    assert_eq!(store.contact(&a1).await.expect("contact"), None);
}

#[tokio::test]
async fn bad_addresses_ids_and_bodies_are_refused() {
    let (app, store) = harness(true);
    let sys = system();
    for email in ["", "gestoria", "a@b@c", "nombre <a@example.com>"] {
        let (status, body) = call(
            &app,
            Method::PUT,
            "/v1/contacts/A1",
            Some(&sys),
            Some(json!({ "email": email })),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{email:?}");
        assert_eq!(
            (body["code"].as_str(), body["field"].as_str()),
            (Some("invalid_field"), Some("email"))
        );
    }
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v1/contacts/A%201",
        Some(&sys),
        Some(json!({"email": "a@example.com"})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_request"))
    );
    let (status, body) = call(
        &app,
        Method::PUT,
        "/v1/contacts/A1",
        Some(&sys),
        Some(json!({"mail": "a@example.com"})),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_request"))
    );
    let a1 = AuthorizationId::parse("A1").expect("id");
    assert_eq!(store.contact(&a1).await.expect("contact"), None);
}

#[tokio::test]
async fn without_a_directory_the_endpoints_fail_as_internal_errors() {
    let (app, _) = harness(false);
    let (status, body) = call(&app, Method::GET, "/v1/contacts/A1", Some(&system()), None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal"))
    );
}

#[test]
fn the_openapi_document_describes_the_contact_endpoints() {
    let doc = serde_json::to_value(openapi()).expect("json");
    let path = &doc["paths"]["/v1/contacts/{authorization}"];
    for method in ["get", "put"] {
        let op = &path[method];
        assert_eq!(op["tags"], json!(["contacts"]), "{method}");
        assert!(op["responses"]["403"].is_object(), "{method}");
    }
    assert!(path["put"]["responses"]["422"].is_object());
    assert!(path["get"]["responses"]["404"].is_object());
    assert!(doc["components"]["schemas"]["ContactView"].is_object());
}
