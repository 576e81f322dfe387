use crate::both_backends;
use crate::support::fake_edge::{FakeEdge, KEY};
use crate::support::{db_texts, error_code, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(
    targets_crud_with_sealed_tokens_and_confined_paths,
    a_target_form_is_tested_as_sent
);

/// A target's test tries the form as sent: the stored key goes along only for the stored kind
/// and address, a form without one still reaches the edge (which answers `auth`), and a kind
/// that uses no token drops it on save.
async fn a_target_form_is_tested_as_sent(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let (edge, other) = (FakeEdge::start().await, FakeEdge::start().await);
    let (s, t) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "edge", "name": "cf", "url": edge.url, "token": KEY}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let test = format!("/api/targets/{}/test", t["id"].as_str().unwrap());
    let (s, saved) = app.post(&test, json!(null)).await;
    assert_eq!((s, saved["ok"].as_bool()), (200, Some(true)), "{saved}");
    let (_, same) = app.post(&test, json!({"name": "renamed"})).await;
    assert_eq!(same["ok"], true, "{same}");
    // Another address: tested without the stored key, so the edge asks for one.
    let (s, moved) = app.post(&test, json!({"url": other.url})).await;
    assert_eq!(
        (s, moved["error"]["kind"].as_str()),
        (200, Some("auth")),
        "{moved}"
    );
    assert!(other.calls().is_empty(), "no import was attempted");
    let (_, keyed) = app
        .post(&test, json!({"url": other.url, "token": KEY}))
        .await;
    assert_eq!(keyed["ok"], true, "{keyed}");
    let (s, unsaved) = app
        .post(
            "/api/targets/test",
            json!({"kind": "edge", "name": "x", "url": edge.url}),
        )
        .await;
    assert_eq!(
        (s, unsaved["error"]["kind"].as_str()),
        (200, Some("auth")),
        "{unsaved}"
    );

    // Saving another address still needs the key again; a local target needs none.
    let target = format!("/api/targets/{}", t["id"].as_str().unwrap());
    let (s, b) = app
        .send(Method::PATCH, &target, Some(json!({"url": other.url})))
        .await;
    assert_eq!((s, error_code(&b)), (422, "validation_failed"), "{b}");
    let (s, local) = app
        .send(
            Method::PATCH,
            &target,
            Some(json!({"kind": "local", "url": null, "path": "site/other.db"})),
        )
        .await;
    assert_eq!(
        (s, local["kind"].as_str(), local["token"]["set"].as_bool()),
        (200, Some("local"), Some(false)),
        "{local}"
    );
}

async fn targets_crud_with_sealed_tokens_and_confined_paths(backend: Backend) {
    let app = spawn(backend).await;
    app.project("My Site").await;
    let url = "/api/projects/my-site/targets";

    // A new project publishes to <data root>/<slug>/pages.db by default.
    let (_, list) = app.get(url).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            list[0]["kind"].as_str(),
            list[0]["name"].as_str(),
            list[0]["path"].as_str()
        ),
        (Some("local"), Some("local"), Some("my-site/pages.db"))
    );

    let (s, turso) = app
        .post(url, json!({"kind": "turso", "name": "eu", "url": "libsql://db-eu.turso.io", "token": "turso-canary-token-1234"}))
        .await;
    assert_eq!(s, 201, "{turso}");
    assert_eq!(turso["token"], json!({"set": true, "last4": "1234"}));
    let sealed = db_texts(&app, "SELECT token FROM publish_targets WHERE name = 'eu'").await;
    assert!(sealed[0]
        .as_deref()
        .is_some_and(|t| t.starts_with("v1.") && !t.contains("canary")));
    let id = turso["id"].as_str().unwrap();

    // A token that is no string is refused, and the stored one kept.
    for bad in [json!({}), json!(5), json!(true), json!(["x"])] {
        let (s, b) = app
            .send(
                Method::PATCH,
                &format!("/api/targets/{id}"),
                Some(json!({"token": bad})),
            )
            .await;
        assert_eq!(s, 422, "{bad}: {b}");
        assert_eq!(b["error"]["details"]["fields"][0]["path"], "/token", "{b}");
    }

    // PATCH keeps the token unless told otherwise; `token: null` clears it.
    let (s, patched) = app
        .send(
            Method::PATCH,
            &format!("/api/targets/{id}"),
            Some(json!({"name": "eu-west", "enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{patched}");
    assert_eq!(
        (
            patched["name"].as_str(),
            patched["enabled"].as_bool(),
            patched["token"]["set"].as_bool()
        ),
        (Some("eu-west"), Some(false), Some(true))
    );
    let (_, cleared) = app
        .send(
            Method::PATCH,
            &format!("/api/targets/{id}"),
            Some(json!({"token": null})),
        )
        .await;
    assert_eq!(cleared["token"]["set"], false);

    let (s, b) = app
        .post(
            url,
            json!({"kind": "turso", "name": "eu-west", "url": "https://x.turso.io"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "name_taken"));
    let (s, b) = app
        .post(url, json!({"kind": "edge", "name": "cf", "url": "ftp://x"}))
        .await;
    assert_eq!(s, 422);
    let paths: Vec<&str> = b["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/url", "/token"]);

    // Local paths must stay inside the data root.
    for bad in ["../escape/pages.db", "/etc/pages.db", "a/../../b.db"] {
        let (s, b) = app
            .post(url, json!({"kind": "local", "name": "bad", "path": bad}))
            .await;
        assert_eq!(s, 422, "{bad}: {b}");
        assert_eq!(b["error"]["details"]["fields"][0]["path"], "/path");
    }
    let (s, _) = app
        .post(
            url,
            json!({"kind": "local", "name": "mirror", "path": "my-site/mirror/pages.db"}),
        )
        .await;
    assert_eq!(s, 201);

    assert_eq!(
        app.send(Method::DELETE, &format!("/api/targets/{id}"), None)
            .await
            .0,
        204
    );
    assert_eq!(app.get(&format!("/api/targets/{id}")).await.0, 404);
    assert_eq!(app.get(url).await.1.as_array().unwrap().len(), 2);
}

both_backends!(a_stored_kind_no_version_wrote_is_an_error);

/// A row holding a kind no version of edgepub writes is corrupt: it is refused as an error,
/// never read as some other kind (a `local` target, an Upstash cache) and acted on.
async fn a_stored_kind_no_version_wrote_is_an_error(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    assert_eq!(app.get("/api/projects/site/targets").await.0, 200);
    db_texts(
        &app,
        "UPDATE publish_targets SET kind = 'ftp' RETURNING kind",
    )
    .await;
    let (s, b) = app.get("/api/projects/site/targets").await;
    assert_eq!((s, error_code(&b)), (500, "internal"), "{b}");

    let body = json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:1"});
    let (s, _) = app
        .send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
        .await;
    assert_eq!(s, 200);
    db_texts(
        &app,
        "UPDATE cache_settings SET redis_type = 'memcached' RETURNING redis_type",
    )
    .await;
    let (s, b) = app.get("/api/projects/site/settings/cache").await;
    assert_eq!((s, error_code(&b)), (500, "internal"), "{b}");
}
