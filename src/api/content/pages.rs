//! `/api/projects/{project}/pages` and `/api/pages/{id}`: page drafts with optimistic
//! concurrency. Every read returns an `ETag` (the version); a write with a stale `If-Match`
//! gets 412 and the current version.

use crate::api::access::{load, Need};
use crate::api::admin::audit::{audited, Did};
use crate::api::bodies::PagePatch;
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{etag, Auth, IfMatch, JsonBody, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{merge_patch, AppState, Paginated};
use crate::domain::page::{Page, PageInput};
use crate::store::pages::{PageFilter, PageRef};
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;

pub fn routes(r: &mut Routes) {
    r.add(resource![list, create])
        .add(resource![get, replace, patch, delete])
        .add(resource![restore]);
}

/// Loads a page and checks the caller may administer its project.
pub async fn authorized_page(state: &AppState, auth: &Auth, id: &str) -> Result<Page, ApiError> {
    load(auth, Need::Admin, "page", id, |id| state.store.get_page(id)).await
}

/// Authorises a request on a page by its project alone, without reading the page.
pub async fn authorized_page_ref(
    state: &AppState,
    auth: &Auth,
    id: &str,
) -> Result<PageRef, ApiError> {
    load(auth, Need::Admin, "page", id, |id| state.store.page_ref(id)).await
}

pub fn page_response(status: actix_web::http::StatusCode, page: &Page) -> HttpResponse {
    versioned(status, page.version, page)
}

/// A page (read or just saved) with its version as the `ETag`.
fn versioned(
    status: actix_web::http::StatusCode,
    version: i64,
    body: &impl serde::Serialize,
) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(etag(version))
        .json(body)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageListQuery {
    /// Only the page with this slug.
    pub slug: Option<String>,
    /// Also list soft-deleted pages (default false).
    #[serde(default)]
    pub include_deleted: bool,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, operation_id = "listPages", summary = "A project's pages",
    path = "/api/projects/{project}/pages", tag = "pages",
    params(("project" = String, Path, description = "Project UUID or slug"), PageListQuery),
    responses((status = 200, body = Paginated<Page>), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PageListQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let q = q.take()?;
    let w = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .window();
    let filter = PageFilter {
        slug: q.slug,
        include_deleted: q.include_deleted,
    };
    let (items, total) = state.store.list_pages(project.id, &filter, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

#[utoipa::path(post, operation_id = "createPage", summary = "Create a page",
    path = "/api/projects/{project}/pages", tag = "pages", request_body = PageInput,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 201, body = Page, headers(("ETag" = String))), (status = 409, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<PageInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let fields = body.take_valid(|b| b.validate(&state.config.layout_limits()))?;
    let page = audited(&state, &req, &auth, async {
        let page = state
            .store
            .create_page(project.id, fields)
            .await
            .map_err(|e| ApiError::from_store(e, "project"))?;
        let did = Did::new(
            "page.create",
            Some(project.id),
            page.id,
            page_summary(&page.slug, &page.name),
        );
        Ok((page, did))
    })
    .await?;
    let mut res = versioned(actix_web::http::StatusCode::CREATED, page.version, &page);
    if let Ok(v) = header::HeaderValue::from_str(&format!("/api/pages/{}", page.id)) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    Ok(res)
}

#[utoipa::path(get, operation_id = "getPage", summary = "Read a page draft (with its ETag)",
    path = "/api/pages/{id}", tag = "pages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Page, headers(("ETag" = String))), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page(&state, &auth, &path).await?;
    Ok(page_response(actix_web::http::StatusCode::OK, &page))
}

#[utoipa::path(put, operation_id = "updatePage", summary = "Save a page draft (autosave; `If-Match` guards against stale saves)",
    path = "/api/pages/{id}", tag = "pages", request_body = PageInput,
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from the last read")),
    responses((status = 200, body = Page, headers(("ETag" = String))), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn replace(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<PageInput>,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page_ref(&state, &auth, &path).await?;
    let fields = body.take_valid(|b| b.validate(&state.config.layout_limits()))?;
    save_fields(&state, page.id, if_match.0, fields).await
}

#[utoipa::path(patch, operation_id = "patchPage", summary = "Merge-patch a page draft",
    path = "/api/pages/{id}", tag = "pages",
    request_body(content = PagePatch, description = "JSON merge patch (RFC 7396) of the page's fields"),
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "ETag from the last read")),
    responses((status = 200, body = Page, headers(("ETag" = String))), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 412, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn patch(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    if_match: IfMatch,
    body: JsonBody<PagePatch>,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page(&state, &auth, &path).await?;
    let input = merge_patch(&PageInput::from(&page), body.take()?.0)?;
    // The patch was applied to the version just read, so without If-Match that version is
    // the precondition: a concurrent save makes this one fail instead of being overwritten.
    save(
        &state,
        page.id,
        Some(if_match.0.unwrap_or(page.version)),
        input,
    )
    .await
}

/// Saves `input` as the next version of page `id`; also used by history restores.
pub async fn save(
    state: &AppState,
    id: uuid::Uuid,
    expected: Option<i64>,
    input: PageInput,
) -> Result<HttpResponse, ApiError> {
    let fields = input
        .validate(&state.config.layout_limits())
        .map_err(ApiError::Validation)?;
    save_fields(state, id, expected, fields).await
}

async fn save_fields(
    state: &AppState,
    id: uuid::Uuid,
    expected: Option<i64>,
    fields: crate::domain::page::PageFields,
) -> Result<HttpResponse, ApiError> {
    let saved = state
        .store
        .update_page(id, expected, fields)
        .await
        .map_err(|e| ApiError::from_store(e, "page"))?;
    Ok(versioned(
        actix_web::http::StatusCode::OK,
        saved.version,
        &saved,
    ))
}

#[utoipa::path(delete, operation_id = "deletePage", summary = "Soft-delete a page",
    path = "/api/pages/{id}", tag = "pages",
    params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204, description = "Soft-deleted; restore with POST /api/pages/{id}/restore"),
        (status = 404, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn delete(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page(&state, &auth, &path).await?;
    audited(&state, &req, &auth, async {
        state
            .store
            .soft_delete_page(page.id, if_match.0)
            .await
            .map_err(|e| ApiError::from_store(e, "page"))?;
        let did = Did::new(
            "page.delete",
            Some(page.project_id),
            page.id,
            page_summary(&page.slug, &page.name),
        );
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(post, operation_id = "restorePage", summary = "Undo a soft delete",
    path = "/api/pages/{id}/restore", tag = "pages", params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = Page), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Its slug or the homepage role was taken meanwhile")))]
pub async fn restore(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page(&state, &auth, &path).await?;
    let page = audited(&state, &req, &auth, async {
        let page = state
            .store
            .restore_page(page.id)
            .await
            .map_err(|e| ApiError::from_store(e, "page"))?;
        let did = Did::new(
            "page.restore",
            Some(page.project_id),
            page.id,
            page_summary(&page.slug, &page.name),
        );
        Ok((page, did))
    })
    .await?;
    Ok(page_response(actix_web::http::StatusCode::OK, &page))
}

/// A page's audit summary: which page, never its layout.
fn page_summary(slug: &str, name: &str) -> crate::audit::Summary {
    crate::audit::Summary::of(&serde_json::json!({ "slug": slug, "name": name }))
}
