//! Checks made before the database is opened, so a start that cannot work says why in words a
//! user can act on: which path or address, what is wrong with it, what to change.
//!
//! Opening the store directly would fail too, but with a driver's message (`unable to open
//! database file`, `pool timed out while waiting for an open connection` after ten seconds),
//! and a SQLite URL would silently create an empty database wherever the command was run.

use crate::config::Config;
use sqlx::postgres::PgConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::ConnectOptions;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

/// How long the first connection to Postgres may take before the start gives up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(4);

const POINT_ELSEWHERE: &str =
    "set EDGEPUB_DATA_DIR to the data directory that holds edgepub.db, or DATABASE_URL to the database (sqlite://FILE or postgres://…)";

#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    #[error("no edgepub database at {0}: this command does not create one. Run `edgepub serve` or `edgepub migrate` there first, or {POINT_ELSEWHERE}")]
    NoDatabase(PathBuf),
    #[error("the data directory {0} (EDGEPUB_DATA_DIR) is not a directory: point EDGEPUB_DATA_DIR at a directory, or remove the file")]
    NotADirectory(PathBuf),
    #[error("the directory {0} is not writable by this user: fix its permissions (edgepub writes its database and secret.key there) or point EDGEPUB_DATA_DIR elsewhere")]
    NotWritable(PathBuf),
    #[error("cannot use the directory {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error("the Postgres database `{name}` at {address} has no edgepub tables: this command does not create them. Run `edgepub migrate` (or `edgepub serve`) against it first, or {POINT_ELSEWHERE}")]
    NotMigrated { address: String, name: String },
    #[error("cannot connect to Postgres at {address} ({kind}): {hint}")]
    Postgres {
        address: String,
        kind: &'static str,
        hint: String,
    },
}

/// Checks the data directory and the database before the store opens them. With `create`
/// (`serve`, `migrate`) a missing SQLite database is fine: it is created; without, it is an
/// error naming the path and how to point elsewhere.
pub async fn check(config: &Config, create: bool) -> Result<(), PreflightError> {
    let url = config.database_url.expose();
    if let Some(file) = sqlite_file(url) {
        if !create && !file.is_file() {
            return Err(PreflightError::NoDatabase(file));
        }
    }
    directory(&config.data_dir, create)?;
    if let Some(dir) = sqlite_file(url).as_deref().and_then(Path::parent) {
        if !dir.as_os_str().is_empty() && dir != config.data_dir {
            directory(dir, create)?;
        }
    }
    if url.starts_with("postgres") {
        postgres(url, create).await?;
    }
    Ok(())
}

/// The file a `sqlite:` URL names; `None` for other databases and in-memory SQLite.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    Some(opts.get_filename().to_path_buf())
}

/// A directory that exists must be one, and (when edgepub is to write there) writable. One
/// that does not exist yet is created later, by whoever needs it.
fn directory(dir: &Path, create: bool) -> Result<(), PreflightError> {
    let meta = match std::fs::metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(PreflightError::NotADirectory(dir.to_path_buf()))
        }
        Err(e) => return Err(PreflightError::Io(dir.to_path_buf(), e)),
    };
    if !meta.is_dir() {
        return Err(PreflightError::NotADirectory(dir.to_path_buf()));
    }
    if !create {
        return Ok(());
    }
    // Permission bits do not tell the whole story (root, ACLs, read-only mounts): try it.
    let probe = dir.join(format!(".edgepub-probe-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            Err(PreflightError::NotWritable(dir.to_path_buf()))
        }
        Err(e) => Err(PreflightError::Io(dir.to_path_buf(), e)),
    }
}

/// One connection attempt, bounded by [`CONNECT_TIMEOUT`], whose failure is told apart:
/// refused, timeout, DNS, authentication, missing database. Without `create`, a database
/// edgepub never migrated is refused like a missing SQLite file: a mistyped name must not
/// silently gain edgepub's tables.
async fn postgres(url: &str, create: bool) -> Result<(), PreflightError> {
    let Ok(opts) = PgConnectOptions::from_str(url) else {
        // The pool reports a malformed URL in its own words.
        return Ok(());
    };
    // Never the URL itself: it may carry a password.
    let address = format!("{}:{}", opts.get_host(), opts.get_port());
    let fail = |kind, hint: String| PreflightError::Postgres {
        address: address.clone(),
        kind,
        hint,
    };
    let conn = match tokio::time::timeout(CONNECT_TIMEOUT, opts.connect()).await {
        Ok(conn) => conn,
        Err(_) => {
            return Err(fail(
                "timeout",
                format!("no answer within {}s: check the host and port in DATABASE_URL and that a firewall lets the connection through", CONNECT_TIMEOUT.as_secs()),
            ))
        }
    };
    let e = match conn {
        Ok(mut conn) => {
            let migrated = create || edgepub_tables(&mut conn).await;
            let _ = sqlx::Connection::close(conn).await;
            if migrated {
                return Ok(());
            }
            let name = opts.get_database().unwrap_or("edgepub").to_string();
            return Err(PreflightError::NotMigrated { address, name });
        }
        Err(e) => e,
    };
    Err(match &e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => fail(
            "refused",
            "nothing listens there: start Postgres, or fix the host and port in DATABASE_URL"
                .into(),
        ),
        sqlx::Error::Io(io)
            if io.to_string().contains("lookup") || io.kind() == std::io::ErrorKind::NotFound =>
        {
            fail(
                "dns",
                format!("the host name does not resolve ({io}): fix the host in DATABASE_URL"),
            )
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("3D000") => {
                let name = opts.get_database().unwrap_or("edgepub");
                fail(
                    "missing database",
                    format!(
                        "the database `{name}` does not exist: create it with `createdb -h {} -p {} -U {} {name}` (edgepub creates its tables itself)",
                        opts.get_host(),
                        opts.get_port(),
                        opts.get_username()
                    ),
                )
            }
            Some("28P01" | "28000") => fail(
                "auth",
                format!(
                    "the server refused user `{}` ({}): fix the user or password in DATABASE_URL",
                    opts.get_username(),
                    db.message()
                ),
            ),
            _ => fail("refused", db.message().to_string()),
        },
        sqlx::Error::Tls(t) => fail("tls", t.to_string()),
        other => fail("protocol", other.to_string()),
    })
}

/// Whether edgepub's migrations ever ran here (their bookkeeping table exists). A failed
/// query counts as yes: the store's own open then reports the real problem.
async fn edgepub_tables(conn: &mut sqlx::PgConnection) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(conn)
        .await
        .unwrap_or(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite://./data/edgepub.db"),
            Some(PathBuf::from("./data/edgepub.db"))
        );
        assert_eq!(sqlite_file("postgres://h/db"), None);
        assert_eq!(sqlite_file("sqlite::memory:"), None);
    }
}
