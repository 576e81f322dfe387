//! Rate limits as HTTP: a handler calls [`check`] once it knows the project (and the token),
//! so a request that fails authentication never spends a project's budget; over the limit
//! is a 429 `rate_limited` with `Retry-After`, and every answer of a limited route carries
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` (seconds).

use super::error::ApiError;
use super::AppState;
use crate::ratelimit::{Backend, RateLimiter};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

/// The operations that are limited, as the OpenAPI document names them.
pub const LIMITED: [&str; 8] = [
    "/api/projects/{project}/publish",
    "/api/pages/{id}/publish",
    "/api/pages/{id}/unpublish",
    "/api/hooks/publish/{project}",
    "/api/pages/{id}/preview",
    "/api/publish-jobs/{id}/retry",
    "/api/releases/{id}/rollback",
    "/api/projects/{project}/drift/repair",
];

/// The `RateLimit-*` headers of an allowed request, to put on its response.
#[derive(Debug, Default)]
pub struct Quota(Vec<(&'static str, String)>);

impl Quota {
    pub fn apply(self, mut res: HttpResponse) -> HttpResponse {
        for (name, value) in self.0 {
            if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&value) {
                res.headers_mut()
                    .insert(actix_web::http::header::HeaderName::from_static(name), v);
            }
        }
        res
    }
}

/// Counts this request against `project` (and `token`, when there is one): the headers for
/// the response, or a 429.
pub async fn check(
    state: &AppState,
    req: &HttpRequest,
    project: Uuid,
    token: Option<Uuid>,
) -> Result<Quota, ApiError> {
    let Some(limiter) = req
        .app_data::<web::Data<RateLimiter>>()
        .filter(|l| l.enabled())
    else {
        return Ok(Quota::default());
    };
    let settings = state.store.cache_settings(project).await?;
    let now_ms = state.store.now().timestamp_millis();
    let Some(d) = limiter.check(project, token, Some(&settings), now_ms).await else {
        return Ok(Quota::default());
    };
    let v = d.verdict;
    let mut headers = vec![
        ("ratelimit-limit", v.limit.to_string()),
        ("ratelimit-remaining", v.remaining.to_string()),
        ("ratelimit-reset", v.reset_secs.to_string()),
        ("ratelimit-policy", format!("{};w=60", v.limit)),
    ];
    if v.allowed {
        return Ok(Quota(headers));
    }
    tracing::info!(project_id = %project, scope = d.scope, backend = ?d.backend, "rate limited");
    headers.push(("retry-after", v.retry_after_secs.to_string()));
    Err(ApiError::RateLimited {
        message: format!(
            "too many requests for this {} (at most {} a minute); retry in {} s",
            d.scope, v.limit, v.retry_after_secs
        ),
        details: json!({
            "scope": d.scope,
            "limit": v.limit,
            "retry_after_secs": v.retry_after_secs,
            "counted_in": match d.backend { Backend::Redis => "redis", Backend::Memory => "memory" },
        }),
        headers,
    })
}

/// Documents the 429 (and its headers) on every limited operation.
pub struct RateLimitDocs;

impl utoipa::Modify for RateLimitDocs {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::header::HeaderBuilder;
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let int = |d: &str| {
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::Integer))
                .description(Some(d.to_string()))
                .build()
        };
        let response = ResponseBuilder::new()
            .description(
                "Over a rate limit (per project, or per token within a project): `rate_limited`",
            )
            .header(
                "Retry-After",
                int("Seconds until a request will be allowed again"),
            )
            .header(
                "RateLimit-Limit",
                int("Requests allowed per minute for the tighter key"),
            )
            .header(
                "RateLimit-Remaining",
                int("Requests left in the current window"),
            )
            .header(
                "RateLimit-Reset",
                int("Seconds until the current window ends"),
            )
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        for path in LIMITED {
            if let Some(op) = openapi
                .paths
                .paths
                .get_mut(path)
                .and_then(|item| item.post.as_mut())
            {
                op.responses
                    .responses
                    .insert("429".into(), RefOr::T(response.clone()));
            }
        }
    }
}
