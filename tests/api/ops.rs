use crate::both_backends;
use crate::support::{spawn, spawn_with, Backend};
use reqwest::Method;

both_backends!(probes_metrics_and_request_ids);

async fn probes_metrics_and_request_ids(backend: Backend) {
    let app = spawn(backend).await;
    assert_eq!(
        app.anon(Method::GET, "/healthz")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready: serde_json::Value = app
        .anon(Method::GET, "/readyz")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expected = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(
        (ready["status"].as_str(), ready["database"].as_str()),
        (Some("ok"), Some(expected))
    );

    // An incoming request id is honoured; otherwise one is generated.
    let res = app
        .req(Method::GET, "/api/projects")
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-abc-123");
    let res = app
        .req(Method::GET, "/api/projects/nope")
        .send()
        .await
        .unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");

    let metrics = app
        .anon(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"edgepub_http_requests_total{method="GET",route="/api/projects/{project}",status="404"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(
        r#"edgepub_http_request_duration_seconds_bucket{method="GET",route="/api/projects""#
    ));
    assert!(metrics.contains(r#"edgepub_db_pool_connections{state="total"}"#));
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let app = spawn_with(
        Backend::Sqlite,
        &[("EDGEPUB_CORS_ORIGINS", "http://builder.test")],
    )
    .await;
    let preflight = |origin: &'static str| {
        app.anon(Method::OPTIONS, "/api/projects")
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "PUT")
            .header(
                "Access-Control-Request-Headers",
                "authorization,if-match,content-type",
            )
            .send()
    };
    let ok = preflight("http://builder.test").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "http://builder.test"
    );
    let denied = preflight("http://evil.test").await.unwrap();
    assert!(denied
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn openapi_is_served_and_matches_the_committed_file() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    let generated = edgepub::api::openapi::document();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` and commit it"
    );
    let doc: serde_json::Value = serde_json::from_str(&generated).unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/projects",
        "/api/projects/{project}/pages",
        "/api/pages/{id}/versions/{version}/restore",
        "/api/tokens",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }

    let app = spawn_with(Backend::Sqlite, &[]).await;
    let served: serde_json::Value = app
        .anon(Method::GET, "/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served, doc);
    let bare = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("{}/docs", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status().as_u16(), 308);
    assert_eq!(bare.headers()["location"], "/docs/");
    let ui = app.anon(Method::GET, "/docs").send().await.unwrap();
    assert_eq!(ui.status(), 200);
    let html = ui.text().await.unwrap();
    assert!(
        html.contains("swagger-ui") && !html.contains("unpkg") && !html.contains("cdn."),
        "{html}"
    );
    let js = app
        .anon(Method::GET, "/docs/swagger-ui-bundle.js")
        .send()
        .await
        .unwrap();
    assert_eq!(
        js.status(),
        200,
        "Swagger UI assets are served by edgepub itself"
    );
}
