//! The signed publish webhook, checked against the official Standard Webhooks library (npm
//! `standardwebhooks`): requests it signs start publishes; replays, wrong secrets, tampered
//! bodies and unknown projects get one identical 401; rotation keeps the old secret for its
//! grace period; a repeated `webhook-id` returns the same job.

use crate::support::{read, spawn, wait_job, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(the_publish_webhook_takes_standard_webhooks_signatures);

/// The reference library's signature of `body`.
fn sign(secret: &str, id: &str, ts: i64, body: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/sdk/standard_webhooks.mjs"
        ))
        .args(["sign", secret, id, &ts.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node (run scripts/test.sh)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

async fn hook(
    app: &TestApp,
    project: &str,
    id: &str,
    ts: i64,
    sig: &str,
    body: &str,
) -> (u16, Value) {
    let res = app
        .anon(Method::POST, &format!("/api/hooks/publish/{project}"))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    read(res).await
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn the_publish_webhook_takes_standard_webhooks_signatures(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let (s, created) = app
        .post("/api/projects/site/webhook-secrets", json!({}))
        .await;
    assert_eq!(s, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let (_, list) = app.get("/api/projects/site/webhook-secrets").await;
    assert!(
        !list.to_string().contains(&secret[6..]),
        "never listed: {list}"
    );

    // Signed by the reference library: accepted, and the job publishes.
    let body = r#"{"force": false}"#;
    let ts = now();
    let sig = sign(&secret, "msg_1", ts, body);
    let (s, accepted) = hook(&app, "site", "msg_1", ts, &sig, body).await;
    assert_eq!(s, 202, "{accepted}");
    let job = wait_job(&app, accepted["job_id"].as_str().unwrap()).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    // The sender retries: the same job.
    let (s, again) = hook(&app, "site", "msg_1", ts, &sig, body).await;
    assert_eq!((s, &again["job_id"]), (202, &accepted["job_id"]));
    // An empty body publishes everything.
    let ts = now();
    let (s, _) = hook(
        &app,
        "site",
        "msg_2",
        ts,
        &sign(&secret, "msg_2", ts, ""),
        "",
    )
    .await;
    assert_eq!(s, 202);

    // Everything wrong answers the same 401.
    let (_, refused) = app
        .post("/api/projects/site/webhook-secrets", json!({}))
        .await;
    let other = refused["secret"].as_str().unwrap().to_string();
    app.send(
        Method::DELETE,
        &format!("/api/webhook-secrets/{}", refused["id"].as_str().unwrap()),
        None,
    )
    .await;
    let old = now() - 400;
    let cases = [
        (
            "site",
            "msg_3",
            old,
            sign(&secret, "msg_3", old, body),
            body,
        ),
        (
            "site",
            "msg_4",
            now(),
            sign(&other, "msg_4", now(), body),
            body,
        ),
        (
            "site",
            "msg_5",
            now(),
            sign(&secret, "msg_5", now(), body),
            r#"{"force": true}"#,
        ),
        (
            "nope",
            "msg_6",
            now(),
            sign(&secret, "msg_6", now(), body),
            body,
        ),
        ("site", "msg_7", now(), "v1,".to_string(), body),
    ];
    let mut bodies = Vec::new();
    for (project, id, ts, sig, sent) in &cases {
        let (s, b) = hook(&app, project, id, *ts, sig, sent).await;
        assert_eq!(s, 401, "{id}: {b}");
        bodies.push(b.to_string());
    }
    bodies.dedup();
    assert_eq!(
        bodies.len(),
        1,
        "no hint of which part was wrong: {bodies:?}"
    );

    // Rotation: the old secret stays valid for the grace period, the new one works at once;
    // revoking ends the old one.
    let id = created["id"].as_str().unwrap();
    let (s, rotated) = app
        .post(
            &format!("/api/webhook-secrets/{id}/rotate"),
            json!({"grace_secs": 3600}),
        )
        .await;
    assert_eq!(s, 201, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_string();
    for (secret, msg) in [(&secret, "msg_8"), (&new, "msg_9")] {
        let ts = now();
        let (s, b) = hook(&app, "site", msg, ts, &sign(secret, msg, ts, body), body).await;
        assert_eq!(s, 202, "{msg}: {b}");
    }
    let (_, list) = app.get("/api/projects/site/webhook-secrets").await;
    let old_entry = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap();
    assert!(old_entry["expires_at"].is_string(), "{list}");
    app.send(Method::DELETE, &format!("/api/webhook-secrets/{id}"), None)
        .await;
    let ts = now();
    let (s, _) = hook(
        &app,
        "site",
        "msg_10",
        ts,
        &sign(&secret, "msg_10", ts, body),
        body,
    )
    .await;
    assert_eq!(s, 401);

    // Bodies are bounded.
    let big = format!(r#"{{"pages": [], "x": "{}"}}"#, "a".repeat(70_000));
    let ts = now();
    let (s, _) = hook(
        &app,
        "site",
        "msg_11",
        ts,
        &sign(&new, "msg_11", ts, &big),
        &big,
    )
    .await;
    assert_eq!(s, 413);
}
