//! A cache step whose pending operations a newer release supersedes is over (`done`) with
//! nothing left for the cache worker to apply: its `publish.cache_done` is recorded by the
//! publish that superseded it, in the same transaction, so a subscriber waiting for it is not left waiting (found by
//! the soak: a step superseded while Redis was down never sent its event).

use crate::support::subscriber::Subscriber;
use crate::support::{run_job, spawn, Backend};
use reqwest::Method;
use serde_json::json;

crate::both_backends!(a_superseded_cache_step_sends_its_event);

async fn a_superseded_cache_step_sends_its_event(backend: Backend) {
    let app = spawn(backend).await;
    let hook = Subscriber::start(vec![]).await;
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201, "{project}");
    // Nothing listens there: every operation stays pending until superseded.
    let settings = json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:1", "redis_enabled": true, "cache_mode": "prime"});
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(settings),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let (s, endpoint) = app
        .post(
            "/api/projects/site/webhook-endpoints",
            json!({"url": hook.url, "event_types": ["publish.cache_done"]}),
        )
        .await;
    assert_eq!(s, 201);
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let id = page["id"].as_str().unwrap();
    let (s, b) = app
        .send(
            Method::PATCH,
            &format!("/api/pages/{id}"),
            Some(json!({"title": "Changed"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let second = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(second["state"], "succeeded", "{second}");
    // The event committed with the release that superseded the step: it is in the delivery
    // log as soon as that job is finished, with no later step that a crash could skip.
    let log = format!(
        "/api/webhook-endpoints/{}/deliveries",
        endpoint["id"].as_str().unwrap()
    );
    let (_, deliveries) = app.get(&log).await;
    assert_eq!(
        deliveries["items"][0]["event_type"], "publish.cache_done",
        "{deliveries}"
    );

    let got = hook.wait_for(1).await;
    let event = got[0].json();
    assert_eq!(event["type"], "publish.cache_done", "{event}");
    assert_eq!(event["data"]["job_id"], first["id"], "{event}");
    assert_eq!(event["data"]["cache"]["status"], "done", "{event}");
    let (_, job) = app
        .get(&format!(
            "/api/publish-jobs/{}",
            first["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(job["cache"]["status"], "done", "{job}");
}
