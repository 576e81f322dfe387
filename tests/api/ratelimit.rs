//! Rate limits of publishes, the publish webhook and previews: per project and per token,
//! in memory without a cache and in the project's real Redis with one, 429 with
//! `Retry-After` and `RateLimit-*` headers, and a Redis outage that falls back to counting
//! in memory (neither refusing everything nor letting everything through).

use crate::support::ratelimit::{assert_limited, publish, redis, set_cache, RedisProc};
use crate::support::{redis_url, spawn_clocked, Backend, TestApp};
use edgepub::cache::Cmd;
use edgepub::clock::{Clock, ManualClock};
use reqwest::Method;
use serde_json::json;
use std::sync::Arc;

crate::both_backends!(
    limits_count_in_memory_per_project_and_per_token,
    limits_count_in_redis_when_the_project_has_one,
    a_redis_outage_falls_back_to_counting_in_memory,
    the_webhook_and_previews_are_limited_too,
    limits_count_through_upstash_rest_and_on_a_cluster,
);

const LIMITS: [(&str, &str); 2] = [
    ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "4"),
    ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "3"),
];

async fn publish_token(app: &TestApp, name: &str) -> String {
    let (s, t) = app
        .post("/api/tokens", json!({"name": name, "scopes": ["publish"]}))
        .await;
    assert_eq!(s, 201, "{t}");
    t["token"].as_str().unwrap().to_string()
}

async fn limits_count_in_memory_per_project_and_per_token(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &LIMITS, clock.clone()).await;
    app.project("Site").await;
    app.project("Other").await;
    let admin = app.token.clone();

    for left in [2, 1, 0] {
        let a = publish(&app, &admin, "site").await;
        assert_eq!(a.status, 202, "{}", a.body);
        assert_eq!(a.header("ratelimit-limit"), 3);
        assert_eq!(a.header("ratelimit-remaining"), left);
    }
    let refused = publish(&app, &admin, "site").await;
    assert_limited(&refused, "token", "memory");

    // Another token still has its own allowance, until the project's is spent.
    let ci = publish_token(&app, "ci").await;
    assert_eq!(publish(&app, &ci, "site").await.status, 202);
    assert_limited(&publish(&app, &ci, "site").await, "project", "memory");
    // Another project is counted apart.
    assert_eq!(publish(&app, &admin, "other").await.status, 202);

    // Once Retry-After has passed, the token may publish again.
    let wait = publish(&app, &admin, "site").await.header("retry-after");
    clock.advance(chrono::Duration::seconds(i64::try_from(wait).unwrap()));
    let again = publish(&app, &admin, "site").await;
    assert_eq!(again.status, 202, "{}", again.body);
}

async fn limits_count_in_redis_when_the_project_has_one(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &LIMITS, clock.clone()).await;
    let site = app.project("Site").await;
    set_cache(&app, "site", &redis_url()).await;
    for _ in 0..3 {
        assert_eq!(publish(&app, &app.token, "site").await.status, 202);
    }
    assert_limited(&publish(&app, &app.token, "site").await, "token", "redis");

    // The counts are in Redis, under edgepub's own prefix, expiring.
    let r = redis(&redis_url()).await;
    let id = site["id"].as_str().unwrap();
    let keys = r.scan(&format!("edgepub:rl:{{{id}}}:*")).await.unwrap();
    assert!(keys.iter().any(|k| k.contains("}:t:")), "{keys:?}");
    // Three allowed, the refused one not counted (split over two windows if the minute
    // turned meanwhile).
    let mut counted = 0;
    for key in keys.iter().filter(|k| k.contains("}:p:")) {
        counted += r.get(key).await.unwrap().unwrap().parse::<u64>().unwrap();
        let ttl = r.one(Cmd::new(["TTL", key.as_str()])).await.unwrap();
        assert!(
            matches!(ttl, edgepub::cache::Reply::Int(t) if (60..=125).contains(&t)),
            "{ttl:?}"
        );
    }
    assert_eq!(counted, 3, "{keys:?}");

    // What another edgepub process counted in the same Redis counts here: a project whose
    // Redis counter is already at the limit is refused on its first request. (Its own tenant:
    // two projects may share a Redis database only with different tenants.)
    let (_, other) = app
        .post(
            "/api/projects",
            json!({"name": "Other", "tenant_slug": "other"}),
        )
        .await;
    set_cache(&app, "other", &redis_url()).await;
    let w = clock.now().timestamp_millis().div_euclid(60_000);
    let other_id = other["id"].as_str().unwrap();
    for window in [w, w + 1] {
        r.set_ex(&format!("edgepub:rl:{{{other_id}}}:p:{window}"), "4", 300)
            .await
            .unwrap();
    }
    assert_limited(
        &publish(&app, &app.token, "other").await,
        "project",
        "redis",
    );
}

async fn a_redis_outage_falls_back_to_counting_in_memory(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let limits = [
        ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "3"),
        ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "0"),
    ];
    let app = spawn_clocked(backend, &limits, clock.clone()).await;
    app.project("Site").await;
    let mut server = RedisProc::start();
    set_cache(&app, "site", &format!("redis://127.0.0.1:{}", server.port)).await;
    for _ in 0..3 {
        assert_eq!(publish(&app, &app.token, "site").await.status, 202);
    }
    assert_limited(&publish(&app, &app.token, "site").await, "project", "redis");

    // Redis goes away: this process still remembers what it allowed this minute.
    server.stop();
    assert_limited(
        &publish(&app, &app.token, "site").await,
        "project",
        "memory",
    );
    // It does not refuse everything: a new window opens in memory …
    clock.advance(chrono::Duration::minutes(2));
    for _ in 0..3 {
        let a = publish(&app, &app.token, "site").await;
        assert_eq!(a.status, 202, "{}", a.body);
    }
    // … and does not let everything through either.
    assert_limited(
        &publish(&app, &app.token, "site").await,
        "project",
        "memory",
    );

    // A Redis that was never reachable (a closed port) is the same.
    app.project("Closed").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_cache(&app, "closed", &format!("redis://127.0.0.1:{closed}")).await;
    for _ in 0..3 {
        assert_eq!(publish(&app, &app.token, "closed").await.status, 202);
    }
    assert_limited(
        &publish(&app, &app.token, "closed").await,
        "project",
        "memory",
    );
}

async fn the_webhook_and_previews_are_limited_too(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &LIMITS, clock.clone()).await;
    let project = app.project("Site").await;
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;

    // Previews: per token (3 a minute).
    let path = format!("/api/pages/{}/preview", page["id"].as_str().unwrap());
    for _ in 0..3 {
        assert_eq!(app.post(&path, json!({})).await.0, 201);
    }
    let res = app
        .req(Method::POST, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));

    // The webhook has no token: only the project's limit (4, one left) applies.
    let (s, secret) = app
        .post("/api/projects/site/webhook-secrets", json!({}))
        .await;
    assert_eq!(s, 201, "{secret}");
    let secret = secret["secret"].as_str().unwrap();
    let mut statuses = Vec::new();
    for i in 0..2 {
        let id = format!("msg_{i}");
        let ts = clock.now().timestamp();
        let sig = edgepub::webhooks::sign(secret, &id, ts, b"{}").unwrap();
        let res = app
            .anon(Method::POST, "/api/hooks/publish/site")
            .header("webhook-id", &id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(statuses, [202, 429]);
    // A forged call is refused before it is counted.
    let res = app
        .anon(Method::POST, "/api/hooks/publish/site")
        .header("webhook-id", "msg_x")
        .header("webhook-timestamp", clock.now().timestamp().to_string())
        .header("webhook-signature", "v1,AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn limits_count_through_upstash_rest_and_on_a_cluster(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let limits = [
        ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "3"),
        ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "2"),
    ];
    let app = spawn_clocked(backend, &limits, clock.clone()).await;
    let token = "ratelimit-proxy-token-0123";
    let proxy = crate::support::cache::start_proxy(token).await;
    app.project("Rest").await;
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/rest/settings/cache",
            Some(json!({"redis_type": "upstash", "redis_url": proxy, "redis_token": token, "redis_enabled": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    app.project("Cluster").await;
    set_cache(&app, "cluster", &crate::support::cluster_nodes()).await;
    let ci = publish_token(&app, "ci").await;
    for project in ["rest", "cluster"] {
        for token in [&app.token, &ci] {
            // Per token (2), then the project's (3) runs out for the second token.
            let a = publish(&app, token, project).await;
            assert_eq!(a.status, 202, "{project}: {}", a.body);
        }
        assert_eq!(publish(&app, &app.token, project).await.status, 202);
        assert_limited(&publish(&app, &app.token, project).await, "token", "redis");
        assert_limited(&publish(&app, &ci, project).await, "project", "redis");
    }
}
