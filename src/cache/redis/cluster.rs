//! Pipelines on a Redis Cluster: a pipeline must stay within one slot, so commands are grouped
//! by the slot of their key and each group goes out as one pipeline to that slot's master,
//! all groups at once; replies come back in the callers' order.

use super::convert::{redis_error, to_cmd, to_reply};
use crate::cache::{Cmd, Reply};
use crate::net::ConnError;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, SingleNodeRoutingInfo, SlotAddr};
use redis::Value;
use std::collections::HashMap;

/// Commands whose first argument is their only key.
const KEYED: &[&str] = &[
    "GET", "SET", "UNLINK", "DEL", "TTL", "PTTL", "EXPIRE", "INCR", "EXISTS", "STRLEN",
];

fn route(c: &Cmd) -> SingleNodeRoutingInfo {
    let name =
        c.0.first()
            .map(|n| n.to_ascii_uppercase())
            .unwrap_or_default();
    match c.0.get(1) {
        Some(key) if KEYED.contains(&name.as_str()) => {
            SingleNodeRoutingInfo::SpecificNode(Route::with_key(key, SlotAddr::Master))
        }
        _ => SingleNodeRoutingInfo::RandomPrimary,
    }
}

fn route_key(r: &SingleNodeRoutingInfo) -> Option<Route> {
    match r {
        SingleNodeRoutingInfo::SpecificNode(route) => Some(*route),
        _ => None,
    }
}

pub(super) async fn exec_by_slot(
    conn: &ClusterConnection,
    cmds: &[Cmd],
) -> Result<Vec<Reply>, ConnError> {
    // Keyed commands grouped by slot; the others each on their own.
    let mut groups: HashMap<Route, Vec<usize>> = HashMap::new();
    let mut single: Vec<usize> = Vec::new();
    for (i, c) in cmds.iter().enumerate() {
        match route_key(&route(c)) {
            Some(r) => groups.entry(r).or_default().push(i),
            None => single.push(i),
        }
    }
    let batches = groups.into_iter().map(|(r, idx)| {
        let mut conn = conn.clone();
        let mut pipe = redis::pipe();
        for &i in &idx {
            pipe.add_command(to_cmd(&cmds[i]));
        }
        // Per-command errors come back as values instead of failing the whole pipeline.
        pipe.ignore_errors();
        async move {
            let n = idx.len();
            let values = conn
                .route_pipeline(pipe, 0, n, SingleNodeRoutingInfo::SpecificNode(r))
                .await;
            (idx, values)
        }
    });
    let singles = single.into_iter().map(|i| {
        let mut conn = conn.clone();
        let cmd = to_cmd(&cmds[i]);
        async move {
            (
                vec![i],
                cmd.query_async::<Value>(&mut conn).await.map(|v| vec![v]),
            )
        }
    });
    let mut out: Vec<Reply> = vec![Reply::Nil; cmds.len()];
    let (batches, singles) = futures_util::future::join(
        futures_util::future::join_all(batches),
        futures_util::future::join_all(singles),
    )
    .await;
    for (idx, values) in batches.into_iter().chain(singles) {
        match values {
            Ok(values) => {
                for (i, v) in idx.into_iter().zip(values) {
                    out[i] = to_reply(v);
                }
            }
            Err(e) if e.code().is_some() => {
                for i in idx {
                    out[i] = Reply::Error(e.to_string());
                }
            }
            Err(e) => return Err(redis_error(&e)),
        }
    }
    Ok(out)
}
