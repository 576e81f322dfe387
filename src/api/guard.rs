//! Requests no route can answer sensibly are refused before routing: a U+0000 in the path or
//! query (Postgres refuses it in text, SQLite would store it) is a 404 or a 400 on both
//! backends alike, never a database error.

use super::error::ApiError;
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::ResponseError;

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
