//! The edge state database's contract (edge-contract section 1) as neutral statements: SQL
//! text with positional values. The local target runs them through sqlx, the Turso target
//! sends them as Hrana batches, so both write the same tables, columns and rows by
//! construction.
//!
//! Explicit column lists everywhere: a table an edge created first has its columns in
//! another order, may lack newer columns (added here), and may carry a global `UNIQUE(slug)`
//! (coped with by parking rewritten pages' slugs before the upsert).

mod readback;
mod rebuild;

pub use readback::{differing_columns, rows, PAGE_COLUMNS};
pub use rebuild::{fix_global_slug_unique, TABLE_SQL};

use super::{Apply, BodyError, PageBody, SiteSettings};

/// A value bound to a positional parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Integer(i64),
    Text(String),
}

impl From<Option<String>> for SqlValue {
    fn from(v: Option<String>) -> Self {
        v.map_or(SqlValue::Null, SqlValue::Text)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_string())
    }
}

/// One statement with `?` placeholders.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub sql: String,
    pub args: Vec<SqlValue>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, args: Vec<SqlValue>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args,
        }
    }
}

/// Tables edgepub writes, created when missing (one statement each).
pub const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS published_pages (
    id TEXT PRIMARY KEY, slug TEXT NOT NULL, name TEXT NOT NULL, title TEXT, description TEXT,
    layout_data TEXT NOT NULL, seo_data TEXT, datasources TEXT, css_bundle TEXT,
    version INTEGER NOT NULL DEFAULT 1, published_at TEXT NOT NULL,
    is_public INTEGER NOT NULL DEFAULT 1, is_homepage INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    content_hash TEXT, tenant_slug TEXT NOT NULL DEFAULT '_default')",
    "CREATE TABLE IF NOT EXISTS project_settings (
    id TEXT PRIMARY KEY, favicon_url TEXT, logo_url TEXT, site_name TEXT, site_description TEXT,
    app_url TEXT, auth_forms TEXT, users_config TEXT, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS _edgepub_release (
    tenant_slug TEXT PRIMARY KEY, release_id TEXT NOT NULL, job_id TEXT NOT NULL, published_at TEXT NOT NULL)",
];

/// Indexes, created after any missing column was added.
pub const INDEXES: &[&str] = &[
    "CREATE UNIQUE INDEX IF NOT EXISTS idx_published_pages_tenant_slug ON published_pages (tenant_slug, slug)",
    "CREATE INDEX IF NOT EXISTS idx_published_pages_homepage ON published_pages (is_homepage)",
    // Covers `held`: what a target holds is read without walking the rows' large text.
    "CREATE INDEX IF NOT EXISTS idx_published_pages_held ON published_pages (tenant_slug, id, content_hash, version, slug)",
];

/// Lists `published_pages`' columns; the column name is the second field of each row.
pub const TABLE_INFO: &str = "PRAGMA table_info(published_pages)";

/// Columns an older edge-created table may lack, with how to add them.
const ADDABLE: &[(&str, &str)] = &[
    ("title", "TEXT"),
    ("description", "TEXT"),
    ("seo_data", "TEXT"),
    ("datasources", "TEXT"),
    ("css_bundle", "TEXT"),
    ("content_hash", "TEXT"),
    ("tenant_slug", "TEXT NOT NULL DEFAULT '_default'"),
];

/// The `ALTER TABLE`s that bring a table with `present` columns up to the contract.
pub fn add_missing_columns(present: &[String]) -> Vec<String> {
    ADDABLE
        .iter()
        .filter(|(col, _)| !present.iter().any(|p| p == col))
        .map(|(col, ty)| format!("ALTER TABLE published_pages ADD COLUMN {col} {ty}"))
        .collect()
}

/// What a tenant's rows hold: `id, content_hash, version, slug`.
pub fn held(tenant: &str) -> Stmt {
    Stmt::new(
        "SELECT id, content_hash, version, slug FROM published_pages WHERE tenant_slug = ?",
        vec![tenant.into()],
    )
}

/// The release edgepub last wrote for a tenant (its `_edgepub_release` marker).
pub fn marker(tenant: &str) -> Stmt {
    Stmt::new(
        "SELECT release_id FROM _edgepub_release WHERE tenant_slug = ?",
        vec![tenant.into()],
    )
}

/// Ids per `IN (…)` list; far below SQLite's parameter limit.
const IDS_PER_STMT: usize = 500;
/// Pages per multi-row upsert (17 parameters each), which is also how many compiled pages a
/// target holds at once (each as its blob, a parsed tree and bound copies: about 25× its
/// ~58 KB of JSON in all). 50 keeps that near 75 MB where 200 made a 1,000-page publish peak
/// at ~300 MB; the extra statements cost nothing measurable.
pub const PAGES_PER_STMT: usize = 50;

fn in_list(prefix: &str, tenant: &str, ids: &[&str]) -> Vec<Stmt> {
    ids.chunks(IDS_PER_STMT)
        .map(|chunk| {
            let marks = vec!["?"; chunk.len()].join(", ");
            let mut args = vec![SqlValue::from(tenant)];
            args.extend(chunk.iter().map(|id| SqlValue::from(*id)));
            Stmt::new(
                format!("{prefix} WHERE tenant_slug = ? AND id IN ({marks})"),
                args,
            )
        })
        .collect()
}

/// Deletes of removed pages, then the rewritten pages' slugs parked on unique placeholders,
/// so slugs may move between pages in one release without a transient unique clash.
pub fn prelude(a: &Apply<'_>) -> Vec<Stmt> {
    let deletes: Vec<&str> = a.deletes.iter().map(|d| d.page_id.as_str()).collect();
    let moving: Vec<&str> = a.upserts.iter().map(|p| p.page_id.as_str()).collect();
    let mut out = in_list("DELETE FROM published_pages", a.tenant, &deletes);
    out.extend(in_list(
        "UPDATE published_pages SET slug = slug || '#moving#' || id",
        a.tenant,
        &moving,
    ));
    out
}

const PAGE_COLS: &str = "id, slug, name, title, description, layout_data, seo_data, datasources, css_bundle, version, \
                         published_at, is_public, is_homepage, created_at, updated_at, content_hash, tenant_slug";

const PAGE_UPDATE: &str = " ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, name = excluded.name, title = excluded.title, \
     description = excluded.description, layout_data = excluded.layout_data, seo_data = excluded.seo_data, \
     datasources = excluded.datasources, css_bundle = excluded.css_bundle, version = excluded.version, \
     published_at = excluded.published_at, is_public = excluded.is_public, is_homepage = excluded.is_homepage, \
     updated_at = excluded.updated_at, content_hash = excluded.content_hash, tenant_slug = excluded.tenant_slug";

/// The row values of one stamped compiled page, in `PAGE_COLS` order: members are sliced from
/// the page's bytes (JSON columns keep their compact text as stored).
pub fn page_row(tenant: &str, page: &PageBody) -> Result<Vec<SqlValue>, BodyError> {
    let m = page.members()?;
    let text = |key: &str| SqlValue::from(m.text(key));
    let raw = |key: &str| SqlValue::from(m.raw(key).map(str::to_owned));
    let flag =
        |key: &str, default: bool| SqlValue::Integer(i64::from(m.flag(key).unwrap_or(default)));
    let published = page.published_at.clone();
    Ok(vec![
        text("id"),
        text("slug"),
        text("name"),
        text("title"),
        text("description"),
        SqlValue::Text(m.raw("layoutData").unwrap_or("{\"content\":[]}").to_owned()),
        raw("seoData"),
        raw("datasources"),
        text("cssBundle"),
        SqlValue::Integer(page.version),
        SqlValue::Text(published.clone()),
        flag("isPublic", true),
        flag("isHomepage", false),
        SqlValue::Text(published.clone()),
        SqlValue::Text(published),
        text("contentHash"),
        tenant.into(),
    ])
}

/// Parameters of one page row.
pub const ROW_PARAMS: usize = 17;

fn placeholders(rows: usize, per_row: usize) -> String {
    let row = format!("({})", vec!["?"; per_row].join(", "));
    vec![row.as_str(); rows].join(", ")
}

/// An upsert of `rows` page rows into the live table.
pub fn upsert_sql(rows: usize) -> String {
    format!(
        "INSERT INTO published_pages ({PAGE_COLS}) VALUES {}{PAGE_UPDATE}",
        placeholders(rows, ROW_PARAMS)
    )
}

/// Upserts of stamped compiled pages, `PAGES_PER_STMT` rows a statement.
pub fn upserts(tenant: &str, pages: &[PageBody]) -> Result<Vec<Stmt>, BodyError> {
    pages
        .chunks(PAGES_PER_STMT)
        .map(|chunk| {
            let mut args = Vec::with_capacity(chunk.len() * ROW_PARAMS);
            for p in chunk {
                args.extend(page_row(tenant, p)?);
            }
            Ok(Stmt::new(upsert_sql(chunk.len()), args))
        })
        .collect()
}

/// Where a release too large for one request is staged, keyed by job, before one final
/// transaction switches it into the live table. Edges never read it.
pub const STAGING_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS _edgepub_staging (
    job_id TEXT NOT NULL, id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, title TEXT, description TEXT,
    layout_data TEXT NOT NULL, seo_data TEXT, datasources TEXT, css_bundle TEXT, version INTEGER NOT NULL,
    published_at TEXT NOT NULL, is_public INTEGER NOT NULL, is_homepage INTEGER NOT NULL, created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, content_hash TEXT, tenant_slug TEXT NOT NULL, PRIMARY KEY (job_id, id))";

/// Rows of `rows` pages into staging; each row is the job id followed by a page row.
/// Re-staging the same page (a retried request) replaces it.
pub fn stage_sql(rows: usize) -> String {
    format!(
        "INSERT OR REPLACE INTO _edgepub_staging (job_id, {PAGE_COLS}) VALUES {}",
        placeholders(rows, ROW_PARAMS + 1)
    )
}

/// Leftovers of an earlier, interrupted staging for this tenant (one project's jobs run one
/// at a time, so whatever is there is stale).
pub fn clear_staging(tenant: &str) -> Stmt {
    Stmt::new(
        "DELETE FROM _edgepub_staging WHERE tenant_slug = ?",
        vec![tenant.into()],
    )
}

/// Moves a job's staged rows into the live table, then drops them from staging.
pub fn switch_staged(job_id: &str) -> [Stmt; 2] {
    [
        Stmt::new(
            format!(
                "INSERT INTO published_pages ({PAGE_COLS}) SELECT {PAGE_COLS} FROM _edgepub_staging \
                 WHERE job_id = ?{PAGE_UPDATE}"
            ),
            vec![job_id.into()],
        ),
        Stmt::new(
            "DELETE FROM _edgepub_staging WHERE job_id = ?",
            vec![job_id.into()],
        ),
    ]
}

/// The edge reads row `_default` when rendering and `default` for llms.txt; a tenant's row
/// is its slug.
pub fn settings_row_ids(tenant: &str) -> Vec<&str> {
    if tenant == crate::domain::project::DEFAULT_TENANT {
        vec!["_default", "default"]
    } else {
        vec![tenant]
    }
}

/// The tenant's settings rows: `id, favicon_url, logo_url, site_name, site_description,
/// app_url`.
pub fn settings_rows(tenant: &str) -> Stmt {
    let ids = settings_row_ids(tenant);
    let marks = vec!["?"; ids.len()].join(", ");
    Stmt::new(
        format!(
            "SELECT id, favicon_url, logo_url, site_name, site_description, app_url FROM project_settings \
             WHERE id IN ({marks}) ORDER BY id"
        ),
        ids.into_iter().map(SqlValue::from).collect(),
    )
}

/// A settings row read back: its id and values.
pub fn settings_from(id: String, v: [Option<String>; 5]) -> (String, SiteSettings) {
    let [favicon_url, logo_url, site_name, site_description, app_url] = v;
    (
        id,
        SiteSettings {
            favicon_url,
            logo_url,
            site_name,
            site_description,
            app_url,
        },
    )
}

/// The site settings rows and edgepub's own `_edgepub_release` marker.
pub fn epilogue(a: &Apply<'_>) -> Vec<Stmt> {
    let s: &SiteSettings = a.settings;
    let mut out: Vec<Stmt> = settings_row_ids(a.tenant)
        .into_iter()
        .map(|id| {
            Stmt::new(
                "INSERT INTO project_settings (id, favicon_url, logo_url, site_name, site_description, app_url, auth_forms, users_config, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, '{}', NULL, ?) ON CONFLICT (id) DO UPDATE SET favicon_url = excluded.favicon_url, \
                 logo_url = excluded.logo_url, site_name = excluded.site_name, site_description = excluded.site_description, \
                 app_url = excluded.app_url, updated_at = excluded.updated_at",
                vec![
                    id.into(),
                    s.favicon_url.clone().into(),
                    s.logo_url.clone().into(),
                    s.site_name.clone().into(),
                    s.site_description.clone().into(),
                    s.app_url.clone().into(),
                    a.published_at.into(),
                ],
            )
        })
        .collect();
    out.push(Stmt::new(
        "INSERT INTO _edgepub_release (tenant_slug, release_id, job_id, published_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (tenant_slug) DO UPDATE SET release_id = excluded.release_id, job_id = excluded.job_id, published_at = excluded.published_at",
        vec![
            a.tenant.into(),
            SqlValue::Text(a.release_id.to_string()),
            SqlValue::Text(a.job_id.to_string()),
            a.published_at.into(),
        ],
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upserts_bind_every_column_and_chunk() {
        let blob = serde_json::json!({"id": "p", "slug": "s", "name": "n \"q\"", "version": 1,
            "layoutData": {"content": [{"id": "a", "text": "é\u{1}"}]}, "isHomepage": true, "seoData": null})
        .to_string();
        let page = PageBody {
            blob,
            version: 3,
            published_at: "2026-01-01T00:00:00.000Z".into(),
        };
        let pages = vec![page; PAGES_PER_STMT + 1];
        let stmts = upserts("_default", &pages).unwrap();
        assert_eq!(stmts.len(), 2);
        let row = &stmts[1].args;
        assert_eq!(row[2], SqlValue::Text("n \"q\"".into()), "strings decoded");
        assert_eq!(
            row[5],
            SqlValue::Text(r#"{"content":[{"id":"a","text":"é\u0001"}]}"#.into()),
            "JSON columns keep the stored text"
        );
        assert_eq!(row[6], SqlValue::Null, "null is absent");
        assert_eq!(row[10], SqlValue::Text("2026-01-01T00:00:00.000Z".into()));
        assert_eq!(stmts[0].args.len(), 17 * PAGES_PER_STMT);
        assert_eq!(stmts[1].sql.matches('?').count(), stmts[1].args.len());
        assert_eq!(stmts[1].args[9], SqlValue::Integer(3));
        assert_eq!(stmts[1].args[12], SqlValue::Integer(1));
        assert_eq!(stmts[1].args[11], SqlValue::Integer(1));
    }

    #[test]
    fn only_missing_columns_are_added() {
        let present: Vec<String> = ["id", "slug", "title", "tenant_slug"]
            .map(String::from)
            .to_vec();
        let adds = add_missing_columns(&present);
        assert_eq!(adds.len(), 5);
        assert!(adds.iter().all(|a| !a.contains(" title ")));
    }
}
