//! The servers tests talk to besides edgepub: Redis, Sentinel and Cluster addresses, a real
//! `tursodb`, a stand-in push edge, and readers of a project's local pages.db.

use crate::support::{TempDir, TestApp};
use serde_json::Value;

pub fn redis_url() -> String {
    std::env::var("EDGEPUB_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:16379".into())
}

pub fn sentinel_url() -> String {
    std::env::var("EDGEPUB_TEST_SENTINEL_URL")
        .unwrap_or_else(|_| "redis+sentinel://127.0.0.1:26380/edgepub-master".into())
}

pub fn cluster_nodes() -> String {
    std::env::var("EDGEPUB_TEST_CLUSTER_NODES").unwrap_or_else(|_| {
        "redis://127.0.0.1:17001,redis://127.0.0.1:17002,redis://127.0.0.1:17003".into()
    })
}

/// A real `tursodb --sync-server` on a free loopback port, killed on drop. It can be
/// killed and started again on the same file and port.
pub struct Tursodb {
    child: Option<std::process::Child>,
    port: u16,
    pub url: String,
    dir: TempDir,
}

impl Tursodb {
    pub fn start() -> Tursodb {
        let dir = TempDir::new();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut t = Tursodb {
            child: None,
            port,
            url: format!("http://127.0.0.1:{port}"),
            dir,
        };
        t.restart();
        t
    }

    /// SIGKILL: no chance to finish what it is doing.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it (again) on the same file and port, once the port is free.
    pub fn restart(&mut self) {
        self.kill();
        let bin = std::env::var("EDGEPUB_TEST_TURSODB").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/node_modules/@tursodatabase/cli-linux-x64-gnu/tursodb"
            )
            .into()
        });
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let child = std::process::Command::new(&bin)
                .arg(self.dir.0.join("turso.db"))
                .args(["--sync-server", &format!("127.0.0.1:{}", self.port)])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {bin} (run scripts/test.sh): {e}"));
            self.child = Some(child);
            let started = std::time::Instant::now();
            while started.elapsed() < std::time::Duration::from_secs(3) {
                if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                    return;
                }
                if let Some(Ok(Some(_))) = self.child.as_mut().map(|c| c.try_wait()) {
                    break; // exited: the port or the file was not free yet
                }
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            self.kill();
            assert!(
                std::time::Instant::now() < deadline,
                "tursodb did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    pub async fn query(&self, sql: &str) -> Vec<Vec<Value>> {
        hrana_query(&self.url, sql).await
    }
}

/// Runs one statement over Hrana and returns its rows as JSON values (text, integer as i64,
/// null).
pub async fn hrana_query(url: &str, sql: &str) -> Vec<Vec<Value>> {
    {
        let body = serde_json::json!({"requests": [{"type": "execute", "stmt": {"sql": sql}}]});
        let res: Value = reqwest::Client::new()
            .post(format!("{url}/v2/pipeline"))
            .json(&body)
            .send()
            .await
            .expect("reach tursodb")
            .json()
            .await
            .expect("Hrana JSON");
        let result = &res["results"][0];
        assert_eq!(result["type"], "ok", "{sql}: {res}");
        result["response"]["result"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| match v["type"].as_str() {
                        Some("integer") => {
                            Value::from(v["value"].as_str().unwrap().parse::<i64>().unwrap())
                        }
                        Some("text") => v["value"].clone(),
                        _ => Value::Null,
                    })
                    .collect()
            })
            .collect()
    }
}

impl Drop for Tursodb {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Rows of a project's local pages.db as JSON values, like [`Tursodb::query`].
pub async fn local_rows(app: &TestApp, project_slug: &str, sql: &str) -> Vec<Vec<Value>> {
    use sqlx::Row;
    pages_db(app, project_slug, sql)
        .await
        .iter()
        .map(|r| {
            (0..r.columns().len())
                .map(|i| {
                    if let Ok(Some(n)) = r.try_get::<Option<i64>, _>(i) {
                        Value::from(n)
                    } else if let Ok(Some(t)) = r.try_get::<Option<String>, _>(i) {
                        Value::from(t)
                    } else {
                        Value::Null
                    }
                })
                .collect()
        })
        .collect()
}

/// A stand-in push-style edge (contract section 4): `/api/health` open, `/api/import/status`
/// behind `x-system-key`. Edges of that kind are TypeScript services we cannot run here.
pub async fn fake_edge(key: &'static str) -> String {
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        App::new()
            .route("/api/health", web::get().to(|| async { HttpResponse::Ok().json(serde_json::json!({"status": "ok", "version": "test-edge-1", "provider": "cloudflare"})) }))
            .route(
                "/api/import/status",
                web::get().to(move |req: HttpRequest| async move {
                    match req.headers().get("x-system-key").and_then(|v| v.to_str().ok()) {
                        Some(k) if k == key => HttpResponse::Ok().json(serde_json::json!({"status": "ok", "ready": true})),
                        _ => HttpResponse::Unauthorized().json(serde_json::json!({"success": false, "error": "Unauthorized"})),
                    }
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}

/// Rows of the project's local pages.db, read with a fresh connection.
pub async fn pages_db(
    app: &TestApp,
    project_slug: &str,
    sql: &str,
) -> Vec<sqlx::sqlite::SqliteRow> {
    use sqlx::Connection;
    let path = app
        .data_dir
        .join("sites")
        .join(project_slug)
        .join("pages.db");
    let url = format!("sqlite://{}?mode=ro", path.display());
    let mut c = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open pages.db");
    sqlx::query(sql)
        .fetch_all(&mut c)
        .await
        .expect("query pages.db")
}
