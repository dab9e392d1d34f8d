//! A small Prometheus text registry (HTTP.md `/metrics`): requests and
//! latencies by route and status, counted here; cases by status and the
//! outbox's pending and dead notifications, read from the store at scrape
//! time. Hand-rolled: a few metric families do not justify a metrics crate.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use casia_core::CaseState;

/// Upper bounds (seconds) of the latency histogram buckets.
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One series key: method, route template and status. The route is the
/// matched template (never the raw path, which can carry receipt codes).
type SeriesKey = (&'static str, String, u16);

#[derive(Debug, Default, Clone)]
struct Series {
    count: u64,
    sum_seconds: f64,
    /// Non-cumulative counts per bucket; the last is `+Inf`.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
}

/// The outbox gauges (DOMAIN.md §9): notifications waiting for delivery,
/// and those the relay gave up on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OutboxGauges {
    /// Notifications waiting for delivery.
    pub pending: u64,
    /// Notifications the relay gave up on.
    pub dead: u64,
}

/// The request counters.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<SeriesKey, Series>>,
}

/// Known methods keep their name; anything else is `other`, so clients
/// cannot grow the label set.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

impl Metrics {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<SeriesKey, Series>> {
        self.series.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one answered request.
    pub fn record(&self, method: &'static str, route: &str, status: u16, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&b| seconds <= b)
            .unwrap_or(LATENCY_BUCKETS.len());
        let mut map = self.lock();
        let s = map.entry((method, route.to_owned(), status)).or_default();
        s.count += 1;
        s.sum_seconds += seconds;
        s.buckets[bucket] += 1;
    }

    /// How many requests were answered for a method, route and status.
    pub fn requests(&self, method: &str, route: &str, status: u16) -> u64 {
        self.lock()
            .iter()
            .filter(|((m, r, s), _)| *m == method && r == route && *s == status)
            .map(|(_, v)| v.count)
            .sum()
    }

    /// The exposition text, with the store gauges given (`None` when the
    /// store did not answer: the gauge is then left out) and the last year
    /// the holiday calendar in force covers (`None`: it covers every year,
    /// rendered `+Inf`).
    pub fn render(
        &self,
        cases: Option<&[(CaseState, u64)]>,
        outbox: Option<OutboxGauges>,
        calendar_last_year: Option<i32>,
    ) -> String {
        let mut out = String::with_capacity(4096);
        let map = self.lock().clone();
        out.push_str("# HELP casia_http_requests_total HTTP requests answered, by method, route and status.\n");
        out.push_str("# TYPE casia_http_requests_total counter\n");
        for ((method, route, status), s) in &map {
            let _ = writeln!(
                out,
                "casia_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        out.push_str("# HELP casia_http_request_duration_seconds Time to answer HTTP requests, by method, route and status.\n");
        out.push_str("# TYPE casia_http_request_duration_seconds histogram\n");
        for ((method, route, status), s) in &map {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                escape(route)
            );
            let mut cumulative = 0;
            for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i];
                let _ = writeln!(
                    out,
                    "casia_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "casia_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "casia_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum_seconds
            );
            let _ = writeln!(
                out,
                "casia_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        if let Some(cases) = cases {
            out.push_str("# HELP casia_cases Cases in the store, by status and substatus.\n");
            out.push_str("# TYPE casia_cases gauge\n");
            for (state, n) in cases {
                let _ = writeln!(
                    out,
                    "casia_cases{{status=\"{}\",substatus=\"{}\"}} {n}",
                    state.status().as_str(),
                    state.substatus_code()
                );
            }
        }
        if let Some(outbox) = outbox {
            out.push_str(
                "# HELP casia_outbox_backlog Notifications pending in the outbox (not yet delivered).\n",
            );
            out.push_str("# TYPE casia_outbox_backlog gauge\n");
            let _ = writeln!(out, "casia_outbox_backlog {}", outbox.pending);
            out.push_str(
                "# HELP casia_outbox_dead Notifications the relay gave up on (`casia outbox list --dead`).\n",
            );
            out.push_str("# TYPE casia_outbox_dead gauge\n");
            let _ = writeln!(out, "casia_outbox_dead {}", outbox.dead);
        }
        out.push_str("# HELP casia_calendar_last_covered_year The last year the holiday calendar in force covers (DOMAIN.md §5); load the next year's holidays before it ends.\n");
        out.push_str("# TYPE casia_calendar_last_covered_year gauge\n");
        match calendar_last_year {
            Some(year) => {
                let _ = writeln!(out, "casia_calendar_last_covered_year {year}");
            }
            None => out.push_str("casia_calendar_last_covered_year +Inf\n"),
        }
        out
    }
}

/// Escapes a label value (Prometheus text format).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use casia_core::OpenSubstatus;

    #[test]
    fn counts_buckets_and_gauges_render() {
        let m = Metrics::default();
        m.record("GET", "/v1/cases/{number}", 200, Duration::from_millis(3));
        m.record("GET", "/v1/cases/{number}", 200, Duration::from_millis(300));
        m.record("POST", "/v1/cases", 422, Duration::from_secs(20));
        assert_eq!(m.requests("GET", "/v1/cases/{number}", 200), 2);
        let text = m.render(
            Some(&[(CaseState::Open(OpenSubstatus::Submitted), 4)]),
            Some(OutboxGauges {
                pending: 7,
                dead: 2,
            }),
            Some(2027),
        );
        assert!(text.contains(
            "casia_http_requests_total{method=\"GET\",route=\"/v1/cases/{number}\",status=\"200\"} 2"
        ));
        assert!(text.contains("casia_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/cases/{number}\",status=\"200\",le=\"0.005\"} 1"));
        assert!(text.contains("casia_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/cases/{number}\",status=\"200\",le=\"0.5\"} 2"));
        assert!(text.contains("casia_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/cases\",status=\"422\",le=\"10\"} 0"));
        assert!(text.contains("casia_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/cases\",status=\"422\",le=\"+Inf\"} 1"));
        assert!(text.contains("casia_cases{status=\"open\",substatus=\"submitted\"} 4"));
        assert!(text.contains("casia_outbox_backlog 7\n"));
        assert!(text.contains("# TYPE casia_outbox_dead gauge\ncasia_outbox_dead 2\n"));
        assert!(text.contains("\ncasia_calendar_last_covered_year 2027\n"));
        let without = m.render(None, None, None);
        assert!(without.contains("\ncasia_calendar_last_covered_year +Inf\n"));
        assert!(!without.contains("casia_outbox_backlog"));
        assert!(!without.contains("casia_outbox_dead"));
    }
}
