//! Writing a release into a local `pages.db` (contract section 1) with sqlx's SQLite, by
//! running the neutral statements of `pages_db`.
//!
//! One release is one transaction, so an edge reading the file (WAL mode) sees the previous
//! release or the new one, never a mix.

use super::local_files::{db_error, LocalFiles};
use super::pages_db::{self, SqlValue, Stmt};
use super::{Apply, ApplyReport, PublishTarget, TargetError};
use crate::net::{ConnError, ServerInfo};
use crate::publish::plan::Held;
use async_trait::async_trait;
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool, ValueRef};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

pub struct SqliteFile {
    path: PathBuf,
    files: Arc<LocalFiles>,
    /// The file's pool, taken from the process's open files once per publish.
    pool: tokio::sync::OnceCell<SqlitePool>,
}

fn query(s: &Stmt) -> sqlx::query::Query<'_, Sqlite, SqliteArguments<'_>> {
    s.args.iter().fold(sqlx::query(&s.sql), |q, a| match a {
        SqlValue::Null => q.bind(None::<String>),
        SqlValue::Integer(n) => q.bind(*n),
        SqlValue::Text(t) => q.bind(t.as_str()),
    })
}

async fn run(conn: &mut SqliteConnection, stmts: &[Stmt]) -> Result<(), ConnError> {
    for s in stmts {
        query(s).execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// A column as a bound value, whatever type a hand edit left in it (SQLite columns take any).
fn column(r: &SqliteRow, i: usize) -> SqlValue {
    match r.try_get_raw(i) {
        Ok(v) if !v.is_null() => {}
        _ => return SqlValue::Null,
    }
    if let Ok(n) = r.try_get::<i64, _>(i) {
        return SqlValue::Integer(n);
    }
    r.try_get::<String, _>(i)
        .map_or_else(|_| SqlValue::Text("(not text)".into()), SqlValue::Text)
}

impl SqliteFile {
    pub fn new(path: PathBuf, files: Arc<LocalFiles>) -> SqliteFile {
        SqliteFile {
            path,
            files,
            pool: tokio::sync::OnceCell::new(),
        }
    }

    async fn pool(&self) -> Result<&SqlitePool, ConnError> {
        self.pool
            .get_or_try_init(|| self.files.get(&self.path))
            .await
    }
}

#[async_trait]
impl PublishTarget for SqliteFile {
    fn atomic(&self) -> bool {
        true
    }

    async fn probe(&self) -> Result<ServerInfo, ConnError> {
        super::local::probe(&self.path).await
    }

    async fn held(&self, tenant: &str) -> Result<Option<HashMap<String, Held>>, ConnError> {
        let pool = self.pool().await?;
        let stmt = pages_db::held(tenant);
        let rows = query(&stmt).fetch_all(pool).await.map_err(db_error)?;
        Ok(Some(
            rows.iter()
                .map(|r| {
                    (
                        r.get::<String, _>("id"),
                        Held {
                            content_hash: r.get("content_hash"),
                            version: r.get("version"),
                            slug: r.get("slug"),
                        },
                    )
                })
                .collect(),
        ))
    }

    async fn rows(
        &self,
        tenant: &str,
        ids: &[&str],
    ) -> Result<Option<HashMap<String, Vec<SqlValue>>>, ConnError> {
        let pool = self.pool().await?;
        let mut out = HashMap::new();
        for stmt in pages_db::rows(tenant, ids) {
            for r in query(&stmt).fetch_all(pool).await.map_err(db_error)? {
                let values: Vec<SqlValue> = (0..r.len()).map(|i| column(&r, i)).collect();
                if let Some(SqlValue::Text(id)) = values.first() {
                    out.insert(id.clone(), values);
                }
            }
        }
        Ok(Some(out))
    }

    async fn marker(&self, tenant: &str) -> Result<Option<String>, ConnError> {
        let pool = self.pool().await?;
        let stmt = pages_db::marker(tenant);
        let row = query(&stmt).fetch_optional(pool).await.map_err(db_error)?;
        Ok(row.map(|r| r.get::<String, _>("release_id")))
    }

    async fn settings(
        &self,
        tenant: &str,
    ) -> Result<Option<Vec<(String, super::SiteSettings)>>, ConnError> {
        let pool = self.pool().await?;
        let stmt = pages_db::settings_rows(tenant);
        let rows = query(&stmt).fetch_all(pool).await.map_err(db_error)?;
        Ok(Some(
            rows.iter()
                .map(|r| {
                    pages_db::settings_from(
                        r.get(0),
                        [r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)],
                    )
                })
                .collect(),
        ))
    }

    async fn apply(&self, a: &Apply<'_>) -> Result<ApplyReport, TargetError> {
        const LOCAL_PAGES_PER_STMT: usize = 10;
        let pool = self.pool().await?;
        let mut tx = pool.begin().await.map_err(db_error)?;
        run(&mut tx, &pages_db::prelude(a)).await?;
        // Pages are held three times while written (stored bytes, row values, SQLite's
        // bound copy), so a local file takes them a few at a time: statements are cheap here.
        for refs in a.upserts.chunks(LOCAL_PAGES_PER_STMT) {
            let chunk = a.bodies.load(refs).await?;
            run(&mut tx, &pages_db::upserts(a.tenant, &chunk)?).await?;
        }
        run(&mut tx, &pages_db::epilogue(a)).await?;
        tx.commit().await.map_err(db_error)?;
        LocalFiles::checkpoint(pool).await?;
        Ok(ApplyReport::all(a))
    }
}
