//! A subscriber endpoint's URL is a secret (chat and CI webhooks carry a token in the path):
//! shown whole once, in the answer to the create; reads and the audit log show its scheme,
//! host and a masked path; it is sealed at rest; events still go to the full URL.

use crate::support::subscriber::Subscriber;
use crate::support::{db_texts, spawn, Backend};
use reqwest::Method;
use serde_json::json;

crate::both_backends!(an_endpoint_url_is_shown_once_and_sealed_at_rest);

const TOKEN: &str = "T0K3N-in-the-path-0123456789";

async fn an_endpoint_url_is_shown_once_and_sealed_at_rest(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let sub = Subscriber::start(vec![]).await;
    let full = format!("{}/services/{TOKEN}?channel=x", sub.url);
    let (s, created) = app
        .post("/api/projects/site/webhook-endpoints", json!({"url": full}))
        .await;
    assert_eq!(s, 201, "{created}");
    assert_eq!(
        created["url"],
        full.as_str(),
        "the create shows the full URL once"
    );
    let id = created["id"].as_str().unwrap().to_string();
    let origin = full.split("/hook").next().unwrap().to_string();
    let masked = format!("{origin}/***");

    let (_, one) = app.get(&format!("/api/webhook-endpoints/{id}")).await;
    assert_eq!(one["url"], masked.as_str(), "{one}");
    let (_, listed) = app.get("/api/projects/site/webhook-endpoints").await;
    assert_eq!(listed[0]["url"], masked.as_str(), "{listed}");
    // A change that leaves the URL alone keeps the full one (not the masked one it was read as).
    let (s, patched) = app
        .send(
            Method::PATCH,
            &format!("/api/webhook-endpoints/{id}"),
            Some(json!({"description": "ci"})),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["url"], masked.as_str());
    assert!(patched.get("secret").is_none(), "same origin, same secret");
    let (s, sent) = app
        .post(&format!("/api/webhook-endpoints/{id}/test"), json!({}))
        .await;
    assert_eq!(s, 202, "{sent}");
    let got = sub.wait_for(1).await;
    assert_eq!(got[0].target, format!("/hook/services/{TOKEN}?channel=x"));

    // A new path on the same origin: the audit names the change, still masked.
    let (s, _) = app
        .send(
            Method::PATCH,
            &format!("/api/webhook-endpoints/{id}"),
            Some(json!({"url": format!("{origin}/other/{TOKEN}")})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, log) = app.get("/api/audit?action=webhook_endpoint.*").await;
    let text = log.to_string();
    assert!(!text.contains(TOKEN), "{text}");
    let update = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "webhook_endpoint.update" && e["summary"].get("url").is_some())
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(update["summary"]["url"], masked.as_str());
    let create = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "webhook_endpoint.create")
        .unwrap();
    assert_eq!(create["summary"]["url"], masked.as_str());

    // At rest: sealed, never the URL.
    let stored = db_texts(&app, "SELECT url FROM webhook_endpoints").await;
    let stored = stored[0].clone().unwrap();
    assert!(
        stored.starts_with("v1.") && !stored.contains(TOKEN),
        "{stored}"
    );
}
