//! Reading request bodies under a size limit, answering 413 as JSON.
//!
//! actix's `Bytes`/`Json` extractors answer an oversize body with a plain-text error, and the
//! SDK would report that as a JSON parse failure; reading the payload by hand keeps every
//! answer JSON and lets the limit come from the proxy configuration.

use std::time::Duration;

use actix_web::http::header::CONTENT_LENGTH;
use actix_web::web::{Bytes, BytesMut, Payload};
use actix_web::HttpRequest;
use futures_util::StreamExt;

use super::error::ProxyError;

/// After deciding on 413, read and discard this much more before answering. Closing the
/// socket with unread data makes the kernel send a reset, and the client would then see
/// "connection reset" instead of the 413; draining a bounded amount avoids that for bodies
/// that are merely somewhat too big without letting a client stream forever.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(5);

/// The whole body, or 413 if it is longer than `limit` bytes.
pub(crate) async fn read_limited(
    req: &HttpRequest,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, ProxyError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        drain(&mut payload, 0).await;
        return Err(ProxyError::PayloadTooLarge { limit });
    }

    let mut buf = BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|e| ProxyError::BadRequest(format!("could not read the request body: {e}")))?;
        if buf.len() + chunk.len() > limit {
            drain(&mut payload, buf.len() + chunk.len()).await;
            return Err(ProxyError::PayloadTooLarge { limit });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Discards the rest of the body, within [`DRAIN_LIMIT`] and [`DRAIN_TIME`].
async fn drain(payload: &mut Payload, already: usize) {
    let mut seen = already;
    let discard = async {
        while let Some(Ok(chunk)) = payload.next().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT {
                break;
            }
        }
    };
    // A timeout only means the client is slow; the 413 is sent either way.
    let _ = tokio::time::timeout(DRAIN_TIME, discard).await;
}
