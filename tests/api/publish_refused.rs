//! What a publish refuses writes nothing: compile errors, and drafts saved with a slug no
//! edge can serve.

use crate::support::publish::*;
use crate::support::{run_job, spawn, Backend};
use serde_json::json;

crate::both_backends!(
    compile_errors_write_nothing,
    a_draft_saved_with_a_nested_slug_is_never_published
);

async fn compile_errors_write_nothing(backend: Backend) {
    let app = spawn(backend).await;
    let (project, _) = site(&app).await;
    let bad = json!({"content": [{"id": "t", "type": "DataTable", "props": {"binding": {"datasourceId": "no-such-source", "tableName": "x"}}}, {"id": "t", "type": "Text"}, {"type": "Text"}]});
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true, "layout_data": bad}),
    )
    .await;
    let (_, dry) = app.post("/api/projects/site/compile", json!({})).await;
    assert!(dry["errors"].as_u64().unwrap() >= 3, "{dry}");
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "failed");
    let codes: Vec<&str> = job["result"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    for code in [
        "unknown_datasource",
        "duplicate_component_id",
        "missing_component_id",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    assert!(
        !app.data_dir.join("sites/site/pages.db").exists(),
        "a publish with errors writes nothing"
    );
    let (_, releases) = app.get("/api/projects/site/releases").await;
    assert_eq!(releases["total"], 0);
}

/// A draft saved before nested slugs were refused (here: set in the database) makes the
/// publish fail with an error naming the page; nothing is written.
async fn a_draft_saved_with_a_nested_slug_is_never_published(backend: Backend) {
    let app = spawn(backend).await;
    let (project, _) = site(&app).await;
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let old = app
        .page(&project, json!({"slug": "old", "name": "Old"}))
        .await;
    let moved = crate::support::db_texts(
        &app,
        "UPDATE pages SET slug = 'blog/old' WHERE slug = 'old' RETURNING slug",
    )
    .await;
    assert_eq!(moved, [Some("blog/old".to_string())]);
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "failed", "{job}");
    let diags = job["result"]["diagnostics"].as_array().unwrap();
    assert!(
        diags.iter().any(|d| d["pageId"] == old["id"]
            && d["code"] == "invalid_slug"
            && d["severity"] == "error"),
        "{diags:?}"
    );
    assert!(!app.data_dir.join("sites/site/pages.db").exists());
}
