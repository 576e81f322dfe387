//! The cache step of a publish against real Redis (standalone, Sentinel, Cluster) and Upstash
//! REST (edgepub's proxy in front of real Redis): exact keys, values and TTLs in both modes;
//! a Redis that is down never fails a publish, and its operations apply once it is back.

use crate::cache::start_proxy;
use crate::cli::{free_port, Server};
use crate::helpers::{
    cluster_nodes, redis_url, run_job, sentinel_url, spawn_with, Backend, PgDb, TempDir, TestApp,
};
use edgepub::cache::{self, Cache, Cmd, Reply};
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

crate::both_backends!(
    prime_and_invalidate_on_standalone,
    prime_and_invalidate_on_sentinel,
    prime_and_invalidate_on_cluster,
    prime_and_invalidate_on_upstash,
    a_redis_outage_never_fails_or_loses_a_publish,
    pending_operations_apply_after_a_restart
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

async fn set_cache(app: &TestApp, mut body: Value, mode: &str) {
    body["redis_enabled"] = json!(true);
    body["cache_mode"] = json!(mode);
    body["cache_ttl_page"] = json!(100);
    body["cache_ttl_jitter"] = json!(20);
    let (s, b) = app
        .send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
        .await;
    assert_eq!(s, 200, "{b}");
}

/// Waits until the job's cache step is `done`.
async fn cache_done(app: &TestApp, job: &Value) -> Value {
    let id = job["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, job) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if job["cache"]["status"] == "done" {
            return job;
        }
        assert!(Instant::now() < deadline, "cache step not done: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(cache: &dyn Cache, key: &str) -> Option<Value> {
    cache
        .get(key)
        .await
        .unwrap()
        .map(|s| serde_json::from_str(&s).unwrap())
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

/// A private `redis-server` that can be stopped and started again on its port.
struct RedisProc {
    port: u16,
    child: Option<std::process::Child>,
    _dir: TempDir,
}

impl RedisProc {
    fn new() -> RedisProc {
        RedisProc {
            port: free_port(),
            child: None,
            _dir: TempDir::new(),
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn start(&mut self) {
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&self._dir.0)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (run scripts/test.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn client(url: &str) -> Box<dyn Cache> {
    let s = CacheSettings {
        redis_type: RedisType::Tcp,
        redis_url: Some(url.into()),
        ..Default::default()
    };
    cache::connect(&s, NetPolicy::default(), Duration::from_secs(5))
        .await
        .unwrap()
}

async fn a_redis_outage_never_fails_or_loses_a_publish(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_CACHE_RETRY_MAX_SECS", "1")]).await;
    let mut redis = RedisProc::new();
    let (s, project) = app.post("/api/projects", json!({"name": "Site"})).await;
    assert_eq!(s, 201);
    set_cache(
        &app,
        json!({"redis_type": "tcp", "redis_url": redis.url()}),
        "prime",
    )
    .await;
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;

    // Redis is down: the publish succeeds at once, its cache step waits and says why.
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, job) = app
            .get(&format!(
                "/api/publish-jobs/{}",
                first["id"].as_str().unwrap()
            ))
            .await;
        if job["cache"]["status"] == "retrying" {
            assert_eq!(job["cache"]["last_error_kind"], "refused", "{job}");
            break;
        }
        assert!(Instant::now() < deadline, "never retried: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // A second release while Redis is still down supersedes the first one's operations.
    let id = page["id"].as_str().unwrap();
    app.send(
        Method::PATCH,
        &format!("/api/pages/{id}"),
        Some(json!({"title": "Second"})),
    )
    .await;
    let second = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(second["state"], "succeeded", "{second}");
    let (_, metrics) = app
        .client
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| (0, t))
        .unwrap();
    assert!(
        metrics.contains("edgepub_cache_outbox{measure=\"pending\"}"),
        "{metrics}"
    );

    redis.start();
    cache_done(&app, &first).await;
    cache_done(&app, &second).await;
    let c = client(&redis.url()).await;
    let home = get(c.as_ref(), "page:home").await.expect("primed");
    assert_eq!(home["title"], "Second", "the newer release won: {home}");
    let homepage = get(c.as_ref(), "page:__homepage__").await.unwrap();
    assert_eq!(homepage["version"], 2);
}

async fn pending_operations_apply_after_a_restart(backend: Backend) {
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let admin = "cache-restart-admin-token-0123456789";
    let mut env = vec![
        ("EDGEPUB_ADMIN_TOKEN", admin),
        ("EDGEPUB_CACHE_RETRY_MAX_SECS", "1"),
        ("EDGEPUB_LEASE_SECS", "2"),
    ];
    if let Some(db) = &pg {
        env.push(("DATABASE_URL", db.url.as_str()));
    }
    let mut redis = RedisProc::new();
    let http = reqwest::Client::new();
    let mut server = Server::start(&dir, &env);
    let base = server.base();
    let call = |m: Method, path: &str, body: Option<Value>| {
        let mut r = http.request(m, format!("{base}{path}")).bearer_auth(admin);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    call(Method::POST, "/api/projects", Some(json!({"name": "Site"})))
        .await
        .unwrap();
    call(
        Method::PUT,
        "/api/projects/site/settings/cache",
        Some(json!({"redis_type": "tcp", "redis_url": redis.url(), "redis_enabled": true, "cache_mode": "prime"})),
    )
    .await
    .unwrap();
    call(
        Method::POST,
        "/api/projects/site/pages",
        Some(json!({"slug": "home", "name": "Home", "is_homepage": true})),
    )
    .await
    .unwrap();
    let accepted: Value = call(Method::POST, "/api/projects/site/publish", None)
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let status = accepted["status_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job: Value = call(Method::GET, &status, None)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["state"] == "succeeded" && job["cache"]["status"] == "retrying" {
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();

    redis.start();
    let server = Server::start(&dir, &env);
    let base = server.base();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let job: Value = http
            .get(format!("{base}{status}"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if job["cache"]["status"] == "done" {
            break;
        }
        assert!(Instant::now() < deadline, "{job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = client(&redis.url()).await;
    assert!(get(c.as_ref(), "page:home").await.is_some());
    assert!(get(c.as_ref(), "page:__homepage__").await.is_some());
}
