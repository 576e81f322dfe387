//! What an outgoing event says, and when a failed delivery is tried again. Pure functions:
//! the payloads are built from a job's end, the schedule from an attempt's answer.

use crate::domain::publish::{CacheStep, Job, JobResult, JobState, Progress};
use crate::domain::webhook::EventType;
use crate::store::deliveries::After;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

/// Pauses after the 1st, 2nd, … failed attempt, in seconds: about three days in all, then the
/// delivery has failed (10 attempts).
pub const SCHEDULE: [i64; 9] = [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400];
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: i64 = 86_400;
/// Failed pages listed per target in an event (the job's own result has them all).
const MAX_PAGES_LISTED: usize = 20;

/// One event, ready to record: its id makes recording it twice a no-op.
pub struct Event {
    pub id: Uuid,
    pub kind: EventType,
    pub payload: String,
}

fn envelope(id: Uuid, kind: EventType, at: DateTime<Utc>, data: Value) -> Event {
    let body = json!({
        "type": kind.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    });
    Event {
        id,
        kind,
        payload: body.to_string(),
    }
}

/// The event a publish job's end sends: succeeded, partial or failed.
pub fn job_ended(
    job: &Job,
    state: JobState,
    release_id: Option<Uuid>,
    progress: &Progress,
    result: &JobResult,
    at: DateTime<Utc>,
) -> Event {
    let kind = match state {
        JobState::Succeeded => EventType::PublishSucceeded,
        JobState::Partial => EventType::PublishPartial,
        _ => EventType::PublishFailed,
    };
    let mut targets = result.targets.clone();
    for t in &mut targets {
        t.failed_pages.truncate(MAX_PAGES_LISTED);
    }
    let data = json!({
        "project_id": job.project_id,
        "job_id": job.id,
        "job_kind": job.kind,
        "release_id": release_id,
        "state": state.as_str(),
        "request": job.request,
        "pages": { "total": progress.pages_total, "written": progress.pages_written },
        "targets": targets,
        "timings": {
            "compile_ms": result.compile_ms,
            "write_ms": result.write_ms,
            "total_ms": result.total_ms,
        },
        "error": result.error,
        "diagnostics": result.diagnostics.iter().take(MAX_PAGES_LISTED).collect::<Vec<_>>(),
    });
    envelope(
        Uuid::new_v5(&job.id, kind.as_str().as_bytes()),
        kind,
        at,
        data,
    )
}

/// The event a job's settled cache step sends (once per job).
pub fn cache_done(
    project_id: Uuid,
    job_id: Uuid,
    release_id: Uuid,
    step: &CacheStep,
    at: DateTime<Utc>,
) -> Event {
    let kind = EventType::PublishCacheDone;
    let data = json!({
        "project_id": project_id,
        "job_id": job_id,
        "release_id": release_id,
        "cache": step,
    });
    envelope(
        Uuid::new_v5(&job_id, kind.as_str().as_bytes()),
        kind,
        at,
        data,
    )
}

/// The event a verification pass sends when drift appears (`detected`) or is gone. Its id is
/// the project's and the pass's, so a pass recorded twice sends it once.
pub fn drift_changed(
    project_id: Uuid,
    pass: i64,
    detected: bool,
    summary: &str,
    drifted: &Value,
    at: DateTime<Utc>,
) -> Event {
    let kind = if detected {
        EventType::DriftDetected
    } else {
        EventType::DriftResolved
    };
    let data = json!({
        "project_id": project_id,
        "summary": summary,
        "drifted": drifted,
    });
    let name = format!("{}:{pass}", kind.as_str());
    envelope(Uuid::new_v5(&project_id, name.as_bytes()), kind, at, data)
}

/// The "send test event" message.
pub fn test_event(project_id: Uuid, endpoint_id: Uuid, at: DateTime<Utc>) -> Event {
    let data = json!({ "project_id": project_id, "endpoint_id": endpoint_id,
        "message": "a test event from edgepub" });
    envelope(Uuid::new_v4(), EventType::WebhookTest, at, data)
}

/// How an endpoint answered an attempt.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Status {
        code: u16,
        /// `Retry-After`, in seconds from now.
        retry_after: Option<i64>,
    },
    /// No HTTP answer (refused, timed out, address not allowed…).
    Failed(String),
}

impl Answer {
    pub fn error(&self) -> Option<String> {
        match self {
            Answer::Status { code, .. } if (200..300).contains(code) => None,
            Answer::Status { code, .. } if (300..400).contains(code) => {
                Some(format!("HTTP {code}: redirects are not followed"))
            }
            Answer::Status { code, .. } => Some(format!("HTTP {code}")),
            Answer::Failed(e) => Some(e.clone()),
        }
    }
}

/// Where a delivery goes after its `attempt`-th attempt (1-based) got `answer`. `jitter` in
/// [0, 1) spreads retries ±10% so endpoints coming back are not hit all at once;
/// `succeeded_since_first` says whether the endpoint took anything since this delivery began
/// (an endpoint is disabled only when it has been failing throughout).
pub fn after(
    attempt: i64,
    answer: &Answer,
    now: DateTime<Utc>,
    jitter: f64,
    succeeded_since_first: bool,
) -> After {
    let (code, retry_after) = match answer {
        Answer::Status { code, retry_after } => (Some(*code), *retry_after),
        Answer::Failed(_) => (None, None),
    };
    match code {
        Some(200..=299) => return After::Delivered,
        Some(410) => {
            return After::Failed {
                disable: Some("the endpoint answered 410 Gone".into()),
            }
        }
        _ => {}
    }
    let Some(pause) = usize::try_from(attempt - 1)
        .ok()
        .and_then(|i| SCHEDULE.get(i))
    else {
        let why = format!(
            "every attempt to deliver an event failed for {} attempts over about three days (last: {})",
            SCHEDULE.len() + 1,
            answer.error().unwrap_or_default()
        );
        return After::Failed {
            disable: (!succeeded_since_first).then_some(why),
        };
    };
    let spread_ms = (*pause as f64 * 1000.0 * (0.9 + 0.2 * jitter.clamp(0.0, 1.0))) as i64;
    let asked_ms = retry_after.unwrap_or(0).clamp(0, MAX_RETRY_AFTER) * 1000;
    After::Retry(now + Duration::milliseconds(spread_ms.max(asked_ms)))
}

/// `Retry-After` as seconds from `now`: delta-seconds or an HTTP date.
pub fn retry_after(value: &str, now: DateTime<Utc>) -> Option<i64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<i64>() {
        return Some(secs.max(0));
    }
    DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|at| (at.with_timezone(&Utc) - now).num_seconds().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> Answer {
        Answer::Status {
            code,
            retry_after: None,
        }
    }

    #[test]
    fn the_schedule() {
        let now = Utc::now();
        assert_eq!(after(1, &status(204), now, 0.5, false), After::Delivered);
        assert!(matches!(
            after(3, &status(410), now, 0.5, true),
            After::Failed { disable: Some(_) }
        ));
        for (i, pause) in SCHEDULE.iter().enumerate() {
            let attempt = i as i64 + 1;
            let After::Retry(at) = after(attempt, &status(500), now, 0.5, false) else {
                panic!("attempt {attempt} is retried");
            };
            assert_eq!((at - now).num_seconds(), *pause);
            let After::Retry(low) = after(attempt, &status(500), now, 0.0, false) else {
                panic!()
            };
            assert_eq!((low - now).num_milliseconds(), pause * 900);
        }
        let last = SCHEDULE.len() as i64 + 1;
        assert!(matches!(
            after(last, &status(500), now, 0.5, false),
            After::Failed { disable: Some(_) }
        ));
        assert_eq!(
            after(last, &Answer::Failed("timeout".into()), now, 0.5, true),
            After::Failed { disable: None }
        );
    }

    #[test]
    fn retry_after_is_honoured_and_bounded() {
        let now = Utc::now();
        let slow = Answer::Status {
            code: 503,
            retry_after: Some(3600),
        };
        assert_eq!(
            after(1, &slow, now, 0.5, false),
            After::Retry(now + Duration::seconds(3600))
        );
        let huge = Answer::Status {
            code: 429,
            retry_after: Some(10_000_000),
        };
        assert_eq!(
            after(1, &huge, now, 0.5, false),
            After::Retry(now + Duration::seconds(86_400))
        );
        assert_eq!(retry_after("120", now), Some(120));
        let later = (now + Duration::seconds(90)).to_rfc2822();
        assert!(retry_after(&later, now).is_some_and(|s| (88..=90).contains(&s)));
        assert_eq!(retry_after("soon", now), None);
    }
}
