//! Logs, request ids and metrics.
//!
//! Every request runs inside a `request` span carrying its id (the incoming `x-request-id`
//! when it is sane, else a new UUID) and its route template, so every log line of that request
//! can be found by id; the id is returned in the response's `x-request-id` header.

use crate::config::LogFormat;
use crate::store::PoolStats;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::time::Instant;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Installs the global subscriber. Logs go to stderr so stdout stays clean for command output.
/// The filter comes from `EDGEPUB_LOG` or `RUST_LOG` (default `info`).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("EDGEPUB_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Colour codes only for a person at a terminal; in a file or a log collector they are noise.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    // A second init (tests start many servers in one process) keeps the first subscriber.
    drop(result);
}

#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    outbox: IntGaugeVec,
    drift_pages: IntGaugeVec,
    verified_age: IntGaugeVec,
}

/// The cache outbox as `/metrics` shows it.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxGauge {
    pub pending: i64,
    pub oldest_age_secs: i64,
}

/// One project's last verification pass as `/metrics` shows it.
#[derive(Debug, Clone, Default)]
pub struct DriftGauge {
    pub project: String,
    pub age_secs: i64,
    /// (target name, drifted pages); the cache is the target `cache`.
    pub pages: Vec<(String, i64)>,
}

impl Metrics {
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("edgepub".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by method and route template",
            ),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        let outbox = IntGaugeVec::new(
            Opts::new(
                "cache_outbox",
                "Cache outbox: pending operations (`pending`) and the age in seconds of the oldest one (`oldest_age_seconds`)",
            ),
            &["measure"],
        )?;
        registry.register(Box::new(pool.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        let drift_pages = IntGaugeVec::new(
            Opts::new(
                "drift_pages",
                "Pages (or, for target `cache`, keys) that drifted from the last release, as the last verification pass found",
            ),
            &["project", "target"],
        )?;
        let verified_age = IntGaugeVec::new(
            Opts::new(
                "verification_last_run_age_seconds",
                "Seconds since the project's last verification pass",
            ),
            &["project"],
        )?;
        registry.register(Box::new(drift_pages.clone()))?;
        registry.register(Box::new(verified_age.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool,
            outbox,
            drift_pages,
            verified_age,
        })
    }

    pub fn render(&self, stats: PoolStats, outbox: OutboxGauge, drift: &[DriftGauge]) -> String {
        // Rebuilt from the database on each scrape: a pass may have run in another process,
        // and a project gone or turned off must drop out.
        self.drift_pages.reset();
        self.verified_age.reset();
        for d in drift {
            self.verified_age
                .with_label_values(&[&d.project])
                .set(d.age_secs);
            for (target, pages) in &d.pages {
                self.drift_pages
                    .with_label_values(&[&d.project, target])
                    .set(*pages);
            }
        }
        self.outbox
            .with_label_values(&["pending"])
            .set(outbox.pending);
        self.outbox
            .with_label_values(&["oldest_age_seconds"])
            .set(outbox.oldest_age_secs);
        let idle = i64::from(stats.idle);
        self.pool.with_label_values(&["idle"]).set(idle);
        self.pool
            .with_label_values(&["active"])
            .set(i64::from(stats.size) - idle);
        self.pool
            .with_label_values(&["total"])
            .set(i64::from(stats.size));
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "could not encode metrics");
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(seconds);
    }
}

/// The request's id, in the request's extensions for handlers (the audit log) to read.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn incoming_id(req: &ServiceRequest) -> Option<String> {
    let v = req.headers().get(REQUEST_ID)?.to_str().ok()?;
    let sane = !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic());
    sane.then(|| v.to_string())
}

/// Request id, span, access log and metrics for every request.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = incoming_id(&req).unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    actix_web::HttpMessage::extensions_mut(&req).insert(RequestId(request_id.clone()));
    // Route templates, never raw paths, keep metric cardinality bounded.
    let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let metrics = req
        .app_data::<web::Data<Metrics>>()
        .map(|m| m.get_ref().clone());
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %method, route = %route);
    let started = Instant::now();
    let result = next.call(req).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let _entered = span.enter();
    let status = match &result {
        Ok(res) => res.status(),
        Err(e) => e.as_response_error().status_code(),
    };
    if let Some(m) = &metrics {
        m.observe(&method, &route, status.as_u16(), elapsed.as_secs_f64());
    }
    tracing::info!(
        status = status.as_u16(),
        latency_ms = elapsed.as_millis() as u64,
        "request completed"
    );
    let mut res = result?;
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, v);
    }
    Ok(res)
}
