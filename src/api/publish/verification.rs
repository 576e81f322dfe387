//! `GET /api/projects/{project}/verification`: the latest result of continuous verification
//! (when, how long, what drifted) and its schedule.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Auth;
use crate::api::publish::jobs::publish_project_by_ref;
use crate::api::routes::{resource, Routes};
use crate::api::settings::verification::VerificationSettingsView;
use crate::api::AppState;
use crate::domain::verification::Verification;
use crate::publish::drift::DriftReport;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![get]);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationView {
    pub schedule: VerificationSettingsView,
    /// The latest pass; none before the first.
    pub last: Option<LastPass>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LastPass {
    /// Which pass this was (1 for the first).
    pub pass: i64,
    /// When the pass started.
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    pub drifted: bool,
    /// What drifted, in one line.
    pub summary: String,
    /// The drift report the pass produced (as `GET …/drift` returns it).
    #[schema(value_type = DriftReport)]
    pub report: Value,
}

impl LastPass {
    /// The row's latest pass; none before the first. Shared with `edgepub verify --last`.
    pub fn of(v: &Verification) -> Option<LastPass> {
        // The pass stores its one-line summary with the report.
        let mut report = v.last_report.clone()?;
        let summary = report
            .as_object_mut()
            .and_then(|o| o.remove("summary"))
            .and_then(|s| s.as_str().map(String::from))
            .unwrap_or_default();
        Some(LastPass {
            pass: v.last_pass?,
            at: v.last_run_at?,
            duration_ms: v.last_duration_ms.unwrap_or(0),
            drifted: v.last_drifted.unwrap_or(false),
            summary,
            report,
        })
    }
}

#[utoipa::path(get, operation_id = "getProjectVerification", summary = "The latest continuous verification result",
    path = "/api/projects/{project}/verification", tag = "publish",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = VerificationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = publish_project_by_ref(&state, &auth, &path).await?;
    let v = state.store.get_verification(project.id).await?;
    let last = v.as_ref().and_then(LastPass::of);
    Ok(HttpResponse::Ok().json(VerificationView {
        schedule: VerificationSettingsView::of(v.as_ref()),
        last,
    }))
}
