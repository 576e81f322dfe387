//! Publishing into a pages.db that an edge created first.

use crate::support::publish::site;
use crate::support::{pages_db, run_job, spawn, Backend};
use reqwest::Method;
use serde_json::json;
use sqlx::Row;

/// The schema an edge creates on its own first boot: other column order, a global UNIQUE(slug),
/// no content_hash/tenant_slug yet, and tables of its own.
const EDGE_SCHEMA: &str = "
CREATE TABLE _schema_version (version INTEGER NOT NULL);
INSERT INTO _schema_version VALUES (3);
CREATE TABLE published_pages (
    slug TEXT NOT NULL UNIQUE, id TEXT PRIMARY KEY, name TEXT NOT NULL, layout_data TEXT NOT NULL,
    title TEXT, description TEXT, seo_data TEXT, datasources TEXT, css_bundle TEXT,
    version INTEGER NOT NULL DEFAULT 1, published_at TEXT NOT NULL, is_public INTEGER NOT NULL DEFAULT 1,
    is_homepage INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE project_settings (id TEXT PRIMARY KEY, site_name TEXT, favicon_url TEXT, logo_url TEXT,
    site_description TEXT, app_url TEXT, auth_forms TEXT, users_config TEXT, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE INDEX edge_pages_by_name ON published_pages (name);
CREATE TABLE form_submissions (id INTEGER PRIMARY KEY, body TEXT);
INSERT INTO form_submissions (body) VALUES ('keep me');
";

#[tokio::test]
async fn a_file_the_edge_created_first_is_respected() {
    let app = spawn(Backend::Sqlite).await;
    let (project, _) = site(&app).await;
    let dir = app.data_dir.join("sites/site");
    std::fs::create_dir_all(&dir).unwrap();
    let out = std::process::Command::new("sqlite3")
        .arg(dir.join("pages.db"))
        .arg(EDGE_SCHEMA)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = app
        .page(
            &project,
            json!({"slug": "a", "name": "A", "is_homepage": true}),
        )
        .await;
    let b = app.page(&project, json!({"slug": "b", "name": "B"})).await;
    assert_eq!(
        run_job(&app, "/api/projects/site/publish", json!({})).await["state"],
        "succeeded"
    );
    // Two pages swap slugs in one release: the global UNIQUE(slug) never sees a clash.
    app.send(
        Method::PATCH,
        &format!("/api/pages/{}", a["id"].as_str().unwrap()),
        Some(json!({"slug": "tmp"})),
    )
    .await;
    app.send(
        Method::PATCH,
        &format!("/api/pages/{}", b["id"].as_str().unwrap()),
        Some(json!({"slug": "a"})),
    )
    .await;
    app.send(
        Method::PATCH,
        &format!("/api/pages/{}", a["id"].as_str().unwrap()),
        Some(json!({"slug": "b"})),
    )
    .await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let rows = pages_db(&app, "site", "SELECT slug, id, version, tenant_slug, content_hash IS NOT NULL FROM published_pages ORDER BY slug").await;
    let got: Vec<(String, String, i64, String, bool)> = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(
        got,
        [
            (
                "a".to_string(),
                b["id"].as_str().unwrap().to_string(),
                2,
                "_default".to_string(),
                true
            ),
            (
                "b".to_string(),
                a["id"].as_str().unwrap().to_string(),
                2,
                "_default".to_string(),
                true
            ),
        ]
    );
    let theirs = pages_db(
        &app,
        "site",
        "SELECT (SELECT version FROM _schema_version), (SELECT body FROM form_submissions)",
    )
    .await;
    assert_eq!(
        (theirs[0].get::<i64, _>(0), theirs[0].get::<String, _>(1)),
        (3, "keep me".to_string()),
        "the edge's own tables are untouched"
    );

    // The edge's global UNIQUE(slug) is gone (a table rebuild kept its index and every
    // row): another tenant's row with the same slug now fits beside ours.
    let file = app.data_dir.join("sites").join("site").join("pages.db");
    let out = std::process::Command::new("sqlite3")
        .args(["-cmd", ".timeout 5000"])
        .arg(&file)
        .arg(
            "INSERT INTO published_pages (id, slug, name, layout_data, published_at, tenant_slug) \
             SELECT 'their-a', slug, name, layout_data, published_at, 'acme' \
             FROM published_pages WHERE slug = 'a'",
        )
        .output()
        .expect("sqlite3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = pages_db(
        &app,
        "site",
        "SELECT tenant_slug, slug FROM published_pages ORDER BY tenant_slug, slug",
    )
    .await;
    let got: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        got,
        [
            ("_default".to_string(), "a".to_string()),
            ("_default".to_string(), "b".to_string()),
            ("acme".to_string(), "a".to_string())
        ]
    );

    // A file is one project's: another project (another tenant) may not point a target at it.
    let (st, other) = app
        .post(
            "/api/projects",
            json!({"name": "Other", "tenant_slug": "acme"}),
        )
        .await;
    assert_eq!(st, 201, "{other}");
    let (_, list) = app.get("/api/projects/other/targets").await;
    let default = list[0]["id"].as_str().unwrap();
    let (st, body) = app
        .send(
            Method::PATCH,
            &format!("/api/targets/{default}"),
            Some(json!({"path": "site/pages.db"})),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    assert_eq!(
        body["error"]["details"]["fields"][0]["code"],
        "outside_project_dir"
    );
    let schema = pages_db(
        &app,
        "site",
        "SELECT group_concat(sql, ';') FROM sqlite_master WHERE tbl_name = 'published_pages'",
    )
    .await;
    let schema: String = schema[0].get(0);
    assert!(schema.contains("edge_pages_by_name"), "{schema}");
    assert!(!schema.contains("NOT NULL UNIQUE"), "{schema}");
}
