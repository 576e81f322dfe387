//! A webhook receiver for the soak: a loopback HTTP/1.1 server that reads each POST whole,
//! answers 204 and keeps the distinct `webhook-id`s by event type, so redeliveries after an
//! outage are counted once.

use anyhow::Result;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Default)]
pub struct Received {
    ids: HashSet<String>,
    /// Distinct events by type.
    pub by_type: BTreeMap<String, u64>,
    /// Requests, redeliveries included.
    pub requests: u64,
}

pub type Shared = Arc<Mutex<Received>>;

/// Binds a free loopback port; returns it and the counts the server fills.
pub async fn start() -> Result<(u16, Shared)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let shared: Shared = Arc::default();
    let counts = shared.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let counts = counts.clone();
            tokio::spawn(async move {
                // A broken request is the sender's to retry; nothing to count.
                let _ = serve(stream, &counts).await;
            });
        }
    });
    Ok((port, shared))
}

async fn serve(mut stream: TcpStream, counts: &Shared) -> Result<()> {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        anyhow::ensure!(buf.len() < 64 * 1024, "headers too long");
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            l.strip_prefix(name)?
                .strip_prefix(':')
                .map(|v| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    anyhow::ensure!(length <= 4 * 1024 * 1024, "body too large");
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await?;
        anyhow::ensure!(n > 0, "body cut short");
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: serde_json::Value =
        serde_json::from_slice(&buf[head_end..head_end + length]).unwrap_or_default();
    let kind = body["type"].as_str().unwrap_or("?").to_string();
    if let Ok(mut c) = counts.lock() {
        c.requests += 1;
        if c.ids.insert(header("webhook-id").unwrap_or_default()) {
            *c.by_type.entry(kind).or_default() += 1;
        }
    }
    stream
        .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .await?;
    Ok(())
}
