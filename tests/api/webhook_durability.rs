//! Outgoing events survive a killed process, are delivered once by two processes sharing one
//! Postgres, and the cache step's end is an event of its own.

use crate::support::cli::{run, Server};
use crate::support::subscriber::{Reply, Subscriber};
use crate::support::{read, redis_url, run_job, spawn, Backend, PgDb, TempDir};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

crate::both_backends!(the_cache_step_ending_is_an_event);

const ADMIN: &str = "hooks-admin-token-0123456789abcdef";

async fn call(base: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut r = Client::new()
        .request(method, format!("{base}{path}"))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.unwrap()).await
}

/// A project with one page and an endpoint for `url`; returns the endpoint.
async fn site_with_endpoint(base: &str, url: &str) -> Value {
    let (s, _) = call(
        base,
        Method::POST,
        "/api/projects",
        Some(json!({"name": "Site"})),
    )
    .await;
    assert_eq!(s, 201);
    let page = json!({"name": "Home", "slug": "home", "layout_data": {"content": [], "root": {}}});
    let (s, _) = call(base, Method::POST, "/api/projects/site/pages", Some(page)).await;
    assert_eq!(s, 201);
    let (s, e) = call(
        base,
        Method::POST,
        "/api/projects/site/webhook-endpoints",
        Some(json!({"url": url})),
    )
    .await;
    assert_eq!(s, 201, "{e}");
    e
}

async fn newest_delivery(base: &str, endpoint: &Value) -> Option<Value> {
    let path = format!(
        "/api/webhook-endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let (_, d) = call(base, Method::GET, &path, None).await;
    d["items"].as_array().and_then(|a| a.first().cloned())
}

#[tokio::test]
async fn a_killed_process_loses_no_delivery() {
    let dir = TempDir::new();
    let env = [("EDGEPUB_ADMIN_TOKEN", ADMIN)];
    let hook = Subscriber::start(vec![Reply::Status(503)]).await;
    let mut server = Server::start(&dir, &env);
    let endpoint = site_with_endpoint(&server.base(), &hook.url).await;
    let (s, _) = call(
        &server.base(),
        Method::POST,
        "/api/projects/site/publish",
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = newest_delivery(&server.base(), &endpoint).await;
        if d.as_ref().is_some_and(|d| d["attempts"] == 1) {
            assert_eq!(d.unwrap()["state"], "pending");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the first attempt never happened"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();

    // The next process makes the second attempt 5 s after the first, and it succeeds.
    let server = Server::start(&dir, &env);
    let got = hook.wait_for(2).await;
    assert_eq!(got[0].headers["webhook-id"], got[1].headers["webhook-id"]);
    assert_eq!(got[1].json()["type"], "publish.succeeded");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = newest_delivery(&server.base(), &endpoint).await.unwrap();
        if d["state"] == "delivered" {
            assert_eq!(d["attempts"], 2);
            assert_eq!(d["log"][0]["status_code"], 503);
            let at = |v: &Value| {
                v.as_str()
                    .unwrap()
                    .parse::<chrono::DateTime<chrono::Utc>>()
                    .unwrap()
            };
            let pause = at(&d["log"][1]["attempted_at"]) - at(&d["log"][0]["attempted_at"]);
            assert!(pause.num_milliseconds() >= 4500, "{d}");
            break;
        }
        assert!(Instant::now() < deadline, "not delivered: {d}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn two_processes_on_one_postgres_deliver_each_event_once() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("EDGEPUB_ADMIN_TOKEN", ADMIN),
    ];
    assert!(run(&dir, &env, &["migrate"]).status.success());
    let (a, b) = (Server::start(&dir, &env), Server::start(&dir, &env));
    let hook = Subscriber::start(vec![]).await;
    site_with_endpoint(&a.base(), &hook.url).await;
    let jobs = 6;
    for i in 0..jobs {
        let base = if i % 2 == 0 { a.base() } else { b.base() };
        let (s, _) = call(
            &base,
            Method::POST,
            "/api/projects/site/publish",
            Some(json!({"force": true})),
        )
        .await;
        assert_eq!(s, 202);
    }
    hook.wait_for(jobs).await;
    // Both processes poll every second; give a duplicate every chance to show up.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = hook.received();
    let ids: BTreeSet<String> = got
        .iter()
        .map(|r| r.headers["webhook-id"].clone())
        .collect();
    assert_eq!(
        (got.len(), ids.len()),
        (jobs, jobs),
        "each event exactly once"
    );
}

async fn the_cache_step_ending_is_an_event(backend: Backend) {
    let app = spawn(backend).await;
    let hook = Subscriber::start(vec![]).await;
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (s, b) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let settings = json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true, "cache_mode": "prime"});
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(settings),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let page = json!({"name": "Home", "slug": "home", "layout_data": {"content": [], "root": {}}});
    let (s, _) = app.post("/api/projects/site/pages", page).await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post(
            "/api/projects/site/webhook-endpoints",
            json!({"url": hook.url, "event_types": ["publish.cache_done"]}),
        )
        .await;
    assert_eq!(s, 201);
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    let got = hook.wait_for(1).await;
    let event = got[0].json();
    assert_eq!(event["type"], "publish.cache_done");
    assert_eq!(event["data"]["release_id"], job["release_id"]);
    assert_eq!(event["data"]["cache"]["status"], "done", "{event}");
    assert!(event["data"]["cache"]["operations"].as_u64().unwrap() >= 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        hook.received().len(),
        1,
        "once per release, and only the subscribed type"
    );
}
