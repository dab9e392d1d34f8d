//! What every handler shares: the case service, the outbox (metrics), the
//! contact directory, the token checker, the metrics registry and the HTTP
//! limits.

use std::sync::Arc;
use std::time::Duration;

use casia_core::CaseService;
use casia_core::ports::{ContactDirectory, Outbox};

use crate::auth::Authenticator;
use crate::metrics::Metrics;
use crate::problem::ApiError;

/// Room for the multipart framing and the JSON part beyond the attachment
/// bytes (HTTP.md "Errors": the request limit is `max_total_bytes` + 1 MiB).
pub const BODY_OVERHEAD_BYTES: u64 = 1024 * 1024;

/// How long one request may take before it is answered 503 by default.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler shares: the case service, the outbox, the contact directory, the token
/// checker, the metrics and the request timeout. Cheap to clone.
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
    request_timeout: Duration,
}

impl AppState {
    /// A state with the default request timeout (30 s) and no contact directory.
    pub fn new(service: CaseService, outbox: Arc<dyn Outbox>, auth: Authenticator) -> AppState {
        AppState::with_timeout(service, outbox, auth, DEFAULT_REQUEST_TIMEOUT)
    }

    /// A state whose requests time out (503) after `request_timeout`; no contact directory.
    pub fn with_timeout(
        service: CaseService,
        outbox: Arc<dyn Outbox>,
        auth: Authenticator,
        request_timeout: Duration,
    ) -> AppState {
        AppState::with_ports(service, outbox, None, auth, request_timeout)
    }

    /// The state with the contact directory too (`/v1/contacts`); without
    /// one those endpoints answer 500.
    pub fn with_ports(
        service: CaseService,
        outbox: Arc<dyn Outbox>,
        contacts: Option<Arc<dyn ContactDirectory>>,
        auth: Authenticator,
        request_timeout: Duration,
    ) -> AppState {
        AppState {
            inner: Arc::new(Inner {
                service,
                outbox,
                contacts,
                auth,
                metrics: Metrics::default(),
                request_timeout,
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

    /// How long one request may take before it is answered 503.
    pub fn request_timeout(&self) -> Duration {
        self.inner.request_timeout
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
