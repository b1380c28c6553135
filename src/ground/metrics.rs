//! Prometheus metrics: the process's recorder and the counters every layer records
//! (the HTTP layer serves them on their own listener, never on the API's).
//!
//! Labels never carry user input: routes are the router's templates (`/api/{user_id}/tasks`),
//! never raw paths, so no user id reaches a label. Without a listener nothing is recorded.

use axum::http::{Method, StatusCode};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const REQUESTS: &str = "taskgate_http_requests_total";
const DURATION: &str = "taskgate_http_request_duration_seconds";
const AUTH_REFUSALS: &str = "taskgate_auth_refusals_total";
const CONNECTIONS_REFUSED: &str = "taskgate_connections_refused_total";
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static ENABLED: AtomicBool = AtomicBool::new(false);
static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Whether metrics are being recorded (a metrics listener is configured).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Installs the process's recorder (once) and starts recording.
pub fn install() -> std::io::Result<()> {
    let handle = match HANDLE.get() {
        Some(handle) => handle.clone(),
        None => {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(DURATION.into()), LATENCY_BUCKETS)
                .map_err(std::io::Error::other)?
                .build_recorder();
            let handle = recorder.handle();
            // Another copy of the service in this process (tests) may have installed one first.
            let _ = metrics::set_global_recorder(recorder);
            HANDLE.get_or_init(|| handle).clone()
        }
    };
    describe();
    metrics::gauge!("taskgate_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    ENABLED.store(true, Ordering::Relaxed);
    tokio::spawn(async move {
        // Histograms keep their buckets bounded only when upkeep runs.
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            handle.run_upkeep();
        }
    });
    Ok(())
}

/// Everything recorded, in Prometheus' text format.
pub fn render() -> String {
    HANDLE.get().map(PrometheusHandle::render).unwrap_or_default()
}

/// Sets a gauge read at render time (a queue's depth, say).
pub fn gauge(name: &'static str, value: f64) {
    metrics::gauge!(name).set(value);
}

fn describe() {
    metrics::describe_counter!(REQUESTS, "HTTP requests answered, by method, route and status");
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time from request head to response head, by method, route and status"
    );
    metrics::describe_counter!(AUTH_REFUSALS, "Requests refused by authentication, by error code");
    metrics::describe_counter!(
        CONNECTIONS_REFUSED,
        "Connections closed at once: over the cap (capacity) or over one address's share (per_address)"
    );
    metrics::describe_gauge!("taskgate_build_info", "Always 1; the version is a label");
}

/// Records one answered request.
pub fn request(method: &Method, route: &str, status: StatusCode, seconds: f64) {
    if !enabled() {
        return;
    }
    let labels = [
        ("method", method_label(method)),
        ("route", route.to_owned()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(seconds);
}

/// The method as a label; unknown methods share one value, so clients cannot mint label values.
fn method_label(method: &Method) -> String {
    match *method {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => method.as_str().to_owned(),
        _ => "OTHER".to_owned(),
    }
}

pub fn auth_refusal(error_code: &'static str) {
    if enabled() {
        metrics::counter!(AUTH_REFUSALS, "error_code" => error_code).increment(1);
    }
}

/// A connection closed at once; `reason` is `capacity` (`TASKGATE_MAX_CONNECTIONS`) or
/// `per_address` (`TASKGATE_MAX_CONNECTIONS_PER_ADDRESS`).
pub fn connection_refused(reason: &'static str) {
    if enabled() {
        metrics::counter!(CONNECTIONS_REFUSED, "reason" => reason).increment(1);
    }
}

/// Counts a named event (cache hits, database failures, ...); `name` is a static metric name.
pub fn count(name: &'static str) {
    if enabled() {
        metrics::counter!(name).increment(1);
    }
}
