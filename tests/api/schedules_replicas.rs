//! Schedules across processes: exactly once with two processes on one Postgres; a schedule
//! that came due while every process was down runs late at the next start and says so.

use crate::both_backends;
use crate::support::schedules::{at, settled};
use crate::support::{read, Backend, PgDb, TempDir};
use edgepub::clock::{ManualClock, SharedClock};
use reqwest::Client;
use serde_json::{json, Value};
use std::sync::Arc;

both_backends!(a_schedule_due_while_down_runs_late_at_the_next_start);

/// One edgepub process on an existing database, stoppable.
struct Proc {
    base: String,
    handle: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

const TOKEN: &str = "ep_schedules-test-admin-token-0123456789";

async fn start(url: &str, dir: &TempDir, clock: SharedClock) -> Proc {
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
    let handle = app.server_handle();
    let task = tokio::spawn(app.run_until_stopped());
    Proc { base, handle, task }
}

impl Proc {
    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .json(&body);
        read(r.send().await.unwrap()).await
    }

    async fn stop(self) {
        self.handle.stop(true).await;
        let _ = self.task.await;
    }
}

fn db_url(backend: Backend, dir: &TempDir, pg: &Option<PgDb>) -> String {
    match (backend, pg) {
        (Backend::Postgres, Some(db)) => db.url.clone(),
        _ => format!("sqlite://{}", dir.0.join("edgepub.db").display()),
    }
}

async fn a_schedule_due_while_down_runs_late_at_the_next_start(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let url = db_url(backend, &dir, &pg);
    let a = start(&url, &dir, clock.clone()).await;
    a.post("/api/projects", json!({"name": "Site"})).await;
    a.post(
        "/api/projects/site/pages",
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let (s, sched) = a
        .post(
            "/api/projects/site/schedules",
            json!({"at": at(&clock, 300), "action": "publish"}),
        )
        .await;
    assert_eq!(s, 201, "{sched}");
    a.stop().await;

    // Every process is down when it comes due, and for two hours after.
    clock.advance(chrono::Duration::hours(2));
    let b = start(&url, &dir, clock.clone()).await;
    let path = format!(
        "/api/projects/site/schedules/{}",
        sched["id"].as_str().unwrap()
    );
    let client = Client::new();
    let ran = settled(&client, &b.base, TOKEN, &path).await;
    assert_eq!(ran["state"], "ran", "{ran}");
    assert_eq!(ran["late"], true, "{ran}");
    let late = ran["late_by_secs"].as_i64().unwrap();
    assert!(
        (6900..6960).contains(&late),
        "ran about 1 h 55 min late: {ran}"
    );
    b.stop().await;
}

/// Two processes on one Postgres, both polling: every due schedule becomes exactly one job.
#[tokio::test]
async fn two_processes_run_each_schedule_exactly_once() {
    let clock = Arc::new(ManualClock::default());
    let (dir_a, dir_b) = (TempDir::new(), TempDir::new());
    let db = PgDb::create().await;
    let a = start(&db.url, &dir_a, clock.clone()).await;
    // One secret key for both (replicas share it).
    std::fs::copy(dir_a.0.join("secret.key"), dir_b.0.join("secret.key")).ok();
    let b = start(&db.url, &dir_b, clock.clone()).await;
    a.post("/api/projects", json!({"name": "Site"})).await;
    a.post(
        "/api/projects/site/pages",
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let p = if i % 2 == 0 { &a } else { &b };
        let (s, sched) = p
            .post(
                "/api/projects/site/schedules",
                json!({"at": at(&clock, 60), "action": "publish", "force": true}),
            )
            .await;
        assert_eq!(s, 201, "{sched}");
        ids.push(sched["id"].as_str().unwrap().to_string());
    }
    clock.advance(chrono::Duration::seconds(61));
    let client = Client::new();
    let mut jobs = std::collections::BTreeSet::new();
    for (i, id) in ids.iter().enumerate() {
        let base = if i % 3 == 0 { &b.base } else { &a.base };
        let ran = settled(
            &client,
            base,
            TOKEN,
            &format!("/api/projects/site/schedules/{id}"),
        )
        .await;
        assert_eq!(ran["state"], "ran", "{ran}");
        jobs.insert(ran["job_id"].as_str().unwrap().to_string());
    }
    assert_eq!(jobs.len(), 30, "one job per schedule");
    let (s, list) = read(
        client
            .get(format!(
                "{}/api/projects/site/publish-jobs?limit=500",
                a.base
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 30, "no schedule enqueued twice");
    let listed: std::collections::BTreeSet<String> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, jobs);
    a.stop().await;
    b.stop().await;
}
