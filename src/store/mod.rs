//! The control-plane database: SQLite (embedded default) or Postgres, chosen once from the
//! URL scheme.
//!
//! Both backends share one implementation: every query is written once in SQL both dialects
//! accept (`$N` placeholders, `RETURNING`, times bound from the injected clock) and the
//! [`on_pool!`] macro type-checks it against each driver. Only the migrations differ, one folder
//! per backend. This keeps the two backends from drifting apart, which a trait with two
//! hand-written implementations invites.

pub mod audit;
pub mod blobs;
pub mod datasources;
pub mod deliveries;
mod error;
pub mod keys;
pub mod manifests;
pub mod memo;
pub mod outbox;
mod page_binds;
pub mod pages;
pub mod previews;
pub mod projects;
pub mod publish;
pub mod releases;
mod retention;
pub mod schedules;
pub mod settings;
pub mod target_pages;
pub mod targets;
pub mod tokens;
pub(crate) mod tx;
pub mod verification;
pub mod webhook_endpoints;
pub mod webhooks;

pub use error::{Conflict, StoreError};
pub(crate) use tx::{on_own_tx, on_tx, on_writer};
pub use tx::{OwnTx, Tx};

use crate::clock::SharedClock;
use crate::secrets::Keyring;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

/// Runs `$body` with `$pool` bound to a connection of whichever database the store holds:
/// the transaction of the [`Store::atomic`] block the task runs in, else one from the pool.
/// A body that runs several queries reborrows it (`&mut *p`).
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $crate::store::tx::ambient() {
            Some(shared) => {
                let mut guard = shared.lock().await;
                $crate::store::on_own_tx!(&mut *guard, $pool => $body)
            }
            None => match &$store.db {
                $crate::store::Db::Sqlite(pool) => {
                    let mut conn = pool.acquire().await.map_err($crate::store::StoreError::from)?;
                    let $pool = &mut *conn;
                    $body
                }
                $crate::store::Db::Postgres(pool) => {
                    let mut conn = pool.acquire().await.map_err($crate::store::StoreError::from)?;
                    let $pool = &mut *conn;
                    $body
                }
            },
        }
    };
}
pub(crate) use on_pool;

#[derive(Clone, Debug)]
pub(crate) enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) clock: SharedClock,
    pub(crate) history_limit: i64,
    pub(crate) keyring: Keyring,
    /// Turns of the SQLite writers that queue (see [`Store::begin_write`]).
    pub(crate) writer: Arc<tokio::sync::Mutex<tx::Writer>>,
    /// Newest releases' pages, by release id (see [`manifests`]).
    pub(crate) manifests: Arc<manifests::Manifests>,
}

/// Pool figures for `/metrics`.
#[derive(Debug, Clone, Copy)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
}

/// Offset pagination, already clamped by the API.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

/// Each SQLite connection's page cache, in KiB (negative: a size, not a page count). SQLite's
/// own default is 2,000 KiB a connection, which every pooled connection filled while a
/// publish wrote its 57 MB of compiled pages: 512 KiB kept the peak of a 1,000-page publish
/// ~3 MB lower at the same speed (measured); the OS page cache still holds the file.
pub const SQLITE_CACHE_SIZE: &str = "-512";

pub struct Options {
    pub max_connections: u32,
    /// How long to wait for a Postgres connection (an unreachable server retried meanwhile)
    /// before giving up with [`StoreError::Unavailable`].
    pub acquire_timeout: Duration,
    /// How long a SQLite statement waits for a lock held elsewhere before failing busy.
    pub busy_timeout: Duration,
    pub history_limit: u32,
    pub keyring: Keyring,
}

impl Store {
    /// Connects without migrating. SQLite files (and their directory) are created when
    /// missing, in WAL mode with foreign keys on.
    pub async fn connect(
        url: &str,
        opts: Options,
        clock: SharedClock,
    ) -> Result<Store, StoreError> {
        let db = if url.starts_with("sqlite:") {
            let co = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(opts.busy_timeout)
                .pragma("cache_size", SQLITE_CACHE_SIZE);
            if let Some(dir) = co
                .get_filename()
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Io(dir.display().to_string(), e))?;
            }
            // A connection to a local file cannot go stale, and the ping before every acquire
            // is a round trip to the connection's worker thread (a third of a save's).
            let pool = SqlitePoolOptions::new()
                .max_connections(opts.max_connections)
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(co)
                .await?;
            Db::Sqlite(pool)
        } else {
            let co = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(opts.acquire_timeout)
                .connect_with(co)
                .await?;
            Db::Postgres(pool)
        };
        Ok(Store {
            db,
            clock,
            history_limit: i64::from(opts.history_limit.max(1)),
            keyring: opts.keyring,
            writer: Arc::default(),
            manifests: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(p) => sqlx::migrate!("migrations/sqlite").run(p).await?,
            Db::Postgres(p) => sqlx::migrate!("migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// The store's clock (injected), for ages computed against stored times.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn backend(&self) -> &'static str {
        match self.db {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, p => sqlx::query("SELECT 1").execute(&mut *p).await.map(|_| ()))?;
        Ok(())
    }

    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = match &self.db {
            Db::Sqlite(p) => (p.size(), p.num_idle()),
            Db::Postgres(p) => (p.size(), p.num_idle()),
        };
        PoolStats {
            size,
            idle: u32::try_from(idle).unwrap_or(u32::MAX),
        }
    }

    /// The same store sealing with another keyring (key rotation).
    pub fn with_keyring(&self, keyring: Keyring) -> Store {
        Store {
            keyring,
            ..self.clone()
        }
    }

    pub async fn close(&self) {
        self.writer.lock().await.close().await;
        match &self.db {
            Db::Sqlite(p) => p.close().await,
            Db::Postgres(p) => p.close().await,
        }
    }
}
