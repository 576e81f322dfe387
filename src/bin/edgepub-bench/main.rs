//! `edgepub-bench`: drives a running edgepub over HTTP for `scripts/bench.sh`.
//!
//! Every command prints one line of `key=value` pairs on stdout (progress goes to stderr), so
//! the script can pick numbers out of it. Nothing here asserts on timing.

mod cache;
mod limit;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use futures_util::{stream, StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Benchmark driver for a running edgepub")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Args, Clone)]
struct Conn {
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// Admin API token.
    #[arg(long, env = "EDGEPUB_BENCH_TOKEN")]
    token: String,
}

#[derive(Subcommand)]
enum Cmd {
    /// Create a project, a Supabase datasource and N pages of ~20 KB each.
    Seed(SeedArgs),
    /// Publish (whole project, or only the given pages) and wait for the job.
    Publish(PublishArgs),
    /// Prime every page key of a project through the outbox (flush, then drift repair).
    Prime(cache::PrimeArgs),
    /// Publish one changed page repeatedly; time until Redis shows it (p50, p99).
    Visible(cache::VisibleArgs),
    /// Change one page (merge-patch its layout root) so its next publish rewrites it.
    Touch {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        page: String,
    },
    /// Create a project holding one page at every layout limit (components, depth, bytes).
    LimitPage(limit::LimitArgs),
    /// Dry-run compile of one page; fails on an error diagnostic.
    Compile {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        project: String,
        #[arg(long)]
        page: String,
    },
}

#[derive(Args)]
struct SeedArgs {
    #[command(flatten)]
    conn: Conn,
    #[arg(long)]
    project: String,
    #[arg(long)]
    pages: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Target serialized size of one page body, in bytes.
    #[arg(long, default_value_t = 20_000)]
    page_bytes: usize,
    /// Write the page ids here, one a line, in creation order (index 0 = homepage).
    #[arg(long)]
    ids: Option<PathBuf>,
    /// Write each page's PUT body to DIR/body-<n>.json (for wrk).
    #[arg(long)]
    bodies: Option<PathBuf>,
}

#[derive(Args)]
struct PublishArgs {
    #[command(flatten)]
    conn: Conn,
    #[arg(long)]
    project: String,
    /// Use `POST /api/pages/{id}/publish` for this one page.
    #[arg(long, conflicts_with = "pages")]
    page: Option<String>,
    /// Comma-separated page ids: `{"pages": [...]}` on the project endpoint.
    #[arg(long, value_delimiter = ',')]
    pages: Option<Vec<String>>,
    /// Comma-separated target ids: `{"targets": [...]}` on the project endpoint.
    #[arg(long, value_delimiter = ',', conflicts_with = "page")]
    targets: Option<Vec<String>>,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 1800)]
    timeout: u64,
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(c: &Conn) -> Result<Api> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(600))
            .pool_max_idle_per_host(64)
            .build()?;
        Ok(Api {
            http,
            base: c.base.trim_end_matches('/').to_string(),
            token: c.token.clone(),
        })
    }

    /// Sends a request and returns the JSON body, failing on any status but `want`.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        want: StatusCode,
    ) -> Result<Value> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let res = req
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .with_context(|| format!("{method} {path}"))?;
        if status != want {
            let cut: String = text.chars().take(500).collect();
            bail!("{method} {path}: expected {want}, got {status}: {cut}");
        }
        if text.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text)
            .with_context(|| format!("{method} {path}: response is not JSON"))
    }
}

fn style(values: Value, mobile: Value) -> Value {
    json!({ "values": values, "viewportOverrides": { "mobile": mobile } })
}

fn leaf(id: String, ty: &str, props: Value, values: Value, mobile: Value) -> Value {
    json!({ "id": id, "type": ty, "props": props, "stylesData": style(values, mobile) })
}

/// A card: heading, text, image and button, each with styles and a mobile override.
fn card(page: usize, id: &str) -> Value {
    let text = format!(
        "Page {page}, {id}: a short paragraph of marketing copy that describes a feature, \
         its benefits and why a visitor should care about it, written by a real person."
    );
    json!({
        "id": id, "type": "Card",
        "props": { "elevation": 1, "variant": "outlined" },
        "stylesData": style(json!({"padding": {"top": 24, "right": 24, "bottom": 24, "left": 24},
            "borderRadius": "12px", "backgroundColor": "#ffffff", "boxShadow": "0 1px 3px rgba(0,0,0,0.12)"}),
            json!({"padding": {"top": 12, "right": 12, "bottom": 12, "left": 12}})),
        "children": [
            leaf(format!("{id}-h"), "Heading", json!({"text": format!("Feature {id}"), "level": 3}),
                json!({"fontSize": 24, "fontWeight": 600, "color": "#111827", "marginBottom": "8px"}),
                json!({"fontSize": 18})),
            leaf(format!("{id}-t"), "Text", json!({"text": text}),
                json!({"fontSize": 16, "lineHeight": 1.6, "color": "#4b5563"}), json!({"fontSize": 14})),
            leaf(format!("{id}-i"), "Image",
                json!({"src": format!("https://cdn.example.com/img/{page}/{id}.webp"), "alt": format!("Illustration {id}"), "loading": "lazy"}),
                json!({"width": "100%", "height": 180, "objectFit": "cover", "borderRadius": "8px"}),
                json!({"height": 120})),
            leaf(format!("{id}-b"), "Button",
                json!({"text": "Learn more", "href": format!("/features/{id}"), "variant": "primary", "size": "md"}),
                json!({"backgroundColor": "#2563eb", "color": "#ffffff", "padding": "8px 16px"}),
                json!({"width": "100%"})),
        ]
    })
}

fn data_table(page: usize, id: String, ds: &str) -> Value {
    json!({
        "id": id, "type": "DataTable",
        "props": { "title": format!("Recent orders ({page})"), "striped": true,
            "binding": { "dataSourceId": ds, "tableName": "orders",
                "columns": ["id", "total", "status", "created_at", "customers.name", "customers.email"],
                "foreignKeys": [{"column": "customer_id", "referencedTable": "customers", "referencedColumn": "id"}],
                "sorting": {"enabled": true, "column": "created_at", "direction": "desc"},
                "pagination": {"enabled": true, "pageSize": 25},
                "filters": {"status": ["paid", "shipped"]}, "searchColumns": ["status"] } },
        "stylesData": style(json!({"width": "100%", "fontSize": 14, "marginTop": "24px"}), json!({"fontSize": 12}))
    })
}

/// A section: a heading, a row of three columns holding a card each, and a bound table.
fn section(page: usize, s: usize, ds: &str) -> Value {
    let columns: Vec<Value> = (0..3)
        .map(|c| {
            json!({ "id": format!("s{s}-c{c}"), "type": "Column", "props": {"span": 4},
                "stylesData": style(json!({"display": "flex", "flexDirection": "column", "gap": "16px"}),
                    json!({"width": "100%"})),
                "children": [card(page, &format!("s{s}-c{c}-card"))] })
        })
        .collect();
    json!({
        "id": format!("s{s}"), "type": "Section", "props": {"as": "section"},
        "stylesData": style(json!({"paddingTop": 64, "paddingBottom": 64, "backgroundColor": if s.is_multiple_of(2) { "#f9fafb" } else { "#ffffff" }}),
            json!({"paddingTop": 32, "paddingBottom": 32})),
        "children": [
            leaf(format!("s{s}-title"), "Heading", json!({"text": format!("Section {s} of page {page}"), "level": 2}),
                json!({"fontSize": 36, "textAlign": "center"}), json!({"fontSize": 28})),
            { "id": format!("s{s}-row"), "type": "Row", "props": {"gap": 24},
              "stylesData": style(json!({"display": "grid", "gridTemplateColumns": "repeat(3, 1fr)", "gap": "24px"}),
                  json!({"gridTemplateColumns": "1fr"})),
              "children": columns },
            data_table(page, format!("s{s}-table"), ds),
        ]
    })
}

/// The PUT/POST body of page `n`, grown section by section to the size closest to `target`.
fn page_body(n: usize, ds: &str, target: usize) -> Value {
    let mut content = Vec::new();
    let mut best: Option<(usize, Value)> = None;
    for s in 0..64 {
        content.push(section(n, s, ds));
        let body = json!({
            "slug": if n == 0 { "home".to_string() } else { format!("p-{n:05}") },
            "name": format!("Page {n}"), "title": format!("Page {n} | Bench"),
            "description": format!("Benchmark page number {n}"), "is_homepage": n == 0,
            "seo_data": {"title": format!("Page {n}"), "description": "A benchmark page", "keywords": ["bench", "edgepub"]},
            "layout_data": {"content": content, "root": {"props": {"title": format!("Page {n}")}}},
        });
        let size = body.to_string().len();
        let closer = best
            .as_ref()
            .is_none_or(|(d, _)| size.abs_diff(target) < *d);
        if !closer {
            break;
        }
        best = Some((size.abs_diff(target), body));
        if size >= target {
            break;
        }
    }
    best.map(|(_, b)| b).unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

async fn seed(api: &Api, args: SeedArgs) -> Result<()> {
    let SeedArgs {
        project,
        pages,
        concurrency,
        page_bytes,
        ids,
        bodies,
        ..
    } = args;
    let body = json!({"name": project, "slug": project});
    api.call(
        Method::POST,
        "/api/projects",
        Some(&body),
        StatusCode::CREATED,
    )
    .await?;
    let ds = api
        .call(
            Method::POST,
            &format!("/api/projects/{project}/datasources"),
            Some(&json!({"type": "supabase", "name": "main", "url": "https://x.supabase.co", "anon_key": "anon"})),
            StatusCode::CREATED,
        )
        .await?;
    let ds = ds["id"]
        .as_str()
        .context("datasource has no id")?
        .to_string();
    if let Some(dir) = &bodies {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let started = Instant::now();
    let path = format!("/api/projects/{project}/pages");
    let created: Vec<(String, usize)> = stream::iter(0..pages)
        .map(|n| {
            let (ds, path, bodies) = (&ds, &path, &bodies);
            async move {
                let body = page_body(n, ds, page_bytes);
                let size = body.to_string().len();
                if let Some(dir) = bodies {
                    let file = dir.join(format!("body-{n}.json"));
                    tokio::fs::write(&file, body.to_string())
                        .await
                        .with_context(|| format!("writing {}", file.display()))?;
                }
                let page = api
                    .call(Method::POST, path, Some(&body), StatusCode::CREATED)
                    .await?;
                if (n + 1).is_multiple_of(1000) {
                    eprintln!("seed: {} pages", n + 1);
                }
                let id = page["id"].as_str().context("page has no id")?;
                Ok::<_, anyhow::Error>((id.to_string(), size))
            }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let wall = started.elapsed();
    if let Some(file) = ids {
        let text: String = created.iter().map(|(id, _)| format!("{id}\n")).collect();
        std::fs::write(&file, text).with_context(|| format!("writing {}", file.display()))?;
    }
    let avg = created.iter().map(|c| c.1).sum::<usize>() / created.len().max(1);
    println!(
        "seed project={project} pages={pages} avg_body_bytes={avg} wall_s={} pages_per_s={:.1}",
        secs(wall),
        pages as f64 / wall.as_secs_f64()
    );
    Ok(())
}

async fn publish(api: &Api, args: PublishArgs) -> Result<()> {
    let PublishArgs {
        project,
        page,
        pages,
        targets,
        timeout,
        ..
    } = args;
    let started = Instant::now();
    let accepted = match page {
        Some(id) => {
            let path = format!("/api/pages/{id}/publish");
            api.call(Method::POST, &path, None, StatusCode::ACCEPTED)
                .await?
        }
        None => {
            let mut body = json!({});
            if let Some(p) = pages {
                body["pages"] = json!(p);
            }
            if let Some(t) = targets {
                body["targets"] = json!(t);
            }
            let path = format!("/api/projects/{project}/publish");
            api.call(Method::POST, &path, Some(&body), StatusCode::ACCEPTED)
                .await?
        }
    };
    let status_url = accepted["status_url"]
        .as_str()
        .context("202 without status_url")?;
    let deadline = started + Duration::from_secs(timeout);
    let job = loop {
        let job = api
            .call(Method::GET, status_url, None, StatusCode::OK)
            .await?;
        match job["state"].as_str() {
            Some("succeeded") => break job,
            Some("failed" | "partial") => bail!("publish job {}: {}", job["state"], job["result"]),
            _ if Instant::now() > deadline => bail!("publish job still running: {job}"),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let wall = started.elapsed();
    let r = &job["result"];
    let t = &r["targets"][0];
    println!(
        "publish project={project} wall_s={} upserted={} unchanged={} deleted={} pages_total={} compile_ms={} write_ms={} total_ms={} requests={} bytes_sent={}",
        secs(wall), t["upserted"], t["unchanged"], t["deleted"],
        job["progress"]["pages_total"], r["compile_ms"], r["write_ms"], r["total_ms"],
        t["requests"], t["bytes_sent"]
    );
    Ok(())
}

/// Changes the page's layout root; returns the marker written.
async fn touch_layout(api: &Api, page: &str) -> Result<String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos()
        .to_string();
    let patch = json!({"layout_data": {"root": {"props": {"benchTouch": stamp}}}});
    let saved = api
        .call(
            Method::PATCH,
            &format!("/api/pages/{page}"),
            Some(&patch),
            StatusCode::OK,
        )
        .await?;
    if saved["version"].is_null() {
        bail!("no version after a save");
    }
    Ok(stamp)
}

async fn touch(api: &Api, page: &str) -> Result<()> {
    touch_layout(api, page).await?;
    println!("touch page={page}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::Seed(a) => seed(&Api::new(&a.conn)?, a).await,
        Cmd::Publish(a) => publish(&Api::new(&a.conn)?, a).await,
        Cmd::Touch { conn, page } => touch(&Api::new(&conn)?, &page).await,
        Cmd::Prime(a) => cache::prime_all(&Api::new(&a.conn)?, a).await,
        Cmd::Visible(a) => cache::visible(&Api::new(&a.conn)?, a).await,
        Cmd::LimitPage(a) => limit::limit_page(&Api::new(&a.conn)?, a).await,
        Cmd::Compile {
            conn,
            project,
            page,
        } => limit::compile_page(&Api::new(&conn)?, &project, &page).await,
    }
}
