//! Old releases are pruned to `EDGEPUB_RELEASE_RETENTION`: the kept ones read back (and roll
//! back) exactly as before, a page removed in a pruned release still comes back with a
//! higher version, and compiled pages nothing refers to any more are dropped, with the
//! applied cache operations of the releases dropped.

use crate::support::{db_texts, run_job, spawn_with, Backend, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

crate::both_backends!(old_releases_are_pruned_exactly);

async fn edit(app: &TestApp, id: &str, text: &str) {
    let layout =
        json!({"content": [{"id": "t", "type": "Text", "props": {"text": text}}], "root": {}});
    let (s, b) = app
        .send(
            Method::PATCH,
            &format!("/api/pages/{id}"),
            Some(json!({"layout_data": layout})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}

/// The job's release, once its cache operations are applied.
async fn release(app: &TestApp, job: &Value) -> Value {
    assert_eq!(job["state"], "succeeded", "{job}");
    crate::support::cache_step::cache_done(app, job).await;
    let (s, r) = app
        .get(&format!(
            "/api/releases/{}",
            job["release_id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(s, 200, "{r}");
    r
}

async fn old_releases_are_pruned_exactly(backend: Backend) {
    let app = spawn_with(backend, &[("EDGEPUB_RELEASE_RETENTION", "2")]).await;
    let (_, project) = app.post("/api/projects", json!({"name": "Site"})).await;
    let cache = json!({"redis_type": "tcp", "redis_url": crate::support::peers::redis_url(),
        "redis_enabled": true, "cache_mode": "invalidate"});
    let (s, b) = app
        .send(
            Method::PUT,
            "/api/projects/site/settings/cache",
            Some(cache),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let mut ids = Vec::new();
    for slug in ["a", "b"] {
        let (s, p) = app
            .post(
                "/api/projects/site/pages",
                json!({"name": slug, "slug": slug, "is_homepage": slug == "a",
                "layout_data": {"content": [], "root": {}}}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    let r1 = release(
        &app,
        &run_job(&app, "/api/projects/site/publish", json!({})).await,
    )
    .await;
    // b is deleted: the next full publish removes it (a tombstone in r2).
    let (st, _) = app
        .send(Method::DELETE, &format!("/api/pages/{}", ids[1]), None)
        .await;
    assert_eq!(st, 204);
    let r2 = release(
        &app,
        &run_job(&app, "/api/projects/site/publish", json!({})).await,
    )
    .await;
    assert_eq!(r2["pages"].as_array().unwrap().len(), 1, "{r2}");
    edit(&app, &ids[0], "two").await;
    let r3 = release(
        &app,
        &run_job(&app, "/api/projects/site/publish", json!({})).await,
    )
    .await;
    edit(&app, &ids[0], "three").await;
    let r4 = release(
        &app,
        &run_job(&app, "/api/projects/site/publish", json!({})).await,
    )
    .await;
    assert_eq!(r4["number"], 4);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, list) = app.get("/api/projects/site/releases").await;
        if list["total"] == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "not pruned: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for gone in [&r1, &r2] {
        let (s, _) = app
            .get(&format!("/api/releases/{}", gone["id"].as_str().unwrap()))
            .await;
        assert_eq!(s, 404);
    }
    for kept in [&r3, &r4] {
        let (_, now) = app
            .get(&format!("/api/releases/{}", kept["id"].as_str().unwrap()))
            .await;
        assert_eq!(
            now["pages"], kept["pages"],
            "a kept release reads back exactly"
        );
    }
    // Cache operations: the dropped releases' are gone, the kept ones' are all there.
    let numbers = db_texts(
        &app,
        "SELECT DISTINCT CAST(release_number AS TEXT) FROM cache_outbox ORDER BY 1",
    )
    .await;
    assert_eq!(numbers, [Some("3".into()), Some("4".into())]);
    // Blobs: a's first content is referenced by nothing now; b's is (its memo).
    let project_id = project["id"].as_str().unwrap();
    let blobs = db_texts(
        &app,
        "SELECT content_hash FROM page_blobs ORDER BY content_hash",
    )
    .await;
    let hash = |r: &Value, page: &str| {
        r["pages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["page_id"] == page)
            .map(|p| p["content_hash"].clone())
    };
    let blobs: Vec<String> = blobs.into_iter().flatten().collect();
    assert!(
        !blobs.contains(&hash(&r1, &ids[0]).unwrap().as_str().unwrap().to_string()),
        "{blobs:?}"
    );
    assert!(
        blobs.contains(&hash(&r1, &ids[1]).unwrap().as_str().unwrap().to_string()),
        "{blobs:?}"
    );
    assert_eq!(
        blobs.len(),
        3,
        "a's two kept contents and b's: {blobs:?} ({project_id})"
    );

    // b was removed in a pruned release: restored, it comes back with a higher version.
    let (st, _) = app
        .post(&format!("/api/pages/{}/restore", ids[1]), json!({}))
        .await;
    assert_eq!(st, 200);
    let job = run_job(
        &app,
        "/api/projects/site/publish",
        json!({"pages": [ids[1]]}),
    )
    .await;
    let back = release(&app, &job).await;
    let b = back["pages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["page_id"] == ids[1].as_str())
        .unwrap()
        .clone();
    assert_eq!(b["version"], 2, "{back}");
    // That pruned r3; r4, now the oldest kept release, still rolls back exactly.
    let rollback = format!("/api/releases/{}/rollback", r4["id"].as_str().unwrap());
    let rolled = release(&app, &run_job(&app, &rollback, json!({})).await).await;
    assert_eq!(hash(&rolled, &ids[0]), hash(&r4, &ids[0]));
    assert!(
        hash(&rolled, &ids[1]).is_none(),
        "b was not in r4: {rolled}"
    );
}
