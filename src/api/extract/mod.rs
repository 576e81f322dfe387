//! Request extractors: bounded JSON bodies with precise errors, bearer auth, `If-Match`.

mod json;

pub use json::parse_json;

use super::error::ApiError;
use super::AppState;
use crate::domain::token::{Principal, Scope};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use uuid::Uuid;

type Fut<T> = Pin<Box<dyn Future<Output = Result<T, ApiError>>>>;

fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::internal("application state missing"))
}

/// A JSON body read up to the configured limit (413 beyond it). Syntax errors are a 400 with
/// line and column; a body of the wrong shape is a 422 naming the JSON pointer of the field.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = state(req).map(|s| s.config.max_body_bytes);
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let payload = payload.take();
        Box::pin(async move {
            parse_json(&read_limited(payload, limit?, declared).await?).map(JsonBody)
        })
    }
}

/// Like [`JsonBody`], but an empty body is `None` (e.g. "test the saved settings").
pub struct MaybeJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJson<T> {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = state(req).map(|s| s.config.max_body_bytes);
        let payload = payload.take();
        Box::pin(async move {
            let body = read_limited(payload, limit?, None).await?;
            // No body and a JSON `null` both mean "nothing given"; anything else must parse.
            if body.is_empty() || body.trim_ascii() == b"null" {
                return Ok(MaybeJson(None));
            }
            parse_json(&body).map(|v| MaybeJson(Some(v)))
        })
    }
}

/// The raw request body, at most [`HOOK_BODY_LIMIT`] bytes (a webhook's signature covers the
/// exact bytes, so they are kept as sent).
pub struct RawBody(pub web::Bytes);

/// Largest webhook body: a publish request is small.
pub const HOOK_BODY_LIMIT: usize = 64 * 1024;

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let payload = payload.take();
        Box::pin(async move {
            let body = read_limited(payload, HOOK_BODY_LIMIT, declared).await?;
            Ok(RawBody(body.freeze()))
        })
    }
}

async fn read_limited(
    mut payload: Payload,
    limit: usize,
    declared: Option<usize>,
) -> Result<web::BytesMut, ApiError> {
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "bad_body",
            message: format!("could not read the request body: {e}"),
            details: serde_json::Value::Null,
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The caller, authenticated by `Authorization: Bearer <token>`.
pub struct Auth(pub Principal);

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        let secret = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|v| v.trim().to_string());
        Box::pin(async move {
            let state = state?;
            let secret = secret
                .filter(|s| !s.is_empty())
                .ok_or(ApiError::Unauthorized)?;
            match state.store.authenticate(&secret).await? {
                Some(p) => Ok(Auth(p)),
                None => Err(ApiError::Unauthorized),
            }
        })
    }
}

impl Auth {
    /// Requires `scope`, and when `project` is given, that the token is not limited to
    /// another project.
    pub fn require(&self, scope: Scope, project: Option<Uuid>) -> Result<(), ApiError> {
        if !self.0.scopes.contains(&scope) {
            return Err(ApiError::forbidden(format!(
                "this token lacks the `{scope}` scope"
            )));
        }
        match (self.0.project_id, project) {
            (Some(mine), Some(wanted)) if mine != wanted => Err(ApiError::forbidden(
                "this token is limited to another project",
            )),
            (Some(_), None) => Err(ApiError::forbidden("this token is limited to one project")),
            _ => Ok(()),
        }
    }

    /// The project a listing must be limited to, after checking the scope.
    pub fn list_scope(&self, scope: Scope) -> Result<Option<Uuid>, ApiError> {
        if !self.0.scopes.contains(&scope) {
            return Err(ApiError::forbidden(format!(
                "this token lacks the `{scope}` scope"
            )));
        }
        Ok(self.0.project_id)
    }
}

/// `If-Match`: absent (`None`), `*`, or one ETag such as `"7"` (weak `W/"7"` accepted).
/// An ETag that is not one of ours can never match, so it yields a version no page has.
pub struct IfMatch(pub Option<i64>);

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let value = req
            .headers()
            .get(header::IF_MATCH)
            .map(|v| v.to_str().unwrap_or_default().trim().to_string());
        std::future::ready(Ok(IfMatch(value.and_then(|v| parse_etag(&v)))))
    }
}

fn parse_etag(v: &str) -> Option<i64> {
    if v == "*" {
        return None;
    }
    let v = v.strip_prefix("W/").unwrap_or(v).trim_matches('"');
    Some(v.parse().unwrap_or(-1))
}

pub fn etag(version: i64) -> (header::HeaderName, String) {
    (header::ETAG, format!("\"{version}\""))
}

/// Offset pagination from the query string.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PageQuery {
    /// Items per page, 1–500 (default 50).
    pub limit: Option<i64>,
    /// Items to skip (default 0).
    pub offset: Option<i64>,
}

impl PageQuery {
    pub fn window(&self) -> crate::store::Window {
        crate::store::Window {
            limit: self.limit.unwrap_or(50).clamp(1, 500),
            offset: self.offset.unwrap_or(0).max(0),
        }
    }
}

/// A path segment that must be a UUID; anything else cannot name a row, so it is a 404.
pub fn uuid_or_404(raw: &str, resource: &'static str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound(resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"3\""), Some(3));
        assert_eq!(parse_etag("*"), None);
        assert_eq!(parse_etag("\"abc\""), Some(-1));
    }
}
