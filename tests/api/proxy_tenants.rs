//! The Upstash-compatible proxy in front of one Redis serves several projects' edges: each edge
//! gets a token for its own tenant's keys (from `GET /api/sync/settings/redis/`), never the
//! proxy's own token, so no edge reads, overwrites or deletes another project's pages.

use crate::support::cache::start_proxy;
use crate::support::{read, redis_url, spawn_with, Backend};
use reqwest::Method;
use serde_json::{json, Value};

const PROXY_TOKEN: &str = "proxy-tenants-token-0123456789";

async fn call(proxy: &str, token: &str, path: &str, body: Value) -> (u16, Value) {
    read(
        reqwest::Client::new()
            .post(format!("{proxy}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("proxy"),
    )
    .await
}

crate::both_backends!(each_edge_reaches_only_its_tenants_keys);

async fn each_edge_reaches_only_its_tenants_keys(backend: Backend) {
    let proxy = start_proxy(PROXY_TOKEN).await;
    let app = spawn_with(
        backend,
        &[
            ("EDGEPUB_PROXY_PUBLIC_URL", proxy.as_str()),
            ("EDGEPUB_PROXY_TOKEN", PROXY_TOKEN),
        ],
    )
    .await;
    // Two projects on the same Redis, told apart by tenant (one the default).
    let run = uuid::Uuid::new_v4().simple().to_string();
    let tenant = format!("t{}", &run[..8]);
    let redis = redis_url();
    let mut edges = Vec::new();
    for (slug, tenant) in [("alpha", Some(tenant.as_str())), ("beta", None)] {
        let (s, p) = app
            .post(
                "/api/projects",
                json!({"name": slug, "slug": slug, "tenant_slug": tenant}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        let cache = json!({"redis_type": "tcp", "redis_url": redis, "redis_enabled": true});
        let (s, body) = app
            .send(
                Method::PUT,
                &format!("/api/projects/{slug}/settings/cache"),
                Some(cache),
            )
            .await;
        assert_eq!(s, 200, "{body}");
        let (_, t) = app
            .post(
                "/api/tokens",
                json!({"name": slug, "scopes": ["edge"], "project": slug}),
            )
            .await;
        let (s, sync) = read(
            app.anon(Method::GET, "/api/sync/settings/redis/")
                .bearer_auth(t["token"].as_str().expect("token"))
                .send()
                .await
                .expect("sync"),
        )
        .await;
        assert_eq!(s, 200, "{sync}");
        assert_eq!(sync["redis_url"], proxy.as_str());
        let token = sync["redis_token"]
            .as_str()
            .expect("a proxy token")
            .to_string();
        assert_ne!(
            token, PROXY_TOKEN,
            "an edge never gets the proxy's own token"
        );
        edges.push(token);
    }
    let [alpha, beta] = <[String; 2]>::try_from(edges).expect("two edges");
    let alpha_key = format!("page:{tenant}:home-{run}");
    let beta_key = format!("page:home-{run}");

    // Each edge writes and reads its own pages.
    for (token, key) in [(&alpha, &alpha_key), (&beta, &beta_key)] {
        let (s, body) = call(&proxy, token, "/", json!(["SET", key, "{}", "EX", 60])).await;
        assert_eq!((s, &body), (200, &json!({"result": "OK"})), "{key}");
        let (s, body) = call(&proxy, token, "/", json!(["GET", key])).await;
        assert_eq!((s, &body), (200, &json!({"result": "{}"})), "{key}");
    }

    // Never the other's, whichever way it asks.
    for (token, theirs) in [(&alpha, &beta_key), (&beta, &alpha_key)] {
        for cmd in [
            json!(["GET", theirs]),
            json!(["SET", theirs, "defaced"]),
            json!(["DEL", theirs]),
            json!(["KEYS", "page:*"]),
            json!(["SCAN", "0", "MATCH", "*"]),
            json!(["FLUSHDB"]),
        ] {
            let (s, body) = call(&proxy, token, "/", cmd.clone()).await;
            assert_eq!(s, 400, "{cmd} → {body}");
        }
        let (s, body) = call(&proxy, token, &format!("/get/{theirs}"), json!(null)).await;
        assert_eq!(s, 400, "path form: {body}");
        // In a pipeline the foreign command fails in its slot; a transaction runs nothing.
        let (s, body) = call(
            &proxy,
            token,
            "/pipeline",
            json!([["PING"], ["GET", theirs]]),
        )
        .await;
        assert_eq!(s, 200, "{body}");
        assert_eq!(body[0], json!({"result": "PONG"}));
        assert!(body[1]["error"].as_str().is_some(), "{body}");
        let (s, body) = call(&proxy, token, "/multi-exec", json!([["DEL", theirs]])).await;
        assert_eq!(s, 400, "{body}");
    }
    // Nothing above changed the other's page.
    for key in [&alpha_key, &beta_key] {
        let (_, body) = call(&proxy, PROXY_TOKEN, "/", json!(["GET", key])).await;
        assert_eq!(body, json!({"result": "{}"}), "{key}");
        call(&proxy, PROXY_TOKEN, "/", json!(["DEL", key])).await;
    }

    // A token made up for another tenant does not pass.
    let forged = alpha.replacen(&tenant, "_default", 1);
    let (s, _) = call(&proxy, &forged, "/", json!(["GET", beta_key])).await;
    assert_eq!(s, 401);
}
