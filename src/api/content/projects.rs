//! `/api/projects`: thin handlers over the store.

use crate::api::admin::audit;
use crate::api::admin::audit::{audited, Did};
use crate::api::bodies::{ProjectCreate, ProjectPatch};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{merge_patch, AppState, Paginated};
use crate::audit::Summary;
use crate::domain::project::{Project, ProjectFields, ProjectInput};
use crate::domain::token::Scope;
use actix_web::{web, HttpRequest, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![get, replace, patch, delete]);
}

/// Loads a project by id or slug and checks the caller may administer it.
pub async fn authorized(state: &AppState, auth: &Auth, project: &str) -> Result<Project, ApiError> {
    crate::api::access::project(state, auth, crate::api::access::Need::Admin, project).await
}

#[utoipa::path(get, operation_id = "listProjects", summary = "List projects",
    path = "/api/projects", tag = "projects", params(PageQuery),
    responses((status = 200, body = Paginated<Project>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let only = auth.list_scope(Scope::Admin)?;
    let w = q.take()?.window();
    let (items, total) = state.store.list_projects(w, only).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

#[utoipa::path(post, operation_id = "createProject", summary = "Create a project",
    path = "/api/projects", tag = "projects", request_body = ProjectCreate,
    responses((status = 201, body = Project), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    body: JsonBody<ProjectCreate>,
) -> Result<HttpResponse, ApiError> {
    auth.require(Scope::Admin, None)?;
    let fields = body.take_valid(|b| b.0.validate(false))?;
    let project = audited(&state, &req, &auth, async {
        let project = state
            .store
            .create_project(&fields)
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let summary = Summary::of(&project);
        let id = project.id;
        let did = Did::new("project.create", Some(id), id, summary);
        Ok((project, did))
    })
    .await?;
    Ok(HttpResponse::Created().json(project))
}

#[utoipa::path(get, operation_id = "getProject", summary = "Read a project",
    path = "/api/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    Ok(HttpResponse::Ok().json(project))
}

#[utoipa::path(put, operation_id = "updateProject", summary = "Replace a project",
    path = "/api/projects/{project}", tag = "projects", request_body = ProjectInput,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<ProjectInput>,
) -> Result<HttpResponse, ApiError> {
    let current = authorized(&state, &auth, &path).await?;
    let fields = body.take_valid(|b| keep_slug(b, &current).validate(true))?;
    save(&state, &req, &auth, current, fields).await
}

#[utoipa::path(patch, operation_id = "patchProject", summary = "Merge-patch a project",
    path = "/api/projects/{project}", tag = "projects",
    request_body(content = ProjectPatch, description = "JSON merge patch (RFC 7396) of the project's fields"),
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = Project), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<ProjectPatch>,
) -> Result<HttpResponse, ApiError> {
    let current = authorized(&state, &auth, &path).await?;
    let input = merge_patch(&ProjectInput::from(&current), body.take()?.0)?;
    let fields = keep_slug(input, &current)
        .validate(true)
        .map_err(ApiError::Validation)?;
    save(&state, &req, &auth, current, fields).await
}

/// A replace that leaves the slug out keeps it: the address of a project is not a field to
/// lose by omission.
fn keep_slug(mut input: ProjectInput, current: &Project) -> ProjectInput {
    if input.slug.is_none() {
        input.slug = Some(current.slug.clone());
    }
    input
}

async fn save(
    state: &AppState,
    req: &HttpRequest,
    auth: &Auth,
    current: Project,
    fields: ProjectFields,
) -> Result<HttpResponse, ApiError> {
    if fields.tenant_slug != current.tenant_slug {
        let cache = state.store.cache_settings(current.id).await?;
        crate::api::access::ensure_own_keys(
            state,
            current.id,
            &fields.tenant_slug,
            &cache,
            "/tenant_slug",
        )
        .await?;
    }
    let project = audited(state, req, auth, async {
        let project = state
            .store
            .update_project(current.id, &fields)
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let summary = Summary::changes(&current, &project);
        let id = project.id;
        let did = Did::new("project.update", Some(id), id, summary);
        Ok((project, did))
    })
    .await?;
    Ok(HttpResponse::Ok().json(project))
}

#[utoipa::path(delete, operation_id = "deleteProject", summary = "Delete a project with its pages",
    path = "/api/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 204, description = "Deleted with its pages and history"), (status = 404, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let summary = Summary::of(&serde_json::json!({ "slug": project.slug, "name": project.name }));
    state
        .store
        .atomic(async {
            state
                .store
                .delete_project(project.id)
                .await
                .map_err(|e| ApiError::from_store(e, "project"))?;
            let id = project.id;
            audit::record(&req, &auth, "project.delete", Some(id), id, summary).await
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
