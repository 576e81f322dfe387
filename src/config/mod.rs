//! One typed configuration: defaults, then an optional TOML file, then environment variables
//! (env wins). Validated once at start so a bad value fails fast with a message naming it.
//! A setting is one field here and one line in `from_sources`; `layers` does the rest.

mod layers;

use layers::Layers;
use serde::Deserialize;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A string whose `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// Pool sizes. SQLite takes one writer at a time and each pooled connection is a thread with
/// its own page cache and allocator heap: 4 rather than 10 kept a 1,000-page publish's peak
/// RSS ~8 MB lower at the same speed (measured). Postgres connections serve several replicas'
/// concurrent transactions.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
const PG_MAX_CONNECTIONS: u32 = 10;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/edgepub.db`.
    pub database_url: Secret,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before answering 503
    /// `database_unavailable` (Postgres; SQLite waits on its busy timeout instead).
    pub db_acquire_timeout_secs: u64,
    /// How long a SQLite write waits for a lock another process holds before answering 503.
    pub db_busy_timeout_secs: u64,
    pub admin_token: Option<Secret>,
    pub cors_origins: Vec<String>,
    pub max_body_bytes: usize,
    pub page_history_limit: u32,
    pub log_format: LogFormat,
    pub shutdown_timeout_secs: u64,
    pub workers: Option<usize>,
    /// How long a publish worker's project lease lasts unrenewed (renewed every third).
    pub lease_secs: u64,
    /// Seals secrets at rest; else a key file in the data dir is used (created once, 0600).
    pub secret_key: Option<Secret>,
    /// Root that local publish targets must stay inside (default `<data_dir>/sites`).
    pub pages_root: PathBuf,
    /// Deadline of one "Test connection", connect and reply included.
    pub test_timeout_secs: u64,
    /// Allow outbound connections to link-local / cloud metadata addresses.
    pub allow_link_local: bool,
    /// Redis behind the built-in Upstash-compatible proxy (`REDIS_URL`).
    pub redis_url: Option<Secret>,
    /// Where the proxy listens; with `serve` it is started alongside the API when set.
    pub proxy_listen: Option<SocketAddr>,
    pub proxy_token: Option<Secret>,
    /// The proxy's URL as edges reach it, handed out by the edge settings endpoint for
    /// projects whose cache is Redis over TCP.
    pub proxy_public_url: Option<String>,
    /// Deadline of one request to a Turso database or push edge while publishing.
    pub target_timeout_secs: u64,
    /// Attempts per request (Turso) or page (push edge) on transient failures.
    pub target_attempts: u32,
    /// Largest Hrana request a Turso publish sends; a larger release is staged.
    pub turso_max_request_bytes: usize,
    /// Pages pushed to an edge at once.
    pub edge_concurrency: usize,
    /// Longest pause between attempts to reach a cache that is down.
    pub cache_retry_max_secs: u64,
    /// Administrative Redis commands the proxy lets through (refused by default).
    pub proxy_allow_commands: Vec<String>,
    /// How long a rotated webhook secret stays valid by default.
    pub webhook_grace_secs: i64,
    /// How long an outgoing event's request may take before the attempt counts as failed.
    pub webhook_timeout_secs: u64,
    /// Releases kept per project (0: all); older ones are pruned with the compiled pages
    /// nothing refers to any more.
    pub release_retention: u64,
    /// Audit entries older than this many days are pruned (0: kept forever).
    pub audit_retention_days: u64,
    /// Components per page, nesting depth and layout bytes a page may have.
    pub max_components: usize,
    pub max_depth: usize,
    pub max_page_bytes: usize,
    /// Rate limits (per minute; 0 = off) of publishes, the publish webhook and previews, and
    /// how many keys the in-process limiter holds at most.
    pub rate_limit_project_per_minute: u64,
    pub rate_limit_token_per_minute: u64,
    pub rate_limit_max_keys: usize,
}

impl Config {
    pub fn layout_limits(&self) -> crate::domain::page::LayoutLimits {
        crate::domain::page::LayoutLimits {
            max_components: self.max_components,
            max_depth: self.max_depth,
            max_bytes: self.max_page_bytes,
        }
    }

    /// How publish targets are opened and written.
    pub fn target_context(&self) -> crate::publish::targets::TargetContext {
        crate::publish::targets::TargetContext {
            pages_root: self.pages_root.clone(),
            policy: crate::net::NetPolicy {
                allow_link_local: self.allow_link_local,
            },
            probe_timeout: std::time::Duration::from_secs(self.test_timeout_secs),
            write_timeout: std::time::Duration::from_secs(self.target_timeout_secs),
            turso_max_request_bytes: self.turso_max_request_bytes,
            edge_concurrency: self.edge_concurrency,
            backoff: crate::net::retry::Backoff {
                attempts: self.target_attempts,
                ..Default::default()
            },
            local: std::sync::Arc::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

impl Config {
    /// Loads `file` (or `./edgepub.toml` when present) and the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    pub fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Self, ConfigError> {
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let file = file
            .map(Path::to_path_buf)
            .or_else(|| get("EDGEPUB_CONFIG").map(PathBuf::from))
            .or_else(|| Some(PathBuf::from("edgepub.toml")).filter(|p| p.exists()));
        let table = match file {
            Some(path) => read_file(&path)?,
            None => toml::Table::new(),
        };
        let l = Layers::new(env, table);
        // One line per setting: its variable, default and bounds. The TOML key is derived
        // from the variable's name.
        let data_dir = l
            .path("EDGEPUB_DATA_DIR")
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = l.secret("DATABASE_URL").unwrap_or_else(|| {
            Secret(format!(
                "sqlite://{}",
                data_dir.join("edgepub.db").display()
            ))
        });
        let scheme = database_url.expose().split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            l.error("DATABASE_URL: must start with sqlite:// or postgres://".into());
        }
        let admin_token = l.secret("EDGEPUB_ADMIN_TOKEN");
        if admin_token.as_ref().is_some_and(|t| t.expose().len() < 24) {
            l.error("EDGEPUB_ADMIN_TOKEN: must be at least 24 characters".into());
        }
        let secret_key = l.secret("EDGEPUB_SECRET_KEY");
        if secret_key
            .as_ref()
            .is_some_and(|k| crate::secrets::parse_keys(k.expose()).is_err())
        {
            l.error(
                "EDGEPUB_SECRET_KEY: must be 32 bytes, base64 or hex encoded (several: comma-separated)"
                    .into(),
            );
        }
        let sqlite = database_url.expose().starts_with("sqlite:");
        let config = Config {
            listen: l
                .addr("EDGEPUB_LISTEN")
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            pages_root: l
                .path("EDGEPUB_PAGES_ROOT")
                .unwrap_or_else(|| data_dir.join("sites")),
            data_dir,
            database_url,
            db_max_connections: l.num(
                "EDGEPUB_DB_MAX_CONNECTIONS",
                match sqlite {
                    true => SQLITE_MAX_CONNECTIONS,
                    false => PG_MAX_CONNECTIONS,
                },
                1,
            ),
            db_acquire_timeout_secs: l.num("EDGEPUB_DB_ACQUIRE_TIMEOUT_SECS", 2, 1),
            db_busy_timeout_secs: l.num("EDGEPUB_DB_BUSY_TIMEOUT_SECS", 30, 1),
            admin_token,
            cors_origins: l.list("EDGEPUB_CORS_ORIGINS"),
            max_body_bytes: l.num("EDGEPUB_MAX_BODY_BYTES", 2 * 1024 * 1024, 1024),
            page_history_limit: l.num("EDGEPUB_PAGE_HISTORY_LIMIT", 50, 1),
            log_format: l.choice(
                "EDGEPUB_LOG_FORMAT",
                &[("pretty", LogFormat::Pretty), ("json", LogFormat::Json)],
                LogFormat::Pretty,
            ),
            shutdown_timeout_secs: l.num("EDGEPUB_SHUTDOWN_TIMEOUT_SECS", 30, 0),
            workers: l.optional_num("EDGEPUB_WORKERS", 1),
            lease_secs: l.num("EDGEPUB_LEASE_SECS", 15, 1),
            secret_key,
            test_timeout_secs: l.num("EDGEPUB_TEST_TIMEOUT_SECS", 5, 1),
            allow_link_local: l.flag("EDGEPUB_ALLOW_LINK_LOCAL", false),
            redis_url: l.secret("REDIS_URL"),
            proxy_listen: l.addr("EDGEPUB_PROXY_LISTEN"),
            proxy_token: l.secret("EDGEPUB_PROXY_TOKEN"),
            proxy_public_url: l.string("EDGEPUB_PROXY_PUBLIC_URL"),
            target_timeout_secs: l.num("EDGEPUB_TARGET_TIMEOUT_SECS", 60, 1),
            target_attempts: l.num("EDGEPUB_TARGET_ATTEMPTS", 4, 1),
            turso_max_request_bytes: l.num("EDGEPUB_TURSO_MAX_REQUEST_BYTES", 8 << 20, 16 << 10),
            edge_concurrency: l.num("EDGEPUB_EDGE_CONCURRENCY", 8, 1),
            cache_retry_max_secs: l.num("EDGEPUB_CACHE_RETRY_MAX_SECS", 60, 1),
            proxy_allow_commands: l.list("EDGEPUB_PROXY_ALLOW_COMMANDS"),
            webhook_grace_secs: l.num("EDGEPUB_WEBHOOK_GRACE_SECS", 86_400, 0),
            webhook_timeout_secs: l.num("EDGEPUB_WEBHOOK_TIMEOUT_SECS", 10, 1),
            release_retention: l.num("EDGEPUB_RELEASE_RETENTION", 100, 0),
            audit_retention_days: l.num("EDGEPUB_AUDIT_RETENTION_DAYS", 90, 0),
            max_components: l.num("EDGEPUB_MAX_COMPONENTS", 5_000, 1),
            max_depth: l.num("EDGEPUB_MAX_DEPTH", 32, 1),
            max_page_bytes: l.num("EDGEPUB_MAX_PAGE_BYTES", 1024 * 1024, 1024),
            rate_limit_project_per_minute: l.num("EDGEPUB_RATE_LIMIT_PROJECT_PER_MINUTE", 120, 0),
            rate_limit_token_per_minute: l.num("EDGEPUB_RATE_LIMIT_TOKEN_PER_MINUTE", 60, 0),
            rate_limit_max_keys: l.num("EDGEPUB_RATE_LIMIT_MAX_KEYS", 100_000, 16),
        };
        l.finish()?;
        Ok(config)
    }
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| {
        let (line, column) = e
            .span()
            .map_or((1, 1), |span| line_and_column(&text, span.start));
        ConfigError::Parse {
            path: path.to_path_buf(),
            message: format!("line {line}, column {column}: {}", e.message()),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests;
