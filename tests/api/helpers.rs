//! Spawns a real edgepub server on port 0 against a fresh database: a SQLite file in a temp
//! dir, or a new Postgres database (from `EDGEPUB_TEST_PG_URL`) dropped when the test ends.

use edgepub::config::Config;
use edgepub::startup::{open_store, Application};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use std::path::PathBuf;

// The other servers tests talk to live in `peers`; re-exported so tests import one module.
pub use crate::peers::*;

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
    let pg = match backend {
        Backend::Postgres => Some(PgDb::create().await),
        Backend::Sqlite => None,
    };
    spawn_at(pg, None, extra, clock).await
}

/// Starts a server on the database at `url` (a server of the test's own).
pub async fn spawn_on(url: &str, extra: &[(&str, &str)]) -> TestApp {
    spawn_at(None, Some(url.into()), extra, edgepub::clock::system()).await
}

async fn spawn_at(
    pg: Option<PgDb>,
    url: Option<String>,
    extra: &[(&str, &str)],
    clock: edgepub::clock::SharedClock,
) -> TestApp {
    let dir = TempDir::new();
    let url = match (&pg, url) {
        (_, Some(url)) => url,
        (Some(db), None) => db.url.clone(),
        (None, None) => format!("sqlite://{}", dir.0.join("edgepub.db").display()),
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
    // Tests run many servers at once on two cores: a pool wait beyond the 2 s default is load,
    // not an outage (the outage tests set their own).
    if !extra
        .iter()
        .any(|(k, _)| *k == "EDGEPUB_DB_ACQUIRE_TIMEOUT_SECS")
    {
        env.push(("EDGEPUB_DB_ACQUIRE_TIMEOUT_SECS".into(), "15".into()));
    }
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
