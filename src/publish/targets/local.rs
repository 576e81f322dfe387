//! Local SQLite targets: a `pages.db` under the configured data root that a self-hosted edge
//! reads live. Paths are confined to the root: no `..`, no absolute path outside it, and no
//! symlink leading out.

use crate::net::{ConnError, ErrorKind, ServerInfo};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Resolves a configured path against the data root and, when given, confines it to the
/// project's own directory under the root: the real path (symlinks followed) must lie inside
/// `<root>/<site_dir>`, so no project's target can reach another project's files.
pub fn resolve_in(
    root: &Path,
    site_dir: Option<&str>,
    configured: &str,
) -> Result<PathBuf, String> {
    let real = resolve_path(root, configured)?;
    let Some(dir) = site_dir else {
        return Ok(real);
    };
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve the data root: {}", e.kind()))?;
    let own = root.join(dir);
    if real.starts_with(&own) && real != own {
        Ok(real)
    } else {
        Err(format!(
            "the path must lie inside this project's directory {} (e.g. `{dir}/pages.db`)",
            own.display()
        ))
    }
}

/// Resolves a configured path against the data root, refusing anything that escapes it.
pub fn resolve_path(root: &Path, configured: &str) -> Result<PathBuf, String> {
    let rel = Path::new(configured);
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err("the path must not contain `..`".into());
    }
    std::fs::create_dir_all(root)
        .map_err(|e| format!("cannot create the data root: {}", e.kind()))?;
    let root = root
        .canonicalize()
        .map_err(|e| format!("cannot resolve the data root: {}", e.kind()))?;
    let joined = if rel.is_absolute() {
        rel.to_path_buf()
    } else {
        root.join(rel)
    };
    if joined.file_name().is_none() {
        return Err("the path must name a file".into());
    }
    // Canonicalise the deepest part that exists (following symlinks), then re-append the rest.
    let mut existing = joined.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        rest.push(existing.file_name().map(PathBuf::from).unwrap_or_default());
        existing = existing.parent().ok_or("the path has no existing parent")?;
    }
    let mut real = existing
        .canonicalize()
        .map_err(|e| format!("cannot resolve the path: {}", e.kind()))?;
    for part in rest.iter().rev() {
        real.push(part);
    }
    if !real.starts_with(&root) {
        return Err(format!(
            "the path must stay inside the data root {}",
            root.display()
        ));
    }
    Ok(real)
}

fn io_error(what: &str, e: &std::io::Error) -> ConnError {
    let kind = match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            ErrorKind::Permission
        }
        std::io::ErrorKind::NotFound => ErrorKind::NotFound,
        _ => ErrorKind::Invalid,
    };
    ConnError::new(kind, format!("{what}: {}", e.kind()))
}

/// The directory exists or can be created and is writable; the file, if present, is SQLite.
pub async fn probe(path: &Path) -> Result<ServerInfo, ConnError> {
    let dir = path
        .parent()
        .ok_or_else(|| ConnError::new(ErrorKind::Invalid, "the path has no directory"))?;
    std::fs::create_dir_all(dir).map_err(|e| io_error("cannot create the directory", &e))?;
    let marker = dir.join(format!(".edgepub-write-test-{}", uuid::Uuid::new_v4()));
    std::fs::write(&marker, b"ok").map_err(|e| io_error("the directory is not writable", &e))?;
    let _ = std::fs::remove_file(&marker);
    let mut mode = "new file".to_string();
    if path.exists() {
        let mut header = [0u8; 16];
        let mut f = std::fs::File::open(path).map_err(|e| io_error("cannot read the file", &e))?;
        let n = f
            .read(&mut header)
            .map_err(|e| io_error("cannot read the file", &e))?;
        if n > 0 && &header[..n.min(16)] != b"SQLite format 3\0" {
            return Err(ConnError::new(
                ErrorKind::Invalid,
                "the file exists but is not a SQLite database",
            ));
        }
        mode = "existing database".into();
    }
    let mut conn = SqliteConnectOptions::new()
        .in_memory(true)
        .connect()
        .await
        .map_err(|_| ConnError::new(ErrorKind::Invalid, "cannot open SQLite"))?;
    let version: String = sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut conn)
        .await
        .map_err(|_| ConnError::new(ErrorKind::Protocol, "cannot query SQLite"))?;
    let _ = conn.close().await;
    Ok(ServerInfo {
        kind: "sqlite".into(),
        version: Some(version),
        mode: Some(mode),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_root() {
        let root = std::env::temp_dir().join(format!("edgepub-root-{}", uuid::Uuid::new_v4()));
        let outside = std::env::temp_dir().join(format!("edgepub-out-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let real_root = root.canonicalize().unwrap();
        assert_eq!(
            resolve_path(&root, "site/pages.db").unwrap(),
            real_root.join("site/pages.db")
        );
        assert!(resolve_path(&root, "../x/pages.db").is_err());
        assert!(resolve_path(&root, "/etc/pages.db").is_err());
        assert!(resolve_path(&root, real_root.join("ok/pages.db").to_str().unwrap()).is_ok());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&outside, root.join("escape")).unwrap();
            assert!(resolve_path(&root, "escape/pages.db").is_err());
        }
        let _ = std::fs::remove_dir_all(&root);
        let _ = std::fs::remove_dir_all(&outside);
    }
}
