//! `/api/projects/{project}/settings/cache`: the page cache an edge uses, its "Test
//! connection" button, and flushing a project's keys.

use super::audit;
use super::error::{ApiError, ErrorBody};
use super::extract::{Auth, JsonBody, MaybeJson};
use super::projects::authorized;
use super::AppState;
use crate::audit::Summary;
use crate::cache;
use crate::domain::settings::{CacheSettingsInput, CacheSettingsView};
use crate::net::probe::{self, TestReport};
use crate::net::{ConnError, ErrorKind};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/projects/{project}/settings/cache")
            .get(get)
            .put(put),
    )
    .service(web::resource("/projects/{project}/settings/cache/test").post(test))
    .service(web::resource("/projects/{project}/cache/flush").post(flush));
}

#[utoipa::path(get, path = "/api/projects/{project}/settings/cache", tag = "settings",
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

/// 409 when `settings` would put this project's page keys where another project with the
/// same tenant keeps its own (same Redis database after normalising): each would overwrite
/// the other's pages, and one's flush would remove the other's keys.
pub async fn ensure_own_keys(
    state: &AppState,
    project: uuid::Uuid,
    tenant: &str,
    settings: &crate::domain::settings::CacheSettings,
    path: &'static str,
) -> Result<(), ApiError> {
    let mine = settings.keyspaces();
    if mine.is_empty() {
        return Ok(());
    }
    let others = state.store.other_cache_addresses(project).await?;
    let shared = others.iter().any(|(t, kind, url, master)| {
        t == tenant
            && crate::domain::redis_url::keyspaces(kind.is_rest(), url, master.as_deref())
                .iter()
                .any(|k| mine.contains(k))
    });
    if shared {
        return Err(ApiError::Conflict {
            code: "cache_shared",
            message: format!(
                "another project keeps its page keys in this Redis database with the same tenant \
                 (`{tenant}`): their pages would overwrite each other. Give this project its own \
                 tenant_slug, or use another database (e.g. redis://host:6379/1)"
            ),
            path,
        });
    }
    Ok(())
}

#[utoipa::path(put, path = "/api/projects/{project}/settings/cache", tag = "settings", request_body = CacheSettingsInput,
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = CacheSettingsView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "Another project with the same tenant uses this Redis database (`cache_shared`)"),
        (status = 422, body = ErrorBody)))]
pub async fn put(
    state: web::Data<AppState>,
    req: HttpRequest,
    auth: Auth,
    path: web::Path<String>,
    body: JsonBody<CacheSettingsInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let stored = state.store.cache_settings(project.id).await?;
    let settings = body
        .take()?
        .resolve(&stored)
        .map_err(ApiError::Validation)?;
    ensure_own_keys(
        &state,
        project.id,
        &project.tenant_slug,
        &settings,
        "/redis_url",
    )
    .await?;
    let after = state
        .store
        .atomic(async {
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
            audit::record(
                &req,
                &auth,
                "settings.update",
                Some(project.id),
                project.id,
                summary,
            )
            .await?;
            Ok::<_, ApiError>(after)
        })
        .await?;
    Ok(HttpResponse::Ok().json(after))
}

/// Tests the form's unsaved values (a secret left out is taken from the saved settings), or
/// the saved settings when the body is empty. Always 200: the outcome is in the report.
#[utoipa::path(post, path = "/api/projects/{project}/settings/cache/test", tag = "settings",
    request_body(content = Option<CacheSettingsInput>, description = "Unsaved form values; empty to test the saved settings"),
    params(("project" = String, Path, description = "Project UUID or slug")),
    responses((status = 200, body = TestReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn test(
    state: web::Data<AppState>,
    auth: Auth,
    path: web::Path<String>,
    body: MaybeJson<CacheSettingsInput>,
) -> Result<HttpResponse, ApiError> {
    let project = authorized(&state, &auth, &path).await?;
    let stored = state.store.cache_settings(project.id).await?;
    let settings = match body.take()? {
        Some(input) => input.resolve(&stored).map_err(ApiError::Validation)?,
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
#[utoipa::path(post, path = "/api/projects/{project}/cache/flush", tag = "settings",
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
