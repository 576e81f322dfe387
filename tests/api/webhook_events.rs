//! Outgoing publish events: signed per endpoint and verified by the official Standard Webhooks
//! library; delivered through a durable queue whose retry schedule an injected clock drives;
//! 410, redirects, timeouts and Retry-After; a killed process loses no delivery; two
//! processes on one Postgres deliver each event once.

use crate::support::subscriber::{verify_with_library, Reply, Subscriber};
use crate::support::webhook_events::{site, subscribe};
use crate::support::{run_job, spawn, spawn_clocked, Backend, TestApp};
use chrono::{DateTime, Duration as Span, Utc};
use edgepub::clock::ManualClock;
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

crate::both_backends!(
    events_are_signed_for_each_endpoint_and_filtered_by_type,
    retries_follow_the_schedule_on_an_injected_clock,
    an_endpoint_failing_through_the_whole_schedule_is_disabled
);

async fn deliveries(app: &TestApp, endpoint: &Value) -> Vec<Value> {
    let (s, d) = app
        .get(&format!(
            "/api/webhook-endpoints/{}/deliveries",
            endpoint["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{d}");
    d["items"].as_array().unwrap().clone()
}

/// Waits (bounded) until the endpoint's newest delivery has `n` attempts logged.
async fn attempts(app: &TestApp, endpoint: &Value, n: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(d) = deliveries(app, endpoint).await.into_iter().next() {
            if d["log"].as_array().unwrap().len() >= n && d["attempts"].as_u64() == Some(n as u64) {
                return d;
            }
            assert!(Instant::now() < deadline, "attempt {n} never logged: {d}");
        }
        assert!(Instant::now() < deadline, "no delivery");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

/// Seconds from the attempt to the next one it scheduled.
fn pause_after(d: &Value, attempt: usize) -> i64 {
    let a = &d["log"][attempt - 1];
    (at(&a["next_attempt_at"]) - at(&a["attempted_at"])).num_seconds()
}

async fn events_are_signed_for_each_endpoint_and_filtered_by_type(backend: Backend) {
    let app = spawn(backend).await;
    site(&app).await;
    let all = Subscriber::start(vec![]).await;
    let failures = Subscriber::start(vec![]).await;
    let (every, every_secret) = subscribe(&app, &all.url, json!([])).await;
    let (only_failed, failed_secret) =
        subscribe(&app, &failures.url, json!(["publish.failed"])).await;
    assert_ne!(every_secret, failed_secret);
    // Listing and reading never show a secret.
    let (_, listed) = app.get("/api/projects/site/webhook-endpoints").await;
    let (_, one) = app
        .get(&format!(
            "/api/webhook-endpoints/{}",
            every["id"].as_str().unwrap()
        ))
        .await;
    for text in [listed.to_string(), one.to_string()] {
        assert!(
            !text.contains(&every_secret) && !text.contains("whsec_"),
            "{text}"
        );
    }

    let (_, audit) = app.get("/api/audit?action=webhook_endpoint.*").await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");
    assert!(!audit.to_string().contains("whsec_"), "{audit}");

    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let got = all.wait_for(1).await;
    let event =
        verify_with_library(&every_secret, &got[0]).expect("the library verifies the event");
    assert_eq!(event["type"], "publish.succeeded");
    assert_eq!(event["data"]["job_id"], job["id"]);
    assert_eq!(event["data"]["release_id"], job["release_id"]);
    assert_eq!(event["data"]["targets"][0]["ok"], true);
    // The event is recorded before the release commits; the job's figure includes the commit.
    let until_commit = event["data"]["timings"]["total_ms"]
        .as_u64()
        .expect("a number");
    let (_, job) = app
        .get(&format!(
            "/api/publish-jobs/{}",
            job["id"].as_str().unwrap()
        ))
        .await;
    assert!(
        job["result"]["total_ms"].as_u64() >= Some(until_commit),
        "{job}"
    );
    assert!(got[0].headers["webhook-id"].starts_with("msg_"));
    assert!(
        verify_with_library(&failed_secret, &got[0]).is_none(),
        "another endpoint's secret does not verify it"
    );

    // A publish that fails (no enabled target) goes to both.
    let (_, targets) = app.get("/api/projects/site/targets").await;
    let target = targets[0]["id"].as_str().unwrap();
    let (s, _) = app
        .send(
            Method::PATCH,
            &format!("/api/targets/{target}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "failed");
    let got = failures.wait_for(1).await;
    let event = verify_with_library(&failed_secret, &got[0]).expect("verified");
    assert_eq!(event["type"], "publish.failed");
    assert!(event["data"]["error"]
        .as_str()
        .unwrap()
        .contains("no enabled publish target"));
    assert_eq!(all.wait_for(2).await[1].json()["type"], "publish.failed");

    // The test event goes to one endpoint only; the log shows each attempt.
    let (s, d) = app
        .post(
            &format!(
                "/api/webhook-endpoints/{}/test",
                only_failed["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, 202, "{d}");
    let got = failures.wait_for(2).await;
    assert_eq!(
        verify_with_library(&failed_secret, &got[1]).unwrap()["type"],
        "webhook.test"
    );
    let d = attempts(&app, &only_failed, 1).await;
    assert_eq!(
        (d["state"].as_str(), d["log"][0]["status_code"].as_i64()),
        (Some("delivered"), Some(204))
    );
    assert!(d["log"][0]["next_attempt_at"].is_null());

    // Redelivery sends the same message again, as a new delivery.
    let first = deliveries(&app, &every).await.pop().unwrap();
    let (s, again) = app
        .post(
            &format!(
                "/api/webhook-deliveries/{}/redeliver",
                first["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(s, 202, "{again}");
    assert_eq!(again["message_id"], first["message_id"]);
    let got = all.wait_for(3).await;
    assert_eq!(got[2].headers["webhook-id"], got[0].headers["webhook-id"]);
    assert_eq!(got[2].body, got[0].body);
    assert_eq!(all.received().len(), 3, "no other event reached it");
    assert_eq!(failures.received().len(), 2);
}

async fn retries_follow_the_schedule_on_an_injected_clock(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(
        backend,
        &[("EDGEPUB_WEBHOOK_TIMEOUT_SECS", "1")],
        clock.clone(),
    )
    .await;
    site(&app).await;
    let flaky = Subscriber::start(vec![Reply::Status(500), Reply::Status(502)]).await;
    let slow = Subscriber::start(vec![Reply::Slow(Duration::from_secs(3))]).await;
    let gone = Subscriber::start(vec![Reply::Status(410)]).await;
    let target = Subscriber::start(vec![]).await;
    let moved = Subscriber::start(vec![Reply::Redirect(target.url.clone())]).await;
    let busy = Subscriber::start(vec![Reply::RetryAfter(503, "3600")]).await;
    let (flaky_e, _) = subscribe(&app, &flaky.url, json!([])).await;
    let (slow_e, _) = subscribe(&app, &slow.url, json!([])).await;
    let (gone_e, _) = subscribe(&app, &gone.url, json!([])).await;
    let (moved_e, _) = subscribe(&app, &moved.url, json!([])).await;
    let (busy_e, _) = subscribe(&app, &busy.url, json!([])).await;
    run_job(&app, "/api/projects/site/publish", json!({})).await;

    let d = attempts(&app, &flaky_e, 1).await;
    assert_eq!(
        (d["state"].as_str(), d["log"][0]["status_code"].as_i64()),
        (Some("pending"), Some(500))
    );
    assert!((4..=5).contains(&pause_after(&d, 1)), "{d}");

    let d = attempts(&app, &slow_e, 1).await;
    assert!(d["log"][0]["status_code"].is_null());
    assert!(
        d["log"][0]["error"].as_str().unwrap().contains("timeout"),
        "{d}"
    );

    let d = attempts(&app, &gone_e, 1).await;
    assert_eq!(d["state"], "failed");
    let (_, e) = app
        .get(&format!(
            "/api/webhook-endpoints/{}",
            gone_e["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(e["enabled"], false);
    assert!(
        e["disabled_reason"].as_str().unwrap().contains("410"),
        "{e}"
    );

    let d = attempts(&app, &moved_e, 1).await;
    assert_eq!(d["log"][0]["status_code"], 302);
    assert!(d["log"][0]["error"]
        .as_str()
        .unwrap()
        .contains("redirects are not followed"));
    assert!(
        target.received().is_empty(),
        "the redirect was not followed"
    );

    let d = attempts(&app, &busy_e, 1).await;
    assert_eq!(
        pause_after(&d, 1),
        3600,
        "Retry-After beats the 5 s pause: {d}"
    );

    // Nothing is due before its time; then the second and third attempts come on schedule.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(flaky.received().len(), 1);
    clock.advance(Span::seconds(6));
    let d = attempts(&app, &flaky_e, 2).await;
    assert_eq!(d["log"][1]["status_code"], 502);
    assert!((270..=330).contains(&pause_after(&d, 2)), "{d}");
    clock.advance(Span::seconds(331));
    let d = attempts(&app, &flaky_e, 3).await;
    assert_eq!(
        (d["state"].as_str(), d["log"][2]["status_code"].as_i64()),
        (Some("delivered"), Some(204))
    );
    let (_, e) = app
        .get(&format!(
            "/api/webhook-endpoints/{}",
            flaky_e["id"].as_str().unwrap()
        ))
        .await;
    assert!(e["last_success_at"].is_string());
    assert_eq!(
        gone.received().len(),
        1,
        "a disabled endpoint gets nothing more"
    );
}

async fn an_endpoint_failing_through_the_whole_schedule_is_disabled(backend: Backend) {
    let clock = Arc::new(ManualClock::default());
    let app = spawn_clocked(backend, &[], clock.clone()).await;
    site(&app).await;
    let down = Subscriber::start(vec![]).await;
    down.answer(Reply::Status(500));
    let (e, _) = subscribe(&app, &down.url, json!(["publish.succeeded"])).await;
    run_job(&app, "/api/projects/site/publish", json!({})).await;
    let mut total = 0;
    for n in 1..=10 {
        let d = attempts(&app, &e, n).await;
        if n < 10 {
            assert_eq!(d["state"], "pending");
            let pause = pause_after(&d, n);
            total += pause;
            clock.advance(Span::seconds(pause + 1));
        } else {
            assert_eq!(d["state"], "failed", "{d}");
            assert!(d["log"][9]["next_attempt_at"].is_null());
        }
    }
    assert!(
        (240_000..=300_000).contains(&total),
        "about three days: {total} s"
    );
    let (_, endpoint) = app
        .get(&format!(
            "/api/webhook-endpoints/{}",
            e["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(endpoint["enabled"], false);
    assert!(
        endpoint["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("every attempt"),
        "{endpoint}"
    );

    // A disabled endpoint refuses redelivery until it is enabled again.
    let failed = deliveries(&app, &e).await.remove(0);
    let redeliver = format!(
        "/api/webhook-deliveries/{}/redeliver",
        failed["id"].as_str().unwrap()
    );
    let (s, _) = app.post(&redeliver, json!({})).await;
    assert_eq!(s, 409);
    down.answer(Reply::Status(200));
    let (s, enabled) = app
        .send(
            Method::PATCH,
            &format!("/api/webhook-endpoints/{}", e["id"].as_str().unwrap()),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200, "{enabled}");
    assert!(
        enabled["disabled_reason"].is_null() && enabled.get("secret").is_none(),
        "{enabled}"
    );
    let (s, _) = app.post(&redeliver, json!({})).await;
    assert_eq!(s, 202);
    let d = attempts(&app, &e, 1).await;
    assert_eq!(d["state"], "delivered", "{d}");
}
