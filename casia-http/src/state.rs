//! What every handler shares: the case service, the outbox (metrics), the
//! contact directory, the token checker, the metrics registry and the HTTP
//! limits.

use std::sync::Arc;
use std::time::Duration;

use casia_core::CaseService;
use casia_core::ports::{ContactDirectory, Outbox};

use crate::auth::Authenticator;
use crate::limits::{BodyBudget, DEFAULT_BODY_BUDGET_BYTES, ReceiptRateLimit};
use crate::metrics::Metrics;
use crate::problem::ApiError;

/// Room for the multipart framing and the JSON part beyond the attachment
/// bytes (HTTP.md "Errors": the request limit is `max_total_bytes` + 1 MiB).
pub const BODY_OVERHEAD_BYTES: u64 = 1024 * 1024;

/// How long one request may take before it is answered 503 by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How the service answers, beyond its ports: timeouts and the public base
/// URL. `casia serve` fills it from its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    /// How long one request may take before it is answered 503.
    pub request_timeout: Duration,
    /// The base URL people reach the service at, e.g.
    /// `https://casia.example.es`: receipts print their verification link
    /// under it, and `/openapi.json` names it as the server.
    pub public_url: String,
    /// Request-body bytes held in memory across all requests before new
    /// ones are answered 503 (default 256 MiB; issue 16).
    pub body_budget_bytes: u64,
    /// Receipt verifications per second and client address (default 10).
    pub receipt_rate_per_second: u32,
    /// The burst of receipt verifications per client address (default 50).
    pub receipt_rate_burst: u32,
}

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            public_url: DEFAULT_PUBLIC_URL.to_owned(),
            body_budget_bytes: DEFAULT_BODY_BUDGET_BYTES,
            receipt_rate_per_second: 10,
            receipt_rate_burst: 50,
        }
    }
}

/// The public URL when none is configured: the default listen address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// What every handler shares: the case service, the outbox, the contact directory, the token
/// checker, the metrics and the [`HttpOptions`]. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    service: CaseService,
    outbox: Arc<dyn Outbox>,
    contacts: Option<Arc<dyn ContactDirectory>>,
    auth: Authenticator,
    metrics: Metrics,
    budget: Arc<BodyBudget>,
    receipts: ReceiptRateLimit,
    options: HttpOptions,
}

impl AppState {
    /// A state with the default [`HttpOptions`] and no contact directory.
    pub fn new(service: CaseService, outbox: Arc<dyn Outbox>, auth: Authenticator) -> AppState {
        AppState::with_options(service, outbox, None, auth, HttpOptions::default())
    }

    /// The state with the contact directory (`/v1/contacts`; without one
    /// those endpoints answer 500) and `options`.
    pub fn with_options(
        service: CaseService,
        outbox: Arc<dyn Outbox>,
        contacts: Option<Arc<dyn ContactDirectory>>,
        auth: Authenticator,
        options: HttpOptions,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                service,
                outbox,
                contacts,
                auth,
                metrics: Metrics::default(),
                budget: Arc::new(BodyBudget::new(options.body_budget_bytes)),
                receipts: ReceiptRateLimit::new(
                    options.receipt_rate_per_second,
                    options.receipt_rate_burst,
                ),
                options,
            }),
        }
    }

    /// The case service.
    pub fn service(&self) -> &CaseService {
        &self.inner.service
    }

    /// The outbox, read for the metrics' gauges.
    pub fn outbox(&self) -> &Arc<dyn Outbox> {
        &self.inner.outbox
    }

    /// The contact directory; an internal error when the state has none.
    ///
    /// # Errors
    ///
    /// [`ApiError::Internal`] when the state was built without one.
    pub fn contacts(&self) -> Result<&Arc<dyn ContactDirectory>, ApiError> {
        self.inner
            .contacts
            .as_ref()
            .ok_or_else(|| ApiError::Internal("no contact directory configured".into()))
    }

    /// The bearer-token checker.
    pub fn auth(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// The request metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// The budget of request-body bytes in memory.
    pub fn body_budget(&self) -> &Arc<BodyBudget> {
        &self.inner.budget
    }

    /// The per-address limit of receipt verifications.
    pub fn receipt_rate_limit(&self) -> &ReceiptRateLimit {
        &self.inner.receipts
    }

    /// How long one request may take before it is answered 503.
    pub fn request_timeout(&self) -> Duration {
        self.inner.options.request_timeout
    }

    /// The public base URL, without a trailing slash.
    pub fn public_url(&self) -> &str {
        self.inner.options.public_url.trim_end_matches('/')
    }

    /// The request body limit, derived from the attachment limits.
    pub fn body_limit(&self) -> usize {
        let total = self
            .inner
            .service
            .rules()
            .limits
            .max_total_bytes
            .saturating_add(BODY_OVERHEAD_BYTES);
        usize::try_from(total).unwrap_or(usize::MAX)
    }
}
