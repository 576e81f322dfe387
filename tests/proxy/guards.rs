//! The proxy's refusals: auth, refused commands, limits, malformed bodies, Redis down.

use std::sync::{Arc, Mutex};

use crate::common::{prefix, redis_url, send, TestProxy};
use edgepub::proxy::{build, ProxyConfig, ProxyError};
use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[tokio::test]
async fn wrong_or_missing_token_is_401() {
    let p = TestProxy::start().await;
    let body = json!(["PING"]);
    let unauthorized = json!({"error": "Unauthorized"});
    let post = |path: &str| p.http.post(format!("{}{path}", p.url));

    assert_eq!(
        send(post("/").json(&body)).await,
        (401, unauthorized.clone())
    );
    assert_eq!(
        send(post("/").bearer_auth("nope").json(&body)).await,
        (401, unauthorized.clone())
    );
    let almost = &p.token[..p.token.len() - 1];
    assert_eq!(
        send(post("/pipeline").bearer_auth(almost).json(&json!([body]))).await,
        (401, unauthorized.clone())
    );
    assert_eq!(
        send(post("/multi-exec").json(&json!([body]))).await,
        (401, unauthorized.clone())
    );
    assert_eq!(
        send(p.http.get(format!("{}/ping?_token=wrong", p.url))).await,
        (401, unauthorized.clone())
    );
    assert_eq!(
        send(post(&format!("/?_token={}", p.token)).json(&body)).await,
        (200, json!({"result": "PONG"}))
    );
    p.stop().await;
}

#[tokio::test]
async fn refused_commands_say_why() {
    let p = TestProxy::start().await;
    let k = prefix();
    for cmd in [
        json!(["SUBSCRIBE", "c"]),
        json!(["psubscribe", "c*"]),
        json!(["MONITOR"]),
        json!(["blpop", format!("{k}:l"), 0]),
        json!(["BZPOPMIN", format!("{k}:z"), 1]),
        json!([
            "XREAD",
            "COUNT",
            1,
            "BLOCK",
            0,
            "STREAMS",
            format!("{k}:s"),
            "$"
        ]),
        json!(["WAIT", 1, 0]),
        json!(["MULTI"]),
        json!(["exec"]),
        json!(["WATCH", format!("{k}:w")]),
        json!(["SELECT", 1]),
        json!(["CLIENT", "REPLY", "OFF"]),
        json!(["client", "pause", 1000]),
        json!(["HELLO", 3]),
        json!(["AUTH", "x"]),
        json!(["QUIT"]),
        json!(["SHUTDOWN"]),
        json!(["DEBUG", "SLEEP", 1]),
        // Administrative commands: the proxy is not a console for the Redis behind it.
        json!(["FLUSHALL"]),
        json!(["flushdb", "ASYNC"]),
        json!(["CONFIG", "GET", "*"]),
        json!(["CONFIG", "SET", "maxmemory", "1"]),
        json!(["ACL", "LIST"]),
        json!(["REPLICAOF", "127.0.0.1", "1"]),
        json!(["BGSAVE"]),
        json!(["SWAPDB", 0, 1]),
        json!(["SCRIPT", "FLUSH"]),
        json!(["EVAL", "return redis.call('flushall')", 0]),
        json!(["FUNCTION", "FLUSH"]),
        json!(["MODULE", "LIST"]),
    ] {
        let (status, body) = p.cmd(cmd.clone()).await;
        assert_eq!(status, 400, "{cmd} answered {body}");
        let msg = body["error"].as_str().unwrap_or_default();
        assert!(msg.contains("not supported over REST"), "{cmd}: {msg}");
    }
    // The shared connection still works afterwards, on the same database.
    assert!(p.ok(json!(["CLIENT", "ID"])).await.is_i64());
    assert_eq!(p.ok(json!(["PING"])).await, json!("PONG"));
    // An empty command is a 400 too.
    let (status, body) = p.cmd(json!([])).await;
    assert_eq!(status, 400, "{body}");
    p.stop().await;
}

#[tokio::test]
async fn body_and_pipeline_limits() {
    let p = TestProxy::start_with(|c| {
        c.max_body_bytes = 1024;
        c.max_pipeline_commands = 3;
    })
    .await;
    let k = prefix();
    let big = "x".repeat(2048);
    let (status, body) = p.cmd(json!(["SET", format!("{k}:big"), big])).await;
    assert_eq!(status, 413, "{body}");
    assert!(
        body["error"].as_str().unwrap_or_default().contains("1024"),
        "{body}"
    );

    // A chunked upload has no Content-Length and is cut off while streaming.
    let (status, body) = chunked_post(&p, 8, 300).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("\"error\""), "{body}");

    let (status, body) = send(p.post(&format!("/set/{k}:big")).body("z".repeat(4096))).await;
    assert_eq!(status, 413, "{body}");

    let four = json!([["PING"], ["PING"], ["PING"], ["PING"]]);
    let (status, body) = send(p.post("/pipeline").json(&four)).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap_or_default()
        .contains("limit is 3"));
    let (status, _) = send(p.post("/multi-exec").json(&four)).await;
    assert_eq!(status, 400);
    let (status, _) = send(
        p.post("/pipeline")
            .json(&json!([["PING"], ["PING"], ["PING"]])),
    )
    .await;
    assert_eq!(status, 200);
    p.stop().await;
}

/// Sends `chunks` chunks of `size` bytes with `Transfer-Encoding: chunked` over a raw socket
/// (the test client has no streaming bodies) and returns the status and the body text.
async fn chunked_post(p: &TestProxy, chunks: usize, size: usize) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = p.url.trim_start_matches("http://");
    let mut sock = TcpStream::connect(addr).await.expect("connect proxy");
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        p.token
    );
    sock.write_all(head.as_bytes()).await.expect("write head");
    let chunk = format!("{size:x}\r\n{}\r\n", "y".repeat(size));
    for _ in 0..chunks {
        sock.write_all(chunk.as_bytes()).await.expect("write chunk");
    }
    sock.write_all(b"0\r\n\r\n").await.expect("write end");
    let mut answer = String::new();
    sock.read_to_string(&mut answer).await.expect("read answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test]
async fn malformed_bodies_are_400_json() {
    let p = TestProxy::start().await;
    let raw = |path: &str, body: &'static str| {
        p.post(path)
            .header("content-type", "application/json")
            .body(body)
    };
    for (path, body, expect) in [
        ("/", "[\"SET\",\"a\"", "malformed JSON"),
        ("/", "", "empty body"),
        ("/", "{\"cmd\":\"GET\"}", "JSON array"),
        ("/", "[\"GET\", null]", "argument 2"),
        ("/", "[[\"GET\",\"a\"]]", "command name"),
        ("/pipeline", "[\"GET\",\"a\"]", "command 1"),
        ("/pipeline", "[]", "empty pipeline"),
        ("/pipeline", "[[]]", "empty command"),
        ("/multi-exec", "not json", "malformed JSON"),
    ] {
        let (status, answer) = send(raw(path, body)).await;
        assert_eq!(status, 400, "{path} {body}: {answer}");
        let msg = answer["error"].as_str().unwrap_or_default();
        assert!(msg.contains(expect), "{path} {body}: {msg}");
    }
    // Every answer is JSON, including a wrong method.
    let (status, answer) = send(p.http.delete(format!("{}/pipeline", p.url))).await;
    assert_eq!(status, 405, "{answer}");
    p.stop().await;
}

#[tokio::test]
async fn health_answers_without_token() {
    let p = TestProxy::start().await;
    let (status, body) = send(p.http.get(format!("{}/health", p.url))).await;
    assert_eq!((status, body["status"].clone()), (200, json!("ok")));
    let (status, _) = send(p.http.get(format!("{}/", p.url))).await;
    assert_eq!(status, 200);
    p.stop().await;
}

#[tokio::test]
async fn start_fails_cleanly_when_redis_is_unreachable() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let url = format!("redis://:pw-secret@127.0.0.1:{port}");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let err = build(ProxyConfig::new(url, "tok"), listener, false)
        .await
        .err()
        .expect("no Redis, no proxy");
    assert!(matches!(err, ProxyError::Unavailable(_)), "{err:?}");
    assert!(!err.to_string().contains("pw-secret"), "{err}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let err = build(ProxyConfig::new(redis_url(), " "), listener, false)
        .await
        .err();
    assert!(matches!(err, Some(ProxyError::Config(_))), "{err:?}");
}

/// A TCP relay to the test Redis that can be cut, to play "Redis went away".
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Relay {
    async fn start() -> Self {
        Self::start_on(0).await
    }

    async fn start_on(port: u16) -> Self {
        let target = redis_url()
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned();
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind relay");
        let port = listener.local_addr().expect("relay addr").port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().expect("relay lock").push(task);
            }
        });
        Self {
            port,
            tasks,
            accept,
        }
    }

    fn cut(self) {
        self.accept.abort();
        for task in self.tasks.lock().expect("relay lock").drain(..) {
            task.abort();
        }
    }
}

#[tokio::test]
async fn redis_going_away_is_502_without_secrets() {
    let relay = Relay::start().await;
    let port = relay.port;
    let url = format!("redis://127.0.0.1:{port}");
    let p = TestProxy::start_config(ProxyConfig::new(url.clone(), "tok-redis-down")).await;
    assert_eq!(p.ok(json!(["PING"])).await, json!("PONG"));

    relay.cut();
    // Give the listener and connections time to close.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (status, body) = p.cmd(json!(["PING"])).await;
    assert_eq!(status, 502, "{body}");
    let msg = body["error"].as_str().unwrap_or_default();
    assert!(msg.starts_with("redis unavailable: "), "{msg}");
    assert!(!msg.contains(&url), "{msg}");

    let (status, body) = send(p.post("/pipeline").json(&json!([["PING"]]))).await;
    assert_eq!(status, 502, "{body}");
    let (status, body) = send(p.http.get(format!("{}/health", p.url))).await;
    assert_eq!(status, 503, "{body}");

    // Redis is back on the same address: the proxy reconnects by itself.
    let relay = Relay::start_on(port).await;
    let mut answer = (0, json!(null));
    for _ in 0..50 {
        answer = p.cmd(json!(["PING"])).await;
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(answer, (200, json!({"result": "PONG"})));
    relay.cut();
    p.stop().await;
}

/// Administrative commands are refused in pipelines and transactions too (the transaction as
/// a whole), and nothing of them reaches Redis; an operator may allow some.
#[tokio::test]
async fn admin_commands_are_refused_everywhere_unless_allowed() {
    let p = TestProxy::start().await;
    let k = prefix();
    assert_eq!(
        p.ok(json!(["SET", format!("{k}:keep"), "v"])).await,
        json!("OK")
    );
    let res = p
        .post("/pipeline")
        .json(&json!([["GET", format!("{k}:keep")], ["FLUSHALL"]]))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body[0]["result"], "v", "{body}");
    assert!(
        body[1]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("administrative"),
        "{body}"
    );
    let res = p
        .post("/multi-exec")
        .json(&json!([
            ["SET", format!("{k}:tx"), "1"],
            ["CONFIG", "SET", "maxmemory", "1"]
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        p.ok(json!(["EXISTS", format!("{k}:tx")])).await,
        json!(0),
        "nothing of the transaction ran"
    );
    assert_eq!(p.ok(json!(["GET", format!("{k}:keep")])).await, json!("v"));

    let allowed = TestProxy::start_with(|c| c.allow_commands = vec!["config".into()]).await;
    let (status, body) = allowed.cmd(json!(["CONFIG", "GET", "maxmemory"])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(allowed.cmd(json!(["FLUSHALL"])).await.0, 400);
    p.ok(json!(["DEL", format!("{k}:keep")])).await;
}
