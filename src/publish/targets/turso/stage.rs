//! Staging a release too large for one request: its rows go to `_edgepub_staging` in
//! multi-row statements and transactions that each stay under the request size limit.

use super::encode;
use crate::net::{ConnError, ErrorKind};
use crate::publish::targets::hrana::{self, Hrana, TxBuilder, STEP_OVERHEAD};
use crate::publish::targets::pages_db::{self, SqlValue};
use crate::publish::targets::Apply;

fn too_small() -> ConnError {
    ConnError::new(
        ErrorKind::Invalid,
        "a page is larger than the Turso request size limit (EDGEPUB_TURSO_MAX_REQUEST_BYTES)",
    )
}

/// An upper bound of a multi-row statement's JSON size.
pub(super) fn stmt_len(sql: fn(usize) -> String, rows: usize, args: usize) -> usize {
    sql(rows).len() + args + STEP_OVERHEAD + 160
}

/// Rows going to `_edgepub_staging`, gathered into multi-row statements and transactions
/// that each stay under the request size limit. One transaction is sent while the next is
/// encoded: the server applies a request while this side reads and encodes pages, and the
/// server's single connection takes them in order anyway.
pub(super) struct Stager<'a> {
    db: &'a Hrana,
    max: usize,
    /// The encoded job id every staging row starts with.
    lead: Vec<u8>,
    args: Vec<u8>,
    count: usize,
    tx: TxBuilder,
    sending: Option<tokio::task::JoinHandle<Result<(), ConnError>>>,
}

impl<'a> Stager<'a> {
    /// Creates the staging table and clears what an interrupted staging of this tenant
    /// left behind.
    pub async fn start(db: &'a Hrana, max: usize, a: &Apply<'_>) -> Result<Stager<'a>, ConnError> {
        let mut setup = TxBuilder::default();
        setup.push(&hrana::stmt(pages_db::STAGING_SCHEMA, &[]));
        setup.push(&encode(&pages_db::clear_staging(a.tenant)));
        db.transaction(setup).await?;
        Ok(Stager {
            db,
            max,
            lead: hrana::encode_args(&[SqlValue::Text(a.job_id.to_string())]),
            args: Vec::new(),
            count: 0,
            tx: TxBuilder::default(),
            sending: None,
        })
    }

    fn fits(&self, rows: usize, args: usize) -> bool {
        self.tx.bytes() + stmt_len(pages_db::stage_sql, rows, args) <= self.max
    }

    pub async fn push(&mut self, row: &[u8]) -> Result<(), ConnError> {
        let full = self.lead.len() + 1 + row.len();
        if self.count > 0
            && (self.count >= pages_db::PAGES_PER_STMT
                || !self.fits(self.count + 1, self.args.len() + full + 1))
        {
            self.close();
        }
        if self.count == 0 && !self.fits(1, full) {
            if self.tx.is_empty() {
                return Err(too_small());
            }
            self.flush().await?;
            if !self.fits(1, full) {
                return Err(too_small());
            }
        }
        if self.count > 0 {
            self.args.push(b',');
        }
        self.args.extend_from_slice(&self.lead);
        self.args.push(b',');
        self.args.extend_from_slice(row);
        self.count += 1;
        Ok(())
    }

    /// Ends the open statement; it was only grown while it fitted the open transaction.
    fn close(&mut self) {
        if self.count > 0 {
            let sql = pages_db::stage_sql(self.count);
            self.tx.push(&hrana::encode_stmt(
                &sql,
                &std::mem::take(&mut self.args),
                false,
            ));
            self.count = 0;
        }
    }

    /// Sends the open transaction once the one before it committed.
    async fn flush(&mut self) -> Result<(), ConnError> {
        self.landed().await?;
        let (db, tx) = (self.db.clone(), std::mem::take(&mut self.tx));
        self.sending = Some(tokio::spawn(async move { db.transaction(tx).await }));
        Ok(())
    }

    /// Waits for the transaction being sent, if any, to commit.
    async fn landed(&mut self) -> Result<(), ConnError> {
        match self.sending.take() {
            Some(sent) => sent.await.map_err(|e| {
                ConnError::new(ErrorKind::Protocol, format!("sending to Turso failed: {e}"))
            })?,
            None => Ok(()),
        }
    }

    pub async fn finish(mut self) -> Result<(), ConnError> {
        self.close();
        if !self.tx.is_empty() {
            self.flush().await?;
        }
        self.landed().await
    }
}
