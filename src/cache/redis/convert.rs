//! Between edgepub's commands and replies and the driver's, and the driver's errors as
//! connection errors with fixed messages (driver text may echo the URL).

use crate::cache::{Cmd, Reply};
use crate::net::{chain_text, classify, io_kind, ConnError, ErrorKind};
use redis::Value;

/// Maps a driver error to a kind and a fixed message (driver text may echo the URL).
pub(crate) fn redis_error(e: &redis::RedisError) -> ConnError {
    if e.kind() == redis::ErrorKind::AuthenticationFailed {
        return ConnError::new(ErrorKind::Auth, "authentication failed: check the password");
    }
    if e.is_timeout() {
        return ConnError::new(ErrorKind::Timeout, "Redis did not answer in time");
    }
    classify(&chain_text(e), io_kind(e))
}

pub(super) fn with_password(
    url: &str,
    password: Option<&str>,
) -> Result<redis::ConnectionInfo, ConnError> {
    use redis::IntoConnectionInfo;
    let info = url
        .into_connection_info()
        .map_err(|_| ConnError::new(ErrorKind::Invalid, "the Redis URL is not valid"))?;
    Ok(match password {
        Some(pw) => {
            let redis = info.redis_settings().clone().set_password(pw);
            info.set_redis_settings(redis)
        }
        None => info,
    })
}

/// A command as the driver takes it.
pub(super) fn to_cmd(c: &Cmd) -> redis::Cmd {
    let mut cmd = redis::cmd(c.0.first().map(String::as_str).unwrap_or("PING"));
    for a in c.0.iter().skip(1) {
        cmd.arg(a);
    }
    cmd
}

pub(super) fn to_reply(v: Value) -> Reply {
    match v {
        Value::Nil => Reply::Nil,
        Value::Int(n) => Reply::Int(n),
        Value::BulkString(b) => Reply::Text(String::from_utf8_lossy(&b).into_owned()),
        Value::SimpleString(s) => Reply::Text(s),
        Value::Okay => Reply::Text("OK".into()),
        Value::Array(items) | Value::Set(items) => {
            Reply::Array(items.into_iter().map(to_reply).collect())
        }
        Value::Map(pairs) => Reply::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [to_reply(k), to_reply(v)])
                .collect(),
        ),
        Value::Double(d) => Reply::Text(d.to_string()),
        Value::Boolean(b) => Reply::Int(i64::from(b)),
        Value::ServerError(e) => Reply::Error(format!(
            "{:?} {}",
            e.kind(),
            e.details().unwrap_or_default()
        )),
        other => Reply::Text(format!("{other:?}")),
    }
}
