//! Rate limits of the endpoints that start work (publishes, the publish webhook, previews):
//! per project, and per token within a project, each a sliding window of one minute
//! ([`window`]).
//!
//! A project with a cache counts in its Redis, so every edgepub process sharing it sees one
//! count (one pipelined round trip: INCR + EXPIRE + GET per key; no script, so it also works
//! through Upstash REST and the edgepub proxy, which refuses EVAL). Otherwise, and whenever
//! that Redis cannot be reached, the process counts in memory: an outage never refuses
//! everything and never lets everything through. Allowed requests are also counted in memory
//! on the Redis path, so a fallback starts from what this process already saw.

mod local;
pub mod window;

use crate::cache::pool::{configured, ClientPool};
use crate::cache::{Cmd, Reply};
use crate::domain::settings::CacheSettings;
use local::Local;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;
pub use window::Verdict;

/// Limits per minute; 0 turns one off.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub project_per_minute: u64,
    pub token_per_minute: u64,
    /// Keys the in-process limiter holds at most (least recently used ones are evicted).
    pub max_keys: usize,
}

impl From<&crate::config::Config> for Limits {
    fn from(c: &crate::config::Config) -> Self {
        Limits {
            project_per_minute: c.rate_limit_project_per_minute,
            token_per_minute: c.rate_limit_token_per_minute,
            max_keys: c.rate_limit_max_keys,
        }
    }
}

/// Which counter answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Redis,
    Memory,
}

/// The outcome for one request: the tightest of its keys.
#[derive(Debug, Clone, Copy)]
pub struct Decision {
    pub verdict: Verdict,
    /// `project` or `token`: the key the verdict is about.
    pub scope: &'static str,
    pub backend: Backend,
}

struct Key {
    scope: &'static str,
    /// In-process name, also the Redis key's suffix.
    name: String,
    limit: u64,
}

pub struct RateLimiter {
    limits: Limits,
    local: Local,
    clients: Arc<ClientPool>,
    timeout: Duration,
}

/// The Redis key of a counter: one hash slot per project (`{…}`), and a prefix no edge key
/// (`page:…`, `seo:…`) can have.
pub fn redis_key(project: Uuid, name: &str, window: i64) -> String {
    format!("edgepub:rl:{{{project}}}:{name}:{window}")
}

impl RateLimiter {
    pub fn new(limits: Limits, clients: Arc<ClientPool>, timeout: Duration) -> RateLimiter {
        RateLimiter {
            local: Local::new(limits.max_keys),
            limits,
            clients,
            timeout,
        }
    }

    /// Whether any limit is on (when none is, nothing needs to be looked up).
    pub fn enabled(&self) -> bool {
        self.limits.project_per_minute > 0 || self.limits.token_per_minute > 0
    }

    fn keys(&self, token: Option<Uuid>) -> Vec<Key> {
        let mut keys = Vec::with_capacity(2);
        if self.limits.project_per_minute > 0 {
            keys.push(Key {
                scope: "project",
                name: "p".into(),
                limit: self.limits.project_per_minute,
            });
        }
        if let Some(t) = token.filter(|_| self.limits.token_per_minute > 0) {
            keys.push(Key {
                scope: "token",
                name: format!("t:{t}"),
                limit: self.limits.token_per_minute,
            });
        }
        keys
    }

    /// Counts one request of `token` (none for the webhook) on `project` at `now_ms` (Unix
    /// milliseconds, from the injected clock). `None` when no limit applies.
    pub async fn check(
        &self,
        project: Uuid,
        token: Option<Uuid>,
        cache: Option<&CacheSettings>,
        now_ms: i64,
    ) -> Option<Decision> {
        let keys = self.keys(token);
        if keys.is_empty() {
            return None;
        }
        let local_names: Vec<(String, u64)> = keys
            .iter()
            .map(|k| (format!("{project}:{}", k.name), k.limit))
            .collect();
        if let Some(s) = cache.filter(|s| configured(s)) {
            match self.on_redis(project, s, &keys, now_ms).await {
                Ok(verdicts) => {
                    let d = tightest(&keys, &verdicts, Backend::Redis);
                    if d.verdict.allowed {
                        self.local.record(&local_names, now_ms);
                    }
                    return Some(d);
                }
                Err(e) => {
                    tracing::warn!(project_id = %project, kind = ?e.kind, "rate limit: Redis unreachable, counting in memory");
                }
            }
        }
        let verdicts = self.local.check(&local_names, now_ms);
        Some(tightest(&keys, &verdicts, Backend::Memory))
    }

    async fn on_redis(
        &self,
        project: Uuid,
        s: &CacheSettings,
        keys: &[Key],
        now_ms: i64,
    ) -> Result<Vec<Verdict>, crate::net::ConnError> {
        let client = self.clients.client(project, s).await?;
        let (w, elapsed) = window::locate(now_ms);
        // Kept for two windows: the current one, then as the previous one.
        let ttl = (2 * window::WINDOW_MS / 1000 + 5).to_string();
        let mut cmds = Vec::with_capacity(keys.len() * 3);
        for k in keys {
            let cur = redis_key(project, &k.name, w);
            cmds.push(Cmd::new(["INCR", cur.as_str()]));
            cmds.push(Cmd::new(["EXPIRE", cur.as_str(), ttl.as_str()]));
            cmds.push(Cmd::new([
                "GET",
                redis_key(project, &k.name, w - 1).as_str(),
            ]));
        }
        let replies = self.exec(project, client.as_ref(), &cmds).await?;
        let mut verdicts = Vec::with_capacity(keys.len());
        for (k, r) in keys.iter().zip(replies.chunks(3)) {
            let (Some(Reply::Int(n)), Some(prev)) = (r.first(), r.get(2)) else {
                return Err(crate::cache::protocol("rate limit INCR"));
            };
            let prev = match prev {
                Reply::Text(t) => t.parse().unwrap_or(0),
                Reply::Int(i) => u64::try_from(*i).unwrap_or(0),
                _ => 0,
            };
            let before = u64::try_from(n - 1).unwrap_or(0);
            verdicts.push(window::judge(k.limit, prev, before, elapsed));
        }
        if verdicts.iter().any(|v| !v.allowed) {
            // A refused request is not counted, so a client that keeps retrying too early
            // is not locked out for longer than the window says.
            let undo: Vec<Cmd> = keys
                .iter()
                .map(|k| Cmd::new(["DECR", redis_key(project, &k.name, w).as_str()]))
                .collect();
            self.exec(project, client.as_ref(), &undo).await?;
        }
        Ok(verdicts)
    }

    /// Runs a pipeline within the timeout; a failure takes the client out of the pool for
    /// a few seconds (a failed connect already did).
    async fn exec(
        &self,
        project: Uuid,
        client: &dyn crate::cache::Cache,
        cmds: &[Cmd],
    ) -> Result<Vec<Reply>, crate::net::ConnError> {
        let result = tokio::time::timeout(self.timeout, client.exec(cmds))
            .await
            .unwrap_or_else(|_| {
                Err(crate::net::ConnError::new(
                    crate::net::ErrorKind::Timeout,
                    "Redis did not answer in time",
                ))
            });
        if result.is_err() {
            self.clients.failed(project);
        }
        result
    }
}

/// A refused key wins (the longest wait); otherwise the key with the least left.
fn tightest(keys: &[Key], verdicts: &[Verdict], backend: Backend) -> Decision {
    let (scope, verdict) = keys
        .iter()
        .zip(verdicts)
        .max_by_key(|(_, v)| (!v.allowed, v.retry_after_secs, u64::MAX - v.remaining))
        .map_or(("project", window::judge(0, 0, 0, 0)), |(k, v)| {
            (k.scope, *v)
        });
    Decision {
        verdict,
        scope,
        backend,
    }
}
