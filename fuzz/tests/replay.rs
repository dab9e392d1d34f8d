//! Replays every seed-corpus file of every fuzz target through the same
//! function libFuzzer calls, so CI catches regressions without nightly.

use std::path::PathBuf;

fn replay(target: &str, body: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{target} has no seed corpus");
    for f in &files {
        let data = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        body(&data);
    }
    eprintln!("{target}: replayed {} corpus files", files.len());
}

#[test]
fn catalog_load_corpus() {
    replay("catalog_load", casia_fuzz::catalog_load);
}

#[test]
fn scenario_parse_corpus() {
    replay("scenario_parse", casia_fuzz::scenario_parse);
}

#[test]
fn complementary_data_corpus() {
    replay("complementary_data", casia_fuzz::complementary_data);
}

#[test]
fn attachment_sniff_corpus() {
    replay("attachment_sniff", casia_fuzz::attachment_sniff);
}

#[test]
fn search_query_corpus() {
    replay("search_query", casia_fuzz::search_query);
}

#[test]
fn command_sequence_corpus() {
    replay("command_sequence", casia_fuzz::command_sequence);
}
