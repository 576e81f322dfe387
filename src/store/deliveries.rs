//! The outgoing event queue: messages (one per event, written in the transaction that ends a
//! job), deliveries (a message on its way to one endpoint) and the log of every attempt.
//! A delivery is claimed for a while before it is attempted, so several edgepub processes on
//! one database make each attempt once.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::webhook::EventType;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A delivery claimed for an attempt, with what the attempt needs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Due {
    pub id: Uuid,
    pub message_id: Uuid,
    pub endpoint_id: Uuid,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub event_type: String,
    pub payload: String,
    pub url: String,
    pub enabled: bool,
    pub last_success_at: Option<DateTime<Utc>>,
}

/// One attempt as logged.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Attempt {
    #[serde(skip)]
    pub delivery_id: Uuid,
    pub attempt: i64,
    /// The HTTP status the endpoint answered; absent when it did not answer.
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
    /// When the next attempt is due; absent after the last one.
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// Where a delivery stands after an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum After {
    Delivered,
    Retry(DateTime<Utc>),
    /// No more attempts; `disable` says why the endpoint is switched off, if it is.
    Failed {
        disable: Option<String>,
    },
}

/// A delivery with its attempts, as the delivery log lists it.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    pub id: Uuid,
    pub message_id: Uuid,
    pub endpoint_id: Uuid,
    pub project_id: Uuid,
    pub event_type: String,
    /// `pending`, `delivered`, `failed` or `cancelled` (the endpoint was disabled).
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub log: Vec<Attempt>,
}

const DELIVERY: &str =
    "SELECT d.id, d.message_id, d.endpoint_id, m.project_id, m.event_type, d.state, d.attempts, \
     d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.updated_at \
     FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id";

impl Store {
    /// Records an event and a delivery to every enabled endpoint that takes it (or only to
    /// `only`, for a test event). The message id makes it idempotent: an event recorded
    /// before is not recorded again. Returns whether anything is to be delivered.
    pub async fn enqueue_event(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
        message_id: Uuid,
        event: EventType,
        payload: &str,
        only: Option<Uuid>,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        let sql = "INSERT INTO webhook_messages (id, project_id, event_type, payload, created_at) \
                   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING RETURNING id";
        let new: Option<Uuid> = on_tx!(tx, c => sqlx::query_scalar(sql).bind(message_id).bind(project_id)
            .bind(event.as_str()).bind(payload).bind(now).fetch_optional(&mut *c).await)?;
        if new.is_none() {
            return Ok(false);
        }
        let endpoints = self.endpoints_tx(tx, project_id).await?;
        let to: Vec<Uuid> = endpoints
            .iter()
            .filter(|e| only.map_or_else(|| e.wants(event), |id| e.id == id && e.enabled))
            .map(|e| e.id)
            .collect();
        for endpoint in &to {
            self.insert_delivery(tx, message_id, *endpoint).await?;
        }
        Ok(!to.is_empty())
    }

    async fn insert_delivery(
        &self,
        tx: &mut Tx,
        message: Uuid,
        endpoint: Uuid,
    ) -> Result<Uuid, StoreError> {
        let (id, now) = (Uuid::new_v4(), self.clock.now());
        let sql = "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, state, attempts, next_attempt_at, created_at, updated_at) \
                   VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4)";
        on_tx!(tx, c => sqlx::query(sql).bind(id).bind(message).bind(endpoint).bind(now).execute(&mut *c).await.map(|_| ()))?;
        Ok(id)
    }

    /// Sends a delivered (or failed) message to its endpoint once more, as a new delivery.
    pub async fn redeliver(&self, delivery: &Delivery) -> Result<Delivery, StoreError> {
        let mut tx = self.begin().await?;
        let id = self
            .insert_delivery(&mut tx, delivery.message_id, delivery.endpoint_id)
            .await?;
        tx.commit().await?;
        self.get_delivery(id).await
    }

    /// Claims up to `limit` due deliveries for `hold` (the attempt must end before then).
    pub async fn claim_deliveries(
        &self,
        limit: i64,
        hold: Duration,
    ) -> Result<Vec<Due>, StoreError> {
        let now = self.clock.now();
        // The outer conditions are checked again on the row a concurrent claimer just
        // updated (Postgres re-evaluates them), so a delivery is never claimed twice.
        let free = "state = 'pending' AND next_attempt_at <= $2 AND (claimed_until IS NULL OR claimed_until < $2)";
        let claim = format!(
            "UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN \
             (SELECT id FROM webhook_deliveries WHERE {free} ORDER BY next_attempt_at LIMIT $3) AND {free} RETURNING id"
        );
        let ids: Vec<Uuid> = on_pool!(self, p => sqlx::query_scalar(&claim).bind(now + hold).bind(now).bind(limit).fetch_all(&mut *p).await)?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = "SELECT d.id, d.message_id, d.endpoint_id, d.attempts, d.created_at, m.event_type, m.payload, e.url, \
             e.enabled, e.last_success_at FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id WHERE d.id IN (";
        let mut due = on_pool!(self, p => {
            let mut qb = sqlx::QueryBuilder::new(sql);
            let mut sep = qb.separated(", ");
            for id in &ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY d.next_attempt_at");
            qb.build_query_as::<Due>().fetch_all(&mut *p).await
        })?;
        for d in &mut due {
            d.url = self.open_url(&d.url)?;
        }
        Ok(due)
    }

    /// Ends a claimed delivery's attempt: logs it and moves the delivery (and, when it says
    /// so, the endpoint) on, in one transaction.
    pub async fn finish_attempt(
        &self,
        due: &Due,
        attempt: &Attempt,
        after: &After,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let (state, next) = match after {
            After::Delivered => ("delivered", None),
            After::Retry(at) => ("pending", Some(*at)),
            After::Failed { .. } => ("failed", None),
        };
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO webhook_attempts (id, delivery_id, endpoint_id, attempt, status_code, latency_ms, error, attempted_at, next_attempt_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(Uuid::new_v4()).bind(due.id).bind(due.endpoint_id).bind(attempt.attempt)
            .bind(attempt.status_code).bind(attempt.latency_ms).bind(&attempt.error).bind(attempt.attempted_at)
            .bind(next).execute(&mut *c).await.map(|_| ()))?;
        let sql = "UPDATE webhook_deliveries SET state = $2, attempts = $3, next_attempt_at = $4, claimed_until = NULL, \
                   last_status = $5, last_error = $6, updated_at = $7 WHERE id = $1";
        on_tx!(&mut tx, c => sqlx::query(sql).bind(due.id).bind(state).bind(attempt.attempt).bind(next)
            .bind(attempt.status_code).bind(&attempt.error).bind(now).execute(&mut *c).await.map(|_| ()))?;
        match after {
            After::Delivered => {
                let sql = "UPDATE webhook_endpoints SET last_success_at = $2 WHERE id = $1";
                on_tx!(&mut tx, c => sqlx::query(sql).bind(due.endpoint_id).bind(now).execute(&mut *c).await.map(|_| ()))?;
            }
            After::Failed {
                disable: Some(reason),
            } => {
                let sql = "UPDATE webhook_endpoints SET enabled = $2, disabled_reason = $3, updated_at = $4 WHERE id = $1 AND enabled = $5";
                on_tx!(&mut tx, c => sqlx::query(sql).bind(due.endpoint_id).bind(false).bind(reason).bind(now).bind(true)
                    .execute(&mut *c).await.map(|_| ()))?;
            }
            _ => {}
        }
        tx.commit().await
    }

    /// Drops a claimed delivery whose endpoint was disabled meanwhile.
    pub async fn cancel_delivery(&self, id: Uuid) -> Result<(), StoreError> {
        let sql = "UPDATE webhook_deliveries SET state = 'cancelled', claimed_until = NULL, next_attempt_at = NULL, \
                   last_error = 'the endpoint is disabled', updated_at = $2 WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(id).bind(self.clock.now()).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    pub async fn get_delivery(&self, id: Uuid) -> Result<Delivery, StoreError> {
        let sql = format!("{DELIVERY} WHERE d.id = $1");
        let d = on_pool!(self, p => sqlx::query_as::<_, Delivery>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        let mut d = d.ok_or(StoreError::NotFound)?;
        d.log = self.attempts_of(&[d.id]).await?;
        Ok(d)
    }

    /// The (first) delivery of a message.
    pub async fn message_delivery(&self, message: Uuid) -> Result<Delivery, StoreError> {
        let sql =
            "SELECT id FROM webhook_deliveries WHERE message_id = $1 ORDER BY created_at LIMIT 1";
        let id: Option<Uuid> = on_pool!(self, p => sqlx::query_scalar(sql).bind(message).fetch_optional(&mut *p).await)?;
        self.get_delivery(id.ok_or(StoreError::NotFound)?).await
    }

    /// An endpoint's deliveries, newest first, each with its attempts.
    pub async fn list_deliveries(
        &self,
        endpoint: Uuid,
        w: super::Window,
    ) -> Result<(Vec<Delivery>, i64), StoreError> {
        let sql = format!("{DELIVERY} WHERE d.endpoint_id = $1 ORDER BY d.created_at DESC, d.id LIMIT $2 OFFSET $3");
        let mut items = on_pool!(self, p => sqlx::query_as::<_, Delivery>(&sql).bind(endpoint).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await)?;
        let count = "SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = $1";
        let total: i64 =
            on_pool!(self, p => sqlx::query_scalar(count).bind(endpoint).fetch_one(&mut *p).await)?;
        let ids: Vec<Uuid> = items.iter().map(|d| d.id).collect();
        let log = self.attempts_of(&ids).await?;
        for d in &mut items {
            d.log = log
                .iter()
                .filter(|a| a.delivery_id == d.id)
                .cloned()
                .collect();
        }
        Ok((items, total))
    }

    async fn attempts_of(&self, ids: &[Uuid]) -> Result<Vec<Attempt>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = "SELECT delivery_id, attempt, status_code, latency_ms, error, attempted_at, next_attempt_at \
             FROM webhook_attempts WHERE delivery_id IN (";
        Ok(on_pool!(self, p => {
            let mut qb = sqlx::QueryBuilder::new(sql);
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(") ORDER BY attempt");
            qb.build_query_as::<Attempt>().fetch_all(&mut *p).await
        })?)
    }
}
