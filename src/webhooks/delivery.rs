//! The delivery worker: claims due deliveries, POSTs each event signed with its endpoint's
//! secret (Standard Webhooks headers), and logs the attempt. No redirect is followed, every
//! request has a timeout, and the address policy of "test connection" applies (no link-local
//! or metadata addresses, checked again at connect time).

use super::events::{after, retry_after, Answer};
use super::sign;
use crate::clock::SharedClock;
use crate::net::http::transport_error;
use crate::net::NetPolicy;
use crate::store::deliveries::{After, Attempt, Due};
use crate::store::{Store, StoreError};
use crate::worker::{Stop, Work};
use futures_util::StreamExt;
use rand::Rng;
use std::time::{Duration, Instant};

/// Deliveries claimed at once, and attempted concurrently.
const BATCH: i64 = 16;
const CONCURRENCY: usize = 8;

pub struct DeliveryWork {
    pub store: Store,
    pub clock: SharedClock,
    pub policy: NetPolicy,
    pub client: reqwest::Client,
    pub timeout: Duration,
}

impl DeliveryWork {
    pub fn new(store: Store, clock: SharedClock, policy: NetPolicy, timeout: Duration) -> Self {
        DeliveryWork {
            client: policy.http_client(timeout),
            store,
            clock,
            policy,
            timeout,
        }
    }
}

#[async_trait::async_trait]
impl Work for DeliveryWork {
    fn name(&self) -> &'static str {
        "webhooks"
    }

    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        // A claim outlives the attempt, so no other process takes it meanwhile.
        let hold = chrono::Duration::from_std(self.timeout * 3 + Duration::from_secs(30))
            .unwrap_or_else(|_| chrono::Duration::minutes(5));
        while !stop.is_set() {
            let due = self.store.claim_deliveries(BATCH, hold).await?;
            if due.is_empty() {
                break;
            }
            futures_util::stream::iter(due)
                .for_each_concurrent(CONCURRENCY, |d| async move {
                    if let Err(e) = self.attempt(&d).await {
                        // Left claimed: the claim expires and the attempt is made again.
                        tracing::warn!(delivery_id = %d.id, error = %e, "recording a webhook attempt failed");
                    }
                })
                .await;
        }
        Ok(())
    }
}

impl DeliveryWork {
    async fn attempt(&self, due: &Due) -> Result<(), StoreError> {
        if !due.enabled {
            return self.store.cancel_delivery(due.id).await;
        }
        let secret = self.store.endpoint_secret(due.endpoint_id).await?;
        let started_at = self.clock.now();
        let started = Instant::now();
        let answer = self.send(due, &secret, started_at.timestamp()).await;
        let latency = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let number = due.attempts + 1;
        let now = self.clock.now();
        let succeeded_since = due.last_success_at.is_some_and(|s| s >= due.created_at);
        let next = after(
            number,
            &answer,
            now,
            rand::thread_rng().gen(),
            succeeded_since,
        );
        let attempt = Attempt {
            delivery_id: due.id,
            attempt: number,
            status_code: match answer {
                Answer::Status { code, .. } => Some(i64::from(code)),
                Answer::Failed(_) => None,
            },
            latency_ms: latency,
            error: answer.error(),
            attempted_at: started_at,
            next_attempt_at: match next {
                After::Retry(at) => Some(at),
                _ => None,
            },
        };
        match &next {
            After::Failed {
                disable: Some(reason),
            } => {
                tracing::warn!(endpoint_id = %due.endpoint_id, reason = %reason, "webhook endpoint disabled")
            }
            After::Failed { disable: None } => {
                tracing::warn!(delivery_id = %due.id, "webhook delivery failed for good")
            }
            _ => {}
        }
        self.store.finish_attempt(due, &attempt, &next).await
    }

    async fn send(&self, due: &Due, secret: &str, timestamp: i64) -> Answer {
        let url = match url::Url::parse(&due.url) {
            Ok(u) => u,
            Err(_) => return Answer::Failed("the endpoint URL is invalid".into()),
        };
        if let Err(e) = self.policy.check_url(&url) {
            return Answer::Failed(format!("{}: {}", e.kind.as_str(), e.message));
        }
        let id = format!("msg_{}", due.message_id.simple());
        let Some(signature) = sign(secret, &id, timestamp, due.payload.as_bytes()) else {
            return Answer::Failed("the endpoint secret is unusable".into());
        };
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", concat!("edgepub/", env!("CARGO_PKG_VERSION")))
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(due.payload.clone())
            .send()
            .await;
        match sent {
            Ok(res) => Answer::Status {
                code: res.status().as_u16(),
                retry_after: res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after(v, self.clock.now())),
            },
            Err(e) => {
                let e = transport_error(&e);
                Answer::Failed(format!("{}: {}", e.kind.as_str(), e.message))
            }
        }
    }
}
