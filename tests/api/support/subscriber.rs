//! A real HTTP subscriber on loopback for outgoing events: it records every request and
//! answers from a script (then with a default answer that a test can change).

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// A status with a `Retry-After` value.
    RetryAfter(u16, &'static str),
    /// 302 to this URL.
    Redirect(String),
    /// Answers 200 only after this long (longer than edgepub's timeout).
    Slow(Duration),
}

#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query the request was sent to.
    pub target: String,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON event")
    }
}

#[derive(Default)]
struct State {
    script: VecDeque<Reply>,
    default: Option<Reply>,
    received: Vec<Received>,
}

pub struct Subscriber {
    pub url: String,
    state: Arc<Mutex<State>>,
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let reply = {
        let mut s = state.lock().unwrap();
        s.received.push(Received {
            target: req.uri().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        s.script
            .pop_front()
            .or_else(|| s.default.clone())
            .unwrap_or(Reply::Status(204))
    };
    match reply {
        Reply::Status(code) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).finish()
        }
        Reply::RetryAfter(code, after) => {
            HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap())
                .insert_header(("retry-after", after))
                .finish()
        }
        Reply::Redirect(to) => HttpResponse::Found()
            .insert_header(("location", to))
            .finish(),
        Reply::Slow(pause) => {
            tokio::time::sleep(pause).await;
            HttpResponse::Ok().finish()
        }
    }
}

impl Subscriber {
    pub async fn start(script: Vec<Reply>) -> Subscriber {
        let state = Arc::new(Mutex::new(State {
            script: script.into(),
            ..Default::default()
        }));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Subscriber {
            url: format!("http://127.0.0.1:{port}/hook"),
            state,
        }
    }

    /// Answers every later request (after the script) with `reply`.
    pub fn answer(&self, reply: Reply) {
        self.state.lock().unwrap().default = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Waits (bounded) until at least `n` requests arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "only {} of {n} requests arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

/// Verifies a received event with the official Standard Webhooks library; the payload it
/// returns, or `None` when it refuses the signature.
pub fn verify_with_library(secret: &str, r: &Received) -> Option<serde_json::Value> {
    use std::io::Write;
    let mut child = std::process::Command::new("node")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/api/sdk/standard_webhooks.mjs"
        ))
        .args(["verify", secret])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("node (run scripts/test.sh)");
    let input = serde_json::json!({ "headers": r.headers, "body": r.body });
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).expect("payload"))
}
