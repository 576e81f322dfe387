//! Spawns a real edgepub server on port 0 against a fresh database (a SQLite file in a temp
//! dir, or a new Postgres database dropped when the test ends), and talks to it.

use super::{Backend, PgDb, TempDir};
use edgepub::config::Config;
use edgepub::startup::{open_store, Application};
use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use std::path::PathBuf;

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
