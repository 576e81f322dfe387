//! The binary as a user runs it: first start, CLI commands, config errors, graceful shutdown.

use crate::support::cli::{run, Server};
use crate::support::{PgDb, TempDir};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn token_in(lines: &[String]) -> Option<String> {
    lines.iter().find_map(|l| {
        l.split_whitespace()
            .find(|w| w.starts_with("ep_"))
            .map(String::from)
    })
}

#[test]
fn first_start_creates_database_and_prints_an_admin_token_once() {
    let dir = TempDir::new();
    let mut server = Server::start(&dir, &[]);
    let token = token_in(&server.stdout()).expect("first start prints an admin token");
    assert!(server
        .get("/api/projects", &token)
        .starts_with("HTTP/1.1 200"));
    assert!(server
        .get("/api/projects", "ep_wrong")
        .starts_with("HTTP/1.1 401"));
    let db = dir.0.join("data/edgepub.db");
    assert!(db.exists(), "SQLite file created in the data dir");
    assert!(dir.0.join("data/edgepub.db-wal").exists(), "WAL mode");
    assert!(server.terminate().success(), "SIGTERM exits 0");

    let mut again = Server::start(&dir, &[]);
    assert_eq!(
        token_in(&again.stdout()),
        None,
        "the token is printed only on the first start"
    );
    assert!(again
        .get("/api/projects", &token)
        .starts_with("HTTP/1.1 200"));
    assert!(again.terminate().success());
}

#[test]
fn admin_token_from_env_and_token_commands() {
    let dir = TempDir::new();
    let admin = "env-admin-token-0123456789abcdef";
    let mut server = Server::start(&dir, &[("EDGEPUB_ADMIN_TOKEN", admin)]);
    assert_eq!(token_in(&server.stdout()), None);
    assert!(server
        .get("/api/projects", admin)
        .starts_with("HTTP/1.1 200"));
    assert!(server.terminate().success());

    let out = run(
        &dir,
        &[],
        &["token", "create", "--name", "ci", "--scope", "publish,edge"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(secret.starts_with("ep_") && secret.len() > 40);

    let list = String::from_utf8(run(&dir, &[], &["token", "list"]).stdout).unwrap();
    assert!(
        list.contains("ci")
            && list.contains("publish,edge")
            && !list.contains(&secret)
            && !list.contains(admin)
    );
    assert!(run(&dir, &[], &["token", "revoke", "ci"]).status.success());
    let list = String::from_utf8(run(&dir, &[], &["token", "list"]).stdout).unwrap();
    assert!(
        list.lines()
            .any(|l| l.contains(" ci ") && l.ends_with("revoked")),
        "{list}"
    );
    assert!(!run(&dir, &[], &["token", "revoke", "nobody"])
        .status
        .success());
    let bad = run(
        &dir,
        &[],
        &["token", "create", "--name", "x", "--scope", "root"],
    );
    assert!(!bad.status.success());

    for args in [
        &["--help"][..],
        &["serve", "--help"],
        &["token", "create", "--help"],
        &["migrate", "--help"],
    ] {
        assert!(run(&dir, &[], args).status.success(), "{args:?}");
    }
}

#[test]
fn invalid_configuration_is_reported_clearly() {
    let dir = TempDir::new();
    let out = run(
        &dir,
        &[("EDGEPUB_LISTEN", "nowhere"), ("DATABASE_URL", "mysql://x")],
        &["migrate"],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("EDGEPUB_LISTEN") && err.contains("DATABASE_URL"),
        "{err}"
    );
}

#[tokio::test]
async fn postgres_from_database_url() {
    let db = PgDb::create().await;
    let dir = TempDir::new();
    let env = [("DATABASE_URL", db.url.as_str())];
    let out = run(&dir, &env, &["migrate"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut server = Server::start(&dir, &env);
    assert!(server
        .get("/readyz", "")
        .contains("\"database\":\"postgres\""));
    assert!(server.terminate().success());
}

#[test]
fn sigterm_lets_in_flight_requests_finish() {
    let dir = TempDir::new();
    let admin = "env-admin-token-0123456789abcdef";
    let mut server = Server::start(&dir, &[("EDGEPUB_ADMIN_TOKEN", admin)]);
    let body = br#"{"name": "Finished during shutdown"}"#;
    let mut conn = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    write!(
        conn,
        "POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {admin}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(&body[..10]).unwrap();
    conn.flush().unwrap();
    // Let the server start reading this request before the signal arrives.
    std::thread::sleep(Duration::from_millis(300));
    Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .unwrap();
    // Once the listener is closed, shutdown has begun; the request is still open.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", server.port)).is_ok() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    conn.write_all(&body[10..]).unwrap();
    let mut response = String::new();
    conn.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    assert!(server.child.wait().unwrap().success());
}
