//! The server secret (HTTP.md "Command line"): read from `CASIA_JWT_SECRET`,
//! or — for development — generated once and kept in a file beside the
//! database (mode 0600), which `token` reads too. Two keys are derived from
//! it with HMAC-SHA-256 under distinct labels, so the JWT key and the
//! receipt key (DOMAIN.md §8) never coincide, and receipts keep verifying
//! across restarts. The secret is never printed: `Debug` is redacted.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use casia_core::receipt::ReceiptKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The shortest secret accepted, in bytes: HS256 wants a key of at least
/// 256 bits (RFC 7518 §3.2).
pub const MIN_SECRET_BYTES: usize = casia_http::auth::MIN_HS256_SECRET_BYTES;

/// Why a secret could not be had.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("CASIA_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    #[error(
        "no signing secret: set CASIA_JWT_SECRET, or run `casia serve` with the same --database \
         first (it creates {0})"
    )]
    Missing(PathBuf),
    #[error("the secret file {path} is not usable: {detail}")]
    File { path: PathBuf, detail: String },
    #[error(
        "the secret file {0} can be read by group or others: run `chmod 600 {0}` (or set CASIA_JWT_SECRET)"
    )]
    Exposed(PathBuf),
    #[error("the system random source failed: {0}")]
    Random(String),
}

pub struct Secret(Vec<u8>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Where the secret came from, for the start-up log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Environment,
    File(PathBuf),
    Generated(PathBuf),
}

impl Secret {
    /// A secret given as text (environment or file).
    pub fn from_text(text: &str) -> Result<Secret, SecretError> {
        let t = text.trim();
        if t.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort);
        }
        Ok(Secret(t.as_bytes().to_vec()))
    }

    /// 32 random bytes, hex-encoded (the form kept on disk).
    pub fn generate() -> Result<Secret, SecretError> {
        let mut raw = [0u8; 32];
        getrandom::fill(&mut raw).map_err(|e| SecretError::Random(e.to_string()))?;
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Secret(hex.into_bytes()))
    }

    fn derive(&self, label: &[u8]) -> Vec<u8> {
        match Hmac::<Sha256>::new_from_slice(&self.0) {
            Ok(mut mac) => {
                mac.update(label);
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length.
            Err(_) => unreachable!("HMAC accepts every key length"),
        }
    }

    /// The HS256 signing key of tokens.
    pub fn jwt_key(&self) -> Vec<u8> {
        self.derive(b"casia-jwt")
    }

    /// The key the web pages' CSRF tokens are derived with (issue 18).
    pub fn web_key(&self) -> Vec<u8> {
        self.derive(b"casia-web-csrf")
    }

    /// The receipt MAC key (DOMAIN.md §8).
    pub fn receipt_key(&self) -> ReceiptKey {
        ReceiptKey::new(self.derive(b"casia-receipt"))
    }

    /// Reads the secret file; `None` when it does not exist. A file that
    /// group or others may read is refused: the secret signs every token
    /// and receipt.
    pub fn read_file(path: &Path) -> Result<Option<Secret>, SecretError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if let Ok(meta) = std::fs::metadata(path)
                && meta.permissions().mode() & 0o077 != 0
            {
                return Err(SecretError::Exposed(path.to_owned()));
            }
        }
        match std::fs::read_to_string(path) {
            Ok(text) => Secret::from_text(&text)
                .map(Some)
                .map_err(|_| SecretError::File {
                    path: path.to_owned(),
                    detail: format!("it must hold at least {MIN_SECRET_BYTES} characters"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(SecretError::File {
                path: path.to_owned(),
                detail: e.to_string(),
            }),
        }
    }

    /// Reads the secret file, or creates it (mode 0600) with a new secret.
    pub fn load_or_create(path: &Path) -> Result<(Secret, SecretSource), SecretError> {
        if let Some(s) = Secret::read_file(path)? {
            return Ok((s, SecretSource::File(path.to_owned())));
        }
        let secret = Secret::generate()?;
        let file_error = |e: std::io::Error| SecretError::File {
            path: path.to_owned(),
            detail: e.to_string(),
        };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut f) => {
                f.write_all(&secret.0).map_err(file_error)?;
                f.write_all(b"\n").map_err(file_error)?;
                Ok((secret, SecretSource::Generated(path.to_owned())))
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let s =
                    Secret::read_file(path)?.ok_or_else(|| SecretError::Missing(path.into()))?;
                Ok((s, SecretSource::File(path.to_owned())))
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// The secret for `serve`: the environment's, else the file's (created
    /// if needed).
    pub fn for_serve(
        env: Option<&str>,
        path: &Path,
    ) -> Result<(Secret, SecretSource), SecretError> {
        match env {
            Some(v) => Secret::from_text(v).map(|s| (s, SecretSource::Environment)),
            None => Secret::load_or_create(path),
        }
    }

    /// The secret for `token` and `sweep`: the environment's, else the
    /// existing file's.
    pub fn existing(env: Option<&str>, path: &Path) -> Result<Secret, SecretError> {
        match env {
            Some(v) => Secret::from_text(v),
            None => Secret::read_file(path)?.ok_or_else(|| SecretError::Missing(path.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_created_once_private_and_read_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("casia.db.secret");
        assert!(matches!(
            Secret::existing(None, &path),
            Err(SecretError::Missing(_))
        ));
        let (a, source) = Secret::load_or_create(&path).expect("create");
        assert_eq!(source, SecretSource::Generated(path.clone()));
        let (b, source) = Secret::load_or_create(&path).expect("read");
        assert_eq!(source, SecretSource::File(path.clone()));
        assert_eq!(a.jwt_key(), b.jwt_key());
        let c = Secret::existing(None, &path).expect("existing");
        assert_eq!(a.jwt_key(), c.jwt_key());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            // Readable by others: refused, with the fix in the message.
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            let e = Secret::load_or_create(&path).expect_err("exposed");
            assert!(matches!(e, SecretError::Exposed(_)), "{e}");
            assert!(e.to_string().contains("chmod 600"), "{e}");
        }
    }

    #[test]
    fn keys_are_domain_separated_and_debug_is_redacted() {
        let s = Secret::from_text("0123456789abcdef-secret-of-32-bytes").expect("secret");
        assert_ne!(s.jwt_key(), s.derive(b"casia-receipt"));
        assert!(!format!("{s:?}").contains("0123"));
        assert!(matches!(
            Secret::from_text("short"),
            Err(SecretError::TooShort)
        ));
        assert!(
            matches!(
                Secret::from_text("0123456789abcdef0123456789abcde"),
                Err(SecretError::TooShort)
            ),
            "31 bytes"
        );
        let env = Secret::for_serve(
            Some("0123456789abcdef-secret-of-32-bytes"),
            Path::new("/nonexistent/x"),
        )
        .expect("env");
        assert_eq!(env.1, SecretSource::Environment);
        assert_eq!(env.0.jwt_key(), s.jwt_key());
    }
}
