//! Subscriber endpoints of outgoing publish events, each with its own sealed secret.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::webhook::{Endpoint, EndpointInput, EventType};
use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    project_id: Uuid,
    url: String,
    description: String,
    event_types: String,
    enabled: bool,
    disabled_reason: Option<String>,
    last_success_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Endpoint {
    fn from(r: Row) -> Endpoint {
        Endpoint {
            id: r.id,
            project_id: r.project_id,
            url: r.url,
            description: r.description,
            // Written by `types_text` only; an unreadable value lists as "every event".
            event_types: serde_json::from_str::<Vec<EventType>>(&r.event_types).unwrap_or_default(),
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            last_success_at: r.last_success_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLUMNS: &str = "id, project_id, url, description, event_types, enabled, disabled_reason, \
                       last_success_at, created_at, updated_at";

fn types_text(types: &[EventType]) -> String {
    serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
}

impl Store {
    pub async fn create_endpoint(
        &self,
        project_id: Uuid,
        input: &EndpointInput,
        secret: &str,
    ) -> Result<Endpoint, StoreError> {
        let sql = format!(
            "INSERT INTO webhook_endpoints ({COLUMNS}, secret) \
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL, $7, $7, $8) RETURNING {COLUMNS}"
        );
        let (sealed, now) = (self.keyring.seal(secret), self.clock.now());
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(Uuid::new_v4()).bind(project_id)
            .bind(&input.url).bind(&input.description).bind(types_text(&input.event_types))
            .bind(input.enabled).bind(now).bind(&sealed).fetch_one(p).await)?;
        Ok(row.into())
    }

    pub async fn list_endpoints(&self, project_id: Uuid) -> Result<Vec<Endpoint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE project_id = $1 ORDER BY created_at, id"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(p).await)?;
        Ok(rows.into_iter().map(Endpoint::from).collect())
    }

    /// A project's endpoints, read inside `tx` (the events it records go to them).
    pub(crate) async fn endpoints_tx(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
    ) -> Result<Vec<Endpoint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE project_id = $1");
        let rows = on_tx!(tx, c => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(&mut *c).await)?;
        Ok(rows.into_iter().map(Endpoint::from).collect())
    }

    pub async fn get_endpoint(&self, id: Uuid) -> Result<Endpoint, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1");
        let row =
            on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).fetch_optional(p).await)?;
        row.map(Endpoint::from).ok_or(StoreError::NotFound)
    }

    /// Saves new fields; `secret` replaces the secret (the URL's origin changed). Enabling an
    /// endpoint clears why it was disabled.
    pub async fn update_endpoint(
        &self,
        id: Uuid,
        input: &EndpointInput,
        secret: Option<&str>,
    ) -> Result<Endpoint, StoreError> {
        let sql = format!(
            "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, enabled = $5, \
             disabled_reason = CASE WHEN $5 THEN NULL ELSE disabled_reason END, \
             secret = COALESCE($6, secret), updated_at = $7 WHERE id = $1 RETURNING {COLUMNS}"
        );
        let sealed = secret.map(|s| self.keyring.seal(s));
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).bind(&input.url)
            .bind(&input.description).bind(types_text(&input.event_types)).bind(input.enabled)
            .bind(&sealed).bind(self.clock.now()).fetch_optional(p).await)?;
        row.map(Endpoint::from).ok_or(StoreError::NotFound)
    }

    pub async fn delete_endpoint(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "DELETE FROM webhook_endpoints WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// The endpoint's secret, opened, for signing.
    pub async fn endpoint_secret(&self, id: Uuid) -> Result<String, StoreError> {
        let sql = "SELECT secret FROM webhook_endpoints WHERE id = $1";
        let sealed: Option<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(p).await)?;
        self.keyring
            .open(&sealed.ok_or(StoreError::NotFound)?)
            .map_err(StoreError::Secret)
    }
}
