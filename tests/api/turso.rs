//! Publishing to a real `tursodb --sync-server`: the same rows as the local file, one atomic
//! batch or a staged publish (SIGKILLs in the middle of both: `turso_crash`).

use crate::both_backends;
use crate::support::fake_edge::{FakeEdge, KEY};
use crate::support::publish::site;
use crate::support::turso::{add_turso, assert_same, layout, patch};
use crate::support::{hrana_query, run_job, spawn_with, Backend, Tursodb};
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    a_turso_database_an_edge_created_is_coped_with,
    turso_holds_what_the_local_file_holds,
    several_targets_fail_alone_and_retry_only_the_failed
);

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
