//! Subscriber endpoints: their URLs go through the address policy, and a URL with a new origin
//! gets a new secret (a stored secret is only ever sent where it was made for).

use crate::support::webhook_events::{site, subscribe};
use crate::support::{spawn, Backend};
use reqwest::Method;
use serde_json::json;

crate::both_backends!(endpoint_urls_follow_the_address_policy);

async fn endpoint_urls_follow_the_address_policy(backend: Backend) {
    let app = spawn(backend).await;
    site(&app).await;
    for (url, code) in [
        ("http://169.254.169.254/latest/meta-data", "address_refused"),
        ("http://user:pass@hooks.example.com/x", "invalid"),
        ("ftp://hooks.example.com/x", "invalid"),
    ] {
        let (s, b) = app
            .post("/api/projects/site/webhook-endpoints", json!({"url": url}))
            .await;
        assert_eq!(s, 422, "{url}: {b}");
        assert_eq!(b["error"]["details"]["fields"][0]["code"], code, "{b}");
    }
    let (s, b) = app
        .post(
            "/api/projects/site/webhook-endpoints",
            json!({"url": "http://a.example/x", "event_types": ["webhook.test"]}),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    // A new origin gets a new secret; the old one is never sent there.
    let (e, secret) = subscribe(&app, "http://a.example/x", json!([])).await;
    let path = format!("/api/webhook-endpoints/{}", e["id"].as_str().unwrap());
    let (_, same) = app
        .send(
            Method::PATCH,
            &path,
            Some(json!({"url": "http://a.example/y"})),
        )
        .await;
    assert!(same.get("secret").is_none(), "{same}");
    let (_, moved) = app
        .send(
            Method::PATCH,
            &path,
            Some(json!({"url": "http://b.example/y"})),
        )
        .await;
    let new = moved["secret"].as_str().expect("a new secret");
    assert_ne!(new, secret);
    let (s, _) = app.send(Method::DELETE, &path, None).await;
    assert_eq!(s, 204);
    let (s, _) = app.get(&path).await;
    assert_eq!(s, 404);
}
