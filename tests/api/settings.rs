use crate::both_backends;
use crate::support::cache::start_proxy;
use crate::support::{db_texts, error_code, redis_url, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(
    the_settings_form_is_tested_as_sent,
    cache_settings_keep_secrets_sealed_and_hidden,
    edge_sync_needs_an_edge_token,
    a_whole_number_written_as_a_float_is_an_integer
);

/// With an Upstash token stored, the screen switches to another cache: each test tries the form
/// as sent (the stored token goes along only for the stored type and address), and a save
/// of a type that uses no token drops it.
async fn the_settings_form_is_tested_as_sent(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let proxy_token = "proxy-token-0123456789";
    let proxy = start_proxy(proxy_token).await;
    let (url, test) = (
        "/api/projects/site/settings/cache",
        "/api/projects/site/settings/cache/test",
    );
    let upstash = json!({"redis_type": "upstash", "redis_url": "https://right.upstash.io",
        "redis_token": "stored-upstash-token-0123", "redis_enabled": true});
    let (s, b) = app.send(Method::PUT, url, Some(upstash)).await;
    assert_eq!(s, 200, "{b}");

    // A TCP Redis uses no token: the test connects to the real Redis.
    let tcp = json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true});
    let (s, report) = app.post(test, tcp.clone()).await;
    assert_eq!(
        (s, report["ok"].as_bool(), report["server"]["kind"].as_str()),
        (200, Some(true), Some("redis")),
        "{report}"
    );
    // Another REST address: the stored token stays home, and the server asks for one.
    let elsewhere = json!({"redis_type": "self-hosted", "redis_url": proxy});
    let (s, report) = app.post(test, elsewhere.clone()).await;
    assert_eq!(
        (s, report["error"]["kind"].as_str()),
        (200, Some("auth")),
        "{report}"
    );
    let mut with_token = elsewhere.clone();
    with_token["redis_token"] = json!(proxy_token);
    assert_eq!(app.post(test, with_token.clone()).await.1["ok"], true);

    // Saving the TCP form drops the Upstash token; it is gone, not hidden.
    let (s, saved) = app.send(Method::PUT, url, Some(tcp)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(
        (
            saved["redis_token"]["set"].as_bool(),
            saved["redis_password"]["set"].as_bool()
        ),
        (Some(false), Some(false)),
        "{saved}"
    );
    let back = json!({"redis_type": "upstash", "redis_url": "https://right.upstash.io", "redis_enabled": true});
    let (s, b) = app.send(Method::PUT, url, Some(back)).await;
    assert_eq!(
        (s, b["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/redis_token")),
        "{b}"
    );

    // The stored type and address: the stored token goes along, to a test and a save.
    let (s, _) = app.send(Method::PUT, url, Some(with_token)).await;
    assert_eq!(s, 200);
    let (_, report) = app.post(test, elsewhere.clone()).await;
    assert_eq!(report["ok"], true, "{report}");
    let (_, report) = app.post(test, json!(null)).await;
    assert_eq!(report["ok"], true, "{report}");
}

/// JSON Schema (so the OpenAPI document) counts `120.0` as an integer: the server takes it as
/// one, and still refuses a fraction.
async fn a_whole_number_written_as_a_float_is_an_integer(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let url = "/api/projects/site/settings/cache";
    let body = json!({"redis_type": "tcp", "cache_ttl_page": 120.0, "cache_ttl_jitter": 0.0});
    let (s, saved) = app.send(Method::PUT, url, Some(body)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(
        (
            saved["cache_ttl_page"].as_i64(),
            saved["cache_ttl_jitter"].as_i64()
        ),
        (Some(120), Some(0))
    );
    let body = json!({"redis_type": "tcp", "cache_ttl_page": 120.5});
    let (s, refused) = app.send(Method::PUT, url, Some(body)).await;
    assert_eq!(s, 422, "{refused}");
    assert_eq!(
        refused["error"]["details"]["fields"][0]["path"], "/cache_ttl_page",
        "{refused}"
    );
}

async fn cache_settings_keep_secrets_sealed_and_hidden(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let url = "/api/projects/site/settings/cache";
    let (s, defaults) = app.get(url).await;
    assert_eq!(s, 200);
    assert_eq!(
        (
            defaults["redis_enabled"].as_bool(),
            defaults["cache_mode"].as_str()
        ),
        (Some(false), Some("invalidate"))
    );
    assert_eq!(defaults["cache_ttl_data"], 60);

    // A password inside the URL is split out and sealed; the GET shows only a hint.
    let body = json!({"redis_type": "tcp", "redis_url": "redis://:pw-canary-0123456789@127.0.0.1:6379/0", "redis_enabled": true, "cache_mode": "prime"});
    let (s, saved) = app.send(Method::PUT, url, Some(body)).await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["redis_url"], "redis://127.0.0.1:6379/0");
    assert_eq!(
        saved["redis_password"],
        json!({"set": true, "last4": "6789"})
    );
    let (_, read) = app.get(url).await;
    // The save also answers how the connection went; the settings are what a GET reads.
    let mut settings = saved.clone();
    let connection = settings.as_object_mut().unwrap().remove("connection");
    assert!(
        connection.is_some_and(|c| c["reachable"].is_boolean()),
        "{saved}"
    );
    assert_eq!(read, settings);
    assert!(!read.to_string().contains("pw-canary"));
    let stored = db_texts(&app, "SELECT redis_password FROM cache_settings").await;
    let sealed = stored[0].clone().unwrap();
    assert!(
        sealed.starts_with("v1.") && !sealed.contains("canary"),
        "sealed at rest: {sealed}"
    );

    // Omitting a secret keeps it (for the same address); another address needs it again;
    // null clears it; a new one replaces it.
    let (_, kept) = app
        .send(
            Method::PUT,
            url,
            Some(json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:6379/0", "cache_ttl_page": 90})),
        )
        .await;
    assert_eq!(kept["redis_password"]["set"], true, "{kept}");
    let (s, moved) = app
        .send(
            Method::PUT,
            url,
            Some(json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:6380"})),
        )
        .await;
    assert_eq!(
        (s, moved["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/redis_password")),
        "{moved}"
    );
    let (_, cleared) = app.send(Method::PUT, url, Some(json!({"redis_type": "tcp", "redis_url": "redis://127.0.0.1:6380", "redis_password": null}))).await;
    assert_eq!(
        cleared["redis_password"],
        json!({"set": false, "last4": null})
    );

    // Upstash: the token is required when enabled, and every bad field is named at once.
    let (s, err) = app
        .send(Method::PUT, url, Some(json!({"redis_type": "upstash", "redis_url": "ftp://x", "redis_enabled": true, "cache_ttl_page": 0})))
        .await;
    assert_eq!((s, error_code(&err)), (422, "validation_failed"));
    let paths: Vec<&str> = err["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/redis_url", "/redis_token", "/cache_ttl_page"]);
    let (s, up) = app
        .send(Method::PUT, url, Some(json!({"redis_type": "upstash", "redis_url": "https://eu1.upstash.io", "redis_token": "tok-canary-abcdefgh", "redis_enabled": true})))
        .await;
    assert_eq!(s, 200, "{up}");
    assert_eq!(up["redis_token"]["last4"], "efgh");
    let (s, _) = app
        .send(Method::PUT, url, Some(json!({"redis_type": "memcached"})))
        .await;
    assert_eq!(s, 422);
}

async fn edge_sync_needs_an_edge_token(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    app.project("Other").await;
    let body = json!({"redis_type": "upstash", "redis_url": "https://eu1.upstash.io", "redis_token": "real-upstash-token-xyz", "redis_enabled": true, "cache_ttl_data": 30});
    assert_eq!(
        app.send(Method::PUT, "/api/projects/site/settings/cache", Some(body))
            .await
            .0,
        200
    );
    let mut tokens = Vec::new();
    for (scope, project) in [("edge", "site"), ("edge", "other"), ("publish", "site")] {
        let (_, t) = app
            .post(
                "/api/tokens",
                json!({"name": "t", "scopes": [scope], "project": project}),
            )
            .await;
        tokens.push(t["token"].as_str().unwrap().to_string());
    }
    let [edge, other_edge, publish] = <[String; 3]>::try_from(tokens).unwrap();

    let get = |t: Option<String>| {
        let r = app.anon(Method::GET, "/api/sync/settings/redis/");
        async move {
            crate::support::read(
                match t {
                    Some(t) => r.bearer_auth(t),
                    None => r,
                }
                .send()
                .await
                .unwrap(),
            )
            .await
        }
    };
    let (s, body) = get(Some(edge)).await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body,
        json!({"redis_url": "https://eu1.upstash.io", "redis_token": "real-upstash-token-xyz", "redis_type": "upstash",
               "redis_enabled": true, "cache_ttl_data": 30, "cache_ttl_count": 300})
    );
    let (_, theirs) = get(Some(other_edge)).await;
    assert_eq!(
        (
            theirs["redis_enabled"].as_bool(),
            theirs["redis_token"].is_null()
        ),
        (Some(false), true),
        "only its own project"
    );
    assert_eq!(get(Some(publish)).await.0, 403);
    assert_eq!(
        get(Some(app.token.clone())).await.0,
        403,
        "an admin token is not an edge token"
    );
    assert_eq!(get(None).await.0, 401);
}
