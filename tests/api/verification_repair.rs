//! Continuous verification's `cache` repair mode and `edgepub verify`'s view of the latest
//! pass: with `repair: cache` the verifier re-primes a drifted cache key through the outbox (an
//! audit entry by `verifier` says so) and leaves a hand-edited target row as it is (`all`, in
//! `verification.rs`, rewrites both); the CLI names the latest pass, and `--last` prints it.

use crate::support::drift::sqlite3;
use crate::support::{spawn_clocked, Backend, TestApp};
use crate::verification::{gauge, metrics, next_pass, published_site, set, test_redis};
use chrono::Duration as Span;
use edgepub::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

crate::both_backends!(cache_mode_repairs_the_cache_only_and_the_cli_shows_the_last_pass);

/// `edgepub verify --project site [--last]`: exit status, stdout as JSON, stderr.
fn verify_cli(app: &TestApp, last: bool) -> (bool, Value, String) {
    let mut args = vec!["verify", "--project", "site"];
    if last {
        args.push("--last");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_edgepub"))
        .env("DATABASE_URL", &app.db_url)
        .env("EDGEPUB_DATA_DIR", &app.data_dir)
        .env("EDGEPUB_LOG", "error")
        .args(&args)
        .output()
        .unwrap();
    let stdout = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
    (out.status.success(), stdout, stderr)
}

fn title_of_a(app: &TestApp) -> String {
    let db = app.data_dir.join("sites/site/pages.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT title FROM published_pages WHERE slug = 'a'")
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

async fn cache_mode_repairs_the_cache_only_and_the_cli_shows_the_last_pass(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let tenant = published_site(&app).await;

    // Before any pass: the CLI says there is none; `--last` fails.
    let (ok, _, err) = verify_cli(&app, true);
    assert!(!ok, "{err}");
    assert!(
        err.contains("no scheduled verification pass yet (schedule: off)"),
        "{err}"
    );
    set(&app, json!({"interval_secs": 60, "repair": "cache"})).await;
    let (_, audit) = app
        .get("/api/audit?project=site&action=verification.update")
        .await;
    let summary = &audit["items"][0]["summary"];
    assert_eq!(summary["interval_secs"], 60, "{audit}");
    assert_eq!(summary["repair"], "cache", "{audit}");
    let clean = next_pass(&app, &clock, 1).await;
    assert_eq!(clean["drifted"], false, "{clean}");
    // The last run's age on /metrics follows the (manual) clock.
    let age = "edgepub_verification_last_run_age_seconds{project=\"site\"}";
    assert_eq!(gauge(&metrics(&app).await, age), Some(0));
    clock.advance(Span::seconds(30));
    assert_eq!(gauge(&metrics(&app).await, age), Some(30));
    let (ok, last, err) = verify_cli(&app, true);
    assert!(ok, "{err}");
    assert_eq!(last["pass"], 1, "{last}");
    assert_eq!(last["drifted"], false, "{last}");
    assert!(
        err.contains("last scheduled pass #1") && err.contains("(every 60 s): no drift"),
        "{err}"
    );

    // A target row and a cache key edited by hand.
    let key = format!("page:{tenant}:home");
    let redis = test_redis().await;
    let good = redis.get(&key).await.unwrap().expect("primed key");
    sqlite3(
        &app.data_dir.join("sites/site/pages.db"),
        "UPDATE published_pages SET title = 'Hacked' WHERE slug = 'a'",
    );
    redis.set_ex(&key, "{}", 300).await.unwrap();

    let drifted = next_pass(&app, &clock, 2).await;
    assert_eq!(drifted["drifted"], true, "{drifted}");
    assert_eq!(
        drifted["report"]["cache"]["stale"],
        json!([key]),
        "{drifted}"
    );

    // The key is written again by the verifier's repair, through the outbox.
    let deadline = Instant::now() + Duration::from_secs(60);
    while redis.get(&key).await.unwrap().as_deref() != Some(good.as_str()) {
        assert!(
            Instant::now() < deadline,
            "the cache key was never repaired"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, audit) = app.get("/api/audit?project=site&action=drift.repair").await;
    let entries = audit["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{audit}");
    assert!(entries[0].to_string().contains("verifier"), "{audit}");
    assert_eq!(entries[0]["summary"]["repair"], "cache", "{audit}");
    assert_eq!(entries[0]["summary"]["keys"], 1, "{audit}");
    // No job: `cache` never rewrites target rows.
    let (_, jobs) = app.get("/api/projects/site/publish-jobs").await;
    let repairs = jobs["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j["request"]["kind"] == "repair")
        .count();
    assert_eq!(repairs, 0, "{jobs}");

    // The next pass still sees the target (left alone), not the cache.
    let next = next_pass(&app, &clock, 3).await;
    assert_eq!(next["drifted"], true, "{next}");
    assert_eq!(next["report"]["cache"]["stale"], json!([]), "{next}");
    assert_eq!(next["report"]["targets"][0]["changed"][0]["slug"], "a");
    assert_eq!(title_of_a(&app), "Hacked");

    // The CLI: a live check (drift: exit 1) that names the stored pass, and `--last`.
    let (ok, report, err) = verify_cli(&app, false);
    assert!(!ok, "{err}");
    assert_eq!(report["drifted"], true, "{report}");
    assert!(err.contains("last scheduled pass #3"), "{err}");
    let (ok, last, err) = verify_cli(&app, true);
    assert!(!ok, "a drifted last pass exits 1: {err}");
    assert_eq!(last["pass"], 3, "{last}");
    assert_eq!(last["drifted"], true, "{last}");
    assert!(last["duration_ms"].as_i64().is_some(), "{last}");
    assert!(
        err.contains("drift from release 1: target") && err.contains("1 changed"),
        "{err}"
    );
}
