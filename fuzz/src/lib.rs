//! The bodies of the fuzz targets: one function per parser of outside input.
//! libFuzzer calls them from `fuzz_targets/` (nightly, `cargo fuzz`); the
//! ordinary test suite replays every corpus file through the same functions
//! on stable (`tests/replay.rs`). Each body checks invariants, not just
//! "no panic".
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use casia_core::attachment::file_name::sanitize_file_name;
use casia_core::attachment::format::detect;
use casia_core::catalog::Catalog;
use casia_core::complementary::{Ccc, ComplementaryData, Naf, Nif};

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
    let _ = detect(data);
    let name = sanitize_file_name(&String::from_utf8_lossy(data));
    assert!(!name.is_empty() && name.len() <= 255);
    assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control));
}
