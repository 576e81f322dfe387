//! The binary's publish and proxy commands.

use crate::support::cli::{edgepub, free_port, run, Server};
use crate::support::TempDir;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn redis_proxy_command_serves_upstash_rest() {
    let dir = TempDir::new();
    let port = free_port();
    let redis = crate::support::redis_url();
    let mut child = edgepub(&dir, &[])
        .args([
            "redis-proxy",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--redis-url",
            &redis,
            "--token",
            "cli-proxy-token-123",
        ])
        .spawn()
        .expect("spawn redis-proxy");
    let deadline = Instant::now() + Duration::from_secs(30);
    let answer = loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let body = r#"["PING"]"#;
            write!(s, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer cli-proxy-token-123\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            break out;
        }
        assert!(Instant::now() < deadline, "redis-proxy did not start");
        std::thread::sleep(Duration::from_millis(50));
    };
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        answer.starts_with("HTTP/1.1 200") && answer.ends_with(r#"{"result":"PONG"}"#),
        "{answer}"
    );
}

#[tokio::test]
async fn publish_command_waits_and_reports_failure() {
    let dir = TempDir::new();
    let admin = "cli-publish-token-0123456789abcdef";
    let env = [("EDGEPUB_ADMIN_TOKEN", admin)];
    let mut server = Server::start(&dir, &env);
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        http.post(format!("{}{path}", server.base()))
            .bearer_auth(admin)
            .json(&body)
            .send()
    };
    post("/api/projects", serde_json::json!({"name": "Site"}))
        .await
        .unwrap();
    post(
        "/api/projects/site/pages",
        serde_json::json!({"slug": "home", "name": "Home", "is_homepage": true}),
    )
    .await
    .unwrap();
    assert!(server.terminate().success());

    // No server is running: the command does the work itself.
    let out = run(&dir, &[], &["publish", "--project", "site", "--wait"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("published 1 pages"));
    let db = dir.0.join("data/sites/site/pages.db");
    let rows = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT slug, version FROM published_pages")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&rows.stdout), "home|1\n");

    let queued = run(&dir, &[], &["publish", "--project", "site"]);
    assert!(queued.status.success());
    assert!(
        uuid::Uuid::parse_str(String::from_utf8_lossy(&queued.stdout).trim()).is_ok(),
        "prints the job id"
    );

    let mut server = Server::start(&dir, &env);
    let bad = serde_json::json!({"slug": "broken", "name": "Broken", "layout_data": {"content": [{"type": "Text"}]}});
    http.post(format!("{}/api/projects/site/pages", server.base()))
        .bearer_auth(admin)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert!(server.terminate().success());
    let failed = run(&dir, &[], &["publish", "--project", "site", "--wait"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("compile errors"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert!(!run(&dir, &[], &["publish", "--project", "nope"])
        .status
        .success());
}

#[tokio::test]
async fn serve_can_run_the_proxy_alongside_the_api() {
    let dir = TempDir::new();
    let proxy = free_port();
    let listen = format!("127.0.0.1:{proxy}");
    let redis = crate::support::redis_url();
    let env = [
        ("EDGEPUB_PROXY_LISTEN", listen.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("EDGEPUB_PROXY_TOKEN", "serve-proxy-token-1234"),
    ];
    let mut server = Server::start(&dir, &env);
    let res = reqwest::Client::new()
        .post(format!("http://{listen}/pipeline"))
        .bearer_auth("serve-proxy-token-1234")
        .json(&serde_json::json!([["PING"], ["ECHO", "hi"]]))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!([{"result": "PONG"}, {"result": "hi"}])
    );
    assert!(server.terminate().success(), "both servers stop on SIGTERM");
}
