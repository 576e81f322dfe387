//! Continuous verification on a manual clock: a hand-edited target row and cache key are found
//! by the scheduled pass, kept and shown (API and `/metrics`), told once as `drift.detected`
//! however many passes see them, repaired by the verifier when the project allows it (an audit
//! entry says so), and told as `drift.resolved`. Two processes on one database run each pass
//! once.

use crate::support::drift::{cache_settled, sqlite3};
use crate::support::subscriber::Subscriber;
use crate::support::webhook_events::subscribe;
use crate::support::{
    db_texts, read, redis_url, run_job, spawn_clocked, Backend, PgDb, TempDir, TestApp,
};
use chrono::Duration as Span;
use edgepub::cache;
use edgepub::clock::{ManualClock, SharedClock};
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

crate::both_backends!(
    drift_is_found_told_once_repaired_and_resolved,
    two_processes_run_each_pass_once
);

pub async fn verification(app: &TestApp) -> Value {
    let (s, v) = app.get("/api/projects/site/verification").await;
    assert_eq!(s, 200, "{v}");
    v
}

/// Waits (bounded) until the project's pass `n` has its result recorded (a pass is claimed
/// before its result is written).
pub async fn passes(app: &TestApp, n: i64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v = verification(app).await;
        if v["schedule"]["passes"].as_i64() == Some(n) && v["last"]["pass"].as_i64() == Some(n) {
            return v;
        }
        assert!(Instant::now() < deadline, "pass {n} never ran: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Advances the clock past the interval and waits for pass `n`'s result.
pub async fn next_pass(app: &TestApp, clock: &ManualClock, n: i64) -> Value {
    clock.advance(Span::seconds(61));
    passes(app, n).await["last"].clone()
}

pub fn events(sub: &Subscriber) -> Vec<String> {
    sub.received()
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap_or("?").to_string())
        .collect()
}

pub async fn metrics(app: &TestApp) -> String {
    let r = app.anon(Method::GET, "/metrics").send().await.unwrap();
    r.text().await.unwrap()
}

pub fn gauge(metrics: &str, series: &str) -> Option<i64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
}

pub async fn set(app: &TestApp, body: Value) -> Value {
    let (s, v) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/verification",
            Some(body),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v
}

/// A project `site` with a primed Redis cache and two pages (`home`, `a`), published once;
/// its tenant.
pub async fn published_site(app: &TestApp) -> String {
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201, "{project}");
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true, "cache_mode": "prime"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for (slug, home) in [("home", true), ("a", false)] {
        app.page(
            &project,
            json!({"slug": slug, "name": slug, "is_homepage": home}),
        )
        .await;
    }
    let job = run_job(app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    cache_settled(app, &job).await;
    tenant
}

/// The test Redis, as the verifier's cache sees it.
pub async fn test_redis() -> Box<dyn cache::Cache> {
    cache::connect(
        &CacheSettings {
            redis_type: RedisType::Tcp,
            redis_url: Some(redis_url()),
            ..Default::default()
        },
        NetPolicy::default(),
        Duration::from_secs(5),
    )
    .await
    .unwrap()
}

async fn drift_is_found_told_once_repaired_and_resolved(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let tenant = published_site(&app).await;
    let sub = Subscriber::start(vec![]).await;
    let (endpoint, _) =
        subscribe(&app, &sub.url, json!(["drift.detected", "drift.resolved"])).await;

    // Off by default; an interval out of range is refused.
    let v = verification(&app).await;
    assert_eq!(v["schedule"]["interval_secs"], 0, "{v}");
    assert!(v["last"].is_null());
    let (s, e) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/verification",
            Some(json!({"interval_secs": 5})),
        )
        .await;
    assert_eq!(s, 422, "{e}");
    // 60.0 is the integer 60, as JSON Schema reads it.
    set(&app, json!({"interval_secs": 60.0, "repair": "off"})).await;

    // A clean first pass tells nothing.
    let last = next_pass(&app, &clock, 1).await;
    assert_eq!(last["drifted"], false, "{last}");

    // Hand edits: a row keeping its version and hash, a cache key holding another value.
    let db = app.data_dir.join("sites/site/pages.db");
    sqlite3(
        &db,
        "UPDATE published_pages SET title = 'Hacked' WHERE slug = 'a'",
    );
    let redis = test_redis().await;
    redis
        .set_ex(&format!("page:{tenant}:home"), "{}", 300)
        .await
        .unwrap();

    let last = next_pass(&app, &clock, 2).await;
    assert_eq!(last["drifted"], true, "{last}");
    assert!(
        last["summary"]
            .as_str()
            .unwrap()
            .starts_with("drift from release 1"),
        "{last}"
    );
    let target = &last["report"]["targets"][0];
    assert_eq!(target["changed"][0]["slug"], "a", "{last}");
    assert_eq!(
        last["report"]["cache"]["stale"],
        json!([format!("page:{tenant}:home")])
    );
    let name = target["name"].as_str().unwrap();
    let m = metrics(&app).await;
    assert_eq!(
        gauge(
            &m,
            &format!("edgepub_drift_pages{{project=\"site\",target=\"{name}\"}}")
        ),
        Some(1),
        "{m}"
    );
    assert_eq!(
        gauge(&m, "edgepub_drift_pages{project=\"site\",target=\"cache\"}"),
        Some(1),
        "{m}"
    );
    assert!(
        gauge(
            &m,
            "edgepub_verification_last_run_age_seconds{project=\"site\"}"
        )
        .is_some(),
        "{m}"
    );
    // A scrape reads the counts stored with the pass, never the reports: with the report
    // blanked, the gauges stay.
    let blanked = db_texts(
        &app,
        "UPDATE project_verification SET last_report = '{}' RETURNING 'blanked'",
    )
    .await;
    assert_eq!(blanked, [Some("blanked".to_string())]);
    let m = metrics(&app).await;
    assert_eq!(
        gauge(&m, "edgepub_drift_pages{project=\"site\",target=\"cache\"}"),
        Some(1),
        "{m}"
    );
    let got = sub.wait_for(1).await;
    assert_eq!(got[0].json()["type"], "drift.detected");
    assert_eq!(got[0].json()["data"]["drifted"]["cache"]["keys"], 1);

    // Drift that persists is not told again. A told change is a delivery recorded in the
    // pass's own transaction, so once the pass is recorded its deliveries are all there.
    let last = next_pass(&app, &clock, 3).await;
    assert_eq!(last["drifted"], true);
    let log = format!(
        "/api/webhook-endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let (_, deliveries) = app.get(&log).await;
    let told: Vec<&str> = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_type"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(told, ["drift.detected"], "{deliveries}");
    assert_eq!(events(&sub), ["drift.detected"]);

    // Self-repair: the verifier enqueues the repair job, and the audit log says it did.
    set(&app, json!({"interval_secs": 60, "repair": "all"})).await;
    next_pass(&app, &clock, 4).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let entry = loop {
        let (_, a) = app.get("/api/audit?project=site&action=drift.repair").await;
        if let Some(e) = a["items"].as_array().and_then(|i| i.first()) {
            break e.clone();
        }
        assert!(Instant::now() < deadline, "no repair recorded: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(entry.to_string().contains("verifier"), "{entry}");
    let job_id = entry["summary"]["job_id"].as_str().unwrap().to_string();
    let job = crate::support::wait_job(&app, &job_id).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    cache_settled(&app, &job).await;

    let last = next_pass(&app, &clock, 5).await;
    assert_eq!(last["drifted"], false, "{last}");
    let got = sub.wait_for(2).await;
    assert_eq!(got[1].json()["type"], "drift.resolved");
    let m = metrics(&app).await;
    assert_eq!(
        gauge(
            &m,
            &format!("edgepub_drift_pages{{project=\"site\",target=\"{name}\"}}")
        ),
        Some(0),
        "{m}"
    );
    next_pass(&app, &clock, 6).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(events(&sub), ["drift.detected", "drift.resolved"]);
}

const TOKEN: &str = "ep_verification-test-admin-token-0123456789";

/// One more edgepub process on an existing database.
async fn start(url: &str, dir: &TempDir, clock: SharedClock) -> String {
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", url),
        ("EDGEPUB_DATA_DIR", &dir.0.display().to_string()),
        ("EDGEPUB_ADMIN_TOKEN", TOKEN),
        ("EDGEPUB_WORKERS", "2"),
        ("EDGEPUB_DB_MAX_CONNECTIONS", "5"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let config = edgepub::config::Config::from_sources(None, &env).expect("config");
    let store = edgepub::startup::open_store(&config, clock)
        .await
        .expect("store");
    edgepub::startup::bootstrap_admin(&store, &config)
        .await
        .expect("bootstrap");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = edgepub::startup::Application::build(config, store, listener, false).expect("build");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    base
}

async fn two_processes_run_each_pass_once(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.0.join("edgepub.db").display()),
    };
    let bases = [
        start(&url, &dir, clock.clone()).await,
        start(&url, &dir, clock.clone()).await,
    ];
    let call = |m: Method, path: &str, body: Option<Value>| {
        let mut r = Client::new()
            .request(m, format!("{}{path}", bases[0]))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r
    };
    let (s, _) = read(
        call(Method::POST, "/api/projects", Some(json!({"name": "Site"})))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201);
    let (s, v) = read(
        call(
            Method::PUT,
            "/api/projects/site/settings/verification",
            Some(json!({"interval_secs": 60})),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for n in 1..=3 {
        clock.advance(Span::seconds(61));
        // Both processes poll every second: give each several chances to run the pass twice.
        tokio::time::sleep(Duration::from_millis(3500)).await;
        for base in &bases {
            let r = Client::new()
                .get(format!("{base}/api/projects/site/verification"))
                .bearer_auth(TOKEN);
            let (s, v) = read(r.send().await.unwrap()).await;
            assert_eq!(s, 200, "{v}");
            assert_eq!(v["schedule"]["passes"], n, "{v}");
            assert!(v["last"]["pass"].as_i64() <= Some(n), "{v}");
        }
    }
}
