//! The audit log's rows: written one per change, read newest first with a keyset cursor
//! (`at`, then `id`, both descending) so pages stay stable while entries are added.

use super::{on_pool, Store, StoreError};
use crate::domain::audit::{Actor, Entry};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use utoipa::ToSchema;
use uuid::Uuid;

const COLS: &str = "id, at, actor_id, actor_name, action, project_id, subject_id, summary, request_id, client_addr";

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    /// The token that acted (for the scheduler: the token that created the schedule).
    pub actor_id: Option<Uuid>,
    /// The token's name when it acted, `publish webhook`, or `scheduler (for <token>)`.
    pub actor_name: String,
    /// `<resource>.<verb>`, e.g. `project.update`, or a job kind: `publish`, `unpublish`,
    /// `rollback`, `retry`, `repair`.
    pub action: String,
    pub project_id: Option<Uuid>,
    pub subject_id: Option<String>,
    /// Changed (or given) fields: non-secret values, `"[redacted]"` for the rest.
    #[schema(value_type = Object)]
    pub summary: Json<Value>,
    pub request_id: Option<String>,
    pub client_addr: Option<String>,
}

/// Filters of a listing; every field optional.
#[derive(Debug, Default, Clone)]
pub struct AuditFilter {
    pub project_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub action: Option<String>,
    /// `project.` for `project.*`.
    pub action_prefix: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Entries strictly after (older than) this one.
    pub after: Option<(DateTime<Utc>, Uuid)>,
}

impl Store {
    async fn token_name(&self, id: Uuid) -> Result<Option<String>, StoreError> {
        let sql = "SELECT name FROM api_tokens WHERE id = $1";
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, String>(sql).bind(id).fetch_optional(&mut *p).await)?,
        )
    }

    pub async fn insert_audit(&self, e: &Entry) -> Result<(), StoreError> {
        let (actor_id, actor_name) = match &e.actor {
            Actor::Token(id) => (
                Some(*id),
                self.token_name(*id)
                    .await?
                    .unwrap_or_else(|| "unknown token".into()),
            ),
            Actor::Webhook => (None, "publish webhook".to_string()),
            Actor::System { name, on_behalf_of } => {
                let by = match on_behalf_of {
                    Some(id) => self.token_name(*id).await?,
                    None => None,
                };
                let name = match by {
                    Some(t) => format!("{name} (for {t})"),
                    None => name.to_string(),
                };
                (*on_behalf_of, name)
            }
        };
        let sql = "INSERT INTO audit_log (id, at, actor_id, actor_name, action, project_id, subject_id, summary, request_id, client_addr) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        on_pool!(self, p => sqlx::query(sql)
            .bind(Uuid::new_v4()).bind(self.clock.now()).bind(actor_id).bind(&actor_name)
            .bind(e.action).bind(e.project_id).bind(e.subject_id.as_deref())
            .bind(Json(e.summary.value())).bind(e.request_id.as_deref()).bind(e.client_addr.as_deref())
            .execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// Up to `limit` entries, newest first.
    pub async fn list_audit(
        &self,
        f: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM audit_log WHERE ($1 IS NULL OR project_id = $1) AND ($2 IS NULL OR actor_id = $2) \
             AND ($3 IS NULL OR action = $3) AND ($4 IS NULL OR action LIKE $4) \
             AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
             AND ($7 IS NULL OR at < $7 OR (at = $7 AND id < $8)) \
             ORDER BY at DESC, id DESC LIMIT $9"
        );
        let like = f.action_prefix.as_ref().map(|p| format!("{p}%"));
        let (after_at, after_id) = (f.after.map(|a| a.0), f.after.map(|a| a.1));
        Ok(on_pool!(self, p => sqlx::query_as::<_, AuditEntry>(&sql)
            .bind(f.project_id).bind(f.actor_id).bind(f.action.as_deref()).bind(like.as_deref())
            .bind(f.from).bind(f.to).bind(after_at).bind(after_id).bind(limit)
            .fetch_all(&mut *p).await)?)
    }

    /// Deletes entries older than `before`; returns how many.
    pub async fn prune_audit(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let sql = "DELETE FROM audit_log WHERE at < $1";
        Ok(
            on_pool!(self, p => sqlx::query(sql).bind(before).execute(&mut *p).await?.rows_affected()),
        )
    }
}
