//! `GET /api/sync/settings/redis/`: how an edge fetches its cache settings at boot (contract
//! section 5). It hands out a secret, so only a token with the `edge` scope that is limited to
//! one project gets an answer, and only about that project.

use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::Auth;
use crate::api::routes::{resource, Resource, Routes};
use crate::api::AppState;
use crate::domain::settings::RedisType;
use crate::domain::token::Scope;
use actix_web::{web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(r: &mut Routes) {
    r.add(resource![redis_settings])
        // Without the slash too, for edges that drop it; the document lists the contract's path.
        .add(Resource::undocumented("/sync/settings/redis").get(redis_settings));
}

/// The contract's shape, field for field.
#[derive(Debug, Serialize, ToSchema)]
pub struct EdgeRedisSettings {
    pub redis_url: Option<String>,
    /// Upstash: the project's token. Redis over TCP: a token of the built-in proxy that opens
    /// only this project's tenant's keys (never the proxy's own token).
    pub redis_token: Option<String>,
    /// `upstash` or `self-hosted` (edges speak REST).
    pub redis_type: String,
    pub redis_enabled: bool,
    pub cache_ttl_data: i64,
    pub cache_ttl_count: i64,
}

#[utoipa::path(get, operation_id = "getEdgeCacheSettings", summary = "An edge's cache settings, with the real token (edge scope)",
    path = "/api/sync/settings/redis/", tag = "edge",
    responses((status = 200, body = EdgeRedisSettings), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn redis_settings(
    state: web::Data<AppState>,
    auth: Auth,
) -> Result<HttpResponse, ApiError> {
    let project = auth
        .0
        .project_id
        .ok_or_else(|| ApiError::forbidden("an edge token must be limited to one project"))?;
    auth.require(Scope::Edge, Some(project))?;
    let s = state.store.cache_settings(project).await?;
    // A TCP Redis is reached by edges through the Upstash-compatible proxy, when one is
    // published; otherwise the edge gets no cache rather than an address it cannot speak to.
    let (url, token, kind) = match s.redis_type {
        RedisType::Tcp => match (&state.config.proxy_public_url, &state.config.proxy_token) {
            // A token for this project's tenant only: the proxy's own would open every
            // project's keys to this edge.
            (Some(u), Some(t)) => (
                Some(u.clone()),
                Some(crate::proxy::tenant_token(
                    t.expose(),
                    &state
                        .store
                        .get_project(&project.to_string())
                        .await?
                        .tenant_slug,
                )),
                RedisType::SelfHosted,
            ),
            _ => (None, None, RedisType::SelfHosted),
        },
        other => (s.redis_url.clone(), s.redis_token.clone(), other),
    };
    let enabled = s.redis_enabled && url.is_some() && token.is_some();
    Ok(HttpResponse::Ok().json(EdgeRedisSettings {
        redis_url: url,
        redis_token: token,
        redis_type: kind.as_str().to_string(),
        redis_enabled: enabled,
        cache_ttl_data: s.cache_ttl_data,
        cache_ttl_count: s.cache_ttl_count,
    }))
}
