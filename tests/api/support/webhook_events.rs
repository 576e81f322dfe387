//! A project and a subscribed endpoint, for outgoing events.

use super::TestApp;
use serde_json::{json, Value};

pub async fn site(app: &TestApp) {
    app.project("Site").await;
    let (s, p) = app
        .post(
            "/api/projects/site/pages",
            json!({"name": "Home", "slug": "home", "layout_data": {"content": [], "root": {}}}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
}
/// Subscribes `url` and returns (endpoint, secret).
pub async fn subscribe(app: &TestApp, url: &str, types: Value) -> (Value, String) {
    let (s, e) = app
        .post(
            "/api/projects/site/webhook-endpoints",
            json!({"url": url, "event_types": types, "description": "ci"}),
        )
        .await;
    assert_eq!(s, 201, "{e}");
    let secret = e["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    (e, secret)
}
