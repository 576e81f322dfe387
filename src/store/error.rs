use thiserror::Error;

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    ProjectSlug,
    PageSlug,
    TargetName,
    DatasourceName,
    Homepage,
    Other,
}

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("version mismatch: current version is {current}")]
    VersionMismatch { current: i64 },
    #[error("cannot create {0}: {1}")]
    Io(String, std::io::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the publish lease was lost to another worker")]
    LeaseLost,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot open a stored secret: {0}")]
    Secret(crate::secrets::SecretError),
    /// The database cannot be reached or cannot take the work now (no connection within the
    /// acquire timeout, refused or reset, shutting down, a read-only standby after a
    /// failover, SQLite busy beyond its timeout): worth retrying shortly.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("a transaction was still shared when it was to end")]
    TxInUse,
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                // Postgres names the constraint; SQLite only lists the columns.
                let what = db.constraint().unwrap_or(db.message()).to_string();
                StoreError::Conflict(classify(&what))
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound,
            _ if unavailable(&e) => StoreError::Unavailable(e),
            _ => StoreError::Database(e),
        }
    }
}

/// Whether `e` says the database is out of reach for now rather than that the query is wrong.
fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // A connection cut mid-message (the server went away) reads as a protocol error.
        sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| unavailable_code(&c)),
        _ => false,
    }
}

/// SQLSTATE classes and codes (Postgres) and result codes (SQLite) of a database that cannot
/// serve right now.
fn unavailable_code(code: &str) -> bool {
    // Postgres: 08 connection exception, 57P01-03 shutting down / starting up, 53300 too many
    // connections, 25006 read-only transaction (a standby answering after a failover).
    code.starts_with("08")
        || matches!(code, "57P01" | "57P02" | "57P03" | "53300" | "25006")
        // SQLite: SQLITE_BUSY (5) and its extended codes, SQLITE_LOCKED (6), as left after the
        // busy timeout ran out.
        || matches!(code, "5" | "6" | "261" | "517" | "773" | "262")
}

fn classify(what: &str) -> Conflict {
    if what.contains("projects_slug") || what.contains("projects.slug") {
        Conflict::ProjectSlug
    } else if what.contains("pages_live_slug") || what.contains("pages.slug") {
        Conflict::PageSlug
    } else if what.contains("datasources") {
        Conflict::DatasourceName
    } else if what.contains("publish_targets") {
        Conflict::TargetName
    } else if what.contains("homepage") || what.ends_with("pages.project_id") {
        Conflict::Homepage
    } else {
        Conflict::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outages_are_told_from_bugs() {
        assert!(unavailable(&sqlx::Error::PoolTimedOut));
        assert!(unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset
        ))));
        assert!(!unavailable(&sqlx::Error::ColumnNotFound("x".into())));
        for code in ["08006", "57P01", "57P03", "25006", "5", "517"] {
            assert!(unavailable_code(code), "{code}");
        }
        for code in ["23505", "42P01", "19", "2067"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }

    #[test]
    fn classifies_both_dialects() {
        assert_eq!(
            classify("UNIQUE constraint failed: pages.project_id, pages.slug"),
            Conflict::PageSlug
        );
        assert_eq!(
            classify("UNIQUE constraint failed: pages.project_id"),
            Conflict::Homepage
        );
        assert_eq!(classify("pages_one_homepage"), Conflict::Homepage);
        assert_eq!(classify("projects_slug_key"), Conflict::ProjectSlug);
        assert_eq!(
            classify("UNIQUE constraint failed: projects.slug"),
            Conflict::ProjectSlug
        );
    }
}
