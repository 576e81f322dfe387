use crate::both_backends;
use crate::support::{error_code, read, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(tokens_scopes_and_projects);

async fn tokens_scopes_and_projects(backend: Backend) {
    let app = spawn(backend).await;
    let mine = app.project("Mine").await;
    let theirs = app.project("Theirs").await;

    // 401 without or with a wrong token.
    let res = app.anon(Method::GET, "/api/projects").send().await.unwrap();
    assert_eq!(res.headers()["www-authenticate"], "Bearer");
    let (s, b) = read(res).await;
    assert_eq!((s, error_code(&b)), (401, "unauthorized"));
    let (s, _) = read(
        app.anon(Method::GET, "/api/projects")
            .bearer_auth("ep_wrong")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);

    // A token limited to one project with admin scope.
    let (s, created) = app
        .post(
            "/api/tokens",
            json!({"name": "mine-admin", "scopes": ["admin"], "project": "mine"}),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let scoped = created["token"].as_str().unwrap().to_string();
    assert!(scoped.len() >= 32, "at least 128 random bits");
    let as_scoped = |m: Method, path: &str| app.anon(m, path).bearer_auth(&scoped);
    assert_eq!(
        as_scoped(Method::GET, "/api/projects/mine")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (s, b) = read(
        as_scoped(Method::GET, "/api/projects/theirs")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    let (_, list) = read(
        as_scoped(Method::GET, "/api/projects")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (list["total"].as_i64(), list["items"][0]["id"].clone()),
        (Some(1), mine["id"].clone())
    );
    let page = app.page(&theirs, json!({"slug": "x", "name": "x"})).await;
    let url = format!("/api/pages/{}", page["id"].as_str().unwrap());
    // Another project's page reads exactly like a missing one.
    assert_eq!(
        as_scoped(Method::GET, &url).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        as_scoped(Method::GET, "/api/tokens")
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        as_scoped(Method::POST, "/api/projects")
            .json(&json!({"name": "n"}))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );

    // A publish-only token cannot administer.
    let (_, created) = app
        .post("/api/tokens", json!({"name": "ci", "scopes": ["publish"]}))
        .await;
    let ci = created["token"].as_str().unwrap();
    let (s, b) = read(
        app.anon(Method::GET, "/api/projects")
            .bearer_auth(ci)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((s, error_code(&b)), (403, "forbidden"));

    // Listing never shows secrets or hashes; revoking locks the token out.
    let (_, tokens) = app.get("/api/tokens").await;
    let text = tokens.to_string();
    assert!(!text.contains(&scoped) && !text.contains(&app.token) && !text.contains(ci));
    assert!(!text.contains("hash"));
    let id = created["id"].as_str().unwrap();
    let (s, revoked) = app
        .send(Method::DELETE, &format!("/api/tokens/{id}"), None)
        .await;
    assert!(s == 200 && revoked["revoked_at"].is_string(), "{revoked}");
    let (s, _) = read(
        app.anon(Method::GET, "/api/projects")
            .bearer_auth(ci)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 401);

    let (s, b) = app
        .post("/api/tokens", json!({"name": "", "scopes": []}))
        .await;
    assert_eq!(
        (s, b["error"]["details"]["fields"].as_array().map(Vec::len)),
        (422, Some(2))
    );
    let (s, _) = app
        .post("/api/tokens", json!({"name": "x", "scopes": ["root"]}))
        .await;
    assert_eq!(s, 422);
}
