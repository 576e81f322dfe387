//! A control-plane transaction that several store functions write into, so that everything
//! that must commit with a release (the release, the job's end, later cache outbox rows,
//! outgoing events and audit rows) is written by separate functions and committed once.

use super::{Db, Store, StoreError};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::sync::OwnedMutexGuard;

/// On SQLite, a transaction from [`Store::begin_write`] also holds the store's writer lock
/// until it ends.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>, Option<OwnedMutexGuard<()>>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$conn` bound to the transaction's connection, whichever driver it is,
/// so a query is written once for both (like `on_pool!`).
macro_rules! on_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::store::Tx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_tx;

impl Store {
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?, None),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction that writes from its first statement (page creation). On SQLite it
    /// takes its [`Store::write_turn`] and then `BEGIN IMMEDIATE`, so the database lock is
    /// its own from the start.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(p) => {
                let turn = self.write_turn().await;
                Tx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// On SQLite, a turn among the writers that queue (page saves): held while writing, so a
    /// second writer waits here and is woken when the first is done, instead of failing its
    /// first write on the database lock and sleeping in SQLite's busy handler (whose back-off
    /// was the saves' p99). Postgres locks rows, so it needs none.
    pub async fn write_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.db {
            Db::Sqlite(_) => Some(self.writer.clone().lock_owned().await),
            Db::Postgres(_) => None,
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Explicit rollback; dropping a `Tx` rolls back too.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
