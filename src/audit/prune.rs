//! Retention: a background pass that deletes audit entries older than
//! `EDGEPUB_AUDIT_RETENTION_DAYS`. It is polled every second but prunes at most once an hour
//! of the injected clock, so a test moving a `ManualClock` forward sees it run without
//! waiting. Several processes pruning at once is harmless (the same idempotent DELETE).

use crate::store::{Store, StoreError};
use crate::worker::{Stop, Work};
use chrono::{DateTime, Duration, Utc};
use std::sync::Mutex;

pub struct PruneWork {
    pub store: Store,
    pub retention: Duration,
    /// When this process last pruned.
    pub last: Mutex<Option<DateTime<Utc>>>,
}

impl PruneWork {
    pub fn new(store: Store, retention_days: u64) -> PruneWork {
        PruneWork {
            store,
            retention: Duration::days(
                i64::try_from(retention_days).unwrap_or(i64::MAX / 86_400_000),
            ),
            last: Mutex::new(None),
        }
    }
}

#[async_trait::async_trait]
impl Work for PruneWork {
    fn name(&self) -> &'static str {
        "audit-retention"
    }

    async fn pass(&self, _stop: &Stop) -> Result<(), StoreError> {
        let now = self.store.now();
        {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.is_some_and(|l| now - l < Duration::hours(1)) {
                return Ok(());
            }
            *last = Some(now);
        }
        let removed = self.store.prune_audit(now - self.retention).await?;
        if removed > 0 {
            tracing::info!(removed, "old audit entries pruned");
        }
        Ok(())
    }
}
