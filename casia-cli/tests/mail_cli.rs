//! The real `casia` binary and notifications: `casia contact set|get`,
//! `casia outbox list [--dead]` and `casia outbox retry ID` on a SQLite
//! file; `casia serve --smtp` relaying in the background to the SMTP test
//! server (needs `CASIA_TEST_SMTP_PYTHON`); bad mail settings refused at
//! start.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use casia_core::ports::{DeliveryFailure, FixedClock, Outbox};
use casia_core::receipt::ReceiptKey;
use casia_core::{
    Actor, AuthorizationId, CaseRules, CaseService, ProvinceCode, SubmitInput, UserId,
};
use casia_store_sql::{SqlOptions, SqlStore};
use casia_test_support::binary::{self, Casia, USER_TOKEN_ARGS, text};
use casia_test_support::env::smtp_python;
use casia_test_support::smtp::SmtpSink;
use chrono::TimeDelta;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_casia");
const DATABASE: &str = "sqlite:casia.db?mode=rwc";

fn casia(dir: &Path) -> Command {
    Casia::new(BIN, dir).command()
}

fn run(dir: &Path, args: &[&str]) -> Output {
    casia(dir)
        .args(args)
        .args(["--database", DATABASE])
        .output()
        .expect("run casia")
}

fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

fn inquiry() -> SubmitInput {
    SubmitInput {
        case_type: "inquiry".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: "plazos".into(),
        title: "Plazos de alta".into(),
        description: "¿Plazo para el alta?".into(),
        ..SubmitInput::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_and_outbox_commands_work_on_a_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();

    // Operator commands never create a database (issue 14).
    let nowhere = run(d, &["outbox", "list"]);
    assert_eq!(nowhere.status.code(), Some(1), "{}", stderr(&nowhere));
    assert!(
        stderr(&nowhere).contains("no database at casia.db"),
        "{}",
        stderr(&nowhere)
    );
    assert!(!d.join("casia.db").exists(), "nothing created");
    let migrated = run(d, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));

    let set = run(d, &["contact", "set", "A1", " gestoria@example.com "]);
    assert!(set.status.success(), "{}", stderr(&set));
    assert_eq!(stdout(&set), "A1: gestoria@example.com\n");
    let get = run(d, &["contact", "get", "A1"]);
    assert_eq!(stdout(&get), "gestoria@example.com\n");
    let missing = run(d, &["contact", "get", "B2"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("no contact address for authorization B2"));
    let bad = run(d, &["contact", "set", "A1", "gestoria"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(
        stderr(&bad).contains("not an e-mail address"),
        "{}",
        stderr(&bad)
    );
    let bad_id = run(d, &["contact", "set", "A 1", "a@example.com"]);
    assert_eq!(bad_id.status.code(), Some(2));

    // Two notifications: one dead, one pending.
    let url = format!("sqlite:{}?mode=rwc", d.join("casia.db").display());
    let store = SqlStore::connect(&url, &SqlOptions::default())
        .await
        .expect("open");
    let now = "2026-11-05T09:00:00Z".parse().expect("instant");
    let service = CaseService::new(
        Arc::new(store.clone()),
        Arc::new(FixedClock::new(now)),
        Arc::new(CaseRules::with_defaults(ReceiptKey::new("k"))),
    );
    let user = Actor::User {
        authorization: AuthorizationId::parse("A1").expect("id"),
        user: UserId::parse("u1").expect("id"),
        province: ProvinceCode::parse("28").expect("province"),
    };
    for _ in 0..2 {
        service.submit(&user, &inquiry()).await.expect("submit");
    }
    let claimed = store
        .claim_due(now, 1, TimeDelta::minutes(10))
        .await
        .expect("claim");
    store
        .record_failure(
            claimed[0].id,
            &DeliveryFailure {
                recipient: Some("gestoria@example.com".into()),
                error: "550 5.1.1 mailbox unavailable".into(),
                retry_at: None,
            },
        )
        .await
        .expect("dead");
    store.close().await;

    let header =
        "id\tstate\tkind\tcase\tauthorization\tattempts\tnext_attempt\trecipient\tlast_error";
    let dead = run(d, &["outbox", "list", "--dead"]);
    assert!(dead.status.success(), "{}", stderr(&dead));
    let id = claimed[0].id;
    assert_eq!(
        stdout(&dead),
        format!(
            "{header}\n{id}\tdead\tcase_submitted\t2026-00000001\tA1\t1\t-\tgestoria@example.com\t550 5.1.1 mailbox unavailable\n"
        )
    );
    let pending = run(d, &["outbox", "list"]);
    let lines: Vec<String> = stdout(&pending).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("\tpending\tcase_submitted\t2026-00000002\tA1\t0\t-\t-\t-"));

    let retry = run(d, &["outbox", "retry", &id.to_string()]);
    assert!(retry.status.success(), "{}", stderr(&retry));
    assert_eq!(
        stdout(&retry),
        format!("notification {id} is pending again\n")
    );
    let again = run(d, &["outbox", "retry", &id.to_string()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("is not dead"));
    assert_eq!(
        stdout(&run(d, &["outbox", "list", "--dead"])),
        format!("{header}\n")
    );
    let pending = stdout(&run(d, &["outbox", "list"]));
    assert_eq!(pending.lines().count(), 3, "{pending}");
    assert!(pending.contains(&format!(
        "\n{id}\tpending\tcase_submitted\t2026-00000001\tA1\t0\t"
    )));
}

#[test]
fn serve_refuses_bad_mail_settings_at_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (extra, why) in [
        (
            vec!["--smtp", "http://127.0.0.1:25"],
            "--smtp: unsupported scheme \"http\"",
        ),
        (
            vec![
                "--smtp",
                "smtp://127.0.0.1:25",
                "--mail-from",
                "not a mailbox",
            ],
            "--mail-from",
        ),
        (
            vec![
                "--smtp",
                "smtp://127.0.0.1:25",
                "--relay-lease",
                "10",
                "--smtp-timeout",
                "30",
            ],
            "--relay-lease (10 s) must be longer",
        ),
    ] {
        let out = casia(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--database", DATABASE])
            .args(&extra)
            .stdin(Stdio::null())
            .output()
            .expect("run casia serve");
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(stderr(&out).contains(why), "{extra:?}: {}", stderr(&out));
        assert!(
            stdout(&out).is_empty(),
            "it never listened: {}",
            stdout(&out)
        );
    }
}

/// A request with a bearer token and a JSON body; status and JSON answer.
fn http(addr: &str, method: &str, path: &str, token: &str, body: Option<&Value>) -> (u16, Value) {
    let reply = binary::json_call(addr, method, path, token, body);
    (reply.status, reply.json_or_null())
}

#[test]
fn serve_with_smtp_delivers_notifications_in_the_background() {
    let Some(python) = smtp_python("serve_with_smtp_delivers_notifications_in_the_background")
    else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let sink = SmtpSink::start(&python, d, false);
    let server = Casia::new(BIN, d).serve(&[
        "--database",
        DATABASE,
        "--smtp",
        &sink.url(),
        "--relay-interval",
        "1",
        "--mail-from",
        "CASIA <avisos@casia.example.es>",
    ]);
    let addr = server.addr.clone();
    let mint = |args: &[&str]| {
        let o = run(d, &[&["token"], args].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o).trim().to_owned()
    };
    let system = mint(&["--role", "system"]);
    let user = mint(USER_TOKEN_ARGS);

    let (status, body) = http(
        &addr,
        "PUT",
        "/v1/contacts/A1",
        &system,
        Some(&json!({"email": "gestoria@example.com"})),
    );
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&addr, "GET", "/v1/contacts/A1", &system, None);
    assert_eq!(
        (status, body["email"].as_str()),
        (200, Some("gestoria@example.com"))
    );
    let submit = json!({
        "case_type": "inquiry", "materia": "afiliacion", "category": "altas",
        "subcategory": "plazos", "affects_current_period": false,
        "title": "Plazos de alta", "description": "¿Plazo para el alta?",
        "complementary_data": {}, "attachments": []
    });
    let (status, body) = http(&addr, "POST", "/v1/cases", &user, Some(&submit));
    assert_eq!(status, 201, "{body}");
    let number = body["number"].as_str().expect("number").to_owned();

    let received = sink.wait_for(1, Duration::from_secs(20));
    assert_eq!(received.len(), 1, "the relay sent the notification");
    let mail = &received[0];
    assert_eq!(mail.envelope_to, ["gestoria@example.com"]);
    assert_eq!(mail.subject(), format!("CASIA {number}: caso registrado"));
    assert_eq!(
        mail.header("Message-ID"),
        Some("<casia-notification-1@casia.example.es>")
    );
    assert_eq!(mail.header("From"), Some("CASIA <avisos@casia.example.es>"));
    assert!(mail.body.contains("Clasificación: Consulta › Afiliación"));
    // The relay logs the delivery after the server's answer, which may
    // reach the sink (and this test) first.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut log = server.log();
    while !log.contains("notification delivered") && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        log = server.log();
    }
    drop(server);
    assert!(log.contains("notification delivered"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}
