//! The largest page the server accepts: exactly `EDGEPUB_MAX_COMPONENTS` components, one chain
//! of them nested `EDGEPUB_MAX_DEPTH` deep, padded to just under `EDGEPUB_MAX_PAGE_BYTES` of
//! layout. Saved once, then compiled (dry run) and published, so the script can read the
//! server's peak RSS around each step.

use super::{secs, Api};
use anyhow::{bail, Context, Result};
use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Instant;

#[derive(Args)]
pub struct LimitArgs {
    #[command(flatten)]
    pub conn: super::Conn,
    #[arg(long)]
    pub project: String,
    /// The server's EDGEPUB_MAX_COMPONENTS.
    #[arg(long, default_value_t = 5_000)]
    pub components: usize,
    /// The server's EDGEPUB_MAX_DEPTH.
    #[arg(long, default_value_t = 32)]
    pub depth: usize,
    /// The server's EDGEPUB_MAX_PAGE_BYTES (serialized `layout_data`).
    #[arg(long, default_value_t = 1024 * 1024)]
    pub bytes: usize,
    /// Write the page id here.
    #[arg(long)]
    pub id_file: Option<std::path::PathBuf>,
}

fn component(i: usize, pad: &str, children: Option<Vec<Value>>) -> Value {
    let mut c = json!({
        "id": format!("c{i}"), "type": "Text",
        "props": {"text": pad},
        "stylesData": {"values": {"fontSize": 16, "color": "#111827"}},
    });
    if let Some(ch) = children {
        c["children"] = json!(ch);
    }
    c
}

/// `components` components: a chain `depth` deep first, the rest flat at the top level, each
/// carrying `pad` bytes of text.
fn layout(components: usize, depth: usize, pad: usize) -> Value {
    let text = "x".repeat(pad);
    let depth = depth.clamp(1, components.max(1));
    let mut chain: Option<Value> = None;
    for i in (0..depth).rev() {
        chain = Some(component(i, &text, chain.map(|c| vec![c])));
    }
    let mut content: Vec<Value> = chain.into_iter().collect();
    content.extend((depth..components).map(|i| component(i, &text, None)));
    json!({"content": content, "root": {"props": {"title": "Limit page"}}})
}

fn layout_bytes(v: &Value) -> usize {
    serde_json::to_vec(v).map_or(0, |b| b.len())
}

/// The padded layout closest to `max` bytes without going over it.
pub fn largest_layout(components: usize, depth: usize, max: usize) -> Result<Value> {
    let bare = layout_bytes(&layout(components, depth, 0));
    if bare > max {
        bail!("{components} components need {bare} bytes, over the {max}-byte limit");
    }
    let mut pad = (max - bare) / components.max(1);
    loop {
        let l = layout(components, depth, pad);
        if layout_bytes(&l) <= max || pad == 0 {
            return Ok(l);
        }
        pad -= 1;
    }
}

pub async fn limit_page(api: &Api, a: LimitArgs) -> Result<()> {
    let project = &a.project;
    api.call(
        Method::POST,
        "/api/projects",
        Some(&json!({"name": project, "slug": project})),
        StatusCode::CREATED,
    )
    .await?;
    let layout = largest_layout(a.components, a.depth, a.bytes)?;
    let bytes = layout_bytes(&layout);
    let body =
        json!({"slug": "limit", "name": "Limit page", "is_homepage": true, "layout_data": layout});
    let started = Instant::now();
    let page = api
        .call(
            Method::POST,
            &format!("/api/projects/{project}/pages"),
            Some(&body),
            StatusCode::CREATED,
        )
        .await?;
    let save = started.elapsed();
    let id = page["id"].as_str().context("page has no id")?;
    if let Some(file) = &a.id_file {
        std::fs::write(file, id).with_context(|| format!("writing {}", file.display()))?;
    }
    println!(
        "limit_page id={id} layout_bytes={bytes} body_bytes={} components={} depth={} save_s={}",
        body.to_string().len(),
        a.components,
        a.depth,
        secs(save)
    );
    Ok(())
}

/// One dry-run compile of the page (`POST /compile?page=`); fails on any error diagnostic (a page
/// over a limit is reported, not compiled).
pub async fn compile_page(api: &Api, project: &str, page: &str) -> Result<()> {
    let started = Instant::now();
    let report = api
        .call(
            Method::POST,
            &format!("/api/projects/{project}/compile?page={page}"),
            None,
            StatusCode::OK,
        )
        .await?;
    let wall = started.elapsed();
    if report["errors"].as_u64() != Some(0) {
        let cut: String = report["diagnostics"]
            .to_string()
            .chars()
            .take(500)
            .collect();
        bail!("the compile reported an error: {cut}");
    }
    println!("compile page={page} wall_s={}", secs(wall));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_layout_sits_at_every_limit() {
        let l = largest_layout(500, 32, 100_000).unwrap();
        let bytes = layout_bytes(&l);
        assert!(bytes <= 100_000 && bytes > 100_000 - 500, "{bytes}");
        let (count, depth) = edgepub::compile::layout_shape(&l);
        assert_eq!((count, depth), (500, 32));
    }
}
