//! The one error shape every API response uses: `{ "error": { "code", "message", "details" } }`.
//!
//! Only deliberate errors reach a client. Anything unexpected becomes an opaque 500 whose
//! detail is logged inside the request's span (so it carries the request id).

use crate::domain::FieldError;
use crate::store::{Conflict, StoreError};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("missing or invalid bearer token")]
    Unauthorized,
    /// A webhook whose signature, timestamp or project did not check out (one answer for all,
    /// so a sender learns nothing about which part was wrong).
    #[error("the webhook could not be verified")]
    WebhookRefused,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        path: &'static str,
    },
    /// A conflict whose details say how to resolve it (e.g. the ids to choose from).
    #[error("{message}")]
    ConflictWith {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("the resource changed since it was read (current version {current})")]
    PreconditionFailed { current: i64 },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("{0}")]
    Upstream(crate::net::ConnError),
    /// A stored secret cannot be opened with the keys this process has.
    #[error("a stored secret cannot be opened: this process lacks the key that sealed it; give every replica the same EDGEPUB_SECRET_KEY")]
    SecretUnavailable,
    /// Over a rate limit: `headers` carry `Retry-After` and `RateLimit-*`.
    #[error("{message}")]
    RateLimited {
        message: String,
        details: Value,
        headers: Vec<(&'static str, String)>,
    },
    /// The database is out of reach for now (see `StoreError::Unavailable`): a 503 with
    /// `Retry-After`, so clients and load balancers can tell "retry shortly" from a bug.
    #[error("the database is unavailable; retry shortly")]
    DatabaseUnavailable,
    #[error("internal error")]
    Internal(String),
}

/// Seconds a client is asked to wait after a 503 `database_unavailable`.
const DATABASE_RETRY_AFTER_SECS: &str = "2";

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable code such as `not_found` or `validation_failed`.
    pub code: String,
    pub message: String,
    /// Error-specific data: failing fields, the current version, a parse position; `null`
    /// when there is nothing more to say.
    #[schema(value_type = Option<Object>)]
    pub details: Value,
}

impl ApiError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        ApiError::Internal(e.to_string())
    }

    pub fn forbidden(m: impl Into<String>) -> Self {
        ApiError::Forbidden(m.into())
    }

    /// Maps a store error, naming the resource a `NotFound` is about.
    pub fn from_store(e: StoreError, resource: &'static str) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound(resource),
            StoreError::VersionMismatch { current } => ApiError::PreconditionFailed { current },
            StoreError::Conflict(c) => conflict(c),
            StoreError::Secret(e) => {
                tracing::error!(error = %e, "a stored secret could not be opened");
                ApiError::SecretUnavailable
            }
            StoreError::Unavailable(e) => {
                tracing::warn!(error = %e, "the database is unavailable");
                ApiError::DatabaseUnavailable
            }
            other => ApiError::Internal(other.to_string()),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::ConflictWith { code, .. } => code,
            ApiError::Unauthorized | ApiError::WebhookRefused => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::PreconditionFailed { .. } => "precondition_failed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::Validation(_) => "validation_failed",
            ApiError::Upstream(_) => "upstream_unavailable",
            ApiError::SecretUnavailable => "secret_key_unavailable",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::DatabaseUnavailable => "database_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::BadRequest { details, .. }
            | ApiError::RateLimited { details, .. }
            | ApiError::ConflictWith { details, .. } => details.clone(),
            ApiError::Conflict { path, .. } => json!({ "path": path }),
            ApiError::PreconditionFailed { current } => json!({ "current_version": current }),
            ApiError::PayloadTooLarge { limit } => json!({ "limit_bytes": limit }),
            ApiError::Validation(fields) => json!({ "fields": fields }),
            ApiError::Upstream(e) => json!({ "kind": e.kind }),
            _ => Value::Null,
        }
    }
}

fn conflict(c: Conflict) -> ApiError {
    let (code, message, path) = match c {
        Conflict::ProjectSlug => (
            "slug_taken",
            "another project already has this slug",
            "/slug",
        ),
        Conflict::PageSlug => (
            "slug_taken",
            "another live page of this project already has this slug",
            "/slug",
        ),
        Conflict::DatasourceName => (
            "name_taken",
            "this project already has a datasource with this name",
            "/name",
        ),
        Conflict::TargetName => (
            "name_taken",
            "this project already has a target with this name",
            "/name",
        ),
        Conflict::Homepage => (
            "homepage_taken",
            "this project already has a homepage",
            "/is_homepage",
        ),
        Conflict::Other => ("conflict", "the change conflicts with existing data", ""),
    };
    ApiError::Conflict {
        code,
        message: message.into(),
        path,
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::from_store(e, "resource")
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized | ApiError::WebhookRefused => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } | ApiError::ConflictWith { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::SecretUnavailable | ApiError::DatabaseUnavailable => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(detail) = self {
            tracing::error!(error = %detail, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.to_string(),
                details: self.details(),
            },
        };
        let mut res = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unauthorized) {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if matches!(self, ApiError::DatabaseUnavailable) {
            res.insert_header((header::RETRY_AFTER, DATABASE_RETRY_AFTER_SECS));
        }
        if let ApiError::RateLimited { headers, .. } = self {
            for (name, value) in headers {
                res.insert_header((*name, value.as_str()));
            }
        }
        res.json(body)
    }
}

impl From<crate::publish::PublishError> for ApiError {
    fn from(e: crate::publish::PublishError) -> Self {
        match e {
            crate::publish::PublishError::Store(e) => e.into(),
            other => ApiError::internal(other),
        }
    }
}
