//! A publish costs what changed: a target whose `_edgepub_release` marker names the release
//! the control plane recorded it taking is not read again (the drift check is what finds
//! rows changed behind edgepub's back); one whose marker disagrees is read in full.
//! Releases recorded before releases became deltas (full snapshots) read back exactly the same
//! after the migration, which adds tombstones, builds the current set and drops the rows that
//! repeat the release before.

use crate::support::{local_rows, run_job, spawn, Backend, PgDb, TempDir, TestApp};
use edgepub::domain::publish::ReleasePage;
use edgepub::store::{Options, Store};
use reqwest::Method;
use serde_json::json;
use sqlx::migrate::Migrator;
use std::borrow::Cow;
use uuid::Uuid;

crate::both_backends!(
    snapshot_releases_migrate_to_exact_deltas,
    a_target_is_read_only_when_its_marker_disagrees
);

fn page(id: &str, version: i64, hash: &str) -> ReleasePage {
    ReleasePage {
        page_id: id.into(),
        slug: format!("s-{id}"),
        version,
        content_hash: hash.into(),
        published_at: format!("2026-01-0{version}T00:00:00.000Z"),
    }
}

async fn snapshot_releases_migrate_to_exact_deltas(backend: Backend) {
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}?mode=rwc", dir.0.join("old.db").display()),
    };
    let (full, lit): (Migrator, fn(Uuid) -> String) = match backend {
        Backend::Sqlite => (sqlx::migrate!("migrations/sqlite"), |u| {
            format!("X'{}'", u.simple())
        }),
        Backend::Postgres => (sqlx::migrate!("migrations/postgres"), |u| {
            format!("'{u}'::uuid")
        }),
    };
    let mut before = Migrator {
        migrations: Cow::Owned(
            full.migrations
                .iter()
                .filter(|m| m.version < 14)
                .cloned()
                .collect(),
        ),
        ..full
    };
    before.set_ignore_missing(true);
    let project = Uuid::new_v4();
    let snapshots = [
        vec![page("a", 1, "h1"), page("b", 1, "h2"), page("c", 1, "h3")],
        vec![page("a", 1, "h1"), page("b", 2, "h4")],
        vec![page("a", 1, "h1"), page("b", 2, "h4"), page("c", 2, "h5")],
    ];
    let mut sql = vec![format!(
        "INSERT INTO projects (id, name, slug, created_at, updated_at) VALUES ({}, 'Old', 'old', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        lit(project)
    )];
    let ids: Vec<Uuid> = snapshots.iter().map(|_| Uuid::new_v4()).collect();
    for (n, (id, pages)) in ids.iter().zip(&snapshots).enumerate() {
        sql.push(format!(
            "INSERT INTO releases (id, project_id, number, job_id, created_at, targets) VALUES ({}, {}, {}, {}, '2026-01-01T00:00:00Z', '[]')",
            lit(*id), lit(project), n + 1, lit(Uuid::new_v4())
        ));
        for p in pages {
            sql.push(format!(
                "INSERT INTO release_pages (release_id, page_id, slug, version, content_hash, published_at) VALUES ({}, '{}', '{}', {}, '{}', '{}')",
                lit(*id), p.page_id, p.slug, p.version, p.content_hash, p.published_at
            ));
        }
    }
    // The same steps on either driver's pool: migrate to 13, write old-style rows, migrate on.
    macro_rules! migrate_old_rows {
        ($pool:ty) => {{
            let pool = <$pool>::connect(&url).await.unwrap();
            before.run(&pool).await.unwrap();
            for q in &sql {
                sqlx::query(q).execute(&pool).await.unwrap();
            }
            full.run(&pool).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM release_pages")
                .fetch_one(&pool)
                .await
                .unwrap();
            pool.close().await;
            n
        }};
    }
    let rows_after = match backend {
        Backend::Sqlite => migrate_old_rows!(sqlx::SqlitePool),
        Backend::Postgres => migrate_old_rows!(sqlx::PgPool),
    };
    // r1: three pages; r2: b changed and c's tombstone; r3: c back.
    assert_eq!(rows_after, 6);
    let keyring = edgepub::secrets::Keyring::new(edgepub::secrets::Key::generate(), Vec::new());
    let opts = Options {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(10),
        busy_timeout: std::time::Duration::from_secs(10),
        history_limit: 10,
        keyring,
    };
    let store = Store::connect(&url, opts, edgepub::clock::system())
        .await
        .unwrap();
    for (id, pages) in ids.iter().zip(&snapshots) {
        assert_eq!(&store.release_pages(*id).await.unwrap(), pages);
    }
    let (current, pages) = store.current_release(project).await.unwrap().unwrap();
    assert_eq!((current.id, &pages), (ids[2], &snapshots[2]));
}

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

async fn slugs(app: &TestApp) -> Vec<String> {
    local_rows(
        app,
        "site",
        "SELECT slug FROM published_pages ORDER BY slug",
    )
    .await
    .into_iter()
    .map(|r| r[0].as_str().unwrap_or_default().to_string())
    .collect()
}

async fn on_target(app: &TestApp, sql: &str) {
    use sqlx::Connection;
    let path = app.data_dir.join("sites/site/pages.db");
    let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query(sql).execute(&mut c).await.unwrap();
}

async fn a_target_is_read_only_when_its_marker_disagrees(backend: Backend) {
    let app = spawn(backend).await;
    app.project("Site").await;
    let mut ids = Vec::new();
    for slug in ["a", "b", "c"] {
        let (s, p) = app
            .post(
                "/api/projects/site/pages",
                json!({"name": slug, "slug": slug, "layout_data": {"content": [], "root": {}}}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        ids.push(p["id"].as_str().unwrap().to_string());
    }
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(slugs(&app).await, ["a", "b", "c"]);

    // Behind edgepub's back: b's row goes, the marker stays.
    on_target(&app, "DELETE FROM published_pages WHERE slug = 'b'").await;
    edit(&app, &ids[0], "one").await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(job["result"]["targets"][0]["upserted"], 1, "{job}");
    assert_eq!(
        slugs(&app).await,
        ["a", "c"],
        "the marker vouched for the recorded release"
    );
    let (_, drift) = app.get("/api/projects/site/drift").await;
    assert_eq!(drift["targets"][0]["missing"][0]["slug"], "b", "{drift}");

    // A marker naming another release makes the next publish read every row.
    on_target(
        &app,
        "UPDATE _edgepub_release SET release_id = 'written-by-someone-else'",
    )
    .await;
    edit(&app, &ids[0], "two").await;
    let job = run_job(&app, "/api/projects/site/publish", json!({})).await;
    assert_eq!(
        job["result"]["targets"][0]["upserted"], 2,
        "a and the missing b: {job}"
    );
    assert_eq!(slugs(&app).await, ["a", "b", "c"]);
}
