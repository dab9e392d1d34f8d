//! The attachment corpus (`tests/corpus/attachments/`, see its README):
//! real files made by real tools, and crafted hostile ones. Every file in
//! `accept/` is detected as the format its extension names (and keeps its
//! name); every file in `reject/` is `unsupported_format` (DOMAIN.md §6).

use std::path::{Path, PathBuf};

use casia_core::attachment::file_name::stored_file_name;
use casia_core::attachment::format::{AttachmentFormat, detect};

fn corpus(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus/attachments")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    files
}

fn expected(path: &Path) -> AttachmentFormat {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match extension.as_str() {
        "pdf" => AttachmentFormat::Pdf,
        "jpg" | "jpeg" => AttachmentFormat::Jpeg,
        "png" => AttachmentFormat::Png,
        "tif" | "tiff" => AttachmentFormat::Tiff,
        "docx" => AttachmentFormat::Docx,
        "xlsx" => AttachmentFormat::Xlsx,
        "odt" => AttachmentFormat::Odt,
        "ods" => AttachmentFormat::Ods,
        "doc" => AttachmentFormat::Doc,
        "xls" => AttachmentFormat::Xls,
        "rtf" => AttachmentFormat::Rtf,
        "txt" | "csv" => AttachmentFormat::Text,
        "xml" => AttachmentFormat::Xml,
        other => panic!("{}: no format for .{other}", path.display()),
    }
}

#[test]
fn every_real_document_is_accepted_as_what_it_is() {
    let files = corpus("accept");
    assert!(files.len() >= 25, "the corpus is there: {}", files.len());
    let mut wrong = Vec::new();
    for path in &files {
        let bytes = std::fs::read(path).expect("read");
        let want = expected(path);
        match detect(&bytes) {
            Ok(got) if got == want => {
                let name = path.file_name().and_then(|n| n.to_str()).expect("name");
                assert_eq!(stored_file_name(name, got), name, "a fitting name is kept");
            }
            other => wrong.push(format!("{}: {other:?}, expected {want:?}", path.display())),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_hostile_or_unaccepted_file_is_unsupported() {
    let files = corpus("reject");
    assert!(files.len() >= 60, "the corpus is there: {}", files.len());
    let accepted: Vec<String> = files
        .iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).expect("read");
            detect(&bytes)
                .ok()
                .map(|f| format!("{}: accepted as {f:?}", path.display()))
        })
        .collect();
    assert!(accepted.is_empty(), "{}", accepted.join("\n"));
}
