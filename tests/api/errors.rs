use crate::both_backends;
use crate::support::{error_code, read, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(
    every_error_status_has_the_json_shape,
    what_one_backend_cannot_store_is_refused_on_both
);

async fn every_error_status_has_the_json_shape(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let pages = format!("/api/projects/{}/pages", project["id"].as_str().unwrap());

    // 404s: unknown project, unknown page (UUID or not), unknown route.
    let (s, b) = app.get("/api/projects/nope").await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    let (s, b) = app
        .get(&format!("/api/pages/{}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    assert_eq!(app.get("/api/pages/not-a-uuid").await.0, 404);
    let (s, b) = app.get("/api/nothing-here").await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    let (s, b) = app.send(Method::PUT, "/api/projects", None).await;
    assert_eq!((s, error_code(&b)), (405, "method_not_allowed"));

    // 400: malformed JSON says where.
    let res = app
        .req(Method::POST, &pages)
        .header("content-type", "application/json")
        .body("{\n \"slug\": \"a\",\n \"name\": }")
        .send()
        .await
        .unwrap();
    let (s, b) = read(res).await;
    assert_eq!((s, error_code(&b)), (400, "malformed_json"));
    assert_eq!(b["error"]["details"]["line"], 3);
    assert!(b["error"]["message"].as_str().unwrap().contains("line 3"));
    let (s, b) = read(app.req(Method::POST, &pages).send().await.unwrap()).await;
    assert_eq!((s, error_code(&b)), (400, "malformed_json"));
    let (s, b) = app.get("/api/projects?limit=abc").await;
    assert_eq!((s, error_code(&b)), (400, "bad_query"));
    assert_eq!(b["error"]["details"]["parameter"], "limit", "{b}");

    // 422: a wrong type names the field path.
    let (s, b) = app
        .post(
            &pages,
            json!({"slug": "a", "name": "n", "is_public": "yes"}),
        )
        .await;
    assert_eq!((s, error_code(&b)), (422, "validation_failed"));
    assert_eq!(b["error"]["details"]["fields"][0]["path"], "/is_public");

    // 413: bodies over the 2 MiB default.
    let big = "x".repeat(2 * 1024 * 1024 + 10);
    let (s, b) = app.post(&pages, json!({"slug": "big", "name": "n", "layout_data": {"content": [], "root": {"blob": big}}})).await;
    assert_eq!((s, error_code(&b)), (413, "payload_too_large"));
    assert_eq!(b["error"]["details"]["limit_bytes"], 2 * 1024 * 1024);
    // Just under the limit is accepted.
    let fits = "x".repeat(2 * 1024 * 1024 - 200);
    let (s, b) = app
        .post(
            &pages,
            json!({"slug": "fits", "name": "n", "seo_data": {"description": fits}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");

    // No driver text ever leaks, even on conflicts.
    app.page(&project, json!({"slug": "dup", "name": "n"}))
        .await;
    let (_, b) = app.post(&pages, json!({"slug": "dup", "name": "n"})).await;
    let text = b.to_string().to_lowercase();
    for leak in [
        "sqlite",
        "postgres",
        "constraint",
        "unique",
        "pages_live_slug",
        "duplicate key",
    ] {
        assert!(!text.contains(leak), "`{leak}` leaked: {text}");
    }
}

/// U+0000 and numbers Postgres cannot give back are a 422 naming the field on both backends,
/// a NUL in the path is a 404, trailing data after a JSON body is a 400: never a 500.
async fn what_one_backend_cannot_store_is_refused_on_both(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let (s, b) = app.post("/api/projects", json!({"name": "a\u{0}b"})).await;
    assert_eq!(
        (s, b["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/name")),
        "{b}"
    );
    let pages = format!("/api/projects/{}/pages", project["id"].as_str().unwrap());
    let (s, b) = app
        .post(&pages, json!({"slug": "x", "name": "X", "seo_data": {"n": 1.7976931348623157e308}, "layout_data": {"content": [{"id": "a", "type": "Text", "props": {"text": "nul\u{0}"}}]}}))
        .await;
    assert_eq!(s, 422, "{b}");
    let paths: Vec<&str> = b["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/layout_data/content/0/props/text", "/seo_data/n"]);
    let (s, b) = app
        .post(
            &pages,
            json!({"slug": "x", "name": "X", "seo_data": {"n": 1.25e299}}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let (_, back) = app
        .get(&format!("/api/pages/{}", b["id"].as_str().unwrap()))
        .await;
    assert_eq!(
        back["seo_data"]["n"],
        json!(1.25e299),
        "reads back unchanged"
    );
    for path in [
        "/api/projects/x%00",
        "/api/projects/site%00/pages",
        "/api/tokens/a%00",
    ] {
        let (s, b) = app.get(path).await;
        assert_eq!((s, error_code(&b)), (404, "not_found"), "{path}");
    }
    let (s, b) = app.get(&format!("{pages}?slug=a%00")).await;
    assert_eq!(s, 400, "{b}");
    let res = app
        .req(Method::POST, "/api/projects")
        .header("content-type", "application/json")
        .body(r#"{"slug":"x","name":"y"} xx"#)
        .send()
        .await
        .unwrap();
    let (s, b) = read(res).await;
    assert_eq!((s, error_code(&b)), (400, "malformed_json"), "{b}");
}
