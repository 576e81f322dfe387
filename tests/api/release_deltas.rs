//! Releases recorded before releases became deltas (full snapshots) read back exactly the same
//! after the migration, which adds tombstones, builds the current set and drops the rows that
//! repeat the release before.

use crate::helpers::{Backend, PgDb, TempDir};
use edgepub::domain::publish::ReleasePage;
use edgepub::store::{Options, Store};
use sqlx::migrate::Migrator;
use std::borrow::Cow;
use uuid::Uuid;

crate::both_backends!(snapshot_releases_migrate_to_exact_deltas);

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
    let rows_after = match backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
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
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&url).await.unwrap();
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
        }
    };
    // r1: three pages; r2: b changed and c's tombstone; r3: c back.
    assert_eq!(rows_after, 6);
    let keyring = edgepub::secrets::Keyring::new(edgepub::secrets::Key::generate(), Vec::new());
    let opts = Options {
        max_connections: 2,
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
