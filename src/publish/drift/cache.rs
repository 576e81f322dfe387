//! The cache's part of the drift check. Every page key of the release is read back: in
//! `prime` mode a key must hold the value the release shapes, in `invalidate` mode a key may
//! be absent but must not hold another value. A primed key that is gone after its TTL ran
//! out is `expired` (keys live `cache_ttl_page` seconds by design), not drift: a key is missing
//! only while its last write is younger than that. Each page is judged by the injected clock
//! against when its key was last written (or, with no such record, when the page was
//! published: the earliest it could have been).

use super::CacheDrift;
use crate::cache::keys::{homepage_key, page_key};
use crate::cache::values::{homepage_value, page_value};
use crate::cache::{connect, Cmd, Reply};
use crate::domain::project::Project;
use crate::domain::publish::ReleasePage;
use crate::domain::settings::CacheMode;
use crate::publish::context::PublishContext;
use crate::publish::error::PublishError;
use crate::store::outbox::NewCacheOp;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// Keys read back per round trip.
const GETS: usize = 100;

/// The cache's drift and the operations that repair it; `None` without a cache. In `prime`
/// mode the repair writes expired keys again too: it primes, which is what the mode is for.
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
        expired: Vec::new(),
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
    // Keys a primed cache lacks, judged once every key was read: (key, page, homepage key?).
    let mut absent: Vec<(String, &ReleasePage, bool)> = Vec::new();
    for chunk in pages.chunks(GETS / 2) {
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
        for ((key, page, home), reply) in wanted.into_iter().zip(&replies) {
            let op = if home { "homepage" } else { "page" };
            let current: Option<Value> = match reply {
                Reply::Text(t) => Some(serde_json::from_str(t).unwrap_or(Value::Null)),
                _ => None,
            };
            let Some(current) = current else {
                if settings.cache_mode == CacheMode::Prime {
                    absent.push((key, page, home));
                }
                continue;
            };
            let expected = blobs.get(&page.content_hash).and_then(|b| {
                let v = page.version;
                let s = if home {
                    homepage_value(b, v, &page.published_at)
                } else {
                    page_value(b, v, &page.published_at)
                };
                s.ok().and_then(|s| serde_json::from_str::<Value>(&s).ok())
            });
            if expected.as_ref() != Some(&current) {
                repair.push(match settings.cache_mode {
                    CacheMode::Prime => write_op(&key, op, page),
                    CacheMode::Invalidate => NewCacheOp::del(key.clone()),
                });
                d.stale.push(key);
            }
        }
    }
    if !absent.is_empty() {
        let written = ctx.store.cache_keys_written(project.id).await?;
        let ttl = chrono::Duration::seconds(settings.cache_ttl_page);
        let now = ctx.clock.now();
        for (key, page, home) in absent {
            let since = written
                .get(&key)
                .copied()
                .or_else(|| published(&page.published_at));
            repair.push(write_op(&key, if home { "homepage" } else { "page" }, page));
            match since {
                Some(at) if now >= at + ttl => d.expired.push(key),
                _ => d.missing.push(key),
            }
        }
    }
    Ok(Some((d, repair)))
}

fn published(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn write_op(key: &str, op: &'static str, p: &ReleasePage) -> NewCacheOp {
    NewCacheOp {
        content_hash: Some(p.content_hash.clone()),
        version: Some(p.version),
        published_at: Some(p.published_at.clone()),
        ..NewCacheOp::write(key.to_string(), op)
    }
}
