//! Retry, rollback and drift repair start publishes too, so they spend the same per-project
//! and per-token budget; and the pause after a failed Redis is timed on the injected clock.

use crate::support::ratelimit::{assert_limited, publish, redis, set_cache, RedisProc};
use crate::support::{run_job, spawn_clocked, Backend, TestApp};
use edgepub::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

crate::both_backends!(
    retry_rollback_and_repair_share_the_publish_limit,
    the_pause_after_a_redis_failure_runs_on_the_injected_clock,
);

async fn post(app: &TestApp, path: &str) -> (u16, Value) {
    app.post(path, json!({})).await
}

async fn retry_rollback_and_repair_share_the_publish_limit(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let limits = [
        ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "3"),
        ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "0"),
    ];
    let app = spawn_clocked(backend, &limits, clock.clone()).await;
    let project = app.project("Site").await;
    app.page(&project, json!({"slug": "a", "name": "A"})).await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (_, releases) = app.get("/api/projects/site/releases").await;
    let release = releases["items"][0]["id"].as_str().unwrap().to_string();
    let job_id = job["id"].as_str().unwrap().to_string();

    // A rollback and a repair count like publishes: with the first publish, the budget of 3
    // is spent.
    let (s, b) = post(&app, &format!("/api/releases/{release}/rollback")).await;
    assert_eq!(s, 202, "{b}");
    let (s, b) = post(&app, "/api/projects/site/drift/repair").await;
    assert_eq!(s, 202, "{b}");
    assert_limited(
        &publish(&app, &app.token, "site").await,
        "project",
        "memory",
    );

    // And once it is spent, each of them is refused with the publishes.
    for path in [
        format!("/api/releases/{release}/rollback"),
        "/api/projects/site/drift/repair".to_string(),
        format!("/api/publish-jobs/{job_id}/retry"),
    ] {
        let res = app
            .req(reqwest::Method::POST, &path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "{path}");
        assert!(res.headers().get("retry-after").is_some(), "{path}");
    }
    clock.advance(chrono::Duration::minutes(2));
    let (s, b) = post(&app, &format!("/api/releases/{release}/rollback")).await;
    assert_eq!(s, 202, "{b}");
}

async fn the_pause_after_a_redis_failure_runs_on_the_injected_clock(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let limits = [
        ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "100"),
        ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "0"),
    ];
    let app = spawn_clocked(backend, &limits, clock.clone()).await;
    let site = app.project("Site").await;
    let id = site["id"].as_str().unwrap().to_string();
    let mut first = RedisProc::start();
    let port = first.port;
    let url = format!("redis://127.0.0.1:{port}");
    set_cache(&app, "site", &url).await;
    assert_eq!(publish(&app, &app.token, "site").await.status, 202);
    first.stop();
    // Counted in memory; the failure starts the pause.
    assert_eq!(publish(&app, &app.token, "site").await.status, 202);

    let _second = RedisProc::start_on(port);
    let pattern = format!("edgepub:rl:{{{id}}}:*");
    let r = redis(&url).await;
    // Within the pause (by the injected clock) the fresh Redis is left alone …
    assert_eq!(publish(&app, &app.token, "site").await.status, 202);
    assert!(r.scan(&pattern).await.unwrap().is_empty());
    // … and once the clock has moved past it, counting goes back to Redis, with no sleep.
    clock.advance(chrono::Duration::seconds(6));
    assert_eq!(publish(&app, &app.token, "site").await.status, 202);
    let keys = r.scan(&pattern).await.unwrap();
    assert!(!keys.is_empty(), "counted in Redis again");
}
