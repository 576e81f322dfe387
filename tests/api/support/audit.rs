//! Reading the audit log as a given token, following its cursors.

use super::{read, TestApp};
use reqwest::Method;
use serde_json::Value;
use std::collections::BTreeSet;

/// A request with another token.
pub async fn send_as(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = app
        .client
        .request(method, format!("{}{path}", app.base))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.unwrap()).await
}
/// Every entry matching `query`, following cursors, newest first.
pub async fn all(app: &TestApp, query: &str, limit: usize) -> Vec<Value> {
    all_as(app, &app.token, query, limit).await
}
pub async fn all_as(app: &TestApp, token: &str, query: &str, limit: usize) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/audit?limit={limit}{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let (s, page) = send_as(app, token, Method::GET, &path, None).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit);
        out.extend(items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}
pub fn actions(entries: &[Value]) -> BTreeSet<String> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}
