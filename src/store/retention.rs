//! Pruning old releases, their applied cache operations and the compiled pages nothing
//! refers to any more.

use super::{on_pool, on_tx, Store, StoreError};
use uuid::Uuid;

impl Store {
    /// Projects with more than `keep` releases.
    pub async fn projects_over_retention(&self, keep: i64) -> Result<Vec<Uuid>, StoreError> {
        let sql = "SELECT project_id FROM releases GROUP BY project_id HAVING COUNT(*) > $1";
        Ok(on_pool!(self, p => sqlx::query_scalar(sql).bind(keep).fetch_all(&mut *p).await)?)
    }

    /// Keeps the project's newest `keep` releases. The oldest kept one takes over every page's
    /// newest row from the releases dropped (tombstones too, so a page that comes back still
    /// gets a higher version), so every kept release reads back exactly as before. Returns
    /// (releases dropped, compiled pages dropped).
    pub async fn prune_releases(&self, project: Uuid, keep: i64) -> Result<(u64, u64), StoreError> {
        let sql = "SELECT number FROM releases WHERE project_id = $1 ORDER BY number DESC LIMIT 1 OFFSET $2";
        let oldest_kept: Option<i64> = on_pool!(self, p => sqlx::query_scalar(sql).bind(project).bind(keep.max(1) - 1).fetch_optional(&mut *p).await)?;
        let sql = "SELECT MIN(number) FROM releases WHERE project_id = $1";
        let first: Option<i64> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(project).fetch_one(&mut *p).await)?;
        let (Some(target), Some(mut from)) = (oldest_kept, first) else {
            return Ok((0, 0));
        };
        // A few releases per transaction: the first pruning of a long history must not hold
        // the write lock for long. Release numbers have no gaps, so every step exists.
        let (mut releases, mut blobs) = (0, 0);
        while from < target {
            let step = (from + 10).min(target);
            let (r, b) = self.prune_below(project, step).await?;
            (releases, blobs) = (releases + r, blobs + b);
            from = step;
        }
        Ok((releases, blobs))
    }

    /// Folds the releases before number `number` into it and drops them.
    async fn prune_below(&self, project: Uuid, number: i64) -> Result<(u64, u64), StoreError> {
        let mut tx = self.begin().await?;
        let sql = "SELECT id FROM releases WHERE project_id = $1 AND number = $2";
        let keep_id: Option<Uuid> = on_tx!(&mut tx, c => sqlx::query_scalar(sql).bind(project).bind(number).fetch_optional(&mut *c).await)?;
        let Some(keep_id) = keep_id else {
            return Ok((0, 0));
        };
        let carry = "INSERT INTO release_pages (release_id, page_id, slug, version, content_hash, published_at, removed) \
             SELECT $2, rp.page_id, rp.slug, rp.version, rp.content_hash, rp.published_at, rp.removed \
             FROM release_pages rp JOIN releases r ON r.id = rp.release_id \
             WHERE r.project_id = $1 AND r.number < $3 \
             AND r.number = (SELECT MAX(r2.number) FROM release_pages rp2 JOIN releases r2 ON r2.id = rp2.release_id \
                             WHERE r2.project_id = $1 AND r2.number < $3 AND rp2.page_id = rp.page_id) \
             AND NOT EXISTS (SELECT 1 FROM release_pages x WHERE x.release_id = $2 AND x.page_id = rp.page_id)";
        on_tx!(&mut tx, c => sqlx::query(carry).bind(project).bind(keep_id).bind(number).execute(&mut *c).await.map(|_| ()))?;
        // Applied operations go with their releases; pending ones stay until they are applied,
        // and failed ones as the record of what the cache refused.
        let ops = "DELETE FROM cache_outbox WHERE state IN ('done', 'superseded', 'skipped') AND release_id IN \
             (SELECT id FROM releases WHERE project_id = $1 AND number < $2)";
        on_tx!(&mut tx, c => sqlx::query(ops).bind(project).bind(number).execute(&mut *c).await.map(|_| ()))?;
        let drop = "DELETE FROM releases WHERE project_id = $1 AND number < $2";
        let releases = on_tx!(&mut tx, c => sqlx::query(drop).bind(project).bind(number).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        let blobs = "DELETE FROM page_blobs WHERE project_id = $1 \
             AND content_hash NOT IN (SELECT rp.content_hash FROM release_pages rp JOIN releases r ON r.id = rp.release_id \
                                      WHERE r.project_id = $1 AND NOT rp.removed) \
             AND content_hash NOT IN (SELECT m.content_hash FROM compile_memo m JOIN pages p ON p.id = m.page_id \
                                      WHERE p.project_id = $1) \
             AND content_hash NOT IN (SELECT o.content_hash FROM cache_outbox o WHERE o.project_id = $1 \
                                      AND o.state = 'pending' AND o.content_hash IS NOT NULL)";
        let blobs = on_tx!(&mut tx, c => sqlx::query(blobs).bind(project).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok((releases, blobs))
    }
}
