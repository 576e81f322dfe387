//! Publish targets: `/api/projects/{project}/targets`, `/api/targets/{id}` and their tests.

use crate::api::access::{load, Need};
use crate::api::admin::audit::{audited, Did};
use crate::api::bodies::{TargetCreate, TargetPatch, TargetReplace, TargetTest};
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody, MaybeJson};
use crate::api::routes::{resource, Routes};
use crate::api::{merge_patch, AppState};
use crate::audit::Summary;
use crate::domain::settings::{Purpose, SecretPatch};
use crate::domain::target::{Target, TargetFields, TargetInput, TargetKind, TargetView};
use crate::domain::token::Scope;
use crate::domain::FieldError;
use crate::net::probe::{self, TestReport};
use crate::publish::targets;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::Value;

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![test_unsaved])
        .add(resource![get, replace, patch, delete])
        .add(resource![test_saved]);
}

async fn authorized_target(state: &AppState, auth: &Auth, id: &str) -> Result<Target, ApiError> {
    load(auth, Need::Admin, "target", id, |id| {
        state.store.get_target(id)
    })
    .await
}

/// The directory under the sites root of the project a target belongs to.
async fn site_dir(state: &AppState, project: uuid::Uuid) -> Result<String, ApiError> {
    let p = state
        .store
        .get_project(&project.to_string())
        .await
        .map_err(|e| ApiError::from_store(e, "project"))?;
    Ok(p.site_dir)
}

/// Validates an input, including that a local path stays inside the project's directory
/// under the data root (`site_dir`; `None` only for an unsaved test by an unlimited token).
fn fields(
    state: &AppState,
    input: TargetInput,
    stored: Option<&Target>,
    site_dir: Option<&str>,
    purpose: Purpose,
) -> Result<TargetFields, ApiError> {
    let f = input
        .validate(stored.map(Target::fields).as_ref(), purpose)
        .map_err(ApiError::Validation)?;
    located(state, f, site_dir)
}

/// Checked fields whose local file, if any, lies inside the data root and `site_dir`.
fn located(
    state: &AppState,
    f: TargetFields,
    site_dir: Option<&str>,
) -> Result<TargetFields, ApiError> {
    if let (TargetKind::Local, Some(path)) = (f.kind, &f.path) {
        let root = &state.config.pages_root;
        let refused = |code: &'static str| {
            move |message| {
                ApiError::Validation(vec![FieldError {
                    path: "/path".into(),
                    code,
                    message,
                }])
            }
        };
        targets::check_local_path(root, None, path).map_err(refused("outside_data_root"))?;
        targets::check_local_path(root, site_dir, path).map_err(refused("outside_project_dir"))?;
    }
    Ok(f)
}

#[utoipa::path(get, operation_id = "listTargets", summary = "A project's publish targets",
    path = "/api/projects/{project}/targets", tag = "targets",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Vec<TargetView>), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let targets = state.store.list_targets(project.id).await?;
    Ok(HttpResponse::Ok().json(targets.iter().map(TargetView::from).collect::<Vec<_>>()))
}

#[utoipa::path(post, operation_id = "createTarget", summary = "Create a publish target",
    path = "/api/projects/{project}/targets", tag = "targets", request_body = TargetCreate,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = TargetView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<TargetCreate>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let f = body.take_valid(|b| b.0.validate(None, Purpose::Save))?;
    let f = located(&state, f, Some(&project.site_dir))?;
    let view = audited(&state, &req, &auth, async {
        let t = state
            .store
            .create_target(project.id, &f)
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let view = TargetView::from(&t);
        let did = Did::new(
            "target.create",
            Some(t.project_id),
            t.id,
            Summary::of(&view),
        );
        Ok((view, did))
    })
    .await?;
    Ok(HttpResponse::Created().json(view))
}

#[utoipa::path(get, operation_id = "getTarget", summary = "Read a publish target",
    path = "/api/targets/{id}", tag = "targets", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TargetView), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = authorized_target(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(TargetView::from(&t)))
}

#[utoipa::path(put, operation_id = "updateTarget", summary = "Replace a publish target",
    path = "/api/targets/{id}", tag = "targets", request_body = TargetReplace, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = TargetView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<TargetReplace>,
) -> Result<HttpResponse, ApiError> {
    let t = authorized_target(&state, &auth, &path).await?;
    let dir = site_dir(&state, t.project_id).await?;
    let f = body.take_valid(|b| b.0.validate(Some(&t.fields()), Purpose::Save))?;
    let f = located(&state, f, Some(&dir))?;
    save(&state, &req, &auth, &t, f).await
}

#[utoipa::path(patch, operation_id = "patchTarget", summary = "Merge-patch a publish target",
    path = "/api/targets/{id}", tag = "targets", params(("id" = uuid::Uuid, Path)),
    request_body(content = TargetPatch, description = "JSON merge patch; `token: null` clears the token"),
    responses((status = 200, body = TargetView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<TargetPatch>,
) -> Result<HttpResponse, ApiError> {
    let t = authorized_target(&state, &auth, &path).await?;
    let input = patched(&t, body.take()?.0)?;
    let dir = site_dir(&state, t.project_id).await?;
    let f = fields(&state, input, Some(&t), Some(&dir), Purpose::Save)?;
    save(&state, &req, &auth, &t, f).await
}

/// A stored target with a merge patch applied.
fn patched(t: &Target, mut patch: Value) -> Result<TargetInput, ApiError> {
    // In a merge patch `null` deletes a member; for the secret it must mean "clear".
    let token = match patch.as_object_mut().and_then(|o| o.remove("token")) {
        None => SecretPatch::Keep,
        Some(Value::String(s)) if !s.is_empty() => SecretPatch::Set(s),
        Some(Value::String(_) | Value::Null) => SecretPatch::Clear,
        Some(_) => {
            return Err(ApiError::Validation(vec![crate::domain::FieldError {
                path: "/token".into(),
                code: "invalid_type",
                message: "must be a string (the new token), or null or \"\" to clear it".into(),
            }]))
        }
    };
    let mut input: TargetInput = merge_patch(&TargetInput::from_target(t), patch)?;
    input.token = token;
    Ok(input)
}

async fn save(
    state: &AppState,
    req: &HttpRequest,
    auth: &Auth,
    t: &Target,
    f: TargetFields,
) -> Result<HttpResponse, ApiError> {
    let after = audited(state, req, auth, async {
        let saved = state
            .store
            .update_target(t.id, &f)
            .await
            .map_err(|e| ApiError::from_store(e, "target"))?;
        let (before, after) = (TargetView::from(t), TargetView::from(&saved));
        let summary = Summary::changes(&before, &after).secret("token", t.token != saved.token);
        let did = Did::new("target.update", Some(t.project_id), t.id, summary);
        Ok((after, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(after))
}

#[utoipa::path(delete, operation_id = "deleteTarget", summary = "Delete a publish target",
    path = "/api/targets/{id}", tag = "targets", params(("id" = uuid::Uuid, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let t = authorized_target(&state, &auth, &path).await?;
    audited(&state, &req, &auth, async {
        state
            .store
            .delete_target(t.id)
            .await
            .map_err(|e| ApiError::from_store(e, "target"))?;
        let summary = Summary::of(&serde_json::json!({ "name": t.name, "kind": t.kind }));
        let did = Did::new("target.delete", Some(t.project_id), t.id, summary);
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn run_test(state: &AppState, f: &TargetFields, site_dir: Option<&str>) -> TestReport {
    let ctx = state.target_context();
    let report = probe::run(ctx.probe_timeout, targets::test(f, ctx, site_dir)).await;
    if let Some(e) = &report.error {
        tracing::info!(kind = ?e.kind, target_kind = f.kind.as_str(), "target connection test failed");
    }
    report
}

/// Tests unsaved target values. Always 200: the outcome is in the report.
#[utoipa::path(post, operation_id = "testTargetValues", path = "/api/targets/test", tag = "targets", request_body = TargetTest,
    responses((status = 200, body = TestReport), (status = 422, body = ErrorBody)))]
pub async fn test_unsaved(
    state: web::Data<AppState>,
    auth: Auth,
    body: JsonBody<TargetTest>,
) -> Result<HttpResponse, ApiError> {
    // A token limited to a project tests local files of that project's directory only.
    let dir = match auth.list_scope(Scope::Admin)? {
        Some(project) => Some(site_dir(&state, project).await?),
        None => None,
    };
    let f = body.take_valid(|b| b.0.validate(None, Purpose::Test))?;
    let f = located(&state, f, dir.as_deref())?;
    Ok(HttpResponse::Ok().json(run_test(&state, &f, dir.as_deref()).await))
}

/// Tests a saved target, or the form being edited: a body is a merge patch over the saved
/// target (as for PATCH), and the stored token goes along only while kind and address are the
/// saved ones. Always 200: the outcome is in the report.
#[utoipa::path(post, operation_id = "testTarget", path = "/api/targets/{id}/test", tag = "targets", params(("id" = uuid::Uuid, Path)),
    request_body(content = Option<TargetPatch>, description = "Unsaved changes as a JSON merge patch; empty to test the saved target"),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test_saved(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<TargetPatch>,
) -> Result<HttpResponse, ApiError> {
    let t = authorized_target(&state, &auth, &path).await?;
    let dir = site_dir(&state, t.project_id).await?;
    let f = match body.take()? {
        None => t.fields(),
        Some(patch) => fields(
            &state,
            patched(&t, patch.0)?,
            Some(&t),
            Some(&dir),
            Purpose::Test,
        )?,
    };
    Ok(HttpResponse::Ok().json(run_test(&state, &f, Some(&dir)).await))
}
