//! "Test connection" against real servers, and each error kind provoked for real.

use crate::support::{
    cluster_nodes, fake_edge, redis_url, sentinel_url, spawn_with, Backend, TestApp, Tursodb,
};
use serde_json::{json, Value};

async fn app() -> TestApp {
    let app = spawn_with(Backend::Sqlite, &[("EDGEPUB_TEST_TIMEOUT_SECS", "2")]).await;
    app.project("Site").await;
    app
}

async fn cache_test(app: &TestApp, body: Value) -> Value {
    let (s, report) = app
        .post("/api/projects/site/settings/cache/test", body)
        .await;
    assert_eq!(s, 200, "{report}");
    report
}

fn kind(report: &Value) -> &str {
    assert_eq!(report["ok"], false, "{report}");
    report["error"]["kind"].as_str().unwrap()
}

/// A port that accepts connections and never says anything.
fn silent_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn redis_standalone_sentinel_and_cluster() {
    let app = app().await;
    let ok = cache_test(&app, json!({"redis_type": "tcp", "redis_url": redis_url()})).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["server"]["kind"], "redis");
    assert_eq!(ok["server"]["mode"], "standalone");
    assert!(ok["server"]["version"]
        .as_str()
        .unwrap()
        .starts_with(|c: char| c.is_ascii_digit()));

    let sentinel = cache_test(
        &app,
        json!({"redis_type": "tcp", "redis_url": sentinel_url()}),
    )
    .await;
    assert_eq!(
        (
            sentinel["ok"].as_bool(),
            sentinel["server"]["mode"].as_str()
        ),
        (Some(true), Some("sentinel")),
        "{sentinel}"
    );

    let cluster = cache_test(
        &app,
        json!({"redis_type": "tcp", "redis_url": cluster_nodes()}),
    )
    .await;
    assert_eq!(
        (cluster["ok"].as_bool(), cluster["server"]["mode"].as_str()),
        (Some(true), Some("cluster")),
        "{cluster}"
    );

    // Saved settings are tested when the body is empty.
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            "/api/projects/site/settings/cache",
            Some(json!({"redis_type": "tcp", "redis_url": redis_url()})),
        )
        .await;
    assert_eq!(s, 200);
    let res = app
        .req(
            reqwest::Method::POST,
            "/api/projects/site/settings/cache/test",
        )
        .send()
        .await
        .unwrap();
    let (_, saved) = crate::support::read(res).await;
    assert_eq!(saved["ok"], true, "{saved}");
}

#[tokio::test]
async fn every_error_kind_for_real() {
    let app = app().await;
    let tcp = |url: String| json!({"redis_type": "tcp", "redis_url": url});
    assert_eq!(
        kind(&cache_test(&app, tcp(format!("redis://127.0.0.1:{}", closed_port()))).await),
        "refused"
    );
    assert_eq!(
        kind(&cache_test(&app, tcp("redis://no-such-host.invalid:6379".into())).await),
        "dns"
    );
    let timeout = cache_test(&app, tcp(format!("redis://127.0.0.1:{}", silent_port()))).await;
    assert_eq!(kind(&timeout), "timeout");
    assert!(
        timeout["latency_ms"].as_u64().unwrap() < 10_000,
        "the deadline holds: {timeout}"
    );
    // rediss:// to a port that answers in plain text (edgepub's own HTTP port).
    let port = app.base.rsplit(':').next().unwrap();
    assert_eq!(
        kind(&cache_test(&app, tcp(format!("rediss://127.0.0.1:{port}"))).await),
        "tls"
    );
    // rediss:// to a plain-text Redis (which never answers a TLS handshake): tls, not timeout.
    let plain = redis_url().replace("redis://", "rediss://");
    let report = cache_test(&app, tcp(plain)).await;
    assert_eq!(kind(&report), "tls", "{report}");
    // redis:// to a server that speaks HTTP, not RESP.
    assert_eq!(
        kind(&cache_test(&app, tcp(format!("redis://127.0.0.1:{port}"))).await),
        "protocol"
    );
    assert_eq!(
        kind(&cache_test(&app, tcp("redis://169.254.169.254:6379".into())).await),
        "permission"
    );

    // A real ACL user with the wrong password.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ACL")
        .arg(
            &[
                "SETUSER",
                "edgepub-test",
                "on",
                ">right-password",
                "~*",
                "+@all",
            ][..],
        )
        .query_async(&mut conn)
        .await
        .unwrap();
    let wrong = redis_url().replacen("redis://", "redis://edgepub-test:wrong-password@", 1);
    assert_eq!(kind(&cache_test(&app, tcp(wrong)).await), "auth");
    let right = redis_url().replacen("redis://", "redis://edgepub-test:right-password@", 1);
    assert_eq!(cache_test(&app, tcp(right)).await["ok"], true);

    // Upstash REST: a server that is not Upstash answers 404; edgepub's own API refuses the token.
    let rest = |url: String| json!({"redis_type": "upstash", "redis_url": url, "redis_token": "nope-nope-nope"});
    assert_eq!(
        kind(&cache_test(&app, rest(format!("{}/nothing", app.base))).await),
        "not_found"
    );
    assert_eq!(
        kind(&cache_test(&app, rest(format!("http://127.0.0.1:{}", closed_port()))).await),
        "refused"
    );

    // A local target whose file is not SQLite.
    let site_dir = app.data_dir.join("sites/site");
    std::fs::create_dir_all(&site_dir).unwrap();
    std::fs::write(site_dir.join("notes.db"), "definitely not sqlite").unwrap();
    let (_, report) = app
        .post(
            "/api/targets/test",
            json!({"kind": "local", "name": "x", "path": "site/notes.db"}),
        )
        .await;
    assert_eq!(kind(&report), "invalid");
}

#[tokio::test]
async fn turso_edge_and_local_targets() {
    let app = app().await;
    let turso = Tursodb::start();
    let (_, ok) = app
        .post(
            "/api/targets/test",
            json!({"kind": "turso", "name": "eu", "url": turso.url, "token": "unused-by-tursodb"}),
        )
        .await;
    assert_eq!(
        (ok["ok"].as_bool(), ok["server"]["kind"].as_str()),
        (Some(true), Some("turso")),
        "{ok}"
    );
    assert!(ok["server"]["version"].is_string());
    let (_, missing) = app
        .post(
            "/api/targets/test",
            json!({"kind": "turso", "name": "eu", "url": format!("{}/nothing", app.base)}),
        )
        .await;
    assert_eq!(kind(&missing), "not_found");

    let edge = fake_edge("system-key-right").await;
    let (_, ok) = app
        .post(
            "/api/targets/test",
            json!({"kind": "edge", "name": "cf", "url": edge, "token": "system-key-right"}),
        )
        .await;
    assert_eq!(
        (ok["ok"].as_bool(), ok["server"]["version"].as_str()),
        (Some(true), Some("test-edge-1")),
        "{ok}"
    );
    let (_, bad) = app
        .post(
            "/api/targets/test",
            json!({"kind": "edge", "name": "cf", "url": edge, "token": "system-key-wrong"}),
        )
        .await;
    assert_eq!(kind(&bad), "auth");

    // Saved targets: the default local one, and a saved edge whose key is merged from storage.
    let (_, targets) = app.get("/api/projects/site/targets").await;
    let local_id = targets[0]["id"].as_str().unwrap();
    let (_, local) = app
        .post(&format!("/api/targets/{local_id}/test"), json!({}))
        .await;
    assert_eq!(
        (local["ok"].as_bool(), local["server"]["kind"].as_str()),
        (Some(true), Some("sqlite")),
        "{local}"
    );
    let (_, saved) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "edge", "name": "cf", "url": edge, "token": "system-key-right"}),
        )
        .await;
    let (_, tested) = app
        .post(
            &format!("/api/targets/{}/test", saved["id"].as_str().unwrap()),
            json!({}),
        )
        .await;
    assert_eq!(tested["ok"], true, "{tested}");
}
