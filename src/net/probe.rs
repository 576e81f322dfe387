//! "Test connection": one report shape for every cache and target. Messages never carry a
//! secret or a raw driver dump.

use super::{ConnError, ServerInfo};
use serde::Serialize;
use std::future::Future;
use std::time::{Duration, Instant};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TestReport {
    pub ok: bool,
    pub latency_ms: u64,
    pub server: Option<ServerInfo>,
    pub error: Option<ConnError>,
}

/// Runs a probe under one deadline covering connect and reply.
pub async fn run<F>(timeout: Duration, probe: F) -> TestReport
where
    F: Future<Output = Result<ServerInfo, ConnError>>,
{
    let started = Instant::now();
    let result = match tokio::time::timeout(timeout, probe).await {
        Ok(r) => r,
        Err(_) => Err(ConnError::new(
            super::ErrorKind::Timeout,
            format!(
                "no answer within {} ms: is the host reachable and the port right?",
                timeout.as_millis()
            ),
        )),
    };
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Ok(server) => TestReport {
            ok: true,
            latency_ms,
            server: Some(server),
            error: None,
        },
        Err(e) => TestReport {
            ok: false,
            latency_ms,
            server: None,
            error: Some(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::ErrorKind;

    #[tokio::test]
    async fn deadline_covers_everything() {
        let r = run(Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok(ServerInfo::default())
        })
        .await;
        assert_eq!(r.error.map(|e| e.kind), Some(ErrorKind::Timeout));
        assert!(r.latency_ms < 5000);
    }
}
