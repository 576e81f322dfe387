//! Outbound connections, whatever they connect to: the error kinds a "Test connection" button
//! shows and every publish or cache failure carries, the address policy (no link-local or
//! cloud-metadata hosts), HTTP error mapping, and one retry helper with backoff and jitter.
//! Nothing here knows what a target or a cache is.

mod classify;
pub mod http;
pub mod policy;
pub mod probe;
pub mod retry;

pub use classify::{chain_text, classify, io_kind};
pub use policy::NetPolicy;
pub use probe::TestReport;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Dns,
    Refused,
    Timeout,
    Tls,
    Auth,
    Protocol,
    NotFound,
    Permission,
    Invalid,
    /// The peer holds something edgepub did not write there (drift); a forced publish
    /// repairs it.
    Conflict,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema, thiserror::Error)]
#[error("{message}")]
pub struct ConnError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ConnError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnError {
            kind,
            message: message.into(),
        }
    }
}

/// What answered: e.g. `redis` 7.0.15 `standalone`, `sqlite` 3.45.1.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ServerInfo {
    pub kind: String,
    pub version: Option<String>,
    pub mode: Option<String>,
}

impl ErrorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Dns => "dns",
            ErrorKind::Refused => "refused",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Tls => "tls",
            ErrorKind::Auth => "auth",
            ErrorKind::Protocol => "protocol",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Permission => "permission",
            ErrorKind::Invalid => "invalid",
            ErrorKind::Conflict => "conflict",
        }
    }

    /// Whether trying again later may succeed: transport trouble is, a refusal by the peer
    /// (auth, not found, invalid input) is not.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Dns | ErrorKind::Refused | ErrorKind::Timeout | ErrorKind::Protocol
        )
    }
}
