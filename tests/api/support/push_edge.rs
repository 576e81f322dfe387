//! A project whose only target is the fake push edge.

use super::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

/// The site's default local target is switched off so the edge is the only target.
pub async fn only_target(app: &TestApp, body: Value) -> String {
    let (_, list) = app.get("/api/projects/site/targets").await;
    for t in list.as_array().unwrap() {
        let (s, _) = app
            .send(
                Method::PATCH,
                &format!("/api/targets/{}", t["id"].as_str().unwrap()),
                Some(json!({"enabled": false})),
            )
            .await;
        assert_eq!(s, 200);
    }
    let (s, t) = app.post("/api/projects/site/targets", body).await;
    assert_eq!(s, 201, "{t}");
    t["id"].as_str().unwrap().to_string()
}
