//! Subscriber endpoints of outgoing publish events, each with its own sealed secret. The URL
//! is sealed too (it often carries a token in its path); listings show it masked.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::webhook::{mask_url, Endpoint, EndpointInput, EventType};
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

impl Row {
    /// The endpoint with its URL masked (`url` holds the opened URL).
    fn shown(self, url: &str) -> Endpoint {
        Endpoint {
            id: self.id,
            project_id: self.project_id,
            url: mask_url(url),
            description: self.description,
            // Written by `types_text` only; an unreadable value lists as "every event".
            event_types: serde_json::from_str::<Vec<EventType>>(&self.event_types)
                .unwrap_or_default(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason,
            last_success_at: self.last_success_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// Legacy rows written before URLs were sealed hold them in clear; an http(s) URL never
/// starts like a sealed value.
fn is_sealed(stored: &str) -> bool {
    stored.starts_with("v1.")
}

impl Store {
    /// A stored endpoint URL, opened.
    pub(crate) fn open_url(&self, stored: &str) -> Result<String, StoreError> {
        if is_sealed(stored) {
            self.keyring.open(stored).map_err(StoreError::Secret)
        } else {
            Ok(stored.to_string())
        }
    }

    fn endpoint(&self, r: Row) -> Result<Endpoint, StoreError> {
        let url = self.open_url(&r.url)?;
        Ok(r.shown(&url))
    }

    /// Seals the URLs of rows written before URLs were sealed (run once at start).
    pub async fn seal_endpoint_urls(&self) -> Result<u64, StoreError> {
        let rows: Vec<(Uuid, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, url FROM webhook_endpoints WHERE url NOT LIKE 'v1.%'").fetch_all(&mut *p).await)?;
        for (id, url) in &rows {
            let sealed = self.keyring.seal(url);
            on_pool!(self, p => sqlx::query("UPDATE webhook_endpoints SET url = $2 WHERE id = $1")
                .bind(id).bind(&sealed).execute(&mut *p).await.map(|_| ()))?;
        }
        Ok(u64::try_from(rows.len()).unwrap_or(u64::MAX))
    }

    /// An endpoint's full URL (to patch it: a merge patch starts from the whole endpoint).
    pub async fn endpoint_url(&self, id: Uuid) -> Result<String, StoreError> {
        let sql = "SELECT url FROM webhook_endpoints WHERE id = $1";
        let stored: Option<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *p).await)?;
        self.open_url(&stored.ok_or(StoreError::NotFound)?)
    }
}

const COLUMNS: &str = "id, project_id, url, description, event_types, enabled, disabled_reason, \
                       last_success_at, created_at, updated_at";

fn types_text(types: &[EventType]) -> String {
    serde_json::to_string(types).unwrap_or_else(|_| "[]".into())
}

/// Binds an endpoint's saved fields in the order create and update both list them (`url,
/// description, event_types, enabled`), the URL already sealed. A macro, not a function, so it
/// fits the query of each driver `on_pool!` expands to.
macro_rules! bind_fields {
    ($q:expr, $input:expr, $url:expr) => {
        $q.bind($url)
            .bind(&$input.description)
            .bind(types_text(&$input.event_types))
            .bind($input.enabled)
    };
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
        let url = self.keyring.seal(&input.url);
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql).bind(Uuid::new_v4()).bind(project_id), input, &url)
            .bind(now).bind(&sealed).fetch_one(&mut *p).await)?;
        Ok(row.shown(&input.url))
    }

    pub async fn list_endpoints(&self, project_id: Uuid) -> Result<Vec<Endpoint>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM webhook_endpoints WHERE project_id = $1 ORDER BY created_at, id"
        );
        let rows = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(&mut *p).await)?;
        rows.into_iter().map(|r| self.endpoint(r)).collect()
    }

    /// A project's endpoints, read inside `tx` (the events it records go to them).
    pub(crate) async fn endpoints_tx(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
    ) -> Result<Vec<Endpoint>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE project_id = $1");
        let rows = on_tx!(tx, c => sqlx::query_as::<_, Row>(&sql).bind(project_id).fetch_all(&mut *c).await)?;
        rows.into_iter().map(|r| self.endpoint(r)).collect()
    }

    pub async fn get_endpoint(&self, id: Uuid) -> Result<Endpoint, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, Row>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        self.endpoint(row.ok_or(StoreError::NotFound)?)
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
        let url = self.keyring.seal(&input.url);
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Row>(&sql).bind(id), input, &url)
            .bind(&sealed).bind(self.clock.now()).fetch_optional(&mut *p).await)?;
        Ok(row.ok_or(StoreError::NotFound)?.shown(&input.url))
    }

    pub async fn delete_endpoint(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "DELETE FROM webhook_endpoints WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    /// The endpoint's secret, opened, for signing.
    pub async fn endpoint_secret(&self, id: Uuid) -> Result<String, StoreError> {
        let sql = "SELECT secret FROM webhook_endpoints WHERE id = $1";
        let sealed: Option<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *p).await)?;
        self.keyring
            .open(&sealed.ok_or(StoreError::NotFound)?)
            .map_err(StoreError::Secret)
    }
}
