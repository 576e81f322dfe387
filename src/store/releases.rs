//! Releases (every successful publish) and the compiled pages they refer to, stored once per
//! content hash.

use super::{on_pool, on_tx, Store, StoreError, Tx};
use crate::domain::publish::{
    Job, JobResult, JobState, Progress, Release, ReleasePage, TargetResult,
};
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct ReleaseRow {
    id: Uuid,
    project_id: Uuid,
    number: i64,
    job_id: Uuid,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    status: String,
    targets: Json<Vec<TargetResult>>,
}

impl From<ReleaseRow> for Release {
    fn from(r: ReleaseRow) -> Self {
        Release {
            id: r.id,
            project_id: r.project_id,
            number: r.number,
            job_id: r.job_id,
            created_by: r.created_by,
            created_at: r.created_at,
            status: r.status,
            targets: r.targets.0,
            pages: None,
        }
    }
}

/// What a successful job records: the release and what it changed against the release
/// before it (`publish::plan::release_delta`).
pub struct NewRelease<'a> {
    pub id: Uuid,
    pub targets: &'a [TargetResult],
    /// Pages new or different in this release.
    pub changed: &'a [ReleasePage],
    /// Pages of the release before that this one takes away.
    pub removed: &'a [ReleasePage],
    /// `complete` or `partial`.
    pub status: &'a str,
    /// The time targets were given as the release's publish time.
    pub created_at: DateTime<Utc>,
}

/// A row of `release_pages` with its release's number.
#[derive(sqlx::FromRow)]
struct DeltaRow {
    page_id: String,
    slug: String,
    version: i64,
    content_hash: String,
    published_at: String,
    removed: bool,
    number: i64,
}

/// Every page's newest row, tombstones left out, by slug.
fn fold_deltas(rows: Vec<DeltaRow>) -> Vec<ReleasePage> {
    let mut newest: HashMap<String, DeltaRow> = HashMap::new();
    for row in rows {
        match newest.get(&row.page_id) {
            Some(seen) if seen.number >= row.number => {}
            _ => {
                newest.insert(row.page_id.clone(), row);
            }
        }
    }
    let mut pages: Vec<ReleasePage> = newest
        .into_values()
        .filter(|r| !r.removed)
        .map(|r| ReleasePage {
            page_id: r.page_id,
            slug: r.slug,
            version: r.version,
            content_hash: r.content_hash,
            published_at: r.published_at,
        })
        .collect();
    pages.sort_by(|a, b| a.slug.cmp(&b.slug).then_with(|| a.page_id.cmp(&b.page_id)));
    pages
}

const RELEASE_COLS: &str =
    "id, project_id, number, job_id, created_by, created_at, status, targets";

impl Store {
    /// The project's newest release and its pages, if it was ever published.
    pub async fn current_release(
        &self,
        project_id: Uuid,
    ) -> Result<Option<(Release, Vec<ReleasePage>)>, StoreError> {
        let Some(release) = self.newest_release(project_id).await? else {
            return Ok(None);
        };
        let pages = self.current_pages(project_id).await?;
        Ok(Some((release, pages)))
    }

    async fn newest_release(&self, project_id: Uuid) -> Result<Option<Release>, StoreError> {
        let sql = format!("SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 ORDER BY number DESC LIMIT 1");
        let row = on_pool!(self, p => sqlx::query_as::<_, ReleaseRow>(&sql).bind(project_id).fetch_optional(&mut *p).await)?;
        Ok(row.map(Release::from))
    }

    /// The newest release and its pages sorted by page id, for planning the next one: held in
    /// process while that release is still the newest, else read (and then held).
    pub async fn current_manifest(
        &self,
        project_id: Uuid,
    ) -> Result<Option<(Release, Arc<[ReleasePage]>)>, StoreError> {
        let Some(release) = self.newest_release(project_id).await? else {
            return Ok(None);
        };
        if let Some(pages) = self.manifests.get(project_id, release.id) {
            return Ok(Some((release, pages)));
        }
        let mut pages = self.current_rows(project_id).await?;
        pages.sort_unstable_by(|a, b| a.page_id.cmp(&b.page_id));
        let pages: Arc<[ReleasePage]> = pages.into();
        self.manifests.put(project_id, release.id, pages.clone());
        Ok(Some((release, pages)))
    }

    /// Holds the pages (sorted by page id) of a release just committed as the project's newest.
    pub fn remember_manifest(&self, project_id: Uuid, release_id: Uuid, pages: Arc<[ReleasePage]>) {
        self.manifests.put(project_id, release_id, pages);
    }

    /// The newest release's full set of pages, by slug.
    pub async fn current_pages(&self, project_id: Uuid) -> Result<Vec<ReleasePage>, StoreError> {
        let mut pages = self.current_rows(project_id).await?;
        pages.sort_by(|a, b| a.slug.cmp(&b.slug).then_with(|| a.page_id.cmp(&b.page_id)));
        Ok(pages)
    }

    /// The newest release's full set of pages, in no order. Read as one aggregated row: with
    /// SQLite each row costs a hand-off between the driver's thread and ours, which a 10,000-page
    /// project pays 10,000 times (tens of milliseconds on a busy machine) for one changed page.
    async fn current_rows(&self, project_id: Uuid) -> Result<Vec<ReleasePage>, StoreError> {
        const FIELD: char = '\u{1f}';
        const ROW: char = '\u{1e}';
        let sql = "SELECT string_agg(page_id || $2 || slug || $2 || CAST(version AS TEXT) || $2 || content_hash \
                   || $2 || published_at, $3) FROM current_pages WHERE project_id = $1";
        let all: Option<String> = on_pool!(self, p => sqlx::query_scalar(sql).bind(project_id).bind(FIELD.to_string()).bind(ROW.to_string()).fetch_one(&mut *p).await)?;
        let pages = all
            .as_deref()
            .unwrap_or_default()
            .split(ROW)
            .filter(|r| !r.is_empty())
            .map(|r| {
                let mut f = r.split(FIELD);
                match (f.next(), f.next(), f.next(), f.next(), f.next(), f.next()) {
                    (
                        Some(page_id),
                        Some(slug),
                        Some(version),
                        Some(content_hash),
                        Some(published_at),
                        None,
                    ) => Ok(ReleasePage {
                        page_id: page_id.into(),
                        slug: slug.into(),
                        version: version.parse().map_err(|_| {
                            StoreError::Corrupt(format!(
                                "current page {page_id}: version {version}"
                            ))
                        })?,
                        content_hash: content_hash.into(),
                        published_at: published_at.into(),
                    }),
                    _ => Err(StoreError::Corrupt(
                        "a current page row is malformed".into(),
                    )),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(pages)
    }

    /// A release's full set of pages: the current set for the newest release, else every
    /// page's newest row up to the release, tombstones left out.
    pub async fn release_pages(&self, release_id: Uuid) -> Result<Vec<ReleasePage>, StoreError> {
        let sql = "SELECT project_id, number, (SELECT MAX(number) FROM releases n WHERE n.project_id = r.project_id) \
                   FROM releases r WHERE id = $1";
        let (project, number, newest): (Uuid, i64, i64) =
            on_pool!(self, p => sqlx::query_as(sql).bind(release_id).fetch_optional(&mut *p).await)?
                .ok_or(StoreError::NotFound)?;
        if number == newest {
            return self.current_pages(project).await;
        }
        let sql = "SELECT rp.page_id, rp.slug, rp.version, rp.content_hash, rp.published_at, rp.removed, r.number \
                   FROM release_pages rp JOIN releases r ON r.id = rp.release_id WHERE r.project_id = $1 AND r.number <= $2";
        let rows: Vec<DeltaRow> = on_pool!(self, p => sqlx::query_as(sql).bind(project).bind(number).fetch_all(&mut *p).await)?;
        Ok(fold_deltas(rows))
    }

    /// The highest version every page of a project was ever published with.
    /// Only pages missing from the current release are asked about, so this is usually no
    /// query at all.
    pub async fn highest_versions(
        &self,
        project_id: Uuid,
        page_ids: &[String],
    ) -> Result<HashMap<String, i64>, StoreError> {
        let mut out = HashMap::new();
        for chunk in page_ids.chunks(500) {
            let rows: Vec<(String, i64)> = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT rp.page_id, MAX(rp.version) FROM release_pages rp JOIN releases r ON r.id = rp.release_id WHERE r.project_id = ",
                );
                qb.push_bind(project_id).push(" AND rp.page_id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(id);
                }
                qb.push(") GROUP BY rp.page_id");
                qb.build_query_as().fetch_all(&mut *p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    pub async fn get_release(&self, id: Uuid) -> Result<Release, StoreError> {
        let sql = format!("SELECT {RELEASE_COLS} FROM releases WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, ReleaseRow>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        let mut release: Release = row.ok_or(StoreError::NotFound)?.into();
        release.pages = Some(self.release_pages(id).await?);
        Ok(release)
    }

    pub async fn list_releases(
        &self,
        project_id: Uuid,
        w: super::Window,
    ) -> Result<(Vec<Release>, i64), StoreError> {
        let sql = format!("SELECT {RELEASE_COLS} FROM releases WHERE project_id = $1 ORDER BY number DESC LIMIT $2 OFFSET $3");
        let (rows, total) = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, ReleaseRow>(&sql).bind(project_id).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await?;
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM releases WHERE project_id = $1").bind(project_id).fetch_one(&mut *p).await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Release::from).collect(), total))
    }

    /// Records a release and ends its job as succeeded, in one transaction fenced by the
    /// lease: a worker that lost its lease cannot record anything.
    /// Checks, inside `tx`, that `owner` still holds the project's lease, and keeps the lease
    /// row locked until the transaction ends: a worker that lost its lease cannot record
    /// anything (the fence).
    pub async fn fence_lease(
        &self,
        tx: &mut Tx,
        project_id: Uuid,
        owner: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE project_leases SET expires_at = expires_at WHERE project_id = $1 AND owner = $2";
        let fenced = on_tx!(tx, c => sqlx::query(sql).bind(project_id).bind(owner).execute(c).await?.rows_affected());
        if fenced != 1 {
            return Err(StoreError::LeaseLost);
        }
        Ok(())
    }

    /// Records a release with its pages, numbered after the project's last one.
    pub async fn insert_release(
        &self,
        tx: &mut Tx,
        job: &Job,
        r: &NewRelease<'_>,
    ) -> Result<Release, StoreError> {
        let insert = format!(
            "INSERT INTO releases ({RELEASE_COLS}) SELECT $1, $2, COALESCE(MAX(number), 0) + 1, $3, $4, $5, $7, $6 \
             FROM releases WHERE project_id = $2 RETURNING {RELEASE_COLS}"
        );
        let row = on_tx!(tx, c => {
            let row = sqlx::query_as::<_, ReleaseRow>(&insert)
                .bind(r.id).bind(job.project_id).bind(job.id).bind(job.created_by).bind(r.created_at).bind(Json(r.targets)).bind(r.status)
                .fetch_one(&mut *c).await?;
            let rows: Vec<(&ReleasePage, bool)> = r.changed.iter().map(|p| (p, false))
                .chain(r.removed.iter().map(|p| (p, true))).collect();
            for chunk in rows.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO release_pages (release_id, page_id, slug, version, content_hash, published_at, removed) ");
                qb.push_values(chunk, |mut b, (p, removed)| {
                    b.push_bind(r.id).push_bind(&p.page_id).push_bind(&p.slug).push_bind(p.version).push_bind(&p.content_hash)
                        .push_bind(&p.published_at).push_bind(*removed);
                });
                qb.build().execute(&mut *c).await?;
            }
            for chunk in r.removed.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new("DELETE FROM current_pages WHERE project_id = ");
                qb.push_bind(job.project_id).push(" AND page_id IN (");
                let mut sep = qb.separated(", ");
                for p in chunk {
                    sep.push_bind(&p.page_id);
                }
                qb.push(")");
                qb.build().execute(&mut *c).await?;
            }
            for chunk in r.changed.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO current_pages (project_id, page_id, slug, version, content_hash, published_at) ");
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(job.project_id).push_bind(&p.page_id).push_bind(&p.slug).push_bind(p.version)
                        .push_bind(&p.content_hash).push_bind(&p.published_at);
                });
                qb.push(" ON CONFLICT (project_id, page_id) DO UPDATE SET slug = excluded.slug, version = excluded.version, \
                          content_hash = excluded.content_hash, published_at = excluded.published_at");
                qb.build().execute(&mut *c).await?;
            }
            row
        });
        Ok(row.into())
    }

    /// A retry's outcome: the release's per-target results and status, rewritten.
    pub async fn update_release_targets(
        &self,
        tx: &mut Tx,
        release_id: Uuid,
        targets: &[TargetResult],
        status: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE releases SET targets = $2, status = $3 WHERE id = $1";
        on_tx!(tx, c => sqlx::query(sql).bind(release_id).bind(Json(targets)).bind(status).execute(c).await.map(|_| ())?);
        Ok(())
    }

    /// Ends a job with its release, as succeeded or partial.
    pub async fn finish_job(
        &self,
        tx: &mut Tx,
        job_id: Uuid,
        state: JobState,
        release_id: Uuid,
        progress: &Progress,
        result: &JobResult,
    ) -> Result<(), StoreError> {
        let (pr, re) = (
            serde_json::to_value(progress).unwrap_or_default(),
            serde_json::to_value(result).unwrap_or_default(),
        );
        let sql = "UPDATE publish_jobs SET state = $6, progress = $2, result = $3, release_id = $4, finished_at = $5 WHERE id = $1";
        let now = self.clock.now();
        on_tx!(tx, c => sqlx::query(sql).bind(job_id).bind(Json(&pr)).bind(Json(&re)).bind(release_id).bind(now).bind(state.as_str()).execute(c).await.map(|_| ())?);
        Ok(())
    }

    /// Rewrites a finished job's result (its `total_ms`, measured once the release commit is
    /// done).
    pub async fn set_job_result(&self, job_id: Uuid, result: &JobResult) -> Result<(), StoreError> {
        let re = serde_json::to_value(result).unwrap_or_default();
        let sql = "UPDATE publish_jobs SET result = $2 WHERE id = $1";
        on_pool!(self, p => sqlx::query(sql).bind(job_id).bind(Json(&re)).execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }
}
