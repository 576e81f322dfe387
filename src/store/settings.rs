//! Cache settings, one row per project (absent = defaults), with secrets sealed at rest.

use super::{on_pool, Store, StoreError};
use crate::domain::settings::{CacheMode, CacheSettings, RedisType};
use uuid::Uuid;

const COLS: &str =
    "redis_type, redis_url, redis_token, redis_password, redis_master_name, redis_enabled, \
                    cache_mode, cache_ttl_data, cache_ttl_count, cache_ttl_page, cache_ttl_jitter";

#[derive(sqlx::FromRow)]
struct Row {
    redis_type: String,
    redis_url: Option<String>,
    redis_token: Option<String>,
    redis_password: Option<String>,
    redis_master_name: Option<String>,
    redis_enabled: bool,
    cache_mode: String,
    cache_ttl_data: i64,
    cache_ttl_count: i64,
    cache_ttl_page: i64,
    cache_ttl_jitter: i64,
}

fn redis_type(stored: &str) -> Result<RedisType, StoreError> {
    RedisType::parse(stored)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown stored cache type `{stored}`")))
}

impl Store {
    pub async fn cache_settings(&self, project_id: Uuid) -> Result<CacheSettings, StoreError> {
        let sql = format!("SELECT {COLS} FROM cache_settings WHERE project_id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_optional(&mut *p).await)?;
        let Some(r) = row else {
            return Ok(CacheSettings::default());
        };
        Ok(CacheSettings {
            redis_type: redis_type(&r.redis_type)?,
            redis_url: r.redis_url,
            redis_token: self.open(r.redis_token)?,
            redis_password: self.open(r.redis_password)?,
            redis_master_name: r.redis_master_name,
            redis_enabled: r.redis_enabled,
            cache_mode: if r.cache_mode == "prime" {
                CacheMode::Prime
            } else {
                CacheMode::Invalidate
            },
            cache_ttl_data: r.cache_ttl_data,
            cache_ttl_count: r.cache_ttl_count,
            cache_ttl_page: r.cache_ttl_page,
            cache_ttl_jitter: r.cache_ttl_jitter,
        })
    }

    pub async fn put_cache_settings(
        &self,
        project_id: Uuid,
        s: &CacheSettings,
    ) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO cache_settings (project_id, {COLS}, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (project_id) DO UPDATE SET redis_type = $2, redis_url = $3, redis_token = $4, \
             redis_password = $5, redis_master_name = $6, redis_enabled = $7, cache_mode = $8, \
             cache_ttl_data = $9, cache_ttl_count = $10, cache_ttl_page = $11, cache_ttl_jitter = $12, updated_at = $13"
        );
        let token = s.redis_token.as_deref().map(|t| self.keyring.seal(t));
        let password = s.redis_password.as_deref().map(|t| self.keyring.seal(t));
        on_pool!(self, p => sqlx::query(&sql)
            .bind(project_id)
            .bind(s.redis_type.as_str())
            .bind(&s.redis_url)
            .bind(&token)
            .bind(&password)
            .bind(&s.redis_master_name)
            .bind(s.redis_enabled)
            .bind(s.cache_mode.as_str())
            .bind(s.cache_ttl_data)
            .bind(s.cache_ttl_count)
            .bind(s.cache_ttl_page)
            .bind(s.cache_ttl_jitter)
            .bind(self.clock.now())
            .execute(&mut *p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The cache address of every other project that has one: `(tenant, type, url, master)`,
    /// for telling whether two projects would share keys.
    pub async fn other_cache_addresses(
        &self,
        project_id: Uuid,
    ) -> Result<Vec<(String, RedisType, String, Option<String>)>, StoreError> {
        let sql = "SELECT p.tenant_slug, c.redis_type, c.redis_url, c.redis_master_name \
                   FROM cache_settings c JOIN projects p ON p.id = c.project_id \
                   WHERE c.redis_url IS NOT NULL AND c.project_id <> $1";
        let rows: Vec<(String, String, String, Option<String>)> =
            on_pool!(self, p => sqlx::query_as(sql).bind(project_id).fetch_all(&mut *p).await)?;
        rows.into_iter()
            .map(|(tenant, kind, url, master)| Ok((tenant, redis_type(&kind)?, url, master)))
            .collect()
    }

    pub(crate) fn open(&self, sealed: Option<String>) -> Result<Option<String>, StoreError> {
        sealed
            .map(|s| self.keyring.open(&s))
            .transpose()
            .map_err(StoreError::Secret)
    }

    /// Re-seals every stored secret under the keyring's current key, in one transaction.
    /// Returns how many values were re-sealed.
    pub async fn reseal_secrets(&self) -> Result<u64, StoreError> {
        let ring = &self.keyring;
        let reseal = |v: Option<String>| -> Result<Option<String>, StoreError> {
            match v {
                Some(s) if !ring.is_current(&s) => {
                    Ok(Some(ring.seal(&ring.open(&s).map_err(StoreError::Secret)?)))
                }
                other => Ok(other),
            }
        };
        let count = on_pool!(self, p => {
            let mut tx = sqlx::Connection::begin(&mut *p).await?;
            let mut count = 0u64;
            let rows: Vec<(Uuid, Option<String>, Option<String>)> =
                sqlx::query_as("SELECT project_id, redis_token, redis_password FROM cache_settings").fetch_all(&mut *tx).await?;
            for (id, token, password) in rows {
                let (t, pw) = (reseal(token.clone())?, reseal(password.clone())?);
                if t != token || pw != password {
                    sqlx::query("UPDATE cache_settings SET redis_token = $2, redis_password = $3 WHERE project_id = $1")
                        .bind(id).bind(&t).bind(&pw).execute(&mut *tx).await?;
                    count += u64::from(t != token) + u64::from(pw != password);
                }
            }
            for (table, column) in [("publish_targets", "token"), ("datasources", "secret"), ("webhook_secrets", "secret"), ("webhook_endpoints", "secret"), ("webhook_endpoints", "url")] {
                let select = format!("SELECT id, {column} FROM {table}");
                let update = format!("UPDATE {table} SET {column} = $2 WHERE id = $1");
                let rows: Vec<(Uuid, Option<String>)> = sqlx::query_as(&select).fetch_all(&mut *tx).await?;
                for (id, value) in rows {
                    let v = reseal(value.clone())?;
                    if v != value {
                        sqlx::query(&update).bind(id).bind(&v).execute(&mut *tx).await?;
                        count += 1;
                    }
                }
            }
            tx.commit().await?;
            count
        });
        Ok(count)
    }
}
