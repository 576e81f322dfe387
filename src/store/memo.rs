//! The compile memo: draft version + compile context → compiled content hash.

use super::{on_pool, Db, Store, StoreError};
use uuid::Uuid;

/// A page whose current draft was already compiled under the same context.
pub struct MemoHit {
    pub page_id: Uuid,
    pub slug: String,
    pub content_hash: String,
}

impl Store {
    /// Live pages of the project whose current draft version was compiled under `context`:
    /// all of them, or only those of `only` (a publish of some pages looks up just those).
    pub async fn memo_hits(
        &self,
        project_id: Uuid,
        context: &str,
        only: Option<&[Uuid]>,
    ) -> Result<Vec<MemoHit>, StoreError> {
        let sql = "SELECT p.id, m.slug, m.content_hash FROM pages p \
                   JOIN compile_memo m ON m.page_id = p.id AND m.page_version = p.version AND m.context_hash = ";
        let mut rows: Vec<(Uuid, String, String)> = Vec::new();
        let chunks: Vec<Option<&[Uuid]>> = match only {
            None => vec![None],
            Some(ids) => ids.chunks(500).map(Some).collect(),
        };
        for chunk in chunks {
            rows.extend(on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new(sql);
                qb.push_bind(context).push(" WHERE p.project_id = ").push_bind(project_id).push(" AND p.deleted_at IS NULL");
                if let Some(ids) = chunk {
                    qb.push(" AND p.id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                }
                qb.build_query_as::<(Uuid, String, String)>().fetch_all(&mut *p).await
            })?);
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

    /// Every live page of the project, each with its memo hit under `context` if it has one,
    /// read as one aggregated row: a full publish of a 10,000-page project with one change
    /// would otherwise pay a driver hand-off per row, twice. The one query written per
    /// backend, because ids are stored as SQLite blobs and Postgres uuids.
    pub async fn live_pages_with_memo(
        &self,
        project_id: Uuid,
        context: &str,
    ) -> Result<(Vec<Uuid>, Vec<MemoHit>), StoreError> {
        const JOIN: &str = "FROM pages p LEFT JOIN compile_memo m ON m.page_id = p.id AND m.page_version = p.version \
                            AND m.context_hash = $2 WHERE p.project_id = $1 AND p.deleted_at IS NULL";
        let all: Option<String> = match &self.db {
            Db::Sqlite(pool) => {
                let sql = format!("SELECT group_concat(hex(p.id) || char(31) || COALESCE(m.slug, '') || char(31) || \
                                   COALESCE(m.content_hash, ''), char(30) ORDER BY p.created_at, p.id) {JOIN}");
                sqlx::query_scalar(&sql)
                    .bind(project_id)
                    .bind(context)
                    .fetch_one(pool)
                    .await?
            }
            Db::Postgres(pool) => {
                let sql = format!("SELECT string_agg(p.id::text || chr(31) || COALESCE(m.slug, '') || chr(31) || \
                                   COALESCE(m.content_hash, ''), chr(30) ORDER BY p.created_at, p.id) {JOIN}");
                sqlx::query_scalar(&sql)
                    .bind(project_id)
                    .bind(context)
                    .fetch_one(pool)
                    .await?
            }
        };
        let (mut ids, mut hits) = (Vec::new(), Vec::new());
        for row in all
            .as_deref()
            .unwrap_or_default()
            .split('\u{1e}')
            .filter(|r| !r.is_empty())
        {
            let mut f = row.split('\u{1f}');
            let id = f
                .next()
                .and_then(|i| Uuid::parse_str(i).ok())
                .ok_or_else(|| StoreError::Corrupt(format!("a page id reads back as {row}")))?;
            ids.push(id);
            if let (Some(slug), Some(hash)) = (f.next(), f.next()) {
                if !hash.is_empty() {
                    hits.push(MemoHit {
                        page_id: id,
                        slug: slug.to_string(),
                        content_hash: hash.to_string(),
                    });
                }
            }
        }
        Ok((ids, hits))
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
                qb.build().execute(&mut *p).await.map(|_| ())
            })?;
        }
        Ok(())
    }
}
