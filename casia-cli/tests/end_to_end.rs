//! The real `casia` binary over real HTTP: `serve` on 127.0.0.1:0 with a
//! SQLite database in a temporary directory, tokens from `casia token` (which
//! reads the development secret `serve` created), and one case taken
//! through its whole life. The client is a few lines of HTTP/1.1 over a
//! `TcpStream`, so the test needs no HTTP client crate.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use casia_test_support::binary::{
    self, Casia, Reply, Server, USER_TOKEN_ARGS, http, multipart_call,
};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_casia");

/// A SQLite file in the test's temporary working directory.
const E2E_DATABASE: &str = "sqlite:casia.db?mode=rwc";

/// A `casia` command in `dir` with no CASIA_* variables inherited.
fn casia(dir: &Path) -> Command {
    Casia::new(BIN, dir).command()
}

fn start(dir: &Path) -> Server {
    Casia::new(BIN, dir).serve(&["--database", E2E_DATABASE, "--sweep-interval", "1"])
}

fn mint(dir: &Path, args: &[&str]) -> String {
    Casia::new(BIN, dir).token(E2E_DATABASE, args)
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn json_call(addr: &str, method: &str, path: &str, token: &str, body: &Value) -> Reply {
    binary::json_call(addr, method, path, token, Some(body))
}

const TA1_PDF: &[u8] = b"%PDF-1.4\n% modelo TA.1\n1 0 obj << >> endobj\n%%EOF\n";
const DNI_TXT: &[u8] = b"DNI 12345678Z - copia\n";
const REPLY_PDF: &[u8] = b"%PDF-1.4\n% TA.1 firmado\n%%EOF\n";

#[test]
fn a_case_lives_its_whole_life_over_real_http() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = start(dir.path());
    let addr = server.addr.clone();
    assert!(addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"));

    // The development secret was kept beside the database, private.
    assert!(
        dir.path().join("casia.db").exists(),
        "serve created the SQLite file"
    );
    let secret_file = dir.path().join("casia.db.secret");
    let secret = std::fs::read_to_string(&secret_file).expect("secret file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret_file)
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    assert_eq!(http(&addr, "GET", "/healthz", &[], b"").status, 200);
    assert_eq!(http(&addr, "GET", "/readyz", &[], b"").status, 200);
    let doc = http(&addr, "GET", "/openapi.json", &[], b"");
    assert_eq!(doc.json()["openapi"], "3.1.0");

    let user = mint(dir.path(), USER_TOKEN_ARGS);
    let processor = mint(
        dir.path(),
        &["--role", "processor", "--processor", "P1", "--office", "28"],
    );
    let system = mint(dir.path(), &["--role", "system"]);

    // Submit with files.
    let case = json!({
        "case_type": "procedure", "materia": "afiliacion", "category": "altas", "subcategory": "nss",
        "affects_current_period": true,
        "title": "Solicitud de NSS para trabajador nuevo",
        "description": "Alta de un trabajador que no tiene número de afiliación.",
        "complementary_data": {"nif": "12345678Z"},
        "attachments": [
            {"part": "ta1", "document_type": "ta1", "title": "Modelo TA.1"},
            {"part": "dni", "document_type": "identity", "title": "DNI"}
        ]
    })
    .to_string();
    let r = multipart_call(
        &addr,
        "/v1/cases",
        &user,
        &[
            ("case", None, case.as_bytes()),
            ("ta1", Some("ta1.pdf"), TA1_PDF),
            ("dni", Some("dni.txt"), DNI_TXT),
        ],
    );
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let created = r.json();
    let number = created["number"].as_str().expect("number").to_owned();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/cases/{number}").as_str())
    );
    let code = created["receipt"]["verification_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let shas: Vec<String> = created["attachments"]
        .as_array()
        .expect("attachments")
        .iter()
        .map(|a| a["sha256"].as_str().expect("sha").to_owned())
        .collect();
    assert_eq!(shas.len(), 2);
    let base = format!("/v1/cases/{number}");
    let user_auth = bearer(&user);

    // Search.
    let r = http(
        &addr,
        "GET",
        "/v1/cases?status=open",
        &[("Authorization", &user_auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["items"][0]["number"], number.as_str());

    // The receipt as a PDF, and its verification without a token.
    let r = http(
        &addr,
        "GET",
        &format!("{base}/receipt"),
        &[("Authorization", &user_auth), ("Accept", "application/pdf")],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    assert!(r.body.starts_with(b"%PDF-"));
    if let Some(pdf) = casia_test_support::env::poppler(
        "a_case_lives_its_whole_life_over_real_http",
        "pdftotext",
        &r.body,
    ) {
        assert!(pdf.contains(&number) && pdf.contains(&code), "{pdf}");
        for sha in &shas {
            assert!(pdf.contains(sha.as_str()), "{pdf}");
        }
    }
    let r = http(&addr, "GET", &format!("/v1/receipts/{code}"), &[], b"");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["number"], number.as_str());
    let r = http(
        &addr,
        "GET",
        "/v1/receipts/AAAA-AAAA-AAAA-AAAA-AAAA",
        &[],
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));

    // Assign at the version just read, then request information.
    let proc_auth = bearer(&processor);
    let r = http(
        &addr,
        "POST",
        &format!("{base}/assign"),
        &[("Authorization", &proc_auth), ("If-Match", "\"1\"")],
        b"",
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["substatus"], "assigned");
    assert_eq!(r.header("etag"), Some("\"2\""));
    let r = json_call(
        &addr,
        "POST",
        &format!("{base}/request-information"),
        &processor,
        &json!({"observation": "Aporte el modelo TA.1 firmado por la empresa."}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["substatus"], "information_requested");
    assert!(r.json()["deadline"].is_string());

    // The user answers with a document.
    let meta = json!({"comment": "Adjunto el TA.1 firmado.",
                      "attachments": [{"part": "firmado", "document_type": "ta1", "title": "TA.1 firmado"}]})
    .to_string();
    let r = multipart_call(
        &addr,
        &format!("{base}/documentation"),
        &user,
        &[
            ("meta", None, meta.as_bytes()),
            ("firmado", Some("ta1-firmado.pdf"), REPLY_PDF),
        ],
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["substatus"], "assigned");
    assert_eq!(r.json()["attachments"].as_array().map(Vec::len), Some(3));

    // The processor downloads it.
    let r = http(
        &addr,
        "GET",
        &format!("{base}/attachments/3"),
        &[("Authorization", &proc_auth)],
        b"",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, REPLY_PDF);
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment;"))
    );

    // Resolve, then the survey.
    let r = json_call(
        &addr,
        "POST",
        &format!("{base}/resolve"),
        &processor,
        &json!({"resolution": "Se ha asignado el número de la Seguridad Social."}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["substatus"], "resolved");
    let r = json_call(
        &addr,
        "POST",
        &format!("{base}/survey"),
        &user,
        &json!({"rating": 5, "comment": "Rápido y claro"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["survey"]["rating"], 5);
    let r = json_call(&addr, "POST", &format!("{base}/cancel"), &user, &json!({}));
    assert_eq!(r.status, 409);
    assert_eq!(r.json()["code"], "case_closed");

    let r = http(
        &addr,
        "GET",
        &format!("{base}/history"),
        &[("Authorization", &user_auth)],
        b"",
    );
    let events: Vec<String> = r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["event"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        events,
        [
            "submitted",
            "assigned",
            "information_requested",
            "documentation_added",
            "resolved",
            "survey_submitted"
        ]
    );

    // The system's sweep finds nothing left to close.
    let r = json_call(&addr, "POST", "/v1/sweep", &system, &json!({}));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["closed"], json!([]));

    let r = http(&addr, "GET", "/metrics", &[], b"");
    let metrics = String::from_utf8_lossy(&r.body).into_owned();
    assert!(metrics.contains(
        "casia_http_requests_total{method=\"POST\",route=\"/v1/cases\",status=\"201\"} 1"
    ));
    assert!(metrics.contains("casia_cases{status=\"closed\",substatus=\"resolved\"} 1"));
    assert!(metrics.contains("casia_outbox_backlog 3"));

    // Graceful shutdown on SIGTERM.
    let mut server = server;
    let pid = server.child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(s) = server.child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < deadline, "the server did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).expect("log");
    assert!(log.contains("listening"));
    assert!(
        !log.contains(secret.trim()),
        "the secret never appears in logs"
    );
    assert!(!log.contains(&code), "receipt codes never appear in logs");
}

#[test]
fn the_other_subcommands_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = casia(dir.path())
        .args(["migrate", "--database", "memory"])
        .output()
        .expect("migrate");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to migrate"));
    let out = casia(dir.path())
        .args(["migrate", "--database", "sqlite:m.db?mode=rwc"])
        .output()
        .expect("migrate sqlite");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("schema up to date"));
    assert!(dir.path().join("m.db").exists());

    let out = casia(dir.path())
        .args(["sweep", "--database", "memory"])
        .output()
        .expect("sweep");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("closed: 0") && text.contains("reminded: 0"));

    // No secret yet: `token` says how to get one.
    let out = casia(dir.path())
        .args(["token", "--role", "system", "--database", "memory"])
        .output()
        .expect("token");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CASIA_JWT_SECRET"));

    // With a configured secret, a token; a user token needs its ids.
    let out = casia(dir.path())
        .args(["token", "--role", "system", "--database", "memory"])
        .env("CASIA_JWT_SECRET", "an-operator-configured-secret-0123")
        .output()
        .expect("token");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .split('.')
            .count(),
        3
    );
    let out = casia(dir.path())
        .args([
            "token",
            "--role",
            "user",
            "--user",
            "u1",
            "--database",
            "memory",
        ])
        .env("CASIA_JWT_SECRET", "an-operator-configured-secret-0123")
        .output()
        .expect("token");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--authorization"));

    let out = casia(dir.path())
        .args([
            "serve",
            "--database",
            "mysql://nowhere",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .expect("serve");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unsupported database URL"));
}

#[test]
fn conformance_and_catalog_check_report_and_exit_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let run = |args: &[&str]| {
        let out = Command::new(BIN)
            .current_dir(&root)
            .args(args)
            .output()
            .expect("casia runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, stdout) = run(&["conformance", "../shared/conformance", "--store", "memory"]);
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), 5);
    assert_eq!(stdout.lines().last(), Some("5 passed, 0 failed"));

    let (code, stdout) = run(&[
        "conformance",
        "casia-conformance/tests/fixtures",
        "--store",
        "sqlite::memory:",
    ]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "FAILED deliberately wrong: deadline expected a day early: step 3: expected deadline"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.lines().last(), Some("0 passed, 3 failed"));

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"document_types": [], "case_types": [{"code": "inquiry", "materias": [{"code": "Bad", "label": "", "categories": []}]}]}"#)
        .expect("write");
    let (code, stdout) = run(&["catalog", "check", bad.to_str().expect("utf-8 path")]);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("$.case_types[0].materias[0].code"),
        "{stdout}"
    );
    assert!(
        stdout.contains("$.case_types[0].materias[0].label"),
        "{stdout}"
    );
    let (code, stdout) = run(&["catalog", "check", "casia-core/data/default_catalog.json"]);
    assert_eq!(code, Some(0), "{stdout}");
}
