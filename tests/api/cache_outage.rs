//! A Redis that is down never fails or loses a publish: its operations wait and apply once
//! it is back, after a restart of edgepub too.

use crate::support::cache_step::*;
use crate::support::cli::{free_port, Server};
use crate::support::{run_job, spawn_with, Backend, PgDb, TempDir};
use edgepub::cache::{self, Cache};
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

crate::both_backends!(
    a_redis_outage_never_fails_or_loses_a_publish,
    pending_operations_apply_after_a_restart
);

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
