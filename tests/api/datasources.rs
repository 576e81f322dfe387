//! Datasources: CRUD with the secret sealed and never shown.

use crate::both_backends;
use crate::helpers::{error_code, spawn, Backend};
use crate::publish::site;
use reqwest::Method;
use serde_json::json;

both_backends!(datasources_keep_their_secret_sealed);

async fn datasources_keep_their_secret_sealed(backend: Backend) {
    let app = spawn(backend).await;
    let (_, ds) = site(&app).await;
    assert_eq!(ds["secret"], json!({"set": true, "last4": "shed"}));
    assert!(!ds.to_string().contains("service-role"));
    let id = ds["id"].as_str().unwrap();
    let (s, list) = app.get("/api/projects/site/datasources").await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let (s, put) = app
        .send(
            Method::PUT,
            &format!("/api/datasources/{id}"),
            Some(
                json!({"type": "postgres", "name": "main", "url": "postgres://db.example.com/app"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{put}");
    assert_eq!(
        (put["type"].as_str(), put["secret"]["set"].as_bool()),
        (Some("postgres"), Some(true)),
        "omitting the secret keeps it"
    );
    let (s, dup) = app
        .post(
            "/api/projects/site/datasources",
            json!({"type": "mysql", "name": "main"}),
        )
        .await;
    assert_eq!((s, error_code(&dup)), (409, "name_taken"));
    let (s, bad) = app
        .post(
            "/api/projects/site/datasources",
            json!({"type": "oracle", "name": "x"}),
        )
        .await;
    assert_eq!(
        (s, bad["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/type"))
    );
    let (s, bad) = app
        .post(
            "/api/projects/site/datasources",
            json!({"type": "mysql", "name": "x", "secret_env_var": "lower case"}),
        )
        .await;
    assert_eq!(
        (s, bad["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/secret_env_var"))
    );
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/datasources/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(app.get(&format!("/api/datasources/{id}")).await.0, 404);
}
