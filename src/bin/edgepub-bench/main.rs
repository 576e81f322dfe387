//! `edgepub-bench`: drives a running edgepub over HTTP for `scripts/bench.sh`.
//!
//! Every command prints one line of `key=value` pairs on stdout (progress goes to stderr), so
//! the script can pick numbers out of it. Nothing here asserts on timing.

mod cache;
mod edge;
mod limit;
mod pages;
mod receiver;
mod soak;
mod soak_check;

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
    /// Time one drift check of a project (targets' rows and every page key).
    Drift(cache::PrimeArgs),
    /// Publish one changed page repeatedly; time until Redis shows it (p50, p99).
    Visible(cache::VisibleArgs),
    /// Change one page (merge-patch its layout root) so its next publish rewrites it.
    Touch {
        #[command(flatten)]
        conn: Conn,
        #[arg(long)]
        page: String,
    },
    /// Run a push-edge stand-in on loopback until killed.
    Edge(edge::EdgeArgs),
    /// Publish one changed page repeatedly; time until the edge stand-in serves it.
    EdgeVisible(edge::EdgeVisibleArgs),
    /// Create a project holding one page at every layout limit (components, depth, bytes).
    LimitPage(limit::LimitArgs),
    /// The soak's load and checks (scripts/soak.sh): saves, publishes, cache steps, webhook
    /// deliveries; then whether every job ended and every acknowledged save is kept.
    Soak(soak::SoakArgs),
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

#[derive(Clone)]
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

    /// A request with the token, for callers that look at the status themselves.
    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
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
                let body = pages::page_body(n, ds, page_bytes);
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
            // Polled every millisecond: a one-page publish takes ~10-20 ms, so a coarser
            // poll would measure the poll's period rather than the job.
            _ => tokio::time::sleep(Duration::from_millis(1)).await,
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
        Cmd::Drift(a) => cache::drift(&Api::new(&a.conn)?, a).await,
        Cmd::Soak(a) => soak::soak(&Api::new(&a.conn)?, a).await,
        Cmd::Edge(a) => edge::serve(a).await,
        Cmd::EdgeVisible(a) => edge::visible(&Api::new(&a.conn)?, a).await,
        Cmd::LimitPage(a) => limit::limit_page(&Api::new(&a.conn)?, a).await,
        Cmd::Compile {
            conn,
            project,
            page,
        } => limit::compile_page(&Api::new(&conn)?, &project, &page).await,
    }
}
