//! Spawns a real edgepub server on port 0 against a fresh database: a SQLite file in a temp
//! dir, or a new Postgres database (from `EDGEPUB_TEST_PG_URL`) dropped when the test ends.

use edgepub::config::Config;
use edgepub::startup::{open_store, Application};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs a scenario `async fn name(backend: Backend)` once per backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

pub fn pg_admin_url() -> String {
    std::env::var("EDGEPUB_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh Postgres database, dropped (with its connections) on `Drop`.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> PgDb {
        let admin = pg_admin_url();
        let name = format!("edgepub_t_{}", uuid::Uuid::new_v4().simple());
        let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
            .await
            .expect("Postgres must be reachable at EDGEPUB_TEST_PG_URL (run scripts/test.sh)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let base = admin
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin.clone());
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime, which cannot be blocked on; use a thread.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_admin_url())
                    .await
                    .ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// A temp directory removed on `Drop`.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("edgepub-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub struct TestApp {
    pub base: String,
    pub db_url: String,
    pub data_dir: PathBuf,
    pub token: String,
    pub client: Client,
    _pg: Option<PgDb>,
    _dir: TempDir,
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, &[]).await
}

/// Starts a server with extra `EDGEPUB_*` settings.
pub async fn spawn_with(backend: Backend, extra: &[(&str, &str)]) -> TestApp {
    spawn_clocked(backend, extra, edgepub::clock::system()).await
}

/// Starts a server whose store, workers and schedules read `clock` (a
/// `edgepub::clock::ManualClock` lets a test move time forward instead of sleeping).
pub async fn spawn_clocked(
    backend: Backend,
    extra: &[(&str, &str)],
    clock: edgepub::clock::SharedClock,
) -> TestApp {
    let dir = TempDir::new();
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(db) => db.url.clone(),
        None => format!("sqlite://{}", dir.0.join("edgepub.db").display()),
    };
    let token = edgepub::domain::token::generate();
    let url_for_test = url.clone();
    let mut env: Vec<(String, String)> = vec![
        ("DATABASE_URL".into(), url),
        ("EDGEPUB_DATA_DIR".into(), dir.0.display().to_string()),
        ("EDGEPUB_ADMIN_TOKEN".into(), token.clone()),
        ("EDGEPUB_WORKERS".into(), "2".into()),
        ("EDGEPUB_DB_MAX_CONNECTIONS".into(), "5".into()),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = Config::from_sources(None, &env).expect("test config");
    let store = open_store(&config, clock).await.expect("open store");
    edgepub::startup::bootstrap_admin(&store, &config)
        .await
        .expect("bootstrap");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::build(config, store, listener, false).expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    TestApp {
        base,
        db_url: url_for_test,
        data_dir: dir.0.clone(),
        token,
        client: Client::new(),
        _pg: pg,
        _dir: dir,
    }
}

impl TestApp {
    pub fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut r = self.req(method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        read(r.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// Creates a project and returns it.
    pub async fn project(&self, name: &str) -> Value {
        let (status, body) = self
            .post("/api/projects", serde_json::json!({ "name": name }))
            .await;
        assert_eq!(status, 201, "{body}");
        body
    }

    /// Creates a page in `project` and returns it.
    pub async fn page(&self, project: &Value, body: Value) -> Value {
        let (status, page) = self
            .post(
                &format!("/api/projects/{}/pages", project["id"].as_str().unwrap()),
                body,
            )
            .await;
        assert_eq!(status, 201, "{page}");
        page
    }
}

pub async fn read(res: Response) -> (u16, Value) {
    let status = res.status().as_u16();
    let text = res.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Asserts the common error shape and returns its code.
pub fn error_code(body: &Value) -> &str {
    let e = &body["error"];
    assert!(e["message"].is_string(), "error shape: {body}");
    assert!(e.get("details").is_some(), "error shape: {body}");
    e["code"].as_str().expect("error.code")
}

/// Runs one SQL query returning a single text column against the app's own database.
pub async fn db_texts(app: &TestApp, sql: &str) -> Vec<Option<String>> {
    use sqlx::Connection;
    if app.db_url.starts_with("sqlite") {
        let mut c = sqlx::SqliteConnection::connect(&app.db_url)
            .await
            .expect("sqlite");
        sqlx::query_scalar(sql)
            .fetch_all(&mut c)
            .await
            .expect("query")
    } else {
        let mut c = sqlx::PgConnection::connect(&app.db_url)
            .await
            .expect("postgres");
        sqlx::query_scalar(sql)
            .fetch_all(&mut c)
            .await
            .expect("query")
    }
}

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
                        Some(k) if k == key => HttpResponse::Ok().json(serde_json::json!({"success": true})),
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

/// Starts a publish (or any job-creating POST) and waits until the job ends.
pub async fn run_job(app: &TestApp, path: &str, body: Value) -> Value {
    let (s, accepted) = app.post(path, body).await;
    assert_eq!(s, 202, "{accepted}");
    wait_job(app, accepted["job_id"].as_str().unwrap()).await
}

/// Polls a job (bounded) until it succeeds or fails.
pub async fn wait_job(app: &TestApp, id: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, job) = app.get(&format!("/api/publish-jobs/{id}")).await;
        if matches!(
            job["state"].as_str(),
            Some("succeeded" | "partial" | "failed")
        ) {
            return job;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "job did not finish: {job}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
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
