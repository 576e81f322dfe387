//! Publishing under stress: readers never see half a release, a killed process's job is
//! finished by the next one, and publishes of one project never overlap, also across
//! processes sharing one Postgres.

use crate::support::cli::{run, Server};
use crate::support::{read, run_job, spawn, wait_job, Backend, PgDb, TempDir};
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A ~2 KB layout carrying `marker` in every component.
fn layout(i: usize, marker: &str) -> Value {
    let items: Vec<Value> = (0..8)
        .map(|c| json!({"id": format!("c{i}-{c}"), "type": "Text", "props": {"text": format!("{marker} page {i} block {c} lorem ipsum dolor sit amet")}, "styles": {"padding": "4px"}}))
        .collect();
    json!({"content": [{"id": format!("s{i}"), "type": "Section", "children": items}], "root": {"marker": marker}})
}

/// Creates (or, given ids, rewrites) `n` pages through the API, 32 at a time.
async fn bulk(
    http: &Client,
    base: &str,
    token: &str,
    ids: Option<&[String]>,
    n: usize,
    marker: &str,
) -> Vec<String> {
    let mut out = Vec::new();
    for start in (0..n).step_by(32) {
        let calls = (start..(start + 32).min(n)).map(|i| {
            let body = json!({"slug": format!("p{i}"), "name": format!("Page {i}"), "is_homepage": i == 0, "layout_data": layout(i, marker)});
            let req = match ids {
                Some(ids) => http.put(format!("{base}/api/pages/{}", ids[i])),
                None => http.post(format!("{base}/api/projects/site/pages")),
            };
            req.bearer_auth(token).json(&body).send()
        });
        for r in futures_util::future::join_all(calls).await {
            let (s, page) = read(r.unwrap()).await;
            assert!(s == 200 || s == 201, "{page}");
            out.push(page["id"].as_str().unwrap().to_string());
        }
    }
    out
}

fn markers_in(db: &std::path::Path) -> Option<(usize, std::collections::HashSet<String>)> {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("SELECT json_extract(layout_data, '$.root.marker') FROM published_pages")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    Some((lines.len(), lines.into_iter().map(String::from).collect()))
}

#[tokio::test]
async fn an_edge_reader_never_sees_a_partial_release() {
    let app = spawn(Backend::Sqlite).await;
    app.project("Site").await;
    let n = 1200;
    let ids = bulk(&app.client, &app.base, &app.token, None, n, "release-A").await;
    assert_eq!(
        run_job(&app, "/api/projects/site/publish", json!({})).await["state"],
        "succeeded"
    );
    bulk(
        &app.client,
        &app.base,
        &app.token,
        Some(&ids),
        n,
        "release-B",
    )
    .await;

    let db = app.data_dir.join("sites/site/pages.db");
    let stop = Arc::new(AtomicBool::new(false));
    let (reads, mixed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let reader = {
        let (stop, reads, mixed, db) = (stop.clone(), reads.clone(), mixed.clone(), db.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if let Some((count, markers)) = markers_in(&db) {
                    reads.fetch_add(1, Ordering::SeqCst);
                    if count != n || markers.len() != 1 {
                        mixed.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
        })
    };
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    stop.store(true, Ordering::SeqCst);
    reader.join().unwrap();
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["targets"][0]["upserted"], n as u64);
    assert!(
        reads.load(Ordering::SeqCst) > 0,
        "the reader ran during the publish"
    );
    assert_eq!(
        mixed.load(Ordering::SeqCst),
        0,
        "a reader saw a mix of two releases"
    );
    let (count, markers) = markers_in(&db).unwrap();
    assert_eq!(
        (count, markers.into_iter().collect::<Vec<_>>()),
        (n, vec!["release-B".to_string()])
    );
}

#[tokio::test]
async fn a_killed_publish_is_finished_after_restart() {
    let dir = TempDir::new();
    let admin = "kill-admin-token-0123456789abcdef";
    let env = [("EDGEPUB_ADMIN_TOKEN", admin), ("EDGEPUB_LEASE_SECS", "2")];
    let http = Client::new();
    let mut server = Server::start(&dir, &env);
    let base = server.base();
    http.post(format!("{base}/api/projects"))
        .bearer_auth(admin)
        .json(&json!({"name": "Site"}))
        .send()
        .await
        .unwrap();
    let n = 2500;
    bulk(&http, &base, admin, None, n, "only-release").await;
    let (_, accepted) = read(
        http.post(format!("{base}/api/projects/site/publish"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let job_id = accepted["job_id"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    let stage = loop {
        let (_, job) = read(
            http.get(format!("{base}/api/publish-jobs/{job_id}"))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if job["state"] == "running" {
            break job["progress"]["stage"]
                .as_str()
                .unwrap_or_default()
                .to_string();
        }
        assert!(
            job["state"] == "queued" && Instant::now() < deadline,
            "the job ended before it could be killed: {job}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    server.kill();
    eprintln!("killed while {stage}");

    let server = Server::start(&dir, &env);
    let base = server.base();
    let deadline = Instant::now() + Duration::from_secs(120);
    let job = loop {
        let (_, job) = read(
            http.get(format!("{base}/api/publish-jobs/{job_id}"))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if job["state"] == "succeeded" || job["state"] == "failed" {
            break job;
        }
        assert!(Instant::now() < deadline, "the job was not resumed: {job}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(job["state"], "succeeded", "{job}");
    assert!(
        job["attempts"].as_i64().unwrap() >= 2,
        "it was picked up again: {job}"
    );
    let db = dir.0.join("data/sites/site/pages.db");
    let (count, markers) = markers_in(&db).unwrap();
    assert_eq!((count, markers.len()), (n, 1));
    let out = std::process::Command::new("sqlite3").arg(&db).arg("SELECT release_id FROM _edgepub_release; SELECT COUNT(*) FROM published_pages WHERE version <> 1;").output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("{}\n0\n", job["release_id"].as_str().unwrap())
    );
    let (_, releases) = read(
        http.get(format!("{base}/api/projects/site/releases"))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        releases["total"], 1,
        "exactly one release, nothing duplicated"
    );
}

/// The [started, finished] windows of finished jobs, sorted by `key`.
fn windows(jobs: &[Value], key: &str) -> Vec<(String, String)> {
    let mut jobs: Vec<&Value> = jobs.iter().collect();
    jobs.sort_by_key(|j| j[key].as_str().unwrap().to_string());
    jobs.iter()
        .map(|j| {
            (
                j["started_at"].as_str().unwrap().to_string(),
                j["finished_at"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Sorted by `created_at`, this also checks jobs ran in the order they were queued; that is
/// only meaningful for jobs queued one after another (concurrent arrivals have no order).
fn assert_serial(jobs: &[Value], key: &str) {
    let w = windows(jobs, key);
    for pair in w.windows(2) {
        assert!(
            pair[0].1 <= pair[1].0,
            "jobs overlapped or ran out of order: {w:?}"
        );
    }
}

async fn concurrent_publishes_serialize(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    bulk(&app.client, &app.base, &app.token, None, 40, "m").await;
    // Queued one after another (each POST returns at once, long before its job runs), so
    // they must also run in that order.
    let mut accepted = Vec::new();
    for i in 0..4 {
        accepted.push(
            app.post("/api/projects/site/publish", json!({"force": i % 2 == 1}))
                .await,
        );
    }
    let mut jobs = Vec::new();
    for (s, a) in accepted {
        assert_eq!(s, 202);
        jobs.push(wait_job(&app, a["job_id"].as_str().unwrap()).await);
    }
    assert!(jobs.iter().all(|j| j["state"] == "succeeded"), "{jobs:?}");
    assert_serial(&jobs, "created_at");
}

crate::both_backends!(concurrent_publishes_serialize);

#[tokio::test]
async fn two_processes_on_one_postgres_take_turns() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let admin = "pg-admin-token-0123456789abcdefgh";
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("EDGEPUB_ADMIN_TOKEN", admin),
    ];
    assert!(run(&dir, &env, &["migrate"]).status.success());
    let (a, b) = (Server::start(&dir, &env), Server::start(&dir, &env));
    let http = Client::new();
    http.post(format!("{}/api/projects", a.base()))
        .bearer_auth(admin)
        .json(&json!({"name": "Site"}))
        .send()
        .await
        .unwrap();
    bulk(&http, &a.base(), admin, None, 60, "m").await;
    let posts = (0..6).map(|i| {
        let base = if i % 2 == 0 { a.base() } else { b.base() };
        http.post(format!("{base}/api/projects/site/publish"))
            .bearer_auth(admin)
            .json(&json!({"force": true}))
            .send()
    });
    for r in futures_util::future::join_all(posts).await {
        assert_eq!(r.unwrap().status(), 202);
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    let jobs = loop {
        let (_, list) = read(
            http.get(format!("{}/api/projects/site/publish-jobs", b.base()))
                .bearer_auth(admin)
                .send()
                .await
                .unwrap(),
        )
        .await;
        let items = list["items"].as_array().unwrap().clone();
        if items.len() == 6
            && items
                .iter()
                .all(|j| j["state"] == "succeeded" || j["state"] == "failed")
        {
            break items;
        }
        assert!(Instant::now() < deadline, "jobs did not finish: {list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(jobs.iter().all(|j| j["state"] == "succeeded"), "{jobs:?}");
    // Queued concurrently from two processes: no two may overlap.
    assert_serial(&jobs, "started_at");
    let (_, releases) = read(
        http.get(format!("{}/api/projects/site/releases?limit=10", a.base()))
            .bearer_auth(admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let mut numbers: Vec<i64> = releases["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [1, 2, 3, 4, 5, 6]);
    drop((a, b));
}

#[tokio::test]
async fn job_events_stream_until_done() {
    let app = spawn(Backend::Sqlite).await;
    app.project("Site").await;
    bulk(&app.client, &app.base, &app.token, None, 30, "m").await;
    let (_, accepted) = app.post("/api/projects/site/publish", json!({})).await;
    let mut res = app
        .req(Method::GET, accepted["events_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut text = String::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(60), res.chunk())
        .await
        .unwrap()
        .unwrap()
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let done = text
        .split("\n\n")
        .find(|e| e.starts_with("event: done"))
        .expect("a done event");
    let job: Value = serde_json::from_str(done.split("data: ").nth(1).unwrap()).unwrap();
    assert_eq!(job["state"], "succeeded");
}
