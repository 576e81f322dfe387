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
            _ => StoreError::Database(e),
        }
    }
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
