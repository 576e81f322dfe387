//! Datasources: CRUD with the secret sealed and never shown.

use crate::both_backends;
use crate::support::publish::site;
use crate::support::{db_texts, error_code, pages_db, run_job, spawn, Backend};
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

/// Pages compile once per draft version; changing a datasource changes their compile context,
/// so the next publish recompiles and republishes them.
async fn datasource_changes_recompile_pages(backend: Backend) {
    let app = spawn(backend).await;
    let (project, ds) = site(&app).await;
    let binding = json!({"dataSourceId": ds["id"], "tableName": "orders"});
    let layout =
        json!({"content": [{"id": "t", "type": "DataTable", "props": {"binding": binding}}]});
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true, "layout_data": layout}),
    )
    .await;
    app.page(&project, json!({"slug": "about", "name": "About"}))
        .await;
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(first["state"], "succeeded", "{first}");
    let memo = db_texts(&app, "SELECT content_hash FROM compile_memo").await;
    assert_eq!(memo.len(), 2, "both drafts are memoised");

    let again = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(again["result"]["targets"][0]["unchanged"], 2);

    let url = ds["id"].as_str().unwrap();
    let body = json!({"type": "supabase", "name": "main", "url": "https://moved.supabase.co", "anon_key": "anon-public-key"});
    assert_eq!(
        app.send(Method::PUT, &format!("/api/datasources/{url}"), Some(body))
            .await
            .0,
        200
    );
    let moved = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(
        moved["result"]["targets"][0]["upserted"], 1,
        "the page bound to the datasource changed: {moved}"
    );
    let rows = pages_db(
        &app,
        "site",
        "SELECT layout_data FROM published_pages WHERE slug = 'home'",
    )
    .await;
    let layout: serde_json::Value =
        serde_json::from_str(&sqlx::Row::get::<String, _>(&rows[0], 0)).unwrap();
    assert!(layout["content"][0]["binding"]["dataRequest"]["url"]
        .as_str()
        .unwrap()
        .starts_with("https://moved.supabase.co"));
}

both_backends!(datasource_changes_recompile_pages);
