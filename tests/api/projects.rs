use crate::both_backends;
use crate::support::{error_code, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(project_crud, project_conflicts_and_validation);

async fn project_crud(backend: Backend) {
    let app = spawn(backend).await;
    let p = app.project("My Great Site").await;
    assert_eq!(p["slug"], "my-great-site");
    assert_eq!(p["tenant_slug"], "_default");
    let id = p["id"].as_str().unwrap().to_string();

    // By id and by slug.
    assert_eq!(app.get(&format!("/api/projects/{id}")).await.1["id"], id);
    assert_eq!(app.get("/api/projects/my-great-site").await.1["id"], id);

    // Pagination with a total.
    app.project("Second").await;
    app.project("Third").await;
    let (_, first) = app.get("/api/projects?limit=2").await;
    assert_eq!(
        (
            first["items"].as_array().unwrap().len(),
            first["total"].as_i64()
        ),
        (2, Some(3))
    );
    let (_, rest) = app.get("/api/projects?limit=2&offset=2").await;
    assert_eq!(rest["items"][0]["slug"], "third");

    // PUT replaces every field: omitted optional fields become null.
    let (s, put) = app
        .send(
            Method::PUT,
            &format!("/api/projects/{id}"),
            Some(
                json!({"name": "Renamed", "slug": "renamed", "description": "d", "site_name": "S",
                        "favicon_url": "/favicon.ico", "app_url": "https://example.com"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{put}");
    assert_eq!(
        (put["slug"].as_str(), put["site_name"].as_str()),
        (Some("renamed"), Some("S"))
    );
    assert!(put["updated_at"].as_str() >= p["updated_at"].as_str());
    // A replace without a slug keeps the project's address.
    let (s, kept) = app
        .send(
            Method::PUT,
            &format!("/api/projects/{id}"),
            Some(
                json!({"name": "Renamed", "description": "d", "site_name": "S",
                "favicon_url": "/favicon.ico", "app_url": "https://example.com"}),
            ),
        )
        .await;
    assert_eq!((s, kept["slug"].as_str()), (200, Some("renamed")), "{kept}");

    // PATCH changes only what it names; null clears.
    let (s, patched) = app
        .send(
            Method::PATCH,
            "/api/projects/renamed",
            Some(json!({"description": null, "logo_url": "/l.png"})),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(patched["description"], serde_json::Value::Null);
    assert_eq!(patched["logo_url"], "/l.png");
    assert_eq!(patched["site_name"], "S");

    // Delete removes it and its pages.
    let page = app
        .page(&patched, json!({"slug": "home", "name": "Home"}))
        .await;
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/projects/{id}"), None)
        .await;
    assert_eq!(s, 204);
    assert_eq!(app.get(&format!("/api/projects/{id}")).await.0, 404);
    assert_eq!(
        app.get(&format!("/api/pages/{}", page["id"].as_str().unwrap()))
            .await
            .0,
        404
    );
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/projects/{id}"), None)
            .await
            .0,
        404
    );
}

async fn project_conflicts_and_validation(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Taken").await;
    let (s, body) = app
        .post("/api/projects", json!({"name": "Other", "slug": "taken"}))
        .await;
    assert_eq!((s, error_code(&body)), (409, "slug_taken"));

    let other = app.project("Other").await;
    let (s, body) = app
        .send(
            Method::PATCH,
            &format!("/api/projects/{}", other["id"].as_str().unwrap()),
            Some(json!({"slug": "taken"})),
        )
        .await;
    assert_eq!((s, error_code(&body)), (409, "slug_taken"));

    let (s, body) = app
        .post(
            "/api/projects",
            json!({"name": "", "slug": "No Way", "tenant_slug": "X", "logo_url": "javascript:x"}),
        )
        .await;
    assert_eq!((s, error_code(&body)), (422, "validation_failed"));
    let paths: Vec<&str> = body["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/name", "/slug", "/tenant_slug", "/logo_url"]);

    let (s, body) = app
        .post("/api/projects", json!({"name": "x", "surprise": 1}))
        .await;
    assert_eq!(
        (s, body["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/surprise"))
    );
}
