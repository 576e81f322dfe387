//! The page cache edges read, behind one small trait.
//!
//! A backend implements only raw commands as a pipeline (`exec`) and a server description;
//! everything else (GET, SET EX, UNLINK, SCAN by prefix, EXPIRE, INCR, PING, flushing a
//! project) is written once on top. Redis over TCP and Upstash REST differ only there.

pub mod keys;
pub mod outbox;
pub mod plan;
pub mod pool;
mod redis;
pub mod shared;
mod upstash;
pub mod values;
pub mod writes;

pub use self::redis::RedisCache;
pub use self::upstash::UpstashCache;

use crate::domain::settings::{CacheSettings, RedisType};
use crate::net::NetPolicy;
use crate::net::{ConnError, ServerInfo};
use async_trait::async_trait;
use std::time::Duration;

/// One command: its name and arguments as text (everything we cache is JSON or plain text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd(pub Vec<String>);

impl Cmd {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(args: I) -> Cmd {
        Cmd(args.into_iter().map(Into::into).collect())
    }
}

/// A reply in a shape both wire formats map onto.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Nil,
    Int(i64),
    Text(String),
    Array(Vec<Reply>),
    /// An error for this command only; the rest of the pipeline still ran.
    Error(String),
}

impl Reply {
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Reply::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// A blocking connection that takes pipelines already encoded as RESP. Bulk priming writes
/// each ~50 KB value once, into one reused buffer, instead of through a client's command,
/// pipeline and codec buffers (each a copy).
pub trait Bulk: Send {
    /// Sends `count` encoded commands in one round trip; one reply per command.
    fn send(&mut self, packed: &[u8], count: usize) -> Result<Vec<Reply>, ConnError>;
}

#[async_trait]
pub trait Cache: Send + Sync {
    /// Runs commands in order in one round trip; one reply per command.
    async fn exec(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, ConnError>;

    /// A bulk connection, when the backend speaks RESP to one server.
    async fn bulk(&self) -> Result<Option<Box<dyn Bulk>>, ConnError> {
        Ok(None)
    }

    /// Version and mode, for "Test connection".
    async fn server_info(&self) -> Result<ServerInfo, ConnError>;

    /// Every key matching `pattern`, iterating SCAN cursors (never KEYS). Cluster backends
    /// override this to scan every master.
    async fn scan(&self, pattern: &str) -> Result<Vec<String>, ConnError> {
        scan_keys(self, pattern).await
    }

    /// Runs one command; a command error becomes a protocol error.
    async fn one(&self, cmd: Cmd) -> Result<Reply, ConnError> {
        let name = cmd.0.first().cloned().unwrap_or_default();
        match self.exec(std::slice::from_ref(&cmd)).await?.pop() {
            Some(Reply::Error(e)) => Err(ConnError::new(
                crate::net::ErrorKind::Protocol,
                format!("{name} failed: {}", first_line(&e)),
            )),
            Some(r) => Ok(r),
            None => Err(protocol(&name)),
        }
    }

    async fn ping(&self) -> Result<(), ConnError> {
        self.one(Cmd::new(["PING"])).await.map(|_| ())
    }

    async fn get(&self, key: &str) -> Result<Option<String>, ConnError> {
        Ok(self
            .one(Cmd::new(["GET", key]))
            .await?
            .as_text()
            .map(String::from))
    }

    async fn set_ex(&self, key: &str, value: &str, ttl_secs: u64) -> Result<(), ConnError> {
        self.one(Cmd::new(["SET", key, value, "EX", &ttl_secs.to_string()]))
            .await
            .map(|_| ())
    }

    async fn expire(&self, key: &str, ttl_secs: u64) -> Result<bool, ConnError> {
        Ok(self
            .one(Cmd::new(["EXPIRE", key, &ttl_secs.to_string()]))
            .await?
            == Reply::Int(1))
    }

    async fn incr(&self, key: &str) -> Result<i64, ConnError> {
        match self.one(Cmd::new(["INCR", key])).await? {
            Reply::Int(n) => Ok(n),
            _ => Err(protocol("INCR")),
        }
    }

    /// UNLINKs in batches of 500; returns how many keys existed.
    async fn unlink(&self, keys: &[String]) -> Result<i64, ConnError> {
        let mut removed = 0;
        for batch in keys.chunks(500) {
            // One UNLINK per key keeps Cluster happy (keys of a batch may live on other slots).
            let cmds: Vec<Cmd> = batch
                .iter()
                .map(|k| Cmd::new(["UNLINK", k.as_str()]))
                .collect();
            for r in self.exec(&cmds).await? {
                match r {
                    Reply::Int(n) => removed += n,
                    Reply::Error(e) => {
                        return Err(ConnError::new(
                            crate::net::ErrorKind::Protocol,
                            first_line(&e),
                        ))
                    }
                    _ => {}
                }
            }
        }
        Ok(removed)
    }
}

pub(crate) fn protocol(what: &str) -> ConnError {
    ConnError::new(
        crate::net::ErrorKind::Protocol,
        format!("unexpected reply to {what}"),
    )
}

fn first_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// Builds the cache client a project's settings describe. The choice is made at run time.
pub async fn connect(
    s: &CacheSettings,
    policy: NetPolicy,
    timeout: Duration,
) -> Result<Box<dyn Cache>, ConnError> {
    match s.redis_type {
        RedisType::Tcp => Ok(Box::new(RedisCache::connect(s, policy, timeout).await?)),
        RedisType::Upstash | RedisType::SelfHosted => {
            Ok(Box::new(UpstashCache::new(s, policy, timeout)?))
        }
    }
}

/// "Test connection" for cache settings: connect, then ask the server what it is.
pub async fn test(
    s: &CacheSettings,
    policy: NetPolicy,
    timeout: Duration,
) -> Result<ServerInfo, ConnError> {
    let attempt = async { connect(s, policy, timeout).await?.server_info().await };
    let tls = s
        .redis_url
        .as_deref()
        .is_some_and(|u| u.starts_with("rediss://"));
    if !tls {
        return attempt.await;
    }
    // A plain-text Redis never answers a TLS handshake: it waits for the end of a command
    // that never comes. Say what that silence means instead of a bare timeout.
    tokio::time::timeout(timeout.mul_f32(0.8), attempt)
        .await
        .unwrap_or_else(|_| {
            Err(ConnError::new(
                crate::net::ErrorKind::Tls,
                "no TLS handshake in time: the server on that port does not seem to speak TLS (rediss:// needs a TLS-enabled Redis)",
            ))
        })
}

/// Deletes `keys` (a project's, from [`keys::project_keys`]) on the cache the settings
/// describe.
pub async fn flush(
    s: &CacheSettings,
    keys: &[String],
    policy: NetPolicy,
    timeout: Duration,
) -> Result<i64, ConnError> {
    let client = connect(s, policy, timeout).await?;
    client.unlink(keys).await
}

/// Every key matching `pattern` on one server, iterating SCAN cursors (never KEYS): the
/// default of [`Cache::scan`], and what a backend that overrides it for clusters runs for a
/// single server.
pub async fn scan_keys<C: Cache + ?Sized>(
    cache: &C,
    pattern: &str,
) -> Result<Vec<String>, ConnError> {
    let mut keys = Vec::new();
    let mut cursor = "0".to_string();
    loop {
        let reply = cache
            .one(Cmd::new([
                "SCAN", &cursor, "MATCH", pattern, "COUNT", "500",
            ]))
            .await?;
        let Reply::Array(parts) = reply else {
            return Err(protocol("SCAN"));
        };
        match parts.as_slice() {
            [Reply::Text(next), Reply::Array(batch)] => {
                keys.extend(batch.iter().filter_map(|k| k.as_text().map(String::from)));
                cursor = next.clone();
            }
            _ => return Err(protocol("SCAN")),
        }
        if cursor == "0" {
            return Ok(keys);
        }
    }
}
