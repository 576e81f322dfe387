//! A Turso (libSQL) database over Hrana v2: the same tables, columns and rows as a local
//! `pages.db`, written by sending `pages_db`'s statements.
//!
//! A release is atomic for readers: it is one `BEGIN … COMMIT` batch when it fits in one
//! request (`max_request` bytes). A larger release is staged first: its rows go to
//! `_edgepub_staging` over as many requests as needed, each a committed transaction of its
//! own that readers never look at; then one final batch deletes, parks slugs, moves the
//! staged rows into `published_pages`, writes the settings and release marker and clears
//! the staging. Whatever fails before that final commit leaves the live tables as they were;
//! staging left by a crash is cleared when the tenant's next staging starts.

use super::hrana::{self, Hrana, TxBuilder, STEP_OVERHEAD};
use super::pages_db::{self, SqlValue, Stmt};
use super::{Apply, ApplyReport, PublishTarget, TargetError};
use crate::net::{ConnError, ServerInfo};
use crate::publish::plan::Held;
use async_trait::async_trait;
use libsql_hrana::proto::Value;
use std::collections::HashMap;
use std::sync::atomic::Ordering;

mod stage;
use stage::{stmt_len, Stager};

pub struct TursoTarget {
    db: Hrana,
    max_request: usize,
    schema: tokio::sync::OnceCell<()>,
}

fn encode(s: &Stmt) -> Vec<u8> {
    hrana::stmt(&s.sql, &s.args)
}

/// A column of a result row as a bound value; what `SqlValue` cannot hold (a float, a blob)
/// becomes text that no value edgepub writes equals.
fn sql_value(v: &Value) -> SqlValue {
    match v {
        Value::None | Value::Null => SqlValue::Null,
        Value::Integer { value } => SqlValue::Integer(*value),
        Value::Text { value } => SqlValue::Text(value.to_string()),
        Value::Float { value } => SqlValue::Text(format!("(float {value})")),
        Value::Blob { value } => SqlValue::Text(format!("(blob of {} bytes)", value.len())),
    }
}

impl TursoTarget {
    pub fn new(db: Hrana, max_request: usize) -> TursoTarget {
        TursoTarget {
            db,
            max_request,
            schema: tokio::sync::OnceCell::new(),
        }
    }

    /// Tables when missing, then missing columns, then indexes (as for a local file).
    async fn ensure_schema(&self) -> Result<(), ConnError> {
        self.schema
            .get_or_try_init(|| async {
                let mut first: Vec<Vec<u8>> = pages_db::SCHEMA
                    .iter()
                    .map(|sql| hrana::stmt(sql, &[]))
                    .collect();
                first.push(hrana::stmt(pages_db::TABLE_INFO, &[]));
                let results = self.db.execute_all(&first).await?;
                let present: Vec<String> = results
                    .last()
                    .map(|r| {
                        r.rows
                            .iter()
                            .filter_map(|row| hrana::text(row.values.get(1)))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut second: Vec<Vec<u8>> = pages_db::add_missing_columns(&present)
                    .iter()
                    .map(|sql| hrana::stmt(sql, &[]))
                    .collect();
                second.push(hrana::stmt(pages_db::TABLE_SQL, &[]));
                let results = self.db.execute_all(&second).await?;
                let rows: Vec<(String, String, String)> = results
                    .last()
                    .map(|r| {
                        r.rows
                            .iter()
                            .filter_map(|row| {
                                let v = &row.values;
                                Some((
                                    hrana::text(v.first())?,
                                    hrana::text(v.get(1))?,
                                    hrana::text(v.get(2))?,
                                ))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                if let Some(fix) = pages_db::fix_global_slug_unique(&rows) {
                    let mut tx = TxBuilder::default();
                    for sql in &fix {
                        tx.push(&hrana::stmt(sql, &[]));
                    }
                    self.db.transaction(tx).await?;
                }
                let indexes: Vec<Vec<u8>> = pages_db::INDEXES
                    .iter()
                    .map(|sql| hrana::stmt(sql, &[]))
                    .collect();
                self.db.execute_all(&indexes).await.map(|_| ())
            })
            .await
            .copied()
    }

    /// Sends the final transaction: `prelude`, `middle`, `epilogue`.
    async fn commit(
        &self,
        prelude: &[Vec<u8>],
        middle: Vec<Vec<u8>>,
        epilogue: &[Vec<u8>],
    ) -> Result<(), ConnError> {
        let mut tx = TxBuilder::default();
        for s in prelude.iter().chain(middle.iter()).chain(epilogue.iter()) {
            tx.push(s);
        }
        self.db.transaction(tx).await
    }

    async fn write(&self, a: &Apply<'_>) -> Result<(), TargetError> {
        let prelude: Vec<Vec<u8>> = pages_db::prelude(a).iter().map(encode).collect();
        let epilogue: Vec<Vec<u8>> = pages_db::epilogue(a).iter().map(encode).collect();
        let fixed: usize = prelude
            .iter()
            .chain(epilogue.iter())
            .map(|s| s.len() + STEP_OVERHEAD)
            .sum::<usize>()
            + hrana::TX_OVERHEAD;
        // Encoded page rows while the release still fits in one request.
        let mut gathered: Vec<Vec<u8>> = Vec::new();
        let mut gathered_bytes = 0;
        let mut stager: Option<Stager> = None;
        for refs in a.upserts.chunks(pages_db::PAGES_PER_STMT) {
            let pages = a.bodies.load(refs).await?;
            for page in &pages {
                let row = hrana::encode_args(&pages_db::page_row(a.tenant, page)?);
                if stager.is_none() {
                    let n = gathered.len() + 1;
                    let statements = n.div_ceil(pages_db::PAGES_PER_STMT);
                    let overhead =
                        statements * stmt_len(pages_db::upsert_sql, pages_db::PAGES_PER_STMT, 0);
                    if fixed + gathered_bytes + row.len() + n + overhead <= self.max_request {
                        gathered_bytes += row.len();
                        gathered.push(row);
                        continue;
                    }
                    stager = Some(Stager::start(&self.db, self.max_request, a).await?);
                }
                if let Some(st) = stager.as_mut() {
                    for g in gathered.drain(..) {
                        st.push(&g).await?;
                    }
                    st.push(&row).await?;
                }
            }
        }
        let middle = match stager {
            None => gathered
                .chunks(pages_db::PAGES_PER_STMT)
                .map(|rows| {
                    hrana::encode_stmt(&pages_db::upsert_sql(rows.len()), &rows.join(&b','), false)
                })
                .collect(),
            Some(st) => {
                st.finish().await?;
                pages_db::switch_staged(&a.job_id.to_string())
                    .iter()
                    .map(encode)
                    .collect()
            }
        };
        Ok(self.commit(&prelude, middle, &epilogue).await?)
    }
}

#[async_trait]
impl PublishTarget for TursoTarget {
    fn atomic(&self) -> bool {
        true
    }

    async fn probe(&self) -> Result<ServerInfo, ConnError> {
        self.db.probe().await
    }

    async fn held(&self, tenant: &str) -> Result<Option<HashMap<String, Held>>, ConnError> {
        self.ensure_schema().await?;
        let result = self.db.execute(encode(&pages_db::held(tenant))).await?;
        Ok(Some(
            result
                .rows
                .iter()
                .filter_map(|r| {
                    let v = &r.values;
                    Some((
                        hrana::text(v.first())?,
                        Held {
                            content_hash: hrana::text(v.get(1)),
                            version: hrana::integer(v.get(2)).unwrap_or(0),
                            slug: hrana::text(v.get(3)),
                        },
                    ))
                })
                .collect(),
        ))
    }

    async fn rows(
        &self,
        tenant: &str,
        ids: &[&str],
    ) -> Result<Option<HashMap<String, Vec<SqlValue>>>, ConnError> {
        self.ensure_schema().await?;
        let stmts: Vec<Vec<u8>> = pages_db::rows(tenant, ids).iter().map(encode).collect();
        let mut out = HashMap::new();
        for result in self.db.execute_all(&stmts).await? {
            for row in &result.rows {
                let values: Vec<SqlValue> = row.values.iter().map(sql_value).collect();
                if let Some(SqlValue::Text(id)) = values.first() {
                    out.insert(id.clone(), values);
                }
            }
        }
        Ok(Some(out))
    }

    async fn marker(&self, tenant: &str) -> Result<Option<String>, ConnError> {
        self.ensure_schema().await?;
        let result = self.db.execute(encode(&pages_db::marker(tenant))).await?;
        Ok(result
            .rows
            .first()
            .and_then(|r| hrana::text(r.values.first())))
    }

    async fn settings(
        &self,
        tenant: &str,
    ) -> Result<Option<Vec<(String, super::SiteSettings)>>, ConnError> {
        self.ensure_schema().await?;
        let result = self
            .db
            .execute(encode(&pages_db::settings_rows(tenant)))
            .await?;
        Ok(Some(
            result
                .rows
                .iter()
                .filter_map(|r| {
                    let v = &r.values;
                    let text = |i: usize| hrana::text(v.get(i));
                    Some(pages_db::settings_from(
                        text(0)?,
                        [text(1), text(2), text(3), text(4), text(5)],
                    ))
                })
                .collect(),
        ))
    }

    async fn apply(&self, a: &Apply<'_>) -> Result<ApplyReport, TargetError> {
        self.ensure_schema().await?;
        if let Err(e) = self.write(a).await {
            // The live tables are untouched; drop this job's staged rows if the server still
            // answers (otherwise the tenant's next staging clears them).
            if matches!(&e, TargetError::Conn(c) if !c.kind.is_transient()) {
                let clear = pages_db::switch_staged(&a.job_id.to_string());
                let _ = self.db.execute(encode(&clear[1])).await;
            }
            return Err(e);
        }
        Ok(ApplyReport::all(a))
    }

    fn traffic(&self) -> (u64, u64) {
        (
            self.db.traffic.requests.load(Ordering::Relaxed),
            self.db.traffic.bytes.load(Ordering::Relaxed),
        )
    }
}
