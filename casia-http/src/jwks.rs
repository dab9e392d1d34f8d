//! The public keys of an identity provider (issue 16): a JWK set (RFC
//! 7517) read from a file or fetched from a URL, by key id. RS256, ES256
//! and EdDSA keys are kept; others are ignored. A URL is fetched again on
//! an unknown `kid` (at most once a minute, so a flood of made-up ids
//! cannot make the service hammer the provider) and every hour
//! ([`JwksKeys::refresh_hourly`]); a failed refresh keeps the keys in use.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey};

/// The least time between two fetches caused by unknown key ids.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
/// How often [`JwksKeys::refresh_hourly`] fetches the set.
pub const REFRESH_EVERY: Duration = Duration::from_secs(3600);
/// How long one fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JWK set accepted, bytes.
const MAX_SET_BYTES: usize = 1024 * 1024;

/// Where the set comes from: `--jwt-jwks PATH_OR_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwksSource {
    /// A JSON file.
    File(PathBuf),
    /// An `http://` or `https://` URL (the provider's `jwks_uri`).
    Url(String),
}

impl JwksSource {
    /// `http(s)://…` is a URL, anything else a file path.
    pub fn parse(text: &str) -> JwksSource {
        let t = text.trim();
        if t.starts_with("https://") || t.starts_with("http://") {
            JwksSource::Url(t.to_owned())
        } else {
            JwksSource::File(PathBuf::from(t))
        }
    }
}

/// Why a JWK set could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The file could not be read.
    #[error("cannot read the JWK set {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The URL could not be fetched.
    #[error("cannot fetch the JWK set {url}: {reason}")]
    Fetch {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The document is not a JWK set, or holds no usable key.
    #[error("the JWK set is not usable: {0}")]
    Invalid(String),
}

/// One usable key: its algorithm and the key.
#[derive(Clone)]
struct Key {
    algorithm: Algorithm,
    key: DecodingKey,
}

struct Loaded {
    keys: HashMap<String, Key>,
    fetched: Instant,
}

/// The keys of a JWK set by `kid`, refreshable. Cheap to share (`Arc`).
pub struct JwksKeys {
    source: JwksSource,
    loaded: RwLock<Loaded>,
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for JwksKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksKeys")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The usable keys of a set: RS256, ES256 and EdDSA keys with a `kid`
/// whose `alg`, when given, is one of those.
fn usable(set: &JwkSet) -> HashMap<String, Key> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let Some(kid) = jwk.common.key_id.clone() else {
            continue;
        };
        let algorithm = match &jwk.algorithm {
            jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
            jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(p)
                if p.curve == jsonwebtoken::jwk::EllipticCurve::P256 =>
            {
                Algorithm::ES256
            }
            jsonwebtoken::jwk::AlgorithmParameters::OctetKeyPair(p)
                if p.curve == jsonwebtoken::jwk::EllipticCurve::Ed25519 =>
            {
                Algorithm::EdDSA
            }
            _ => continue,
        };
        let declared = jwk.common.key_algorithm.map(|a| format!("{a:?}"));
        if declared.is_some_and(|d| d != format!("{algorithm:?}")) {
            continue;
        }
        if let Ok(key) = DecodingKey::from_jwk(jwk) {
            keys.insert(kid, Key { algorithm, key });
        }
    }
    keys
}

fn parse(bytes: &[u8]) -> Result<HashMap<String, Key>, JwksError> {
    let set: JwkSet =
        serde_json::from_slice(bytes).map_err(|e| JwksError::Invalid(e.to_string()))?;
    let keys = usable(&set);
    if keys.is_empty() {
        return Err(JwksError::Invalid(
            "no RS256, ES256 or EdDSA key with a kid".into(),
        ));
    }
    Ok(keys)
}

impl JwksKeys {
    /// Reads or fetches the set now; the service does not start without it.
    ///
    /// # Errors
    /// [`JwksError`] when the set cannot be read, fetched or used.
    pub async fn load(source: JwksSource) -> Result<Arc<JwksKeys>, JwksError> {
        let keys = fetch(&source).await?;
        Ok(Arc::new(JwksKeys {
            source,
            loaded: RwLock::new(Loaded {
                keys,
                fetched: Instant::now(),
            }),
            fetching: tokio::sync::Mutex::new(()),
        }))
    }

    fn lookup(&self, kid: &str, algorithm: Algorithm) -> Option<DecodingKey> {
        let loaded = self
            .loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        loaded
            .keys
            .get(kid)
            .filter(|k| k.algorithm == algorithm)
            .map(|k| k.key.clone())
    }

    /// The key `kid` for `algorithm`; an unknown id fetches the set again
    /// when the last fetch is more than a minute old.
    pub async fn key(&self, kid: &str, algorithm: Algorithm) -> Option<DecodingKey> {
        if let Some(key) = self.lookup(kid, algorithm) {
            return Some(key);
        }
        let _one_at_a_time = self.fetching.lock().await;
        if let Some(key) = self.lookup(kid, algorithm) {
            return Some(key);
        }
        let due = self
            .loaded
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .fetched
            .elapsed()
            >= REFETCH_AT_MOST_EVERY;
        if due {
            self.refresh_now().await;
        }
        self.lookup(kid, algorithm)
    }

    /// Fetches the set again; on failure the keys in use stay (logged).
    pub async fn refresh_now(&self) {
        match fetch(&self.source).await {
            Ok(keys) => {
                let mut loaded = self
                    .loaded
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                loaded.keys = keys;
                loaded.fetched = Instant::now();
            }
            Err(e) => {
                tracing::warn!(error = %e, "JWK set refresh failed; the keys in use stay");
                let mut loaded = self
                    .loaded
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                loaded.fetched = Instant::now();
            }
        }
    }

    /// Fetches the set every hour, forever (a task for `serve`).
    pub async fn refresh_hourly(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(REFRESH_EVERY);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            self.refresh_now().await;
        }
    }
}

async fn fetch(source: &JwksSource) -> Result<HashMap<String, Key>, JwksError> {
    match source {
        JwksSource::File(path) => {
            let bytes = tokio::fs::read(path)
                .await
                .map_err(|source| JwksError::Read {
                    path: path.clone(),
                    source,
                })?;
            parse(&bytes)
        }
        JwksSource::Url(url) => {
            let bytes = tokio::time::timeout(FETCH_TIMEOUT, crate::fetch::get(url, MAX_SET_BYTES))
                .await
                .map_err(|_| JwksError::Fetch {
                    url: url.clone(),
                    reason: format!("no answer within {} s", FETCH_TIMEOUT.as_secs()),
                })?
                .map_err(|reason| JwksError::Fetch {
                    url: url.clone(),
                    reason,
                })?;
            parse(&bytes)
        }
    }
}
