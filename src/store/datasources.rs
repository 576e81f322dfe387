//! Datasources, with their secret sealed at rest.

use super::{on_pool, Store, StoreError};
use crate::compile::DatasourceKind;
use crate::domain::datasource::{Datasource, DatasourceFields};
use chrono::{DateTime, Utc};
use uuid::Uuid;

const COLS: &str =
    "id, project_id, type, name, url, anon_key, secret, secret_env_var, created_at, updated_at";

/// Binds a datasource's saved fields in the order create and update both list them (`type,
/// name, url, anon_key, secret, secret_env_var`), the secret already sealed. A macro, not a
/// function, so it fits the query of each driver `on_pool!` expands to.
macro_rules! bind_fields {
    ($q:expr, $f:expr, $secret:expr) => {
        $q.bind($f.kind.as_str())
            .bind(&$f.name)
            .bind(&$f.url)
            .bind(&$f.anon_key)
            .bind($secret)
            .bind(&$f.secret_env_var)
    };
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    name: String,
    url: Option<String>,
    anon_key: Option<String>,
    secret: Option<String>,
    secret_env_var: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn kind(s: &str) -> DatasourceKind {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .unwrap_or(DatasourceKind::Postgres)
}

impl Store {
    fn datasource(&self, r: Row) -> Result<Datasource, StoreError> {
        Ok(Datasource {
            id: r.id,
            project_id: r.project_id,
            kind: kind(&r.kind),
            name: r.name,
            url: r.url,
            anon_key: r.anon_key,
            secret: self.open(r.secret)?,
            secret_env_var: r.secret_env_var,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }

    pub async fn create_datasource(
        &self,
        project_id: Uuid,
        f: &DatasourceFields,
    ) -> Result<Datasource, StoreError> {
        let sql = format!("INSERT INTO datasources ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {COLS}");
        let secret = f.secret.as_deref().map(|s| self.keyring.seal(s));
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql)
            .bind(Uuid::new_v4())
            .bind(project_id), f, &secret)
            .bind(self.clock.now())
            .fetch_one(&mut *p)
            .await)?;
        self.datasource(row)
    }

    pub async fn list_datasources(&self, project_id: Uuid) -> Result<Vec<Datasource>, StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM datasources WHERE project_id = $1 ORDER BY created_at, name"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(&mut *p).await)?;
        rows.into_iter().map(|r| self.datasource(r)).collect()
    }

    pub async fn get_datasource(&self, id: Uuid) -> Result<Datasource, StoreError> {
        let sql = format!("SELECT {COLS} FROM datasources WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        self.datasource(row.ok_or(StoreError::NotFound)?)
    }

    pub async fn update_datasource(
        &self,
        id: Uuid,
        f: &DatasourceFields,
    ) -> Result<Datasource, StoreError> {
        let sql = format!(
            "UPDATE datasources SET type = $2, name = $3, url = $4, anon_key = $5, secret = $6, secret_env_var = $7, \
             updated_at = $8 WHERE id = $1 RETURNING {COLS}"
        );
        let secret = f.secret.as_deref().map(|s| self.keyring.seal(s));
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql)
            .bind(id), f, &secret)
            .bind(self.clock.now())
            .fetch_optional(&mut *p)
            .await)?;
        self.datasource(row.ok_or(StoreError::NotFound)?)
    }

    pub async fn delete_datasource(&self, id: Uuid) -> Result<(), StoreError> {
        let n = on_pool!(self, p => sqlx::query("DELETE FROM datasources WHERE id = $1").bind(id).execute(&mut *p).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
