//! Rate limits from a test: a publish's answer with its RateLimit headers, a redis-server of the
//! test's own, and the cache settings that point a project at it.

use super::{error_code, read, TempDir, TestApp};
use edgepub::cache::{self, Cache};
use edgepub::domain::settings::{CacheSettings, RedisType};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}
impl Answer {
    pub fn header(&self, name: &str) -> u64 {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name} header: {:?}", self.headers))
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}
pub async fn publish(app: &TestApp, token: &str, project: &str) -> Answer {
    let res = app
        .client
        .post(format!("{}/api/projects/{project}/publish", app.base))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let headers = res.headers().clone();
    let (status, body) = read(res).await;
    Answer {
        status,
        body,
        headers,
    }
}
pub fn assert_limited(a: &Answer, scope: &str, counted_in: &str) {
    assert_eq!(a.status, 429, "{}", a.body);
    assert_eq!(error_code(&a.body), "rate_limited");
    assert_eq!(a.body["error"]["details"]["scope"], scope, "{}", a.body);
    assert_eq!(a.body["error"]["details"]["counted_in"], counted_in);
    assert!(a.header("retry-after") >= 1);
    assert_eq!(a.header("ratelimit-remaining"), 0);
    assert!(a.header("ratelimit-reset") <= 60);
}
pub async fn redis(url: &str) -> Box<dyn Cache> {
    let s = CacheSettings {
        redis_type: RedisType::Tcp,
        redis_url: Some(url.into()),
        ..Default::default()
    };
    cache::connect(&s, Default::default(), Duration::from_secs(5))
        .await
        .unwrap()
}
pub async fn set_cache(app: &TestApp, project: &str, url: &str) {
    let (s, b) = app
        .send(
            Method::PUT,
            &format!("/api/projects/{project}/settings/cache"),
            Some(json!({"redis_type": "tcp", "redis_url": url, "redis_enabled": true})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
}
/// A real redis-server on a free port that the test can stop.
pub struct RedisProc {
    pub port: u16,
    pub child: Option<std::process::Child>,
    pub dir: TempDir,
}
impl RedisProc {
    pub fn start() -> RedisProc {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    /// On a given port (where an earlier one was stopped).
    pub fn start_on(port: u16) -> RedisProc {
        let dir = TempDir::new();
        let child = std::process::Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(&dir.0)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server (run scripts/test.sh)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisProc {
            port,
            child: Some(child),
            dir,
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
impl Drop for RedisProc {
    fn drop(&mut self) {
        self.stop();
        let _ = &self.dir;
    }
}
