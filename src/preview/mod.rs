//! Preview links: a page's current draft compiled the way a publish compiles it, kept for a
//! while behind an unguessable token, with nothing published.
//!
//! The compiled page goes to the project's Redis (`SET … EX`) when it has a cache, else (and
//! when that Redis cannot be reached at creation) into the control-plane database. Either
//! way a row in the database holds the token's SHA-256, the expiry and the revocation, so
//! a link is checked there first and a database read reveals no live token.

use crate::cache::pool::{configured, ClientPool};
use crate::compile::{compile_page, Diagnostic};
use crate::domain::page::Page;
use crate::domain::project::Project;
use crate::net::ConnError;
use crate::publish::context::{iso, project_input, public_datasources};
use crate::publish::{PublishContext, PublishError};
use crate::store::previews::{NewPreview, PreviewView};
use crate::store::{Store, StoreError};
use rand::RngCore;
use uuid::Uuid;

pub const DEFAULT_TTL_SECS: u64 = 3_600;
pub const MAX_TTL_SECS: u64 = 7 * 86_400;

#[derive(Debug, thiserror::Error)]
pub enum PreviewError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Publish(#[from] PublishError),
    /// The draft does not compile: the error diagnostics.
    #[error("the draft has compile errors")]
    Compile(Vec<Diagnostic>),
    /// The page is not a live page of its project (deleted meanwhile).
    #[error("page not found")]
    PageGone,
    /// The project's Redis holds the page but cannot be reached now.
    #[error("{0}")]
    Unavailable(ConnError),
}

pub struct Created {
    pub view: PreviewView,
    /// `pv_` + 64 hex digits (256 random bits); shown once.
    pub token: String,
    /// Warnings of the compile (errors refuse the preview).
    pub warnings: Vec<Diagnostic>,
}

/// The Redis key of a preview's compiled page; no edge key (`page:…`, `seo:…`) starts so.
pub fn redis_key(project: Uuid, preview: Uuid) -> String {
    format!("edgepub:preview:{project}:{preview}")
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("pv_{}", hex::encode(bytes))
}

/// Compiles `page`'s current draft (with the project's other live pages, so project-wide
/// checks such as duplicate slugs run as on publish) and stores it for `ttl_secs`.
pub async fn create(
    ctx: &PublishContext,
    clients: &ClientPool,
    project: &Project,
    page: &Page,
    ttl_secs: u64,
    created_by: Option<Uuid>,
) -> Result<Created, PreviewError> {
    let pages = ctx.store.live_pages(project.id).await?;
    let Some(draft) = pages.iter().find(|p| p.id == page.id) else {
        return Err(PreviewError::PageGone);
    };
    let version = draft.version;
    let datasources = public_datasources(&ctx.store, project.id).await?;
    let input = project_input(project, pages, datasources);
    let (options, css, id) = (ctx.compile, ctx.css.clone(), page.id.to_string());
    // Compiling is CPU work; keep it off the async workers.
    let out = tokio::task::spawn_blocking(move || compile_page(&input, &id, &options, &css).ok())
        .await
        .map_err(|e| PublishError::Compiler(e.to_string()))?
        .ok_or(PreviewError::PageGone)?;
    if out.has_errors() {
        return Err(PreviewError::Compile(out.errors().cloned().collect()));
    }
    let warnings = out.diagnostics.clone();
    let mut compiled = out.pages.into_iter().next().ok_or(PreviewError::PageGone)?;
    let now = ctx.store.now();
    compiled
        .stamp(u32::try_from(version).unwrap_or(u32::MAX), &iso(now))
        .map_err(|e| PublishError::Compiler(e.to_string()))?;
    let body = compiled.to_value().to_string();

    let id = Uuid::new_v4();
    let token = new_token();
    let ttl = chrono::Duration::seconds(i64::try_from(ttl_secs).unwrap_or(0));
    let settings = ctx.store.cache_settings(project.id).await?;
    let in_redis = if configured(&settings) {
        let stored = async {
            let client = clients.client(project.id, &settings).await?;
            let key = redis_key(project.id, id);
            let set = client.set_ex(&key, &body, ttl_secs).await;
            if set.is_err() {
                clients.failed(project.id);
            }
            set
        };
        match stored.await {
            Ok(()) => true,
            Err(e) => {
                // The cache is disposable: a preview must not fail because it is down.
                tracing::warn!(project_id = %project.id, kind = ?e.kind, "preview: Redis unreachable, kept in the database");
                false
            }
        }
    } else {
        false
    };
    let view = ctx
        .store
        .create_preview(&NewPreview {
            id,
            project_id: project.id,
            page_id: page.id,
            page_version: version,
            token_hash: &crate::domain::token::hash(&token),
            storage: if in_redis { "redis" } else { "database" },
            body: (!in_redis).then_some(body.as_str()),
            created_by,
            created_at: now,
            expires_at: now + ttl,
        })
        .await?;
    Ok(Created {
        view,
        token,
        warnings,
    })
}

/// The compiled page behind a live token; `None` for an unknown, expired or revoked one
/// (alike, so a caller learns nothing about which).
pub async fn open(
    store: &Store,
    clients: &ClientPool,
    token: &str,
) -> Result<Option<String>, PreviewError> {
    if !token.starts_with("pv_") || token.len() > 100 {
        return Ok(None);
    }
    let Some((view, body)) = store
        .live_preview(&crate::domain::token::hash(token))
        .await?
    else {
        return Ok(None);
    };
    if view.storage != "redis" {
        return Ok(body);
    }
    let settings = store.cache_settings(view.project_id).await?;
    if !configured(&settings) {
        // The cache was switched off since: what it held is gone for edgepub.
        return Ok(None);
    }
    let client = clients
        .client(view.project_id, &settings)
        .await
        .map_err(PreviewError::Unavailable)?;
    client
        .get(&redis_key(view.project_id, view.id))
        .await
        .map_err(|e| {
            clients.failed(view.project_id);
            PreviewError::Unavailable(e)
        })
}

/// Revokes a link: the row first (that alone ends it), then the Redis copy, best effort.
pub async fn revoke(
    store: &Store,
    clients: &ClientPool,
    id: Uuid,
) -> Result<PreviewView, PreviewError> {
    let view = store.revoke_preview(id).await?;
    if view.storage == "redis" {
        let settings = store.cache_settings(view.project_id).await?;
        if configured(&settings) {
            let key = redis_key(view.project_id, view.id);
            let removed = async {
                clients
                    .client(view.project_id, &settings)
                    .await?
                    .unlink(&[key])
                    .await
            };
            if let Err(e) = removed.await {
                tracing::info!(preview_id = %view.id, kind = ?e.kind, "preview revoked; its Redis copy expires on its own");
            }
        }
    }
    Ok(view)
}

/// Deletes expired preview rows now and then (creating a preview prunes too).
pub struct PruneWork(pub Store);

#[async_trait::async_trait]
impl crate::worker::Work for PruneWork {
    fn name(&self) -> &'static str {
        "previews"
    }

    async fn pass(&self, _stop: &crate::worker::Stop) -> Result<(), StoreError> {
        let n = self.0.prune_previews().await?;
        if n > 0 {
            tracing::debug!(pruned = n, "expired previews pruned");
        }
        Ok(())
    }
}
