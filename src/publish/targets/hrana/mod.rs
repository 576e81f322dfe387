//! A Hrana v2 client (`POST /v2/pipeline`) for Turso and libSQL servers, on the protocol
//! types of the libsql project's own `libsql-hrana` crate (its `proto` module).
//!
//! Not `libsql`'s client: its remote side speaks only `/v3`, and its SQLite build cannot link
//! next to sqlx's. Arguments are always positional (named ones bind NULL on tursodb), and
//! every batch ends in COMMIT or ROLLBACK because a server may share one connection between
//! requests. Requests are assembled from pre-serialised statements so a caller can keep each
//! one under a size limit exactly; a test checks the assembly equals the crate's own
//! serialisation, and the Turso tests run it against a real `tursodb`.

use crate::net::http::{status_error, transport_error};
use crate::net::retry::{retry, Backoff};
use crate::net::{ConnError, ErrorKind, NetPolicy, ServerInfo};
use libsql_hrana::proto::{
    BatchStreamResp, ExecuteStreamResp, PipelineRespBody, StmtResult, StreamResponse, StreamResult,
    Value,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod encode;
pub use encode::{encode_args, encode_stmt, stmt, TxBuilder, STEP_OVERHEAD, TX_OVERHEAD};

/// Requests made and bytes sent, for the job result and the benchmark.
#[derive(Debug, Default)]
pub struct Traffic {
    pub requests: AtomicU64,
    pub bytes: AtomicU64,
}

/// A client; its clones share one connection pool and one traffic count.
#[derive(Clone)]
pub struct Hrana {
    http: reqwest::Client,
    endpoint: String,
    token: Option<String>,
    backoff: Backoff,
    pub traffic: Arc<Traffic>,
}

fn refused(e: &libsql_hrana::proto::Error) -> ConnError {
    let m = e.message.to_ascii_lowercase();
    // A busy database is worth retrying; any other refusal would be refused again.
    let kind = if m.contains("locked") || m.contains("busy") {
        ErrorKind::Timeout
    } else {
        ErrorKind::Invalid
    };
    let short: String = e.message.chars().take(300).collect();
    ConnError::new(kind, format!("the database refused a statement: {short}"))
}

fn protocol(what: &str) -> ConnError {
    ConnError::new(
        ErrorKind::Protocol,
        format!("unexpected Hrana reply: {what}"),
    )
}

impl Hrana {
    /// `libsql://` means HTTPS.
    pub fn new(
        url: &str,
        token: Option<String>,
        policy: NetPolicy,
        timeout: Duration,
    ) -> Result<Hrana, ConnError> {
        let url = match url.strip_prefix("libsql://") {
            Some(rest) => format!("https://{rest}"),
            None => url.to_string(),
        };
        let parsed = url::Url::parse(&url)
            .map_err(|_| ConnError::new(ErrorKind::Invalid, "the Turso URL is not valid"))?;
        policy.check_url(&parsed)?;
        let endpoint = format!("{}/v2/pipeline", parsed.as_str().trim_end_matches('/'));
        Ok(Hrana {
            http: policy.http_client(timeout),
            endpoint,
            token,
            backoff: Backoff::default(),
            traffic: Arc::default(),
        })
    }

    /// The same client with another retry schedule (`attempts: 1` never retries).
    pub fn with_backoff(mut self, backoff: Backoff) -> Hrana {
        self.backoff = backoff;
        self
    }

    async fn post(&self, body: bytes::Bytes) -> Result<Vec<StreamResult>, ConnError> {
        self.traffic.requests.fetch_add(1, Ordering::Relaxed);
        self.traffic
            .bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed);
        let mut req = self
            .http
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| transport_error(&e))?;
        match res.status().as_u16() {
            200 => {}
            404 => {
                return Err(ConnError::new(
                    ErrorKind::NotFound,
                    "no Hrana v2 endpoint at that URL (404)",
                ))
            }
            401 | 403 => {
                return Err(ConnError::new(
                    ErrorKind::Auth,
                    "the database refused the auth token",
                ))
            }
            s => return Err(status_error(s, "the database")),
        }
        let bytes = res.bytes().await.map_err(|e| transport_error(&e))?;
        let body: PipelineRespBody =
            serde_json::from_slice(&bytes).map_err(|_| protocol("not Hrana JSON"))?;
        Ok(body.results)
    }

    /// Sends one pipeline body, retrying transient failures with backoff. Every request we
    /// send is safe to repeat: single statements are reads or idempotent, and a transaction
    /// either committed (repeating it writes the same rows) or rolled back.
    async fn pipeline(&self, body: Vec<u8>) -> Result<Vec<StreamResult>, ConnError> {
        // Shared, not copied, by each attempt.
        let body = bytes::Bytes::from(body);
        retry(self.backoff, || self.post(body.clone())).await
    }

    fn ok(result: StreamResult) -> Result<StreamResponse, ConnError> {
        match result {
            StreamResult::Ok { response } => Ok(response),
            StreamResult::Error { error } => Err(refused(&error)),
            StreamResult::None => Err(protocol("an empty result")),
        }
    }

    /// Runs statements one after another in autocommit mode, in one request.
    pub async fn execute_all(&self, stmts: &[Vec<u8>]) -> Result<Vec<StmtResult>, ConnError> {
        let mut body = b"{\"baton\":null,\"requests\":[".to_vec();
        for (i, s) in stmts.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(b"{\"type\":\"execute\",\"stmt\":");
            body.extend_from_slice(s);
            body.push(b'}');
        }
        body.extend_from_slice(b"]}");
        let results = self.pipeline(body).await?;
        if results.len() != stmts.len() {
            return Err(protocol("a result is missing"));
        }
        results
            .into_iter()
            .map(|r| match Self::ok(r)? {
                StreamResponse::Execute(ExecuteStreamResp { result }) => Ok(result),
                _ => Err(protocol("not an execute result")),
            })
            .collect()
    }

    pub async fn execute(&self, stmt: Vec<u8>) -> Result<StmtResult, ConnError> {
        let mut r = self.execute_all(&[stmt]).await?;
        r.pop().ok_or_else(|| protocol("a result is missing"))
    }

    /// Runs a transaction in one request. It committed when this returns `Ok`.
    pub async fn transaction(&self, tx: TxBuilder) -> Result<(), ConnError> {
        let (body, commit) = tx.finish();
        let results = self.pipeline(body).await?;
        let first = results
            .into_iter()
            .next()
            .ok_or_else(|| protocol("a result is missing"))?;
        let StreamResponse::Batch(BatchStreamResp { result }) = Self::ok(first)? else {
            return Err(protocol("not a batch result"));
        };
        if let Some(e) = result.step_errors.iter().flatten().next() {
            return Err(refused(e));
        }
        match result.step_results.get(commit as usize) {
            Some(Some(_)) => Ok(()),
            _ => Err(protocol("the transaction did not commit")),
        }
    }

    pub async fn probe(&self) -> Result<ServerInfo, ConnError> {
        let result = self.execute(stmt("SELECT sqlite_version()", &[])).await?;
        let version = match result.rows.first().and_then(|r| r.values.first()) {
            Some(Value::Text { value }) => Some(value.to_string()),
            _ => None,
        };
        Ok(ServerInfo {
            kind: "turso".into(),
            version,
            mode: Some("hrana-v2".into()),
        })
    }
}

/// A column of a result row as text or integer.
pub fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Text { value } => Some(value.to_string()),
        _ => None,
    }
}

pub fn integer(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Integer { value } => Some(*value),
        _ => None,
    }
}
