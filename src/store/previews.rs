//! Preview links: one row per link, found by the SHA-256 of its token (never the token).
//! The row decides whether a link is live (expiry and revocation), wherever its body is kept.

use super::{on_pool, Store, StoreError, Window};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

const COLS: &str =
    "id, project_id, page_id, page_version, storage, created_by, created_at, expires_at, revoked_at";

/// A preview link as listed: never its token.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PreviewView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub page_id: Uuid,
    /// The draft version that was compiled.
    pub page_version: i64,
    /// Where the compiled page is kept: `redis` (the project's cache) or `database`.
    pub storage: String,
    /// The API token that created it.
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub struct NewPreview<'a> {
    pub id: Uuid,
    pub project_id: Uuid,
    pub page_id: Uuid,
    pub page_version: i64,
    pub token_hash: &'a str,
    pub storage: &'a str,
    /// The compiled page, when it is kept in the database.
    pub body: Option<&'a str>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct LiveRow {
    #[sqlx(flatten)]
    view: PreviewView,
    body: Option<String>,
}

impl Store {
    /// Records a preview; expired links of every project are pruned on the way.
    pub async fn create_preview(&self, n: &NewPreview<'_>) -> Result<PreviewView, StoreError> {
        self.prune_previews().await?;
        let sql = format!(
            "INSERT INTO previews (id, project_id, page_id, page_version, token_hash, storage, body, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {COLS}"
        );
        Ok(on_pool!(self, p => sqlx::query_as::<_, PreviewView>(&sql)
            .bind(n.id)
            .bind(n.project_id)
            .bind(n.page_id)
            .bind(n.page_version)
            .bind(n.token_hash)
            .bind(n.storage)
            .bind(n.body)
            .bind(n.created_by)
            .bind(n.created_at)
            .bind(n.expires_at)
            .fetch_one(&mut *p)
            .await)?)
    }

    /// Deletes expired links (their bodies with them); returns how many.
    pub async fn prune_previews(&self) -> Result<u64, StoreError> {
        let sql = "DELETE FROM previews WHERE expires_at <= $1";
        let now = self.clock.now();
        Ok(
            on_pool!(self, p => sqlx::query(sql).bind(now).execute(&mut *p).await.map(|r| r.rows_affected()))?,
        )
    }

    /// A project's live links (not expired, not revoked), newest first; optionally one page's.
    pub async fn list_previews(
        &self,
        project_id: Uuid,
        page_id: Option<Uuid>,
        w: Window,
    ) -> Result<(Vec<PreviewView>, i64), StoreError> {
        let cond = "project_id = $1 AND ($2 IS NULL OR page_id = $2) AND revoked_at IS NULL AND expires_at > $3";
        let sql = format!(
            "SELECT {COLS} FROM previews WHERE {cond} ORDER BY created_at DESC, id LIMIT $4 OFFSET $5"
        );
        let count = format!("SELECT COUNT(*) FROM previews WHERE {cond}");
        let now = self.clock.now();
        let (rows, total) = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, PreviewView>(&sql)
                .bind(project_id)
                .bind(page_id)
                .bind(now)
                .bind(w.limit)
                .bind(w.offset)
                .fetch_all(&mut *p)
                .await?;
            let total: i64 = sqlx::query_scalar(&count)
                .bind(project_id)
                .bind(page_id)
                .bind(now)
                .fetch_one(&mut *p)
                .await?;
            (rows, total)
        });
        Ok((rows, total))
    }

    pub async fn get_preview(&self, id: Uuid) -> Result<PreviewView, StoreError> {
        let sql = format!("SELECT {COLS} FROM previews WHERE id = $1");
        on_pool!(self, p => sqlx::query_as::<_, PreviewView>(&sql).bind(id).fetch_optional(&mut *p).await)?
            .ok_or(StoreError::NotFound)
    }

    /// Revokes a link at once and drops its stored body. Revoking twice keeps the first time.
    pub async fn revoke_preview(&self, id: Uuid) -> Result<PreviewView, StoreError> {
        let sql = format!(
            "UPDATE previews SET revoked_at = COALESCE(revoked_at, $2), body = NULL WHERE id = $1 RETURNING {COLS}"
        );
        let now = self.clock.now();
        on_pool!(self, p => sqlx::query_as::<_, PreviewView>(&sql).bind(id).bind(now).fetch_optional(&mut *p).await)?
            .ok_or(StoreError::NotFound)
    }

    /// The live link with this token hash and its body (when kept in the database).
    pub async fn live_preview(
        &self,
        token_hash: &str,
    ) -> Result<Option<(PreviewView, Option<String>)>, StoreError> {
        let sql = format!(
            "SELECT {COLS}, body FROM previews WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
        );
        let now = self.clock.now();
        let row = on_pool!(self, p => sqlx::query_as::<_, LiveRow>(&sql).bind(token_hash).bind(now).fetch_optional(&mut *p).await)?;
        Ok(row.map(|r| (r.view, r.body)))
    }
}
