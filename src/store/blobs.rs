//! Compiled pages, stored once per project and content hash. A body is read back either as
//! a string (targets, drift) or kept in the driver's rows and borrowed from them (priming,
//! which slices ~50 KB pages by the thousand and copies each once, into its command).

use super::{on_pool, Store, StoreError};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// A compiled page to store.
pub struct NewBlob {
    pub hash: String,
    pub body: String,
    pub is_homepage: bool,
    /// Where `layoutData`'s value starts and ends in `body`.
    pub layout: (usize, usize),
}

/// Compiled pages as the driver read them.
pub struct BlobRows(Rows);

enum Rows {
    Sqlite(Vec<SqliteRow>),
    Postgres(Vec<PgRow>),
}

/// A compiled page borrowed from [`BlobRows`].
#[derive(Debug, Clone, Copy)]
pub struct BlobRef<'a> {
    pub body: &'a str,
    /// Where `layoutData`'s value is, when the compiler recorded it.
    pub layout: Option<(usize, usize)>,
}

impl From<Vec<SqliteRow>> for Rows {
    fn from(rows: Vec<SqliteRow>) -> Rows {
        Rows::Sqlite(rows)
    }
}

impl From<Vec<PgRow>> for Rows {
    fn from(rows: Vec<PgRow>) -> Rows {
        Rows::Postgres(rows)
    }
}

impl BlobRows {
    /// The pages by content hash.
    pub fn index(&self) -> Result<HashMap<&str, BlobRef<'_>>, StoreError> {
        fn entry<'r, R: Row>(row: &'r R) -> Result<(&'r str, BlobRef<'r>), sqlx::Error>
        where
            for<'a> &'a str: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
            i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
            usize: sqlx::ColumnIndex<R>,
        {
            let (start, end): (Option<i64>, Option<i64>) = (row.try_get(2)?, row.try_get(3)?);
            let layout = match (start, end) {
                (Some(s), Some(e)) => usize::try_from(s).ok().zip(usize::try_from(e).ok()),
                _ => None,
            };
            let body = BlobRef {
                body: row.try_get(1)?,
                layout,
            };
            Ok((row.try_get(0)?, body))
        }
        let out: Result<HashMap<_, _>, sqlx::Error> = match &self.0 {
            Rows::Sqlite(rows) => rows.iter().map(entry).collect(),
            Rows::Postgres(rows) => rows.iter().map(entry).collect(),
        };
        Ok(out?)
    }
}

/// `SELECT {cols}` of the project's compiled pages with the given hashes.
fn select<'a, DB>(project_id: Uuid, cols: &str, hashes: &'a [String]) -> QueryBuilder<'a, DB>
where
    DB: sqlx::Database,
    DB::Arguments<'a>: Default,
    Uuid: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
    &'a String: sqlx::Encode<'a, DB> + sqlx::Type<DB>,
{
    let mut qb = QueryBuilder::new(format!("SELECT {cols} FROM page_blobs WHERE project_id = "));
    qb.push_bind(project_id).push(" AND content_hash IN (");
    let mut sep = qb.separated(", ");
    for h in hashes {
        sep.push_bind(h);
    }
    qb.push(")");
    qb
}

impl Store {
    /// Takes the bodies by value: they are bound as they are, not copied first.
    pub async fn put_blobs(
        &self,
        project_id: Uuid,
        mut blobs: Vec<NewBlob>,
    ) -> Result<(), StoreError> {
        while !blobs.is_empty() {
            let chunk: Vec<_> = blobs.drain(..blobs.len().min(200)).collect();
            on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO page_blobs (project_id, content_hash, body, is_homepage, layout_start, layout_end) ");
                qb.push_values(chunk, |mut b, blob| {
                    let span = (i64::try_from(blob.layout.0).ok(), i64::try_from(blob.layout.1).ok());
                    b.push_bind(project_id).push_bind(blob.hash).push_bind(blob.body)
                        .push_bind(blob.is_homepage).push_bind(span.0).push_bind(span.1);
                });
                qb.push(" ON CONFLICT (project_id, content_hash) DO NOTHING");
                qb.build().execute(&mut *p).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Content hashes of the project's compiled pages that are a homepage (one per homepage
    /// content ever compiled: few).
    pub async fn homepage_hashes(
        &self,
        project_id: Uuid,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let sql = "SELECT content_hash FROM page_blobs WHERE project_id = $1 AND is_homepage";
        let rows: Vec<String> =
            on_pool!(self, p => sqlx::query_scalar(sql).bind(project_id).fetch_all(&mut *p).await)?;
        Ok(rows.into_iter().collect())
    }

    pub async fn get_blobs(
        &self,
        project_id: Uuid,
        hashes: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut out = HashMap::new();
        for chunk in hashes.chunks(500) {
            let rows: Vec<(String, String)> = on_pool!(self, p => {
                select(project_id, "content_hash, body", chunk).build_query_as().fetch_all(&mut *p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The compiled pages of `hashes` (at most a few hundred), kept as rows.
    pub async fn blob_rows(
        &self,
        project_id: Uuid,
        hashes: &[String],
    ) -> Result<BlobRows, StoreError> {
        if hashes.is_empty() {
            // `IN ()` is not SQL Postgres takes.
            return Ok(BlobRows(Rows::Sqlite(Vec::new())));
        }
        let cols = "content_hash, body, layout_start, layout_end";
        let rows = on_pool!(self, p => select(project_id, cols, hashes).build().fetch_all(&mut *p).await.map(Rows::from))?;
        Ok(BlobRows(rows))
    }
}
