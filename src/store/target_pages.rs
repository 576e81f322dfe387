//! What edgepub last wrote to a target that cannot say what it holds (a push edge), so the
//! next publish to it is incremental too.

use super::{on_pool, Store, StoreError};
use crate::domain::publish::ReleasePage;
use uuid::Uuid;

#[derive(Debug, sqlx::FromRow)]
pub struct TargetPage {
    pub page_id: String,
    pub slug: String,
    pub version: i64,
    pub content_hash: String,
}

impl Store {
    pub async fn target_held(
        &self,
        target_id: Uuid,
        tenant: &str,
    ) -> Result<Vec<TargetPage>, StoreError> {
        let sql = "SELECT page_id, slug, version, content_hash FROM target_pages WHERE target_id = $1 AND tenant_slug = $2";
        Ok(
            on_pool!(self, p => sqlx::query_as::<_, TargetPage>(sql).bind(target_id).bind(tenant).fetch_all(&mut *p).await)?,
        )
    }

    /// Records pages written to and removed from a target.
    pub async fn record_target_pages(
        &self,
        target_id: Uuid,
        tenant: &str,
        written: &[&ReleasePage],
        removed: &[&str],
    ) -> Result<(), StoreError> {
        let upsert = "INSERT INTO target_pages (target_id, page_id, tenant_slug, slug, version, content_hash) VALUES ($1, $2, $3, $4, $5, $6) \
                      ON CONFLICT (target_id, page_id) DO UPDATE SET tenant_slug = excluded.tenant_slug, slug = excluded.slug, \
                      version = excluded.version, content_hash = excluded.content_hash";
        let delete = "DELETE FROM target_pages WHERE target_id = $1 AND page_id = $2";
        on_pool!(self, p => {
            let mut tx = sqlx::Connection::begin(&mut *p).await?;
            for page in written {
                sqlx::query(upsert).bind(target_id).bind(&page.page_id).bind(tenant).bind(&page.slug)
                    .bind(page.version).bind(&page.content_hash).execute(&mut *tx).await?;
            }
            for id in removed {
                sqlx::query(delete).bind(target_id).bind(id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }
}
