//! SIGKILLs in the middle of a Turso publish: a staged publish killed midway leaves the old
//! release; a single batch killed at commit is all or nothing.

use crate::support::publish::site;
use crate::support::push_edge::only_target;
use crate::support::turso::*;
use crate::support::{hrana_query, run_job, spawn_with, Backend, TestApp, Tursodb};
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

crate::both_backends!(
    a_staged_publish_killed_midway_leaves_the_old_release,
    a_single_batch_killed_at_commit_is_all_or_nothing
);

/// (marker, requests with it until the kill, forward that request first).
type Trigger = Arc<Mutex<Option<(&'static str, usize, bool)>>>;

/// A proxy in front of `tursodb` that, once armed, kills it when the `nth` request
/// containing `marker` arrives (after forwarding that request when `forward_first`, racing
/// the server's commit), and answers 502 while it is down.
struct Tap {
    url: String,
    direct: String,
    turso: Arc<Mutex<Tursodb>>,
    armed: Trigger,
}

impl Tap {
    async fn start() -> Tap {
        let turso = Tursodb::start();
        let direct = turso.url.clone();
        let turso = Arc::new(Mutex::new(turso));
        let armed: Trigger = Arc::default();
        let (t, a, upstream) = (turso.clone(), armed.clone(), direct.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            let (t, a, upstream) = (t.clone(), a.clone(), upstream.clone());
            App::new().default_service(web::to(move |body: web::Bytes| {
                let (t, a, upstream) = (t.clone(), a.clone(), upstream.clone());
                async move {
                    let text = String::from_utf8_lossy(&body);
                    let (kill, forward_first) = {
                        let mut armed = a.lock().unwrap();
                        match armed.as_mut() {
                            Some((marker, n, first)) if text.contains(*marker) => {
                                *n -= 1;
                                let fire = (*n == 0, *first);
                                if fire.0 {
                                    *armed = None;
                                }
                                fire
                            }
                            _ => (false, false),
                        }
                    };
                    let send = reqwest::Client::new()
                        .post(format!("{upstream}/v2/pipeline"))
                        .header("content-type", "application/json")
                        .body(body.to_vec())
                        .send();
                    if kill {
                        if forward_first {
                            tokio::spawn(send);
                            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                        }
                        t.lock().unwrap().kill();
                        return HttpResponse::BadGateway().finish();
                    }
                    match send.await {
                        Ok(res) => HttpResponse::build(
                            actix_web::http::StatusCode::from_u16(res.status().as_u16())
                                .unwrap_or(actix_web::http::StatusCode::BAD_GATEWAY),
                        )
                        .content_type("application/json")
                        .body(res.bytes().await.unwrap_or_default()),
                        Err(_) => HttpResponse::BadGateway().finish(),
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Tap {
            url: format!("http://127.0.0.1:{port}"),
            direct,
            turso,
            armed,
        }
    }

    fn arm(&self, marker: &'static str, nth: usize, forward_first: bool) {
        *self.armed.lock().unwrap() = Some((marker, nth, forward_first));
    }

    async fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        hrana_query(&self.direct, sql).await
    }

    fn restart(&self) {
        self.turso.lock().unwrap().restart();
    }
}

async fn many_pages(app: &TestApp, project: &Value, n: usize) -> Vec<Value> {
    let mut pages = Vec::new();
    for i in 0..n {
        pages.push(
            app.page(
                project,
                json!({"slug": format!("p{i:03}"), "name": format!("Page {i}"), "is_homepage": i == 0,
                    "layout_data": layout("first", 900)}),
            )
            .await,
        );
    }
    pages
}

async fn a_staged_publish_killed_midway_leaves_the_old_release(backend: Backend) {
    let app = spawn_with(
        backend,
        &[
            ("EDGEPUB_TURSO_MAX_REQUEST_BYTES", "16384"),
            ("EDGEPUB_TARGET_ATTEMPTS", "1"),
        ],
    )
    .await;
    let (project, _) = site(&app).await;
    let tap = Tap::start().await;
    only_target(
        &app,
        json!({"kind": "turso", "name": "turso", "url": tap.url, "token": "x"}),
    )
    .await;
    let pages = many_pages(&app, &project, 40).await;

    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let requests = first["result"]["targets"][0]["requests"].as_u64().unwrap();
    assert!(
        requests >= 6,
        "40 pages of ~1 KB over 16 KiB requests are staged: {requests}"
    );
    assert_eq!(
        tap.query("SELECT COUNT(*) FROM published_pages").await,
        [[json!(40)]]
    );
    assert_eq!(
        tap.query("SELECT COUNT(*) FROM _edgepub_staging").await,
        [[json!(0)]]
    );

    for p in &pages {
        patch(&app, p, json!({"layout_data": layout("second", 900)})).await;
    }
    tap.arm("INSERT OR REPLACE INTO _edgepub_staging", 3, false);
    let failed = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(failed["state"], "failed", "{failed}");
    tap.restart();
    // Killed after two staging requests: the live tables hold the first release, whole.
    assert_eq!(
        tap.query("SELECT DISTINCT version FROM published_pages")
            .await,
        [[json!(1)]]
    );
    assert_eq!(
        tap.query("SELECT release_id FROM _edgepub_release").await,
        [[first["release_id"].clone()]]
    );
    let staged = tap.query("SELECT COUNT(*) FROM _edgepub_staging").await;
    assert!(
        staged[0][0].as_i64().unwrap() > 0,
        "the kill came mid-staging"
    );

    let id = failed["id"].as_str().unwrap();
    let retried = run_job(&app, &format!("/api/publish-jobs/{id}/retry"), json!({})).await;
    assert_eq!(retried["state"], "succeeded", "{retried}");
    assert_eq!(
        tap.query("SELECT DISTINCT version FROM published_pages")
            .await,
        [[json!(2)]]
    );
    assert_eq!(
        tap.query("SELECT COUNT(*) FROM published_pages").await,
        [[json!(40)]]
    );
    assert_eq!(
        tap.query("SELECT COUNT(*) FROM _edgepub_staging").await,
        [[json!(0)]]
    );
}

async fn a_single_batch_killed_at_commit_is_all_or_nothing(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_TARGET_ATTEMPTS", "1")]).await;
    let (project, _) = site(&app).await;
    let tap = Tap::start().await;
    add_turso(&app, &tap.url).await;
    let pages = many_pages(&app, &project, 12).await;
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    assert_eq!(
        first["result"]["targets"][1]["requests"].as_u64(),
        Some(5),
        "three schema requests, held, one batch"
    );
    assert_same(&app, &tap.direct).await;

    for p in &pages {
        patch(&app, p, json!({"layout_data": layout("second", 900)})).await;
    }
    tap.arm("INSERT INTO _edgepub_release", 1, true);
    let second = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(second["state"], "partial", "{second}");
    tap.restart();
    let versions = tap
        .query("SELECT DISTINCT version FROM published_pages")
        .await;
    let marker = tap.query("SELECT release_id FROM _edgepub_release").await;
    let whole_old = versions == [[json!(1)]] && marker == [[first["release_id"].clone()]];
    let whole_new = versions == [[json!(2)]] && marker == [[second["release_id"].clone()]];
    assert!(whole_old || whole_new, "a mix: {versions:?} {marker:?}");

    let id = second["id"].as_str().unwrap();
    let retried = run_job(&app, &format!("/api/publish-jobs/{id}/retry"), json!({})).await;
    assert_eq!(retried["state"], "succeeded", "{retried}");
    assert_same(&app, &tap.direct).await;
}
