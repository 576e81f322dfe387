//! Request extractors: bounded JSON bodies with precise errors, bearer auth, `If-Match`.

use super::error::ApiError;
use super::AppState;
use crate::domain::token::{Principal, Scope};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
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

pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest {
            code: "malformed_json",
            message: "the request body is empty; a JSON document was expected".into(),
            details: json!({ "line": 1, "column": 0 }),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: Value = serde::Deserialize::deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|inner| malformed(&inner))?;
    // Every body this API takes is an object; serde would also read a struct from an array.
    if !value.is_object() {
        return Err(ApiError::Validation(vec![crate::domain::FieldError {
            path: String::new(),
            code: "invalid_type",
            message: "the body must be a JSON object".into(),
        }]));
    }
    let mut problems = Vec::new();
    storable(&value, &mut String::new(), &mut problems);
    if !problems.is_empty() {
        return Err(ApiError::Validation(problems));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.inner();
        {
            let path = pointer(e.path(), &inner.to_string());
            let message = strip_position(&inner.to_string());
            ApiError::Validation(vec![crate::domain::FieldError {
                path,
                code: "invalid_type",
                message,
            }])
        }
    })
}

fn malformed(inner: &serde_json::Error) -> ApiError {
    ApiError::BadRequest {
        code: "malformed_json",
        message: format!(
            "malformed JSON at line {} column {}: {}",
            inner.line(),
            inner.column(),
            strip_position(&inner.to_string())
        ),
        details: json!({ "line": inner.line(), "column": inner.column() }),
    }
}

/// Numbers beyond this cannot be stored by every backend and read back unchanged.
const MAX_NUMBER: f64 = 1e300;

/// What both databases can store and give back unchanged: no U+0000 in any string or key
/// (Postgres refuses it in text and JSON), no number beyond ±1e300. Every problem is
/// reported with its JSON pointer.
fn storable(v: &Value, path: &mut String, out: &mut Vec<crate::domain::FieldError>) {
    const MAX_REPORTED: usize = 20;
    if out.len() >= MAX_REPORTED {
        return;
    }
    fn push(
        out: &mut Vec<crate::domain::FieldError>,
        path: &str,
        code: &'static str,
        message: &str,
    ) {
        out.push(crate::domain::FieldError {
            path: path.to_string(),
            code,
            message: message.into(),
        })
    }
    match v {
        Value::String(s) if s.contains('\0') => {
            push(out, path, "nul_character", "text may not contain U+0000")
        }
        Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() > MAX_NUMBER) => push(
            out,
            path,
            "number_out_of_range",
            "numbers must lie within ±1e300",
        ),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                storable(item, path, out);
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let len = path.len();
                path.push('/');
                path.push_str(&k.replace('~', "~0").replace('/', "~1"));
                if k.contains('\0') {
                    push(out, path, "nul_character", "keys may not contain U+0000");
                }
                storable(item, path, out);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

/// serde reports a missing field on the parent object; point at the field itself.
fn pointer(path: &serde_path_to_error::Path, message: &str) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    for prefix in ["missing field `"] {
        if let Some(rest) = message.strip_prefix(prefix) {
            if let Some(field) = rest.split('`').next() {
                out.push('/');
                out.push_str(field);
            }
        }
    }
    out
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
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

    #[test]
    fn json_errors_say_where() {
        let e = parse_json::<serde_json::Value>(b"{\n  \"a\": tru }").unwrap_err();
        assert!(matches!(e, ApiError::BadRequest { .. }));
        assert!(e.to_string().contains("line 2"), "{e}");
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            name: String,
            items: Vec<u8>,
        }
        match parse_json::<S>(br#"{"name": "x", "items": [1, "two"]}"#).unwrap_err() {
            ApiError::Validation(f) => assert_eq!(f[0].path, "/items/1"),
            other => panic!("{other:?}"),
        }
        match parse_json::<S>(br#"{"items": []}"#).unwrap_err() {
            ApiError::Validation(f) => assert_eq!(f[0].path, "/name"),
            other => panic!("{other:?}"),
        }
        // Trailing data is malformed JSON, like any other.
        for body in [
            &br#"{"name": "x", "items": []} xx"#[..],
            br#"{"name": "x", "items": []}{}"#,
        ] {
            assert!(matches!(
                parse_json::<S>(body).unwrap_err(),
                ApiError::BadRequest { .. }
            ));
        }
        // What one backend cannot store is refused on both, naming the field.
        match parse_json::<serde_json::Value>(
            br#"{"a": {"b\u0000": ["ok", "x\u0000y"]}, "n": 1.7976931348623157e308}"#,
        )
        .unwrap_err()
        {
            ApiError::Validation(f) => {
                let paths: Vec<&str> = f.iter().map(|e| e.path.as_str()).collect();
                assert_eq!(paths, ["/a/b\u{0}", "/a/b\u{0}/1", "/n"]);
            }
            other => panic!("{other:?}"),
        }
    }
}
