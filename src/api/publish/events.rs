//! `GET /api/publish-jobs/{id}/events`: the job as Server-Sent Events until it ends and its
//! release's cache step (if any) has finished.
//!
//! The stream polls the job row rather than listening in-process, because the job may be
//! running in another edgepub process that shares the database.

use crate::api::access::{load, Need};
use crate::api::error::ApiError;
use crate::api::extract::Auth;
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::domain::publish::Job;
use crate::store::Store;
use actix_web::{web, HttpResponse};
use std::time::Duration;

pub fn routes(r: &mut Routes) {
    r.add(resource![job_events]);
}

const POLL: Duration = Duration::from_millis(200);

/// One event of the stream as an SSE parser reads it: its name and its `data` line.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct JobEvent {
    event: JobEventName,
    /// The job as `GET /api/publish-jobs/{id}` answers it, JSON-encoded on one line.
    #[schema(schema_with = json_text)]
    data: String,
}

/// `progress` while the job runs, `done` when it ends, `cache` for its cache step after that.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum JobEventName {
    Progress,
    Done,
    Cache,
}

fn json_text() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .content_media_type("application/json")
        .description(Some(
            "The job as `GET /api/publish-jobs/{id}` answers it, JSON-encoded on one line",
        ))
        .build()
}

fn event(name: &str, job: &Job) -> web::Bytes {
    let data = serde_json::to_string(job).unwrap_or_else(|_| "{}".into());
    web::Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

/// Whether nothing more will change: the job ended and its cache step is not under way.
fn settled(job: &Job) -> bool {
    job.state.is_final()
        && job
            .cache
            .as_ref()
            .is_none_or(|c| matches!(c.status.as_str(), "done" | "failed" | "skipped"))
}

/// The event a change announces: `progress` while the job runs, `done` when it ends, `cache`
/// for changes of the cache step after that.
fn name(before: Option<&Job>, now: &Job) -> &'static str {
    match before {
        Some(b) if b.state.is_final() => "cache",
        _ if now.state.is_final() => "done",
        _ => "progress",
    }
}

struct Follow {
    store: Store,
    last: Job,
    settled: bool,
}

async fn next(mut f: Follow) -> Option<(Result<web::Bytes, actix_web::Error>, Follow)> {
    if f.settled {
        return None;
    }
    loop {
        tokio::time::sleep(POLL).await;
        let job = match f.store.get_job(f.last.id).await {
            Ok(j) => f.store.with_cache_step(j).await,
            Err(e) => Err(e),
        };
        let job = match job {
            Ok(j) => j,
            Err(e) => {
                f.settled = true;
                return Some((
                    Err(actix_web::error::ErrorInternalServerError(e.to_string())),
                    f,
                ));
            }
        };
        let changed = serde_json::to_string(&job).ok() != serde_json::to_string(&f.last).ok();
        if changed {
            let bytes = event(name(Some(&f.last), &job), &job);
            f.settled = settled(&job);
            f.last = job;
            return Some((Ok(bytes), f));
        }
    }
}

#[utoipa::path(get, operation_id = "getPublishJobEvents", summary = "A publish job's progress as Server-Sent Events",
    path = "/api/publish-jobs/{id}/events", tag = "publish", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "`text/event-stream`: `progress` events with the job, one `done` when it ends, then `cache` events until its release's cache step has finished; each event's `data` is the job as `GET /api/publish-jobs/{id}` answers it", content_type = "text/event-stream", body = JobEvent),
        (status = 404, body = crate::api::error::ErrorBody)))]
pub async fn job_events(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = load(&auth, Need::Publish, "publish job", &path, |id| {
        state.store.get_job(id)
    })
    .await?;
    let job = state.store.with_cache_step(job).await?;
    let first = event(name(None, &job), &job);
    let follow = Follow {
        store: state.store.clone(),
        settled: settled(&job),
        last: job,
    };
    let head = futures_util::stream::once(async move { Ok::<_, actix_web::Error>(first) });
    let rest = futures_util::stream::unfold(follow, next);
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(futures_util::StreamExt::chain(head, rest)))
}
