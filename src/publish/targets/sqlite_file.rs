//! Writing a release into a local `pages.db` (contract section 1) with sqlx's SQLite, by
//! running the neutral statements of `pages_db`.
//!
//! One release is one transaction, so an edge reading the file (WAL mode) sees the previous
//! release or the new one, never a mix.

use super::pages_db::{self, SqlValue, Stmt};
use super::{Apply, ApplyReport, PublishTarget, TargetError};
use crate::net::{ConnError, ErrorKind, ServerInfo};
use crate::publish::plan::Held;
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

pub struct SqliteFile {
    path: PathBuf,
    /// Opened (and its schema checked) once per publish, shared by `held` and `apply`.
    pool: tokio::sync::OnceCell<SqlitePool>,
}

/// Sorts a SQLite failure into a kind with a fixed message; the driver's text (which may
/// name paths or values) goes only to the log.
fn db_error(e: sqlx::Error) -> ConnError {
    let text = e.to_string().to_ascii_lowercase();
    tracing::warn!(error = %text, "a pages.db statement failed");
    let has = |w: &str| text.contains(w);
    let (kind, message) = if has("readonly") || has("permission") {
        (ErrorKind::Permission, "pages.db is not writable")
    } else if has("locked") || has("busy") {
        (
            ErrorKind::Timeout,
            "pages.db stayed locked by another writer",
        )
    } else if has("not a database") || has("malformed") {
        (
            ErrorKind::Invalid,
            "the file is not a usable SQLite database",
        )
    } else {
        (ErrorKind::Protocol, "pages.db refused the write")
    };
    ConnError::new(kind, message)
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

impl SqliteFile {
    pub fn new(path: PathBuf) -> SqliteFile {
        SqliteFile {
            path,
            pool: tokio::sync::OnceCell::new(),
        }
    }

    async fn pool(&self) -> Result<&SqlitePool, ConnError> {
        self.pool.get_or_try_init(|| self.open()).await
    }

    async fn open(&self) -> Result<SqlitePool, ConnError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                ConnError::new(
                    ErrorKind::Permission,
                    format!("cannot create {}: {}", dir.display(), e.kind()),
                )
            })?;
        }
        let opts = SqliteConnectOptions::new()
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(db_error)?;
        for sql in pages_db::SCHEMA {
            sqlx::query(sql).execute(&pool).await.map_err(db_error)?;
        }
        let present: Vec<String> = sqlx::query(pages_db::TABLE_INFO)
            .fetch_all(&pool)
            .await
            .map_err(db_error)?
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
        for sql in pages_db::add_missing_columns(&present)
            .iter()
            .map(String::as_str)
            .chain(pages_db::INDEXES.iter().copied())
        {
            sqlx::query(sql).execute(&pool).await.map_err(db_error)?;
        }
        Ok(pool)
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
        let pool = self.pool().await?;
        let mut tx = pool.begin().await.map_err(db_error)?;
        run(&mut tx, &pages_db::prelude(a)).await?;
        for refs in a.upserts.chunks(pages_db::PAGES_PER_STMT) {
            let chunk = a.bodies.load(refs).await?;
            run(&mut tx, &pages_db::upserts(a.tenant, &chunk)).await?;
        }
        run(&mut tx, &pages_db::epilogue(a)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(ApplyReport::all(a))
    }
}
