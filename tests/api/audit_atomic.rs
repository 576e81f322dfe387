//! An audited change and its audit entry commit together: when the entry cannot be written
//! the change does not happen, and when it can, both are there.

use crate::both_backends;
use crate::support::{db_texts, spawn, Backend, TestApp};
use reqwest::Method;
use serde_json::json;

both_backends!(a_change_whose_entry_cannot_be_written_does_not_happen);

async fn exec(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    if app.db_url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&app.db_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&app.db_url).await.unwrap();
        sqlx::query(sql).execute(&mut c).await.unwrap();
    }
}

async fn count(app: &TestApp, sql: &str) -> String {
    db_texts(app, sql).await[0].clone().unwrap_or_default()
}

async fn a_change_whose_entry_cannot_be_written_does_not_happen(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let id = project["id"].as_str().unwrap().to_string();
    let page = app.page(&project, json!({"slug": "a", "name": "A"})).await;
    let page_id = page["id"].as_str().unwrap().to_string();
    let entries = "SELECT CAST(COUNT(*) AS TEXT) FROM audit_log";
    let before = count(&app, entries).await;

    // The log cannot be written: every audited change fails and leaves nothing behind.
    exec(&app, "ALTER TABLE audit_log RENAME TO audit_log_away").await;
    let (s, _) = app.post("/api/projects", json!({"name": "Lost"})).await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .send(
            Method::PATCH,
            &format!("/api/projects/{id}"),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .post(
            &format!("/api/projects/{id}/pages"),
            json!({"slug": "b", "name": "B"}),
        )
        .await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .send(Method::DELETE, &format!("/api/pages/{page_id}"), None)
        .await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .post(&format!("/api/projects/{id}/publish"), json!({}))
        .await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .post("/api/tokens", json!({"name": "ci", "scopes": ["publish"]}))
        .await;
    assert!(s >= 500, "{s}");
    let (s, _) = app
        .post(&format!("/api/projects/{id}/webhook-secrets"), json!({}))
        .await;
    assert!(s >= 500, "{s}");
    exec(&app, "ALTER TABLE audit_log_away RENAME TO audit_log").await;

    let (_, projects) = app.get("/api/projects").await;
    assert_eq!(projects["total"], 1, "{projects}");
    assert_eq!(
        app.get(&format!("/api/projects/{id}")).await.1["name"],
        "Site"
    );
    let (_, pages) = app.get(&format!("/api/projects/{id}/pages")).await;
    assert_eq!(pages["total"], 1, "{pages}");
    assert_eq!(app.get(&format!("/api/pages/{page_id}")).await.0, 200);
    assert_eq!(
        count(&app, "SELECT CAST(COUNT(*) AS TEXT) FROM publish_jobs").await,
        "0"
    );
    let tokens = "SELECT CAST(COUNT(*) AS TEXT) FROM api_tokens WHERE name = 'ci'";
    assert_eq!(count(&app, tokens).await, "0");
    let secrets = "SELECT CAST(COUNT(*) AS TEXT) FROM webhook_secrets";
    assert_eq!(count(&app, secrets).await, "0");
    assert_eq!(count(&app, entries).await, before);

    // With the log back, the change and its entry land together.
    let (s, renamed) = app
        .send(
            Method::PATCH,
            &format!("/api/projects/{id}"),
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(s, 200, "{renamed}");
    let (_, log) = app.get("/api/audit?action=project.update").await;
    assert_eq!(log["items"][0]["summary"]["name"], "Renamed", "{log}");
}
