//! Secrets of incoming publish webhooks, sealed at rest like every other secret.

use super::{on_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A webhook secret as listed: never the secret itself.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct WebhookSecretView {
    pub id: Uuid,
    pub project_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Set once the secret was rotated: it is accepted until then.
    pub expires_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a new secret (sealed) and returns its listing.
    pub async fn create_webhook_secret(
        &self,
        project_id: Uuid,
        secret: &str,
    ) -> Result<WebhookSecretView, StoreError> {
        let sql = "INSERT INTO webhook_secrets (id, project_id, secret, created_at) VALUES ($1, $2, $3, $4) \
                   RETURNING id, project_id, created_at, expires_at";
        let sealed = self.keyring.seal(secret);
        let now = self.clock.now();
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, WebhookSecretView>(sql).bind(Uuid::new_v4()).bind(project_id).bind(&sealed).bind(now).fetch_one(&mut *p).await)?,
        )
    }

    pub async fn list_webhook_secrets(
        &self,
        project_id: Uuid,
    ) -> Result<Vec<WebhookSecretView>, StoreError> {
        let sql = "SELECT id, project_id, created_at, expires_at FROM webhook_secrets WHERE project_id = $1 ORDER BY created_at, id";
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, WebhookSecretView>(sql).bind(project_id).fetch_all(&mut *p).await)?,
        )
    }

    pub async fn get_webhook_secret(&self, id: Uuid) -> Result<WebhookSecretView, StoreError> {
        let sql =
            "SELECT id, project_id, created_at, expires_at FROM webhook_secrets WHERE id = $1";
        on_pool!(self, p => sqlx::query_as::<_, WebhookSecretView>(sql).bind(id).fetch_optional(&mut *p).await)?
            .ok_or(StoreError::NotFound)
    }

    /// Lets a secret expire at `at` (a rotation's grace period).
    pub async fn expire_webhook_secret(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE webhook_secrets SET expires_at = $2 WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).bind(at).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn delete_webhook_secret(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "DELETE FROM webhook_secrets WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// The secrets that sign a project's webhooks now (opened), by project id or slug; empty
    /// for an unknown project, so the caller cannot tell the two apart.
    pub async fn valid_webhook_secrets(
        &self,
        project: &str,
    ) -> Result<(Option<Uuid>, Vec<String>), StoreError> {
        let project = match self.get_project(project).await {
            Ok(p) => p,
            Err(StoreError::NotFound) => return Ok((None, Vec::new())),
            Err(e) => return Err(e),
        };
        let sql = "SELECT secret FROM webhook_secrets WHERE project_id = $1 AND (expires_at IS NULL OR expires_at > $2)";
        let sealed: Vec<String> = on_pool!(self, p => sqlx::query_scalar(sql).bind(project.id).bind(self.clock.now()).fetch_all(&mut *p).await)?;
        let secrets = sealed
            .iter()
            .map(|s| self.keyring.open(s))
            .collect::<Result<_, _>>()
            .map_err(StoreError::Secret)?;
        Ok((Some(project.id), secrets))
    }
}
