//! Per-project cache settings: which Redis the edge's page cache lives in, and how edgepub
//! treats it on publish. Disabled by default, so the embedded default needs no Redis.

use super::redis_url::{self, split_password};
use super::{FieldError, Problems};
use crate::secrets::SecretHint;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use super::secret_patch::{secret_origin, Purpose, SecretPatch};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum RedisType {
    /// Redis over TCP: `redis://`, `rediss://`, Sentinel or Cluster.
    #[serde(rename = "tcp")]
    Tcp,
    /// Upstash's REST API.
    #[serde(rename = "upstash")]
    Upstash,
    /// An Upstash-compatible REST proxy in front of a plain Redis (e.g. `edgepub redis-proxy`).
    #[serde(rename = "self-hosted")]
    SelfHosted,
}

impl RedisType {
    pub fn as_str(self) -> &'static str {
        match self {
            RedisType::Tcp => "tcp",
            RedisType::Upstash => "upstash",
            RedisType::SelfHosted => "self-hosted",
        }
    }

    /// The stored name; anything else is `None` (a row no version of edgepub wrote).
    pub fn parse(s: &str) -> Option<RedisType> {
        match s {
            "tcp" => Some(RedisType::Tcp),
            "upstash" => Some(RedisType::Upstash),
            "self-hosted" => Some(RedisType::SelfHosted),
            _ => None,
        }
    }

    pub fn is_rest(self) -> bool {
        !matches!(self, RedisType::Tcp)
    }

    /// Whether this type authenticates with `redis_token` (REST) rather than
    /// `redis_password` (TCP); the other secret is never used with it.
    pub fn uses_token(self) -> bool {
        self.is_rest()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheMode {
    /// Delete the keys of changed pages; the edge refills them from the database.
    Invalidate,
    /// Write fresh values for changed pages so the first visitor hits a warm cache.
    Prime,
}

impl CacheMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheMode::Invalidate => "invalidate",
            CacheMode::Prime => "prime",
        }
    }
}

/// Cache settings with secrets in clear, as used to connect. Never serialised as a response.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheSettings {
    pub redis_type: RedisType,
    /// Without password; for REST types the REST URL.
    pub redis_url: Option<String>,
    pub redis_token: Option<String>,
    pub redis_password: Option<String>,
    pub redis_master_name: Option<String>,
    pub redis_enabled: bool,
    pub cache_mode: CacheMode,
    pub cache_ttl_data: i64,
    pub cache_ttl_count: i64,
    pub cache_ttl_page: i64,
    pub cache_ttl_jitter: i64,
}

impl std::fmt::Debug for CacheSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheSettings")
            .field("redis_type", &self.redis_type)
            .field("redis_url", &self.redis_url)
            .field(
                "redis_token",
                &self.redis_token.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "redis_password",
                &self.redis_password.as_ref().map(|_| "[redacted]"),
            )
            .field("redis_enabled", &self.redis_enabled)
            .field("cache_mode", &self.cache_mode)
            .finish_non_exhaustive()
    }
}

impl CacheSettings {
    /// The keyspaces this cache writes to (see [`redis_url::keyspaces`]); none without a URL.
    pub fn keyspaces(&self) -> Vec<String> {
        self.redis_url.as_deref().map_or_else(Vec::new, |u| {
            redis_url::keyspaces(
                self.redis_type.is_rest(),
                u,
                self.redis_master_name.as_deref(),
            )
        })
    }
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            redis_type: RedisType::Upstash,
            redis_url: None,
            redis_token: None,
            redis_password: None,
            redis_master_name: None,
            redis_enabled: false,
            cache_mode: CacheMode::Invalidate,
            cache_ttl_data: 60,
            cache_ttl_count: 300,
            cache_ttl_page: 60,
            cache_ttl_jitter: 10,
        }
    }
}

/// Body of `PUT /settings/cache` and of its test endpoint.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheSettingsInput {
    pub redis_type: RedisType,
    /// `redis://…`, `rediss://…`, `redis+sentinel://h:p,h2:p2/master`, comma-separated nodes for
    /// a Cluster, or the REST URL. A password inside it is stored sealed, like `redis_password`.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// Upstash / proxy token. Omit to keep the stored one; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub redis_token: SecretPatch,
    /// Redis password. Omit to keep the stored one; `null` clears it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub redis_password: SecretPatch,
    /// Sentinel master name when the URL does not carry it.
    #[serde(default)]
    pub redis_master_name: Option<String>,
    #[serde(default)]
    pub redis_enabled: bool,
    #[serde(default = "default_mode")]
    pub cache_mode: CacheMode,
    /// Seconds an edge caches data query results (default 60).
    #[serde(default = "ttl_data", deserialize_with = "super::integral")]
    #[schema(minimum = 1, maximum = 86400)]
    pub cache_ttl_data: i64,
    /// Seconds an edge caches row counts (default 300).
    #[serde(default = "ttl_count", deserialize_with = "super::integral")]
    #[schema(minimum = 1, maximum = 86400)]
    pub cache_ttl_count: i64,
    /// Seconds a primed page key lives (default 60, the edge's own TTL).
    #[serde(default = "ttl_page", deserialize_with = "super::integral")]
    #[schema(minimum = 1, maximum = 86400)]
    pub cache_ttl_page: i64,
    /// Up to this many seconds are added at random to each TTL so bulk-written keys do not all expire at once (default 10).
    #[serde(default = "ttl_jitter", deserialize_with = "super::integral")]
    #[schema(minimum = 0, maximum = 3600)]
    pub cache_ttl_jitter: i64,
}

fn default_mode() -> CacheMode {
    CacheMode::Invalidate
}
fn ttl_data() -> i64 {
    60
}
fn ttl_count() -> i64 {
    300
}
fn ttl_page() -> i64 {
    60
}
fn ttl_jitter() -> i64 {
    10
}

impl CacheSettingsInput {
    /// Validates and merges with what is stored (secrets omitted in the input are kept for
    /// the same type and address). A secret the chosen type does not use is dropped, never
    /// required: switching from Upstash to a TCP Redis without a password forgets the token.
    pub fn resolve(
        self,
        stored: &CacheSettings,
        purpose: Purpose,
    ) -> Result<CacheSettings, Vec<FieldError>> {
        let mut p = Problems::default();
        let (url, url_password) = match self
            .redis_url
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(u) if self.redis_type == RedisType::Tcp => {
                let (clean, pw) = split_password(u);
                (Some(clean), pw)
            }
            Some(u) => (Some(u.trim_end_matches('/').to_string()), None),
            None => (None, None),
        };
        let same_address = self.redis_type == stored.redis_type
            && url.as_deref().map(secret_origin) == stored.redis_url.as_deref().map(secret_origin);
        let uses_token = self.redis_type.uses_token();
        let password = match url_password {
            Some(pw) => Some(pw),
            None if uses_token => None,
            None => self.redis_password.apply_at(
                stored.redis_password.clone(),
                same_address,
                purpose,
                "/redis_password",
                &mut p,
            ),
        };
        let token = match uses_token {
            true => self.redis_token.apply_at(
                stored.redis_token.clone(),
                same_address,
                purpose,
                "/redis_token",
                &mut p,
            ),
            false => None,
        };
        match (&url, self.redis_type) {
            (None, _) if self.redis_enabled => {
                p.push("/redis_url", "required", "needed when the cache is enabled")
            }
            (Some(u), RedisType::Tcp) => {
                if let Err(m) = redis_url::parse(u, self.redis_master_name.as_deref()) {
                    p.push("/redis_url", "invalid", m);
                }
            }
            (Some(u), _)
                if !url::Url::parse(u).is_ok_and(|x| matches!(x.scheme(), "http" | "https")) =>
            {
                p.push(
                    "/redis_url",
                    "invalid",
                    "a REST URL must start with http:// or https://",
                )
            }
            _ => {}
        }
        // A test without the token runs anyway and reports `auth`; only a save needs it.
        if uses_token && self.redis_enabled && token.is_none() && purpose == Purpose::Save {
            p.push("/redis_token", "required", "a REST cache needs its token");
        }
        for (path, v, min, max) in [
            ("/cache_ttl_data", self.cache_ttl_data, 1, 86_400),
            ("/cache_ttl_count", self.cache_ttl_count, 1, 86_400),
            ("/cache_ttl_page", self.cache_ttl_page, 1, 86_400),
            ("/cache_ttl_jitter", self.cache_ttl_jitter, 0, 3_600),
        ] {
            if !(min..=max).contains(&v) {
                p.push(
                    path,
                    "out_of_range",
                    format!("must be between {min} and {max} seconds"),
                );
            }
        }
        p.finish(CacheSettings {
            redis_type: self.redis_type,
            redis_url: url,
            redis_token: token,
            redis_password: password,
            redis_master_name: self.redis_master_name.filter(|m| !m.trim().is_empty()),
            redis_enabled: self.redis_enabled,
            cache_mode: self.cache_mode,
            cache_ttl_data: self.cache_ttl_data,
            cache_ttl_count: self.cache_ttl_count,
            cache_ttl_page: self.cache_ttl_page,
            cache_ttl_jitter: self.cache_ttl_jitter,
        })
    }
}

/// What a GET returns: secrets only as hints.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CacheSettingsView {
    pub redis_type: RedisType,
    pub redis_url: Option<String>,
    pub redis_token: SecretHint,
    pub redis_password: SecretHint,
    pub redis_master_name: Option<String>,
    pub redis_enabled: bool,
    pub cache_mode: CacheMode,
    pub cache_ttl_data: i64,
    pub cache_ttl_count: i64,
    pub cache_ttl_page: i64,
    pub cache_ttl_jitter: i64,
}

impl From<&CacheSettings> for CacheSettingsView {
    fn from(s: &CacheSettings) -> Self {
        CacheSettingsView {
            redis_type: s.redis_type,
            redis_url: s.redis_url.clone(),
            redis_token: SecretHint::of(s.redis_token.as_deref()),
            redis_password: SecretHint::of(s.redis_password.as_deref()),
            redis_master_name: s.redis_master_name.clone(),
            redis_enabled: s.redis_enabled,
            cache_mode: s.cache_mode,
            cache_ttl_data: s.cache_ttl_data,
            cache_ttl_count: s.cache_ttl_count,
            cache_ttl_page: s.cache_ttl_page,
            cache_ttl_jitter: s.cache_ttl_jitter,
        }
    }
}

#[cfg(test)]
mod tests;
