//! What a test needs from its environment. Each helper returns `None`
//! after printing a `skipped:` line when the variable is unset, so the test
//! can return early visibly; `scripts/test` and `.ci/run` set every one of
//! them and fail on any `skipped:` line.

/// The PostgreSQL URL (`CASIA_TEST_POSTGRES_URL`), or `None` after printing
/// the visible skip line.
pub fn postgres_url(test: &str) -> Option<String> {
    match std::env::var("CASIA_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("{test}: skipped: CASIA_TEST_POSTGRES_URL not set");
            None
        }
    }
}

/// The Python with aiosmtpd (`CASIA_TEST_SMTP_PYTHON`), or `None` after
/// printing the visible skip line.
pub fn smtp_python(test: &str) -> Option<String> {
    match std::env::var("CASIA_TEST_SMTP_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            eprintln!(
                "{test}: skipped: CASIA_TEST_SMTP_PYTHON not set (a Python with aiosmtpd; scripts/test makes one)"
            );
            None
        }
    }
}
