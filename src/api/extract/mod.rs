//! Request extractors: bounded JSON bodies with precise errors, bearer auth, `If-Match`.
//!
//! The order a caller learns things in is fixed: a bad token is a 401 before anything else
//! (the `/api` scope authenticates in [`super::guard::authenticate`]), then a missing scope or
//! a project the token may not see (403/404), and only then is the request's input judged
//! (400/413/422). So body and query extractors never fail: they carry their outcome, and a
//! handler takes it ([`JsonBody::take`], [`Query::take`]) once access is settled.

mod formats;
mod json;
mod plain;

pub use formats::expected_format;

pub use json::{parse_json, parse_json_partial};

use super::error::ApiError;
use super::AppState;
use crate::domain::token::{Principal, Scope};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
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
/// line and column; a body of the wrong shape is a 422 naming the JSON pointer of each field.
pub struct JsonBody<T>(Result<T, (ApiError, Option<T>)>);

impl<T> JsonBody<T> {
    /// The parsed body, or why it could not be read; call it after the access checks.
    pub fn take(self) -> Result<T, ApiError> {
        self.0.map_err(|(e, _)| e)
    }

    /// The body validated by `validate`. When some fields had the wrong type, the rest is
    /// still validated (with stand-ins for the wrong fields), so the 422 lists every failing
    /// field, not only the first kind of problem found.
    pub fn take_valid<U>(
        self,
        validate: impl FnOnce(T) -> Result<U, Vec<crate::domain::FieldError>>,
    ) -> Result<U, ApiError> {
        match self.0 {
            Ok(t) => validate(t).map_err(ApiError::Validation),
            Err((ApiError::Validation(mut fields), Some(partial))) => {
                if let Err(more) = validate(partial) {
                    // A stand-in's own problems are not the caller's: its field is reported.
                    let fresh: Vec<_> = more
                        .into_iter()
                        .filter(|m| {
                            !fields.iter().any(|f| {
                                m.path == f.path || m.path.starts_with(&format!("{}/", f.path))
                            })
                        })
                        .collect();
                    fields.extend(fresh);
                }
                Err(ApiError::Validation(fields))
            }
            Err((e, _)) => Err(e),
        }
    }
}

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
            let parsed = match limit {
                Ok(limit) => match read_limited(payload, limit, declared).await {
                    Ok(body) => parse_json_partial(&body),
                    Err(e) => Err((e, None)),
                },
                Err(e) => Err((e, None)),
            };
            Ok(JsonBody(parsed))
        })
    }
}

/// Like [`JsonBody`], but an empty body is `None` (e.g. "test the saved settings").
pub struct MaybeJson<T>(Result<Option<T>, ApiError>);

impl<T> MaybeJson<T> {
    /// The parsed body (`None` when empty), or why it could not be read; call it after the
    /// access checks.
    pub fn take(self) -> Result<Option<T>, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for MaybeJson<T> {
    type Error = ApiError;
    type Future = Fut<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = state(req).map(|s| s.config.max_body_bytes);
        let payload = payload.take();
        Box::pin(async move {
            let read = async {
                let body = read_limited(payload, limit?, None).await?;
                // No body and a JSON `null` both mean "nothing given"; anything else must parse.
                if body.is_empty() || body.trim_ascii() == b"null" {
                    return Ok(None);
                }
                parse_json(&body).map(Some)
            };
            Ok(MaybeJson(read.await))
        })
    }
}

/// The query string, parsed into `T`; an error names the parameter and is a 400, reported
/// only when the handler takes it.
pub struct Query<T>(Result<T, ApiError>);

impl<T> Query<T> {
    pub fn take(self) -> Result<T, ApiError> {
        self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let raw = form_urlencoded::parse(req.query_string().as_bytes());
        let parsed = serde_path_to_error::deserialize(serde_urlencoded::Deserializer::new(raw))
            .map_err(|e| {
                let name = e.path().to_string();
                let problem = e.inner().to_string();
                let expected = expected_format(&problem);
                let message = match expected {
                    Some(format) => {
                        format!("query parameter `{name}`: {problem}; expected {format}")
                    }
                    None => format!("query parameter `{name}`: {problem}"),
                };
                ApiError::BadRequest {
                    code: "bad_query",
                    message,
                    details: serde_json::json!({ "parameter": name, "expected": expected }),
                }
            });
        std::future::ready(Ok(Query(parsed)))
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
        // The `/api` scope's middleware has already authenticated the request.
        if let Some(p) = req.extensions().get::<Principal>() {
            return Box::pin(std::future::ready(Ok(Auth(p.clone()))));
        }
        let state = state(req);
        let secret = bearer(req);
        Box::pin(async move { authenticate(&*state?, secret).await.map(Auth) })
    }
}

/// The bearer secret of a request, if it has one.
pub fn bearer(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(|v| v.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Resolves a bearer secret to its principal: none, unknown or revoked is a 401.
pub async fn authenticate(state: &AppState, secret: Option<String>) -> Result<Principal, ApiError> {
    let secret = secret.ok_or(ApiError::Unauthorized)?;
    state
        .store
        .authenticate(&secret)
        .await?
        .ok_or(ApiError::Unauthorized)
}

impl Auth {
    /// 403 unless the token has `scope`: checked before any lookup, so the answer says
    /// nothing about what exists.
    pub fn require_scope(&self, scope: Scope) -> Result<(), ApiError> {
        if self.0.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "this token lacks the `{scope}` scope"
            )))
        }
    }

    /// Whether the token may see `project` (it is not limited to another one).
    pub fn sees(&self, project: Uuid) -> bool {
        self.0.project_id.is_none_or(|mine| mine == project)
    }

    /// Requires `scope`, and when `project` is given, that the token may see it: a project
    /// the token may not see is a 404, exactly as if it did not exist. `None` is an operation
    /// on no single project, which a project-limited token may not do.
    pub fn require(&self, scope: Scope, project: Option<Uuid>) -> Result<(), ApiError> {
        self.require_scope(scope)?;
        match project {
            Some(p) if !self.sees(p) => Err(ApiError::NotFound("project")),
            Some(_) => Ok(()),
            None if self.0.project_id.is_some() => Err(ApiError::forbidden(
                "this token is limited to one project; this operation spans projects",
            )),
            None => Ok(()),
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
