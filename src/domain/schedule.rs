//! Scheduled publishes and unpublishes as the API shows them, and how a schedule becomes an
//! ordinary publish job when its time comes.

use super::publish::JobRequest;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// A schedule that runs more than this after its time says it ran late (the worker polls
/// every second, so a schedule run by a live process is never this late).
pub const LATE_AFTER_SECS: i64 = 60;
/// How far in the past a new schedule's time may be (clock skew between client and server);
/// such a schedule runs at once. Older times are refused.
pub const PAST_TOLERANCE_SECS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleAction {
    Publish,
    Unpublish,
}

/// What runs when the schedule's time comes; mirrors the publish request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScheduleRequest {
    pub action: ScheduleAction,
    /// Only these pages. Publish default: every live page. Unpublish default: every page of
    /// the current release (the whole site is taken off its targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pages: Option<Vec<Uuid>>,
    /// Publish only: rewrite and re-version every page.
    #[serde(default)]
    pub force: bool,
    /// Only these targets (default: every enabled target of the project).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<Uuid>>,
}

impl ScheduleRequest {
    /// The job to enqueue; `published` are the current release's pages when it runs, used
    /// by a project-wide unpublish.
    pub fn job_request(&self, published: Vec<Uuid>) -> JobRequest {
        match self.action {
            ScheduleAction::Publish => JobRequest::Publish {
                pages: self.pages.clone(),
                force: self.force,
                targets: self.targets.clone(),
            },
            ScheduleAction::Unpublish => JobRequest::Unpublish {
                pages: self.pages.clone().unwrap_or(published),
                targets: self.targets.clone(),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleState {
    /// Waiting for its time.
    Pending,
    /// Its publish job was enqueued (see `job_id` for how the job went).
    Ran,
    Cancelled,
    /// Could not be enqueued when its time came (see `error`).
    Failed,
}

impl ScheduleState {
    pub fn as_str(self) -> &'static str {
        match self {
            ScheduleState::Pending => "pending",
            ScheduleState::Ran => "ran",
            ScheduleState::Cancelled => "cancelled",
            ScheduleState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ScheduleState> {
        Some(match s {
            "pending" => ScheduleState::Pending,
            "ran" => ScheduleState::Ran,
            "cancelled" => ScheduleState::Cancelled,
            "failed" => ScheduleState::Failed,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Schedule {
    pub id: Uuid,
    pub project_id: Uuid,
    /// When it runs (or was due to run).
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub request: ScheduleRequest,
    pub state: ScheduleState,
    /// The publish job it enqueued, once it ran.
    pub job_id: Option<Uuid>,
    /// Seconds between its time and when it ran (or failed).
    pub late_by_secs: Option<i64>,
    /// It ran more than a minute after its time (every edgepub process was down then).
    pub late: bool,
    pub error: Option<String>,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    /// When it ran, failed or was cancelled.
    pub finished_at: Option<DateTime<Utc>>,
}

/// How late a run at `now` is for a schedule due at `at`, in whole seconds (never negative).
pub fn late_by(at: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - at).num_seconds().max(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_unpublish_takes_every_published_page() {
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let r = ScheduleRequest {
            action: ScheduleAction::Unpublish,
            pages: None,
            force: false,
            targets: None,
        };
        assert_eq!(
            r.job_request(vec![a, b]),
            JobRequest::Unpublish {
                pages: vec![a, b],
                targets: None
            }
        );
    }

    #[test]
    fn lateness_is_whole_non_negative_seconds() {
        let at = Utc::now();
        assert_eq!(late_by(at, at - chrono::Duration::seconds(5)), 0);
        assert_eq!(late_by(at, at + chrono::Duration::milliseconds(61_500)), 61);
    }
}
