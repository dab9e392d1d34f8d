//! What a test needs from its environment. Each helper returns `None`
//! after recording a `skipped:` line when the thing is missing, so the test
//! can return early visibly: the line goes to standard error and, when
//! `CASIA_TEST_SKIP_LOG` names a file, into that file — `scripts/test`
//! counts those and `.ci/run` fails on any.

use std::io::Write as _;
use std::process::{Command, Stdio};

/// Records that `test` did not run, and why.
pub fn skip(test: &str, why: &str) {
    let line = format!("{test}: skipped: {why}");
    eprintln!("{line}");
    if let Ok(path) = std::env::var("CASIA_TEST_SKIP_LOG")
        && !path.is_empty()
        && let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// The PostgreSQL URL (`CASIA_TEST_POSTGRES_URL`), or `None` after
/// recording the skip.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("CASIA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(
                test,
                "CASIA_TEST_POSTGRES_URL not set (scripts/test sets it)",
            );
            None
        }
    }
}

/// The Python with aiosmtpd (`CASIA_TEST_SMTP_PYTHON`), or `None` after
/// recording the skip.
pub fn smtp_python(test: &str) -> Option<String> {
    match std::env::var("CASIA_TEST_SMTP_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            skip(
                test,
                "CASIA_TEST_SMTP_PYTHON not set (a Python with aiosmtpd; scripts/test makes one)",
            );
            None
        }
    }
}

/// The browser test's tools (issue 18): a Python with selenium
/// (`CASIA_TEST_BROWSER_PYTHON`) and chromedriver (`CASIA_TEST_CHROMEDRIVER`,
/// default `/usr/bin/chromedriver`, Debian's `chromium-driver`), or `None`
/// after recording the skip. `scripts/test` installs both.
pub fn browser(test: &str) -> Option<(String, String)> {
    let python = match std::env::var("CASIA_TEST_BROWSER_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            skip(
                test,
                "CASIA_TEST_BROWSER_PYTHON not set (a Python with selenium; scripts/test makes one)",
            );
            return None;
        }
    };
    let driver = std::env::var("CASIA_TEST_CHROMEDRIVER")
        .ok()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/usr/bin/chromedriver".to_owned());
    if !std::path::Path::new(&driver).exists() {
        skip(
            test,
            &format!("{driver} not found (Debian chromium-driver; scripts/test installs it)"),
        );
        return None;
    }
    Some((python, driver))
}

/// Runs a poppler-utils tool (`pdftotext`, `pdffonts`) on a PDF and returns
/// its standard output; `None` after recording the skip when the tool is
/// not installed (scripts/test installs poppler-utils).
pub fn poppler(test: &str, tool: &str, pdf: &[u8]) -> Option<String> {
    let dir = std::env::temp_dir().join(format!(
        "casia-poppler-{}-{}",
        std::process::id(),
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("document.pdf");
    std::fs::write(&file, pdf).expect("write the PDF");
    let mut command = Command::new(tool);
    command.arg(&file);
    if tool == "pdftotext" {
        command.args(["-enc", "UTF-8", "-"]);
    }
    let out = match command.stdin(Stdio::null()).output() {
        Ok(out) => out,
        Err(_) => {
            skip(
                test,
                &format!("{tool} not installed (poppler-utils; scripts/test installs it)"),
            );
            return None;
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}
