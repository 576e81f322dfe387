//! A push-style edge on loopback (the edge contract, section 4), for timing a publish until an
//! edge serves it: it checks the system key, validates every imported page as the real edge
//! does (required fields and their JSON types, dates ending in `Z`, no nulls), refuses a
//! version that is not newer unless forced ("Version conflict"), takes settings only as
//! strings or null, and serves what it holds at `/:slug`. It answers with the real edge's
//! statuses and bodies; it serves the page's JSON instead of rendering HTML, so rendering is
//! the one part of a real edge's work this leaves out.

use super::{cache::percentile, touch_layout, Api, Conn};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use anyhow::{bail, Context, Result};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct EdgeArgs {
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: String,
    /// The system key importers must send in `x-system-key`.
    #[arg(long, env = "EDGEPUB_BENCH_EDGE_KEY")]
    key: String,
}

#[derive(Args)]
pub struct EdgeVisibleArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// The page to change and publish.
    #[arg(long)]
    page: String,
    /// Base URL of the edge stand-in.
    #[arg(long)]
    edge: String,
    /// The edge's system key (for the baseline: the page imported straight into the edge).
    #[arg(long, env = "EDGEPUB_BENCH_EDGE_KEY")]
    key: String,
    #[arg(long, default_value_t = 20)]
    runs: usize,
}

/// What the edge holds: (tenant, slug) → the imported page's bytes and version.
#[derive(Default)]
struct Held {
    pages: HashMap<(String, String), (web::Bytes, i64, String)>,
}

struct Edge {
    key: String,
    held: Mutex<Held>,
}

type Shared = web::Data<Arc<Edge>>;

fn iso_z(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 24
            && s.ends_with('Z')
            && s.as_bytes().get(10) == Some(&b'T')
            && chrono::DateTime::parse_from_rfc3339(s).is_ok()
    })
}

/// The edge's validation of an imported page (its zod schema, as the contract gives it).
fn validate(page: &Value) -> Vec<Value> {
    let optional = |k: &str, ok: fn(&Value) -> bool| page.get(k).is_none_or(ok);
    let checks = [
        ("id", page["id"].is_string(), "a string"),
        (
            "slug",
            page["slug"]
                .as_str()
                .is_some_and(|s| !s.is_empty() && !s.starts_with('/')),
            "a slug without a leading slash",
        ),
        ("name", page["name"].is_string(), "a string"),
        (
            "layoutData",
            page["layoutData"]["content"].is_array(),
            "an object with a content array",
        ),
        (
            "version",
            page["version"].as_i64().is_some_and(|v| v >= 1),
            "an integer >= 1",
        ),
        (
            "publishedAt",
            iso_z(&page["publishedAt"]),
            "an ISO date ending in Z",
        ),
        ("isPublic", page["isPublic"].is_boolean(), "a boolean"),
        ("isHomepage", page["isHomepage"].is_boolean(), "a boolean"),
        ("title", optional("title", Value::is_string), "a string"),
        (
            "description",
            optional("description", Value::is_string),
            "a string",
        ),
        (
            "seoData",
            optional("seoData", Value::is_object),
            "an object",
        ),
        (
            "datasources",
            optional("datasources", Value::is_array),
            "an array",
        ),
        (
            "cssBundle",
            optional("cssBundle", Value::is_string),
            "a string",
        ),
        (
            "tenantSlug",
            optional("tenantSlug", Value::is_string),
            "a string",
        ),
    ];
    checks
        .iter()
        .filter(|(_, ok, _)| !ok)
        .map(|(k, _, what)| json!({"path": format!("page.{k}"), "message": format!("expected {what}")}))
        .collect()
}

fn keyed(req: &HttpRequest, edge: &Edge) -> Option<HttpResponse> {
    let sent = req
        .headers()
        .get("x-system-key")
        .and_then(|v| v.to_str().ok());
    (sent != Some(edge.key.as_str())).then(|| {
        HttpResponse::Unauthorized().json(json!({"success": false, "error": "Unauthorized"}))
    })
}

fn held(edge: &Edge) -> std::sync::MutexGuard<'_, Held> {
    // A poisoned lock only means another request panicked; the map itself is whole.
    edge.held.lock().unwrap_or_else(|e| e.into_inner())
}

async fn import(req: HttpRequest, body: web::Bytes, edge: Shared) -> HttpResponse {
    if let Some(refused) = keyed(&req, &edge) {
        return refused;
    }
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (page, force) = (&parsed["page"], &parsed["force"]);
    if !force.is_boolean() || !page.is_object() {
        let details = [json!({"path": "", "message": "expected {page, force}"})];
        return HttpResponse::BadRequest()
            .json(json!({"success": false, "error": "Validation failed", "details": details}));
    }
    let details = validate(page);
    if !details.is_empty() {
        return HttpResponse::BadRequest()
            .json(json!({"success": false, "error": "Validation failed", "details": details}));
    }
    let slug = page["slug"].as_str().unwrap_or_default().to_string();
    let tenant = page["tenantSlug"]
        .as_str()
        .unwrap_or("_default")
        .to_string();
    let id = page["id"].as_str().unwrap_or_default().to_string();
    let version = page["version"].as_i64().unwrap_or(0);
    let bytes = match serde_json::to_vec(page) {
        Ok(b) => web::Bytes::from(b),
        Err(e) => {
            return HttpResponse::InternalServerError()
                .json(json!({"success": false, "error": e.to_string()}))
        }
    };
    let mut held = held(&edge);
    let stored = held.pages.get(&(tenant.clone(), slug.clone())).map(|p| p.1);
    if let Some(s) = stored.filter(|s| *s >= version && force != true) {
        return HttpResponse::BadRequest().json(json!({"success": false,
            "error": format!("Version conflict: stored version {s} is not lower than {version}")}));
    }
    // A page that moved to another slug leaves its old one.
    held.pages.retain(|(t, _), p| !(t == &tenant && p.2 == id));
    held.pages
        .insert((tenant, slug.clone()), (bytes, version, id));
    HttpResponse::Ok().json(json!({"success": true, "slug": slug, "version": version,
        "previewUrl": format!("/{slug}"), "message": "Page imported"}))
}

fn tenant_of(req: &HttpRequest) -> String {
    web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("tenant_slug").cloned())
        .unwrap_or_else(|| "_default".into())
}

async fn unpublish(req: HttpRequest, slug: web::Path<String>, edge: Shared) -> HttpResponse {
    if let Some(refused) = keyed(&req, &edge) {
        return refused;
    }
    match held(&edge)
        .pages
        .remove(&(tenant_of(&req), slug.into_inner()))
    {
        Some(_) => HttpResponse::Ok().json(json!({"success": true})),
        None => HttpResponse::NotFound().json(json!({"success": false, "error": "Page not found"})),
    }
}

/// The edge binds each settings value into a TEXT column: anything but a string or null
/// fails in its database driver with this 500.
async fn settings(req: HttpRequest, body: web::Bytes, edge: Shared) -> HttpResponse {
    if let Some(refused) = keyed(&req, &edge) {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let keys = [
        "faviconUrl",
        "logoUrl",
        "siteName",
        "siteDescription",
        "appUrl",
        "authForms",
    ];
    if !keys
        .iter()
        .all(|k| body.get(*k).is_some_and(|v| v.is_string() || v.is_null()))
    {
        return HttpResponse::InternalServerError().json(json!({"success": false,
            "error": "SQLite3 can only bind numbers, strings, bigints, buffers, and null"}));
    }
    HttpResponse::Ok().json(json!({"success": true}))
}

async fn status(req: HttpRequest, edge: Shared) -> HttpResponse {
    if let Some(refused) = keyed(&req, &edge) {
        return refused;
    }
    HttpResponse::Ok().json(json!({"status": "ok", "ready": true}))
}

/// `/:slug` for the default tenant: the page it holds, or 404.
async fn serve_page(slug: web::Path<String>, edge: Shared) -> HttpResponse {
    let page = held(&edge)
        .pages
        .get(&("_default".to_string(), slug.into_inner()))
        .map(|p| p.0.clone());
    match page {
        Some(bytes) => HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes),
        None => HttpResponse::NotFound().body("Not found"),
    }
}

/// Runs the stand-in until the process is killed.
pub async fn serve(a: EdgeArgs) -> Result<()> {
    let edge = web::Data::new(Arc::new(Edge {
        key: a.key,
        held: Mutex::default(),
    }));
    eprintln!("edge stand-in on http://{}", a.listen);
    HttpServer::new(move || {
        App::new()
            .app_data(edge.clone())
            .app_data(web::PayloadConfig::new(16 << 20))
            .route(
                "/api/health",
                web::get().to(|| async { HttpResponse::Ok().json(json!({"status": "ok"})) }),
            )
            .route("/api/import/status", web::get().to(status))
            .route("/api/import/settings", web::post().to(settings))
            .route("/api/import", web::post().to(import))
            .route("/api/import/{slug}", web::delete().to(unpublish))
            .route("/{slug}", web::get().to(serve_page))
    })
    .workers(1)
    .bind(&a.listen)
    .with_context(|| format!("binding {}", a.listen))?
    .run()
    .await?;
    Ok(())
}

/// Publishes one changed page `runs` times and measures, from the API call, when the edge
/// serves the change at `/:slug`.
pub async fn visible(api: &Api, a: EdgeVisibleArgs) -> Result<()> {
    let path = format!("/api/pages/{}", a.page);
    let page = api.call(Method::GET, &path, None, StatusCode::OK).await?;
    let slug = page["slug"].as_str().context("no slug")?;
    let url = format!("{}/{slug}", a.edge.trim_end_matches('/'));
    let http = reqwest::Client::new();
    let mut times = Vec::with_capacity(a.runs);
    for _ in 0..a.runs {
        let marker = touch_layout(api, &a.page).await?;
        let started = Instant::now();
        let publish = format!("/api/pages/{}/publish", a.page);
        api.call(
            Method::POST,
            &publish,
            Some(&json!({})),
            StatusCode::ACCEPTED,
        )
        .await?;
        let deadline = started + Duration::from_secs(60);
        loop {
            let res = http.get(&url).send().await?;
            if res.status().is_success() && res.text().await?.contains(&marker) {
                break;
            }
            if Instant::now() > deadline {
                bail!("{url} never served the publish");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let direct = direct_imports(&http, &a, &url).await?;
    println!(
        "edge-visible runs={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1} direct_p50_ms={:.1}",
        a.runs,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(f64::NAN),
        percentile(&direct, 0.5),
    );
    Ok(())
}

/// The edge's own share of a publish: the page it serves, POSTed straight to its import
/// (forced, as its version is not newer) and read back at `/:slug`, `runs` times; sorted ms.
async fn direct_imports(
    http: &reqwest::Client,
    a: &EdgeVisibleArgs,
    url: &str,
) -> Result<Vec<f64>> {
    let page = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let mut body = Vec::with_capacity(page.len() + 32);
    body.extend_from_slice(b"{\"force\":true,\"page\":");
    body.extend_from_slice(&page);
    body.push(b'}');
    let body = bytes::Bytes::from(body);
    let import = format!("{}/api/import", a.edge.trim_end_matches('/'));
    let mut times = Vec::with_capacity(a.runs);
    for _ in 0..a.runs {
        let started = Instant::now();
        http.post(&import)
            .header("x-system-key", &a.key)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await?
            .error_for_status()
            .context("the edge refused a direct import")?;
        http.get(url)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times)
}
