//! Databases and directories of a test's own, removed when the test ends: a fresh Postgres
//! database (from `EDGEPUB_TEST_PG_URL`) or a temp directory, and a way to read them.

use super::TestApp;
use std::path::PathBuf;

pub fn pg_admin_url() -> String {
    std::env::var("EDGEPUB_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh Postgres database, dropped (with its connections) on `Drop`.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        let admin = pg_admin_url();
        let name = format!("edgepub_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("Postgres must be reachable at EDGEPUB_TEST_PG_URL (run scripts/test.sh)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url())
                    .await
                    .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A temp directory removed on `Drop`.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("edgepub-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one SQL query returning a single text column against the app's own database.
pub async fn db_texts(app: &TestApp, sql: &str) -> Vec<Option<String>> {
    use sqlx::Connection;
    if app.db_url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&app.db_url)
            .await
            .expect("sqlite");
        sqlx::query_scalar(sql)
            .fetch_all(&mut c)
            .await
            .expect("query")
    } else {
        let mut c = sqlx::PgConnection::connect(&app.db_url)
            .await
            .expect("postgres");
        sqlx::query_scalar(sql)
            .fetch_all(&mut c)
            .await
            .expect("query")
    }
}
