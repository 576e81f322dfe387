//! Drift from a test: edit a local pages.db with sqlite3, run `edgepub verify`, wait until a
//! job's cache step has settled.

use super::TestApp;
use serde_json::Value;
use std::time::{Duration, Instant};

pub fn sqlite3(db: &std::path::Path, sql: &str) {
    let out = std::process::Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
pub fn verify(app: &TestApp) -> (bool, Value) {
    let (ok, report, _) = verify_out(app);
    (ok, report)
}
/// `edgepub verify`: whether it exited 0, its report (stdout) and its summary line (stderr).
pub fn verify_out(app: &TestApp) -> (bool, Value, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgepub"))
        .env("DATABASE_URL", &app.db_url)
        .env("EDGEPUB_DATA_DIR", &app.data_dir)
        .env("EDGEPUB_LOG", "error")
        .args(["verify", "--project", "site"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let summary = String::from_utf8_lossy(&out.stderr).trim().to_string();
    (out.status.success(), report, summary)
}
pub async fn cache_settled(app: &TestApp, job: &Value) {
    let id = job["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, j) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if j["cache"].is_null() || j["cache"]["status"] == "done" {
            return;
        }
        assert!(Instant::now() < deadline, "{j}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["slug"].as_str().unwrap_or("?").to_string())
        .collect()
}
