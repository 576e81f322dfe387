//! A control-plane transaction that several store functions write into, so that everything
//! that must commit with a release (the release, the job's end, later cache outbox rows,
//! outgoing events and audit rows) is written by separate functions and committed once.
//!
//! [`Store::atomic`] goes further: every store call made inside it (queries through
//! [`on_pool!`](super::on_pool), transactions from [`Store::begin`]) joins one transaction,
//! found through a task-local, so a handler's change and its audit entry commit together or
//! not at all without each store function taking a transaction parameter.

use super::{Db, Store, StoreError};
use sqlx::{ConnectOptions, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// On SQLite, a transaction from [`Store::begin_write`] also holds the store's writer lock
/// until it ends.
pub enum Tx {
    Sqlite(
        Transaction<'static, Sqlite>,
        Option<OwnedMutexGuard<Writer>>,
    ),
    Postgres(Transaction<'static, Postgres>),
    /// Begun inside [`Store::atomic`]: the enclosing transaction, whose commit or rollback
    /// ends it (this handle's own commit and rollback do nothing).
    Joined(Shared),
}

/// The transaction of a [`Store::atomic`] block.
pub enum OwnTx {
    Sqlite(
        Transaction<'static, Sqlite>,
        Option<OwnedMutexGuard<Writer>>,
    ),
    Postgres(Transaction<'static, Postgres>),
}

pub type Shared = Arc<Mutex<OwnTx>>;

/// SQLite's turn among writers (see [`Store::write_turn`]) and the connection a save writes on
/// in it. A save holds the turn anyway, so it needs no connection from the pool, whose every
/// return costs a round trip to the connection's thread (sqlx pings a connection as it goes
/// back).
#[derive(Default)]
pub struct Writer(Option<SqliteConnection>);

impl Writer {
    /// The connection, opened with the pool's options on first use (and after one was given
    /// up).
    pub(crate) async fn take(&mut self, pool: &SqlitePool) -> Result<SqliteConnection, StoreError> {
        match self.0.take() {
            Some(c) => Ok(c),
            None => Ok(pool.connect_options().connect().await?),
        }
    }

    /// Puts the connection back after a statement; not after an error other than the
    /// statement's own (the connection may be broken), and never when the statement's future
    /// was dropped midway (a cancelled request), which leaves the slot empty.
    pub(crate) fn keep<T>(&mut self, conn: SqliteConnection, outcome: &Result<T, sqlx::Error>) {
        if matches!(outcome, Ok(_) | Err(sqlx::Error::Database(_))) {
            self.0 = Some(conn);
        }
    }

    /// Closes the connection, if one is open.
    pub(crate) async fn close(&mut self) {
        if let Some(c) = self.0.take() {
            // Closing is best effort: the file's state is already committed.
            let _ = sqlx::Connection::close(c).await;
        }
    }
}

/// Runs `$body` with `$conn` bound to the writer's own connection when `$turn` is a SQLite
/// turn (`Option<&mut Writer>`), else as [`on_pool!`](super::on_pool) does.
macro_rules! on_writer {
    ($store:expr, $turn:expr, $conn:ident => $body:expr) => {
        match (&$store.db, $turn) {
            ($crate::store::Db::Sqlite(pool), Some(w)) => {
                let mut c = w.take(pool).await?;
                let out = {
                    let $conn = &mut c;
                    $body
                };
                w.keep(c, &out);
                out
            }
            _ => $crate::store::on_pool!($store, $conn => $body),
        }
    };
}
pub(crate) use on_writer;

tokio::task_local! {
    static AMBIENT: Shared;
}

/// The transaction of the [`Store::atomic`] block this task runs in, if any.
pub(crate) fn ambient() -> Option<Shared> {
    AMBIENT.try_with(Arc::clone).ok()
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
            $crate::store::Tx::Joined(shared) => {
                let mut guard = shared.lock().await;
                $crate::store::on_own_tx!(&mut *guard, $conn => $body)
            }
        }
    };
}
pub(crate) use on_tx;

macro_rules! on_own_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match $tx {
            $crate::store::OwnTx::Sqlite(t, _) => {
                let $conn = &mut **t;
                $body
            }
            $crate::store::OwnTx::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use on_own_tx;

impl Store {
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        if let Some(shared) = ambient() {
            return Ok(Tx::Joined(shared));
        }
        Ok(match &self.db {
            Db::Sqlite(p) => Tx::Sqlite(p.begin().await?, None),
            Db::Postgres(p) => Tx::Postgres(p.begin().await?),
        })
    }

    /// A transaction that writes from its first statement (page creation). On SQLite it
    /// takes its [`Store::write_turn`] and then `BEGIN IMMEDIATE`, so the database lock is
    /// its own from the start.
    pub async fn begin_write(&self) -> Result<Tx, StoreError> {
        if let Some(shared) = ambient() {
            return Ok(Tx::Joined(shared));
        }
        Ok(match self.begin_own().await? {
            OwnTx::Sqlite(t, turn) => Tx::Sqlite(t, turn),
            OwnTx::Postgres(t) => Tx::Postgres(t),
        })
    }

    async fn begin_own(&self) -> Result<OwnTx, StoreError> {
        Ok(match &self.db {
            Db::Sqlite(p) => {
                let turn = self.write_turn().await;
                OwnTx::Sqlite(p.begin_with("BEGIN IMMEDIATE").await?, turn)
            }
            Db::Postgres(p) => OwnTx::Postgres(p.begin().await?),
        })
    }

    /// On SQLite, a turn among the writers that queue (page saves): held while writing, so a
    /// second writer waits here and is woken when the first is done, instead of failing its
    /// first write on the database lock and sleeping in SQLite's busy handler (whose back-off
    /// was the saves' p99). Postgres locks rows, so it needs none. Inside [`Store::atomic`]
    /// the enclosing transaction already holds the turn.
    pub async fn write_turn(&self) -> Option<OwnedMutexGuard<Writer>> {
        if ambient().is_some() {
            return None;
        }
        match &self.db {
            Db::Sqlite(_) => Some(self.writer.clone().lock_owned().await),
            Db::Postgres(_) => None,
        }
    }

    /// Runs `work` in one write transaction that every store call inside it joins; commits
    /// when `work` returns `Ok`, rolls back when it returns `Err`. Nested calls join the
    /// outer block. Nothing inside may hand the store to another task: a spawned task is
    /// outside the block and, on SQLite, would wait for the lock the block holds.
    pub async fn atomic<T, E, F>(&self, work: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
        E: From<StoreError>,
    {
        if ambient().is_some() {
            return work.await;
        }
        let shared: Shared = Arc::new(Mutex::new(self.begin_own().await?));
        let out = AMBIENT.scope(shared.clone(), work).await;
        let own = Arc::try_unwrap(shared)
            .map_err(|_| StoreError::TxInUse)?
            .into_inner();
        match out {
            Ok(v) => {
                match own {
                    OwnTx::Sqlite(t, _) => t.commit().await.map_err(StoreError::from)?,
                    OwnTx::Postgres(t) => t.commit().await.map_err(StoreError::from)?,
                }
                Ok(v)
            }
            // Dropping the transaction rolls it back.
            Err(e) => Err(e),
        }
    }
}

impl Tx {
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
            Tx::Joined(_) => {}
        }
        Ok(())
    }

    /// Explicit rollback; dropping a `Tx` rolls back too. A joined transaction is rolled back
    /// by its block when the error this rollback is part of reaches it.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(t, _) => t.rollback().await?,
            Tx::Postgres(t) => t.rollback().await?,
            Tx::Joined(_) => {}
        }
        Ok(())
    }
}
