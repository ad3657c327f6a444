//! Prometheus metrics, rendered in the text exposition format.
//!
//! A handful of counters kept in memory; projection lag is measured at scrape time from the
//! checkpoints, so it is right even for runners in other processes.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// (method, route template, status)
type RequestKey = (String, String, u16);
/// (count, total seconds)
type RequestTally = (u64, f64);

#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<RequestKey, RequestTally>>,
    events_appended: AtomicU64,
}

impl Metrics {
    pub fn events_appended(&self, n: usize) {
        self.events_appended.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        if let Ok(mut map) = self.requests.lock() {
            let entry = map
                .entry((method.to_owned(), route.to_owned(), status))
                .or_default();
            entry.0 += 1;
            entry.1 += seconds;
        }
    }

    /// The counters in exposition format; the caller appends gauges measured at scrape time.
    pub fn render(&self, out: &mut String) {
        out.push_str("# HELP restock_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE restock_http_requests_total counter\n");
        let snapshot = self.requests.lock().map(|m| m.clone()).unwrap_or_default();
        for ((method, route, status), (count, _)) in &snapshot {
            let _ = writeln!(
                out,
                "restock_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP restock_http_request_seconds_sum Total time spent answering, by route.\n",
        );
        out.push_str("# TYPE restock_http_request_seconds_sum counter\n");
        for ((method, route, status), (_, seconds)) in &snapshot {
            let _ = writeln!(
                out,
                "restock_http_request_seconds_sum{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {seconds:.6}"
            );
        }
        out.push_str("# HELP restock_events_appended_total Events appended by this process.\n");
        out.push_str("# TYPE restock_events_appended_total counter\n");
        let _ = writeln!(
            out,
            "restock_events_appended_total {}",
            self.events_appended.load(Ordering::Relaxed)
        );
    }
}

/// Middleware counting every request under its route template (never the raw path, which would
/// let clients create unbounded label values).
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
