//! Writing a release into a local `pages.db` (contract section 1) with sqlx's SQLite.
//!
//! One release is one transaction, so an edge reading the file (WAL mode) sees the previous
//! release or the new one, never a mix. Tables are created when missing, and a file an edge
//! created first is coped with: explicit column lists, missing columns added, its other
//! tables left alone.

use super::{Apply, PublishTarget};
use crate::publish::plan::Held;
use crate::publish::probe::{ConnError, ErrorKind};
use async_trait::async_trait;
use serde_json::Value;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS published_pages (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL, title TEXT, description TEXT,
    layout_data TEXT NOT NULL, seo_data TEXT, datasources TEXT, css_bundle TEXT,
    version INTEGER NOT NULL DEFAULT 1, published_at TEXT NOT NULL,
    is_public INTEGER NOT NULL DEFAULT 1, is_homepage INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    content_hash TEXT, tenant_slug TEXT NOT NULL DEFAULT '_default');
CREATE TABLE IF NOT EXISTS project_settings (
    id TEXT PRIMARY KEY, favicon_url TEXT, logo_url TEXT, site_name TEXT, site_description TEXT,
    app_url TEXT, auth_forms TEXT, users_config TEXT, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE IF NOT EXISTS _edgepub_release (
    tenant_slug TEXT PRIMARY KEY, release_id TEXT NOT NULL, job_id TEXT NOT NULL, published_at TEXT NOT NULL);
";

/// Indexes, created after any missing column was added.
const INDEXES: &str = "
CREATE UNIQUE INDEX IF NOT EXISTS idx_published_pages_tenant_slug ON published_pages (tenant_slug, slug);
CREATE INDEX IF NOT EXISTS idx_published_pages_homepage ON published_pages (is_homepage);
";

/// Columns an older edge-created table may lack, with how to add them.
const ADDABLE: &[(&str, &str)] = &[
    ("title", "TEXT"),
    ("description", "TEXT"),
    ("seo_data", "TEXT"),
    ("datasources", "TEXT"),
    ("css_bundle", "TEXT"),
    ("content_hash", "TEXT"),
    ("tenant_slug", "TEXT NOT NULL DEFAULT '_default'"),
];

const PAGE_COLS: &str = "id, slug, name, title, description, layout_data, seo_data, datasources, css_bundle, version, \
                         published_at, is_public, is_homepage, created_at, updated_at, content_hash, tenant_slug";

pub struct SqliteFile {
    path: PathBuf,
    /// Opened (and its schema checked) once per publish, shared by `held` and `apply`.
    pool: tokio::sync::OnceCell<SqlitePool>,
}

fn db_error(e: sqlx::Error) -> ConnError {
    let text = e.to_string();
    let kind = if text.contains("readonly") || text.contains("permission") {
        ErrorKind::Permission
    } else {
        ErrorKind::Protocol
    };
    ConnError::new(kind, format!("writing pages.db failed: {text}"))
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
        sqlx::raw_sql(SCHEMA)
            .execute(&pool)
            .await
            .map_err(db_error)?;
        let present: Vec<String> = sqlx::query("PRAGMA table_info(published_pages)")
            .fetch_all(&pool)
            .await
            .map_err(db_error)?
            .iter()
            .map(|r| r.get::<String, _>("name"))
            .collect();
        for (col, ty) in ADDABLE {
            if !present.iter().any(|p| p == col) {
                sqlx::query(&format!(
                    "ALTER TABLE published_pages ADD COLUMN {col} {ty}"
                ))
                .execute(&pool)
                .await
                .map_err(db_error)?;
            }
        }
        sqlx::raw_sql(INDEXES)
            .execute(&pool)
            .await
            .map_err(db_error)?;
        Ok(pool)
    }
}

fn text(page: &Value, key: &str) -> Option<String> {
    page.get(key).and_then(Value::as_str).map(String::from)
}

fn json_text(page: &Value, key: &str) -> Option<String> {
    page.get(key).filter(|v| !v.is_null()).map(Value::to_string)
}

#[async_trait]
impl PublishTarget for SqliteFile {
    async fn held(&self, tenant: &str) -> Result<HashMap<String, Held>, ConnError> {
        let pool = self.pool().await?;
        let rows = sqlx::query(
            "SELECT id, content_hash, version FROM published_pages WHERE tenant_slug = ?",
        )
        .bind(tenant)
        .fetch_all(pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("id"),
                    Held {
                        content_hash: r.get("content_hash"),
                        version: r.get("version"),
                    },
                )
            })
            .collect())
    }

    async fn apply(&self, a: &Apply<'_>) -> Result<(), ConnError> {
        let pool = self.pool().await?;
        let mut tx = pool.begin().await.map_err(db_error)?;
        for chunk in a.deletes.chunks(500) {
            let mut qb =
                sqlx::QueryBuilder::new("DELETE FROM published_pages WHERE tenant_slug = ");
            qb.push_bind(a.tenant).push(" AND id IN (");
            let mut sep = qb.separated(", ");
            for id in chunk {
                sep.push_bind(id);
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        // Slugs may move between pages in one release; park the rewritten pages' slugs on
        // unique placeholders first so the unique indexes never see a transient clash.
        for chunk in a.upserts.chunks(500) {
            let mut qb = sqlx::QueryBuilder::new(
                "UPDATE published_pages SET slug = slug || '#moving#' || id WHERE tenant_slug = ",
            );
            qb.push_bind(a.tenant).push(" AND id IN (");
            let mut sep = qb.separated(", ");
            for p in chunk {
                sep.push_bind(&p.page_id);
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        for refs in a.upserts.chunks(200) {
            let chunk = a.bodies.load(refs).await?;
            let mut qb =
                sqlx::QueryBuilder::new(format!("INSERT INTO published_pages ({PAGE_COLS}) "));
            qb.push_values(&chunk, |mut b, p| {
                let published = text(p, "publishedAt").unwrap_or_default();
                b.push_bind(text(p, "id"))
                    .push_bind(text(p, "slug"))
                    .push_bind(text(p, "name"))
                    .push_bind(text(p, "title"))
                    .push_bind(text(p, "description"))
                    .push_bind(
                        json_text(p, "layoutData").unwrap_or_else(|| "{\"content\":[]}".into()),
                    )
                    .push_bind(json_text(p, "seoData"))
                    .push_bind(json_text(p, "datasources"))
                    .push_bind(text(p, "cssBundle"))
                    .push_bind(p.get("version").and_then(Value::as_i64).unwrap_or(1))
                    .push_bind(published.clone())
                    .push_bind(i64::from(
                        p.get("isPublic").and_then(Value::as_bool).unwrap_or(true),
                    ))
                    .push_bind(i64::from(
                        p.get("isHomepage")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    ))
                    .push_bind(published.clone())
                    .push_bind(published)
                    .push_bind(text(p, "contentHash"))
                    .push_bind(a.tenant);
            });
            qb.push(
                " ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, title = excluded.title, \
                 description = excluded.description, layout_data = excluded.layout_data, seo_data = excluded.seo_data, \
                 datasources = excluded.datasources, css_bundle = excluded.css_bundle, version = excluded.version, \
                 published_at = excluded.published_at, is_public = excluded.is_public, is_homepage = excluded.is_homepage, \
                 updated_at = excluded.updated_at, content_hash = excluded.content_hash, tenant_slug = excluded.tenant_slug",
            );
            qb.build().execute(&mut *tx).await.map_err(db_error)?;
        }
        let s = a.settings;
        for id in super::settings_row_ids(a.tenant) {
            sqlx::query(
                "INSERT INTO project_settings (id, favicon_url, logo_url, site_name, site_description, app_url, auth_forms, users_config, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, '{}', NULL, ?) ON CONFLICT (id) DO UPDATE SET favicon_url = excluded.favicon_url, \
                 logo_url = excluded.logo_url, site_name = excluded.site_name, site_description = excluded.site_description, \
                 app_url = excluded.app_url, updated_at = excluded.updated_at",
            )
            .bind(id)
            .bind(&s.favicon_url)
            .bind(&s.logo_url)
            .bind(&s.site_name)
            .bind(&s.site_description)
            .bind(&s.app_url)
            .bind(a.published_at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        }
        sqlx::query(
            "INSERT INTO _edgepub_release (tenant_slug, release_id, job_id, published_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (tenant_slug) DO UPDATE SET release_id = excluded.release_id, job_id = excluded.job_id, published_at = excluded.published_at",
        )
        .bind(a.tenant)
        .bind(a.release_id.to_string())
        .bind(a.job_id.to_string())
        .bind(a.published_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(())
    }
}
