//! `/api/projects/{project}/settings/cache`: the page cache an edge uses, its "Test
//! connection" button, and flushing a project's keys.

use crate::api::admin::audit;
use crate::api::admin::audit::{audited, Did};
use crate::api::bodies::{CacheSettingsBody, CacheSettingsTest};
use crate::api::content::projects::authorized;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::{Auth, JsonBody, MaybeJson};
use crate::api::routes::{resource, Routes};
use crate::api::AppState;
use crate::audit::Summary;
use crate::cache;
use crate::domain::settings::{CacheSettingsView, Purpose};
use crate::net::probe::{self, TestReport};
use crate::net::{ConnError, ErrorKind};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![get, put])
        .add(resource![test])
        .add(resource![flush]);
}

#[utoipa::path(get, operation_id = "getCacheSettings", summary = "A project's cache settings (secrets masked)",
    path = "/api/projects/{project}/settings/cache", tag = "settings",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = CacheSettingsView, description = "Secrets only as `{set, last4}`"), (status = 404, body = ErrorBody)))]
pub async fn get(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let settings = state.store.cache_settings(project.id).await?;
    Ok(HttpResponse::Ok().json(CacheSettingsView::from(&settings)))
}

/// The saved settings, and whether the cache they name answered just after the save.
#[derive(Debug, Serialize, ToSchema)]
pub struct SavedCacheSettings {
    #[serde(flatten)]
    pub settings: CacheSettingsView,
    /// The connection tried with the saved settings (`null` when no cache URL is set). The
    /// save stands either way: a cache that is down now may be up when a publish needs it.
    pub connection: Option<ConnectionCheck>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ConnectionCheck {
    pub reachable: bool,
    /// Why not, when unreachable: `dns`, `refused`, `timeout`, `tls`, `auth`, …
    pub kind: Option<ErrorKind>,
    pub message: Option<String>,
}

#[utoipa::path(put, operation_id = "updateCacheSettings", summary = "Replace a project's cache settings",
    path = "/api/projects/{project}/settings/cache", tag = "settings", request_body = CacheSettingsBody,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = SavedCacheSettings, description = "Saved; `connection` says whether the cache answered"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another project with the same tenant uses this Redis database (`cache_shared`)"),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<CacheSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let stored = state.store.cache_settings(project.id).await?;
    let settings = body.take_valid(|b| b.0.resolve(&stored, Purpose::Save))?;
    crate::api::access::ensure_own_keys(
        &state,
        project.id,
        &project.tenant_slug,
        &settings,
        "/redis_url",
    )
    .await?;
    let after = audited(&state, &req, &auth, async {
        state
            .store
            .put_cache_settings(project.id, &settings)
            .await?;
        let (before, after) = (
            CacheSettingsView::from(&stored),
            CacheSettingsView::from(&settings),
        );
        let summary = Summary::changes(&before, &after)
            .secret("redis_token", stored.redis_token != settings.redis_token)
            .secret(
                "redis_password",
                stored.redis_password != settings.redis_password,
            );
        let did = Did::new("settings.update", Some(project.id), project.id, summary);
        Ok((after, did))
    })
    .await?;
    let connection = match settings.redis_url {
        Some(_) => {
            let (policy, timeout) = (state.net_policy(), state.test_timeout());
            let report = probe::run(timeout, cache::test(&settings, policy, timeout)).await;
            Some(ConnectionCheck {
                reachable: report.ok,
                kind: report.error.as_ref().map(|e| e.kind),
                message: report.error.map(|e| e.message),
            })
        }
        None => None,
    };
    Ok(HttpResponse::Ok().json(SavedCacheSettings {
        settings: after,
        connection,
    }))
}

/// Tests the form's unsaved values as sent, or the saved settings when the body is empty. A
/// secret left out is taken from the saved settings only while type and address are the
/// saved ones; otherwise the test runs without it (and reports `auth` if the server wants
/// one). Always 200: the outcome is in the report.
#[utoipa::path(post, operation_id = "testCacheSettings", path = "/api/projects/{project}/settings/cache/test", tag = "settings",
    request_body(content = Option<CacheSettingsTest>, description = "Unsaved form values; empty to test the saved settings"),
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<CacheSettingsTest>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let stored = state.store.cache_settings(project.id).await?;
    let settings = match body.take()? {
        Some(input) => input
            .0
            .resolve(&stored, Purpose::Test)
            .map_err(ApiError::Validation)?,
        None => stored,
    };
    let (policy, timeout) = (state.net_policy(), state.test_timeout());
    let report = probe::run(timeout, cache::test(&settings, policy, timeout)).await;
    if let Some(e) = &report.error {
        tracing::info!(kind = ?e.kind, "cache connection test failed");
    }
    Ok(HttpResponse::Ok().json(report))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FlushResult {
    /// Keys removed.
    pub removed: i64,
}

/// Deletes the keys of the project's published pages, its homepage and its tenant's SEO keys
/// (UNLINK by name, never a pattern: nothing else on a shared Redis is touched).
#[utoipa::path(post, operation_id = "flushProjectCache", path = "/api/projects/{project}/cache/flush", tag = "settings",
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = FlushResult), (status = 409, body = ErrorBody, description = "No cache configured"),
        (status = 502, body = ErrorBody, description = "The cache could not be reached")))]
pub async fn flush(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let settings = state.store.cache_settings(project.id).await?;
    if settings.redis_url.is_none() {
        return Err(ApiError::Conflict {
            code: "cache_not_configured",
            message: "this project has no cache configured".into(),
            path: "",
        });
    }
    let slugs = state.store.current_release(project.id).await?;
    let keys = cache::keys::project_keys(
        &project.tenant_slug,
        slugs
            .iter()
            .flat_map(|(_, pages)| pages.iter().map(|p| p.slug.as_str())),
    );
    let timeout = state.test_timeout();
    let work = cache::flush(&settings, &keys, state.net_policy(), timeout);
    let removed = tokio::time::timeout(timeout * 6, work)
        .await
        .unwrap_or_else(|_| {
            Err(ConnError::new(
                ErrorKind::Timeout,
                "the flush did not finish in time",
            ))
        })
        .map_err(ApiError::Upstream)?;
    // Redis is not in the database's transaction: the entry follows the flush, and a failure
    // to write it is the request's error.
    let summary = Summary::of(&serde_json::json!({ "removed": removed }));
    audit::record(
        &req,
        &auth,
        "cache.flush",
        Some(project.id),
        project.id,
        summary,
    )
    .await?;
    Ok(HttpResponse::Ok().json(FlushResult { removed }))
}
