//! Preview links: a draft compiled and kept behind an unguessable token, served without a
//! bearer token until it expires (injected clock) or is revoked; kept in the project's real
//! Redis with a matching TTL when it has a cache, in the database otherwise or when that
//! Redis is down.

use crate::support::{db_texts, error_code, read, redis_url, spawn_clocked, Backend, TestApp};
use edgepub::cache::{self, Cache};
use edgepub::clock::ManualClock;
use edgepub::domain::settings::{CacheSettings, RedisType};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

crate::both_backends!(
    previews_are_created_served_listed_revoked_and_expire,
    previews_refuse_bad_input,
    previews_live_in_redis_with_their_ttl,
    previews_fall_back_to_the_database_when_redis_is_down,
    a_redis_preview_is_revoked_even_while_redis_is_down,
);

async fn site(app: &TestApp) -> (Value, Value) {
    let project = app.project("Site").await;
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "title": "Draft title", "is_homepage": true,
                "layout_data": {"content": [{"id": "h", "type": "Heading", "props": {"text": "Draft"}}]}}),
        )
        .await;
    (project, page)
}

async fn preview(app: &TestApp, page: &Value, body: Value) -> (u16, Value) {
    app.post(
        &format!("/api/pages/{}/preview", page["id"].as_str().unwrap()),
        body,
    )
    .await
}

/// `GET /preview/{token}` without any bearer token.
async fn open(app: &TestApp, token: &str) -> (u16, Value) {
    read(
        app.anon(Method::GET, &format!("/preview/{token}"))
            .send()
            .await
            .unwrap(),
    )
    .await
}

async fn set_cache(app: &TestApp, url: &str) {
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(json!({"redis_type": "tcp", "redis_url": url, "redis_enabled": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

async fn redis(url: &str) -> Box<dyn Cache> {
    let s = CacheSettings {
        redis_type: RedisType::Tcp,
        redis_url: Some(url.into()),
        ..Default::default()
    };
    cache::connect(&s, Default::default(), Duration::from_secs(5))
        .await
        .unwrap()
}

async fn previews_are_created_served_listed_revoked_and_expire(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let (project, page) = site(&app).await;
    let page_id = page["id"].as_str().unwrap();

    let (s, first) = preview(&app, &page, json!({})).await;
    assert_eq!(s, 201, "{first}");
    let token = first["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("pv_") && token.len() == 3 + 64, "{token}");
    assert_eq!(first["storage"], "database");
    assert_eq!(first["path"], format!("/preview/{token}"));
    assert!(first["url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/preview/{token}")));
    let created =
        chrono::DateTime::parse_from_rfc3339(first["created_at"].as_str().unwrap()).unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(first["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!(
        (expires - created).num_seconds(),
        3600,
        "default TTL is one hour"
    );

    // Served without a token: the compiled draft, stamped with the draft's version.
    let (s, compiled) = open(&app, &token).await;
    assert_eq!(s, 200, "{compiled}");
    assert_eq!(compiled["slug"], "home");
    assert_eq!(compiled["title"], "Draft title");
    assert_eq!(compiled["version"], page["version"]);
    assert!(compiled["publishedAt"].is_string(), "{compiled}");
    assert!(
        compiled["layoutData"].to_string().contains("Draft"),
        "{compiled}"
    );

    // Only a hash of the token is stored.
    let hashes = db_texts(&app, "SELECT token_hash FROM previews").await;
    assert_eq!(hashes.len(), 1);
    assert_ne!(hashes[0].as_deref(), Some(token.as_str()));
    assert!(!hashes[0].as_deref().unwrap().contains(&token[3..]));

    // A later save does not change a link already made (it is a snapshot).
    let (s, saved) = app
        .send(
            Method::PATCH,
            &format!("/api/pages/{page_id}"),
            Some(json!({"title": "Newer"})),
        )
        .await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(open(&app, &token).await.1["title"], "Draft title");
    let (s, short) = preview(&app, &page, json!({"ttl_secs": 60})).await;
    assert_eq!(s, 201, "{short}");
    let short_token = short["token"].as_str().unwrap().to_string();
    assert_eq!(open(&app, &short_token).await.1["title"], "Newer");
    assert_eq!(short["page_version"], saved["version"]);

    // Listed per project and per page, newest first, never with a token.
    let (s, list) = app.get("/api/projects/site/previews").await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["id"], short["id"]);
    assert!(!list.to_string().contains(&token[3..]) && !list.to_string().contains("\"token\""));
    let (_, by_page) = app.get(&format!("/api/pages/{page_id}/previews")).await;
    assert_eq!(by_page["total"], 2);
    let (_, filtered) = app
        .get(&format!("/api/projects/site/previews?page={page_id}"))
        .await;
    assert_eq!(filtered["total"], 2);

    // Expiry (the injected clock moves; nothing sleeps): the short one is gone, alike an
    // unknown token.
    clock.advance(chrono::Duration::seconds(61));
    let (s, gone) = open(&app, &short_token).await;
    assert_eq!(s, 404, "{gone}");
    assert_eq!(error_code(&gone), "not_found");
    let unknown = format!("pv_{}", "0".repeat(64));
    assert_eq!(open(&app, &unknown).await, (s, gone.clone()));
    assert_eq!(open(&app, "nonsense").await.0, 404);
    assert_eq!(open(&app, &token).await.0, 200);
    assert_eq!(app.get("/api/projects/site/previews").await.1["total"], 1);

    // Revocation ends a link at once.
    let id = first["id"].as_str().unwrap();
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/previews/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(open(&app, &token).await, (404, gone));
    assert_eq!(app.get("/api/projects/site/previews").await.1["total"], 0);
    let (s, _) = app
        .send(Method::DELETE, "/api/previews/not-a-uuid", None)
        .await;
    assert_eq!(s, 404);

    // Expired rows are pruned (here by the next create).
    clock.advance(chrono::Duration::hours(2));
    assert_eq!(preview(&app, &page, json!({})).await.0, 201);
    assert_eq!(
        db_texts(&app, "SELECT storage FROM previews").await.len(),
        1
    );
    let _ = project;
}

async fn previews_refuse_bad_input(backend: Backend) {
    let app = spawn_clocked(backend, &[], edgepub::clock::system()).await;
    let (project, page) = site(&app).await;
    for ttl in [json!(0), json!(604_801), json!(-5)] {
        let (s, b) = preview(&app, &page, json!({"ttl_secs": ttl})).await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(
            b["error"]["details"]["fields"][0]["path"], "/ttl_secs",
            "{b}"
        );
    }
    let (s, b) = preview(&app, &page, json!({"ttl_secs": "soon"})).await;
    assert_eq!((s, error_code(&b)), (422, "validation_failed"));
    assert_eq!(
        preview(&app, &page, json!({"ttl_secs": 604_800})).await.0,
        201
    );

    // No bearer token: 401; an unknown page: 404.
    let res = app
        .anon(
            Method::POST,
            &format!("/api/pages/{}/preview", page["id"].as_str().unwrap()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let (s, _) = app
        .post(
            &format!("/api/pages/{}/preview", uuid::Uuid::new_v4()),
            json!({}),
        )
        .await;
    assert_eq!(s, 404);

    // A draft with compile errors is refused, naming them.
    let broken = app
        .page(
            &project,
            json!({"slug": "broken", "name": "Broken", "layout_data": {"content": [
                {"id": "a", "type": "Text"}, {"id": "a", "type": "Text"}]}}),
        )
        .await;
    let (s, b) = preview(&app, &broken, json!({})).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        b["error"]["details"]["fields"][0]["code"], "duplicate_component_id",
        "{b}"
    );

    // A deleted page has no preview.
    let id = page["id"].as_str().unwrap();
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/pages/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(preview(&app, &page, json!({})).await.0, 404);
}

async fn previews_live_in_redis_with_their_ttl(backend: Backend) {
    let app = spawn_clocked(backend, &[], edgepub::clock::system()).await;
    let (project, page) = site(&app).await;
    set_cache(&app, &redis_url()).await;
    let (s, created) = preview(&app, &page, json!({"ttl_secs": 600})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["storage"], "redis");
    let key = format!(
        "edgepub:preview:{}:{}",
        project["id"].as_str().unwrap(),
        created["id"].as_str().unwrap()
    );
    let r = redis(&redis_url()).await;
    let ttl = r
        .one(edgepub::cache::Cmd::new(["TTL", key.as_str()]))
        .await
        .unwrap();
    let edgepub::cache::Reply::Int(ttl) = ttl else {
        panic!("TTL: {ttl:?}")
    };
    assert!((590..=600).contains(&ttl), "TTL {ttl}");
    let stored: Value = serde_json::from_str(&r.get(&key).await.unwrap().unwrap()).unwrap();
    let token = created["token"].as_str().unwrap();
    let (s, served) = open(&app, token).await;
    assert_eq!(s, 200, "{served}");
    assert_eq!(served, stored);
    assert_eq!(served["slug"], "home");
    // The database holds no copy of the page.
    assert_eq!(db_texts(&app, "SELECT body FROM previews").await, [None]);

    // Revoking removes the Redis copy too.
    let id = created["id"].as_str().unwrap();
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/previews/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(r.get(&key).await.unwrap(), None);
    assert_eq!(open(&app, token).await.0, 404);
}

async fn previews_fall_back_to_the_database_when_redis_is_down(backend: Backend) {
    let app = spawn_clocked(backend, &[], edgepub::clock::system()).await;
    let (_, page) = site(&app).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    set_cache(&app, &format!("redis://127.0.0.1:{closed}")).await;
    let (s, created) = preview(&app, &page, json!({})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["storage"], "database");
    let (s, served) = open(&app, created["token"].as_str().unwrap()).await;
    assert_eq!(s, 200, "{served}");
    assert_eq!(served["slug"], "home");
}

async fn a_redis_preview_is_revoked_even_while_redis_is_down(backend: Backend) {
    let app = spawn_clocked(backend, &[], edgepub::clock::system()).await;
    let (_, page) = site(&app).await;
    let mut server = crate::support::ratelimit::RedisProc::start();
    set_cache(&app, &format!("redis://127.0.0.1:{}", server.port)).await;
    let (s, created) = preview(&app, &page, json!({})).await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["storage"], "redis");
    let token = created["token"].as_str().unwrap();
    assert_eq!(open(&app, token).await.0, 200);

    // The page lives only in Redis: while it is down the link cannot be served (it says so),
    server.stop();
    let (s, b) = open(&app, token).await;
    assert_eq!((s, error_code(&b)), (502, "upstream_unavailable"), "{b}");
    // but revoking works, and the link is over whatever Redis still holds.
    let id = created["id"].as_str().unwrap();
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/previews/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(open(&app, token).await.0, 404);
}
