//! The one Redis connection behind the proxy, and how its failures are told apart.
//!
//! A `ConnectionManager` multiplexes every request over a single connection and reconnects
//! by itself after a failure, so there is no pool to size. Errors fall in two groups that
//! the client must be able to tell apart: Redis refused the command (400, Redis's own text),
//! or Redis could not be reached (502, with the connection details redacted).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{ErrorKind, RedisError, ServerErrorKind, Value};

use super::command::Command;
use super::config::{redact_url, ProxyConfig, Redactor};
use super::encode::server_error_text;
use super::error::ProxyError;

/// The redis crate's default of 500 ms would fail legitimate slow commands (a large SCAN
/// COUNT, a long Lua script); ten seconds still bounds a request when Redis hangs.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// Requests made while Redis is down wait for the reconnect attempt in progress; few, quick
/// retries make them fail fast with a 502 instead of hanging for the crate's default ~7 s.
/// Each later request starts a new attempt, so the proxy still recovers by itself.
const RECONNECT_RETRIES: usize = 2;
const MAX_RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// Shared handle to Redis; cloning it is cheap and shares the connection.
#[derive(Clone)]
pub(crate) struct Backend {
    conn: ConnectionManager,
    redactor: Redactor,
}

impl Backend {
    /// Connects once, so a wrong URL or a dead server fails at start-up, not on first use.
    pub(crate) async fn connect(config: &ProxyConfig) -> Result<Self, ProxyError> {
        let redactor = config.redactor();
        let client = redis::Client::open(config.redis_url.as_str()).map_err(|e| {
            ProxyError::Config(format!(
                "invalid redis_url {}: {}",
                redact_url(&config.redis_url),
                redactor.scrub(&e.to_string())
            ))
        })?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_max_delay(MAX_RECONNECT_DELAY);
        let conn = client
            .get_connection_manager_with_config(manager_config)
            .await
            .map_err(|e| ProxyError::Unavailable(redactor.scrub(&e.to_string())))?;
        Ok(Self { conn, redactor })
    }

    /// One command; an error reply comes back as `Value::ServerError`, not as `Err`.
    pub(crate) async fn single(&self, cmd: &Command) -> Result<Value, ProxyError> {
        let mut conn = self.conn.clone();
        conn.send_packed_command(&cmd.to_redis())
            .await
            .map_err(|e| self.classify(e))
    }

    /// Commands sent back to back; each reply, error or not, in order.
    pub(crate) async fn pipeline(&self, cmds: &[&Command]) -> Result<Vec<Value>, ProxyError> {
        let mut pipe = redis::pipe();
        // Per-command errors must come back as values so their neighbours still answer.
        pipe.ignore_errors();
        for cmd in cmds {
            pipe.add_command(cmd.to_redis());
        }
        self.run(&pipe, cmds.len()).await
    }

    /// Commands inside MULTI/EXEC. A command rejected while queuing aborts the whole
    /// transaction (EXECABORT, answered as an error); a command that fails while running
    /// does not, as in Redis, and its error comes back in its slot.
    pub(crate) async fn transaction(&self, cmds: &[Command]) -> Result<Vec<Value>, ProxyError> {
        let mut pipe = redis::pipe();
        pipe.atomic().ignore_errors();
        for cmd in cmds {
            pipe.add_command(cmd.to_redis());
        }
        self.run(&pipe, cmds.len()).await
    }

    /// Round trip for the health answer.
    pub(crate) async fn ping(&self) -> Result<(), ProxyError> {
        let mut conn = self.conn.clone();
        match conn.send_packed_command(&redis::cmd("PING")).await {
            Ok(Value::ServerError(e)) => Err(ProxyError::Command(server_error_text(&e))),
            Ok(_) => Ok(()),
            Err(e) => Err(self.classify(e)),
        }
    }

    async fn run(&self, pipe: &redis::Pipeline, expected: usize) -> Result<Vec<Value>, ProxyError> {
        let mut conn = self.conn.clone();
        let reply: Value = pipe
            .query_async(&mut conn)
            .await
            .map_err(|e| self.classify(e))?;
        match reply {
            Value::Array(items) if items.len() == expected => Ok(items),
            // EXEC answers nil only when a WATCHed key changed; WATCH is refused, but be exact.
            Value::Nil => Err(ProxyError::Command(
                "EXECABORT transaction aborted by the server".into(),
            )),
            _ => Err(ProxyError::Unavailable(format!(
                "unexpected reply shape from Redis ({expected} replies expected)"
            ))),
        }
    }

    /// Error replies become 400s with Redis's text; everything else means Redis is not
    /// reachable or not answering, and becomes a redacted 502.
    fn classify(&self, err: RedisError) -> ProxyError {
        let aborted = err.kind() == ErrorKind::Server(ServerErrorKind::ExecAbort);
        if let Some(errors) = err.clone().into_server_errors() {
            let texts: Vec<String> = errors
                .iter()
                .map(|(i, e)| {
                    let text = server_error_text(e);
                    if aborted {
                        format!("command {}: {text}", i + 1)
                    } else {
                        text
                    }
                })
                .collect();
            return ProxyError::Command(if aborted {
                format!(
                    "EXECABORT Transaction discarded because of previous errors: {}",
                    texts.join("; ")
                )
            } else {
                texts.join("; ")
            });
        }
        let message = self.redactor.scrub(&err.to_string());
        tracing::warn!(error = %message, "redis request failed");
        ProxyError::Unavailable(message)
    }
}
