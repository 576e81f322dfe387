//! Publishing to a push-style edge (contract section 4) through the strict stand-in edge.

use crate::both_backends;
use crate::support::fake_edge::{FakeEdge, BIND_ERROR, KEY};
use crate::support::publish::site;
use crate::support::push_edge::only_target;
use crate::support::{run_job, spawn_with, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

both_backends!(
    a_default_project_publishes_to_a_strict_edge,
    the_edge_receives_exactly_the_contracts_requests,
    failing_pages_are_retried_and_conflicts_reported,
    a_tenant_is_named_on_every_request
);

async fn edge_site(app: &TestApp, edge: &FakeEdge) -> (Value, Value, Value) {
    let (project, _) = site(app).await;
    only_target(
        app,
        json!({"kind": "edge", "name": "cf", "url": edge.url, "token": KEY}),
    )
    .await;
    let home = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "title": "Welcome", "is_homepage": true,
                "layout_data": {"content": [{"id": "h", "type": "Heading", "props": {"text": "Hi"}}]}}),
        )
        .await;
    let about = app
        .page(&project, json!({"slug": "about", "name": "About"}))
        .await;
    (project, home, about)
}

async fn the_edge_receives_exactly_the_contracts_requests(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let edge = FakeEdge::start().await;
    let (_, home, about) = edge_site(&app, &edge).await;
    let (_, dry) = app.post("/api/projects/site/compile", json!({})).await;
    assert_eq!(dry["pages"].as_array().unwrap().len(), 2);

    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let r = &job["result"]["targets"][0];
    assert_eq!(
        (
            r["atomic"].as_bool(),
            r["status"].as_str(),
            r["upserted"].as_u64()
        ),
        (Some(false), Some("ok"), Some(2)),
        "{r}"
    );
    let mut calls = edge.calls();
    calls.sort();
    assert_eq!(
        calls,
        [
            "POST /api/import",
            "POST /api/import",
            "POST /api/import/settings"
        ]
    );
    // Each import is the compiled page, stamped with its version and publish time.
    {
        let st = edge.state.lock().unwrap();
        for (method, path, body) in &st.log {
            if method == "POST" && path == "/api/import" {
                assert_eq!(body["force"], false);
                let page = &body["page"];
                let compiled = dry["pages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|p| p["id"] == page["id"])
                    .unwrap();
                let mut expected = compiled.clone();
                expected["version"] = json!(1);
                expected["publishedAt"] = page["publishedAt"].clone();
                assert_eq!(page, &expected);
            }
        }
        let s = st.settings.as_ref().unwrap();
        assert_eq!(
            (
                &s["siteName"],
                &s["faviconUrl"],
                &s["appUrl"],
                &s["authForms"]
            ),
            (
                &json!("My Site"),
                &json!("/favicon.ico"),
                &json!("https://example.com"),
                &Value::Null
            )
        );
    }
    assert_eq!(
        edge.held("_default"),
        [("about".to_string(), 1), ("home".to_string(), 1)]
    );

    // Nothing changed: nothing is pushed again (edgepub remembers what it wrote there).
    edge.clear_log();
    let again = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(again["result"]["targets"][0]["unchanged"], 2, "{again}");
    assert_eq!(edge.calls(), ["POST /api/import/settings"]);

    // An unpublish deletes by slug.
    edge.clear_log();
    let id = about["id"].as_str().unwrap();
    let gone = run_job(&app, &format!("/api/pages/{id}/unpublish"), json!({})).await;
    assert_eq!(gone["state"], "succeeded", "{gone}");
    assert_eq!(
        edge.calls(),
        ["DELETE /api/import/about", "POST /api/import/settings"]
    );
    assert_eq!(edge.held("_default"), [("home".to_string(), 1)]);

    // The edge's status lists nothing; that is not read as "the edge is empty": nothing is
    // missing and nothing is pushed again.
    let (_, drift) = app.get("/api/projects/site/drift").await;
    let t = &drift["targets"][0];
    assert_eq!(
        (
            drift["drifted"].as_bool(),
            t["missing"].as_array().map(Vec::len),
            t["content_checked"].as_bool()
        ),
        (Some(false), Some(0), Some(false)),
        "{drift}"
    );
    edge.clear_log();
    let home_only = json!({"pages": [home["id"]]});
    let again = run_job(&app, "/api/projects/site/publish", home_only).await;
    let r = &again["result"]["targets"][0];
    assert_eq!(
        (r["upserted"].as_u64(), r["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    assert_eq!(edge.calls(), ["POST /api/import/settings"]);
}

/// A project with nothing but a name (every site setting unset, no forms) publishes to an
/// edge that refuses, as the real one does, any settings value that is not a string or null.
async fn a_default_project_publishes_to_a_strict_edge(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let edge = FakeEdge::start().await;
    // The stand-in is as strict as the edge: an object is a 500 with the driver's message.
    let refused = reqwest::Client::new()
        .post(format!("{}/api/import/settings", edge.url))
        .header("x-system-key", KEY)
        .json(
            &json!({"faviconUrl": null, "logoUrl": null, "siteName": "x", "siteDescription": null,
            "appUrl": null, "authForms": {}}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 500);
    assert!(refused.text().await.unwrap().contains(BIND_ERROR));

    let project = app.project("Site").await;
    only_target(
        &app,
        json!({"kind": "edge", "name": "cf", "url": edge.url, "token": KEY}),
    )
    .await;
    app.page(
        &project,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let (_, release) = app
        .get(&format!(
            "/api/releases/{}",
            job["release_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(release["status"], "complete", "{release}");
    let settings = edge.state.lock().unwrap().settings.clone().unwrap();
    assert_eq!(
        settings,
        json!({"faviconUrl": null, "logoUrl": null, "siteName": "Site", "siteDescription": null,
            "appUrl": null, "authForms": null})
    );
    assert_eq!(edge.held("_default"), [("home".to_string(), 1)]);
}

async fn failing_pages_are_retried_and_conflicts_reported(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_TARGET_ATTEMPTS", "2")]).await;
    let edge = FakeEdge::start().await;
    let (_, home, about) = edge_site(&app, &edge).await;

    // One transient failure: retried, and the publish succeeds.
    edge.state.lock().unwrap().fail.insert("about".into(), 1);
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    let imports = edge
        .calls()
        .iter()
        .filter(|c| *c == "POST /api/import")
        .count();
    assert_eq!(imports, 3, "about was sent twice");

    // A page that keeps failing is reported by id and kind; the others are written.
    for page in [&home, &about] {
        let id = page["id"].as_str().unwrap();
        app.send(
            Method::PATCH,
            &format!("/api/pages/{id}"),
            Some(json!({"title": "changed"})),
        )
        .await;
    }
    edge.state.lock().unwrap().fail.insert("about".into(), 10);
    let partial = run_job(&app, "/api/projects/site/publish", json!({})).await;
    let r = &partial["result"]["targets"][0];
    assert_eq!(r["status"], "partial", "{partial}");
    assert_eq!(r["failed_pages"][0]["page_id"], about["id"]);
    assert_eq!(r["failed_pages"][0]["kind"], "protocol");
    assert_eq!(
        edge.held("_default"),
        [("about".to_string(), 1), ("home".to_string(), 2)]
    );
    // The retry pushes only what is missing.
    edge.state.lock().unwrap().fail.clear();
    edge.clear_log();
    let id = partial["id"].as_str().unwrap();
    let retried = run_job(&app, &format!("/api/publish-jobs/{id}/retry"), json!({})).await;
    assert_eq!(retried["state"], "succeeded", "{retried}");
    assert_eq!(
        edge.calls(),
        ["POST /api/import", "POST /api/import/settings"]
    );
    assert_eq!(
        edge.held("_default"),
        [("about".to_string(), 2), ("home".to_string(), 2)]
    );

    // Someone else wrote a newer version to the edge: a version conflict, repaired by force.
    edge.state
        .lock()
        .unwrap()
        .pages
        .get_mut(&("_default".to_string(), "home".to_string()))
        .unwrap()["version"] = json!(99);
    let hid = home["id"].as_str().unwrap();
    app.send(
        Method::PATCH,
        &format!("/api/pages/{hid}"),
        Some(json!({"title": "again"})),
    )
    .await;
    let conflict = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(conflict["state"], "failed", "{conflict}");
    let r = &conflict["result"]["targets"][0];
    assert_eq!(r["error_kind"], "conflict", "{r}");
    assert_eq!(r["failed_pages"][0]["kind"], "conflict");
    let forced = run_job(&app, "/api/projects/site/publish", json!({"force": true})).await;
    assert_eq!(forced["state"], "succeeded", "{forced}");
    let held = edge.held("_default");
    assert!(held.iter().all(|(_, v)| *v >= 3 && *v != 99), "{held:?}");
}

async fn a_tenant_is_named_on_every_request(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let edge = FakeEdge::start().await;
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": "acme"}),
        )
        .await;
    assert_eq!(s, 201, "{project}");
    only_target(
        &app,
        json!({"kind": "edge", "name": "cf", "url": edge.url, "token": KEY}),
    )
    .await;
    let page = app
        .page(
            &project,
            json!({"slug": "home", "name": "Home", "is_homepage": true}),
        )
        .await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(edge.held("acme"), [("home".to_string(), 1)]);
    assert!(edge.held("_default").is_empty());
    let id = page["id"].as_str().unwrap();
    let gone = run_job(&app, &format!("/api/pages/{id}/unpublish"), json!({})).await;
    assert_eq!(gone["state"], "succeeded", "{gone}");
    let calls = edge.calls();
    assert!(
        calls.contains(&"DELETE /api/import/home?tenant_slug=acme".to_string())
            && calls.contains(&"POST /api/import/settings?tenant_slug=acme".to_string()),
        "{calls:?}"
    );
    assert!(edge.held("acme").is_empty());
}
