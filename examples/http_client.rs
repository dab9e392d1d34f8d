//! An HTTP client walkthrough: the service in-process on 127.0.0.1:0, and a
//! client that mints tokens, submits a case with a file (multipart),
//! fetches it, downloads the receipt PDF, verifies the receipt code without
//! a token, and lets a processor assign and resolve it.
//!
//!     cargo run --example http_client --features http
//!
//! The client is plain HTTP/1.1 over a `TcpStream` so every byte on the
//! wire is visible; any HTTP client does the same.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use casia::Actor;
use casia::http::{AppState, Authenticator, Claims, app};
use casia::memory::MemoryStore;
use casia::ports::SystemClock;
use casia::receipt::ReceiptKey;
use casia::{CaseRules, CaseService};

const SECRET: &[u8] = b"example-signing-secret-0123456789";

/// One request; returns (status, headers+body as text, raw body).
fn call(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    if path.ends_with("/receipt") {
        head.push_str("Accept: application/pdf\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(raw.len(), |p| p + 4);
    let (head, body) = raw.split_at(split);
    let head = String::from_utf8_lossy(head).into_owned();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok((status, head, body.to_vec()))
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).unwrap_or(serde_json::Value::Null)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(MemoryStore::new());
    let secret = ReceiptKey::new("example receipts");
    let service = CaseService::new(
        store.clone(),
        Arc::new(SystemClock),
        Arc::new(CaseRules::with_defaults(secret)),
    );
    let auth = Authenticator::hs256(SECRET);
    let user = Actor::User {
        authorization: "A1".parse()?,
        user: "u1".parse()?,
        province: "28".parse()?,
    };
    let processor = Actor::Processor {
        processor: "P1".parse()?,
        office: "28".parse()?,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let user_token = auth.mint(&Claims::for_actor(&user, now, 3600))?;
    let processor_token = auth.mint(&Claims::for_actor(&processor, now, 3600))?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?.to_string();
    let router = app(AppState::new(service, store, auth));
    tokio::spawn(async move { axum::serve(listener, router).await });
    println!("service on http://{addr}");

    let addr2 = addr.clone();
    tokio::task::spawn_blocking(move || -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let addr = addr2.as_str();
        // Submit with one file: a `case` JSON part and the file part it names.
        let boundary = "casia-example-boundary";
        let case = serde_json::json!({
            "case_type": "inquiry", "materia": "cotizacion", "category": "bases",
            "subcategory": "calculo", "affects_current_period": true,
            "title": "Bases de octubre", "description": "¿Cómo se calculan?",
            "complementary_data": {"ccc": "28 1234567 42"},
            "attachments": [{"part": "f1", "document_type": "other", "title": "Nómina"}]
        });
        let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"case\"\r\nContent-Type: application/json\r\n\r\n{case}\r\n").into_bytes();
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"f1\"; filename=\"nomina.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").as_bytes());
        body.extend_from_slice(b"%PDF-1.7\nnomina\n%%EOF\n\r\n");
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let (status, _, resp) = call(addr, "POST", "/v1/cases", Some(&user_token), Some(&format!("multipart/form-data; boundary={boundary}")), &body)?;
        let created = json(&resp);
        let number = created["number"].as_str().unwrap_or_default().to_owned();
        let code = created["receipt"]["verification_code"].as_str().unwrap_or_default().to_owned();
        println!("POST /v1/cases → {status}: {number}, attachment sha256 {}", created["attachments"][0]["sha256"]);

        let (status, _, resp) = call(addr, "GET", &format!("/v1/cases/{number}"), Some(&user_token), None, b"")?;
        println!("GET /v1/cases/{number} → {status}: {}", json(&resp)["substatus"]);

        let (status, head, pdf) = call(addr, "GET", &format!("/v1/cases/{number}/receipt"), Some(&user_token), None, b"")?;
        let kind = head.lines().find(|l| l.to_ascii_lowercase().starts_with("content-type")).unwrap_or("");
        println!("GET …/receipt (Accept: application/pdf) → {status}, {kind}, {} bytes", pdf.len());

        let (status, _, resp) = call(addr, "GET", &format!("/v1/receipts/{code}"), None, None, b"")?;
        println!("GET /v1/receipts/{code} (no token) → {status}: case {}", json(&resp)["number"]);

        let (status, _, resp) = call(addr, "POST", &format!("/v1/cases/{number}/assign"), Some(&processor_token), Some("application/json"), b"{}")?;
        println!("POST …/assign → {status}: assignee {}", json(&resp)["assignee"]);
        let (status, _, resp) = call(addr, "POST", &format!("/v1/cases/{number}/resolve"), Some(&processor_token), Some("application/json"), r#"{"resolution": "Se calculan sobre la remuneración total."}"#.as_bytes())?;
        println!("POST …/resolve → {status}: {} / {}", json(&resp)["status"], json(&resp)["substatus"]);

        let (status, _, resp) = call(addr, "POST", &format!("/v1/cases/{number}/cancel"), Some(&user_token), Some("application/json"), b"{}")?;
        println!("POST …/cancel on a resolved case → {status}: {}", json(&resp)["code"]);
        Ok(())
    })
    .await?
    .map_err(|e| e.to_string())?;
    Ok(())
}
