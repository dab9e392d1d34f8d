//! A small holiday calendar for the service and model-based tests: some
//! national days of 2025–2026 and a few regional ones of Madrid, Cataluña
//! and Andalucía, with the model's own, independent view of which days are
//! holidays for a case.

use std::collections::BTreeSet;

use casia_core::calendar::HolidayCalendar;
use chrono::NaiveDate;

use crate::fixtures::date;

/// National holidays of the test calendar (a subset of the published ones).
pub const NATIONAL: &[&str] = &[
    "2025-01-01",
    "2025-01-06",
    "2025-04-18",
    "2025-05-01",
    "2025-08-15",
    "2025-12-08",
    "2025-12-25",
    "2026-01-01",
    "2026-01-06",
    "2026-04-03",
    "2026-05-01",
    "2026-10-12",
    "2026-12-08",
    "2026-12-25",
];

/// Regional holidays by ISO 3166-2 community code.
pub const REGIONAL: &[(&str, &[&str])] = &[
    (
        "ES-MD",
        &["2025-05-02", "2025-11-10", "2026-03-19", "2026-11-09"],
    ),
    (
        "ES-CT",
        &["2025-06-24", "2025-09-11", "2026-06-24", "2026-09-11"],
    ),
    ("ES-AN", &["2025-02-28", "2026-03-02", "2026-12-07"]),
];

/// The community of each office/province the tests use (DOMAIN.md §5,
/// art. 30.6), written here independently of the crate's table.
pub fn community(province: &str) -> &'static str {
    match province {
        "28" => "ES-MD",
        "08" => "ES-CT",
        "41" => "ES-AN",
        other => panic!("no community for province {other} in the tests"),
    }
}

/// The test calendar covers 2025 and 2026; a deadline that runs into 2027
/// still skips the national days no community can move (RD 2001/1983 art.
/// 45.1, DOMAIN.md §5), written out here by hand for the model.
const UNMOVABLE_2027: [&str; 9] = [
    "2027-01-01",
    "2027-03-26",
    "2027-05-01",
    "2027-08-15",
    "2027-10-12",
    "2027-11-01",
    "2027-12-06",
    "2027-12-08",
    "2027-12-25",
];

/// National ∪ both communities' holidays, as the model counts them.
pub fn holidays_for(province: &str, office: &str) -> BTreeSet<NaiveDate> {
    let mut set: BTreeSet<NaiveDate> = NATIONAL
        .iter()
        .chain(UNMOVABLE_2027.iter())
        .map(|d| date(d))
        .collect();
    for wanted in [community(province), community(office)] {
        for (code, days) in REGIONAL {
            if *code == wanted {
                set.extend(days.iter().map(|d| date(d)));
            }
        }
    }
    set
}

/// The test calendar as a [`HolidayCalendar`]: [`NATIONAL`] and [`REGIONAL`], covering 2025 and
/// 2026.
pub fn calendar() -> HolidayCalendar {
    let regional: serde_json::Map<String, serde_json::Value> = REGIONAL
        .iter()
        .map(|(code, days)| ((*code).to_owned(), serde_json::json!(days)))
        .collect();
    let json = serde_json::json!({
        "national": NATIONAL,
        "regional": regional,
        "years": [2025, 2026],
    });
    HolidayCalendar::from_json(&json.to_string()).expect("calendar")
}
