//! One typed configuration: defaults, then an optional TOML file, then environment variables
//! (env wins). Validated once at start so a bad value fails fast with a message naming it.

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; defaults to `<data_dir>/edgepub.db`.
    pub database_url: Secret,
    pub db_max_connections: u32,
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
}

/// The TOML file's shape: every key optional, same names as the env vars without the prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<Secret>,
    db_max_connections: Option<u32>,
    admin_token: Option<Secret>,
    cors_origins: Option<Vec<String>>,
    max_body_bytes: Option<usize>,
    page_history_limit: Option<u32>,
    log_format: Option<LogFormat>,
    shutdown_timeout_secs: Option<u64>,
    workers: Option<usize>,
    secret_key: Option<Secret>,
    lease_secs: Option<u64>,
    pages_root: Option<PathBuf>,
    test_timeout_secs: Option<u64>,
    allow_link_local: Option<bool>,
    redis_url: Option<Secret>,
    proxy_listen: Option<String>,
    proxy_token: Option<Secret>,
    proxy_public_url: Option<String>,
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
        let fc = match file {
            Some(path) => read_file(&path)?,
            None => FileConfig::default(),
        };
        let mut errors = Vec::new();
        let parse_env = |key: &str, fallback: Option<String>| -> Option<String> {
            get(key).filter(|v| !v.is_empty()).or(fallback)
        };

        let listen_raw = parse_env("EDGEPUB_LISTEN", fc.listen).unwrap_or(DEFAULT_LISTEN.into());
        let listen = listen_raw.parse().unwrap_or_else(|_| {
            errors.push(format!(
                "EDGEPUB_LISTEN: `{listen_raw}` is not an address like 127.0.0.1:8080"
            ));
            SocketAddr::from(([127, 0, 0, 1], 8080))
        });
        let data_dir = parse_env("EDGEPUB_DATA_DIR", None)
            .map(PathBuf::from)
            .or(fc.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = get("DATABASE_URL")
            .filter(|v| !v.is_empty())
            .map(Secret)
            .or(fc.database_url)
            .unwrap_or_else(|| {
                Secret(format!(
                    "sqlite://{}",
                    data_dir.join("edgepub.db").display()
                ))
            });
        let scheme = database_url.expose().split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            errors.push("DATABASE_URL: must start with sqlite:// or postgres://".into());
        }
        let admin_token = get("EDGEPUB_ADMIN_TOKEN")
            .filter(|v| !v.is_empty())
            .map(Secret)
            .or(fc.admin_token);
        if admin_token.as_ref().is_some_and(|t| t.expose().len() < 24) {
            errors.push("EDGEPUB_ADMIN_TOKEN: must be at least 24 characters".into());
        }
        let cors_origins = get("EDGEPUB_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .or(fc.cors_origins)
            .unwrap_or_default();
        let mut num = |key: &str, file: Option<u64>, default: u64, min: u64| -> u64 {
            match get(key).filter(|v| !v.is_empty()) {
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n >= min => n,
                    _ => {
                        errors.push(format!("{key}: `{v}` is not a whole number >= {min}"));
                        default
                    }
                },
                None => file.unwrap_or(default),
            }
        };
        let max_body_bytes = num(
            "EDGEPUB_MAX_BODY_BYTES",
            fc.max_body_bytes.map(|v| v as u64),
            2 * 1024 * 1024,
            1024,
        );
        let page_history_limit = num(
            "EDGEPUB_PAGE_HISTORY_LIMIT",
            fc.page_history_limit.map(u64::from),
            50,
            1,
        );
        let db_max_connections = num(
            "EDGEPUB_DB_MAX_CONNECTIONS",
            fc.db_max_connections.map(u64::from),
            10,
            1,
        );
        let shutdown_timeout_secs = num(
            "EDGEPUB_SHUTDOWN_TIMEOUT_SECS",
            fc.shutdown_timeout_secs,
            30,
            0,
        );
        let test_timeout_secs = num("EDGEPUB_TEST_TIMEOUT_SECS", fc.test_timeout_secs, 5, 1);
        let lease_secs = num("EDGEPUB_LEASE_SECS", fc.lease_secs, 15, 1);
        let workers = match get("EDGEPUB_WORKERS") {
            Some(_) => Some(num("EDGEPUB_WORKERS", None, 1, 1) as usize),
            None => fc.workers,
        };
        let log_format = match get("EDGEPUB_LOG_FORMAT").as_deref() {
            None | Some("") => fc.log_format.unwrap_or(LogFormat::Pretty),
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                errors.push(format!(
                    "EDGEPUB_LOG_FORMAT: `{other}` is not `pretty` or `json`"
                ));
                LogFormat::Pretty
            }
        };
        let allow_link_local = match get("EDGEPUB_ALLOW_LINK_LOCAL").as_deref() {
            None | Some("") => fc.allow_link_local.unwrap_or(false),
            Some("1" | "true" | "yes") => true,
            Some("0" | "false" | "no") => false,
            Some(other) => {
                errors.push(format!(
                    "EDGEPUB_ALLOW_LINK_LOCAL: `{other}` is not true or false"
                ));
                false
            }
        };
        let secret = |key: &str, file: Option<Secret>| {
            get(key).filter(|v| !v.is_empty()).map(Secret).or(file)
        };
        let secret_key = secret("EDGEPUB_SECRET_KEY", fc.secret_key);
        if let Some(k) = &secret_key {
            if crate::secrets::Key::parse(k.expose()).is_err() {
                errors.push("EDGEPUB_SECRET_KEY: must be 32 bytes, base64 or hex encoded".into());
            }
        }
        let pages_root = parse_env("EDGEPUB_PAGES_ROOT", None)
            .map(PathBuf::from)
            .or(fc.pages_root)
            .unwrap_or_else(|| data_dir.join("sites"));
        let proxy_listen = match parse_env("EDGEPUB_PROXY_LISTEN", fc.proxy_listen) {
            Some(raw) => match raw.parse() {
                Ok(a) => Some(a),
                Err(_) => {
                    errors.push(format!(
                        "EDGEPUB_PROXY_LISTEN: `{raw}` is not an address like 127.0.0.1:8079"
                    ));
                    None
                }
            },
            None => None,
        };
        let redis_url = secret("REDIS_URL", fc.redis_url);
        let proxy_token = secret("EDGEPUB_PROXY_TOKEN", fc.proxy_token);
        let proxy_public_url = parse_env("EDGEPUB_PROXY_PUBLIC_URL", fc.proxy_public_url);
        if !errors.is_empty() {
            return Err(ConfigError::Invalid(errors));
        }
        Ok(Config {
            listen,
            data_dir,
            database_url,
            db_max_connections: db_max_connections as u32,
            admin_token,
            cors_origins,
            max_body_bytes: max_body_bytes as usize,
            page_history_limit: page_history_limit as u32,
            log_format,
            shutdown_timeout_secs,
            workers,
            secret_key,
            lease_secs,
            pages_root,
            test_timeout_secs,
            allow_link_local,
            redis_url,
            proxy_listen,
            proxy_token,
            proxy_public_url,
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.message().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_work_on_a_laptop() {
        let c = Config::from_sources(None, &env(&[])).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.database_url.expose(), "sqlite://./data/edgepub.db");
        assert_eq!(c.max_body_bytes, 2 * 1024 * 1024);
    }

    #[test]
    fn env_wins_over_file_and_errors_are_all_reported() {
        let dir = std::env::temp_dir().join(format!("edgepub-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("edgepub.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:7000\"\npage_history_limit = 5\n",
        )
        .unwrap();
        let c = Config::from_sources(Some(&file), &env(&[("EDGEPUB_LISTEN", "127.0.0.1:9000")]))
            .unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.page_history_limit, 5);

        let err = Config::from_sources(
            None,
            &env(&[
                ("EDGEPUB_LISTEN", "nope"),
                ("EDGEPUB_MAX_BODY_BYTES", "x"),
                ("DATABASE_URL", "mysql://x"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("EDGEPUB_LISTEN")
                && err.contains("EDGEPUB_MAX_BODY_BYTES")
                && err.contains("DATABASE_URL"),
            "{err}"
        );
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let c = Config::from_sources(
            None,
            &env(&[("EDGEPUB_ADMIN_TOKEN", "canary-canary-canary-canary")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("canary"));
    }
}
