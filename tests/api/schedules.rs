//! Scheduled publishing: create, list, cancel; a due schedule becomes an ordinary publish job
//! (time moved with a `ManualClock`, never slept through). Several processes and downtime:
//! `schedules_replicas`.

use crate::both_backends;
use crate::support::schedules::{at, settled, witness};
use crate::support::{error_code, pages_db, spawn_clocked, wait_job, Backend};
use edgepub::clock::ManualClock;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

both_backends!(
    schedules_are_created_listed_and_cancelled,
    a_due_schedule_publishes_and_unpublishes
);

async fn schedules_are_created_listed_and_cancelled(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let project = app.project("Site").await;
    let other = app.project("Other").await;
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let foreign = app.page(&other, json!({"slug": "x", "name": "X"})).await;
    let base = "/api/projects/site/schedules";

    let (s, created) = app
        .post(
            base,
            json!({"at": at(&clock, 3600), "action": "publish", "pages": [page["id"]]}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(created["state"], "pending");
    assert_eq!(created["action"], "publish");
    assert_eq!(created["job_id"], Value::Null);
    assert_eq!(created["late"], false);
    let id = created["id"].as_str().unwrap().to_string();

    // Refused: a time long past, a page of another project, an unknown target, force on
    // an unpublish, an unknown field.
    let (s, e) = app
        .post(base, json!({"at": at(&clock, -3600), "action": "publish"}))
        .await;
    assert_eq!((s, error_code(&e)), (422, "validation_failed"), "{e}");
    assert_eq!(e["error"]["details"]["fields"][0]["code"], "in_the_past");
    let (s, e) = app
        .post(base, json!({"at": at(&clock, 60), "action": "unpublish", "pages": [foreign["id"]], "targets": [uuid::Uuid::new_v4()]}))
        .await;
    assert_eq!(s, 422, "{e}");
    let fields = e["error"]["details"]["fields"].as_array().unwrap();
    let codes: Vec<(&str, &str)> = fields
        .iter()
        .map(|f| (f["path"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        codes,
        [
            ("/pages/0", "unknown_page"),
            ("/targets/0", "unknown_target")
        ]
    );
    let (s, e) = app
        .post(
            base,
            json!({"at": at(&clock, 60), "action": "unpublish", "force": true}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["details"]["fields"][0]["code"].as_str()),
        (422, Some("not_for_unpublish"))
    );
    let (s, _) = app
        .post(
            base,
            json!({"at": at(&clock, 60), "action": "publish", "when": 1}),
        )
        .await;
    assert_eq!(s, 422);
    // "Now" (within a minute of the server's clock) is accepted.
    let (s, soon) = app
        .post(base, json!({"at": at(&clock, -10), "action": "unpublish"}))
        .await;
    assert_eq!(s, 201, "{soon}");
    let (s, _) = app
        .send(
            Method::DELETE,
            &format!("{base}/{}", soon["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 200);

    let (s, list) = app.get(base).await;
    assert_eq!(s, 200);
    assert_eq!(list["total"], 2, "{list}");
    assert_eq!(list["items"][0]["id"], soon["id"], "earliest first");
    let (_, pending) = app.get(&format!("{base}?state=pending")).await;
    assert_eq!(pending["total"], 1);
    assert_eq!(pending["items"][0]["id"], id.as_str());
    let (s, e) = app.get(&format!("{base}?state=sleeping")).await;
    assert_eq!((s, error_code(&e)), (422, "validation_failed"));

    let (s, got) = app.get(&format!("{base}/{id}")).await;
    assert_eq!((s, &got["pages"]), (200, &json!([page["id"]])));
    let (s, _) = app
        .get(&format!("/api/projects/other/schedules/{id}"))
        .await;
    assert_eq!(s, 404, "a schedule is only found under its project");

    let (s, cancelled) = app.post(&format!("{base}/{id}/cancel"), json!({})).await;
    assert_eq!(
        (s, cancelled["state"].as_str()),
        (200, Some("cancelled")),
        "{cancelled}"
    );
    assert!(cancelled["finished_at"].is_string());
    let (s, again) = app
        .send(Method::DELETE, &format!("{base}/{id}"), None)
        .await;
    assert_eq!(
        (s, again["state"].as_str()),
        (200, Some("cancelled")),
        "cancelling twice is harmless"
    );

    // A cancelled schedule never runs: once a schedule due after it (in a project of its own)
    // has run, the worker has passed its time.
    let witness = witness(&app, &clock, 3700).await;
    clock.advance(chrono::Duration::hours(2));
    let ran = settled(&app.client, &app.base, &app.token, &witness).await;
    assert_eq!(ran["state"], "ran", "{ran}");
    let (_, got) = app.get(&format!("{base}/{id}")).await;
    assert_eq!(got["state"], "cancelled");
    let (_, jobs) = app.get("/api/projects/site/publish-jobs").await;
    assert_eq!(jobs["total"], 0, "{jobs}");
}

async fn a_due_schedule_publishes_and_unpublishes(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    let project = app.project("Site").await;
    let home = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let about = app
        .page(&project, json!({"slug": "about", "name": "About"}))
        .await;
    let base = "/api/projects/site/schedules";
    let (s, publish) = app
        .post(base, json!({"at": at(&clock, 600), "action": "publish"}))
        .await;
    assert_eq!(s, 201, "{publish}");
    let (_, unpublish) = app
        .post(
            base,
            json!({"at": at(&clock, 1200), "action": "unpublish", "pages": [about["id"]]}),
        )
        .await;
    // Due first, when nothing is published yet: a whole-site unpublish fails, saying why.
    let (_, early) = app
        .post(base, json!({"at": at(&clock, 300), "action": "unpublish"}))
        .await;

    // Not yet due: nothing happens however long we wait in real time.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (_, jobs) = app.get("/api/projects/site/publish-jobs").await;
    assert_eq!(jobs["total"], 0);
    assert!(!app.data_dir.join("sites/site/pages.db").exists());

    clock.advance(chrono::Duration::seconds(601));
    let early_path = format!("{base}/{}", early["id"].as_str().unwrap());
    let early = settled(&app.client, &app.base, &app.token, &early_path).await;
    assert_eq!(early["state"], "failed", "{early}");
    assert!(
        early["error"]
            .as_str()
            .unwrap()
            .starts_with("nothing is published"),
        "no stray `: ` before a problem of the whole schedule: {early}"
    );
    let path = format!("{base}/{}", publish["id"].as_str().unwrap());
    let ran = settled(&app.client, &app.base, &app.token, &path).await;
    assert_eq!(ran["state"], "ran", "{ran}");
    assert_eq!(ran["late"], false, "{ran}");
    assert!(ran["late_by_secs"].as_i64().unwrap() < 60, "{ran}");
    let job = wait_job(&app, ran["job_id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["kind"], "publish");
    assert_eq!(
        job["created_by"], publish["created_by"],
        "the job is the schedule creator's"
    );
    let slugs = |rows: Vec<sqlx::sqlite::SqliteRow>| -> Vec<String> {
        rows.iter().map(|r| sqlx::Row::get(r, 0)).collect()
    };
    let rows = pages_db(
        &app,
        "site",
        "SELECT slug FROM published_pages ORDER BY slug",
    )
    .await;
    assert_eq!(slugs(rows), ["about", "home"]);
    let (s, e) = app.send(Method::DELETE, &path, None).await;
    assert_eq!(
        (s, error_code(&e)),
        (409, "schedule_finished"),
        "a schedule that ran cannot be cancelled"
    );
    let (_, unpub) = app
        .get(&format!("{base}/{}", unpublish["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        unpub["state"], "pending",
        "the later schedule waits for its own time"
    );

    clock.advance(chrono::Duration::seconds(600));
    let path = format!("{base}/{}", unpublish["id"].as_str().unwrap());
    let ran = settled(&app.client, &app.base, &app.token, &path).await;
    let job = wait_job(&app, ran["job_id"].as_str().unwrap()).await;
    assert_eq!(
        (job["state"].as_str(), job["kind"].as_str()),
        (Some("succeeded"), Some("unpublish")),
        "{job}"
    );
    let rows = pages_db(
        &app,
        "site",
        "SELECT slug FROM published_pages ORDER BY slug",
    )
    .await;
    assert_eq!(slugs(rows), ["home"]);
    let _ = home;

    // A page deleted before its schedule's time: the schedule fails, saying why.
    let (_, s3) = app
        .post(
            base,
            json!({"at": at(&clock, 60), "action": "publish", "pages": [about["id"]]}),
        )
        .await;
    let (s, _) = app
        .send(
            Method::DELETE,
            &format!("/api/pages/{}", about["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(s, 204);
    clock.advance(chrono::Duration::seconds(61));
    let failed = settled(
        &app.client,
        &app.base,
        &app.token,
        &format!("{base}/{}", s3["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(failed["state"], "failed", "{failed}");
    assert!(
        failed["error"].as_str().unwrap().contains("/pages/0"),
        "{failed}"
    );
    assert_eq!(failed["job_id"], Value::Null);

    // A whole-site unpublish takes off every published page.
    let (_, all_off) = app
        .post(base, json!({"at": at(&clock, 60), "action": "unpublish"}))
        .await;
    clock.advance(chrono::Duration::seconds(61));
    let all_off_path = format!("{base}/{}", all_off["id"].as_str().unwrap());
    let ran = settled(&app.client, &app.base, &app.token, &all_off_path).await;
    let job = wait_job(&app, ran["job_id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let rows = pages_db(&app, "site", "SELECT slug FROM published_pages").await;
    assert!(rows.is_empty(), "the whole site is off");

    // The audit log says who scheduled, and that the scheduler ran each one for them.
    let (_, log) = app.get("/api/audit?action=schedule.*&limit=500").await;
    let entries = log["items"].as_array().unwrap();
    let count = |a: &str| entries.iter().filter(|e| e["action"] == a).count();
    assert_eq!(
        (
            count("schedule.create"),
            count("schedule.run"),
            count("schedule.fail")
        ),
        (5, 3, 2),
        "{log}"
    );
    let run = entries
        .iter()
        .find(|e| e["action"] == "schedule.run")
        .unwrap();
    assert_eq!(
        run["actor_name"],
        "scheduler (for admin (EDGEPUB_ADMIN_TOKEN))"
    );
    assert_eq!(run["actor_id"], publish["created_by"]);
    assert_eq!(
        run["summary"]["job_id"], ran["job_id"],
        "the newest run is the whole-site unpublish"
    );
    let (_, jobs) = app.get("/api/audit?action=unpublish").await;
    assert_eq!(
        jobs["items"].as_array().unwrap().len(),
        0,
        "a scheduled job is audited as the schedule's run"
    );
}
