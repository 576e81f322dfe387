//! Push-style edges (contract section 4): they own their database and take pages through an
//! import API authenticated with a system key.

use crate::net::http::transport_error;
use crate::net::NetPolicy;
use crate::net::{ConnError, ErrorKind, ServerInfo};
use std::time::Duration;

/// `GET /api/health` (no key), then `GET /api/import/status` with `x-system-key`.
pub async fn probe(
    base: &str,
    key: &str,
    policy: NetPolicy,
    timeout: Duration,
) -> Result<ServerInfo, ConnError> {
    let url = url::Url::parse(base)
        .map_err(|_| ConnError::new(ErrorKind::Invalid, "the edge URL is not valid"))?;
    policy.check_url(&url)?;
    let http = policy.http_client(timeout);
    let base = url.as_str().trim_end_matches('/');
    let health = http
        .get(format!("{base}/api/health"))
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    match health.status().as_u16() {
        200 => {}
        404 => {
            return Err(ConnError::new(
                ErrorKind::NotFound,
                "no edge at that URL: /api/health answered 404",
            ))
        }
        s => {
            return Err(ConnError::new(
                ErrorKind::Protocol,
                format!("/api/health answered HTTP {s}"),
            ))
        }
    }
    let body: serde_json::Value = health.json().await.unwrap_or_default();
    let status = http
        .get(format!("{base}/api/import/status"))
        .header("x-system-key", key)
        .send()
        .await
        .map_err(|e| transport_error(&e))?;
    match status.status().as_u16() {
        200 => {}
        401 | 403 => {
            return Err(ConnError::new(
                ErrorKind::Auth,
                "the edge refused the system key",
            ))
        }
        404 => {
            return Err(ConnError::new(
                ErrorKind::NotFound,
                "the edge has no import API (/api/import/status answered 404)",
            ))
        }
        s => {
            return Err(ConnError::new(
                ErrorKind::Protocol,
                format!("/api/import/status answered HTTP {s}"),
            ))
        }
    }
    let text = |k: &str| body.get(k).and_then(|v| v.as_str()).map(String::from);
    Ok(ServerInfo {
        kind: "edge".into(),
        version: text("version"),
        mode: text("provider").or(Some("push".into())),
    })
}
