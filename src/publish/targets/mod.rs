//! Publish targets. This issue gives each kind its "Test connection"; publishing through them
//! (state, plan, apply) plugs into the same module.

pub mod edge;
pub mod hrana;
pub mod local;
pub mod sqlite_file;

use super::net::NetPolicy;
use super::probe::{ConnError, ErrorKind, ServerInfo};
use crate::domain::project::{Project, DEFAULT_TENANT};
use crate::domain::publish::ReleasePage;
use crate::domain::target::{Target, TargetFields, TargetKind};
use crate::publish::plan::Held;
use async_trait::async_trait;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

/// The site-wide settings an edge renders with (`project_settings`).
#[derive(Debug, Clone, Default)]
pub struct SiteSettings {
    pub favicon_url: Option<String>,
    pub logo_url: Option<String>,
    pub site_name: Option<String>,
    pub site_description: Option<String>,
    pub app_url: Option<String>,
}

impl From<&Project> for SiteSettings {
    fn from(p: &Project) -> Self {
        SiteSettings {
            favicon_url: p.favicon_url.clone(),
            logo_url: p.logo_url.clone(),
            site_name: p.site_name.clone().or_else(|| Some(p.name.clone())),
            site_description: p.site_description.clone(),
            app_url: p.app_url.clone(),
        }
    }
}

/// The edge reads row `_default` when rendering and `default` for llms.txt; a tenant's row
/// is its slug.
pub fn settings_row_ids(tenant: &str) -> Vec<&str> {
    if tenant == DEFAULT_TENANT {
        vec!["_default", "default"]
    } else {
        vec![tenant]
    }
}

/// Stamped compiled pages (contract JSON), loaded a chunk at a time so a large release never
/// sits in memory whole.
#[async_trait]
pub trait Bodies: Send + Sync {
    async fn load(&self, pages: &[ReleasePage]) -> Result<Vec<Value>, ConnError>;
}

/// One target's share of a release: pages to write, ids to delete.
pub struct Apply<'a> {
    pub tenant: &'a str,
    pub upserts: &'a [ReleasePage],
    pub deletes: &'a [String],
    pub bodies: &'a dyn Bodies,
    pub settings: &'a SiteSettings,
    pub release_id: Uuid,
    pub job_id: Uuid,
    pub published_at: &'a str,
}

/// A place pages are published to. Implementations do raw operations only; versions and
/// diffs are planned once in `publish::plan`.
#[async_trait]
pub trait PublishTarget: Send + Sync {
    /// What the target holds for a tenant: page id → content hash and version.
    async fn held(&self, tenant: &str) -> Result<HashMap<String, Held>, ConnError>;
    /// Writes the plan atomically for readers.
    async fn apply(&self, apply: &Apply<'_>) -> Result<(), ConnError>;
}

/// Opens the strategy for a saved target (chosen at run time).
pub fn open(t: &Target, ctx: &ProbeContext) -> Result<Box<dyn PublishTarget>, ConnError> {
    match t.kind {
        TargetKind::Local => {
            let rel = t
                .path
                .as_deref()
                .ok_or_else(|| ConnError::new(ErrorKind::Invalid, "no path is set"))?;
            let path = local::resolve_path(&ctx.pages_root, rel)
                .map_err(|m| ConnError::new(ErrorKind::Permission, m))?;
            Ok(Box::new(sqlite_file::SqliteFile::new(path)))
        }
        TargetKind::Turso | TargetKind::Edge => Err(ConnError::new(
            ErrorKind::Invalid,
            format!(
                "publishing to {} targets is not available yet; disable this target to publish",
                t.kind.as_str()
            ),
        )),
    }
}

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
