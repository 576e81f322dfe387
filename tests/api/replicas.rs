//! Several `edgepub serve` processes on one Postgres, each with its own data directory: one
//! secret key for all (a replica whose key cannot open the database's secrets refuses to
//! start), secrets saved through one used by another, and a rolling key change that loses
//! nothing.

use crate::support::cli::{edgepub, Server};
use crate::support::{read, PgDb, TempDir, Tursodb};
use edgepub::secrets::Key;
use reqwest::{Client, Method};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

pub(crate) const ADMIN: &str = "replicas-admin-token-0123456789abcdef";

fn env<'a>(db: &'a PgDb, key: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut e = vec![
        ("EDGEPUB_ADMIN_TOKEN", ADMIN),
        ("DATABASE_URL", db.url.as_str()),
    ];
    if let Some(k) = key {
        e.push(("EDGEPUB_SECRET_KEY", k));
    }
    e
}

/// Starts `serve` expecting it to refuse; returns what it wrote on stderr.
fn refuses(dir: &TempDir, env: &[(&str, &str)]) -> String {
    let mut child = edgepub(dir, env)
        .env("EDGEPUB_LISTEN", "127.0.0.1:0")
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(!status.success(), "it started");
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return err;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve started although its key cannot open the database");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) async fn send(
    server: &Server,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = Client::new()
        .request(method, format!("{}{path}", server.base()))
        .bearer_auth(ADMIN);
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.unwrap()).await
}

#[tokio::test]
async fn a_replica_without_the_shared_key_refuses_to_start() {
    let db = PgDb::create().await;
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let a = Server::start(&a_dir, &env(&db, None));
    send(
        &a,
        Method::POST,
        "/api/projects",
        Some(json!({"name": "Site"})),
    )
    .await;
    let (s, _) = send(
        &a,
        Method::PUT,
        "/api/projects/site/settings/cache",
        Some(json!({"redis_type": "upstash", "redis_url": "https://example.upstash.io", "redis_token": "tok-0123456789abcdef"})),
    )
    .await;
    assert_eq!(s, 200);
    // B has no key and its own data directory: it must not generate a key of its own.
    let err = refuses(&b_dir, &env(&db, None));
    assert!(
        err.contains("give every replica the same EDGEPUB_SECRET_KEY"),
        "{err}"
    );
    assert!(
        !b_dir.0.join("data/secret.key").exists(),
        "no key was generated"
    );
    // A wrong key is refused the same way.
    let wrong = Key::generate().encode();
    let err = refuses(&b_dir, &env(&db, Some(&wrong)));
    assert!(err.contains("EDGEPUB_SECRET_KEY"), "{err}");
    // With A's key, B starts and reads the secret.
    let a_key = std::fs::read_to_string(a_dir.0.join("data/secret.key")).unwrap();
    let b = Server::start(&b_dir, &env(&db, Some(a_key.trim())));
    let (s, settings) = send(&b, Method::GET, "/api/projects/site/settings/cache", None).await;
    assert_eq!(
        (s, settings["redis_token"]["last4"].as_str()),
        (200, Some("cdef")),
        "{settings}"
    );
}

#[tokio::test]
async fn one_key_shared_and_rolled_without_losing_a_secret() {
    let db = PgDb::create().await;
    let turso = Tursodb::start();
    let (k1, k2) = (Key::generate().encode(), Key::generate().encode());
    let (a_dir, b_dir) = (TempDir::new(), TempDir::new());
    let mut a = Server::start(&a_dir, &env(&db, Some(&k1)));
    let b = Server::start(&b_dir, &env(&db, Some(&k1)));
    send(
        &a,
        Method::POST,
        "/api/projects",
        Some(json!({"name": "Site"})),
    )
    .await;
    let (_, list) = send(&a, Method::GET, "/api/projects/site/targets", None).await;
    let local = list[0]["id"].as_str().unwrap().to_string();
    send(
        &a,
        Method::PATCH,
        &format!("/api/targets/{local}"),
        Some(json!({"enabled": false})),
    )
    .await;
    let (s, t) = send(
        &a,
        Method::POST,
        "/api/projects/site/targets",
        Some(json!({"kind": "turso", "name": "eu", "url": turso.url, "token": "turso-token-0123456789"})),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let target = t["id"].as_str().unwrap().to_string();
    send(
        &a,
        Method::POST,
        "/api/projects/site/pages",
        Some(json!({"slug": "home", "name": "Home", "is_homepage": true})),
    )
    .await;

    // Saved through A, read, tested and used by a publish through B.
    let (s, seen) = send(&b, Method::GET, &format!("/api/targets/{target}"), None).await;
    assert_eq!(
        (s, seen["token"]["last4"].as_str()),
        (200, Some("6789")),
        "{seen}"
    );
    let (_, tested) = send(
        &b,
        Method::POST,
        &format!("/api/targets/{target}/test"),
        Some(json!({})),
    )
    .await;
    assert_eq!(tested["ok"], true, "{tested}");
    let (s, accepted) = send(&b, Method::POST, "/api/projects/site/publish", None).await;
    assert_eq!(s, 202, "{accepted}");
    let status = accepted["status_url"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, job) = send(&b, Method::GET, &status, None).await;
        if job["state"] == "succeeded" {
            break;
        }
        assert!(
            job["state"] != "failed" && Instant::now() < deadline,
            "{job}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Rolling onto K2: B learns K2 first (K1 still seals), then A seals with K2 ...
    drop(b);
    let both_old_first = format!("{k1},{k2}");
    let both_new_first = format!("{k2},{k1}");
    let b = Server::start(&b_dir, &env(&db, Some(&both_old_first)));
    a.terminate();
    let mut a = Server::start(&a_dir, &env(&db, Some(&both_new_first)));
    let (s, _) = send(
        &a,
        Method::PUT,
        "/api/projects/site/settings/cache",
        Some(json!({"redis_type": "upstash", "redis_url": "https://example.upstash.io", "redis_token": "upstash-0123456789wxyz"})),
    )
    .await;
    assert_eq!(s, 200);
    // ... and B, which can open both, reads what A sealed with K2.
    let (s, settings) = send(&b, Method::GET, "/api/projects/site/settings/cache", None).await;
    assert_eq!(
        (s, settings["redis_token"]["last4"].as_str()),
        (200, Some("wxyz"))
    );
    // Re-seal everything under K2, then drop K1 everywhere.
    let out = edgepub(&a_dir, &env(&db, Some(&both_new_first)))
        .args(["secrets", "rotate-key", "--new-key", &k2])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    drop(b);
    a.terminate();
    let a = Server::start(&a_dir, &env(&db, Some(&k2)));
    let b = Server::start(&b_dir, &env(&db, Some(&k2)));
    for server in [&a, &b] {
        let (s, t) = send(server, Method::GET, &format!("/api/targets/{target}"), None).await;
        assert_eq!(
            (s, t["token"]["last4"].as_str()),
            (200, Some("6789")),
            "{t}"
        );
        let (s, c) = send(
            server,
            Method::GET,
            "/api/projects/site/settings/cache",
            None,
        )
        .await;
        assert_eq!(
            (s, c["redis_token"]["last4"].as_str()),
            (200, Some("wxyz")),
            "{c}"
        );
    }
    // K1 alone no longer opens this database.
    let err = refuses(&TempDir::new(), &env(&db, Some(&k1)));
    assert!(err.contains("EDGEPUB_SECRET_KEY"), "{err}");
}
