//! Proxy configuration and the redaction rules that keep its secrets out of logs.
//!
//! Two values are secret: the bearer token that clients present, and the password that may be
//! embedded in the Redis URL (`redis://user:pass@host`). Neither may appear in `Debug` output
//! or in an error message, so `Debug` is written by hand and every message that could echo
//! the URL goes through [`Redactor`].

use std::fmt;

/// Default cap on a request body, matching what Upstash accepts for a command by default.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default cap on commands in one `/pipeline` or `/multi-exec` request.
pub const DEFAULT_MAX_PIPELINE_COMMANDS: usize = 1000;
/// Default per-worker connection cap; actix's own default, repeated so callers can see it.
pub const DEFAULT_MAX_CONNECTIONS: usize = 25_000;

/// Everything the proxy needs to run.
#[derive(Clone)]
pub struct ProxyConfig {
    /// `redis://` or `rediss://` URL of the Redis server behind the proxy.
    pub redis_url: String,
    /// Bearer token clients must present. Must not be empty.
    pub token: String,
    /// Largest accepted request body; bigger bodies answer 413.
    pub max_body_bytes: usize,
    /// Largest accepted number of commands in one pipeline or transaction.
    pub max_pipeline_commands: usize,
    /// Per-worker cap on concurrent HTTP connections (actix `max_connections`).
    pub max_connections: usize,
    /// Administrative commands let through (all are refused by default).
    pub allow_commands: Vec<String>,
}

impl ProxyConfig {
    /// A configuration with the default limits.
    pub fn new(redis_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            token: token.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_pipeline_commands: DEFAULT_MAX_PIPELINE_COMMANDS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            allow_commands: Vec::new(),
        }
    }

    /// The strings that must never leave the process in a message.
    pub(crate) fn redactor(&self) -> Redactor {
        let mut secrets = vec![self.token.clone(), self.redis_url.clone()];
        if let Some(password) = url_password(&self.redis_url) {
            secrets.push(password.to_owned());
        }
        Redactor::new(secrets)
    }
}

impl fmt::Debug for ProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConfig")
            .field("redis_url", &redact_url(&self.redis_url))
            .field("token", &"<redacted>")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_pipeline_commands", &self.max_pipeline_commands)
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// Replaces known secrets in free text before it reaches a client or a log line.
#[derive(Clone)]
pub(crate) struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    fn new(mut secrets: Vec<String>) -> Self {
        // Longest first, so the URL is replaced whole before its password would be.
        secrets.retain(|s| !s.is_empty());
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Self { secrets }
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), "<redacted>");
            }
        }
        out
    }
}

/// The password part of `scheme://[user[:password]@]host...`, if any.
fn url_password(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    match userinfo.split_once(':') {
        Some((_, password)) if !password.is_empty() => Some(password),
        // `redis://secret@host` puts the password in the user slot (redis-rs reads it so).
        None if !userinfo.is_empty() => Some(userinfo),
        _ => None,
    }
}

/// The URL with any userinfo replaced, for `Debug` and logs.
pub(crate) fn redact_url(url: &str) -> String {
    match url_password(url) {
        Some(password) => url.replacen(password, "<redacted>", 1),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_token_and_password() {
        let cfg = ProxyConfig::new("redis://user:hunter2@localhost:6379/0", "tok-123");
        let shown = format!("{cfg:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("tok-123"), "{shown}");
        assert!(shown.contains("localhost:6379"), "{shown}");
    }

    #[test]
    fn password_forms() {
        assert_eq!(url_password("redis://:pw@h"), Some("pw"));
        assert_eq!(url_password("rediss://u:pw@h:1/2"), Some("pw"));
        assert_eq!(url_password("redis://pw@h"), Some("pw"));
        assert_eq!(url_password("redis://h:6379"), None);
    }

    #[test]
    fn scrub_removes_url_and_password() {
        let cfg = ProxyConfig::new("redis://:sekret@db:6379", "tok");
        let r = cfg.redactor();
        let msg = r.scrub("failed redis://:sekret@db:6379 with sekret and tok");
        assert!(!msg.contains("sekret"));
        assert!(!msg.contains("tok"));
    }
}
