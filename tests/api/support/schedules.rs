//! Schedules under the manual clock: a time from now, and waiting until one has run.

use super::read;
use edgepub::clock::{Clock, ManualClock};
use reqwest::Client;
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
