//! A project with a datasource and pages, ready to publish.

use super::TestApp;
use serde_json::{json, Value};

pub async fn site(app: &TestApp) -> (Value, Value) {
    let (s, project) = app
        .post("/api/projects", json!({"name": "Site", "site_name": "My Site", "favicon_url": "/favicon.ico", "app_url": "https://example.com"}))
        .await;
    assert_eq!(s, 201);
    let (s, ds) = app
        .post("/api/projects/site/datasources", json!({"type": "supabase", "name": "main", "url": "https://abc.supabase.co", "anon_key": "anon-public-key", "secret": "service-role-secret-never-published", "secret_env_var": "DS_MAIN_API_KEY"}))
        .await;
    assert_eq!(s, 201, "{ds}");
    (project, ds)
}
