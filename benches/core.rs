//! Core benchmarks (issue 7 targets): applying `assign` ≤ 1 µs, a
//! 10-business-day deadline with 30 holidays ≤ 1 µs, validating a submission
//! with NIF, NAF and CCC ≤ 5 µs.
//!
//!     cargo bench --bench core
//!
//! Results and the machine are recorded in docs/PERFORMANCE.md.

use std::collections::BTreeMap;

use casia::attachment::NewAttachment;
use casia::attachment::format::detect;
use casia::calendar::HolidayCalendar;
use casia::catalog::{DeadlinePolicy, DeadlineUnit};
use casia::command::decide;
use casia::deadline::deadline_date;
use casia::ids::{CaseNumber, ProvinceCode};
use casia::receipt::ReceiptKey;
use casia::submission::validate_submission;
use casia::{Actor, CaseRules, Command, SubmitInput};
use chrono::{DateTime, NaiveDate, Utc};

fn main() {
    divan::main();
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn user() -> Actor {
    Actor::User {
        authorization: "A1".parse().unwrap_or_else(|e| panic!("{e}")),
        user: "u1".parse().unwrap_or_else(|e| panic!("{e}")),
        province: "28".parse().unwrap_or_else(|e| panic!("{e}")),
    }
}

fn submission() -> SubmitInput {
    SubmitInput {
        case_type: "procedure".into(),
        materia: "afiliacion".into(),
        category: "altas".into(),
        subcategory: "nss".into(),
        affects_current_period: true,
        title: "Solicitud de NSS".into(),
        description: "Trabajador sin número de afiliación.".into(),
        complementary_data: BTreeMap::from([
            ("nif".to_owned(), "X-2482300W".to_owned()),
            ("naf".to_owned(), "28 12345678 40".to_owned()),
            ("ccc".to_owned(), "28/1234567/42".to_owned()),
        ]),
        attachments: Vec::new(),
    }
}

/// The submission's classification with its required documents dropped, so
/// the benchmark measures validation, not attachment hashing.
fn rules() -> CaseRules {
    let mut rules = CaseRules::with_defaults(ReceiptKey::new("bench"));
    for t in &mut rules.catalog.case_types {
        for m in &mut t.materias {
            for c in &mut m.categories {
                for s in &mut c.subcategories {
                    s.required_documents.clear();
                }
            }
        }
    }
    rules
}

#[divan::bench]
fn validate_submission_with_nif_naf_ccc(bencher: divan::Bencher) {
    let rules = rules();
    let actor = user();
    let input = submission();
    let now = at("2026-11-05T09:00:00Z");
    bencher.bench(|| {
        validate_submission(
            divan::black_box(&actor),
            divan::black_box(&input),
            &rules,
            now,
        )
        .is_ok()
    });
}

/// Issue 12: the same submission with one real 1 MiB DOCX (python-docx,
/// `benches/data/one_mib.docx`): validation now reads the ZIP's central
/// directory and inflates `[Content_Types].xml`, and hashes the file.
#[divan::bench]
fn validate_submission_with_a_1_mib_docx(bencher: divan::Bencher) {
    let rules = rules();
    let actor = user();
    let mut input = submission();
    let docx: casia::Bytes =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/data/one_mib.docx"))
            .unwrap_or_else(|e| panic!("benches/data/one_mib.docx: {e}"))
            .into();
    input.attachments = vec![NewAttachment {
        document_type: "other".into(),
        title: "Contrato".into(),
        file_name: "contrato.docx".into(),
        content: docx.into(),
    }];
    let now = at("2026-11-05T09:00:00Z");
    assert!(validate_submission(&actor, &input, &rules, now).is_ok());
    bencher.bench(|| {
        validate_submission(
            divan::black_box(&actor),
            divan::black_box(&input),
            &rules,
            now,
        )
        .is_ok()
    });
}

/// Issue 12: sniffing a crafted 10 MiB DOCX whose first part is full of
/// fake end-of-central-directory records: bounded reads, so this costs
/// about what a small DOCX costs, not a scan of 10 MiB.
#[divan::bench(args = ["1 KiB", "10 MiB"])]
fn detect_a_docx(bencher: divan::Bencher, size: &str) {
    let padding = if size == "10 MiB" { 10 << 20 } else { 1 << 10 };
    let content = casia_test_support::samples::crafted_docx(padding);
    assert_eq!(
        detect(&content),
        Ok(casia::attachment::format::AttachmentFormat::Docx)
    );
    bencher.bench(|| detect(divan::black_box(&content)).is_ok());
}

#[divan::bench]
fn apply_assign(bencher: divan::Bencher) {
    let rules = rules();
    let now = at("2026-11-05T09:00:00Z");
    let draft =
        validate_submission(&user(), &submission(), &rules, now).unwrap_or_else(|e| panic!("{e}"));
    let case = draft
        .complete(CaseNumber::new(2026, 1).unwrap_or_else(|| panic!("number")))
        .case;
    let processor = Actor::Processor {
        processor: "P1".parse().unwrap_or_else(|e| panic!("{e}")),
        office: "28".parse().unwrap_or_else(|e| panic!("{e}")),
    };
    let command = Command::Assign { processor: None };
    bencher.bench(|| decide(divan::black_box(&case), &processor, &command, &rules, now).is_ok());
}

#[divan::bench]
fn ten_business_days_with_30_holidays(bencher: divan::Bencher) {
    let start = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap_or_default();
    let holidays: Vec<String> = (0..30)
        .map(|i| (start + chrono::Days::new(i * 2)).to_string())
        .collect();
    let json = format!(
        r#"{{"national": {}, "regional": {{}}}}"#,
        serde_json::to_string(&holidays).unwrap_or_default()
    );
    let calendar = HolidayCalendar::from_json(&json).unwrap_or_else(|e| panic!("{e}"));
    let days = calendar.for_case(province("28"), province("08"));
    let policy = DeadlinePolicy {
        days: 10,
        unit: DeadlineUnit::Business,
    };
    let d0 = NaiveDate::from_ymd_opt(2026, 11, 19).unwrap_or_default();
    bencher.bench(|| deadline_date(divan::black_box(d0), policy, &days));
}

fn province(code: &str) -> ProvinceCode {
    ProvinceCode::parse(code).unwrap_or_else(|e| panic!("{e}"))
}

/// Issue 11: the same deadline with the whole shipped calendar (every
/// community, 2024–2027), authorization in Sevilla and office in Madrid, a
/// request that runs over 2 November (Andalusian holiday) — and one that
/// crosses the new year.
#[divan::bench(args = ["2026-10-27", "2026-12-23"])]
fn ten_business_days_shipped_calendar(bencher: divan::Bencher, from: &str) {
    let calendar = HolidayCalendar::default_calendar();
    let days = calendar.for_case(province("41"), province("28"));
    let policy = DeadlinePolicy {
        days: 10,
        unit: DeadlineUnit::Business,
    };
    let d0: NaiveDate = from.parse().unwrap_or_default();
    bencher.bench(|| deadline_date(divan::black_box(d0), policy, &days));
}
