//! Publish jobs and releases as the API shows them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

/// What a job was asked to do; stored with the job so a restarted process can resume it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum JobRequest {
    /// Publish all live pages (`pages: null`) or only the listed ones.
    Publish {
        pages: Option<Vec<Uuid>>,
        #[serde(default)]
        force: bool,
        /// Only these targets (default: every enabled target).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<Uuid>>,
    },
    /// Take pages off the targets.
    Unpublish {
        pages: Vec<Uuid>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<Uuid>>,
    },
    /// Publish a past release's pages again, as a new release.
    Rollback {
        release_id: Uuid,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        targets: Option<Vec<Uuid>>,
    },
    /// Write a partial release again to the targets that failed it (no new release).
    Retry {
        release_id: Uuid,
        targets: Vec<Uuid>,
    },
    /// Rewrite what drifted from the release on every enabled target and in the cache.
    Repair { release_id: Uuid },
}

impl JobRequest {
    pub fn kind(&self) -> &'static str {
        match self {
            JobRequest::Publish { .. } => "publish",
            JobRequest::Unpublish { .. } => "unpublish",
            JobRequest::Rollback { .. } => "rollback",
            JobRequest::Retry { .. } => "retry",
            JobRequest::Repair { .. } => "repair",
        }
    }

    /// The targets the job writes, when limited.
    pub fn targets(&self) -> Option<&[Uuid]> {
        match self {
            JobRequest::Publish { targets, .. }
            | JobRequest::Unpublish { targets, .. }
            | JobRequest::Rollback { targets, .. } => targets.as_deref(),
            JobRequest::Retry { targets, .. } => Some(targets),
            JobRequest::Repair { .. } => None,
        }
    }

    /// The same request limited to `only` targets.
    pub fn limited_to(&self, only: Vec<Uuid>) -> JobRequest {
        let mut r = self.clone();
        match &mut r {
            JobRequest::Publish { targets, .. }
            | JobRequest::Unpublish { targets, .. }
            | JobRequest::Rollback { targets, .. } => *targets = Some(only),
            JobRequest::Retry { targets, .. } => *targets = only,
            JobRequest::Repair { release_id } => {
                r = JobRequest::Retry {
                    release_id: *release_id,
                    targets: only,
                }
            }
        }
        r
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    /// Some targets were written, others failed; the release is partial.
    Partial,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Partial => "partial",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "partial" => JobState::Partial,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Partial | JobState::Failed
        )
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Progress {
    /// queued, compiling, writing, recording, done
    pub stage: String,
    pub pages_total: u64,
    pub pages_compiled: u64,
    /// Page rows written, summed over targets.
    pub pages_written: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetResult {
    pub target_id: Uuid,
    pub name: String,
    pub kind: String,
    /// Everything planned for this target was written.
    pub ok: bool,
    /// `ok`, `partial` (some pages written, some failed) or `failed` (nothing written).
    #[serde(default)]
    pub status: TargetStatus,
    /// Whether readers saw this target's share all at once (false for push edges).
    #[serde(default)]
    pub atomic: bool,
    pub upserted: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
    /// The error's kind, as a "Test connection" reports it (`refused`, `timeout`, `auth`,
    /// `conflict`, …).
    #[serde(default)]
    pub error_kind: Option<String>,
    /// Pages a non-atomic target could not write or delete.
    #[serde(default)]
    pub failed_pages: Vec<PageError>,
    /// HTTP requests made and bytes sent (Turso, push edges).
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub bytes_sent: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TargetStatus {
    Ok,
    Partial,
    #[default]
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PageError {
    pub page_id: String,
    /// The error's kind (`conflict`: the edge holds a version edgepub did not write).
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    pub targets: Vec<TargetResult>,
    /// Compiler errors and warnings (`{pageId, pointer, severity, code, message}`).
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<Value>,
    pub error: Option<String>,
    pub compile_ms: u64,
    pub write_ms: u64,
    /// From the job's start until its release committed (a `publish.*` event, recorded in that
    /// transaction, carries the time up to the commit).
    pub total_ms: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    pub project_id: Uuid,
    pub kind: String,
    pub request: JobRequest,
    pub state: JobState,
    pub progress: Progress,
    pub result: Option<JobResult>,
    pub release_id: Option<Uuid>,
    pub attempts: i64,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// The cache step of the job's release, applied in the background after the job ends;
    /// absent when the project has no cache or the release changed nothing cached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheStep>,
}

/// Progress of a release's cache operations (prime or invalidate).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CacheStep {
    /// `pending`, `retrying` (the cache could not be reached; see the error), `done`,
    /// `failed` (the cache refused an operation) or `skipped` (the cache was disabled or
    /// removed before the operations were applied: nothing was written; `last_error` says so,
    /// with kind `disabled`).
    pub status: String,
    pub operations: u64,
    /// Applied, or superseded by a newer release's operation on the same key (never skipped
    /// ones).
    pub done: u64,
    pub last_error_kind: Option<String>,
    pub last_error: Option<String>,
}

/// One page of a release: which version of which content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct ReleasePage {
    pub page_id: String,
    pub slug: String,
    pub version: i64,
    pub content_hash: String,
    pub published_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Release {
    pub id: Uuid,
    pub project_id: Uuid,
    /// 1, 2, 3… per project.
    pub number: i64,
    pub job_id: Uuid,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// `complete` (every target it was written to holds it) or `partial`.
    pub status: String,
    pub targets: Vec<TargetResult>,
    /// Present when one release is fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<ReleasePage>>,
}
