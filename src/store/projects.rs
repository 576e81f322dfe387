//! Projects table.

use super::{on_pool, Store, StoreError, Window};
use crate::domain::project::{Project, ProjectFields};
use uuid::Uuid;

const COLS: &str = "id, name, slug, description, tenant_slug, site_name, site_description, \
                    favicon_url, logo_url, app_url, created_at, updated_at, site_dir";

/// Binds a project's saved fields in the order create and update both list them (`name, slug,
/// description, tenant_slug, site_name, site_description, favicon_url, logo_url, app_url`). A
/// macro, not a function, so it fits the query of each driver `on_pool!` expands to.
macro_rules! bind_fields {
    ($q:expr, $f:expr) => {
        $q.bind(&$f.name)
            .bind(&$f.slug)
            .bind(&$f.description)
            .bind(&$f.tenant_slug)
            .bind(&$f.site_name)
            .bind(&$f.site_description)
            .bind(&$f.favicon_url)
            .bind(&$f.logo_url)
            .bind(&$f.app_url)
    };
}

impl Store {
    /// Creates a project with its directory under the sites root (its slug, or `slug-<id>`
    /// when another project already has that directory, e.g. after a rename) and its default
    /// publish target, a local `<site_dir>/pages.db`.
    pub async fn create_project(&self, f: &ProjectFields) -> Result<Project, StoreError> {
        let now = self.clock.now();
        let id = Uuid::new_v4();
        let sql = format!(
            "INSERT INTO projects ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, \
             CASE WHEN EXISTS (SELECT 1 FROM projects WHERE site_dir = $3) THEN $12 ELSE $3 END) \
             RETURNING {COLS}"
        );
        // One statement (no read before the write): SQLite cannot upgrade a read transaction
        // to a write while another connection writes.
        let fallback = format!("{}-{}", f.slug, &id.simple().to_string()[..8]);
        let target = "INSERT INTO publish_targets (id, project_id, name, kind, enabled, path, created_at, updated_at) \
                      VALUES ($1, $2, 'local', 'local', TRUE, $3, $4, $4)";
        let row = on_pool!(self, p => {
            let mut tx = sqlx::Connection::begin(&mut *p).await?;
            let project = bind_fields!(sqlx::query_as::<_, Project>(&sql)
            .bind(id), f)
            .bind(now)
            .bind(&fallback)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(target)
                .bind(Uuid::new_v4())
                .bind(project.id)
                .bind(format!("{}/pages.db", project.site_dir))
                .bind(now)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            project
        });
        Ok(row)
    }

    /// Lists projects by creation time; `only` limits the list to one project (scoped tokens).
    pub async fn list_projects(
        &self,
        w: Window,
        only: Option<Uuid>,
    ) -> Result<(Vec<Project>, i64), StoreError> {
        let sql = format!(
            "SELECT {COLS} FROM projects WHERE ($1 IS NULL OR id = $1) \
             ORDER BY created_at, id LIMIT $2 OFFSET $3"
        );
        let count = "SELECT COUNT(*) FROM projects WHERE ($1 IS NULL OR id = $1)";
        let (items, total) = on_pool!(self, p => {
            let items = sqlx::query_as::<_, Project>(&sql).bind(only).bind(w.limit).bind(w.offset).fetch_all(&mut *p).await?;
            let total: i64 = sqlx::query_scalar(count).bind(only).fetch_one(&mut *p).await?;
            (items, total)
        });
        Ok((items, total))
    }

    /// Finds a project by UUID or by slug.
    pub async fn get_project(&self, id_or_slug: &str) -> Result<Project, StoreError> {
        let row = match Uuid::parse_str(id_or_slug) {
            Ok(id) => {
                let sql = format!("SELECT {COLS} FROM projects WHERE id = $1");
                on_pool!(self, p => sqlx::query_as::<_, Project>(&sql).bind(id).fetch_optional(&mut *p).await)?
            }
            Err(_) => {
                let sql = format!("SELECT {COLS} FROM projects WHERE slug = $1");
                on_pool!(self, p => sqlx::query_as::<_, Project>(&sql).bind(id_or_slug).fetch_optional(&mut *p).await)?
            }
        };
        row.ok_or(StoreError::NotFound)
    }

    pub async fn update_project(&self, id: Uuid, f: &ProjectFields) -> Result<Project, StoreError> {
        let sql = format!(
            "UPDATE projects SET name = $2, slug = $3, description = $4, tenant_slug = $5, site_name = $6, \
             site_description = $7, favicon_url = $8, logo_url = $9, app_url = $10, updated_at = $11 \
             WHERE id = $1 RETURNING {COLS}"
        );
        let row = on_pool!(self, p => bind_fields!(sqlx::query_as::<_, Project>(&sql)
            .bind(id), f)
            .bind(self.clock.now())
            .fetch_optional(&mut *p)
            .await)?;
        row.ok_or(StoreError::NotFound)
    }

    /// Deletes a project with its pages, history and project-scoped tokens.
    pub async fn delete_project(&self, id: Uuid) -> Result<(), StoreError> {
        let done = on_pool!(self, p => sqlx::query("DELETE FROM projects WHERE id = $1").bind(id).execute(&mut *p).await.map(|r| r.rows_affected()))?;
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }
}
