//! Publishing to a real `tursodb --sync-server`: the same rows as the local file, one atomic
//! batch or a staged publish, and SIGKILLs in the middle of both.

use crate::both_backends;
use crate::fake_edge::{FakeEdge, KEY};
use crate::helpers::{hrana_query, local_rows, run_job, spawn_with, Backend, TestApp, Tursodb};
use crate::publish::site;
use crate::push_edge::only_target;
use actix_web::{web, App, HttpResponse, HttpServer};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

both_backends!(
    a_turso_database_an_edge_created_is_coped_with,
    turso_holds_what_the_local_file_holds,
    a_staged_publish_killed_midway_leaves_the_old_release,
    a_single_batch_killed_at_commit_is_all_or_nothing,
    several_targets_fail_alone_and_retry_only_the_failed
);

const PAGE_COLS: &str =
    "id, slug, name, title, description, layout_data, seo_data, datasources, css_bundle, version, \
     published_at, is_public, is_homepage, created_at, updated_at, content_hash, tenant_slug";

/// Every table edgepub writes, from the local file and from Turso, compared field by field.
async fn assert_same(app: &TestApp, turso: &str) {
    for sql in [
        format!("SELECT {PAGE_COLS} FROM published_pages ORDER BY id"),
        "SELECT id, favicon_url, logo_url, site_name, site_description, app_url, auth_forms, users_config, updated_at \
         FROM project_settings ORDER BY id"
            .to_string(),
        "SELECT tenant_slug, release_id, job_id, published_at FROM _edgepub_release".to_string(),
    ] {
        let local = local_rows(app, "site", &sql).await;
        assert!(!local.is_empty(), "{sql}");
        assert_eq!(local, hrana_query(turso, &sql).await, "{sql}");
    }
}

async fn add_turso(app: &TestApp, url: &str) -> String {
    let (s, t) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "turso", "name": "turso", "url": url, "token": "unused-by-tursodb"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_str().unwrap().to_string()
}

fn layout(text: &str, size: usize) -> Value {
    json!({"content": [
        {"id": "hero", "type": "Heading", "props": {"text": text}, "styles": {"color": "red"}},
        {"id": "body", "type": "Text", "props": {"text": "lorem \"ipsum\" ".repeat(size / 14)}}
    ]})
}

async fn patch(app: &TestApp, page: &Value, body: Value) {
    let id = page["id"].as_str().unwrap();
    let (s, b) = app
        .send(Method::PATCH, &format!("/api/pages/{id}"), Some(body))
        .await;
    assert_eq!(s, 200, "{b}");
}

async fn turso_holds_what_the_local_file_holds(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let turso = Tursodb::start();
    let (project, ds) = site(&app).await;
    add_turso(&app, &turso.url).await;
    app.page(&project, json!({"slug": "home", "name": "Home", "title": "Welcome", "is_homepage": true,
        "layout_data": {"content": [{"id": "t", "type": "DataTable", "props": {"binding": {"dataSourceId": ds["id"], "tableName": "orders"}}}]},
        "seo_data": {"title": "Home", "keywords": ["a", "b"]}}))
        .await;
    let about = app
        .page(
            &project,
            json!({"slug": "about", "name": "About", "layout_data": layout("about", 500)}),
        )
        .await;

    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let results = first["result"]["targets"].as_array().unwrap();
    let t = results.iter().find(|t| t["kind"] == "turso").unwrap();
    assert_eq!(
        (
            t["atomic"].as_bool(),
            t["status"].as_str(),
            t["upserted"].as_u64()
        ),
        (Some(true), Some("ok"), Some(2)),
        "{t}"
    );
    assert!(t["requests"].as_u64().unwrap() >= 2 && t["bytes_sent"].as_u64().unwrap() > 1000);
    assert_same(&app, &turso.url).await;

    // Incremental: only the changed page is written, on both targets, with the same version.
    patch(&app, &about, json!({"title": "About us"})).await;
    let second = run_job(&app, "/api/projects/site/publish", json!({})).await;
    for t in second["result"]["targets"].as_array().unwrap() {
        assert_eq!(
            (t["upserted"].as_u64(), t["unchanged"].as_u64()),
            (Some(1), Some(1)),
            "{t}"
        );
    }
    assert_same(&app, &turso.url).await;
    let id = about["id"].as_str().unwrap();
    let v = turso
        .query(&format!(
            "SELECT version FROM published_pages WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(v, [[json!(2)]]);

    // Unpublish, then roll back to the first release: both targets follow.
    let gone = run_job(&app, &format!("/api/pages/{id}/unpublish"), json!({})).await;
    assert_eq!(gone["state"], "succeeded", "{gone}");
    assert_same(&app, &turso.url).await;
    assert_eq!(
        turso.query("SELECT COUNT(*) FROM published_pages").await,
        [[json!(1)]]
    );
    let release = first["release_id"].as_str().unwrap();
    let back = run_job(
        &app,
        &format!("/api/releases/{release}/rollback"),
        json!({}),
    )
    .await;
    assert_eq!(back["state"], "succeeded", "{back}");
    assert_same(&app, &turso.url).await;
    let v = turso
        .query(&format!(
            "SELECT version, title FROM published_pages WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(
        v,
        [[json!(3), Value::Null]],
        "the first content, as a new version"
    );
}

/// A proxy in front of `tursodb` that, once armed, kills it when the `nth` request
/// containing `marker` arrives (after forwarding that request when `forward_first`, racing
/// the server's commit), and answers 502 while it is down.
/// (marker, requests with it until the kill, forward that request first).
type Trigger = Arc<Mutex<Option<(&'static str, usize, bool)>>>;

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

async fn several_targets_fail_alone_and_retry_only_the_failed(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_TARGET_ATTEMPTS", "1")]).await;
    let mut turso = Tursodb::start();
    let edge = FakeEdge::start().await;
    let (project, _) = site(&app).await;
    let turso_id = add_turso(&app, &turso.url).await;
    let (s, _) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "edge", "name": "cf", "url": edge.url, "token": KEY}),
        )
        .await;
    assert_eq!(s, 201);
    let home = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    assert_eq!(first["result"]["targets"].as_array().unwrap().len(), 3);

    turso.kill();
    patch(&app, &home, json!({"title": "New"})).await;
    let partial = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(partial["state"], "partial", "{partial}");
    for t in partial["result"]["targets"].as_array().unwrap() {
        let failed = t["target_id"] == turso_id.as_str();
        assert_eq!(t["ok"], !failed, "{t}");
        if failed {
            assert_eq!(
                (t["status"].as_str(), t["error_kind"].as_str()),
                (Some("failed"), Some("refused")),
                "{t}"
            );
        }
    }
    let release = partial["release_id"].as_str().unwrap();
    let (_, r) = app.get(&format!("/api/releases/{release}")).await;
    assert_eq!(r["status"], "partial", "{r}");
    assert_eq!(edge.held("_default"), [("home".to_string(), 2)]);

    turso.restart();
    let id = partial["id"].as_str().unwrap();
    let retried = run_job(&app, &format!("/api/publish-jobs/{id}/retry"), json!({})).await;
    assert_eq!(retried["state"], "succeeded", "{retried}");
    let only = retried["result"]["targets"].as_array().unwrap();
    assert_eq!(only.len(), 1, "{retried}");
    assert_eq!(only[0]["target_id"], turso_id.as_str());
    assert_eq!(
        retried["release_id"].as_str(),
        Some(release),
        "no new release"
    );
    let (_, r) = app.get(&format!("/api/releases/{release}")).await;
    assert_eq!(r["status"], "complete", "{r}");
    assert!(
        r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["ok"] == true),
        "{r}"
    );
    assert_same(&app, &turso.url).await;
    // Nothing left to retry.
    let (s, body) = app
        .post(&format!("/api/publish-jobs/{id}/retry"), json!({}))
        .await;
    assert_eq!(
        (s, body["error"]["code"].as_str()),
        (409, Some("nothing_to_retry"))
    );

    // A publish may name its targets: only those are written; unknown ones are refused.
    patch(&app, &home, json!({"title": "Only Turso"})).await;
    let one = run_job(
        &app,
        "/api/projects/site/publish",
        json!({"targets": [turso_id]}),
    )
    .await;
    let written = one["result"]["targets"].as_array().unwrap();
    assert_eq!(
        (one["state"].as_str(), written.len()),
        (Some("succeeded"), 1),
        "{one}"
    );
    assert_eq!(
        turso.query("SELECT title FROM published_pages").await,
        [[json!("Only Turso")]]
    );
    let (s, body) = app
        .post(
            "/api/projects/site/publish",
            json!({"targets": [uuid::Uuid::new_v4()]}),
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(body["error"]["details"]["fields"][0]["path"], "/targets/0");
}

/// A Turso database whose `published_pages` an edge created (other column order, a global
/// UNIQUE(slug), no content_hash/tenant_slug): columns are added, the constraint is removed by
/// a rebuild, and two tenants can share a slug.
async fn a_turso_database_an_edge_created_is_coped_with(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let turso = Tursodb::start();
    for sql in [
        "CREATE TABLE published_pages (slug TEXT NOT NULL UNIQUE, id TEXT PRIMARY KEY, name TEXT NOT NULL, \
         layout_data TEXT NOT NULL, title TEXT, description TEXT, seo_data TEXT, datasources TEXT, css_bundle TEXT, \
         version INTEGER NOT NULL DEFAULT 1, published_at TEXT NOT NULL, is_public INTEGER NOT NULL DEFAULT 1, \
         is_homepage INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, \
         updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        "CREATE INDEX edge_by_name ON published_pages (name)",
    ] {
        hrana_query(&turso.url, sql).await;
    }
    for (name, tenant) in [("One", "_default"), ("Two", "acme")] {
        let (s, project) = app
            .post(
                "/api/projects",
                json!({"name": name, "tenant_slug": tenant}),
            )
            .await;
        assert_eq!(s, 201, "{project}");
        let slug = project["slug"].as_str().unwrap().to_string();
        let (_, list) = app.get(&format!("/api/projects/{slug}/targets")).await;
        let local = list[0]["id"].as_str().unwrap();
        app.send(
            Method::PATCH,
            &format!("/api/targets/{local}"),
            Some(json!({"enabled": false})),
        )
        .await;
        let (s, _) = app
            .post(
                &format!("/api/projects/{slug}/targets"),
                json!({"kind": "turso", "name": "turso", "url": turso.url, "token": "x"}),
            )
            .await;
        assert_eq!(s, 201);
        app.page(
            &project,
            json!({"slug": "home", "name": name, "is_homepage": true}),
        )
        .await;
        let job = run_job(&app, &format!("/api/projects/{slug}/publish"), json!({})).await;
        assert_eq!(job["state"], "succeeded", "{job}");
    }
    assert_eq!(
        turso
            .query("SELECT tenant_slug, slug, name FROM published_pages ORDER BY tenant_slug")
            .await,
        [
            [json!("_default"), json!("home"), json!("One")],
            [json!("acme"), json!("home"), json!("Two")]
        ]
    );
    let names = turso
        .query(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
        )
        .await;
    assert!(names.contains(&vec![json!("edge_by_name")]), "{names:?}");
}
