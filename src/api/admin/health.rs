//! Probes and metrics, without auth.

use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::store::verification::{Counts, LastPass};
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn routes(r: &mut Routes) {
    // Resources, so any other method is a 405 rather than an unknown route.
    r.add(resource![healthz])
        .add(resource![readyz])
        .add(resource![metrics]);
}

/// What the probes answer (the handlers write it with `json!`).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Probe {
    /// `ok`, `unavailable` or `timeout`.
    status: String,
    /// `sqlite` or `postgres` (readiness only).
    database: Option<String>,
    warnings: Option<Vec<String>>,
}

/// The process is up and serving.
#[utoipa::path(get, operation_id = "getHealth", path = "/healthz", tag = "ops", security(()), responses((status = 200, description = "Up", body = Probe)))]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers.
#[utoipa::path(get, operation_id = "getReadiness", path = "/readyz", tag = "ops", security(()),
    responses((status = 200, description = "Ready", body = Probe), (status = 503, description = "Database unreachable", body = Probe)))]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let backend = state.store.backend();
    match tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await {
        Ok(Ok(())) => {
            let mut body = json!({ "status": "ok", "database": backend });
            if let Some(w) = local_targets_warning(&state).await {
                body["warnings"] = json!([w]);
            }
            HttpResponse::Ok().json(body)
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": backend }))
        }
        Err(_) => HttpResponse::ServiceUnavailable()
            .json(json!({ "status": "timeout", "database": backend })),
    }
}

/// On a shared Postgres (several replicas), local targets are written by whichever replica
/// runs the job, into its own directory: they must share one directory.
pub async fn local_targets_warning(state: &AppState) -> Option<String> {
    if state.store.backend() != "postgres" {
        return None;
    }
    let n = state.store.enabled_local_targets().await.ok()?;
    (n > 0).then(|| {
        format!(
            "{n} enabled local publish targets on a shared Postgres: every replica must see the same \
             EDGEPUB_PAGES_ROOT (a shared volume), or such projects should publish to Turso or a push edge"
        )
    })
}

/// Prometheus text format: requests by route template and status, latency, pool gauges, the
/// cache outbox's depth and the age of its oldest pending operation, and per project the
/// pages each target drifted by and the age of the last verification pass.
#[utoipa::path(get, operation_id = "getMetrics", path = "/metrics", tag = "ops", security(()), responses((status = 200, description = "Prometheus text", content_type = "text/plain", body = String)))]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let stats = state.store.pool_stats();
    let outbox = match state.store.outbox_stats().await {
        Ok(o) => crate::telemetry::OutboxGauge {
            pending: o.pending,
            oldest_age_secs: o
                .oldest
                .map_or(0, |t| (state.store.now() - t).num_seconds().max(0)),
        },
        Err(e) => {
            tracing::warn!(error = %e, "reading the cache outbox for /metrics failed");
            crate::telemetry::OutboxGauge::default()
        }
    };
    let drift = match state.store.last_passes().await {
        Ok(passes) => passes
            .into_iter()
            .map(|p| drift_gauge(p, state.store.now()))
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "reading verification results for /metrics failed");
            Vec::new()
        }
    };
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render(stats, outbox, &drift))
}

fn drift_gauge(p: LastPass, now: chrono::DateTime<chrono::Utc>) -> crate::telemetry::DriftGauge {
    let pages = match p.counts {
        Counts::Stored(counts) => counts,
        Counts::Report(report) => counted(&report),
    };
    crate::telemetry::DriftGauge {
        project: p.project_slug,
        age_secs: (now - p.at).num_seconds().max(0),
        pages,
    }
}

/// The counts of a report stored before counts were stored with it.
fn counted(report: &serde_json::Value) -> Vec<(String, i64)> {
    let len = |v: &serde_json::Value, k: &str| v[k].as_array().map_or(0, |a| a.len() as i64);
    let mut pages = Vec::new();
    for t in report["targets"].as_array().into_iter().flatten() {
        let n = len(t, "missing") + len(t, "extra") + len(t, "changed");
        pages.push((t["name"].as_str().unwrap_or_default().to_string(), n));
    }
    let cache = &report["cache"];
    if cache.is_object() {
        pages.push(("cache".into(), len(cache, "missing") + len(cache, "stale")));
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_stored_before_its_counts_is_counted() {
        let report = json!({
            "targets": [{"name": "eu", "missing": [{}], "extra": [], "changed": [{}, {}]}],
            "cache": {"missing": [], "stale": ["page:t:home"]},
        });
        assert_eq!(
            counted(&report),
            [("eu".to_string(), 3), ("cache".to_string(), 1)]
        );
        assert_eq!(counted(&json!({"targets": [], "cache": null})), []);
    }
}
