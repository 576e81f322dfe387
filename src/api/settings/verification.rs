//! `/api/projects/{project}/settings/verification`: how often the project's targets and cache
//! are compared with its last release, and what the verifier may repair on its own. The
//! results are at `/api/projects/{project}/verification`.

use crate::api::admin::audit::{audited, Did};
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::Summary;
use crate::domain::verification::{RepairMode, Verification, VerificationInput};
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![get, put]);
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationSettingsView {
    /// Seconds between passes; 0: off (the default).
    pub interval_secs: i64,
    pub repair: RepairMode,
    /// When the next pass is due (none while off).
    pub next_run_at: Option<DateTime<Utc>>,
    /// Passes run so far (each by one process, however many share the database).
    pub passes: i64,
}

impl VerificationSettingsView {
    pub fn of(v: Option<&Verification>) -> Self {
        VerificationSettingsView {
            interval_secs: v.map_or(0, |v| v.interval_secs),
            repair: v.map_or(RepairMode::Off, |v| v.repair),
            next_run_at: v.and_then(|v| v.next_run_at),
            passes: v.map_or(0, |v| v.runs),
        }
    }
}

#[utoipa::path(get, operation_id = "getVerificationSettings", summary = "A project's verification schedule",
    path = "/api/projects/{project}/settings/verification", tag = "settings",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = VerificationSettingsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let v = state.store.get_verification(project.id).await?;
    Ok(HttpResponse::Ok().json(VerificationSettingsView::of(v.as_ref())))
}

/// Sets the schedule: the first pass is one interval from now.
#[utoipa::path(put, operation_id = "updateVerificationSettings", summary = "Set a project's verification schedule and self-repair",
    path = "/api/projects/{project}/settings/verification", tag = "settings", request_body = VerificationInput,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = VerificationSettingsView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "`out_of_range`: the interval is not 0 or 60 to 604800 seconds")))]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<VerificationInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let input = body.take_valid(|b| b.validate())?;
    let before = state.store.get_verification(project.id).await?;
    let after = audited(&state, &req, &auth, async {
        let after = state.store.set_verification(project.id, &input).await?;
        let (before, after) = (
            VerificationSettingsView::of(before.as_ref()),
            VerificationSettingsView::of(Some(&after)),
        );
        let summary = Summary::changes(&before, &after);
        let did = Did::new("verification.update", Some(project.id), project.id, summary);
        Ok((after, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(after))
}
