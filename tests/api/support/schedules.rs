//! Schedules under the manual clock: a time from now, and waiting until one has run.

use super::{read, TestApp};
use edgepub::clock::{Clock, ManualClock};
use reqwest::Client;
use serde_json::json;
use serde_json::Value;
use std::time::{Duration, Instant};

pub fn at(clock: &ManualClock, secs: i64) -> String {
    (clock.now() + chrono::Duration::seconds(secs)).to_rfc3339()
}
/// Polls a schedule (bounded, real time: the worker polls every second) until it left
/// `pending`.
pub async fn settled(client: &Client, base: &str, token: &str, path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (s, body) = read(
            client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        if body["state"] != "pending" {
            return body;
        }
        assert!(Instant::now() < deadline, "the schedule never ran: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A schedule in a project of its own (`witness`), due `secs` after the manual clock's now;
/// returns its path. Once it has run, the worker has made a pass past that time, so a test
/// sees that nothing else ran there without sleeping.
pub async fn witness(app: &TestApp, clock: &ManualClock, secs: i64) -> String {
    let project = app.project("Witness").await;
    app.page(&project, json!({"slug": "w", "name": "W"})).await;
    let base = "/api/projects/witness/schedules";
    let (s, w) = app
        .post(base, json!({"at": at(clock, secs), "action": "publish"}))
        .await;
    assert_eq!(s, 201, "{w}");
    format!("{base}/{}", w["id"].as_str().unwrap_or_default())
}
