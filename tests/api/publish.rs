//! Compile and publish to a local pages.db, read back as an edge would.

use crate::both_backends;
use crate::support::publish::site;
use crate::support::{error_code, pages_db, run_job, spawn, wait_job, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Row;

both_backends!(
    published_rows_match_the_compiled_pages,
    incremental_force_unpublish_and_removal,
    releases_rollback_and_idempotency
);

fn layout(ds: &Value, text: &str) -> Value {
    json!({"content": [
        {"id": "hero", "type": "Heading", "props": {"text": text}, "styles": {"color": "red"}},
        {"id": "table", "type": "DataTable", "props": {"binding": {"dataSourceId": ds["id"], "tableName": "orders", "columns": ["id", "total"], "pagination": {"pageSize": 10}}}},
        {"id": "box", "type": "Container", "children": [{"id": "note", "type": "Text", "props": {"text": "✓ unicode"}, "visibility": {"mobile": false}}]}
    ], "root": {}})
}

async fn published_rows_match_the_compiled_pages(backend: Backend) {
    let app = spawn(backend).await;
    let (_, ds) = site(&app).await;
    let home = app.page(&json!({"id": "site"}), json!({"slug": "home", "name": "Home", "title": "Welcome", "is_homepage": true, "layout_data": layout(&ds, "Hi"), "seo_data": {"title": "Home", "keywords": ["a"]}})).await;
    app.page(
        &json!({"id": "site"}),
        json!({"slug": "draft", "name": "Draft", "is_public": false}),
    )
    .await;

    let (s, dry) = app.post("/api/projects/site/compile", json!({})).await;
    assert_eq!(s, 200, "{dry}");
    assert_eq!(dry["errors"], 0, "{dry}");
    assert!(
        !app.data_dir.join("sites/site/pages.db").exists(),
        "a dry run writes nothing"
    );
    let (_, one) = app
        .post(
            &format!(
                "/api/projects/site/compile?page={}",
                home["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await;
    assert_eq!(one["pages"].as_array().unwrap().len(), 1);

    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(
        (
            job["progress"]["pages_compiled"].as_u64(),
            job["result"]["targets"][0]["upserted"].as_u64()
        ),
        (Some(2), Some(2))
    );

    let rows = pages_db(&app, "site", "SELECT * FROM published_pages ORDER BY slug").await;
    assert_eq!(rows.len(), 2);
    let compiled: Vec<&Value> = dry["pages"].as_array().unwrap().iter().collect();
    for row in &rows {
        let id: String = row.get("id");
        let c = compiled
            .iter()
            .find(|p| p["id"] == id.as_str())
            .expect("compiled page");
        assert_eq!(row.get::<String, _>("slug"), c["slug"].as_str().unwrap());
        assert_eq!(row.get::<String, _>("name"), c["name"].as_str().unwrap());
        assert_eq!(
            row.get::<Option<String>, _>("title").as_deref(),
            c["title"].as_str()
        );
        let layout: Value = serde_json::from_str(&row.get::<String, _>("layout_data")).unwrap();
        assert_eq!(layout, c["layoutData"]);
        let seo: Option<Value> = row
            .get::<Option<String>, _>("seo_data")
            .map(|s| serde_json::from_str(&s).unwrap());
        assert_eq!(seo.as_ref(), c.get("seoData"));
        let dss: Option<Value> = row
            .get::<Option<String>, _>("datasources")
            .map(|s| serde_json::from_str(&s).unwrap());
        assert_eq!(dss.as_ref(), c.get("datasources"));
        assert_eq!(
            row.get::<Option<String>, _>("css_bundle").as_deref(),
            c["cssBundle"].as_str()
        );
        assert_eq!(
            row.get::<Option<String>, _>("content_hash").as_deref(),
            c["contentHash"].as_str()
        );
        assert_eq!(row.get::<i64, _>("version"), 1);
        assert_eq!(
            row.get::<i64, _>("is_public"),
            i64::from(c["isPublic"].as_bool().unwrap())
        );
        assert_eq!(
            row.get::<i64, _>("is_homepage"),
            i64::from(c["isHomepage"].as_bool().unwrap())
        );
        assert_eq!(row.get::<String, _>("tenant_slug"), "_default");
        let at: String = row.get("published_at");
        let shape = at.len() == 24
            && at.ends_with('Z')
            && at.as_bytes()[10] == b'T'
            && at.as_bytes()[19] == b'.';
        assert!(
            shape,
            "published_at `{at}` is ISO UTC with milliseconds and Z"
        );
        assert_eq!(row.get::<String, _>("updated_at"), at);
    }
    let home_row = rows
        .iter()
        .find(|r| r.get::<String, _>("slug") == "home")
        .unwrap();
    let dss: Value = serde_json::from_str(&home_row.get::<String, _>("datasources")).unwrap();
    assert_eq!(dss[0]["anonKey"], "anon-public-key");
    assert_eq!(dss[0]["secretEnvVar"], "DS_MAIN_API_KEY");
    assert!(
        !home_row
            .get::<String, _>("datasources")
            .contains("service-role"),
        "secrets are never published"
    );
    let layout: Value = serde_json::from_str(&home_row.get::<String, _>("layout_data")).unwrap();
    assert_eq!(
        layout["content"][1]["binding"]["dataRequest"]["fetchStrategy"],
        "direct"
    );
    assert_eq!(layout["content"][1]["binding"]["componentId"], "table");

    let settings = pages_db(
        &app,
        "site",
        "SELECT id, site_name, favicon_url, app_url FROM project_settings ORDER BY id",
    )
    .await;
    let ids: Vec<String> = settings.iter().map(|r| r.get("id")).collect();
    assert_eq!(ids, ["_default", "default"]);
    assert!(settings
        .iter()
        .all(|r| r.get::<Option<String>, _>("site_name").as_deref() == Some("My Site")));

    // The same file read by the sqlite3 CLI, as a separate program.
    let db = app.data_dir.join("sites/site/pages.db");
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT slug, version, is_homepage, published_at FROM published_pages ORDER BY slug")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("draft|1|0|") && text.contains("\nhome|1|1|"),
        "{text}"
    );
    let release: Vec<String> = pages_db(&app, "site", "SELECT release_id FROM _edgepub_release")
        .await
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(release, [job["release_id"].as_str().unwrap()]);
}

async fn versions(app: &TestApp) -> Vec<(String, i64)> {
    pages_db(
        app,
        "site",
        "SELECT slug, version FROM published_pages ORDER BY slug",
    )
    .await
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

async fn incremental_force_unpublish_and_removal(backend: Backend) {
    let app = spawn(backend).await;
    let (project, ds) = site(&app).await;
    let a = app
        .page(
            &project,
            json!({"slug": "a", "name": "A", "is_homepage": true, "layout_data": layout(&ds, "A")}),
        )
        .await;
    let b = app.page(&project, json!({"slug": "b", "name": "B"})).await;
    let c = app.page(&project, json!({"slug": "c", "name": "C"})).await;
    run_job(&app, "/api/projects/site/publish", json!({})).await;
    let v = |pairs: &[(&str, i64)]| {
        pairs
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect::<Vec<_>>()
    };
    assert_eq!(versions(&app).await, v(&[("a", 1), ("b", 1), ("c", 1)]));

    // Nothing changed: nothing rewritten, nothing re-versioned.
    let again = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(
        (
            again["result"]["targets"][0]["upserted"].as_u64(),
            again["result"]["targets"][0]["unchanged"].as_u64()
        ),
        (Some(0), Some(3))
    );
    assert_eq!(versions(&app).await, v(&[("a", 1), ("b", 1), ("c", 1)]));

    // One page edited: only it moves.
    let url = format!("/api/pages/{}", b["id"].as_str().unwrap());
    app.send(Method::PATCH, &url, Some(json!({"title": "new title"})))
        .await;
    let one = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(one["result"]["targets"][0]["upserted"], 1);
    assert_eq!(versions(&app).await, v(&[("a", 1), ("b", 2), ("c", 1)]));

    // force republishes everything.
    run_job(&app, "/api/projects/site/publish", json!({"force": true})).await;
    assert_eq!(versions(&app).await, v(&[("a", 2), ("b", 3), ("c", 2)]));

    // Publishing one page leaves the others alone; a renamed slug follows the page.
    app.send(
        Method::PATCH,
        &format!("/api/pages/{}", c["id"].as_str().unwrap()),
        Some(json!({"slug": "c-renamed"})),
    )
    .await;
    app.send(Method::PATCH, &url, Some(json!({"title": "only b"})))
        .await;
    let partial = run_job(
        &app,
        &format!("/api/pages/{}/publish", c["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(partial["state"], "succeeded", "{partial}");
    assert_eq!(
        versions(&app).await,
        v(&[("a", 2), ("b", 3), ("c-renamed", 3)])
    );

    // Unpublish removes one page; a full publish removes deleted drafts.
    run_job(
        &app,
        &format!("/api/pages/{}/unpublish", a["id"].as_str().unwrap()),
        json!({}),
    )
    .await;
    assert_eq!(versions(&app).await, v(&[("b", 3), ("c-renamed", 3)]));
    app.send(
        Method::DELETE,
        &format!("/api/pages/{}", c["id"].as_str().unwrap()),
        None,
    )
    .await;
    run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(
        versions(&app).await,
        v(&[("a", 3), ("b", 4)]),
        "a is back, b changed, c is gone"
    );
}

async fn releases_rollback_and_idempotency(backend: Backend) {
    let app = spawn(backend).await;
    let (project, ds) = site(&app).await;
    let home = app.page(&project, json!({"slug": "home", "name": "Home", "is_homepage": true, "layout_data": layout(&ds, "first")})).await;
    let first = run_job(&app, "/api/projects/site/publish", json!({})).await;
    let url = format!("/api/pages/{}", home["id"].as_str().unwrap());
    app.send(
        Method::PATCH,
        &url,
        Some(json!({"layout_data": layout(&ds, "second")})),
    )
    .await;
    run_job(&app, "/api/projects/site/publish", json!({})).await;
    async fn heading(app: &TestApp) -> (String, i64) {
        let rows = pages_db(
            app,
            "site",
            "SELECT layout_data, version FROM published_pages",
        )
        .await;
        let l: Value = serde_json::from_str(&rows[0].get::<String, _>(0)).unwrap();
        (
            l["content"][0]["props"]["text"]
                .as_str()
                .unwrap()
                .to_string(),
            rows[0].get::<i64, _>(1),
        )
    }
    assert_eq!(heading(&app).await, ("second".into(), 2));

    let (_, releases) = app.get("/api/projects/site/releases").await;
    assert_eq!(releases["total"], 2);
    let r1 = first["release_id"].as_str().unwrap();
    let (_, release) = app.get(&format!("/api/releases/{r1}")).await;
    assert_eq!(
        (
            release["number"].as_i64(),
            release["pages"][0]["version"].as_i64()
        ),
        (Some(1), Some(1))
    );
    let back = run_job(&app, &format!("/api/releases/{r1}/rollback"), json!({})).await;
    assert_eq!(back["state"], "succeeded", "{back}");
    assert_eq!(
        heading(&app).await,
        ("first".into(), 3),
        "the old content as a new version"
    );
    let (_, releases) = app.get("/api/projects/site/releases").await;
    assert_eq!(
        (
            releases["total"].as_i64(),
            releases["items"][0]["number"].as_i64()
        ),
        (Some(3), Some(3))
    );

    // Idempotency-Key: same key and body → same job; another body → 422.
    let post = |key: &'static str, body: Value| {
        app.req(Method::POST, "/api/projects/site/publish")
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let (s1, j1) =
        crate::support::read(post("deploy-42", json!({"force": true})).await.unwrap()).await;
    let (s2, j2) =
        crate::support::read(post("deploy-42", json!({"force": true})).await.unwrap()).await;
    assert_eq!((s1, s2), (202, 202));
    assert_eq!(j1["job_id"], j2["job_id"]);
    let (s3, j3) =
        crate::support::read(post("deploy-42", json!({"force": false})).await.unwrap()).await;
    assert_eq!((s3, error_code(&j3)), (422, "validation_failed"));
    wait_job(&app, j1["job_id"].as_str().unwrap()).await;
    let (_, jobs) = app.get("/api/projects/site/publish-jobs").await;
    assert_eq!(jobs["total"], 4, "the retry created no second job");
}
