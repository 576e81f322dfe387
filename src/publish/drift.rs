//! Drift check: do the targets and the cache hold what the last release says? Each enabled
//! target is read back (pages, versions, content hashes, settings rows) and compared with the
//! release; in `prime` mode every page key is read and compared with the value the release
//! shapes, in `invalidate` mode a key holding an older value than the release is stale.
//! The cache part also yields the operations that repair it.

use super::context::PublishContext;
use super::error::PublishError;
use super::targets::{self, SiteSettings};
use crate::cache::keys::{homepage_key, page_key};
use crate::cache::values::{homepage_value, page_value};
use crate::cache::{connect, Cmd, Reply};
use crate::domain::project::Project;
use crate::domain::publish::ReleasePage;
use crate::domain::settings::CacheMode;
use crate::net::ConnError;
use crate::store::outbox::NewCacheOp;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DriftReport {
    /// The release compared against (none yet: nothing to compare).
    pub release_id: Option<Uuid>,
    pub release_number: Option<i64>,
    /// Anything below differs from the release.
    pub drifted: bool,
    pub targets: Vec<TargetDrift>,
    /// Absent when the project has no cache.
    pub cache: Option<CacheDrift>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetDrift {
    pub target_id: Uuid,
    pub name: String,
    pub kind: String,
    /// The target could not be read; nothing else is known about it.
    pub error: Option<ConnError>,
    /// In the release, not on the target.
    pub missing: Vec<PageDrift>,
    /// On the target, not in the release.
    pub extra: Vec<PageDrift>,
    /// Another version or content on the target.
    pub changed: Vec<PageDrift>,
    /// `ok`, `changed`, `missing` or `unknown` (a push edge cannot be read back).
    pub settings: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageDrift {
    pub page_id: String,
    pub slug: Option<String>,
    pub expected_version: Option<i64>,
    pub found_version: Option<i64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CacheDrift {
    #[schema(value_type = String, example = "prime")]
    pub mode: CacheMode,
    pub error: Option<ConnError>,
    /// Operations of recorded releases not applied yet (they may explain what follows).
    pub pending_operations: i64,
    /// Keys that should hold a value and do not (`prime` only).
    pub missing: Vec<String>,
    /// Keys holding another value than the release's.
    pub stale: Vec<String>,
}

fn drift(p: &ReleasePage, found: Option<i64>) -> PageDrift {
    PageDrift {
        page_id: p.page_id.clone(),
        slug: Some(p.slug.clone()),
        expected_version: Some(p.version),
        found_version: found,
    }
}

async fn check_target(
    ctx: &PublishContext,
    t: &crate::domain::target::Target,
    project: &Project,
    pages: &[ReleasePage],
    expected: &SiteSettings,
) -> TargetDrift {
    let tenant = project.tenant_slug.as_str();
    let mut d = TargetDrift {
        target_id: t.id,
        name: t.name.clone(),
        kind: t.kind.as_str().into(),
        error: None,
        missing: Vec::new(),
        extra: Vec::new(),
        changed: Vec::new(),
        settings: "unknown".into(),
    };
    let read = async {
        let target = targets::open(&t.fields(), &ctx.targets, true, Some(&project.site_dir))?;
        let held = match target.held(tenant).await? {
            Some(h) => h,
            None => super::write::recorded(ctx, t.id, tenant)
                .await
                .map_err(|e| ConnError::new(crate::net::ErrorKind::Protocol, e.to_string()))?,
        };
        let settings = target.settings(tenant).await?;
        Ok::<_, ConnError>((held, settings))
    };
    let (held, settings) = match read.await {
        Ok(r) => r,
        Err(e) => {
            d.error = Some(e);
            return d;
        }
    };
    for p in pages {
        match held.get(&p.page_id) {
            None => d.missing.push(drift(p, None)),
            Some(h)
                if h.version != p.version
                    || h.content_hash.as_deref() != Some(p.content_hash.as_str()) =>
            {
                d.changed.push(drift(p, Some(h.version)))
            }
            Some(_) => {}
        }
    }
    let wanted: std::collections::HashSet<&str> =
        pages.iter().map(|p| p.page_id.as_str()).collect();
    let mut extra: Vec<PageDrift> = held
        .iter()
        .filter(|(id, _)| !wanted.contains(id.as_str()))
        .map(|(id, h)| PageDrift {
            page_id: id.clone(),
            slug: h.slug.clone(),
            expected_version: None,
            found_version: Some(h.version),
        })
        .collect();
    extra.sort_by(|a, b| a.page_id.cmp(&b.page_id));
    d.extra = extra;
    if let Some(rows) = settings {
        let ids = targets::pages_db::settings_row_ids(tenant);
        d.settings = if rows.len() < ids.len() {
            "missing".into()
        } else if rows.iter().all(|(_, s)| s == expected) {
            "ok".into()
        } else {
            "changed".into()
        };
    }
    d
}

fn target_drifted(d: &TargetDrift) -> bool {
    d.error.is_some()
        || !d.missing.is_empty()
        || !d.extra.is_empty()
        || !d.changed.is_empty()
        || d.settings == "changed"
        || d.settings == "missing"
}

/// Compares every enabled target and the cache with the project's last release.
pub async fn check(ctx: &PublishContext, project: &Project) -> Result<DriftReport, PublishError> {
    let Some((release, pages)) = ctx.store.current_release(project.id).await? else {
        return Ok(DriftReport {
            release_id: None,
            release_number: None,
            drifted: false,
            targets: Vec::new(),
            cache: None,
        });
    };
    let expected = SiteSettings::from(project);
    let enabled: Vec<_> = ctx
        .store
        .list_targets(project.id)
        .await?
        .into_iter()
        .filter(|t| t.enabled)
        .collect();
    let checks = enabled
        .iter()
        .map(|t| check_target(ctx, t, project, &pages, &expected));
    let targets = futures_util::future::join_all(checks).await;
    let cache = cache_drift(ctx, project, &pages).await?.map(|(d, _)| d);
    let drifted = targets.iter().any(target_drifted)
        || cache
            .as_ref()
            .is_some_and(|c| c.error.is_some() || !c.missing.is_empty() || !c.stale.is_empty());
    Ok(DriftReport {
        release_id: Some(release.id),
        release_number: Some(release.number),
        drifted,
        targets,
        cache,
    })
}

/// Keys read back per round trip.
const GETS: usize = 100;

/// The cache's drift and the operations that repair it; `None` without a cache.
pub async fn cache_drift(
    ctx: &PublishContext,
    project: &Project,
    pages: &[ReleasePage],
) -> Result<Option<(CacheDrift, Vec<NewCacheOp>)>, PublishError> {
    let settings = ctx.store.cache_settings(project.id).await?;
    if !settings.redis_enabled || settings.redis_url.is_none() {
        return Ok(None);
    }
    let mut d = CacheDrift {
        mode: settings.cache_mode,
        error: None,
        pending_operations: ctx.store.pending_cache_ops(project.id).await?,
        missing: Vec::new(),
        stale: Vec::new(),
    };
    let mut repair = Vec::new();
    let cache = match connect(&settings, ctx.targets.policy, ctx.targets.probe_timeout).await {
        Ok(c) => c,
        Err(e) => {
            d.error = Some(e);
            return Ok(Some((d, repair)));
        }
    };
    let homes = ctx.store.homepage_hashes(project.id).await?;
    let tenant = project.tenant_slug.as_str();
    for chunk in pages.chunks(GETS / 2) {
        // (key, the page, homepage key?)
        let mut wanted: Vec<(String, &ReleasePage, bool)> = Vec::new();
        for p in chunk {
            wanted.push((page_key(tenant, &p.slug), p, false));
            if homes.contains(&p.content_hash) {
                wanted.push((homepage_key(tenant), p, true));
            }
        }
        let cmds: Vec<Cmd> = wanted
            .iter()
            .map(|w| Cmd::new(["GET", w.0.as_str()]))
            .collect();
        let replies = match cache.exec(&cmds).await {
            Ok(r) => r,
            Err(e) => {
                d.error = Some(e);
                return Ok(Some((d, repair)));
            }
        };
        // Values are built only for keys that hold something.
        let present: Vec<String> = wanted
            .iter()
            .zip(&replies)
            .filter(|(_, r)| matches!(r, Reply::Text(_)))
            .map(|(w, _)| w.1.content_hash.clone())
            .collect();
        let blobs = ctx.store.get_blobs(project.id, &present).await?;
        for ((key, page, home), reply) in wanted.iter().zip(&replies) {
            let op = if *home { "homepage" } else { "page" };
            let current: Option<Value> = match reply {
                Reply::Text(t) => Some(serde_json::from_str(t).unwrap_or(Value::Null)),
                _ => None,
            };
            let Some(current) = current else {
                if settings.cache_mode == CacheMode::Prime {
                    d.missing.push(key.clone());
                    repair.push(write_op(key, op, page));
                }
                continue;
            };
            let expected = blobs.get(&page.content_hash).and_then(|b| {
                let v = page.version;
                let s = if *home {
                    homepage_value(b, v, &page.published_at)
                } else {
                    page_value(b, v, &page.published_at)
                };
                s.ok().and_then(|s| serde_json::from_str::<Value>(&s).ok())
            });
            if expected.as_ref() != Some(&current) {
                d.stale.push(key.clone());
                repair.push(match settings.cache_mode {
                    CacheMode::Prime => write_op(key, op, page),
                    CacheMode::Invalidate => NewCacheOp::del(key.clone()),
                });
            }
        }
    }
    Ok(Some((d, repair)))
}

fn write_op(key: &str, op: &'static str, p: &ReleasePage) -> NewCacheOp {
    NewCacheOp {
        content_hash: Some(p.content_hash.clone()),
        version: Some(p.version),
        published_at: Some(p.published_at.clone()),
        ..NewCacheOp::write(key.to_string(), op)
    }
}
