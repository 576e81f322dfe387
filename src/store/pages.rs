//! Page drafts and their bounded history.
//!
//! Writers take the write lock up front (a save is one statement; a creation's transaction
//! starts with `BEGIN IMMEDIATE`), and on SQLite they queue for their turn in the process
//! first (`Store::write_turn`), so concurrent saves wait in order rather than in SQLite's busy
//! handler. History costs one insert per save; rows beyond the limit are deleted in batches.

use super::page_binds::BindFields;
use super::{on_pool, on_tx, on_writer, Store, StoreError, Tx, Window};
use crate::domain::page::{Page, PageFields, PageVersion, PageVersionSummary, SavedPage};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

const COLS: &str = "id, project_id, slug, name, title, description, layout_data, seo_data, \
                    is_public, is_homepage, version, created_at, updated_at, deleted_at";

#[derive(sqlx::FromRow)]
struct PageRow {
    id: Uuid,
    project_id: Uuid,
    slug: String,
    name: String,
    title: Option<String>,
    description: Option<String>,
    layout_data: Json<Value>,
    seo_data: Option<Json<Value>>,
    is_public: bool,
    is_homepage: bool,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    deleted_at: Option<DateTime<Utc>>,
}

impl From<PageRow> for Page {
    fn from(r: PageRow) -> Self {
        Page {
            id: r.id,
            project_id: r.project_id,
            slug: r.slug,
            name: r.name,
            title: r.title,
            description: r.description,
            layout_data: r.layout_data.0,
            seo_data: r.seo_data.map(|j| j.0),
            is_public: r.is_public,
            is_homepage: r.is_homepage,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    page_id: Uuid,
    version: i64,
    slug: String,
    name: String,
    title: Option<String>,
    description: Option<String>,
    layout_data: Json<Value>,
    seo_data: Option<Json<Value>>,
    is_public: bool,
    is_homepage: bool,
    saved_at: DateTime<Utc>,
}

/// What authorising a request on a page needs, without its layout.
#[derive(Debug, Clone, Copy)]
pub struct PageRef {
    pub id: Uuid,
    pub project_id: Uuid,
}

/// Filters for listing a project's pages.
#[derive(Debug, Clone, Default)]
pub struct PageFilter {
    pub slug: Option<String>,
    pub include_deleted: bool,
}

/// A new page's first history row, bound from the same bytes as the page row (later versions
/// are recorded by the trigger of migration 0013).
const INSERT_VERSION: &str = "INSERT INTO page_versions (page_id, version, slug, name, title, description, \
     layout_data, seo_data, is_public, is_homepage, saved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const PRUNE_VERSIONS: &str = "DELETE FROM page_versions WHERE page_id = $1 AND version <= $2";
/// History beyond the limit is deleted every this many versions, in one statement (after the
/// save, in the same writer's turn), rather than one row on every save; reads only ever see the newest `history_limit` versions (see
/// [`KEPT`]), so the bound the API shows is exact while at most this many extra rows wait.
pub const PRUNE_EVERY: i64 = 16;
/// The versions of page `$1` the history shows: the newest `$2` (the live one included).
const KEPT: &str = "page_id = $1 AND version > (SELECT version FROM pages WHERE id = $1) - $2";

impl Store {
    /// Records version `version` of a page in its history, from the fields just written.
    async fn insert_version(
        &self,
        tx: &mut Tx,
        id: Uuid,
        version: i64,
        f: &PageFields,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_tx!(tx, c => sqlx::query(INSERT_VERSION)
            .bind(id)
            .bind(version)
            .bind_fields(f)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn create_page(
        &self,
        project_id: Uuid,
        f: PageFields,
    ) -> Result<SavedPage, StoreError> {
        let sql = format!(
            "INSERT INTO pages ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11, NULL)"
        );
        let id = Uuid::new_v4();
        let now = self.clock.now();
        let mut tx = self.begin_write().await?;
        on_tx!(&mut tx, c => sqlx::query(&sql)
            .bind(id)
            .bind(project_id)
            .bind_fields(&f)
            .bind(now)
            .execute(c)
            .await
            .map(|_| ()))?;
        self.insert_version(&mut tx, id, 1, &f, now).await?;
        tx.commit().await?;
        Ok(SavedPage::new(f, id, project_id, 1, now, now))
    }

    /// The project of a page, deleted or not: what authorising a request on it needs.
    pub async fn page_ref(&self, id: Uuid) -> Result<PageRef, StoreError> {
        let sql = "SELECT project_id FROM pages WHERE id = $1";
        let project_id: Option<Uuid> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(id).fetch_optional(&mut *p).await)?;
        project_id
            .map(|project_id| PageRef { id, project_id })
            .ok_or(StoreError::NotFound)
    }

    pub async fn list_pages(
        &self,
        project_id: Uuid,
        filter: &PageFilter,
        w: Window,
    ) -> Result<(Vec<Page>, i64), StoreError> {
        let cond = "project_id = $1 AND ($2 IS NULL OR slug = $2) AND ($3 OR deleted_at IS NULL)";
        let sql = format!(
            "SELECT {COLS} FROM pages WHERE {cond} ORDER BY created_at, id LIMIT $4 OFFSET $5"
        );
        let count = format!("SELECT COUNT(*) FROM pages WHERE {cond}");
        let (rows, total) = on_pool!(self, p => {
            let rows = sqlx::query_as::<_, PageRow>(&sql)
                .bind(project_id)
                .bind(&filter.slug)
                .bind(filter.include_deleted)
                .bind(w.limit)
                .bind(w.offset)
                .fetch_all(&mut *p)
                .await?;
            let total: i64 = sqlx::query_scalar(&count)
                .bind(project_id)
                .bind(&filter.slug)
                .bind(filter.include_deleted)
                .fetch_one(&mut *p)
                .await?;
            (rows, total)
        });
        Ok((rows.into_iter().map(Page::from).collect(), total))
    }

    /// A page by id, deleted or not (the UI shows deleted pages so they can be restored).
    pub async fn get_page(&self, id: Uuid) -> Result<Page, StoreError> {
        let sql = format!("SELECT {COLS} FROM pages WHERE id = $1");
        let row = on_pool!(self, p => sqlx::query_as::<_, PageRow>(&sql).bind(id).fetch_optional(&mut *p).await)?;
        row.map(Page::from).ok_or(StoreError::NotFound)
    }

    /// Saves a new version of a live page. With `expected`, the save only happens when the
    /// stored version still equals it; the check and the write are one statement, so two
    /// concurrent saves of the same version can never both win. That statement also records
    /// the history row (trigger `page_versions_on_save`, migration 0013), so a save is one
    /// statement in autocommit; the answer is built from what was written, not read back.
    pub async fn update_page(
        &self,
        id: Uuid,
        expected: Option<i64>,
        f: PageFields,
    ) -> Result<SavedPage, StoreError> {
        let sql = "UPDATE pages SET slug = $3, name = $4, title = $5, description = $6, layout_data = $7, \
             seo_data = $8, is_public = $9, is_homepage = $10, updated_at = $11, version = version + 1 \
             WHERE id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR version = $2) \
             RETURNING project_id, version, created_at";
        let now = self.clock.now();
        let mut turn = self.write_turn().await;
        let row: Option<(Uuid, i64, DateTime<Utc>)> = on_writer!(self, turn.as_deref_mut(), p => sqlx::query_as(sql)
            .bind(id)
            .bind(expected)
            .bind(&f.slug)
            .bind(&f.name)
            .bind(&f.title)
            .bind(&f.description)
            .bind(Json(&*f.layout_data))
            .bind(f.seo_data.as_ref().map(Json))
            .bind(f.is_public)
            .bind(f.is_homepage)
            .bind(now)
            .fetch_optional(&mut *p)
            .await)?;
        let Some((project_id, version, created_at)) = row else {
            drop(turn);
            return Err(self.why_not_written(id).await);
        };
        if version % PRUNE_EVERY == 0 {
            let upto = version - self.history_limit;
            on_writer!(self, turn.as_deref_mut(), p => sqlx::query(PRUNE_VERSIONS).bind(id).bind(upto).execute(&mut *p).await.map(|_| ()))?;
        }
        drop(turn);
        Ok(SavedPage::new(f, id, project_id, version, created_at, now))
    }

    /// Explains a conditional write that matched no row.
    async fn why_not_written(&self, id: Uuid) -> StoreError {
        match self.get_page(id).await {
            Ok(p) if p.deleted_at.is_none() => StoreError::VersionMismatch { current: p.version },
            Ok(_) | Err(StoreError::NotFound) => StoreError::NotFound,
            Err(e) => e,
        }
    }

    pub async fn soft_delete_page(
        &self,
        id: Uuid,
        expected: Option<i64>,
    ) -> Result<Page, StoreError> {
        let sql = format!(
            "UPDATE pages SET deleted_at = $3, updated_at = $3 \
             WHERE id = $1 AND deleted_at IS NULL AND ($2 IS NULL OR version = $2) RETURNING {COLS}"
        );
        let now = self.clock.now();
        let row = on_pool!(self, p => sqlx::query_as::<_, PageRow>(&sql).bind(id).bind(expected).bind(now).fetch_optional(&mut *p).await)?;
        match row {
            Some(row) => Ok(row.into()),
            None => Err(self.why_not_written(id).await),
        }
    }

    /// Brings a soft-deleted page back; fails with a conflict when its slug (or homepage
    /// role) was taken meanwhile.
    pub async fn restore_page(&self, id: Uuid) -> Result<Page, StoreError> {
        let sql = format!(
            "UPDATE pages SET deleted_at = NULL, updated_at = $2 WHERE id = $1 AND deleted_at IS NOT NULL RETURNING {COLS}"
        );
        let now = self.clock.now();
        let row = on_pool!(self, p => sqlx::query_as::<_, PageRow>(&sql).bind(id).bind(now).fetch_optional(&mut *p).await)?;
        match row {
            Some(row) => Ok(row.into()),
            // Restoring a live page changes nothing; say so with its current state.
            None => self.get_page(id).await,
        }
    }

    pub async fn list_page_versions(
        &self,
        page_id: Uuid,
        w: Window,
    ) -> Result<(Vec<PageVersionSummary>, i64), StoreError> {
        let sql = format!(
            "SELECT version, slug, name, saved_at FROM page_versions WHERE {KEPT} \
             ORDER BY version DESC LIMIT $3 OFFSET $4"
        );
        let count = format!("SELECT COUNT(*) FROM page_versions WHERE {KEPT}");
        let limit = self.history_limit;
        let (rows, total) = on_pool!(self, p => {
            let rows: Vec<(i64, String, String, DateTime<Utc>)> =
                sqlx::query_as(&sql).bind(page_id).bind(limit).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await?;
            let total: i64 = sqlx::query_scalar(&count).bind(page_id).bind(limit).fetch_one(&mut *p).await?;
            (rows, total)
        });
        let items = rows
            .into_iter()
            .map(|(version, slug, name, saved_at)| PageVersionSummary {
                version,
                slug,
                name,
                saved_at,
            })
            .collect();
        Ok((items, total))
    }

    pub async fn get_page_version(
        &self,
        page_id: Uuid,
        version: i64,
    ) -> Result<PageVersion, StoreError> {
        let sql = format!(
            "SELECT page_id, version, slug, name, title, description, layout_data, seo_data, is_public, \
             is_homepage, saved_at FROM page_versions WHERE {KEPT} AND version = $3"
        );
        let limit = self.history_limit;
        let row = on_pool!(self, p => sqlx::query_as::<_, VersionRow>(&sql).bind(page_id).bind(limit).bind(version).fetch_optional(&mut *p).await)?;
        let r = row.ok_or(StoreError::NotFound)?;
        Ok(PageVersion {
            page_id: r.page_id,
            version: r.version,
            slug: r.slug,
            name: r.name,
            title: r.title,
            description: r.description,
            layout_data: r.layout_data.0,
            seo_data: r.seo_data.map(|j| j.0),
            is_public: r.is_public,
            is_homepage: r.is_homepage,
            saved_at: r.saved_at,
        })
    }
}

impl Store {
    /// Every live page of a project, for compiling.
    pub async fn live_pages(&self, project_id: Uuid) -> Result<Vec<Page>, StoreError> {
        let sql = format!("SELECT {COLS} FROM pages WHERE project_id = $1 AND deleted_at IS NULL ORDER BY created_at, id");
        let rows = on_pool!(self, p => sqlx::query_as::<_, PageRow>(&sql).bind(project_id).fetch_all(&mut *p).await)?;
        Ok(rows.into_iter().map(Page::from).collect())
    }
}

impl Store {
    /// Ids of a project's live pages, oldest first (cheap: no layouts).
    pub async fn live_page_ids(&self, project_id: Uuid) -> Result<Vec<Uuid>, StoreError> {
        let sql = "SELECT id FROM pages WHERE project_id = $1 AND deleted_at IS NULL ORDER BY created_at, id";
        Ok(
            on_pool!(self, p => sqlx::query_scalar::<_, Uuid>(sql).bind(project_id).fetch_all(&mut *p).await)?,
        )
    }

    /// The live pages among `ids`, in the order given.
    pub async fn live_pages_by_ids(
        &self,
        project_id: Uuid,
        ids: &[Uuid],
    ) -> Result<Vec<Page>, StoreError> {
        let rows: Vec<PageRow> = on_pool!(self, p => {
            let mut qb = sqlx::QueryBuilder::new(format!("SELECT {COLS} FROM pages WHERE deleted_at IS NULL AND project_id = "));
            qb.push_bind(project_id).push(" AND id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_as().fetch_all(&mut *p).await
        })?;
        let mut pages: Vec<Page> = rows.into_iter().map(Page::from).collect();
        pages.sort_by_key(|p| ids.iter().position(|id| *id == p.id));
        Ok(pages)
    }

    /// Whether a live, public page is the project's homepage.
    pub async fn has_public_homepage(&self, project_id: Uuid) -> Result<bool, StoreError> {
        // Literal conditions, one per backend: SQLite uses the partial homepage index only for
        // `is_homepage = 1` written out; with a bound value it reads every page row, layouts
        // and all (a 10,000-page project pays ~100 ms for one changed page).
        let sql = match self.db {
            super::Db::Sqlite(_) => "SELECT COUNT(*) FROM pages INDEXED BY pages_one_homepage WHERE project_id = $1 AND deleted_at IS NULL AND is_homepage = 1 AND is_public = 1",
            super::Db::Postgres(_) => "SELECT COUNT(*) FROM pages WHERE project_id = $1 AND deleted_at IS NULL AND is_homepage AND is_public",
        };
        let n: i64 =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(project_id).fetch_one(&mut *p).await)?;
        Ok(n > 0)
    }
}
