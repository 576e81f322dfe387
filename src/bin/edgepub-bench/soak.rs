//! `edgepub-bench soak`: the load of `scripts/soak.sh`. A project with a primed Redis cache
//! and a webhook endpoint (a receiver in this process) gets, for `--secs`, draft saves of its
//! pages (each worker owns its pages and saves them with If-Match), a publish every few
//! seconds (each a cache step and webhook deliveries) and job-list reads. Every answer is
//! counted by route and status. Afterwards it waits (bounded) for every job, cache step and
//! event to end, then checks that every acknowledged save is in its page's history with the
//! marker it carried, and prints the report.

use super::{receiver, Api, Conn};
use anyhow::{Context, Result};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct SoakArgs {
    #[command(flatten)]
    pub conn: Conn,
    #[arg(long, default_value = "soak")]
    pub project: String,
    /// Seconds of load (the checks afterwards come on top).
    #[arg(long)]
    pub secs: u64,
    #[arg(long, default_value_t = 16)]
    pub pages: usize,
    /// Concurrent savers (each owns pages/savers pages).
    #[arg(long, default_value_t = 4)]
    pub savers: usize,
    /// Pause between one saver's saves.
    #[arg(long, default_value_t = 20)]
    pub save_pause_ms: u64,
    #[arg(long, default_value_t = 2)]
    pub publish_every_secs: u64,
    /// The project's cache (`prime` mode).
    #[arg(long)]
    pub redis: String,
    /// Written once the load starts: the script times its restarts from it.
    #[arg(long)]
    pub started_file: PathBuf,
}

/// Answers by "METHOD route" and status (`conn` when no HTTP answer came).
#[derive(Default)]
struct Tally(Mutex<BTreeMap<(String, String), u64>>);

impl Tally {
    fn note(&self, route: &str, status: &str) {
        if let Ok(mut m) = self.0.lock() {
            *m.entry((route.to_string(), status.to_string()))
                .or_default() += 1;
        }
    }
}

/// One request; its status (or `conn`) and JSON body, counted under `route`.
async fn send(tally: &Tally, route: &str, req: reqwest::RequestBuilder) -> (String, Value) {
    match req.timeout(Duration::from_secs(30)).send().await {
        Ok(res) => {
            let status = res.status().as_u16().to_string();
            let body = res.json::<Value>().await.unwrap_or(Value::Null);
            tally.note(route, &status);
            (status, body)
        }
        Err(_) => {
            tally.note(route, "conn");
            ("conn".into(), Value::Null)
        }
    }
}

fn page_body(i: usize, marker: &str) -> Value {
    json!({
        "slug": if i == 0 { "home".to_string() } else { format!("s-{i:03}") },
        "name": marker, "title": format!("Soak page {i}"), "is_homepage": i == 0,
        "layout_data": {"content": [{"id": "h", "type": "Heading",
            "props": {"text": format!("Saved as {marker}"), "level": 1}}],
            "root": {"props": {"title": format!("Soak {i}")}}},
    })
}

/// An acknowledged save: page index, version, marker.
type Acked = (usize, i64, String);

pub async fn soak(api: &Api, a: SoakArgs) -> Result<()> {
    let p = &a.project;
    api.call(
        Method::POST,
        "/api/projects",
        Some(&json!({"name": p, "slug": p})),
        StatusCode::CREATED,
    )
    .await?;
    let cache = json!({"redis_type": "tcp", "redis_url": a.redis, "redis_enabled": true, "cache_mode": "prime"});
    api.call(
        Method::PUT,
        &format!("/api/projects/{p}/settings/cache"),
        Some(&cache),
        StatusCode::OK,
    )
    .await?;
    let (port, received) = receiver::start().await?;
    let hook = json!({"url": format!("http://127.0.0.1:{port}/hook"), "event_types": []});
    api.call(
        Method::POST,
        &format!("/api/projects/{p}/webhook-endpoints"),
        Some(&hook),
        StatusCode::CREATED,
    )
    .await?;
    let mut ids = Vec::new();
    for i in 0..a.pages {
        let page = api
            .call(
                Method::POST,
                &format!("/api/projects/{p}/pages"),
                Some(&page_body(i, "init")),
                StatusCode::CREATED,
            )
            .await?;
        ids.push(page["id"].as_str().context("page without id")?.to_string());
    }
    let ids = Arc::new(ids);
    let tally = Arc::new(Tally::default());
    let jobs = Arc::new(Mutex::new(Vec::<String>::new()));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(a.secs);
    std::fs::write(&a.started_file, "started\n").context("writing the started file")?;
    eprintln!("soak: load started for {} s", a.secs);

    let mut savers = Vec::new();
    for w in 0..a.savers.max(1) {
        let (api, tally, ids) = (api.clone(), tally.clone(), ids.clone());
        let (n, pause) = (a.savers.max(1), Duration::from_millis(a.save_pause_ms));
        savers.push(tokio::spawn(async move {
            let mine: Vec<usize> = (0..ids.len()).filter(|i| i % n == w).collect();
            let mut versions = vec![1_i64; ids.len()];
            let mut acked: Vec<Acked> = Vec::new();
            let mut seq = 0u64;
            while Instant::now() < deadline {
                for &i in &mine {
                    seq += 1;
                    let marker = format!("w{w}-{seq}");
                    let req = api
                        .request(Method::PUT, &format!("/api/pages/{}", ids[i]))
                        .header("if-match", format!("\"{}\"", versions[i]))
                        .json(&page_body(i, &marker));
                    let (status, body) = send(&tally, "PUT /api/pages/{id}", req).await;
                    match status.as_str() {
                        "200" => {
                            versions[i] = body["version"].as_i64().unwrap_or(versions[i] + 1);
                            acked.push((i, versions[i], marker));
                        }
                        "412" => {
                            if let Some(v) = body["details"]["current_version"].as_i64() {
                                versions[i] = v;
                            }
                        }
                        // The save may or may not have happened: read the version back.
                        _ => {
                            versions[i] = resync(&api, &tally, &ids[i], deadline)
                                .await
                                .unwrap_or(versions[i])
                        }
                    }
                    tokio::time::sleep(pause).await;
                }
            }
            acked
        }));
    }
    let publisher = {
        let (api, tally, jobs, p) = (api.clone(), tally.clone(), jobs.clone(), p.clone());
        let every = Duration::from_secs(a.publish_every_secs.max(1));
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let req = api
                    .request(Method::POST, &format!("/api/projects/{p}/publish"))
                    .json(&json!({}));
                let (status, body) = send(&tally, "POST /api/projects/{p}/publish", req).await;
                if let (true, Some(id)) = (status == "202", body["job_id"].as_str()) {
                    if let Ok(mut j) = jobs.lock() {
                        j.push(id.to_string());
                    }
                }
                tokio::time::sleep(every).await;
            }
        })
    };
    let reader = {
        let (api, tally, p) = (api.clone(), tally.clone(), p.clone());
        tokio::spawn(async move {
            while Instant::now() < deadline {
                let req = api.request(
                    Method::GET,
                    &format!("/api/projects/{p}/publish-jobs?limit=5"),
                );
                send(&tally, "GET /api/projects/{p}/publish-jobs", req).await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    };
    let mut acked: Vec<Acked> = Vec::new();
    for s in savers {
        acked.extend(s.await.context("a saver panicked")?);
    }
    publisher.await.context("the publisher panicked")?;
    reader.await.context("the reader panicked")?;
    let load_s = started.elapsed().as_secs_f64();
    eprintln!("soak: load done after {load_s:.0} s; waiting for jobs, cache steps and events");

    let jobs = jobs.lock().map(|j| j.clone()).unwrap_or_default();
    let ended = super::soak_check::jobs_ended(api, &jobs).await;
    let events = super::soak_check::events_settled(&received, &ended).await;
    let lost = super::soak_check::lost_saves(api, &ids, &acked).await?;
    let m = tally.0.lock().map(|m| m.clone()).unwrap_or_default();
    super::soak_check::report(load_s, &m, &ended, &events, acked.len(), &lost);
    Ok(())
}

/// The page's version as stored, retried until the deadline (the database may be down).
async fn resync(api: &Api, tally: &Tally, id: &str, deadline: Instant) -> Option<i64> {
    loop {
        let req = api.request(Method::GET, &format!("/api/pages/{id}"));
        let (status, body) = send(tally, "GET /api/pages/{id}", req).await;
        if status == "200" {
            return body["version"].as_i64();
        }
        if Instant::now() >= deadline + Duration::from_secs(60) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
