//! Drift that only the content shows: rows edited by hand in a local file and in Turso with
//! their version and content-hash columns kept. The check (API and `edgepub verify`) names
//! each page and column, the repair rewrites them without new versions, a second check is
//! clean.

use crate::support::drift::{ids, sqlite3, verify_out};
use crate::support::{hrana_query, run_job, spawn_with, Backend, Tursodb};
use serde_json::{json, Value};

crate::both_backends!(hand_edited_content_is_drift_and_repaired);

fn sqlite3_out(db: &std::path::Path, sql: &str) -> String {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// (slug, differing columns) of a target's `changed` list, by slug.
fn changed(target: &Value) -> Vec<(String, Vec<String>)> {
    let slugs = ids(&target["changed"]);
    let mut out: Vec<(String, Vec<String>)> = slugs
        .into_iter()
        .zip(target["changed"].as_array().unwrap())
        .map(|(slug, c)| {
            let fields = c["fields"].as_array().unwrap();
            (
                slug,
                fields
                    .iter()
                    .map(|f| f.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    out.sort();
    out
}

async fn hand_edited_content_is_drift_and_repaired(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let turso = Tursodb::start();
    let (s, project) = app.post("/api/projects", json!({"name": "Site"})).await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "turso", "name": "turso", "url": turso.url}),
        )
        .await;
    assert_eq!(s, 201);
    let layout = json!({"content": [{"id": "h", "type": "Heading", "props": {"text": "Hi"},
        "styles": {"color": "red"}}], "root": {}});
    for (slug, home) in [("home", true), ("a", false), ("b", false)] {
        app.page(
            &project,
            json!({"slug": slug, "name": slug, "title": format!("Title {slug}"),
                "description": "About", "is_homepage": home, "layout_data": layout,
                "seo_data": {"title": "SEO", "keywords": ["k"]}}),
        )
        .await;
    }
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (_, clean) = app.get("/api/projects/site/drift").await;
    assert_eq!(clean["drifted"], false, "{clean}");
    assert!(clean["targets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["content_checked"] == true));

    let db = app.data_dir.join("sites/site/pages.db");
    let rows = "SELECT slug, title, description, layout_data, seo_data, css_bundle, version, content_hash \
                FROM published_pages ORDER BY slug";
    let before = sqlite3_out(&db, rows);
    let turso_css = "SELECT css_bundle FROM published_pages WHERE slug = 'a'";
    let turso_before = hrana_query(&turso.url, turso_css).await;
    // Hand edits that keep every row's version and content hash.
    sqlite3(
        &db,
        "UPDATE published_pages SET title = 'Hacked' WHERE slug = 'a'; \
         UPDATE published_pages SET layout_data = '{\"content\":[]}' WHERE slug = 'b'; \
         UPDATE published_pages SET description = 'x', seo_data = NULL WHERE slug = 'home';",
    );
    hrana_query(
        &turso.url,
        "UPDATE published_pages SET css_bundle = 'body{display:none}' WHERE slug = 'a'",
    )
    .await;

    let (_, report) = app.get("/api/projects/site/drift").await;
    assert_eq!(report["drifted"], true, "{report}");
    let targets = report["targets"].as_array().unwrap();
    let local = targets.iter().find(|t| t["kind"] == "local").unwrap();
    let text = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        changed(local),
        [
            ("a".to_string(), text(&["title"])),
            ("b".to_string(), text(&["layout_data"])),
            ("home".to_string(), text(&["description", "seo_data"])),
        ],
        "{local}"
    );
    assert!(local["missing"].as_array().unwrap().is_empty());
    let remote = targets.iter().find(|t| t["kind"] == "turso").unwrap();
    assert_eq!(
        changed(remote),
        [("a".to_string(), text(&["css_bundle"]))],
        "{remote}"
    );
    let (ok, cli, summary) = verify_out(&app);
    assert!(!ok, "verify exits 1 on drift: {summary}");
    assert_eq!(cli["drifted"], true, "{cli}");
    assert!(
        summary.contains("drift from release 1") && summary.contains("3 changed"),
        "{summary}"
    );

    let repair = run_job(&app, "/api/projects/site/drift/repair", json!({})).await;
    assert_eq!(repair["state"], "succeeded", "{repair}");
    assert_eq!(repair["release_id"], job["release_id"], "no new release");
    let upserted: Vec<u64> = repair["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["upserted"].as_u64().unwrap())
        .collect();
    let mut upserted = upserted;
    upserted.sort();
    assert_eq!(upserted, [1, 3], "only the edited rows: {repair}");
    let (_, after) = app.get("/api/projects/site/drift").await;
    assert_eq!(after["drifted"], false, "{after}");
    assert_eq!(
        sqlite3_out(&db, rows),
        before,
        "rows as published, versions kept"
    );
    assert_eq!(hrana_query(&turso.url, turso_css).await, turso_before);
    let (ok, _, summary) = verify_out(&app);
    assert!(ok, "{summary}");
    assert!(summary.contains("no drift from release 1"), "{summary}");
}
