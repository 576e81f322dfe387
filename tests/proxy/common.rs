//! Shared helpers: a proxy started in-process on port 0 against the real test Redis.
//!
//! Each test uses its own key prefix, so tests can run in parallel against one Redis.

use std::net::TcpListener;

use edgepub::proxy::{build, ProxyConfig};
use serde_json::Value as Json;

/// Redis for tests; override with `EDGEPUB_TEST_REDIS_URL`.
pub fn redis_url() -> String {
    std::env::var("EDGEPUB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into())
}

/// A fresh key prefix for one test.
pub fn prefix() -> String {
    format!("proxytest:{}", uuid::Uuid::new_v4())
}

/// A running proxy and what a client needs to reach it.
pub struct TestProxy {
    pub url: String,
    pub token: String,
    pub http: reqwest::Client,
    handle: actix_web::dev::ServerHandle,
}

impl TestProxy {
    /// Starts a proxy with default limits.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a proxy after letting the test adjust its configuration.
    pub async fn start_with(adjust: impl FnOnce(&mut ProxyConfig)) -> Self {
        let token = format!("test-token-{}", uuid::Uuid::new_v4());
        let mut config = ProxyConfig::new(redis_url(), token.clone());
        adjust(&mut config);
        Self::start_config(config).await
    }

    /// Starts a proxy with exactly this configuration.
    pub async fn start_config(config: ProxyConfig) -> Self {
        let token = config.token.clone();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
        let (port, server) = build(config, listener, false)
            .await
            .expect("proxy starts (is Redis up? see scripts/services.sh)");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url: format!("http://127.0.0.1:{port}"),
            token,
            http: reqwest::Client::new(),
            handle,
        }
    }

    /// A POST to `path` with the right token and the given JSON body.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(&self.token)
    }

    /// `POST /` with `body`; returns the status and the parsed JSON answer.
    pub async fn cmd(&self, body: Json) -> (u16, Json) {
        send(self.post("/").json(&body)).await
    }

    /// Like [`Self::cmd`], asking for base64 strings.
    pub async fn cmd_b64(&self, body: Json) -> (u16, Json) {
        send(
            self.post("/")
                .header("Upstash-Encoding", "base64")
                .json(&body),
        )
        .await
    }

    /// `result` of a command that must succeed.
    pub async fn ok(&self, body: Json) -> Json {
        let (status, answer) = self.cmd(body.clone()).await;
        assert_eq!(status, 200, "{body} answered {answer}");
        answer["result"].clone()
    }

    pub async fn stop(self) {
        self.handle.stop(true).await;
    }
}

/// Sends a request and parses the answer, which must always be JSON.
pub async fn send(req: reqwest::RequestBuilder) -> (u16, Json) {
    let resp = req.send().await.expect("request reaches the proxy");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("answer body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("answer with status {status} is not JSON ({e}): {text:?}"));
    (status, json)
}

/// A direct connection to the test Redis, bypassing the proxy.
pub async fn direct() -> redis::aio::MultiplexedConnection {
    redis::Client::open(redis_url())
        .expect("redis url")
        .get_multiplexed_async_connection()
        .await
        .expect("direct redis connection")
}
