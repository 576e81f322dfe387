//! Writing one release to one target: ask what it holds, diff, apply, and turn the outcome
//! into the target's result. Targets are written in parallel; one failing target fails only
//! its own part.

use super::context::PublishContext;
use super::drift::content;
use super::plan::{plan_known, plan_target, Held, TargetPlan};
use super::targets::{
    self, Apply, ApplyReport, Bodies, BodyError, PageBody, PublishTarget, SiteSettings, TargetError,
};
use crate::domain::publish::{PageError, ReleasePage, TargetResult, TargetStatus};
use crate::domain::target::Target;
use crate::net::ConnError;
use crate::store::{Store, StoreError};
use std::collections::{HashMap, HashSet};
use std::time::Instant;
use uuid::Uuid;

/// What every target of one job writes from.
pub struct Share<'a> {
    pub tenant: &'a str,
    /// The project's directory under the sites root, which its local targets must stay in.
    pub site_dir: &'a str,
    pub release: &'a [ReleasePage],
    pub force: bool,
    pub bodies: &'a dyn Bodies,
    pub settings: &'a SiteSettings,
    pub release_id: Uuid,
    pub job_id: Uuid,
    pub published_at: &'a str,
    /// The release before this one, as recorded, when there is one.
    pub known: Option<Known<'a>>,
    /// Compare each row's content with the release, not only its version and hash (a drift
    /// repair: it rewrites rows edited by hand).
    pub check_content: bool,
}

/// The project's current release as the control plane recorded it: a target that took it
/// whole and whose marker still names it holds exactly these pages, so it need not be read.
pub struct Known<'a> {
    pub release_id: Uuid,
    pub pages: &'a [ReleasePage],
    /// Targets that took that release whole.
    pub complete: HashSet<Uuid>,
}

fn ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The recorded release, when the target took it whole and its marker still names it: the
/// target then holds exactly those pages and need not be read (a publish costs what changed,
/// not a read of every row).
async fn vouched<'a>(
    t: &Target,
    target: &dyn PublishTarget,
    s: &'a Share<'_>,
) -> Option<&'a [ReleasePage]> {
    let k = s
        .known
        .as_ref()
        .filter(|k| !s.force && k.complete.contains(&t.id))?;
    // A marker that cannot be read is no voucher: read the rows.
    let marker = target.marker(s.tenant).await.ok().flatten()?;
    (Uuid::parse_str(&marker).ok() == Some(k.release_id)).then_some(k.pages)
}

/// What the target holds, from itself or, when it cannot say, from the control plane's
/// record of what edgepub last wrote there.
async fn held(
    ctx: &PublishContext,
    t: &Target,
    target: &dyn PublishTarget,
    s: &Share<'_>,
) -> Result<HashMap<String, Held>, TargetError> {
    let tenant = s.tenant;
    if let Some(mut held) = target.held(tenant).await? {
        if s.check_content {
            content::forget_changed(target, tenant, s.release, s.bodies, &mut held).await?;
        }
        return Ok(held);
    }
    recorded(ctx, t.id, tenant)
        .await
        .map_err(|e| TargetError::Bodies(read_failed(e)))
}

/// What edgepub last wrote to a target that cannot say what it holds.
pub async fn recorded(
    ctx: &PublishContext,
    target_id: Uuid,
    tenant: &str,
) -> Result<HashMap<String, Held>, StoreError> {
    Ok(ctx
        .store
        .target_held(target_id, tenant)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.page_id,
                Held {
                    content_hash: Some(r.content_hash),
                    version: r.version,
                    slug: Some(r.slug),
                },
            )
        })
        .collect())
}

/// Records what a non-atomic target now holds: the pages written and removed, not those
/// that failed.
async fn record(
    ctx: &PublishContext,
    t: &Target,
    tenant: &str,
    plan: &TargetPlan,
    report: &ApplyReport,
) -> Result<(), StoreError> {
    let failed: HashSet<&str> = report.failed.iter().map(|f| f.page_id.as_str()).collect();
    let written: Vec<&ReleasePage> = plan
        .upserts
        .iter()
        .filter(|p| !failed.contains(p.page_id.as_str()))
        .collect();
    let removed: Vec<&str> = plan
        .deletes
        .iter()
        .map(|d| d.page_id.as_str())
        .filter(|id| !failed.contains(id))
        .collect();
    ctx.store
        .record_target_pages(t.id, tenant, &written, &removed)
        .await
}

fn fill(r: &mut TargetResult, plan: &TargetPlan, report: &ApplyReport) {
    r.upserted = report.written;
    r.deleted = report.deleted;
    r.unchanged = plan.unchanged;
    r.failed_pages = report
        .failed
        .iter()
        .map(|f| PageError {
            page_id: f.page_id.clone(),
            kind: f.error.kind.as_str().into(),
            message: f.error.message.clone(),
        })
        .collect();
    let first = report.failed.first().map(|f| &f.error);
    let error = report.error.as_ref().or(first);
    r.ok = error.is_none();
    r.status = if r.ok {
        TargetStatus::Ok
    } else if report.written + report.deleted > 0 {
        TargetStatus::Partial
    } else {
        TargetStatus::Failed
    };
    if let Some(e) = error {
        r.error_kind = Some(e.kind.as_str().into());
        r.error = Some(match report.failed.len() {
            0 => e.message.clone(),
            n => format!("{n} pages failed; first: {}", e.message),
        });
    }
}

fn failed(r: &mut TargetResult, e: &ConnError) {
    r.ok = false;
    r.status = TargetStatus::Failed;
    r.error_kind = Some(e.kind.as_str().into());
    r.error = Some(e.message.clone());
}

/// Diffs the release against what one target holds and writes the difference. The target's
/// own failure goes into its result; a control-plane failure fails the whole run.
pub async fn write_target(
    ctx: &PublishContext,
    t: &Target,
    s: &Share<'_>,
) -> Result<TargetResult, StoreError> {
    let started = Instant::now();
    let mut r = TargetResult {
        target_id: t.id,
        name: t.name.clone(),
        kind: t.kind.as_str().into(),
        ..Default::default()
    };
    let target = match targets::open(&t.fields(), &ctx.targets, false, Some(s.site_dir)) {
        Ok(target) => target,
        Err(e) => {
            failed(&mut r, &e);
            return Ok(r);
        }
    };
    r.atomic = target.atomic();
    let outcome = async {
        let plan = match vouched(t, target.as_ref(), s).await {
            Some(pages) => plan_known(s.release, pages, s.force),
            None => plan_target(s.release, &held(ctx, t, target.as_ref(), s).await?, s.force),
        };
        let apply = Apply {
            tenant: s.tenant,
            upserts: &plan.upserts,
            deletes: &plan.deletes,
            force: s.force,
            bodies: s.bodies,
            settings: s.settings,
            release_id: s.release_id,
            job_id: s.job_id,
            published_at: s.published_at,
        };
        let report = target.apply(&apply).await?;
        Ok::<_, TargetError>((plan, report))
    }
    .await;
    match outcome {
        Ok((plan, report)) => {
            if !target.atomic() {
                record(ctx, t, s.tenant, &plan, &report).await?;
            }
            fill(&mut r, &plan, &report);
        }
        Err(TargetError::Bodies(e)) => return Err(store_error(e)),
        Err(TargetError::Conn(e)) => failed(&mut r, &e),
    }
    (r.requests, r.bytes_sent) = target.traffic();
    r.duration_ms = ms(started);
    if let Some(e) = &r.error {
        tracing::warn!(target_id = %t.id, kind = ?r.error_kind, error = %e, "a publish target failed");
    }
    Ok(r)
}

/// Compiled pages for targets, read from the blob store a chunk at a time and stamped.
pub struct BlobBodies<'a> {
    pub store: &'a Store,
    pub project_id: Uuid,
}

#[async_trait::async_trait]
impl Bodies for BlobBodies<'_> {
    async fn load(&self, pages: &[ReleasePage]) -> Result<Vec<PageBody>, BodyError> {
        let hashes: Vec<String> = pages.iter().map(|p| p.content_hash.clone()).collect();
        let mut blobs = self
            .store
            .get_blobs(self.project_id, &hashes)
            .await
            .map_err(read_failed)?;
        pages
            .iter()
            .enumerate()
            .map(|(i, p)| {
                // The same content under two ids shares one blob: its last use takes it.
                let again = pages[i + 1..]
                    .iter()
                    .any(|q| q.content_hash == p.content_hash);
                let blob = match again {
                    true => blobs.get(&p.content_hash).cloned(),
                    false => blobs.remove(&p.content_hash),
                };
                let blob = blob.ok_or_else(|| {
                    BodyError::Malformed(format!("compiled page {} is missing", p.content_hash))
                })?;
                Ok(PageBody {
                    blob,
                    version: p.version,
                    published_at: p.published_at.clone(),
                })
            })
            .collect()
    }
}

/// The control plane's error, handed to a target as a reader's failure.
fn read_failed(e: StoreError) -> BodyError {
    BodyError::Read(Box::new(e))
}

/// A reader's failure back out of a target as the control plane's own error, so an outage
/// stays an outage (a 503, a job retried whole) and a malformed page stays corrupt data.
pub fn store_error(e: BodyError) -> StoreError {
    match e {
        BodyError::Read(source) => match source.downcast::<StoreError>() {
            Ok(e) => *e,
            Err(other) => StoreError::Corrupt(other.to_string()),
        },
        BodyError::Malformed(m) => StoreError::Corrupt(m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reader_outage_comes_back_out_of_a_target_as_an_outage() {
        let outage = StoreError::Unavailable(sqlx::Error::PoolTimedOut);
        let back = store_error(TargetError::from(read_failed(outage)).into_bodies());
        assert!(matches!(back, StoreError::Unavailable(_)), "{back:?}");
        let back = store_error(BodyError::Malformed("not an object".into()));
        assert!(matches!(back, StoreError::Corrupt(m) if m == "not an object"));
    }

    impl TargetError {
        fn into_bodies(self) -> BodyError {
            match self {
                TargetError::Bodies(e) => e,
                TargetError::Conn(e) => panic!("a reader's failure became {e}"),
            }
        }
    }
}
