use crate::both_backends;
use crate::support::{error_code, spawn, Backend};
use reqwest::Method;
use serde_json::json;

both_backends!(
    page_crud_soft_delete_restore,
    page_slug_rules,
    one_homepage_per_project
);

async fn page_crud_soft_delete_restore(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let pid = project["id"].as_str().unwrap();
    let layout = json!({"content": [{"id": "c1", "type": "Text", "props": {"text": "héllo ✓"}}], "root": {}});
    let page = app
        .page(&project, json!({"slug": "blog-first", "name": "First", "title": "T", "layout_data": layout,
                                "seo_data": {"title": "SEO", "keywords": ["a", "b"]}, "is_public": false}))
        .await;
    assert_eq!(
        (page["version"].as_i64(), page["is_public"].as_bool()),
        (Some(1), Some(false))
    );
    assert_eq!(page["layout_data"], layout);
    let id = page["id"].as_str().unwrap().to_string();

    let res = app
        .req(Method::GET, &format!("/api/pages/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");
    app.page(&project, json!({"slug": "about", "name": "About"}))
        .await;

    let (_, list) = app.get(&format!("/api/projects/{pid}/pages")).await;
    assert_eq!(list["total"], 2);
    let (_, one) = app.get("/api/projects/site/pages?slug=blog-first").await;
    assert_eq!(
        (one["total"].as_i64(), one["items"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );

    // Soft delete hides it from lists, frees its slug, and can be undone.
    assert_eq!(
        app.send(Method::DELETE, &format!("/api/pages/{id}"), None)
            .await
            .0,
        204
    );
    let (_, deleted) = app.get(&format!("/api/pages/{id}")).await;
    assert!(deleted["deleted_at"].is_string());
    assert_eq!(
        app.get(&format!("/api/projects/{pid}/pages")).await.1["total"],
        1
    );
    assert_eq!(
        app.get(&format!("/api/projects/{pid}/pages?include_deleted=true"))
            .await
            .1["total"],
        2
    );
    let (s, _) = app
        .send(
            Method::PUT,
            &format!("/api/pages/{id}"),
            Some(json!({"slug": "x", "name": "x"})),
        )
        .await;
    assert_eq!(s, 404, "a deleted page cannot be saved");

    let squatter = app
        .page(&project, json!({"slug": "blog-first", "name": "Squatter"}))
        .await;
    let (s, body) = app
        .post(&format!("/api/pages/{id}/restore"), json!({}))
        .await;
    assert_eq!((s, error_code(&body)), (409, "slug_taken"));
    app.send(
        Method::DELETE,
        &format!("/api/pages/{}", squatter["id"].as_str().unwrap()),
        None,
    )
    .await;
    let (s, restored) = app
        .post(&format!("/api/pages/{id}/restore"), json!({}))
        .await;
    assert_eq!(s, 200, "{restored}");
    assert!(restored["deleted_at"].is_null());
    assert_eq!(restored["layout_data"], layout);
}

async fn page_slug_rules(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let url = format!("/api/projects/{}/pages", project["id"].as_str().unwrap());
    for bad in [
        "api",
        "api/users",
        "_next/static",
        "__homepage__",
        "../x",
        "a/../b",
        "/lead",
        "trail/",
        "Upper",
        "a//b",
        "",
        "blog/first-post",
    ] {
        let (s, body) = app.post(&url, json!({"slug": bad, "name": "n"})).await;
        assert_eq!(s, 422, "slug `{bad}`: {body}");
        assert_eq!(body["error"]["details"]["fields"][0]["path"], "/slug");
    }
    // A slug with `/` says why: the edge routes one segment only.
    let (_, body) = app
        .post(&url, json!({"slug": "blog/first-post", "name": "n"}))
        .await;
    let message = body["error"]["details"]["fields"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("one path segment"), "{message}");
    app.page(&project, json!({"slug": "getting-started", "name": "n"}))
        .await;
    let (s, body) = app
        .post(&url, json!({"slug": "getting-started", "name": "n"}))
        .await;
    assert_eq!((s, error_code(&body)), (409, "slug_taken"));
    // The same slug in another project is fine.
    let other = app.project("Other").await;
    app.page(&other, json!({"slug": "getting-started", "name": "n"}))
        .await;
}

async fn one_homepage_per_project(backend: Backend) {
    let app = spawn(backend).await;
    let project = app.project("Site").await;
    let url = format!("/api/projects/{}/pages", project["id"].as_str().unwrap());
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let (s, body) = app
        .post(
            &url,
            json!({"slug": "home2", "name": "n", "is_homepage": true}),
        )
        .await;
    assert_eq!((s, error_code(&body)), (409, "homepage_taken"));
    let second = app
        .page(&project, json!({"slug": "home2", "name": "n"}))
        .await;
    let (s, body) = app
        .send(
            Method::PATCH,
            &format!("/api/pages/{}", second["id"].as_str().unwrap()),
            Some(json!({"is_homepage": true})),
        )
        .await;
    assert_eq!((s, error_code(&body)), (409, "homepage_taken"));
}

crate::both_backends!(page_size_limits_are_clear_422s);

/// Components per page, nesting depth and layout bytes are bounded, with 422s naming each.
async fn page_size_limits_are_clear_422s(backend: Backend) {
    let app = crate::support::spawn_with(
        backend,
        &[
            ("EDGEPUB_MAX_COMPONENTS", "100"),
            ("EDGEPUB_MAX_DEPTH", "4"),
            ("EDGEPUB_MAX_PAGE_BYTES", "20000"),
        ],
    )
    .await;
    let project = app.project("Site").await;
    let url = format!("/api/projects/{}/pages", project["id"].as_str().unwrap());
    let many: Vec<_> = (0..101)
        .map(|i| json!({"id": format!("c{i}"), "type": "Text"}))
        .collect();
    let mut deep = json!({"id": "leaf", "type": "Text"});
    for i in 0..5 {
        deep = json!({"id": format!("d{i}"), "type": "Row", "children": [deep]});
    }
    let big = json!([{"id": "t", "type": "Text", "props": {"text": "x".repeat(30_000)}}]);
    for (content, code) in [
        (json!(many), "too_many_components"),
        (json!([deep]), "too_deep"),
        (big, "too_large"),
    ] {
        let (s, b) = app
            .post(
                &url,
                json!({"slug": "p", "name": "P", "layout_data": {"content": content}}),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        assert_eq!(b["error"]["details"]["fields"][0]["code"], code, "{b}");
    }
    let ok: Vec<_> = (0..100)
        .map(|i| json!({"id": format!("c{i}"), "type": "Text"}))
        .collect();
    let (s, _) = app
        .post(
            &url,
            json!({"slug": "p", "name": "P", "layout_data": {"content": ok}}),
        )
        .await;
    assert_eq!(s, 201);
}
