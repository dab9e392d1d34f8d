//! The bodies of the fuzz targets: one function per parser of outside input.
//! libFuzzer calls them from `fuzz_targets/` (nightly, `cargo fuzz`); the
//! ordinary test suite replays every corpus file through the same functions
//! on stable (`tests/replay.rs`). Each body checks invariants, not just
//! "no panic".
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use casia_core::Actor;
use casia_core::attachment::file_name::{fits, sanitize_file_name, stored_file_name};
use casia_core::attachment::format::detect;
use casia_core::catalog::Catalog;
use casia_core::complementary::{Ccc, ComplementaryData, Naf, Nif};
use casia_core::search::SearchFilter;

/// Catalog loader: never panics; what loads survives its own JSON.
pub fn catalog_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Catalog::check_json(text) {
        Ok(catalog) => {
            let again = serde_json::to_string(&catalog).map(|j| Catalog::from_json(&j));
            assert!(
                matches!(again, Ok(Ok(ref c)) if *c == catalog),
                "a loaded catalog must reload equal"
            );
        }
        Err(faults) => assert!(
            !faults.is_empty(),
            "a rejected catalog names at least one fault"
        ),
    }
}

/// Scenario parser: never panics; errors always name a location.
pub fn scenario_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = casia_conformance::Scenario::parse("fuzz.json", text) {
        assert!(e.location.starts_with("fuzz.json"), "{e}");
    }
}

/// Complementary-data validators: never panic; accepted values are stored
/// normalised and re-parse to themselves.
pub fn complementary_data(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for parsed in [
        Nif::parse(&text).map(|v| v.as_str().to_owned()),
        Naf::parse(&text).map(|v| v.as_str().to_owned()),
        Ccc::parse(&text).map(|v| v.as_str().to_owned()),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            Nif::parse(&parsed).is_some()
                || Naf::parse(&parsed).is_some()
                || Ccc::parse(&parsed).is_some(),
            "normalised {parsed:?} must parse again"
        );
    }
    // Lines of `code=value` as a raw map.
    let raw: BTreeMap<String, String> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Ok(parsed) = ComplementaryData::parse(&raw, 2026, 11) {
        assert_eq!(parsed.len(), raw.len());
    }
}

/// Attachment sniffing and file-name sanitising: never panic; names obey
/// DOMAIN.md §6.
pub fn attachment_sniff(data: &[u8]) {
    let detected = detect(data);
    // What is accepted as a ZIP package holds its main part: detecting it
    // again from its own bytes gives the same verdict (no state, no luck).
    assert_eq!(detect(data), detected);
    let raw = String::from_utf8_lossy(data);
    let name = sanitize_file_name(&raw);
    assert!(!name.is_empty() && name.len() <= 255);
    assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control));
    assert!(!name.contains(['\u{202E}', '\u{200B}', '\u{FEFF}', '\u{2066}']));
    if let Ok(format) = detected {
        let stored = stored_file_name(&raw, format);
        assert!(!stored.is_empty() && stored.len() <= 255);
        assert!(fits(&stored, format), "{stored:?} does not fit {format:?}");
    }
}

/// Search option 2 from an HTTP query string (`GET /v1/cases?…`): the
/// handler's own parser, then the core's validation. Never panics; a
/// validated filter always covers one calendar month, `from ≤ to`.
pub fn search_query(data: &[u8]) {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(input) = casia_http::cases::search_input(query) else {
        return;
    };
    let actor = Actor::System;
    let now = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    if let Ok(filter) = SearchFilter::parse(&actor, &input, now) {
        use chrono::Datelike;
        assert!(filter.from <= filter.to);
        assert_eq!(
            (filter.from.year(), filter.from.month()),
            (filter.to.year(), filter.to.month())
        );
        assert!((1..=casia_core::search::MAX_PAGE_SIZE).contains(&filter.limit));
    }
}

/// Arbitrary command sequences by arbitrary actors at increasing instants,
/// checked against the invariants of the model (DOMAIN.md §3, §5, §7, §10):
/// closed stays closed, history only grows and starts with `submitted`,
/// every substatus change has its entry, ex-officio closure only after the
/// deadline, versions grow by one per successful write.
pub fn command_sequence(data: &[u8]) {
    sequence::run(data);
}

mod sequence;
