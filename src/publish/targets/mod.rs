//! Publish targets. This issue gives each kind its "Test connection"; publishing through them
//! (state, plan, apply) plugs into the same module.

pub mod edge;
pub mod hrana;
pub mod local;

use super::net::NetPolicy;
use super::probe::{ConnError, ErrorKind, ServerInfo};
use crate::domain::target::{TargetFields, TargetKind};
use std::path::PathBuf;
use std::time::Duration;

/// What probing a target needs besides the target.
#[derive(Debug, Clone)]
pub struct ProbeContext {
    pub pages_root: PathBuf,
    pub policy: NetPolicy,
    pub timeout: Duration,
}

/// Checks that a target is reachable and usable.
pub async fn test(t: &TargetFields, ctx: &ProbeContext) -> Result<ServerInfo, ConnError> {
    let missing = |what: &str| ConnError::new(ErrorKind::Invalid, format!("no {what} is set"));
    match t.kind {
        TargetKind::Local => {
            let rel = t.path.as_deref().ok_or_else(|| missing("path"))?;
            let path = local::resolve_path(&ctx.pages_root, rel)
                .map_err(|m| ConnError::new(ErrorKind::Permission, m))?;
            local::probe(&path).await
        }
        TargetKind::Turso => {
            let url = t.url.as_deref().ok_or_else(|| missing("URL"))?;
            let client = hrana::Hrana::new(url, t.token.clone(), ctx.policy, ctx.timeout)?;
            client.probe().await
        }
        TargetKind::Edge => {
            let url = t.url.as_deref().ok_or_else(|| missing("URL"))?;
            let key = t.token.as_deref().ok_or_else(|| missing("system key"))?;
            edge::probe(url, key, ctx.policy, ctx.timeout).await
        }
    }
}
