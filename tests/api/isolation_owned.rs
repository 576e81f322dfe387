//! What a project owns: the files of its local targets (its own directory under the sites
//! root, kept across renames), the keys of its cache (no other project with the same tenant
//! in the same Redis database), and the pages a publish may name.

use crate::support::{error_code, redis_url, spawn, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

crate::both_backends!(
    local_targets_stay_in_the_projects_directory,
    two_projects_never_share_cache_keys,
    publishes_name_only_live_pages_of_the_project
);

async fn create(app: &TestApp, body: Value) -> Value {
    let (s, p) = app.post("/api/projects", body).await;
    assert_eq!(s, 201, "{p}");
    p
}

async fn target(app: &TestApp, project: &str, path: &str) -> (u16, Value) {
    app.post(
        &format!("/api/projects/{project}/targets"),
        json!({"kind": "local", "name": "extra", "path": path}),
    )
    .await
}

async fn local_targets_stay_in_the_projects_directory(backend: Backend) {
    let app = spawn(backend).await;
    let alpha = create(&app, json!({"name": "Alpha"})).await;
    create(&app, json!({"name": "Bravo"})).await;
    assert_eq!(alpha["site_dir"], "alpha");
    let sites = app.data_dir.join("sites");
    std::fs::create_dir_all(sites.join("alpha")).unwrap();
    std::fs::create_dir_all(sites.join("bravo")).unwrap();
    std::os::unix::fs::symlink(sites.join("bravo"), sites.join("alpha").join("link")).unwrap();
    let absolute_other = sites.join("bravo").join("pages.db");
    for (path, code) in [
        ("bravo/pages.db", "outside_project_dir"),
        ("alpha/../bravo/pages.db", "outside_data_root"),
        ("alpha/link/pages.db", "outside_project_dir"),
        ("pages.db", "outside_project_dir"),
        ("alpha", "outside_project_dir"),
        (absolute_other.to_str().unwrap(), "outside_project_dir"),
        ("/etc/pages.db", "outside_data_root"),
    ] {
        let (s, b) = target(&app, "alpha", path).await;
        assert_eq!(s, 422, "{path}: {b}");
        assert_eq!(
            b["error"]["details"]["fields"][0]["code"], code,
            "{path}: {b}"
        );
    }
    let inside = sites.join("alpha").join("mirror.db");
    for path in ["alpha/eu/pages.db", inside.to_str().unwrap()] {
        let (s, b) = target(&app, "alpha", path).await;
        assert_eq!(s, 201, "{path}: {b}");
        app.send(
            Method::DELETE,
            &format!("/api/targets/{}", b["id"].as_str().unwrap()),
            None,
        )
        .await;
    }

    // A rename keeps the directory; a new project with the old slug gets a directory of its
    // own, so the two default targets never meet in one file.
    let (s, renamed) = app
        .send(
            Method::PATCH,
            "/api/projects/alpha",
            Some(json!({"slug": "zulu"})),
        )
        .await;
    assert_eq!(
        (s, renamed["site_dir"].as_str()),
        (200, Some("alpha")),
        "{renamed}"
    );
    let again = create(&app, json!({"name": "Alpha"})).await;
    let dir = again["site_dir"].as_str().unwrap().to_string();
    assert!(
        dir.starts_with("alpha-") && dir.len() == "alpha-".len() + 8,
        "{dir}"
    );
    let (_, targets) = app.get("/api/projects/alpha/targets").await;
    assert_eq!(targets[0]["path"], format!("{dir}/pages.db"));
    let (s, b) = target(&app, "alpha", "alpha/pages.db").await;
    assert_eq!((s, error_code(&b)), (422, "validation_failed"), "{b}");

    // A symlink made after the target was saved is caught when publishing.
    let (s, b) = target(&app, "zulu", "alpha/later/pages.db").await;
    assert_eq!(s, 201, "{b}");
    std::os::unix::fs::symlink(sites.join("bravo"), sites.join("alpha").join("later")).unwrap();
    let (_, zulu) = app.get("/api/projects/zulu").await;
    app.page(
        &zulu,
        json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await;
    let job = crate::support::run_job(&app, "/api/projects/zulu/publish", json!({})).await;
    let refused = job["result"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "extra")
        .cloned()
        .unwrap_or_default();
    assert!(
        refused["error"].to_string().contains("project's directory"),
        "{job}"
    );
    assert!(
        !sites.join("bravo").join("pages.db").exists(),
        "bravo's directory untouched"
    );
}

async fn put_cache(app: &TestApp, project: &str, url: &str) -> (u16, Value) {
    app.send(
        Method::PUT,
        &format!("/api/projects/{project}/settings/cache"),
        Some(json!({"redis_type": "tcp", "redis_url": url})),
    )
    .await
}

async fn two_projects_never_share_cache_keys(backend: Backend) {
    let app = spawn(backend).await;
    create(&app, json!({"name": "Alpha"})).await;
    create(&app, json!({"name": "Bravo"})).await;
    create(&app, json!({"name": "Charlie", "tenant_slug": "charlie"})).await;
    let url = redis_url();
    assert_eq!(put_cache(&app, "alpha", &url).await.0, 200);
    // The same database, however it is spelled, with the same tenant: refused.
    let port = url.rsplit(':').next().unwrap().trim_end_matches('/');
    for same in [
        url.clone(),
        format!("redis://localhost:{port}/0"),
        format!("redis://:secret@127.0.0.1:{port}"),
    ] {
        let (s, b) = put_cache(&app, "bravo", &same).await;
        assert_eq!((s, error_code(&b)), (409, "cache_shared"), "{same}: {b}");
        assert!(
            !b.to_string().contains("alpha"),
            "the other project is not named: {b}"
        );
    }
    // Another database, or another tenant, is fine.
    assert_eq!(
        put_cache(&app, "bravo", &format!("redis://127.0.0.1:{port}/3"))
            .await
            .0,
        200
    );
    assert_eq!(put_cache(&app, "charlie", &url).await.0, 200);
    // A tenant change that would make two projects share keys is refused too.
    let (s, b) = app
        .send(
            Method::PATCH,
            "/api/projects/charlie",
            Some(json!({"tenant_slug": "_default"})),
        )
        .await;
    assert_eq!((s, error_code(&b)), (409, "cache_shared"), "{b}");
    assert_eq!(b["error"]["details"]["path"], "/tenant_slug");
}

async fn publishes_name_only_live_pages_of_the_project(backend: Backend) {
    let app = spawn(backend).await;
    let alpha = create(&app, json!({"name": "Alpha"})).await;
    let bravo = create(&app, json!({"name": "Bravo"})).await;
    let mine = app
        .page(&alpha, json!({"slug": "home", "name": "Home"}))
        .await;
    let theirs = app
        .page(&bravo, json!({"slug": "home", "name": "Home"}))
        .await;
    let gone = app
        .page(&alpha, json!({"slug": "old", "name": "Old"}))
        .await;
    let gone_id = gone["id"].as_str().unwrap();
    app.send(Method::DELETE, &format!("/api/pages/{gone_id}"), None)
        .await;
    let body = json!({"pages": [mine["id"], theirs["id"], uuid::Uuid::new_v4(), gone_id]});
    let (s, b) = app.post("/api/projects/alpha/publish", body).await;
    assert_eq!((s, error_code(&b)), (422, "validation_failed"), "{b}");
    let paths: Vec<&str> = b["error"]["details"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["/pages/1", "/pages/2", "/pages/3"], "{b}");
    let (_, jobs) = app.get("/api/projects/alpha/publish-jobs").await;
    assert_eq!(jobs["total"], 0, "no job was made: {jobs}");
    let (s, b) = app
        .post(
            "/api/projects/alpha/publish",
            json!({"pages": [mine["id"]]}),
        )
        .await;
    assert_eq!(s, 202, "{b}");
}
