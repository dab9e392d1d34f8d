//! The web pages in a real browser (issue 18): `tests/browser/walk.py`
//! drives Debian's headless Chromium through chromedriver with Python
//! selenium against `casia serve --dev-login`, walking a whole case — an
//! autorizado files a procedure with a PDF and gets the receipt, a
//! processor requests information, the autorizado answers before the
//! deadline, the processor resolves, the autorizado rates it — plus the
//! error paths (a bad NIF, a file that is not accepted, a search across two
//! months), running axe-core (`tests/browser/axe.min.js`, npm axe-core
//! 4.14.1, MPL-2.0) on every page: any WCAG 2.1 A/AA violation fails.
//!
//! Screenshots of the pages go to `CASIA_SCREENSHOTS_DIR` when set
//! (`scripts/screenshots` points it at `docs/images`), else to a folder
//! under the target directory.

use std::path::Path;
use std::process::Command;

use casia_test_support::binary::{Casia, text};
use casia_test_support::env::browser;

const BIN: &str = env!("CARGO_BIN_EXE_casia");

#[test]
fn a_whole_case_walked_in_chromium_with_no_wcag_violation() {
    let Some((python, driver)) = browser("browser::a_whole_case_walked_in_chromium") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Casia::new(BIN, dir.path()).serve(&["--dev-login"]);
    let shots = std::env::var("CASIA_SCREENSHOTS_DIR")
        .ok()
        .filter(|d| !d.is_empty())
        .map_or_else(
            || Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots"),
            Into::into,
        );
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(&python)
        // Chromium's interface language (date fields, file buttons) comes
        // from the environment on Linux.
        .env("LANGUAGE", "es")
        .env("LANG", "es_ES.UTF-8")
        .arg(here.join("tests/browser/walk.py"))
        .arg(format!("http://{}", server.addr))
        .arg(&shots)
        .arg(here.join("tests/browser/axe.min.js"))
        .arg(here.join("../casia-core/tests/corpus/attachments"))
        .arg(&driver)
        .output()
        .expect("run walk.py");
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "walk.py failed:\n{stdout}\n{}\nserver log:\n{}",
        text(&out.stderr),
        server.log()
    );
    let summary: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a summary line"))
            .expect("the summary is JSON");
    let pages = summary["pages"].as_object().expect("pages checked");
    assert!(pages.len() >= 12, "axe ran on every page: {pages:?}");
    assert!(
        pages.values().all(|v| v.as_u64() == Some(0)),
        "no WCAG 2.1 A/AA violation: {pages:?}"
    );
    for shot in summary["screenshots"].as_array().expect("screenshots") {
        let path = shot.as_str().expect("a path");
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "screenshot {path} written ({size} bytes)");
    }
    eprintln!("browser walk: {stdout}");
}
