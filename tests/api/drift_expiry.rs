//! Expired is not drift: in `prime` mode a page key gone after its TTL ran out is listed as
//! `expired` and the check stays green; a key gone before then, or holding a wrong value,
//! is drift. Time is moved with the injected clock; only `edgepub verify` (another process,
//! on the system clock) waits for a real one-second TTL in Redis.

use crate::support::drift::{cache_settled, verify_out};
use crate::support::{redis_url, run_job, spawn_clocked, spawn_with, Backend, TestApp};
use edgepub::cache::{self, Cache};
use edgepub::clock::ManualClock;
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

crate::both_backends!(
    expired_keys_are_listed_not_drift,
    verify_passes_when_keys_only_expired
);

/// A published three-page project with a primed cache under its own tenant (a shared Redis).
async fn primed(app: &TestApp, ttl: i64) -> (String, Box<dyn Cache>) {
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(
                json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true,
                "cache_mode": "prime", "cache_ttl_page": ttl, "cache_ttl_jitter": 0}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for (slug, home) in [("home", true), ("a", false), ("b", false)] {
        app.page(
            &project,
            json!({"slug": slug, "name": slug, "is_homepage": home}),
        )
        .await;
    }
    let job = run_job(app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    cache_settled(app, &job).await;
    let cache = cache::connect(
        &CacheSettings {
            redis_type: RedisType::Tcp,
            redis_url: Some(redis_url()),
            ..Default::default()
        },
        NetPolicy::default(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    (tenant, cache)
}

async fn forget(cache: &dyn Cache, tenant: &str) {
    let keys: Vec<String> = ["home", "a", "b", "__homepage__"]
        .iter()
        .map(|k| format!("page:{tenant}:{k}"))
        .collect();
    cache.unlink(&keys).await.unwrap();
}

async fn cache_report(app: &TestApp) -> (bool, Value) {
    let (s, report) = app.get("/api/projects/site/drift").await;
    assert_eq!(s, 200, "{report}");
    (
        report["drifted"].as_bool().unwrap(),
        report["cache"].clone(),
    )
}

async fn expired_keys_are_listed_not_drift(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let (tenant, cache) = primed(&app, 60).await;
    let key = |k: &str| format!("page:{tenant}:{k}");
    let (drifted, c) = cache_report(&app).await;
    assert!(!drifted, "{c}");

    // Gone well before its TTL: drift.
    cache.unlink(&[key("a")]).await.unwrap();
    let (drifted, c) = cache_report(&app).await;
    assert_eq!(
        (drifted, &c["missing"], &c["expired"]),
        (true, &json!([key("a")]), &json!([])),
        "{c}"
    );
    // Its TTL has run out since it was written: expired, and the check is green.
    clock.advance(chrono::Duration::seconds(61));
    let (drifted, c) = cache_report(&app).await;
    assert_eq!(
        (drifted, &c["missing"], &c["expired"]),
        (false, &json!([]), &json!([key("a")])),
        "{c}"
    );
    // A key holding a wrong value is drift whatever the time.
    cache.set_ex(&key("b"), "{}", 300).await.unwrap();
    let (drifted, c) = cache_report(&app).await;
    assert_eq!((drifted, &c["stale"]), (true, &json!([key("b")])), "{c}");

    // A repair primes both again; the next check is clean.
    let repair = run_job(&app, "/api/projects/site/drift/repair", json!({})).await;
    assert_eq!(repair["state"], "succeeded", "{repair}");
    cache_settled(&app, &repair).await;
    let (drifted, c) = cache_report(&app).await;
    assert_eq!(
        (drifted, &c["missing"], &c["expired"], &c["stale"]),
        (false, &json!([]), &json!([]), &json!([])),
        "{c}"
    );
    forget(cache.as_ref(), &tenant).await;
}

/// `edgepub verify` from cron a while after a publish: every key has expired for real, the
/// exit code is 0 and the summary says the keys expired.
async fn verify_passes_when_keys_only_expired(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let (tenant, cache) = primed(&app, 1).await;
    let key = format!("page:{tenant}:a");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while cache.get(&key).await.unwrap().is_some() {
        assert!(std::time::Instant::now() < deadline, "{key} never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Redis expires keys by its own clock; let edgepub's clock pass the TTL too.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (ok, report, summary) = verify_out(&app);
    assert!(ok, "expired keys are not drift: {summary}");
    assert_eq!(report["drifted"], false, "{report}");
    assert_eq!(
        report["cache"]["expired"].as_array().map(Vec::len),
        Some(4),
        "{report}"
    );
    assert!(
        summary.contains("no drift") && summary.contains("4 cache keys expired"),
        "{summary}"
    );

    // A wrong value still fails it.
    cache.set_ex(&key, "{}", 300).await.unwrap();
    let (ok, _, summary) = verify_out(&app);
    assert!(!ok, "{summary}");
    assert!(summary.contains("1 stale"), "{summary}");
    forget(cache.as_ref(), &tenant).await;
}
