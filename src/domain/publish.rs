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
    },
    /// Take pages off every target.
    Unpublish { pages: Vec<Uuid> },
    /// Publish a past release's pages again, as a new release.
    Rollback { release_id: Uuid },
}

impl JobRequest {
    pub fn kind(&self) -> &'static str {
        match self {
            JobRequest::Publish { .. } => "publish",
            JobRequest::Unpublish { .. } => "unpublish",
            JobRequest::Rollback { .. } => "rollback",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> JobState {
        match s {
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            _ => JobState::Queued,
        }
    }

    pub fn is_final(self) -> bool {
        matches!(self, JobState::Succeeded | JobState::Failed)
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
    pub ok: bool,
    pub upserted: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub duration_ms: u64,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JobResult {
    pub targets: Vec<TargetResult>,
    /// Compiler errors and warnings (`{page_id, pointer, severity, code, message}`).
    #[schema(value_type = Vec<Object>)]
    pub diagnostics: Vec<Value>,
    pub error: Option<String>,
    pub compile_ms: u64,
    pub write_ms: u64,
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
    #[schema(value_type = Vec<TargetResult>)]
    pub targets: Value,
    /// Present when one release is fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<ReleasePage>>,
}
