//! Turso targets: adding one, comparing what it holds with the local file, page bodies of a
//! given size.

use super::{hrana_query, local_rows, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// Every table edgepub writes, from the local file and from Turso, compared field by field.
pub const PAGE_COLS: &str =
    "id, slug, name, title, description, layout_data, seo_data, datasources, css_bundle, version, \
     published_at, is_public, is_homepage, created_at, updated_at, content_hash, tenant_slug";

pub async fn assert_same(app: &TestApp, turso: &str) {
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
pub async fn add_turso(app: &TestApp, url: &str) -> String {
    let (s, t) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "turso", "name": "turso", "url": url, "token": "unused-by-tursodb"}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_str().unwrap().to_string()
}
pub fn layout(text: &str, size: usize) -> Value {
    json!({"content": [
        {"id": "hero", "type": "Heading", "props": {"text": text}, "styles": {"color": "red"}},
        {"id": "body", "type": "Text", "props": {"text": "lorem \"ipsum\" ".repeat(size / 14)}}
    ]})
}
pub async fn patch(app: &TestApp, page: &Value, body: Value) {
    let id = page["id"].as_str().unwrap();
    let (s, b) = app
        .send(Method::PATCH, &format!("/api/pages/{id}"), Some(body))
        .await;
    assert_eq!(s, 200, "{b}");
}
