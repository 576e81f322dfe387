//! The compile memo: draft version + compile context → compiled content hash.

use super::{on_pool, Store, StoreError};
use uuid::Uuid;

/// A page whose current draft was already compiled under the same context.
pub struct MemoHit {
    pub page_id: Uuid,
    pub slug: String,
    pub content_hash: String,
}

impl Store {
    /// Live pages of the project whose current draft version was compiled under `context`:
    /// among `ids` when given (a partial publish looks up only its own pages, not the whole
    /// project), else all of them.
    pub async fn memo_hits(
        &self,
        project_id: Uuid,
        context: &str,
        ids: Option<&[Uuid]>,
    ) -> Result<Vec<MemoHit>, StoreError> {
        const SQL: &str = "SELECT p.id, m.slug, m.content_hash FROM pages p \
                   JOIN compile_memo m ON m.page_id = p.id AND m.page_version = p.version AND m.context_hash = ";
        let mut rows: Vec<(Uuid, String, String)> = Vec::new();
        // One pass over the project, or one `IN (…)` list per 500 of the given pages.
        let chunks: Vec<Option<&[Uuid]>> = match ids {
            Some(ids) => ids.chunks(500).map(Some).collect(),
            None => vec![None],
        };
        for chunk in chunks {
            let part: Vec<(Uuid, String, String)> = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new(SQL);
                qb.push_bind(context).push(" WHERE p.project_id = ").push_bind(project_id);
                qb.push(" AND p.deleted_at IS NULL");
                if let Some(chunk) = chunk {
                    qb.push(" AND p.id IN (");
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                }
                qb.build_query_as().fetch_all(p).await
            })?;
            rows.extend(part);
        }
        Ok(rows
            .into_iter()
            .map(|(page_id, slug, content_hash)| MemoHit {
                page_id,
                slug,
                content_hash,
            })
            .collect())
    }

    /// Records what drafts compiled to: (page id, draft version, slug, content hash).
    pub async fn put_memo(
        &self,
        context: &str,
        rows: &[(Uuid, i64, String, String)],
    ) -> Result<(), StoreError> {
        for chunk in rows.chunks(200) {
            on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("INSERT INTO compile_memo (page_id, page_version, context_hash, slug, content_hash) ");
                qb.push_values(chunk, |mut b, (id, version, slug, hash)| {
                    b.push_bind(*id).push_bind(*version).push_bind(context).push_bind(slug).push_bind(hash);
                });
                qb.push(
                    " ON CONFLICT (page_id) DO UPDATE SET page_version = excluded.page_version, \
                     context_hash = excluded.context_hash, slug = excluded.slug, content_hash = excluded.content_hash",
                );
                qb.build().execute(p).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
