//! Preview links: `POST /api/pages/{id}/preview` compiles the current draft and answers a
//! link with an unguessable token; `GET /preview/{token}` (no bearer token) serves the
//! compiled page until the link expires or is revoked. Logic lives in `crate::preview`.

use crate::api::access::{load, Need};
use crate::api::admin::audit::{audited, Did};
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, MaybeJson, PageQuery, Query};
use crate::api::routes::{resource, Routes};
use crate::api::{AppState, Paginated};
use crate::cache::pool::ClientPool;
use crate::domain::page::Page;
use crate::domain::FieldError;
use crate::preview::{PreviewError, DEFAULT_TTL_SECS, MAX_TTL_SECS};
use crate::store::previews::PreviewView;
use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub fn routes(r: &mut Routes) {
    r.add(resource![create])
        .add(resource![list_for_page])
        .add(resource![list_for_project])
        .add(resource![revoke]);
}

/// Routes outside `/api` (no bearer token).
pub fn public_routes(r: &mut Routes) {
    r.add(resource![open]);
}

impl crate::api::access::Owned for PreviewView {
    fn project_id(&self) -> Uuid {
        self.project_id
    }
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// How long the link works, in seconds: 1 to 604800 (7 days); default 3600.
    #[serde(default, deserialize_with = "crate::domain::opt_integral")]
    #[schema(minimum = 1, maximum = 604800)]
    pub ttl_secs: Option<i64>,
}

/// A new link. The token is shown this once; only its hash is stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedPreview {
    #[serde(flatten)]
    pub preview: PreviewView,
    /// `pv_` + 64 hex digits.
    pub token: String,
    /// `/preview/{token}` on this server.
    pub path: String,
    /// The same, absolute, as this request reached the server.
    pub url: String,
    /// Warnings of the compile (a draft with errors gets a 422 instead).
    #[schema(value_type = Vec<Object>)]
    pub warnings: Vec<serde_json::Value>,
}

fn map_err(e: PreviewError) -> ApiError {
    match e {
        PreviewError::Store(e) => ApiError::from_store(e, "preview"),
        PreviewError::Publish(e) => e.into(),
        PreviewError::PageGone => ApiError::NotFound("page"),
        PreviewError::Unavailable(e) => ApiError::Upstream(e),
        PreviewError::Compile(diags) => ApiError::Validation(
            diags
                .into_iter()
                .map(|d| FieldError {
                    path: d.pointer,
                    code: d.code.as_str(),
                    message: d.message,
                })
                .collect(),
        ),
    }
}

async fn live_page(state: &AppState, auth: &Auth, id: &str) -> Result<Page, ApiError> {
    let page = load(auth, Need::Publish, "page", id, |id| {
        state.store.get_page(id)
    })
    .await?;
    if page.deleted_at.is_some() {
        return Err(ApiError::NotFound("page"));
    }
    Ok(page)
}

/// Compiles the page's current draft (as a publish would, nothing published) and stores it
/// for `ttl_secs`: in the project's Redis when it has a cache (falling back to the database
/// when that Redis is down), otherwise in the database. Compile errors → 422 listing them.
#[utoipa::path(post, operation_id = "createPagePreview", path = "/api/pages/{id}/preview", tag = "previews",
    params(("id" = Uuid, Path)), request_body(content = Option<PreviewBody>),
    responses((status = 201, body = CreatedPreview, description = "The link; its token is shown once"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody, description = "Bad `ttl_secs`, or the draft has compile errors")))]
pub async fn create(
    state: web::Data<AppState>,
    clients: web::Data<ClientPool>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<PreviewBody>,
) -> Result<HttpResponse, ApiError> {
    let page = live_page(&state, &auth, &path).await?;
    let quota =
        crate::api::limits::check(&state, &req, page.project_id, Some(auth.0.token_id)).await?;
    let ttl = body
        .take()?
        .unwrap_or_default()
        .ttl_secs
        .unwrap_or(DEFAULT_TTL_SECS as i64);
    let ttl = u64::try_from(ttl)
        .ok()
        .filter(|t| (1..=MAX_TTL_SECS).contains(t))
        .ok_or_else(|| {
            ApiError::Validation(vec![FieldError {
                path: "/ttl_secs".into(),
                code: "out_of_range",
                message: format!("must be between 1 and {MAX_TTL_SECS} seconds (7 days)"),
            }])
        })?;
    let project = state
        .store
        .get_project(&page.project_id.to_string())
        .await
        .map_err(|e| ApiError::from_store(e, "project"))?;
    let body = audited(&state, &req, &auth, async {
        let created = crate::preview::create(
            &state.publish,
            &clients,
            &project,
            &page,
            ttl,
            Some(auth.0.token_id),
        )
        .await
        .map_err(map_err)?;
        let path = format!("/preview/{}", created.token);
        let url = {
            let info = req.connection_info();
            format!("{}://{}{path}", info.scheme(), info.host())
        };
        let body = CreatedPreview {
            preview: created.view,
            token: created.token,
            url,
            path,
            warnings: created
                .warnings
                .iter()
                .filter_map(|d| serde_json::to_value(d).ok())
                .collect(),
        };
        let summary = crate::audit::Summary::of(&body.preview);
        let did = Did::new("preview.create", Some(project.id), body.preview.id, summary);
        Ok((body, did))
    })
    .await?;
    Ok(quota.apply(HttpResponse::Created().json(body)))
}

/// The compiled page (contract JSON, `version` = the draft's version, `publishedAt` = when
/// the link was made). Unknown, expired and revoked tokens get the same 404.
#[utoipa::path(get, operation_id = "getPreviewPage", path = "/preview/{token}", tag = "previews", security(()),
    params(("token" = String, Path, description = "The `pv_…` token of a preview link")),
    responses((status = 200, description = "The compiled page", body = Object),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody, description = "The project's Redis holding the page cannot be reached")))]
pub async fn open(
    state: web::Data<AppState>,
    clients: web::Data<ClientPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let body = crate::preview::open(&state.store, &clients, &path)
        .await
        .map_err(map_err)?
        .ok_or(ApiError::NotFound("preview"))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header(("x-robots-tag", "noindex"))
        .body(body))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PreviewListQuery {
    /// Only this page's links.
    pub page: Option<Uuid>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Live links (not expired, not revoked), newest first. Never their tokens.
#[utoipa::path(get, operation_id = "listProjectPreviews", path = "/api/projects/{project}/previews", tag = "previews",
    params(("project" = String, Path, description = "Project UUID or slug"), PreviewListQuery),
    responses((status = 200, body = Paginated<PreviewView>), (status = 404, body = ErrorBody)))]
pub async fn list_for_project(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PreviewListQuery>,
) -> Result<HttpResponse, ApiError> {
    let project = crate::api::access::project(&state, &auth, Need::Publish, &path).await?;
    let q = q.take()?;
    let w = PageQuery {
        limit: q.limit,
        offset: q.offset,
    }
    .window();
    let (items, total) = state.store.list_previews(project.id, q.page, w).await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

/// A page's live links, newest first.
#[utoipa::path(get, operation_id = "listPagePreviews", path = "/api/pages/{id}/previews", tag = "previews",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<PreviewView>), (status = 404, body = ErrorBody)))]
pub async fn list_for_page(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    q: Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = load(&auth, Need::Publish, "page", &path, |id| {
        state.store.get_page(id)
    })
    .await?;
    let w = q.take()?.window();
    let (items, total) = state
        .store
        .list_previews(page.project_id, Some(page.id), w)
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::new(items, total, w)))
}

/// Ends a link at once (also its copy in Redis).
#[utoipa::path(delete, operation_id = "deletePreview", path = "/api/previews/{id}", tag = "previews", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody)))]
pub async fn revoke(
    state: web::Data<AppState>,
    clients: web::Data<ClientPool>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = load(&auth, Need::Publish, "preview", &path, |id| {
        state.store.get_preview(id)
    })
    .await?;
    audited(&state, &req, &auth, async {
        crate::preview::revoke(&state.store, &clients, view.id)
            .await
            .map_err(map_err)?;
        let none = crate::audit::Summary::none();
        let did = Did::new("preview.revoke", Some(view.project_id), view.id, none);
        Ok(((), did))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
