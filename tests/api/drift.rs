//! Drift check and repair: rows changed, deleted and added by hand in a local file and in
//! Turso, settings edited, cache keys overwritten and deleted; the check (API and `edgepub
//! verify`) lists each, the repair fixes each without new versions, a second check is clean.

use crate::support::drift::{cache_settled, ids, sqlite3, verify};
use crate::support::{hrana_query, redis_url, run_job, spawn_with, Backend, Tursodb};
use edgepub::cache;
use edgepub::domain::settings::{CacheSettings, RedisType};
use edgepub::net::NetPolicy;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

crate::both_backends!(drift_is_listed_and_repaired);

async fn drift_is_listed_and_repaired(backend: Backend) {
    let app = spawn_with(backend, &[]).await;
    let turso = Tursodb::start();
    let tenant = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let (s, project) = app
        .post(
            "/api/projects",
            json!({"name": "Site", "tenant_slug": tenant}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, _) = app
        .post(
            "/api/projects/site/targets",
            json!({"kind": "turso", "name": "turso", "url": turso.url, "token": "x"}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(json!({"redis_type": "tcp", "redis_url": redis_url(), "redis_enabled": true, "cache_mode": "prime"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    for (slug, home) in [("home", true), ("a", false), ("b", false)] {
        app.page(
            &project,
            json!({"slug": slug, "name": slug, "is_homepage": home}),
        )
        .await;
    }
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    cache_settled(&app, &job).await;
    let published_step = app
        .get(&format!(
            "/api/publish-jobs/{}",
            job["id"].as_str().unwrap()
        ))
        .await
        .1["cache"]
        .clone();
    assert_eq!(published_step["status"], "done", "{published_step}");
    let (s, clean) = app.get("/api/projects/site/drift").await;
    assert_eq!(
        (s, clean["drifted"].as_bool()),
        (200, Some(false)),
        "{clean}"
    );
    assert!(verify(&app).0);

    // Tamper with everything.
    let db = app.data_dir.join("sites/site/pages.db");
    sqlite3(
        &db,
        "UPDATE published_pages SET version = 9, content_hash = 'x' WHERE slug = 'a'; \
         DELETE FROM published_pages WHERE slug = 'b'; \
         INSERT INTO published_pages (id, slug, name, layout_data, published_at, tenant_slug) \
           SELECT 'ghost', 'ghost', 'Ghost', '{}', published_at, tenant_slug FROM published_pages LIMIT 1; \
         UPDATE project_settings SET site_name = 'hacked';",
    );
    hrana_query(
        &turso.url,
        "DELETE FROM published_pages WHERE slug = 'home'",
    )
    .await;
    let cache = cache::connect(
        &CacheSettings {
            redis_type: RedisType::Tcp,
            redis_url: Some(redis_url()),
            ..Default::default()
        },
        NetPolicy::default(),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    cache
        .set_ex(&format!("page:{tenant}:a"), "{}", 300)
        .await
        .unwrap();
    cache
        .unlink(&[format!("page:{tenant}:home")])
        .await
        .unwrap();

    let (_, report) = app.get("/api/projects/site/drift").await;
    assert_eq!(report["drifted"], true, "{report}");
    let targets = report["targets"].as_array().unwrap();
    let local = targets.iter().find(|t| t["kind"] == "local").unwrap();
    assert_eq!(
        (
            ids(&local["changed"]),
            ids(&local["missing"]),
            ids(&local["extra"])
        ),
        (
            vec!["a".to_string()],
            vec!["b".to_string()],
            vec!["ghost".to_string()]
        ),
        "{local}"
    );
    assert_eq!(local["settings"], "changed");
    let remote = targets.iter().find(|t| t["kind"] == "turso").unwrap();
    assert_eq!(ids(&remote["missing"]), ["home"], "{remote}");
    assert_eq!(remote["settings"], "ok");
    assert_eq!(
        report["cache"]["missing"],
        json!([format!("page:{tenant}:home")])
    );
    assert_eq!(
        report["cache"]["stale"],
        json!([format!("page:{tenant}:a")])
    );
    let (ok, cli) = verify(&app);
    assert!(!ok, "verify exits 1 on drift");
    assert_eq!(cli["drifted"], true, "{cli}");

    let repair = run_job(&app, "/api/projects/site/drift/repair", json!({})).await;
    assert_eq!(repair["state"], "succeeded", "{repair}");
    assert_eq!(repair["release_id"], job["release_id"], "no new release");
    cache_settled(&app, &repair).await;
    // The repair's cache step is the two keys it wrote; the publish's is still its own.
    let step = |id: &Value| format!("/api/publish-jobs/{}", id.as_str().unwrap());
    let (_, repaired) = app.get(&step(&repair["id"])).await;
    assert_eq!(
        (&repaired["cache"]["operations"], &repaired["cache"]["done"]),
        (&json!(2), &json!(2)),
        "{repaired}"
    );
    let (_, published) = app.get(&step(&job["id"])).await;
    assert_eq!(published["cache"], published_step, "{published}");
    let (_, after) = app.get("/api/projects/site/drift").await;
    assert_eq!(after["drifted"], false, "{after}");
    assert!(verify(&app).0);
    let out = std::process::Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT MAX(version), COUNT(*) FROM published_pages")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "1|3\n",
        "versions unchanged"
    );
    let keys = [
        format!("page:{tenant}:home"),
        format!("page:{tenant}:a"),
        format!("page:{tenant}:b"),
        format!("page:{tenant}:__homepage__"),
    ];
    cache.unlink(&keys).await.unwrap();
}
