//! The outbox's rows and positions, as the store reads and writes them.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// An operation to record: `op` is `del`, `page` or `homepage`; writes name the compiled
/// page (content hash) and how it is stamped.
#[derive(Debug, Clone)]
pub struct NewCacheOp {
    pub key: String,
    pub op: &'static str,
    pub content_hash: Option<String>,
    pub version: Option<i64>,
    pub published_at: Option<String>,
}

impl NewCacheOp {
    pub fn del(key: String) -> NewCacheOp {
        NewCacheOp {
            key,
            op: "del",
            content_hash: None,
            version: None,
            published_at: None,
        }
    }

    pub fn write(key: String, op: &'static str) -> NewCacheOp {
        NewCacheOp {
            op,
            ..NewCacheOp::del(key)
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxOp {
    pub id: Uuid,
    pub release_id: Uuid,
    /// The job that wrote it (its cache step); none for the verifier's cache repair (no job
    /// behind it) and for operations of a release pruned before jobs were recorded with them.
    pub job_id: Option<Uuid>,
    pub release_number: i64,
    pub seq: i64,
    pub cache_key: String,
    pub op: String,
    pub content_hash: Option<String>,
    pub version: Option<i64>,
    pub published_at: Option<String>,
    pub attempts: i64,
}

impl OutboxOp {
    /// Where a drain that has read up to this operation goes on from.
    pub fn cursor(&self) -> OutboxCursor {
        OutboxCursor {
            release_number: self.release_number,
            seq: self.seq,
            id: self.id,
        }
    }
}

/// A position in a project's outbox order (release, then sequence, then id).
#[derive(Debug, Clone, Copy)]
pub struct OutboxCursor {
    pub release_number: i64,
    pub seq: i64,
    pub id: Uuid,
}

impl OutboxCursor {
    /// Before every operation.
    pub fn start() -> OutboxCursor {
        OutboxCursor {
            release_number: i64::MIN,
            seq: i64::MIN,
            id: Uuid::nil(),
        }
    }
}

/// Outbox figures for `/metrics`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OutboxStats {
    pub pending: i64,
    pub oldest: Option<DateTime<Utc>>,
}
