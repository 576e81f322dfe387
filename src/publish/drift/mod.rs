//! Drift check: do the targets and the cache hold what the last release says? Each enabled
//! target is read back (pages, versions, content hashes, settings rows, and each row's
//! content column by column: `content`) and compared with the release; a push edge, which
//! cannot be read back, is compared with what edgepub recorded writing there. The cache
//! part (`cache`) reads every page key and also yields the operations that repair it.

mod cache;
pub mod content;

pub use cache::cache_drift;

use super::context::PublishContext;
use super::error::PublishError;
use super::targets::{self, SiteSettings};
use super::write::BlobBodies;
use crate::domain::project::Project;
use crate::domain::publish::ReleasePage;
use crate::domain::settings::CacheMode;
use crate::net::ConnError;
use crate::store::outbox::NewCacheOp;
use serde::Serialize;
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
    /// Whether each row's content was compared with the release (false for a push edge: its
    /// pages are what edgepub recorded sending).
    pub content_checked: bool,
}

impl TargetDrift {
    /// Pages missing, extra or changed on the target.
    pub fn drifted_pages(&self) -> usize {
        self.missing.len() + self.extra.len() + self.changed.len()
    }
}

impl CacheDrift {
    /// Keys missing or stale (expired keys are not drift).
    pub fn drifted_keys(&self) -> usize {
        self.missing.len() + self.stale.len()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageDrift {
    pub page_id: String,
    pub slug: Option<String>,
    pub expected_version: Option<i64>,
    pub found_version: Option<i64>,
    /// For a changed page, the columns that differ from the release (`version`,
    /// `content_hash`, `title`, `layout_data`, `css_bundle`, …).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CacheDrift {
    #[schema(value_type = String, example = "prime")]
    pub mode: CacheMode,
    pub error: Option<ConnError>,
    /// Operations of recorded releases not applied yet (they may explain what follows).
    pub pending_operations: i64,
    /// Keys that should hold a value and do not, though their TTL has not run out since
    /// they were written (`prime` only).
    pub missing: Vec<String>,
    /// Keys holding another value than the release's (a wrong or older one).
    pub stale: Vec<String>,
    /// Keys gone because their TTL ran out, as primed keys do by design (`prime` only):
    /// listed for information, not drift.
    pub expired: Vec<String>,
}

fn drift(p: &ReleasePage, found: Option<i64>, fields: Vec<String>) -> PageDrift {
    PageDrift {
        page_id: p.page_id.clone(),
        slug: Some(p.slug.clone()),
        expected_version: Some(p.version),
        found_version: found,
        fields,
    }
}

async fn check_target(
    ctx: &PublishContext,
    project: &Project,
    t: &crate::domain::target::Target,
    pages: &[ReleasePage],
    expected: &SiteSettings,
) -> Result<TargetDrift, PublishError> {
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
        content_checked: false,
    };
    let target = match targets::open(&t.fields(), &ctx.targets, true, Some(&project.site_dir)) {
        Ok(target) => target,
        Err(e) => {
            d.error = Some(e);
            return Ok(d);
        }
    };
    let read = async {
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
            return Ok(d);
        }
    };
    for p in pages {
        match held.get(&p.page_id) {
            None => d.missing.push(drift(p, None, Vec::new())),
            Some(h) if !content::claims(&held, p) => {
                let mut fields = Vec::new();
                if h.version != p.version {
                    fields.push("version".into());
                }
                if h.content_hash.as_deref() != Some(p.content_hash.as_str()) {
                    fields.push("content_hash".into());
                }
                d.changed.push(drift(p, Some(h.version), fields))
            }
            Some(_) => {}
        }
    }
    let bodies = BlobBodies {
        store: &ctx.store,
        project_id: project.id,
    };
    let same: Vec<&ReleasePage> = pages.iter().filter(|p| content::claims(&held, p)).collect();
    match content::changed_rows(target.as_ref(), tenant, &same, &bodies).await {
        Ok(None) => {}
        Ok(Some(changed)) => {
            d.content_checked = true;
            let by_id: std::collections::HashMap<&str, &ReleasePage> =
                pages.iter().map(|p| (p.page_id.as_str(), p)).collect();
            for (id, columns) in changed {
                if let Some(p) = by_id.get(id.as_str()) {
                    let fields = columns.into_iter().map(String::from).collect();
                    d.changed.push(drift(p, Some(p.version), fields));
                }
            }
            d.changed.sort_by(|a, b| a.page_id.cmp(&b.page_id));
        }
        Err(targets::TargetError::Conn(e)) => d.error = Some(e),
        Err(targets::TargetError::Bodies(e)) => return Err(super::write::store_error(e).into()),
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
            fields: Vec::new(),
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
    Ok(d)
}

impl DriftReport {
    /// Pages drifted per target, the cache as the target `cache` (what `/metrics` shows, stored
    /// beside the report so a scrape never reads the reports themselves).
    pub fn counts(&self) -> Vec<(String, i64)> {
        let n = |v: usize| i64::try_from(v).unwrap_or(i64::MAX);
        let mut counts: Vec<(String, i64)> = self
            .targets
            .iter()
            .map(|t| (t.name.clone(), n(t.drifted_pages())))
            .collect();
        if let Some(c) = &self.cache {
            counts.push(("cache".into(), n(c.drifted_keys())));
        }
        counts
    }

    /// One line for a terminal, cron or CI log: whether anything drifted (what, in counts),
    /// and expired cache keys, which are not drift.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        for t in &self.targets {
            if let Some(e) = &t.error {
                parts.push(format!(
                    "target {} unreadable ({})",
                    t.name,
                    e.kind.as_str()
                ));
            } else if target_drifted(t) {
                parts.push(format!(
                    "target {}: {} missing, {} extra, {} changed, settings {}",
                    t.name,
                    t.missing.len(),
                    t.extra.len(),
                    t.changed.len(),
                    t.settings
                ));
            }
        }
        let mut expired = 0;
        if let Some(c) = &self.cache {
            expired = c.expired.len();
            if let Some(e) = &c.error {
                parts.push(format!("cache unreadable ({})", e.kind.as_str()));
            } else if !c.missing.is_empty() || !c.stale.is_empty() {
                parts.push(format!(
                    "cache: {} keys missing, {} stale",
                    c.missing.len(),
                    c.stale.len()
                ));
            }
        }
        let release = self.release_number.unwrap_or(0);
        let mut line = match (self.release_id, self.drifted) {
            (None, _) => "no drift: nothing published yet".to_string(),
            (Some(_), false) => format!("no drift from release {release}"),
            (Some(_), true) => format!("drift from release {release}: {}", parts.join("; ")),
        };
        if expired > 0 {
            line.push_str(&format!(
                " ({expired} cache keys expired after their TTL: not drift)"
            ));
        }
        line
    }
}

pub(crate) fn target_drifted(d: &TargetDrift) -> bool {
    d.error.is_some()
        || !d.missing.is_empty()
        || !d.extra.is_empty()
        || !d.changed.is_empty()
        || d.settings == "changed"
        || d.settings == "missing"
}

/// Compares every enabled target and the cache with the project's last release.
pub async fn check(ctx: &PublishContext, project: &Project) -> Result<DriftReport, PublishError> {
    Ok(check_with_repair(ctx, project).await?.0)
}

/// [`check`], with the cache operations that would repair the cache (see [`cache_drift`]).
pub async fn check_with_repair(
    ctx: &PublishContext,
    project: &Project,
) -> Result<(DriftReport, Vec<NewCacheOp>), PublishError> {
    let Some((release, pages)) = ctx.store.current_release(project.id).await? else {
        let report = DriftReport {
            release_id: None,
            release_number: None,
            drifted: false,
            targets: Vec::new(),
            cache: None,
        };
        return Ok((report, Vec::new()));
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
        .map(|t| check_target(ctx, project, t, &pages, &expected));
    let targets = futures_util::future::try_join_all(checks).await?;
    let (cache, ops) = match cache_drift(ctx, project, &pages).await? {
        Some((d, ops)) => (Some(d), ops),
        None => (None, Vec::new()),
    };
    let drifted = targets.iter().any(target_drifted)
        || cache
            .as_ref()
            .is_some_and(|c| c.error.is_some() || !c.missing.is_empty() || !c.stale.is_empty());
    let report = DriftReport {
        release_id: Some(release.id),
        release_number: Some(release.number),
        drifted,
        targets,
        cache,
    };
    Ok((report, ops))
}
