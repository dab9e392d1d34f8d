//! What an operator relies on (issue 14), with the real binary: a clean
//! stop leaves a database file that is complete on its own, `casia backup`
//! taken under write load restores every acknowledged case, JSON logs keep
//! the listening line on standard output, connection errors name their
//! cause quickly, and `casia completions` prints a script.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use casia_test_support::binary::{Casia, Server, http, json_call, text};
use casia_test_support::env::postgres_url;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_casia");
const DATABASE: &str = "sqlite:casia.db?mode=rwc";

fn casia(dir: &Path) -> Casia {
    Casia::new(BIN, dir)
}

fn user_token(dir: &Path, database: &str) -> String {
    casia(dir).user_token(database)
}

fn inquiry(title: &str) -> Value {
    json!({
        "case_type": "inquiry", "materia": "afiliacion", "category": "altas",
        "subcategory": "plazos", "title": title,
        "description": "¿Cuál es el plazo para comunicar un alta?"
    })
}

/// Submits an inquiry; its number when the service acknowledged it (201).
fn submit(addr: &str, token: &str, title: &str) -> Option<String> {
    let r = json_call(addr, "POST", "/v1/cases", token, Some(&inquiry(title)));
    (r.status == 201).then(|| r.json()["number"].as_str().unwrap_or_default().to_owned())
}

fn case_exists(addr: &str, token: &str, number: &str) -> bool {
    json_call(addr, "GET", &format!("/v1/cases/{number}"), token, None).status == 200
}

/// SIGTERM, then waits (20 s at most) for the process to exit; its status.
fn stop(mut server: Server) -> std::process::ExitStatus {
    server.signal("TERM");
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "serve did not stop: {}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_clean_stop_leaves_a_database_file_complete_on_its_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    let token = user_token(dir.path(), DATABASE);
    let numbers: Vec<String> = (0..20)
        .map(|i| submit(&server.addr, &token, &format!("Caso {i}")).expect("acknowledged"))
        .collect();
    let status = stop(server);
    assert!(status.success(), "serve exits 0 on SIGTERM: {status}");
    let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(log.contains("stopped"), "{log}");
    let wal = dir.path().join("casia.db-wal");
    let wal_len = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    assert_eq!(wal_len, 0, "the WAL is checkpointed into casia.db on stop");

    // casia.db alone (with its secret, to mint tokens) is the whole database.
    let copy = tempfile::tempdir().expect("tempdir");
    std::fs::copy(dir.path().join("casia.db"), copy.path().join("casia.db")).expect("copy");
    std::fs::copy(
        dir.path().join("casia.db.secret"),
        copy.path().join("casia.db.secret"),
    )
    .expect("copy secret");
    let server = casia(copy.path()).serve(&["--database", DATABASE]);
    let token = user_token(copy.path(), DATABASE);
    for n in &numbers {
        assert!(case_exists(&server.addr, &token, n), "{n} lost");
    }
}

#[test]
fn a_backup_taken_under_write_load_restores_every_acknowledged_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = casia(dir.path()).serve(&["--database", DATABASE]);
    let token = user_token(dir.path(), DATABASE);

    // Writers submit cases until told to stop; each remembers what the
    // service acknowledged and when.
    let stop_writers = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (addr, token, stop_writers) =
                (server.addr.clone(), token.clone(), stop_writers.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                let mut i = 0;
                while !stop_writers.load(Ordering::Relaxed) {
                    if let Some(n) = submit(&addr, &token, &format!("Escritor {w} caso {i}")) {
                        acknowledged.push((Instant::now(), n));
                    }
                    i += 1;
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let backup_started = Instant::now();
    let out = casia(dir.path()).run(&["backup", "--to", "backup.db", "--database", DATABASE]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::thread::sleep(Duration::from_millis(300));
    stop_writers.store(true, Ordering::Relaxed);
    let acknowledged: Vec<(Instant, String)> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    let before: Vec<&String> = acknowledged
        .iter()
        .filter(|(at, _)| *at < backup_started)
        .map(|(_, n)| n)
        .collect();
    assert!(
        before.len() >= 10,
        "load before the backup: {}",
        before.len()
    );
    assert!(
        acknowledged.len() > before.len(),
        "writes went on during the backup"
    );
    // A second backup to the same file is refused, never overwritten.
    let again = casia(dir.path()).run(&["backup", "--to", "backup.db", "--database", DATABASE]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        text(&again.stderr).contains("exists"),
        "{}",
        text(&again.stderr)
    );
    drop(server);

    let restored = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        dir.path().join("backup.db"),
        restored.path().join("casia.db"),
    )
    .expect("copy");
    std::fs::copy(
        dir.path().join("casia.db.secret"),
        restored.path().join("casia.db.secret"),
    )
    .expect("copy secret");
    let server = casia(restored.path()).serve(&["--database", DATABASE]);
    let token = user_token(restored.path(), DATABASE);
    for n in before {
        assert!(
            case_exists(&server.addr, &token, n),
            "{n} acknowledged before the backup, missing from it"
        );
    }
}

#[test]
fn json_logs_carry_the_request_and_keep_the_listening_line_on_stdout() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `serve` returns only after reading `casia listening on http://…` from
    // standard output, in JSON mode too.
    let server = casia(dir.path()).serve(&["--database", DATABASE, "--log-format", "json"]);
    let r = http(&server.addr, "GET", "/v1/cases", &[], b"");
    assert_eq!(r.status, 401);
    assert_eq!(http(&server.addr, "GET", "/healthz", &[], b"").status, 200);
    server.wait_for_log("/healthz", 0);
    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    // Fields are flattened into each line, numbers as numbers.
    let rejected = lines
        .iter()
        .find(|l| l["status"] == 401)
        .unwrap_or_else(|| panic!("no 401 line: {log}"));
    assert_eq!(rejected["code"], "unauthorized", "{rejected}");
    assert_eq!(rejected["route"], "/v1/cases", "{rejected}");
    assert!(rejected["elapsed_ms"].is_number(), "{rejected}");
    assert!(rejected["request_id"].is_string(), "{rejected}");
    assert!(
        lines
            .iter()
            .all(|l| l["level"].is_string() && l["timestamp"].is_string())
    );
}

#[test]
fn connection_errors_name_their_cause_within_five_seconds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let out = casia(dir.path()).run(&[
        "outbox",
        "list",
        "--database",
        "postgres://postgres@127.0.0.1:1/test",
    ]);
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.to_lowercase().contains("connection refused"), "{err}");

    let Some(url) = postgres_url("connection_errors_name_their_cause_within_five_seconds") else {
        return;
    };
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    let missing = casia(dir.path()).run(&[
        "outbox",
        "list",
        "--database",
        &format!("{base}/casia_no_such_database"),
    ]);
    let err = text(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{err}");
    assert!(
        err.contains("missing database") && err.contains("casia_no_such_database"),
        "{err}"
    );
    assert!(!err.contains(" at line "), "no server source lines: {err}");
}

#[test]
fn completions_print_a_script_for_each_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (shell, marker) in [
        ("bash", "_casia()"),
        ("zsh", "#compdef casia"),
        ("fish", "complete -c casia"),
    ] {
        let out = casia(dir.path()).run(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
        let script = text(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script:.200}");
        assert!(script.contains("backup"), "{shell} completes subcommands");
    }
    assert!(
        std::fs::read_dir(dir.path()).expect("dir").next().is_none(),
        "nothing written"
    );
}
