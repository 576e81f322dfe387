//! Publish targets, with their token sealed at rest.

use super::{on_pool, Store, StoreError};
use crate::domain::target::{Target, TargetFields, TargetKind};
use chrono::{DateTime, Utc};
use uuid::Uuid;

const COLS: &str = "id, project_id, name, kind, enabled, path, url, token, created_at, updated_at";

/// Binds a target's saved fields in the order create and update both list them (`name, kind,
/// enabled, path, url, token`), the token already sealed. A macro, not a function, so it fits
/// the query of each driver `on_pool!` expands to.
macro_rules! bind_fields {
    ($q:expr, $f:expr, $token:expr) => {
        $q.bind(&$f.name)
            .bind($f.kind.as_str())
            .bind($f.enabled)
            .bind(&$f.path)
            .bind(&$f.url)
            .bind($token)
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    name: String,
    kind: String,
    enabled: bool,
    path: Option<String>,
    url: Option<String>,
    token: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Store {
    fn target(&self, r: Row) -> Result<Target, StoreError> {
        Ok(Target {
            id: r.id,
            project_id: r.project_id,
            name: r.name,
            kind: TargetKind::parse(&r.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown stored target kind `{}`", r.kind))
            })?,
            enabled: r.enabled,
            path: r.path,
            url: r.url,
            token: self.open(r.token)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    pub async fn create_target(
        &self,
        project_id: Uuid,
        f: &TargetFields,
    ) -> Result<Target, StoreError> {
        let sql = format!("INSERT INTO publish_targets ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {COLS}");
        let token = f.token.as_deref().map(|t| self.keyring.seal(t));
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql)
            .bind(Uuid::new_v4())
            .bind(project_id), f, &token)
            .bind(self.clock.now())
            .fetch_one(&mut *p)
            .await)?;
        self.target(row)
    }

    pub async fn list_targets(&self, project_id: Uuid) -> Result<Vec<Target>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM publish_targets WHERE project_id = $1 ORDER BY created_at, name"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(&mut *p).await)?;
        rows.into_iter().map(|r| self.target(r)).collect()
    }

    pub async fn get_target(&self, id: Uuid) -> Result<Target, StoreError> {
        let sql = format!("SELECT {COLS} FROM publish_targets WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        self.target(row.ok_or(StoreError::NotFound)?)
    }

    pub async fn update_target(&self, id: Uuid, f: &TargetFields) -> Result<Target, StoreError> {
        let sql = format!(
            "UPDATE publish_targets SET name = $2, kind = $3, enabled = $4, path = $5, url = $6, token = $7, updated_at = $8 \
             WHERE id = $1 RETURNING {COLS}"
        );
        let token = f.token.as_deref().map(|t| self.keyring.seal(t));
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql)
            .bind(id), f, &token)
            .bind(self.clock.now())
            .fetch_optional(&mut *p)
            .await)?;
        self.target(row.ok_or(StoreError::NotFound)?)
    }

    pub async fn delete_target(&self, id: Uuid) -> Result<(), StoreError> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM publish_targets WHERE id = $1").bind(id).execute(&mut *p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Enabled local targets across all projects (a multi-replica deployment must share their
    /// directory).
    pub async fn enabled_local_targets(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM publish_targets WHERE kind = 'local' AND enabled";
        Ok(on_pool!(self, p => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *p).await)?)
    }
}
