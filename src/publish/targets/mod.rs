//! Publish targets: the strategies a release is written through, chosen at run time per
//! saved target (one factory `match`). A target does raw operations only (say what it holds,
//! apply a plan, probe); versions and diffs are planned once in `publish::plan`.

pub mod body;
pub mod edge;
pub mod hrana;
pub mod local;
pub mod local_files;
pub mod pages_db;
pub mod sqlite_file;
pub mod turso;

use crate::domain::project::Project;
use crate::domain::publish::ReleasePage;
use crate::domain::target::{TargetFields, TargetKind};
use crate::net::retry::Backoff;
use crate::net::{ConnError, ErrorKind, NetPolicy, ServerInfo};
use crate::publish::plan::{Held, Removal};
use async_trait::async_trait;
pub use body::{BodyError, PageBody};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The site-wide settings an edge renders with (`project_settings`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// Why a target's part of a publish failed.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The target refused or could not be reached; the kind says which.
    #[error(transparent)]
    Conn(#[from] ConnError),
    /// Reading the release's compiled pages from the control plane failed: not the target's
    /// fault, and the job is retried as a whole.
    #[error(transparent)]
    Bodies(#[from] BodyError),
}

/// Stamped compiled pages (contract JSON), loaded a chunk at a time so a large release never
/// sits in memory whole.
#[async_trait]
pub trait Bodies: Send + Sync {
    async fn load(&self, pages: &[ReleasePage]) -> Result<Vec<PageBody>, BodyError>;
}

/// One target's share of a release: pages to write, ids to delete.
pub struct Apply<'a> {
    pub tenant: &'a str,
    pub upserts: &'a [ReleasePage],
    pub deletes: &'a [Removal],
    /// Rewrite even what the target says it holds (a push edge's `force`).
    pub force: bool,
    pub bodies: &'a dyn Bodies,
    pub settings: &'a SiteSettings,
    pub release_id: Uuid,
    pub job_id: Uuid,
    pub published_at: &'a str,
}

/// One page a non-atomic target could not write or delete.
#[derive(Debug, Clone)]
pub struct PageFailure {
    pub page_id: String,
    pub error: ConnError,
}

/// What `apply` did. An atomic target writes everything or fails; a non-atomic one may
/// report pages that failed while the rest were written.
#[derive(Debug, Clone, Default)]
pub struct ApplyReport {
    pub written: u64,
    pub deleted: u64,
    pub failed: Vec<PageFailure>,
    /// A failure not tied to a page (a push edge's settings import).
    pub error: Option<ConnError>,
}

impl ApplyReport {
    /// Everything in the plan was applied.
    pub fn all(a: &Apply<'_>) -> ApplyReport {
        ApplyReport {
            written: a.upserts.len() as u64,
            deleted: a.deletes.len() as u64,
            ..ApplyReport::default()
        }
    }
}

/// A place pages are published to.
#[async_trait]
pub trait PublishTarget: Send + Sync {
    /// Whether readers see a release all at once (a transaction) or page by page.
    fn atomic(&self) -> bool;
    /// "Test connection": reachable and usable.
    async fn probe(&self) -> Result<ServerInfo, ConnError>;
    /// What the target holds for a tenant: page id → content hash, version and slug; `None`
    /// when it cannot say (then what edgepub last wrote there is used).
    async fn held(&self, tenant: &str) -> Result<Option<HashMap<String, Held>>, ConnError>;
    /// The release edgepub last wrote there for the tenant (its `_edgepub_release` marker),
    /// when the target keeps one: a cheap check that it still holds what was recorded.
    async fn marker(&self, _tenant: &str) -> Result<Option<String>, ConnError> {
        Ok(None)
    }
    /// Writes the plan (atomically for readers when `atomic()`).
    async fn apply(&self, apply: &Apply<'_>) -> Result<ApplyReport, TargetError>;
    /// The whole rows of the pages `ids` (a few dozen at a time), every column in
    /// `pages_db::PAGE_COLUMNS` order, by page id; `None` when the target cannot be read back
    /// (a push edge).
    async fn rows(
        &self,
        _tenant: &str,
        _ids: &[&str],
    ) -> Result<Option<HashMap<String, Vec<pages_db::SqlValue>>>, ConnError> {
        Ok(None)
    }
    /// The tenant's `project_settings` rows, when the target can be read back.
    async fn settings(
        &self,
        _tenant: &str,
    ) -> Result<Option<Vec<(String, SiteSettings)>>, ConnError> {
        Ok(None)
    }
    /// HTTP requests made and bytes sent so far, for targets that speak HTTP.
    fn traffic(&self) -> (u64, u64) {
        (0, 0)
    }
}

/// What opening a target needs besides the target.
#[derive(Debug, Clone)]
pub struct TargetContext {
    pub pages_root: PathBuf,
    pub policy: NetPolicy,
    /// Deadline of one "Test connection".
    pub probe_timeout: Duration,
    /// Deadline of one request while publishing.
    pub write_timeout: Duration,
    pub turso_max_request_bytes: usize,
    pub edge_concurrency: usize,
    /// Retries of one request (Turso) or page (edge) while publishing.
    pub backoff: Backoff,
    /// The local files this process keeps open.
    pub local: Arc<local_files::LocalFiles>,
}

/// Opens the strategy for a target's fields (chosen at run time). `probing` picks the
/// "Test connection" deadline and no retries. `site_dir` is the owning project's directory
/// (a local file must lie inside it; checked again here, since a symlink may appear later).
pub fn open(
    t: &TargetFields,
    ctx: &TargetContext,
    probing: bool,
    site_dir: Option<&str>,
) -> Result<Box<dyn PublishTarget>, ConnError> {
    let missing = |what: &str| ConnError::new(ErrorKind::Invalid, format!("no {what} is set"));
    let (timeout, backoff) = if probing {
        (
            ctx.probe_timeout,
            Backoff {
                attempts: 1,
                ..Backoff::default()
            },
        )
    } else {
        (ctx.write_timeout, ctx.backoff)
    };
    match t.kind {
        TargetKind::Local => {
            let rel = t.path.as_deref().ok_or_else(|| missing("path"))?;
            let path = local::resolve_in(&ctx.pages_root, site_dir, rel)
                .map_err(|m| ConnError::new(ErrorKind::Permission, m))?;
            Ok(Box::new(sqlite_file::SqliteFile::new(
                path,
                ctx.local.clone(),
            )))
        }
        TargetKind::Turso => {
            let url = t.url.as_deref().ok_or_else(|| missing("URL"))?;
            let db =
                hrana::Hrana::new(url, t.token.clone(), ctx.policy, timeout)?.with_backoff(backoff);
            Ok(Box::new(turso::TursoTarget::new(
                db,
                ctx.turso_max_request_bytes,
            )))
        }
        TargetKind::Edge => {
            let url = t.url.as_deref().ok_or_else(|| missing("URL"))?;
            // A test of a form without the key still asks the edge, which then says it
            // wants one (`auth`); a publish needs the key.
            let key = match t.token.clone() {
                Some(key) => key,
                None if probing => String::new(),
                None => return Err(missing("system key")),
            };
            Ok(Box::new(edge::EdgeTarget::new(
                url,
                key,
                ctx.policy,
                timeout,
                ctx.edge_concurrency,
                backoff,
            )?))
        }
    }
}

/// Checks that a target is reachable and usable.
pub async fn test(
    t: &TargetFields,
    ctx: &TargetContext,
    site_dir: Option<&str>,
) -> Result<ServerInfo, ConnError> {
    open(t, ctx, true, site_dir)?.probe().await
}

/// Whether a local target's path stays inside the pages root and the project's directory
/// there; the message says why not.
pub fn check_local_path(
    root: &std::path::Path,
    site_dir: Option<&str>,
    path: &str,
) -> Result<(), String> {
    local::resolve_in(root, site_dir, path).map(|_| ())
}
