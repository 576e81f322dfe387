//! Upstash REST (and compatible proxies such as `edgepub redis-proxy`): every call is one
//! POST to `/pipeline` with an array of commands.

use super::{Cache, Cmd, Reply};
use crate::domain::settings::CacheSettings;
use crate::net::http::transport_error as http_error;
use crate::net::{classify, ConnError, ErrorKind, NetPolicy, ServerInfo};
use async_trait::async_trait;
use serde_json::Value;
use std::time::Duration;

pub struct UpstashCache {
    http: reqwest::Client,
    url: url::Url,
    token: String,
}

impl UpstashCache {
    pub fn new(
        s: &CacheSettings,
        policy: NetPolicy,
        timeout: Duration,
    ) -> Result<UpstashCache, ConnError> {
        let raw = s
            .redis_url
            .as_deref()
            .ok_or_else(|| ConnError::new(ErrorKind::Invalid, "no REST URL is set"))?;
        let url = url::Url::parse(raw)
            .map_err(|_| ConnError::new(ErrorKind::Invalid, "the REST URL is not valid"))?;
        policy.check_url(&url)?;
        let token = s
            .redis_token
            .clone()
            .ok_or_else(|| ConnError::new(ErrorKind::Auth, "no REST token is set"))?;
        Ok(UpstashCache {
            http: policy.http_client(timeout),
            url,
            token,
        })
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}/{path}", self.url.as_str().trim_end_matches('/'))
    }
}

fn to_reply(v: &Value) -> Reply {
    if let Some(e) = v.get("error").and_then(Value::as_str) {
        return Reply::Error(e.to_string());
    }
    fn value(v: &Value) -> Reply {
        match v {
            Value::Null => Reply::Nil,
            Value::Number(n) => n
                .as_i64()
                .map_or_else(|| Reply::Text(n.to_string()), Reply::Int),
            Value::String(s) => Reply::Text(s.clone()),
            Value::Bool(b) => Reply::Int(i64::from(*b)),
            Value::Array(a) => Reply::Array(a.iter().map(value).collect()),
            Value::Object(_) => Reply::Text(v.to_string()),
        }
    }
    value(v.get("result").unwrap_or(&Value::Null))
}

#[async_trait]
impl Cache for UpstashCache {
    async fn exec(&self, cmds: &[Cmd]) -> Result<Vec<Reply>, ConnError> {
        let body: Vec<&Vec<String>> = cmds.iter().map(|c| &c.0).collect();
        let res = self
            .http
            .post(self.endpoint("pipeline"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .map_err(|e| http_error(&e))?;
        match res.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(ConnError::new(
                    ErrorKind::Auth,
                    "the REST token was refused (401)",
                ))
            }
            404 => {
                return Err(ConnError::new(
                    ErrorKind::NotFound,
                    "no Upstash REST API at that URL (404)",
                ))
            }
            s => {
                return Err(ConnError::new(
                    ErrorKind::Protocol,
                    format!("the REST API answered HTTP {s}"),
                ))
            }
        }
        let values: Vec<Value> = res.json().await.map_err(|_| {
            ConnError::new(
                ErrorKind::Protocol,
                "the answer is not an Upstash pipeline reply",
            )
        })?;
        if values.len() != cmds.len() {
            return Err(ConnError::new(
                ErrorKind::Protocol,
                "the pipeline reply has the wrong length",
            ));
        }
        Ok(values.iter().map(to_reply).collect())
    }

    async fn server_info(&self) -> Result<ServerInfo, ConnError> {
        match self.exec(&[Cmd::new(["PING"])]).await?.as_slice() {
            [Reply::Text(pong)] if pong == "PONG" => Ok(ServerInfo {
                kind: "upstash-rest".into(),
                version: None,
                mode: Some("rest".into()),
            }),
            [Reply::Error(e)] => Err(classify(e, None)),
            _ => Err(super::protocol("PING")),
        }
    }
}
