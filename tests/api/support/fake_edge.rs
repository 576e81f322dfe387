//! A stand-in push-style edge (contract section 4) that validates every request strictly,
//! keeps what it was sent, and can be told to fail: a real edge of that kind is a TypeScript
//! service we cannot run here.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Default)]
pub struct EdgeState {
    /// (tenant, slug) → the page as imported.
    pub pages: BTreeMap<(String, String), Value>,
    pub settings: Option<Value>,
    /// Every request: method, path with query, body.
    pub log: Vec<(String, String, Value)>,
    /// Slugs whose next import answers 500 this many more times.
    pub fail: HashMap<String, u32>,
}

pub struct FakeEdge {
    pub url: String,
    pub state: Arc<Mutex<EdgeState>>,
}

pub const KEY: &str = "edge-system-key-for-tests";

fn bad(details: Vec<(String, String)>) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({
        "success": false,
        "error": "Validation failed",
        "details": details.iter().map(|(p, m)| json!({"path": p, "message": m})).collect::<Vec<_>>(),
    }))
}

fn iso_z(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && s.as_bytes()[10] == b'T'
            && chrono::DateTime::parse_from_rfc3339(s).is_ok()
    })
}

/// The edge's validation of an imported page: required fields with their JSON types, dates
/// ending in `Z`, no nulls (the compiler strips them).
fn validate(page: &Value) -> Vec<(String, String)> {
    let mut errs = Vec::new();
    let mut need = |key: &str, ok: bool, what: &str| {
        if !ok {
            errs.push((format!("page.{key}"), format!("expected {what}")));
        }
    };
    need("id", page["id"].is_string(), "a string");
    need(
        "slug",
        page["slug"]
            .as_str()
            .is_some_and(|s| !s.is_empty() && !s.starts_with('/')),
        "a slug without a leading slash",
    );
    need("name", page["name"].is_string(), "a string");
    need(
        "layoutData",
        page["layoutData"]["content"].is_array(),
        "an object with a content array",
    );
    need(
        "version",
        page["version"].as_i64().is_some_and(|v| v >= 1),
        "an integer >= 1",
    );
    need(
        "publishedAt",
        iso_z(&page["publishedAt"]),
        "an ISO date ending in Z",
    );
    need("isPublic", page["isPublic"].is_boolean(), "a boolean");
    need("isHomepage", page["isHomepage"].is_boolean(), "a boolean");
    for (key, ok) in [
        ("title", page.get("title").is_none_or(Value::is_string)),
        (
            "description",
            page.get("description").is_none_or(Value::is_string),
        ),
        ("seoData", page.get("seoData").is_none_or(Value::is_object)),
        (
            "datasources",
            page.get("datasources").is_none_or(Value::is_array),
        ),
        (
            "cssBundle",
            page.get("cssBundle").is_none_or(Value::is_string),
        ),
        (
            "tenantSlug",
            page.get("tenantSlug").is_none_or(Value::is_string),
        ),
    ] {
        need(key, ok, "the right type, never null");
    }
    errs
}

fn authorized(req: &HttpRequest) -> bool {
    req.headers()
        .get("x-system-key")
        .and_then(|v| v.to_str().ok())
        == Some(KEY)
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized().json(json!({"success": false, "error": "Unauthorized"}))
}

type Shared = web::Data<Arc<Mutex<EdgeState>>>;

async fn import(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.log
        .push(("POST".into(), req.uri().to_string(), body.clone()));
    if !authorized(&req) {
        return unauthorized();
    }
    if !body["force"].is_boolean() || !body["page"].is_object() {
        return bad(vec![("".into(), "expected {page, force}".into())]);
    }
    let page = &body["page"];
    let errs = validate(page);
    if !errs.is_empty() {
        return bad(errs);
    }
    let slug = page["slug"].as_str().unwrap_or_default().to_string();
    let tenant = page["tenantSlug"]
        .as_str()
        .unwrap_or("_default")
        .to_string();
    if let Some(n) = st.fail.get_mut(&slug).filter(|n| **n > 0) {
        *n -= 1;
        return HttpResponse::InternalServerError()
            .json(json!({"success": false, "error": "Internal error"}));
    }
    let version = page["version"].as_i64().unwrap_or(0);
    let stored = st
        .pages
        .get(&(tenant.clone(), slug.clone()))
        .and_then(|p| p["version"].as_i64());
    if stored.is_some_and(|s| s >= version) && body["force"] != true {
        return HttpResponse::BadRequest().json(json!({
            "success": false,
            "error": format!("Version conflict: stored version {} is not lower than {version}", stored.unwrap_or(0)),
        }));
    }
    // A page that moved to another slug leaves its old one.
    let id = page["id"].clone();
    st.pages
        .retain(|(t, _), p| !(t == &tenant && p["id"] == id));
    st.pages.insert((tenant, slug.clone()), page.clone());
    HttpResponse::Ok().json(json!({"success": true, "slug": slug, "version": version,
        "previewUrl": format!("/{slug}"), "message": "Page imported"}))
}

async fn unpublish(req: HttpRequest, path: web::Path<String>, state: Shared) -> HttpResponse {
    let mut st = state.lock().unwrap();
    st.log
        .push(("DELETE".into(), req.uri().to_string(), Value::Null));
    if !authorized(&req) {
        return unauthorized();
    }
    let tenant = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("tenant_slug").cloned())
        .unwrap_or_else(|| "_default".into());
    match st.pages.remove(&(tenant, path.into_inner())) {
        Some(_) => HttpResponse::Ok().json(json!({"success": true})),
        None => HttpResponse::NotFound().json(json!({"success": false, "error": "Page not found"})),
    }
}

/// What the edge answers when a settings value is not bindable into its TEXT column.
pub const BIND_ERROR: &str = "SQLite3 can only bind numbers, strings, bigints, buffers, and null";

/// The edge binds each value straight into a TEXT column: any value that is not a string or
/// null (an object, a boolean, a number, or nothing at all) fails inside the database driver,
/// and the edge answers 500 with the driver's message.
async fn settings(req: HttpRequest, body: web::Bytes, state: Shared) -> HttpResponse {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut st = state.lock().unwrap();
    st.log
        .push(("POST".into(), req.uri().to_string(), body.clone()));
    if !authorized(&req) {
        return unauthorized();
    }
    let keys = [
        "faviconUrl",
        "logoUrl",
        "siteName",
        "siteDescription",
        "appUrl",
        "authForms",
    ];
    let bindable = |v: Option<&Value>| v.is_some_and(|v| v.is_string() || v.is_null());
    if !keys.iter().all(|k| bindable(body.get(*k))) {
        return HttpResponse::InternalServerError()
            .json(json!({"success": false, "error": BIND_ERROR}));
    }
    st.settings = Some(body);
    HttpResponse::Ok().json(json!({"success": true}))
}

/// The edge's status answer: it says it is ready and lists nothing it holds.
async fn status(req: HttpRequest) -> HttpResponse {
    if !authorized(&req) {
        return unauthorized();
    }
    HttpResponse::Ok().json(json!({"status": "ok", "ready": true}))
}

impl FakeEdge {
    pub async fn start() -> FakeEdge {
        let state = Arc::new(Mutex::new(EdgeState::default()));
        let data = web::Data::new(state.clone());
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/api/health",
                    web::get().to(|| async { HttpResponse::Ok().json(json!({"status": "ok"})) }),
                )
                .route("/api/import/status", web::get().to(status))
                .route("/api/import/settings", web::post().to(settings))
                .route("/api/import", web::post().to(import))
                .route("/api/import/{slug}", web::delete().to(unpublish))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        FakeEdge {
            url: format!("http://127.0.0.1:{port}"),
            state,
        }
    }

    /// Requests received so far, as `METHOD path`.
    pub fn calls(&self) -> Vec<String> {
        let st = self.state.lock().unwrap();
        st.log.iter().map(|(m, p, _)| format!("{m} {p}")).collect()
    }

    /// (slug, version) of what it holds for a tenant.
    pub fn held(&self, tenant: &str) -> Vec<(String, i64)> {
        let st = self.state.lock().unwrap();
        st.pages
            .iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|((_, slug), p)| (slug.clone(), p["version"].as_i64().unwrap_or(0)))
            .collect()
    }

    pub fn clear_log(&self) {
        self.state.lock().unwrap().log.clear();
    }
}
