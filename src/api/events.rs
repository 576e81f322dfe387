//! `GET /api/publish-jobs/{id}/events`: the job as Server-Sent Events until it ends.
//!
//! The stream polls the job row rather than listening in-process, because the job may be
//! running in another edgepub process that shares the database.

use super::access::{load, Need};
use super::error::ApiError;
use super::extract::Auth;
use super::AppState;
use actix_web::{web, HttpResponse};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(200);

fn event(name: &str, job: &crate::domain::publish::Job) -> web::Bytes {
    let data = serde_json::to_string(job).unwrap_or_else(|_| "{}".into());
    web::Bytes::from(format!("event: {name}\ndata: {data}\n\n"))
}

#[utoipa::path(get, path = "/api/publish-jobs/{id}/events", tag = "publish", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, description = "`text/event-stream`: `progress` events with the job, then one `done`", content_type = "text/event-stream"),
        (status = 404, body = super::error::ErrorBody)))]
pub async fn job_events(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = load(&auth, Need::Publish, "publish job", &path, |id| {
        state.store.get_job(id)
    })
    .await?;
    let store = state.store.clone();
    let first = event(
        if job.state.is_final() {
            "done"
        } else {
            "progress"
        },
        &job,
    );
    let done = job.state.is_final();
    let last = serde_json::to_string(&job).unwrap_or_default();
    let stream = futures_util::stream::unfold((done, last, job.id), move |(done, last, id)| {
        let store = store.clone();
        async move {
            if done {
                return None;
            }
            loop {
                tokio::time::sleep(POLL).await;
                let job = match store.get_job(id).await {
                    Ok(j) => j,
                    Err(e) => {
                        return Some((
                            Err(actix_web::error::ErrorInternalServerError(e.to_string())),
                            (true, last, id),
                        ))
                    }
                };
                let now = serde_json::to_string(&job).unwrap_or_default();
                if job.state.is_final() {
                    return Some((
                        Ok::<_, actix_web::Error>(event("done", &job)),
                        (true, now, id),
                    ));
                }
                if now != last {
                    return Some((Ok(event("progress", &job)), (false, now, id)));
                }
            }
        }
    });
    let head = futures_util::stream::once(async move { Ok::<_, actix_web::Error>(first) });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-cache"))
        .streaming(futures_util::StreamExt::chain(head, stream)))
}
