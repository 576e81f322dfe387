//! Cache scenarios: priming every page key of a project through the outbox, and how long a
//! publish takes to become visible in Redis.

use super::{touch_layout, Api};
use anyhow::{bail, Context, Result};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct PrimeArgs {
    #[command(flatten)]
    pub conn: super::Conn,
    #[arg(long)]
    pub project: String,
}

#[derive(Args)]
pub struct VisibleArgs {
    #[command(flatten)]
    pub conn: super::Conn,
    #[arg(long)]
    pub project: String,
    /// The page changed and published each run.
    #[arg(long)]
    pub page: String,
    /// The Redis the project's cache settings point at (read back directly).
    #[arg(long)]
    pub redis: String,
    /// `prime` (wait for the new value) or `invalidate` (wait for the key to go).
    #[arg(long)]
    pub mode: String,
    #[arg(long, default_value_t = 20)]
    pub runs: usize,
}

/// Waits for the job's cache step; returns the job and when the job itself had ended.
async fn wait_cache_done(api: &Api, job_id: &str, timeout: Duration) -> Result<(Value, Instant)> {
    let deadline = Instant::now() + timeout;
    let mut ended = None;
    loop {
        let job = api
            .call(
                Method::GET,
                &format!("/api/publish-jobs/{job_id}"),
                None,
                StatusCode::OK,
            )
            .await?;
        if job["state"] == "failed" {
            bail!("job failed: {}", job["result"]);
        }
        if job["state"] == "succeeded" && ended.is_none() {
            ended = Some(Instant::now());
        }
        if job["cache"]["status"] == "done" {
            return Ok((job, ended.unwrap_or_else(Instant::now)));
        }
        if Instant::now() > deadline {
            bail!("cache step not done: {}", job["cache"]);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Flushes the project's keys, then repairs: every page key is written again through the
/// outbox. `wall_s` runs from the repair request (drift check and job included) until the
/// cache step is done; `drain_s`, the outbox's own work, from the job's end.
pub async fn prime_all(api: &Api, a: PrimeArgs) -> Result<()> {
    let p = &a.project;
    api.call(
        Method::POST,
        &format!("/api/projects/{p}/cache/flush"),
        None,
        StatusCode::OK,
    )
    .await?;
    let started = Instant::now();
    let accepted = api
        .call(
            Method::POST,
            &format!("/api/projects/{p}/drift/repair"),
            None,
            StatusCode::ACCEPTED,
        )
        .await?;
    let id = accepted["job_id"].as_str().context("no job_id")?;
    let (job, ended) = wait_cache_done(api, id, Duration::from_secs(1800)).await?;
    let wall = started.elapsed().as_secs_f64();
    let drain = ended.elapsed().as_secs_f64();
    let keys = job["cache"]["operations"].as_u64().unwrap_or(0);
    println!(
        "prime project={p} keys={keys} wall_s={wall:.3} drain_s={drain:.3} keys_per_s={:.1}",
        keys as f64 / drain
    );
    Ok(())
}

/// One drift check (`GET /api/projects/{p}/drift`): every row its targets hold compared with
/// the release, and every page key read back.
pub async fn drift(api: &Api, a: PrimeArgs) -> Result<()> {
    let p = &a.project;
    let started = Instant::now();
    let report = api
        .call(
            Method::GET,
            &format!("/api/projects/{p}/drift"),
            None,
            StatusCode::OK,
        )
        .await?;
    let wall = started.elapsed().as_secs_f64();
    let count = |v: &Value| v.as_array().map_or(0, Vec::len);
    let changed: usize = report["targets"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| count(&t["changed"]))
        .sum();
    println!(
        "drift project={p} drifted={} changed={changed} stale={} expired={} wall_s={wall:.3}",
        report["drifted"],
        count(&report["cache"]["stale"]),
        count(&report["cache"]["expired"]),
    );
    Ok(())
}

pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

/// Publishes one changed page `runs` times and measures, from the API call, when Redis shows
/// it: the new value (prime) or no key (invalidate).
pub async fn visible(api: &Api, a: VisibleArgs) -> Result<()> {
    let page = api
        .call(
            Method::GET,
            &format!("/api/pages/{}", a.page),
            None,
            StatusCode::OK,
        )
        .await?;
    let key = format!("page:{}", page["slug"].as_str().context("no slug")?);
    let client = redis::Client::open(a.redis.as_str())?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut times = Vec::with_capacity(a.runs);
    for _ in 0..a.runs {
        let marker = touch_layout(api, &a.page).await?;
        if a.mode == "invalidate" {
            let _: () = redis::cmd("SET")
                .arg(&key)
                .arg("{}")
                .arg("EX")
                .arg(600)
                .query_async(&mut conn)
                .await?;
        }
        let started = Instant::now();
        api.call(
            Method::POST,
            &format!("/api/pages/{}/publish", a.page),
            Some(&json!({})),
            StatusCode::ACCEPTED,
        )
        .await?;
        let deadline = started + Duration::from_secs(60);
        loop {
            let v: Option<String> = redis::cmd("GET").arg(&key).query_async(&mut conn).await?;
            let seen = match (a.mode.as_str(), v) {
                ("invalidate", None) => true,
                ("prime", Some(v)) => v.contains(&marker),
                _ => false,
            };
            if seen {
                break;
            }
            if Instant::now() > deadline {
                bail!("{key} never showed the publish");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "visible mode={} runs={} p50_ms={:.1} p99_ms={:.1} max_ms={:.1}",
        a.mode,
        a.runs,
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times.last().copied().unwrap_or(f64::NAN)
    );
    Ok(())
}
