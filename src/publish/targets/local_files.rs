//! The local `pages.db` files a process publishes to, kept open between publishes.
//!
//! Closing the last connection to a WAL database makes SQLite checkpoint and delete the
//! `-wal`/`-shm` files under an exclusive lock; a reader without a busy timeout (an edge, a
//! backup tool, the sqlite3 CLI) that opens the file meanwhile gets `database is locked`.
//! So each file stays open (a bounded set, the least recently used closed first, idle ones
//! after a while), its write-ahead log is checkpointed PASSIVE after each publish (never
//! blocking a reader) and truncated to `journal_size_limit`, and the files are closed only at
//! shutdown, which leaves each one clean: checkpointed, no `-wal` or `-shm` beside it.

use super::pages_db;
use crate::net::{ConnError, ErrorKind};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Files kept open at once.
const MAX_OPEN: usize = 64;
/// A file not published to for this long is closed.
const IDLE: Duration = Duration::from_secs(15 * 60);
/// The write-ahead log is truncated to this size after a checkpoint.
const JOURNAL_SIZE_LIMIT: &str = "67108864";

#[derive(Debug, Default)]
pub struct LocalFiles {
    open: Mutex<HashMap<PathBuf, (SqlitePool, Instant)>>,
}

pub(super) fn db_error(e: sqlx::Error) -> ConnError {
    let text = e.to_string().to_ascii_lowercase();
    tracing::warn!(error = %text, "a pages.db statement failed");
    let has = |w: &str| text.contains(w);
    let (kind, message) = if has("readonly") || has("permission") {
        (ErrorKind::Permission, "pages.db is not writable")
    } else if has("locked") || has("busy") {
        (
            ErrorKind::Timeout,
            "pages.db stayed locked by another writer",
        )
    } else if has("not a database") || has("malformed") {
        (
            ErrorKind::Invalid,
            "the file is not a usable SQLite database",
        )
    } else {
        (ErrorKind::Protocol, "pages.db refused the write")
    };
    ConnError::new(kind, message)
}

impl LocalFiles {
    /// The open pool of a file, opening it (and bringing its schema up to the contract) when
    /// it is not open yet.
    pub async fn get(&self, path: &Path) -> Result<SqlitePool, ConnError> {
        let mut open = self.open.lock().await;
        let now = Instant::now();
        let mut closing: Vec<SqlitePool> = Vec::new();
        open.retain(|p, (pool, used)| {
            let keep = p == path || now.duration_since(*used) < IDLE;
            if !keep {
                closing.push(pool.clone());
            }
            keep
        });
        if let Some((pool, used)) = open.get_mut(path) {
            *used = now;
            return Ok(pool.clone());
        }
        if open.len() >= MAX_OPEN {
            if let Some(oldest) = open
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(p, _)| p.clone())
            {
                if let Some((pool, _)) = open.remove(&oldest) {
                    closing.push(pool);
                }
            }
        }
        let pool = open_file(path).await?;
        open.insert(path.to_path_buf(), (pool.clone(), now));
        drop(open);
        for pool in closing {
            pool.close().await;
        }
        Ok(pool)
    }

    /// Checkpoints without blocking readers (PASSIVE): what a publish wrote moves into the
    /// main file while the edge keeps reading.
    pub async fn checkpoint(pool: &SqlitePool) -> Result<(), ConnError> {
        sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(pool)
            .await
            .map(|_| ())
            .map_err(db_error)
    }

    /// Closes every file (shutdown): each is checkpointed and its `-wal`/`-shm` removed.
    pub async fn close_all(&self) {
        let pools: Vec<SqlitePool> = self
            .open
            .lock()
            .await
            .drain()
            .map(|(_, (p, _))| p)
            .collect();
        for pool in pools {
            let _ = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(&pool)
                .await;
            pool.close().await;
        }
    }
}

/// The file connection's page cache (KiB): a publish writes tens of MB through it, and
/// SQLite's default 2,000 KiB only held pages already on their way to the WAL.
const CACHE_SIZE: &str = "-512";

async fn open_file(path: &Path) -> Result<SqlitePool, ConnError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| {
            ConnError::new(
                ErrorKind::Permission,
                format!("cannot create {}: {}", dir.display(), e.kind()),
            )
        })?;
    }
    let opts = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .pragma("journal_size_limit", JOURNAL_SIZE_LIMIT)
        .pragma("cache_size", CACHE_SIZE)
        .busy_timeout(Duration::from_secs(30));
    // One connection: writes to one file are serialised anyway, and it never idles out, so
    // the file is never closed behind a reader's back.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(opts)
        .await
        .map_err(db_error)?;
    for sql in pages_db::SCHEMA {
        sqlx::query(sql).execute(&pool).await.map_err(db_error)?;
    }
    let present: Vec<String> = sqlx::query(pages_db::TABLE_INFO)
        .fetch_all(&pool)
        .await
        .map_err(db_error)?
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect();
    for sql in pages_db::add_missing_columns(&present) {
        sqlx::query(&sql).execute(&pool).await.map_err(db_error)?;
    }
    let rows: Vec<(String, String, String)> = sqlx::query_as(pages_db::TABLE_SQL)
        .fetch_all(&pool)
        .await
        .map_err(db_error)?;
    if let Some(fix) = pages_db::fix_global_slug_unique(&rows) {
        tracing::info!(path = %path.display(), "removing an edge-created global UNIQUE(slug) from published_pages");
        let mut tx = pool.begin().await.map_err(db_error)?;
        for sql in &fix {
            sqlx::query(sql).execute(&mut *tx).await.map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)?;
    }
    for sql in pages_db::INDEXES {
        sqlx::query(sql).execute(&pool).await.map_err(db_error)?;
    }
    Ok(pool)
}
