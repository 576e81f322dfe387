//! What is settled before routing: a U+0000 in the path or query (Postgres refuses it in text,
//! SQLite would store it) is a 404 or a 400 on both backends alike, never a database error;
//! and every `/api` request is authenticated first.

use super::error::ApiError;
use super::extract::{authenticate as authenticate_bearer, bearer};
use super::AppState;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, HttpMessage, ResponseError};

fn has_nul(raw: &str) -> bool {
    raw.to_ascii_lowercase().contains("%00")
}

pub async fn refuse_nul(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let refused = if has_nul(req.path()) {
        Some(ApiError::NotFound("resource"))
    } else if has_nul(req.query_string()) {
        Some(ApiError::BadRequest {
            code: "bad_query",
            message: "the query string may not contain U+0000".into(),
            details: serde_json::Value::Null,
        })
    } else {
        None
    };
    match refused {
        Some(e) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, e.error_response()).map_into_right_body())
        }
        None => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body),
    }
}

/// Authenticates every `/api` request before routing, parsing or reading anything else: a
/// missing, unknown or revoked token is a 401 whatever the path, query or body. The signed
/// publish webhook authenticates by its signature instead, so it is let through.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if req.path().starts_with(SIGNED_HOOKS) {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_left_body);
    }
    let outcome = match req.app_data::<web::Data<AppState>>() {
        Some(state) => authenticate_bearer(state, bearer(req.request())).await,
        None => Err(ApiError::internal("application state missing")),
    };
    match outcome {
        Ok(principal) => {
            req.extensions_mut().insert(principal);
            next.call(req)
                .await
                .map(ServiceResponse::map_into_left_body)
        }
        Err(e) => {
            let (req, _) = req.into_parts();
            Ok(ServiceResponse::new(req, e.error_response()).map_into_right_body())
        }
    }
}

/// Routes under `/api` that carry a signature instead of a bearer token.
const SIGNED_HOOKS: &str = "/api/hooks/";
