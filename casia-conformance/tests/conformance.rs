//! The conformance suite on the in-memory store: the public scenarios of
//! ../shared/conformance, the project's own scenarios, and proof that the
//! runner fails when an expectation is wrong.

use std::path::PathBuf;

use casia_conformance::runner::run_file;
use casia_conformance::{MemoryStoreFactory, Verdict, run_paths};

fn manifest_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn run_all(dir: PathBuf) -> casia_conformance::Summary {
    futures_executor::block_on(run_paths(&[dir], &MemoryStoreFactory, |r| {
        eprintln!("{}", r.line())
    }))
    .expect("scenario folder readable")
}

#[test]
fn public_scenarios_pass_on_memory() {
    let summary = run_all(manifest_path("../../shared/conformance"));
    eprintln!("{}", summary.closing_line());
    assert!(
        summary.reports.len() >= 5,
        "expected the published scenarios, found {}",
        summary.reports.len()
    );
    assert!(summary.all_passed(), "{}", summary.closing_line());
}

#[test]
fn project_scenarios_pass_on_memory() {
    let summary = run_all(manifest_path("scenarios"));
    eprintln!("{}", summary.closing_line());
    assert!(
        summary.reports.len() >= 20,
        "expected ≥ 20 project scenarios, found {}",
        summary.reports.len()
    );
    assert!(summary.all_passed(), "{}", summary.closing_line());
}

fn verdict_of(fixture: &str) -> (String, Verdict) {
    let report = futures_executor::block_on(run_file(
        &manifest_path(&format!("tests/fixtures/{fixture}")),
        &MemoryStoreFactory,
    ));
    (report.line(), report.verdict)
}

#[test]
fn a_wrong_deadline_is_reported_failed_at_its_step() {
    let (line, verdict) = verdict_of("wrong_deadline.json");
    assert_eq!(
        verdict,
        Verdict::Failed {
            step: 3,
            message: "expected deadline Some(\"2026-11-22\"), got Some(\"2026-11-23\")".into()
        }
    );
    assert!(
        line.starts_with("FAILED deliberately wrong: deadline expected a day early: step 3: "),
        "{line}"
    );
}

#[test]
fn an_unexpected_error_is_reported_failed_at_its_step() {
    let (_, verdict) = verdict_of("wrong_success.json");
    assert!(
        matches!(&verdict, Verdict::Failed { step: 7, message } if message.contains("expected success, got error deadline_not_reached")),
        "{verdict:?}"
    );
}

#[test]
fn a_typo_in_a_scenario_fails_naming_file_and_step() {
    let (line, verdict) = verdict_of("typo_in_expect.json");
    assert!(matches!(verdict, Verdict::Broken { .. }), "{verdict:?}");
    assert!(
        line.contains("typo_in_expect.json: step 2") && line.contains("asignee"),
        "{line}"
    );
}

#[test]
fn a_folder_with_a_failing_scenario_does_not_pass() {
    let summary = run_all(manifest_path("tests/fixtures"));
    assert_eq!(summary.passed(), 0);
    assert_eq!(summary.failed(), 3);
    assert_eq!(summary.closing_line(), "0 passed, 3 failed");
    assert!(!summary.all_passed());
}
