//! Publish jobs from a test: start one and wait (bounded) until it ends.

use super::TestApp;
use serde_json::Value;

/// Starts a publish (or any job-creating POST) and waits until the job ends.
pub async fn run_job(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, accepted) = app.post(path, body).await;
    assert_eq!(s, 202, "{accepted}");
    wait_job(app, accepted["job_id"].as_str().unwrap()).await
}

/// Polls a job (bounded) until it succeeds or fails.
pub async fn wait_job(app: &TestApp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, job) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if matches!(
            job["state"].as_str(),
            Some("succeeded" | "partial" | "failed")
        ) {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not finish: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
