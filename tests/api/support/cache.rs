//! edgepub's own Upstash-compatible proxy in front of the test Redis.

use super::redis_url;

/// edgepub's own Upstash-compatible proxy in front of the test Redis; returns its URL.
pub async fn start_proxy(token: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let (port, server) = edgepub::proxy::build(
        edgepub::proxy::ProxyConfig::new(redis_url(), token),
        listener,
        false,
    )
    .await
    .expect("proxy");
    tokio::spawn(server);
    format!("http://127.0.0.1:{port}")
}
