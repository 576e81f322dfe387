//! Readers of a published pages.db never meet a locked file: the sqlite3 CLI (no busy
//! timeout) polls during and after a forced republish of 1,000 large pages; a stopped server
//! leaves only `pages.db` in the target's directory.

use crate::support::cli::Server;
use crate::support::{read, Backend, PgDb, TempDir};
use reqwest::Client;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

crate::both_backends!(a_reader_without_busy_timeout_never_meets_a_locked_file);

const ADMIN: &str = "readers-admin-token-0123456789abcdef";

async fn call(http: &Client, base: &str, path: &str, body: Value) -> Value {
    let (s, v) = read(
        http.post(format!("{base}{path}"))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(s < 300, "{path}: {v}");
    v
}

async fn publish(http: &Client, base: &str, body: Value) -> Value {
    let accepted = call(http, base, "/api/projects/site/publish", body).await;
    let status = accepted["status_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (_, job) = read(
            http.get(format!("{base}{status}"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap(),
        )
        .await;
        if job["state"] == "succeeded" {
            return job;
        }
        assert!(
            job["state"] != "failed" && Instant::now() < deadline,
            "{job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What one read saw: the release marker and the page count, or the reader's error.
type Poll = Result<(String, usize), String>;

/// One read as an edge would, with the CLI's default (no) busy timeout.
fn poll(db: &std::path::Path) -> Poll {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg("SELECT release_id FROM _edgepub_release; SELECT COUNT(*) FROM published_pages;")
        .output()
        .map_err(|e| e.to_string())?;
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    if !out.status.success() || !err.is_empty() {
        return Err(err);
    }
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut lines = text.lines();
    let release = lines.next().unwrap_or_default().to_string();
    let count = lines.next().and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((release, count))
}

async fn a_reader_without_busy_timeout_never_meets_a_locked_file(backend: Backend) {
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let mut env = vec![("EDGEPUB_ADMIN_TOKEN", ADMIN)];
    if let Some(db) = &pg {
        env.push(("DATABASE_URL", db.url.as_str()));
    }
    let mut server = Server::start(&dir, &env);
    let base = server.base();
    let http = Client::new();
    call(&http, &base, "/api/projects", json!({"name": "Site"})).await;
    let n = 1000;
    let filler = "lorem ipsum dolor sit amet ".repeat(1700);
    for start in (0..n).step_by(32) {
        let calls = (start..(start + 32).min(n)).map(|i| {
            let layout = json!({"content": [{"id": format!("t{i}"), "type": "Text", "props": {"text": filler}}]});
            call(
                &http,
                &base,
                "/api/projects/site/pages",
                json!({"slug": format!("p{i}"), "name": format!("Page {i}"), "is_homepage": i == 0, "layout_data": layout}),
            )
        });
        futures_util::future::join_all(calls).await;
    }
    let first = publish(&http, &base, json!({})).await;
    let db = dir.0.join("data/sites/site/pages.db");

    let stop = Arc::new(AtomicBool::new(false));
    let seen: Arc<Mutex<Vec<Poll>>> = Arc::default();
    let reader = {
        let (stop, seen, db) = (stop.clone(), seen.clone(), db.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                let r = poll(&db);
                seen.lock().unwrap().push(r);
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let second = publish(&http, &base, json!({"force": true})).await;
    // Read on after the publish (its checkpoint included) for a hundred more polls.
    let after = seen.lock().unwrap().len() + 100;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while seen.lock().unwrap().len() < after {
        assert!(std::time::Instant::now() < deadline, "the reader stalled");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    reader.join().unwrap();

    let releases = [
        first["release_id"].as_str().unwrap(),
        second["release_id"].as_str().unwrap(),
    ];
    let seen = seen.lock().unwrap();
    assert!(seen.len() > 50, "the reader polled {} times", seen.len());
    for r in seen.iter() {
        match r {
            Ok((release, count)) => {
                assert!(releases.contains(&release.as_str()), "{release}");
                assert_eq!(*count, n, "a whole release");
            }
            Err(e) => panic!("a reader met: {e}"),
        }
    }
    assert_eq!(seen.last().unwrap().as_ref().unwrap().0, releases[1]);

    // A graceful stop leaves the file clean: checkpointed, no -wal or -shm beside it.
    assert!(server.terminate().success());
    let mut files: Vec<String> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    assert_eq!(files, ["pages.db"]);
}
