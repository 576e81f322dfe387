//! No secret is ever logged, returned by a GET, or put in an error body; and rotating the key
//! keeps every secret readable.

use crate::support::cli::{free_port, run, Server};
use crate::support::{fake_edge, read, redis_url, TempDir};
use reqwest::{Client, Method};
use serde_json::{json, Value};

const ADMIN: &str = "canary-admin-token-0123456789abcdef";
const CANARIES: [&str; 5] = [
    "canary-redis-pw-4711",
    "canary-upstash-tok-4712",
    "canary-turso-tok-4713",
    "canary-edge-key-4714",
    "canary-proxy-tok-4715",
];

struct Caller {
    http: Client,
    base: String,
    bodies: Vec<String>,
}

impl Caller {
    async fn call(&mut self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ADMIN);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let (status, value) = read(r.send().await.unwrap()).await;
        assert!(status < 500 || status == 502, "{path}: {status} {value}");
        self.bodies.push(value.to_string());
        value
    }
}

#[tokio::test]
async fn canary_secrets_never_leak() {
    let [pw, upstash, turso, edge_key, _] = CANARIES;
    // A Redis user whose password is a canary, so the success path is exercised too.
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("ACL")
        .arg(&["SETUSER", "canary", "on", &format!(">{pw}"), "~*", "+@all"][..])
        .query_async(&mut conn)
        .await
        .unwrap();

    let dir = TempDir::new();
    let log = dir.0.join("edgepub.log");
    let env = [
        ("EDGEPUB_ADMIN_TOKEN", ADMIN),
        ("EDGEPUB_LOG", "debug"),
        ("EDGEPUB_TEST_TIMEOUT_SECS", "1"),
    ];
    let mut server = Server::start_logging(&dir, &env, Some(&log));
    let mut c = Caller {
        http: Client::new(),
        base: server.base(),
        bodies: Vec::new(),
    };
    c.call(Method::POST, "/api/projects", Some(json!({"name": "Site"})))
        .await;

    let good_redis = redis_url().replacen("redis://", &format!("redis://canary:{pw}@"), 1);
    let bad_redis = redis_url().replacen("redis://", &format!("redis://canary:{pw}-wrong@"), 1);
    let closed = format!("127.0.0.1:{}", free_port());
    let cache = "/api/projects/site/settings/cache";
    for body in [
        json!({"redis_type": "tcp", "redis_url": good_redis}),
        json!({"redis_type": "tcp", "redis_url": bad_redis}),
        json!({"redis_type": "tcp", "redis_url": format!("redis://:{pw}@{closed}")}),
        json!({"redis_type": "tcp", "redis_url": format!("rediss://:{pw}@no-such-host.invalid:6379")}),
        json!({"redis_type": "upstash", "redis_url": format!("http://{closed}"), "redis_token": upstash}),
        json!({"redis_type": "upstash", "redis_url": format!("{}/nope", server.base()), "redis_token": upstash}),
    ] {
        c.call(Method::POST, &format!("{cache}/test"), Some(body.clone()))
            .await;
        c.call(Method::PUT, cache, Some(body)).await;
        c.call(Method::GET, cache, None).await;
        c.call(Method::POST, &format!("{cache}/test"), None).await;
        c.call(Method::POST, "/api/projects/site/cache/flush", None)
            .await;
    }
    let invalid = json!({"redis_type": "upstash", "redis_url": format!("ftp://x{pw}"), "redis_token": upstash, "redis_enabled": true});
    c.call(Method::PUT, cache, Some(invalid)).await;

    let edge = fake_edge("canary-edge-key-4714").await;
    let targets = "/api/projects/site/targets";
    for body in [
        json!({"kind": "turso", "name": "eu", "url": format!("http://{closed}"), "token": turso}),
        json!({"kind": "edge", "name": "cf", "url": edge, "token": edge_key}),
        json!({"kind": "edge", "name": "cf2", "url": edge, "token": format!("{edge_key}-wrong")}),
    ] {
        c.call(Method::POST, "/api/targets/test", Some(body.clone()))
            .await;
        let saved = c.call(Method::POST, targets, Some(body)).await;
        let id = saved["id"].as_str().unwrap().to_string();
        c.call(Method::GET, &format!("/api/targets/{id}"), None)
            .await;
        c.call(Method::POST, &format!("/api/targets/{id}/test"), None)
            .await;
        c.call(
            Method::PATCH,
            &format!("/api/targets/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    }
    c.call(Method::GET, targets, None).await;
    c.call(
        Method::POST,
        targets,
        Some(json!({"kind": "turso", "name": "bad name", "url": "nope", "token": turso})),
    )
    .await;
    assert!(server.terminate().success());

    let logs = std::fs::read_to_string(&log).unwrap();
    assert!(logs.lines().count() > 50, "debug logs were captured");
    for canary in CANARIES {
        assert!(!logs.contains(canary), "`{canary}` appears in the logs");
        for body in &c.bodies {
            assert!(
                !body.contains(canary),
                "`{canary}` appears in a response: {body}"
            );
        }
    }
}

#[tokio::test]
async fn rotating_the_key_keeps_secrets_readable() {
    let dir = TempDir::new();
    let env = [("EDGEPUB_ADMIN_TOKEN", ADMIN)];
    let secret = "upstash-token-survives-rotation";
    let edge_token = {
        let mut server = Server::start(&dir, &env);
        let mut c = Caller {
            http: Client::new(),
            base: server.base(),
            bodies: Vec::new(),
        };
        c.call(Method::POST, "/api/projects", Some(json!({"name": "Site"})))
            .await;
        let body = json!({"redis_type": "upstash", "redis_url": "https://eu1.upstash.io", "redis_token": secret, "redis_enabled": true});
        c.call(Method::PUT, "/api/projects/site/settings/cache", Some(body))
            .await;
        c.call(Method::POST, "/api/projects/site/targets", Some(json!({"kind": "turso", "name": "eu", "url": "https://db.turso.io", "token": "turso-token-1234567890"}))).await;
        let t = c
            .call(
                Method::POST,
                "/api/tokens",
                Some(json!({"name": "edge", "scopes": ["edge"], "project": "site"})),
            )
            .await;
        assert!(server.terminate().success());
        t["token"].as_str().unwrap().to_string()
    };
    let key_file = dir.0.join("data/secret.key");
    let before = std::fs::read_to_string(&key_file).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let out = run(&dir, &[], &["secrets", "rotate-key"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("re-sealed 2 secrets"));
    assert_ne!(std::fs::read_to_string(&key_file).unwrap(), before);
    assert!(!dir.0.join("data/secret.key.previous").exists());

    let sync = |server: &Server, token: String| {
        let url = format!("{}/api/sync/settings/redis/", server.base());
        async move {
            read(
                Client::new()
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
            .1
        }
    };
    let mut server = Server::start(&dir, &env);
    assert_eq!(
        sync(&server, edge_token.clone()).await["redis_token"],
        secret,
        "decrypts under the new key"
    );
    assert!(server.terminate().success());

    // With EDGEPUB_SECRET_KEY, the new key is given and the variable switched afterwards.
    let key_a = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=";
    let key_b = "QkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkI=";
    let dir = TempDir::new();
    let mut server = Server::start(
        &dir,
        &[
            ("EDGEPUB_ADMIN_TOKEN", ADMIN),
            ("EDGEPUB_SECRET_KEY", key_a),
        ],
    );
    let mut c = Caller {
        http: Client::new(),
        base: server.base(),
        bodies: Vec::new(),
    };
    c.call(Method::POST, "/api/projects", Some(json!({"name": "Site"})))
        .await;
    let body = json!({"redis_type": "upstash", "redis_url": "https://eu1.upstash.io", "redis_token": secret, "redis_enabled": true});
    c.call(Method::PUT, "/api/projects/site/settings/cache", Some(body))
        .await;
    let t = c
        .call(
            Method::POST,
            "/api/tokens",
            Some(json!({"name": "edge", "scopes": ["edge"], "project": "site"})),
        )
        .await;
    assert!(server.terminate().success());
    assert!(
        !dir.0.join("data/secret.key").exists(),
        "no key file when the key comes from the environment"
    );
    assert!(!run(
        &dir,
        &[("EDGEPUB_SECRET_KEY", key_a)],
        &["secrets", "rotate-key"]
    )
    .status
    .success());
    let out = run(
        &dir,
        &[("EDGEPUB_SECRET_KEY", key_a)],
        &["secrets", "rotate-key", "--new-key", key_b],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut server = Server::start(&dir, &[("EDGEPUB_SECRET_KEY", key_b)]);
    assert_eq!(
        sync(&server, t["token"].as_str().unwrap().to_string()).await["redis_token"],
        secret
    );
    assert!(server.terminate().success());
}

crate::both_backends!(a_stored_secret_never_follows_a_changed_address);

/// A saved token, password or key is only ever sent to the address it was saved for: a save
/// or PATCH naming another address must send the secret again, a test of such a form runs
/// without it, and nothing reaches the new address.
async fn a_stored_secret_never_follows_a_changed_address(backend: crate::support::Backend) {
    use std::io::Read;
    let app = crate::support::spawn(backend).await;
    app.project("Site").await;
    // An "attacker" that records whatever reaches it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let attacker = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    {
        let seen = seen.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let n = conn.read(&mut buf).unwrap_or(0);
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
    let token = "stored-upstash-token-for-the-right-host";
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            "/api/projects/site/settings/cache",
            Some(serde_json::json!({"redis_type": "upstash", "redis_url": "https://right.upstash.io", "redis_token": token})),
        )
        .await;
    assert_eq!(s, 200);
    // A test of the moved form runs, without the stored token.
    let moved = serde_json::json!({"redis_type": "upstash", "redis_url": attacker});
    let (s, b) = app
        .post("/api/projects/site/settings/cache/test", moved.clone())
        .await;
    assert_eq!((s, b["ok"].as_bool()), (200, Some(false)), "{b}");
    let (s, _) = app
        .send(
            reqwest::Method::PUT,
            "/api/projects/site/settings/cache",
            Some(moved),
        )
        .await;
    assert_eq!(s, 422);
    // The same address (another path) keeps the secret.
    let (s, b) = app
        .send(
            reqwest::Method::PUT,
            "/api/projects/site/settings/cache",
            Some(serde_json::json!({"redis_type": "upstash", "redis_url": "https://right.upstash.io/v2"})),
        )
        .await;
    assert_eq!(
        (s, b["redis_token"]["set"].as_bool()),
        (200, Some(true)),
        "{b}"
    );

    let (s, t) = app
        .post(
            "/api/projects/site/targets",
            serde_json::json!({"kind": "edge", "name": "cf", "url": "https://edge.example.com", "token": "edge-system-key-0123456789"}),
        )
        .await;
    assert_eq!(s, 201);
    let id = t["id"].as_str().unwrap();
    let (s, b) = app
        .send(
            reqwest::Method::PATCH,
            &format!("/api/targets/{id}"),
            Some(serde_json::json!({"url": attacker})),
        )
        .await;
    assert_eq!(
        (s, b["error"]["details"]["fields"][0]["path"].as_str()),
        (422, Some("/token")),
        "{b}"
    );
    let (_, after) = app.get(&format!("/api/targets/{id}")).await;
    assert_eq!(after["url"], "https://edge.example.com");
    assert_eq!(
        app.post(&format!("/api/targets/{id}/test"), serde_json::json!({}))
            .await
            .0,
        200
    );
    let (s, b) = app
        .post(
            &format!("/api/targets/{id}/test"),
            serde_json::json!({"url": attacker}),
        )
        .await;
    assert_eq!((s, b["ok"].as_bool()), (200, Some(false)), "{b}");
    std::thread::sleep(std::time::Duration::from_millis(200));
    let seen = seen.lock().unwrap();
    assert!(
        !seen.contains(token) && !seen.contains("edge-system-key"),
        "{seen}"
    );
}
