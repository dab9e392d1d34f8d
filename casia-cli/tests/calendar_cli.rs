//! The holiday calendar through the real `casia` binary (issue 11):
//! `calendar check`, `calendar deadline`, `GET /v1/calendar/deadline`, the
//! `casia_calendar_last_covered_year` metric, and `serve` reloading the
//! calendar on SIGHUP — keeping the old one when the new file is malformed.

use std::path::Path;
use std::process::Output;

use casia_test_support::binary::{Casia, Server, http, text};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_casia");

fn run(dir: &Path, args: &[&str]) -> Output {
    Casia::new(BIN, dir).run(args)
}

/// `casia calendar deadline` for 10 business days from `from` in one
/// province (authorization and office).
fn ten_business_days(dir: &Path, from: &str, province: &str) -> Output {
    run(
        dir,
        &[
            "calendar",
            "deadline",
            "--from",
            from,
            "--days",
            "10",
            "--unit",
            "business",
            "--province",
            province,
            "--office",
            province,
        ],
    )
}

fn shipped_calendar() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../casia-core/data/default_calendar.json")
}

#[test]
fn calendar_check_reports_years_per_community_and_faults_by_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let shipped = shipped_calendar();
    let out = run(
        dir.path(),
        &["calendar", "check", &shipped.to_string_lossy()],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    for line in [
        "ES-AN Andalucía: 2024: ",
        "ES-ML Melilla: 2024: ",
        "ES-CT Cataluña: ",
        "2027: ",
    ] {
        assert!(stdout.contains(line), "{line:?} in {stdout}");
    }
    assert!(
        !stdout.contains(": none"),
        "every community has days every year: {stdout}"
    );

    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"national": ["2026-01-01"], "regional": {"ES-ZZ": []}}"#,
    )
    .expect("write");
    let out = run(dir.path(), &["calendar", "check", &bad.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("$.regional.ES-ZZ"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn calendar_deadline_prints_the_date_and_each_skipped_day() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = ten_business_days(dir.path(), "2026-10-27", "41");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.starts_with("deadline: 2026-11-11\n"), "{stdout}");
    assert!(
        stdout.contains("skipped: 2026-11-02 Mon regional ES-AN"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped: 2026-10-31 Sat weekend"),
        "{stdout}"
    );

    // Into a year the shipped calendar covers: 25 Dec, 1 and 6 Jan skipped.
    let out = ten_business_days(dir.path(), "2026-12-23", "28");
    let stdout = text(&out.stdout);
    for day in ["2026-12-25", "2027-01-01", "2027-01-06"] {
        assert!(
            stdout.contains(&format!("skipped: {day}")),
            "{day}: {stdout}"
        );
    }
    assert!(!stdout.contains("warning"), "{stdout}");

    let out = ten_business_days(dir.path(), "+2026-12-23", "28");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--from"),
        "{}",
        text(&out.stderr)
    );
}

fn get(addr: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| vec![("Authorization", a)])
        .unwrap_or_default();
    let reply = http(addr, "GET", path, &headers, b"");
    (reply.status, reply.text())
}

fn deadline(addr: &str, token: &str) -> Value {
    let (status, body) = get(
        addr,
        "/v1/calendar/deadline?from=2026-06-12&days=10&unit=business&province=15&office=15",
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

#[test]
fn serve_explains_deadlines_and_reloads_the_calendar_on_sighup() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let calendar = d.join("calendar.json");
    std::fs::copy(shipped_calendar(), &calendar).expect("copy calendar");
    let server: Server = Casia::new(BIN, d).serve(&[
        "--sweep-interval",
        "0",
        "--database",
        "sqlite:casia.db?mode=rwc",
        "--calendar",
        &calendar.to_string_lossy(),
    ]);
    let addr = server.addr.clone();
    let token = {
        let o = run(
            d,
            &[
                "token",
                "--role",
                "processor",
                "--processor",
                "P1",
                "--office",
                "15",
            ],
        );
        assert!(o.status.success(), "{}", text(&o.stderr));
        text(&o.stdout).trim().to_owned()
    };

    // Galicia: 24 June 2026 is a regional holiday.
    let before = deadline(&addr, &token);
    assert_eq!(before["deadline"], "2026-06-29", "{before}");
    let regional: Vec<&Value> = before["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["date"] == "2026-06-24")
        .collect();
    assert_eq!(regional.len(), 1, "{before}");
    assert_eq!(regional[0]["reasons"][0]["kind"], "regional");
    assert_eq!(regional[0]["reasons"][0]["community"], "ES-GA");

    let (status, _) = get(&addr, "/v1/calendar/deadline?from=2026-06-12", None);
    assert_eq!(status, 401, "a token is required");
    let (status, body) = get(
        &addr,
        "/v1/calendar/deadline?from=%2B2026-06-12&days=10&unit=business&province=15&office=15",
        Some(&token),
    );
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"field\":\"from\""), "{body}");
    let (status, metrics) = get(&addr, "/metrics", None);
    assert_eq!(status, 200);
    assert!(
        metrics.contains("\ncasia_calendar_last_covered_year 2027\n"),
        "{metrics}"
    );

    // A calendar where 15 June 2026 is also a local day of A Coruña.
    let mut file: Value =
        serde_json::from_str(&std::fs::read_to_string(&calendar).expect("read")).expect("json");
    file["local"] = serde_json::json!({"15": [{"date": "2026-06-15", "name": "Fiesta de prueba"}]});
    std::fs::write(&calendar, file.to_string()).expect("write");
    server.signal("HUP");
    server.wait_for_log("catalog and calendar reloaded", 0);
    let after = deadline(&addr, &token);
    assert_eq!(after["deadline"], "2026-06-30", "{after}");
    let log = server.log();
    assert!(
        log.contains("calendar local 15: + 2026-06-15 Fiesta de prueba"),
        "{log}"
    );

    // A malformed file is refused and the calendar in force kept.
    std::fs::write(&calendar, r#"{"national": ["2026-13-01"]}"#).expect("write");
    server.signal("HUP");
    server.wait_for_log("reload failed", 0);
    assert_eq!(deadline(&addr, &token)["deadline"], "2026-06-30");
    let log = server.log();
    assert!(log.contains("$.national[0]"), "{log}");
    drop(server);
}
