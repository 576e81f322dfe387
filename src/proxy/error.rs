//! Errors of the proxy and how each one is answered over HTTP.
//!
//! Every answer is a JSON object `{"error": "..."}`, because the `@upstash/redis` SDK parses
//! the body of a failed request as JSON and shows its `error` field; a plain-text body would
//! surface as a confusing JSON parse error on the client instead of the real cause.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Everything that can go wrong while building or serving the proxy.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The configuration cannot work (empty token, unparsable Redis URL, ...).
    #[error("invalid proxy configuration: {0}")]
    Config(String),
    /// Binding or starting the HTTP server failed.
    #[error("proxy server I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Missing or wrong token. The message is fixed so it reveals nothing.
    #[error("Unauthorized")]
    Unauthorized,
    /// The request itself is wrong: malformed JSON, refused command, limit exceeded.
    #[error("{0}")]
    BadRequest(String),
    /// The body is larger than the configured limit.
    #[error("request body exceeds the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The configured limit, so the client knows how far to cut.
        limit: usize,
    },
    /// Redis answered the command with an error reply (`ERR ...`, `WRONGTYPE ...`).
    #[error("{0}")]
    Command(String),
    /// Redis could not be reached or stopped answering; the text is already redacted.
    #[error("redis unavailable: {0}")]
    Unavailable(String),
    /// No route for this method and path.
    #[error("method not allowed")]
    MethodNotAllowed,
}

impl ResponseError for ProxyError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) | Self::Command(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            // A dead backend is a gateway failure, not a fault of this server or the client.
            Self::Unavailable(_) => StatusCode::BAD_GATEWAY,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Config(_) | Self::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            // Build-time errors should never be served, but if one is, keep details internal.
            Self::Config(_) | Self::Io(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        HttpResponse::build(self.status_code()).json(json!({ "error": message }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn bodies_are_json() {
        let resp = ProxyError::Unauthorized.error_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        let bytes = resp.into_body().try_into_bytes().unwrap_or_default();
        assert_eq!(&bytes[..], br#"{"error":"Unauthorized"}"#);
    }

    #[test]
    fn unavailable_is_502() {
        let err = ProxyError::Unavailable("connection refused".into());
        assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY);
        assert_eq!(err.to_string(), "redis unavailable: connection refused");
    }
}
