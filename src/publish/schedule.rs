//! Scheduled publishing: a background [`Work`] that, every second, turns each due schedule
//! into an ordinary publish job (the same job row the publish endpoint enqueues, so progress,
//! events and webhooks are the same). Times are read from the store's injected clock.
//! A schedule due while every process was down is found by the first pass after a start and
//! records how late it ran.

use crate::domain::schedule::{Schedule, ScheduleAction, ScheduleRequest, ScheduleState};
use crate::domain::FieldError;
use crate::store::{Store, StoreError};
use crate::worker::{Stop, Work};
use std::sync::Arc;
use tokio::sync::Notify;
use uuid::Uuid;

/// Schedules claimed per query; the pass loops until none are due.
const BATCH: i64 = 100;

pub struct ScheduleWork {
    pub store: Store,
    /// Wakes this process's publish worker once a job is enqueued.
    pub wake_publish: Arc<Notify>,
}

#[async_trait::async_trait]
impl Work for ScheduleWork {
    fn name(&self) -> &'static str {
        "schedules"
    }

    async fn pass(&self, stop: &Stop) -> Result<(), StoreError> {
        loop {
            let due = self.store.due_schedules(BATCH).await?;
            if due.is_empty() {
                return Ok(());
            }
            let mut progressed = false;
            for s in due {
                if stop.is_set() {
                    return Ok(());
                }
                progressed |= self.run(&s).await?;
            }
            // Every row was taken by another process: let it finish rather than spin.
            if !progressed {
                return Ok(());
            }
        }
    }
}

impl ScheduleWork {
    /// Enqueues one due schedule's job, or marks it failed when its pages or targets are
    /// gone. True when this process settled it.
    async fn run(&self, s: &Schedule) -> Result<bool, StoreError> {
        let mut found = problems(&self.store, s.project_id, &s.request).await?;
        // A project-wide unpublish takes off every page of the current release (deleted
        // pages included), so it needs the release's pages.
        let published = match (s.request.action, &s.request.pages) {
            (ScheduleAction::Unpublish, None) => self.published_pages(s.project_id).await?,
            _ => Vec::new(),
        };
        if s.request.action == ScheduleAction::Unpublish
            && s.request.pages.is_none()
            && published.is_empty()
        {
            found.push(FieldError {
                path: String::new(),
                code: "nothing_published",
                message: "nothing is published, so there is nothing to unpublish".into(),
            });
        }
        if !found.is_empty() {
            let error = found
                .iter()
                // A problem of the whole schedule has no path to name.
                .map(|p| match p.path.as_str() {
                    "" => p.message.clone(),
                    path => format!("{path}: {}", p.message),
                })
                .collect::<Vec<_>>()
                .join("; ");
            let failed = self
                .store
                .atomic(async {
                    let failed = self.store.fail_schedule(s, &error).await?;
                    if failed {
                        let s = Schedule {
                            state: ScheduleState::Failed,
                            ..s.clone()
                        };
                        crate::audit::record_system(&self.store, &s, "schedule.fail").await?;
                    }
                    Ok::<_, StoreError>(failed)
                })
                .await?;
            if failed {
                tracing::warn!(schedule_id = %s.id, error = %error, "a schedule could not run");
            }
            return Ok(failed);
        }
        let request = s.request.job_request(published);
        let ran = self
            .store
            .atomic(async {
                let job = self.store.run_schedule(s, &request).await?;
                if let Some(job) = &job {
                    let s = Schedule {
                        job_id: Some(job.id),
                        state: ScheduleState::Ran,
                        ..s.clone()
                    };
                    crate::audit::record_system(&self.store, &s, "schedule.run").await?;
                }
                Ok::<_, StoreError>(job)
            })
            .await?;
        match ran {
            Some(job) => {
                tracing::info!(schedule_id = %s.id, job_id = %job.id, "a schedule ran");
                // After the commit, so the worker finds the job.
                self.wake_publish.notify_one();
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl ScheduleWork {
    /// The page ids of the project's current release.
    async fn published_pages(&self, project: Uuid) -> Result<Vec<Uuid>, StoreError> {
        Ok(match self.store.current_release(project).await? {
            Some((_, pages)) => pages
                .iter()
                .filter_map(|p| Uuid::parse_str(&p.page_id).ok())
                .collect(),
            None => Vec::new(),
        })
    }
}

/// What is wrong with a schedule's pages and targets, checked when it is created and again
/// when it runs (a page or target may be gone by then).
pub async fn problems(
    store: &Store,
    project: Uuid,
    r: &ScheduleRequest,
) -> Result<Vec<FieldError>, StoreError> {
    let mut problems = Vec::new();
    let mut push = |path: String, code: &'static str, message: &str| {
        problems.push(FieldError {
            path,
            code,
            message: message.into(),
        })
    };
    if let Some(pages) = &r.pages {
        if pages.is_empty() {
            push(
                "/pages".into(),
                "empty",
                "name at least one page, or leave `pages` out for all",
            );
        }
        for (i, id) in pages.iter().enumerate() {
            match store.get_page(*id).await {
                Ok(p) if p.project_id != project => push(
                    format!("/pages/{i}"),
                    "unknown_page",
                    "not a page of this project",
                ),
                Ok(p) if p.deleted_at.is_some() && r.action == ScheduleAction::Publish => push(
                    format!("/pages/{i}"),
                    "page_deleted",
                    "this page is deleted and cannot be published",
                ),
                Ok(_) => {}
                Err(StoreError::NotFound) => push(
                    format!("/pages/{i}"),
                    "unknown_page",
                    "not a page of this project",
                ),
                Err(e) => return Err(e),
            }
        }
    }
    problems.extend(super::request::target_problems(store, project, r.targets.as_deref()).await?);
    Ok(problems)
}
