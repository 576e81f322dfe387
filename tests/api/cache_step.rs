//! The cache step of a publish against real Redis (standalone, Sentinel, Cluster) and Upstash
//! REST (edgepub's proxy in front of real Redis): exact keys, values and TTLs in both modes.
//! A Redis that is down: `cache_outage`.

use crate::support::cache::start_proxy;
use crate::support::cache_step::{cache_done, get, set_cache};
use crate::support::{cluster_nodes, redis_url, run_job, sentinel_url, spawn_with, Backend};
use edgepub::cache::{self, Cache, Cmd, Reply};
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

crate::both_backends!(
    prime_and_invalidate_on_standalone,
    prime_and_invalidate_on_sentinel,
    prime_and_invalidate_on_cluster,
    prime_and_invalidate_on_upstash
);

#[derive(Clone, Copy)]
enum Kind {
    Standalone,
    Sentinel,
    Cluster,
    Upstash,
}

const PROXY_TOKEN: &str = "cache-step-proxy-token-0123";

fn unique_tenant() -> String {
    format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

async fn settings_for(kind: Kind) -> (Value, Box<dyn Cache>) {
    let (body, s) = match kind {
        Kind::Upstash => {
            let url = start_proxy(PROXY_TOKEN).await;
            (
                json!({"redis_type": "upstash", "redis_url": url, "redis_token": PROXY_TOKEN}),
                CacheSettings {
                    redis_type: RedisType::Upstash,
                    redis_url: Some(url),
                    redis_token: Some(PROXY_TOKEN.into()),
                    ..Default::default()
                },
            )
        }
        other => {
            let url = match other {
                Kind::Standalone => redis_url(),
                Kind::Sentinel => sentinel_url(),
                _ => cluster_nodes(),
            };
            (
                json!({"redis_type": "tcp", "redis_url": url}),
                CacheSettings {
                    redis_type: RedisType::Tcp,
                    redis_url: Some(url),
                    ..Default::default()
                },
            )
        }
    };
    let client = cache::connect(&s, NetPolicy::default(), Duration::from_secs(5))
        .await
        .expect("connect to the test cache");
    (body, client)
}

async fn ttl(cache: &dyn Cache, key: &str) -> i64 {
    match cache.one(Cmd::new(["TTL", key])).await.unwrap() {
        Reply::Int(n) => n,
        other => panic!("TTL {key}: {other:?}"),
    }
}

/// The compiled page as the release stamps it.
fn stamped(compiled: &Value, version: i64, at: &str) -> Value {
    let mut p = compiled.clone();
    p["version"] = json!(version);
    p["publishedAt"] = json!(at);
    p
}

async fn scenario(backend: Backend, kind: Kind) {
    let app = spawn_with(backend, &[]).await;
    let tenant = unique_tenant();
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201, "{project}");
    let (body, cache) = settings_for(kind).await;
    set_cache(&app, body.clone(), "prime").await;
    let home = app
        .page(&project, json!({"slug": "home", "name": "Home", "title": "Welcome", "is_homepage": true,
            "layout_data": {"content": [{"id": "h", "type": "Heading", "props": {"text": "Hi ✓"}}]}}))
        .await;
    let about = app
        .page(&project, json!({"slug": "about", "name": "About"}))
        .await;
    let seo = [
        format!("seo:sitemap:{tenant}"),
        format!("seo:llms:{tenant}"),
    ];
    for k in &seo {
        cache.set_ex(k, "<xml/>", 300).await.unwrap();
    }

    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let job = cache_done(&app, &job).await;
    assert_eq!(job["cache"]["operations"], 5, "{job}");
    let (_, dry) = app.post("/api/projects/site/compile", json!({})).await;
    let (_, release) = app
        .get(&format!(
            "/api/releases/{}",
            job["release_id"].as_str().unwrap()
        ))
        .await;
    let at = release["pages"][0]["published_at"]
        .as_str()
        .unwrap()
        .to_string();
    let compiled = |id: &Value| {
        dry["pages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == *id)
            .unwrap()
            .clone()
    };
    for (page, slug) in [(&home, "home"), (&about, "about")] {
        let c = stamped(&compiled(&page["id"]), 1, &at);
        let mut expected = json!({"id": c["id"], "name": c["name"], "slug": c["slug"], "isPublic": c["isPublic"],
            "isHomepage": c["isHomepage"], "layoutData": c["layoutData"], "createdAt": at, "updatedAt": at});
        for opt in ["title", "description", "cssBundle"] {
            if let Some(v) = c.get(opt) {
                expected[opt] = v.clone();
            }
        }
        let key = format!("page:{tenant}:{slug}");
        assert_eq!(get(cache.as_ref(), &key).await, Some(expected), "{key}");
        let t = ttl(cache.as_ref(), &key).await;
        assert!((90..=120).contains(&t), "{key} TTL {t}");
    }
    let home_key = format!("page:{tenant}:__homepage__");
    assert_eq!(
        get(cache.as_ref(), &home_key).await,
        Some(stamped(&compiled(&home["id"]), 1, &at))
    );
    for k in &seo {
        assert_eq!(cache.get(k).await.unwrap(), None, "{k} deleted");
    }

    // Invalidate: a changed page's key goes; unchanged pages and the homepage stay.
    set_cache(&app, body, "invalidate").await;
    let id = about["id"].as_str().unwrap();
    app.send(
        Method::PATCH,
        &format!("/api/pages/{id}"),
        Some(json!({"title": "About us"})),
    )
    .await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    cache_done(&app, &job).await;
    assert_eq!(
        get(cache.as_ref(), &format!("page:{tenant}:about")).await,
        None
    );
    assert!(get(cache.as_ref(), &format!("page:{tenant}:home"))
        .await
        .is_some());
    assert!(get(cache.as_ref(), &home_key).await.is_some());

    // Unpublishing the homepage removes its keys; nothing of another tenant was touched.
    let hid = home["id"].as_str().unwrap();
    let job = run_job(&app, &format!("/api/pages/{hid}/unpublish"), json!({})).await;
    cache_done(&app, &job).await;
    assert_eq!(
        get(cache.as_ref(), &format!("page:{tenant}:home")).await,
        None
    );
    assert_eq!(get(cache.as_ref(), &home_key).await, None);
}

async fn prime_and_invalidate_on_standalone(backend: Backend) {
    scenario(backend, Kind::Standalone).await
}

async fn prime_and_invalidate_on_sentinel(backend: Backend) {
    scenario(backend, Kind::Sentinel).await
}

async fn prime_and_invalidate_on_cluster(backend: Backend) {
    scenario(backend, Kind::Cluster).await
}

async fn prime_and_invalidate_on_upstash(backend: Backend) {
    scenario(backend, Kind::Upstash).await
}
