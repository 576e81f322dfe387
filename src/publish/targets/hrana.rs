//! A small Hrana v2 client (`POST /v2/pipeline`) for Turso and libSQL servers.
//!
//! Our own rather than `libsql`'s: its remote client only speaks `/v3`, and its SQLite build
//! cannot link next to sqlx's. Arguments are always positional (named ones bind NULL on
//! tursodb), and every batch ends in COMMIT or ROLLBACK because a server may share one
//! connection between requests.

use crate::net::http::transport_error;
use crate::net::NetPolicy;
use crate::net::{ConnError, ErrorKind, ServerInfo};
use base64::Engine;
use serde_json::{json, Value};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum HValue {
    Null,
    Integer(i64),
    Float(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl HValue {
    fn to_json(&self) -> Value {
        match self {
            HValue::Null => json!({"type": "null"}),
            // Hrana carries integers as strings so 64-bit values survive JSON.
            HValue::Integer(n) => json!({"type": "integer", "value": n.to_string()}),
            HValue::Float(f) => json!({"type": "float", "value": f}),
            HValue::Text(s) => json!({"type": "text", "value": s}),
            HValue::Blob(b) => {
                json!({"type": "blob", "base64": base64::engine::general_purpose::STANDARD_NO_PAD.encode(b)})
            }
        }
    }

    fn from_json(v: &Value) -> HValue {
        let s = |k: &str| v.get(k).and_then(Value::as_str);
        match s("type") {
            Some("integer") => s("value")
                .and_then(|x| x.parse().ok())
                .map_or(HValue::Null, HValue::Integer),
            Some("float") => v
                .get("value")
                .and_then(Value::as_f64)
                .map_or(HValue::Null, HValue::Float),
            Some("text") => HValue::Text(s("value").unwrap_or_default().to_string()),
            Some("blob") => {
                let raw = s("base64").unwrap_or_default().trim_end_matches('=');
                HValue::Blob(
                    base64::engine::general_purpose::STANDARD_NO_PAD
                        .decode(raw)
                        .unwrap_or_default(),
                )
            }
            _ => HValue::Null,
        }
    }

    pub fn as_text(&self) -> Option<&str> {
        match self {
            HValue::Text(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub sql: String,
    pub args: Vec<HValue>,
}

impl Stmt {
    pub fn new(sql: impl Into<String>, args: Vec<HValue>) -> Stmt {
        Stmt {
            sql: sql.into(),
            args,
        }
    }

    fn to_json(&self) -> Value {
        json!({"sql": self.sql, "args": self.args.iter().map(HValue::to_json).collect::<Vec<_>>()})
    }
}

#[derive(Debug, Clone, Default)]
pub struct Rows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<HValue>>,
}

impl Rows {
    fn from_json(result: &Value) -> Rows {
        let columns = result["cols"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| c["name"].as_str().unwrap_or_default().to_string())
            .collect();
        let rows = result["rows"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| {
                r.as_array()
                    .into_iter()
                    .flatten()
                    .map(HValue::from_json)
                    .collect()
            })
            .collect();
        Rows { columns, rows }
    }
}

pub struct Hrana {
    http: reqwest::Client,
    endpoint: String,
    token: Option<String>,
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
        })
    }

    async fn pipeline(&self, requests: Vec<Value>) -> Result<Vec<Value>, ConnError> {
        let mut req = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "baton": null, "requests": requests }));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| transport_error(&e))?;
        match res.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(ConnError::new(
                    ErrorKind::Auth,
                    "the database refused the auth token",
                ))
            }
            404 => {
                return Err(ConnError::new(
                    ErrorKind::NotFound,
                    "no Hrana v2 endpoint at that URL (404)",
                ))
            }
            s => {
                return Err(ConnError::new(
                    ErrorKind::Protocol,
                    format!("the database answered HTTP {s}"),
                ))
            }
        }
        let body: Value = res
            .json()
            .await
            .map_err(|_| ConnError::new(ErrorKind::Protocol, "the answer is not Hrana JSON"))?;
        let results = body["results"].as_array().cloned().unwrap_or_default();
        for r in &results {
            if r["type"] == "error" {
                let msg = r["error"]["message"].as_str().unwrap_or("unknown error");
                return Err(ConnError::new(
                    ErrorKind::Protocol,
                    format!("the statement failed: {msg}"),
                ));
            }
        }
        Ok(results)
    }

    pub async fn execute(&self, stmt: &Stmt) -> Result<Rows, ConnError> {
        let results = self
            .pipeline(vec![json!({"type": "execute", "stmt": stmt.to_json()})])
            .await?;
        let first = results
            .first()
            .ok_or_else(|| ConnError::new(ErrorKind::Protocol, "empty Hrana reply"))?;
        Ok(Rows::from_json(&first["response"]["result"]))
    }

    /// Runs statements atomically: BEGIN, each step only if the previous succeeded, COMMIT,
    /// and ROLLBACK if anything failed. Returns each statement's rows.
    pub async fn transaction(&self, stmts: &[Stmt]) -> Result<Vec<Rows>, ConnError> {
        let mut steps = vec![json!({"stmt": {"sql": "BEGIN IMMEDIATE"}})];
        for (i, s) in stmts.iter().enumerate() {
            steps.push(json!({"stmt": s.to_json(), "condition": {"type": "ok", "step": i}}));
        }
        let n = steps.len();
        steps.push(json!({"stmt": {"sql": "COMMIT"}, "condition": {"type": "ok", "step": n - 1}}));
        steps.push(json!({"stmt": {"sql": "ROLLBACK"}, "condition": {"type": "not", "cond": {"type": "ok", "step": n}}}));
        let results = self
            .pipeline(vec![json!({"type": "batch", "batch": {"steps": steps}})])
            .await?;
        let batch = &results
            .first()
            .ok_or_else(|| ConnError::new(ErrorKind::Protocol, "empty Hrana reply"))?["response"]
            ["result"];
        let step_results = batch["step_results"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let step_errors = batch["step_errors"].as_array().cloned().unwrap_or_default();
        if let Some(err) = step_errors.iter().find(|e| !e.is_null()) {
            let msg = err["message"].as_str().unwrap_or("unknown error");
            return Err(ConnError::new(
                ErrorKind::Protocol,
                format!("the transaction was rolled back: {msg}"),
            ));
        }
        if step_results.get(n).is_none_or(Value::is_null) {
            return Err(ConnError::new(
                ErrorKind::Protocol,
                "the transaction did not commit",
            ));
        }
        Ok(step_results[1..n].iter().map(Rows::from_json).collect())
    }

    pub async fn probe(&self) -> Result<ServerInfo, ConnError> {
        let rows = self
            .execute(&Stmt::new("SELECT sqlite_version()", vec![]))
            .await?;
        let version = rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(HValue::as_text)
            .map(String::from);
        Ok(ServerInfo {
            kind: "turso".into(),
            version,
            mode: Some("hrana-v2".into()),
        })
    }
}
