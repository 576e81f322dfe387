//! The cache clients against real Redis (standalone, Sentinel, Cluster), and flushing a
//! project's keys through the API without touching anyone else's.

use crate::support::cache::start_proxy;
use crate::support::{cluster_nodes, redis_url, run_job, sentinel_url, spawn_with, Backend};
use edgepub::cache::{self, Cache, Cmd, Reply};
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use serde_json::json;
use std::time::Duration;

async fn connect(redis_type: RedisType, url: String, token: Option<String>) -> Box<dyn Cache> {
    let s = CacheSettings {
        redis_type,
        redis_url: Some(url),
        redis_token: token,
        ..Default::default()
    };
    cache::connect(&s, NetPolicy::default(), Duration::from_secs(5))
        .await
        .expect("connect")
}

/// Every raw operation the publish pipeline relies on, with unicode values.
pub async fn exercise(cache: &dyn Cache) {
    let p = format!("edgepub-test:{}", uuid::Uuid::new_v4().simple());
    cache.ping().await.unwrap();
    let value = r#"{"title":"héllo ✓ 🚀","n":1}"#;
    cache.set_ex(&format!("{p}:a"), value, 60).await.unwrap();
    assert_eq!(
        cache.get(&format!("{p}:a")).await.unwrap().as_deref(),
        Some(value)
    );
    assert_eq!(cache.get(&format!("{p}:missing")).await.unwrap(), None);
    assert!(cache.expire(&format!("{p}:a"), 120).await.unwrap());
    assert!(!cache.expire(&format!("{p}:missing"), 120).await.unwrap());
    assert_eq!(cache.incr(&format!("{p}:n")).await.unwrap(), 1);
    assert_eq!(cache.incr(&format!("{p}:n")).await.unwrap(), 2);

    // A failing command in a pipeline fails alone.
    let replies = cache
        .exec(&[
            Cmd::new(["SET", &format!("{p}:b"), "x", "EX", "60"]),
            Cmd::new(["INCR", &format!("{p}:b")]),
            Cmd::new(["GET", &format!("{p}:b")]),
        ])
        .await
        .unwrap();
    assert_eq!(replies[0], Reply::Text("OK".into()));
    assert!(matches!(replies[1], Reply::Error(_)), "{replies:?}");
    assert_eq!(replies[2], Reply::Text("x".into()));

    let mut found = cache.scan(&format!("{p}:*")).await.unwrap();
    found.sort();
    assert_eq!(
        found,
        [format!("{p}:a"), format!("{p}:b"), format!("{p}:n")]
    );
    assert_eq!(cache.unlink(&found).await.unwrap(), 3);
    assert!(cache.scan(&format!("{p}:*")).await.unwrap().is_empty());
}

#[tokio::test]
async fn redis_standalone_client() {
    exercise(connect(RedisType::Tcp, redis_url(), None).await.as_ref()).await;
}

#[tokio::test]
async fn redis_sentinel_client() {
    exercise(connect(RedisType::Tcp, sentinel_url(), None).await.as_ref()).await;
}

#[tokio::test]
async fn redis_cluster_client() {
    let cache = connect(RedisType::Tcp, cluster_nodes(), None).await;
    exercise(cache.as_ref()).await;
    // One exec across many slots (grouped into one pipeline per slot): replies keep the
    // callers' order.
    let p = format!("edgepub-test:{}", uuid::Uuid::new_v4().simple());
    let keys: Vec<String> = (0..60).map(|i| format!("{p}:{i}")).collect();
    let mut cmds: Vec<Cmd> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            Cmd::new([
                "SET".to_string(),
                k.clone(),
                i.to_string(),
                "EX".into(),
                "60".into(),
            ])
        })
        .collect();
    cmds.extend(keys.iter().map(|k| Cmd::new(["GET", k.as_str()])));
    let replies = cache.exec(&cmds).await.unwrap();
    for (i, r) in replies[60..].iter().enumerate() {
        assert_eq!(r, &Reply::Text(i.to_string()));
    }
    cache.unlink(&keys).await.unwrap();
}

/// Flush removes the project's page and SEO keys and nothing else.
async fn flush_only_the_project(url: String) {
    let app = spawn_with(Backend::Sqlite, &[]).await;
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let other = format!("{tenant}x");
    let (s, _) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201);
    let (_, site) = app.get("/api/projects/site").await;
    app.page(
        &site,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    app.page(&site, json!({"slug": "about", "name": "About"}))
        .await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (s, b) = app
        .send(
            reqwest::Method::PUT,
            "/api/projects/site/settings/cache",
            Some(json!({"redis_type": "tcp", "redis_url": url})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let cache = connect(RedisType::Tcp, url, None).await;
    // Flush deletes the keys of the project's published pages by name, never by pattern.
    let ours = [
        format!("page:{tenant}:home"),
        format!("page:{tenant}:about"),
        format!("page:{tenant}:__homepage__"),
        format!("seo:sitemap:{tenant}"),
    ];
    let theirs = [
        format!("page:{other}:home"),
        format!("seo:sitemap:{other}"),
        format!("unrelated:{tenant}"),
        format!("page:{tenant}:not-one-of-its-pages"),
    ];
    for k in ours.iter().chain(&theirs) {
        cache.set_ex(k, "{}", 300).await.unwrap();
    }
    let (s, result) = app.post("/api/projects/site/cache/flush", json!({})).await;
    assert_eq!(s, 200, "{result}");
    assert_eq!(result["removed"], 4);
    for k in &ours {
        assert_eq!(cache.get(k).await.unwrap(), None, "{k} flushed");
    }
    for k in &theirs {
        assert!(cache.get(k).await.unwrap().is_some(), "{k} untouched");
    }
    cache.unlink(&theirs).await.unwrap();
}

#[tokio::test]
async fn flush_on_standalone() {
    flush_only_the_project(redis_url()).await;
}

#[tokio::test]
async fn flush_on_cluster() {
    flush_only_the_project(cluster_nodes()).await;
}

#[tokio::test]
async fn flush_without_cache_or_with_dead_cache() {
    let app = spawn_with(Backend::Sqlite, &[("EDGEPUB_TEST_TIMEOUT_SECS", "2")]).await;
    app.project("Site").await;
    let (s, b) = app.post("/api/projects/site/cache/flush", json!({})).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (409, Some("cache_not_configured"))
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let body = json!({"redis_type": "tcp", "redis_url": format!("redis://127.0.0.1:{closed}")});
    app.send(
        reqwest::Method::PUT,
        "/api/projects/site/settings/cache",
        Some(body),
    )
    .await;
    let (s, b) = app.post("/api/projects/site/cache/flush", json!({})).await;
    assert_eq!(
        (s, b["error"]["details"]["kind"].as_str()),
        (502, Some("refused")),
        "{b}"
    );
}

#[tokio::test]
async fn upstash_rest_client_through_the_builtin_proxy() {
    let url = start_proxy("proxy-token-0123456789").await;
    exercise(
        connect(
            RedisType::SelfHosted,
            url.clone(),
            Some("proxy-token-0123456789".into()),
        )
        .await
        .as_ref(),
    )
    .await;

    let app = spawn_with(Backend::Sqlite, &[]).await;
    app.project("Site").await;
    let test = |token: &'static str| {
        let body = json!({"redis_type": "self-hosted", "redis_url": url, "redis_token": token});
        app.post("/api/projects/site/settings/cache/test", body)
    };
    let (_, ok) = test("proxy-token-0123456789").await;
    assert_eq!(
        (ok["ok"].as_bool(), ok["server"]["kind"].as_str()),
        (Some(true), Some("upstash-rest")),
        "{ok}"
    );
    let (_, bad) = test("wrong-token-wrong-token").await;
    assert_eq!(bad["error"]["kind"], "auth", "{bad}");
}
