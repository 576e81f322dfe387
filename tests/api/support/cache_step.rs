//! A publish's cache step: the cache settings, waiting until it is done, reading a key back.

use super::TestApp;
use edgepub::cache::Cache;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub async fn set_cache(app: &TestApp, mut body: Value, mode: &str) {
    body["redis_enabled"] = json!(true);
    body["cache_mode"] = json!(mode);
    body["cache_ttl_page"] = json!(100);
    body["cache_ttl_jitter"] = json!(20);
    let (s, b) = app
        .send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
        .await;
    assert_eq!(s, 200, "{b}");
}
/// Waits until the job's cache step is `done`.
pub async fn cache_done(app: &TestApp, job: &Value) -> Value {
    let id = job["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, job) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if job["cache"]["status"] == "done" {
            return job;
        }
        assert!(Instant::now() < deadline, "cache step not done: {job}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
pub async fn get(cache: &dyn Cache, key: &str) -> Option<Value> {
    cache
        .get(key)
        .await
        .unwrap()
        .map(|s| serde_json::from_str(&s).unwrap())
}
