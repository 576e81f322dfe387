//! The database going away: while it is out of reach every request is a fast 503
//! `database_unavailable` with `Retry-After`, never a 500; once it is back, every write that
//! was acknowledged is still there and every accepted publish ends well.

use crate::support::private_pg::PrivatePg;
use crate::support::{error_code, read, spawn_on, spawn_with, wait_job, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the load saw: statuses that are not allowed, acknowledged saves, accepted jobs.
#[derive(Default)]
struct Seen {
    bad: Vec<String>,
    unavailable: usize,
    saves: Vec<(String, i64, String)>,
    jobs: Vec<String>,
}

/// Waits (up to 60 s) until what the load saw meets `cond`.
async fn until(seen: &Mutex<Seen>, what: &str, cond: impl Fn(&Seen) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond(&seen.lock().unwrap()) {
        assert!(Instant::now() < deadline, "no {what} within 60 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn check_unavailable(status: u16, headers: &reqwest::header::HeaderMap, body: &Value) -> bool {
    status == 503
        && error_code(body) == "database_unavailable"
        && headers.get("retry-after").is_some()
}

/// Saves one page over and over with `If-Match`, remembering each acknowledged version.
async fn saver(app: Arc<TestApp>, page: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    let url = format!("/api/pages/{page}");
    let mut version = 1_i64;
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let marker = format!("{page}-{n}");
        let res = app
            .req(Method::PUT, &url)
            .header("If-Match", format!("\"{version}\""))
            .json(&json!({"slug": format!("p{}", &page[..8]), "name": "P",
                          "layout_data": {"root": {"props": {"marker": marker}}, "content": []}}))
            .send()
            .await;
        let Ok(res) = res else { continue };
        let headers = res.headers().clone();
        let (s, body) = read(res).await;
        let mut seen = seen.lock().unwrap();
        match s {
            200 => {
                version = body["version"].as_i64().unwrap();
                seen.saves.push((page.clone(), version, marker));
            }
            // A save whose answer was lost may have landed: go on from where it is.
            412 => {
                version = body["error"]["details"]["current_version"]
                    .as_i64()
                    .unwrap()
            }
            _ if check_unavailable(s, &headers, &body) => seen.unavailable += 1,
            _ => seen.bad.push(format!("save: {s} {body}")),
        }
    }
}

async fn publisher(
    app: Arc<TestApp>,
    project: String,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) {
    while !stop.load(Ordering::Relaxed) {
        let res = app
            .req(Method::POST, &format!("/api/projects/{project}/publish"))
            .json(&json!({}))
            .send()
            .await;
        if let Ok(res) = res {
            let headers = res.headers().clone();
            let (s, body) = read(res).await;
            let mut seen = seen.lock().unwrap();
            match s {
                202 => seen.jobs.push(body["job_id"].as_str().unwrap().to_string()),
                _ if check_unavailable(s, &headers, &body) => seen.unavailable += 1,
                _ => seen.bad.push(format!("publish: {s} {body}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Reads while the server is down: answered within the acquire timeout (1 s) plus slack.
async fn reader(app: Arc<TestApp>, project: String, stop: Arc<AtomicBool>, seen: Arc<Mutex<Seen>>) {
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        let res = app
            .req(Method::GET, &format!("/api/projects/{project}/pages"))
            .send()
            .await;
        if let Ok(res) = res {
            let headers = res.headers().clone();
            let (s, body) = read(res).await;
            let took = started.elapsed();
            let mut seen = seen.lock().unwrap();
            match s {
                200 => {}
                _ if check_unavailable(s, &headers, &body) => {
                    seen.unavailable += 1;
                    if took > Duration::from_secs(4) {
                        seen.bad.push(format!("a 503 took {took:?}"));
                    }
                }
                _ => seen.bad.push(format!("list: {s} {body}")),
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn postgres_stopped_under_load_is_a_fast_503_and_loses_nothing() {
    let pg = Arc::new(PrivatePg::start());
    let app = Arc::new(
        spawn_on(
            &pg.url,
            &[
                ("EDGEPUB_DB_ACQUIRE_TIMEOUT_SECS", "1"),
                ("EDGEPUB_PAGE_HISTORY_LIMIT", "100000"),
                ("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", "0"),
                ("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", "0"),
                ("EDGEPUB_LEASE_SECS", "2"),
            ],
        )
        .await,
    );
    let project = app.project("Site").await;
    let project_id = project["id"].as_str().unwrap().to_string();
    let mut pages = Vec::new();
    for i in 0..3 {
        let p = app
            .page(&project, json!({"slug": format!("s{i}"), "name": "P"}))
            .await;
        pages.push(p["id"].as_str().unwrap().to_string());
    }
    // Slugs are derived from the id in the saver; set them once so a save does not rename.
    for id in &pages {
        let (s, b) = app
            .send(
                Method::PATCH,
                &format!("/api/pages/{id}"),
                Some(json!({"slug": format!("p{}", &id[..8])})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut tasks = Vec::new();
    for id in &pages {
        tasks.push(tokio::spawn(saver(
            app.clone(),
            id.clone(),
            stop.clone(),
            seen.clone(),
        )));
    }
    tasks.push(tokio::spawn(publisher(
        app.clone(),
        project_id.clone(),
        stop.clone(),
        seen.clone(),
    )));
    tasks.push(tokio::spawn(reader(
        app.clone(),
        project_id.clone(),
        stop.clone(),
        seen.clone(),
    )));

    // Each phase lasts until the load has shown what it is for, not a fixed time.
    until(&seen, "saves before the outage", |s| s.saves.len() >= 3).await;
    let p = pg.clone();
    tokio::task::spawn_blocking(move || p.down()).await.unwrap();
    until(&seen, "503s during the outage", |s| s.unavailable >= 5).await;
    let during = seen.lock().unwrap().unavailable;
    let p = pg.clone();
    tokio::task::spawn_blocking(move || p.up()).await.unwrap();
    let at_restart = seen.lock().unwrap().saves.len();
    until(&seen, "saves after the restart", |s| {
        s.saves.len() >= at_restart + 3
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }

    let seen = std::mem::take(&mut *seen.lock().unwrap());
    assert!(
        seen.bad.is_empty(),
        "answers other than success or a fast 503: {:?}",
        seen.bad
    );
    assert!(during > 0, "the outage was seen as 503s");
    // Saves went on after the restart.
    let before_and_after = seen.saves.len();
    assert!(
        before_and_after > 6,
        "saves acknowledged: {before_and_after}"
    );
    for (page, version, marker) in &seen.saves {
        let (s, v) = app
            .get(&format!("/api/pages/{page}/versions/{version}"))
            .await;
        assert_eq!(
            s, 200,
            "acknowledged version {version} of {page} is gone: {v}"
        );
        assert_eq!(v["layout_data"]["root"]["props"]["marker"], marker.as_str());
    }
    assert!(!seen.jobs.is_empty());
    for job in &seen.jobs {
        let j = wait_job(&app, job).await;
        assert_eq!(j["state"], "succeeded", "{j}");
    }
}

crate::both_backends!(a_locked_sqlite_or_a_refused_postgres_is_a_503);

/// SQLite locked by another process beyond the busy timeout, or a Postgres server that refuses
/// connections: a 503 `database_unavailable` with `Retry-After`, within the configured wait.
async fn a_locked_sqlite_or_a_refused_postgres_is_a_503(backend: Backend) {
    match backend {
        Backend::Sqlite => {
            let app = spawn_with(backend, &[("EDGEPUB_DB_BUSY_TIMEOUT_SECS", "1")]).await;
            let project = app.project("Site").await;
            use sqlx::Connection;
            let mut other = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut other)
                .await
                .unwrap();
            let started = Instant::now();
            let res = app
                .req(
                    Method::POST,
                    &format!("/api/projects/{}/pages", project["id"].as_str().unwrap()),
                )
                .json(&json!({"slug": "a", "name": "A"}))
                .send()
                .await
                .unwrap();
            let headers = res.headers().clone();
            let (s, body) = read(res).await;
            assert!(check_unavailable(s, &headers, &body), "{s} {body}");
            assert!(started.elapsed() < Duration::from_secs(5));
            sqlx::query("ROLLBACK").execute(&mut other).await.unwrap();
            let (s, body) = app
                .post(
                    &format!("/api/projects/{}/pages", project["id"].as_str().unwrap()),
                    json!({"slug": "a", "name": "A"}),
                )
                .await;
            assert_eq!(s, 201, "the database is back: {body}");
        }
        Backend::Postgres => {
            let pg = Arc::new(PrivatePg::start());
            let app = spawn_on(&pg.url, &[("EDGEPUB_DB_ACQUIRE_TIMEOUT_SECS", "1")]).await;
            app.project("Site").await;
            let p = pg.clone();
            tokio::task::spawn_blocking(move || p.down()).await.unwrap();
            let started = Instant::now();
            let res = app.req(Method::GET, "/api/projects").send().await.unwrap();
            let headers = res.headers().clone();
            let (s, body) = read(res).await;
            assert!(check_unavailable(s, &headers, &body), "{s} {body}");
            assert!(
                started.elapsed() < Duration::from_secs(4),
                "{:?}",
                started.elapsed()
            );
            let (s, _) = app.get("/readyz").await;
            assert_eq!(s, 503);
            let p = pg.clone();
            tokio::task::spawn_blocking(move || p.up()).await.unwrap();
            let (s, body) = app.get("/api/projects").await;
            assert_eq!(s, 200, "the database is back: {body}");
            assert_eq!(body["total"], 1);
        }
    }
}
