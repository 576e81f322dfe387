//! The soak's checks after the load: did every job (and its cache step) end, did every event
//! arrive, is every acknowledged save in its page's history; and the report.

use super::receiver;
use super::Api;
use anyhow::Result;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// How long the checks wait for jobs still going on after the load.
const SETTLE: Duration = Duration::from_secs(300);
/// How long they wait for events still owed once every job ended.
const EVENTS: Duration = Duration::from_secs(120);

/// Jobs by final state and cache steps by status, as last seen.
#[derive(Default)]
pub struct Ended {
    pub jobs: usize,
    pub states: BTreeMap<String, u64>,
    pub cache: BTreeMap<String, u64>,
    /// Jobs whose state or cache step had not ended when the wait gave up.
    pub unended: Vec<String>,
}

fn job_over(j: &Value) -> bool {
    let state = j["state"].as_str().unwrap_or("");
    let cache = j["cache"]["status"].as_str();
    matches!(state, "succeeded" | "partial" | "failed")
        && !matches!(cache, Some("pending" | "retrying"))
}

/// Polls every job until it and its cache step ended (bounded by [`SETTLE`]).
pub async fn jobs_ended(api: &Api, ids: &[String]) -> Ended {
    let deadline = Instant::now() + SETTLE;
    let mut last: HashMap<&str, Value> = HashMap::new();
    loop {
        for id in ids {
            if last.get(id.as_str()).is_some_and(job_over) {
                continue;
            }
            let path = format!("/api/publish-jobs/{id}");
            if let Ok(j) = api.call(Method::GET, &path, None, StatusCode::OK).await {
                last.insert(id, j);
            }
        }
        let open = ids
            .iter()
            .filter(|id| !last.get(id.as_str()).is_some_and(job_over))
            .count();
        if open == 0 || Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let mut e = Ended {
        jobs: ids.len(),
        ..Default::default()
    };
    for id in ids {
        let j = last.get(id.as_str()).cloned().unwrap_or(Value::Null);
        *e.states
            .entry(j["state"].as_str().unwrap_or("unknown").into())
            .or_default() += 1;
        let step = j["cache"]["status"].as_str().unwrap_or("none").to_string();
        *e.cache.entry(step).or_default() += 1;
        if !job_over(&j) {
            e.unended.push(id.clone());
        }
    }
    e
}

/// Waits (bounded) until one end event per ended job arrived, and a `publish.cache_done` per
/// cache step that ended; the distinct events received by type.
pub async fn events_settled(received: &receiver::Shared, ended: &Ended) -> BTreeMap<String, u64> {
    let ends = ["publish.succeeded", "publish.partial", "publish.failed"];
    let want_ends = ended.jobs as u64;
    let want_cache: u64 = ["done", "failed", "skipped"]
        .iter()
        .filter_map(|s| ended.cache.get(*s))
        .sum();
    let deadline = Instant::now() + EVENTS;
    loop {
        let by_type = received
            .lock()
            .map(|r| r.by_type.clone())
            .unwrap_or_default();
        let got_ends: u64 = ends.iter().filter_map(|t| by_type.get(*t)).sum();
        let got_cache = by_type.get("publish.cache_done").copied().unwrap_or(0);
        if (got_ends >= want_ends && got_cache >= want_cache) || Instant::now() >= deadline {
            let mut out = by_type;
            let requests = received.lock().map(|r| r.requests).unwrap_or(0);
            out.insert("(requests, redeliveries included)".into(), requests);
            return out;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Acknowledged saves not found in their page's history with their marker, and pages whose
/// current version is below their last acknowledged one.
pub async fn lost_saves(
    api: &Api,
    ids: &[String],
    acked: &[(usize, i64, String)],
) -> Result<Vec<String>> {
    let mut lost = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut names: HashMap<i64, String> = HashMap::new();
        let mut offset = 0;
        loop {
            let path = format!("/api/pages/{id}/versions?limit=500&offset={offset}");
            let list = api.call(Method::GET, &path, None, StatusCode::OK).await?;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            for v in &items {
                if let (Some(n), Some(name)) = (v["version"].as_i64(), v["name"].as_str()) {
                    names.insert(n, name.to_string());
                }
            }
            offset += 500;
            if items.is_empty() || offset >= list["total"].as_i64().unwrap_or(0) {
                break;
            }
        }
        let page = api
            .call(
                Method::GET,
                &format!("/api/pages/{id}"),
                None,
                StatusCode::OK,
            )
            .await?;
        let current = page["version"].as_i64().unwrap_or(0);
        let mut highest = 0;
        for (_, version, marker) in acked.iter().filter(|a| a.0 == i) {
            highest = highest.max(*version);
            if names.get(version) != Some(marker) {
                lost.push(format!(
                    "page {i} version {version} ({marker}): history has {:?}",
                    names.get(version)
                ));
            }
        }
        if current < highest {
            lost.push(format!(
                "page {i}: current version {current} below acknowledged {highest}"
            ));
        }
    }
    Ok(lost)
}

pub fn report(
    load_s: f64,
    answers: &BTreeMap<(String, String), u64>,
    ended: &Ended,
    events: &BTreeMap<String, u64>,
    acked: usize,
    lost: &[String],
) {
    let total: u64 = answers.values().sum();
    let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
    for ((_, status), n) in answers {
        *by_status.entry(status.as_str()).or_default() += n;
    }
    let ok: u64 = by_status
        .iter()
        .filter(|(s, _)| s.starts_with('2'))
        .map(|(_, n)| n)
        .sum();
    println!(
        "load: {load_s:.0} s, {total} requests ({:.1}/s), {ok} answered 2xx",
        total as f64 / load_s.max(1.0)
    );
    println!("answers by status: {by_status:?}");
    for ((route, status), n) in answers.iter().filter(|((_, s), _)| !s.starts_with('2')) {
        println!("  not 2xx: {route} -> {status}: {n}");
    }
    let server_errors: u64 = by_status
        .iter()
        .filter(|(s, _)| s.starts_with('5'))
        .map(|(_, n)| n)
        .sum();
    let five_hundreds = by_status.get("500").copied().unwrap_or(0);
    println!(
        "5xx: {server_errors} (500: {five_hundreds}); no HTTP answer: {}",
        by_status.get("conn").copied().unwrap_or(0)
    );
    println!(
        "jobs: {} accepted; by state {:?}; cache steps {:?}",
        ended.jobs, ended.states, ended.cache
    );
    println!(
        "jobs not ended after the wait: {} {:?}",
        ended.unended.len(),
        ended.unended
    );
    println!("webhook events received (distinct): {events:?}");
    println!("acknowledged saves: {acked}; lost: {}", lost.len());
    for l in lost.iter().take(20) {
        println!("  lost: {l}");
    }
}
