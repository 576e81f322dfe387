//! `/api/pages/{id}/versions`: the bounded history of every saved version of a page.

use crate::api::admin::audit::{audited, Did};
use crate::api::content::pages::{authorized_page_ref, save};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, IfMatch, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{AppState, Paginated};
use crate::domain::page::{PageInput, PageVersion, PageVersionSummary};
use actix_web::{web, HttpResponse};

pub fn routes(r: &mut Routes) {
    r.add(resource![list])
        .add(resource![get])
        .add(resource![restore]);
}

#[utoipa::path(get, operation_id = "listPageVersions", summary = "A page's saved versions",
    path = "/api/pages/{id}/versions", tag = "pages", params(("id" = uuid::Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<PageVersionSummary>, description = "Newest first"), (status = 404, body = ErrorBody)))]
pub async fn list(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = authorized_page_ref(&state, &auth, &path).await?;
    let w = q.take()?.window();
    let (items, total) = state.store.list_page_versions(page.id, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

#[utoipa::path(get, operation_id = "getPageVersion", summary = "Read one saved version of a page",
    path = "/api/pages/{id}/versions/{version}", tag = "pages",
    params(("id" = uuid::Uuid, Path), ("version" = i64, Path)),
    responses((status = 200, body = PageVersion), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let page = authorized_page_ref(&state, &auth, &id).await?;
    // Parsed after access is settled: a malformed number is a missing version.
    let n: i64 = n.parse().map_err(|_| ApiError::NotFound("version"))?;
    let version = state
        .store
        .get_page_version(page.id, n)
        .await
        .map_err(|e| ApiError::from_store(e, "version"))?;
    Ok(HttpResponse::Ok().json(version))
}

#[utoipa::path(post, operation_id = "restorePageVersion", summary = "Restore a saved version (a new save)",
    path = "/api/pages/{id}/versions/{version}/restore", tag = "pages",
    params(("id" = uuid::Uuid, Path), ("version" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = crate::domain::page::Page, description = "Saved as a new version"),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 412, body = ErrorBody)))]
pub async fn restore(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    auth: Auth,
    path: web::Path<(String, String)>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let (id, n) = path.into_inner();
    let page = authorized_page_ref(&state, &auth, &id).await?;
    // Parsed after access is settled: a malformed number is a missing version.
    let n: i64 = n.parse().map_err(|_| ApiError::NotFound("version"))?;
    let version = state
        .store
        .get_page_version(page.id, n)
        .await
        .map_err(|e| ApiError::from_store(e, "version"))?;
    let res = save(&state, page.id, if_match.0, PageInput::from(version)).await?;
    let res = audited(&state, &req, &auth, async {
        let summary = crate::audit::Summary::of(&serde_json::json!({ "version": n }));
        let did = Did::new(
            "page.restore_version",
            Some(page.project_id),
            page.id,
            summary,
        );
        Ok((res, did))
    })
    .await?;
    Ok(res)
}
