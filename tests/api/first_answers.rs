//! Answers a new user gets through the API: errors that name the field or parameter and the
//! format it needs, every failing field at once, revoking a shared token name, listing tokens
//! without any part of a secret, and cache settings that say whether the cache answered.

use crate::support::cli::free_port;
use crate::support::{error_code, redis_url, run_job, spawn, spawn_with, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

crate::both_backends!(
    errors_name_fields_and_formats,
    a_shared_token_name_is_revoked_by_id,
    saving_cache_settings_tries_the_connection,
    a_cache_disabled_before_its_step_ends_skipped
);

fn paths(body: &Value) -> BTreeSet<String> {
    body["error"]["details"]["fields"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|e| e["path"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn message_at<'a>(body: &'a Value, path: &str) -> &'a str {
    body["error"]["details"]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|e| e["path"] == path))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no field {path}: {body}"))
}

async fn errors_name_fields_and_formats(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;

    // A type error and a rule broken elsewhere in the same body: both are listed.
    let (s, body) = app
        .post(
            "/api/projects/site/pages",
            json!({"slug": "About-Us", "name": 5, "is_public": "yes"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        paths(&body),
        BTreeSet::from(["/is_public".into(), "/name".into(), "/slug".into()]),
        "{body}"
    );
    let slug = message_at(&body, "/slug");
    assert!(
        !slug.contains('/') && slug.contains("`about-us` would do"),
        "{slug}"
    );
    let (s, body) = app
        .post("/api/projects", json!({"name": ["x"], "slug": "Bad Slug"}))
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        paths(&body),
        BTreeSet::from(["/name".into(), "/slug".into()]),
        "{body}"
    );

    // Every other body too: a type error does not hide the rules broken beside it.
    for (method, url, body, want) in [
        (
            Method::POST,
            "/api/projects/site/targets",
            json!({"kind": "local", "name": 5}),
            vec!["/name", "/path"],
        ),
        (
            Method::POST,
            "/api/projects/site/targets",
            json!({"kind": "edge", "name": "eu", "enabled": "yes"}),
            vec!["/enabled", "/token", "/url"],
        ),
        (
            Method::POST,
            "/api/projects/site/datasources",
            json!({"type": "supabase", "name": 5, "url": "not a url"}),
            vec!["/name", "/url"],
        ),
        (
            Method::POST,
            "/api/projects/site/webhook-endpoints",
            json!({"url": "ftp://x", "enabled": "yes"}),
            vec!["/enabled", "/url"],
        ),
        (
            Method::PUT,
            "/api/projects/site/settings/cache",
            json!({"redis_type": "tcp", "redis_enabled": true, "cache_ttl_data": "60"}),
            vec!["/cache_ttl_data", "/redis_url"],
        ),
        (
            Method::PUT,
            "/api/projects/site",
            json!({"name": ["x"], "app_url": "javascript:alert(1)"}),
            vec!["/app_url", "/name"],
        ),
    ] {
        let (s, got) = app.send(method, url, Some(body.clone())).await;
        assert_eq!(s, 422, "{url} {body}: {got}");
        let want: BTreeSet<String> = want.into_iter().map(String::from).collect();
        assert_eq!(paths(&got), want, "{url} {body}: {got}");
    }

    // A time field says which format it takes.
    let (s, body) = app
        .post(
            "/api/projects/site/schedules",
            json!({"at": "tomorrow 9am", "action": "publish"}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let at = message_at(&body, "/at");
    assert!(
        at.contains("RFC 3339") && at.contains("2026-12-24T09:00:00Z"),
        "{at}"
    );

    // So does a query parameter, by name.
    for (query, name, format) in [
        ("/api/audit?from=yesterday", "from", "RFC 3339"),
        ("/api/projects?limit=ten", "limit", "whole number"),
        ("/api/audit?actor=me", "actor", "UUID"),
    ] {
        let (s, body) = app.get(query).await;
        assert_eq!(s, 400, "{query}: {body}");
        assert_eq!(error_code(&body), "bad_query");
        let message = body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("`{name}`")) && message.contains(format),
            "{query}: {message}"
        );
        assert_eq!(body["error"]["details"]["parameter"], name, "{body}");
    }
}

async fn a_shared_token_name_is_revoked_by_id(backend: Backend) {
    let app = spawn(backend).await;
    let mut ids = BTreeSet::new();
    for _ in 0..2 {
        let (s, t) = app
            .post("/api/tokens", json!({"name": "ci", "scopes": ["publish"]}))
            .await;
        assert_eq!(s, 201, "{t}");
        ids.insert(t["id"].as_str().unwrap().to_string());
    }
    let (s, body) = app.send(Method::DELETE, "/api/tokens/ci", None).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(error_code(&body), "ambiguous_name");
    let listed: BTreeSet<String> = body["error"]["details"]["ids"]
        .as_array()
        .expect("details.ids")
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, ids);
    let (_, list) = app.get("/api/tokens").await;
    let active = |list: &Value| {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == "ci" && t["revoked_at"].is_null())
            .count()
    };
    assert_eq!(active(&list), 2, "nothing was revoked: {list}");

    let first = ids.iter().next().unwrap();
    let (s, revoked) = app
        .send(Method::DELETE, &format!("/api/tokens/{first}"), None)
        .await;
    assert_eq!((s, revoked["id"].as_str()), (200, Some(first.as_str())));
    // One `ci` is left active: the name now names it alone.
    let (s, _) = app.send(Method::DELETE, "/api/tokens/ci", None).await;
    assert_eq!(s, 200);
    let (_, list) = app.get("/api/tokens").await;
    assert_eq!(active(&list), 0, "{list}");

    // No token is listed with any part of its secret.
    for t in list.as_array().unwrap() {
        let shown = t["prefix"].as_str().unwrap();
        assert_eq!(shown.len(), 12, "{t}");
        assert!(!app.token.contains(shown), "{t}");
    }
}

async fn put_cache(app: &TestApp, body: Value) -> Value {
    let (s, saved) = app
        .send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
        .await;
    assert_eq!(s, 200, "{saved}");
    saved
}

async fn saving_cache_settings_tries_the_connection(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let nobody = format!("redis://127.0.0.1:{}/0", free_port());
    let saved = put_cache(
        &app,
        json!({"redis_type": "tcp", "redis_url": nobody, "redis_enabled": true}),
    )
    .await;
    assert_eq!(saved["redis_url"], nobody, "the save stands: {saved}");
    assert_eq!(saved["connection"]["reachable"], false, "{saved}");
    assert_eq!(saved["connection"]["kind"], "refused", "{saved}");
    assert!(saved["connection"]["message"].is_string(), "{saved}");

    let saved = put_cache(
        &app,
        json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true}),
    )
    .await;
    assert_eq!(
        saved["connection"],
        json!({"reachable": true, "kind": null, "message": null})
    );

    // Without a URL there is nothing to try.
    let saved = put_cache(&app, json!({"redis_type": "tcp", "redis_url": null})).await;
    assert!(saved["connection"].is_null(), "{saved}");
}

async fn a_cache_disabled_before_its_step_ends_skipped(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_CACHE_RETRY_MAX_SECS", "1")]).await;
    let project = app.project("Site").await;
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true,
               "layout_data": {"content": [{"id": "t1", "type": "Text", "props": {"text": "Hi"}}]}}),
    )
    .await;
    // A Redis nobody listens on: the step waits, retrying.
    let nobody = format!("redis://127.0.0.1:{}/0", free_port());
    let settings = json!({"redis_type": "tcp", "redis_url": nobody, "redis_enabled": true, "cache_mode": "prime"});
    put_cache(&app, settings.clone()).await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let id = job["id"].as_str().unwrap();
    assert!(
        matches!(
            job["cache"]["status"].as_str(),
            Some("pending" | "retrying")
        ),
        "{job}"
    );

    let mut off = settings;
    off["redis_enabled"] = json!(false);
    put_cache(&app, off).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let job = loop {
        let (_, job) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if job["cache"]["status"] == "skipped" {
            break job;
        }
        assert!(
            Instant::now() < deadline,
            "the step never ended skipped: {job}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let cache = &job["cache"];
    assert_eq!(cache["done"], 0, "nothing was written: {job}");
    assert_eq!(cache["last_error_kind"], "disabled", "{job}");
    assert!(
        cache["last_error"]
            .as_str()
            .is_some_and(|m| m.contains("disabled")),
        "{job}"
    );

    // A skipped step is final: the job's event stream ends instead of polling forever.
    let mut res = app
        .req(
            reqwest::Method::GET,
            &format!("/api/publish-jobs/{id}/events"),
        )
        .send()
        .await
        .unwrap();
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), res.chunk())
        .await
        .expect("the stream of a job whose cache step was skipped ends")
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("\"status\":\"skipped\""), "{text}");
}
