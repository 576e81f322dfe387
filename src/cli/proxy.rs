//! Starting the Upstash-compatible proxy, with `serve` or on its own.

use super::*;

/// The proxy's settings from flags and config; `None` when no listen address is configured.
pub(super) fn proxy_config(
    config: &Config,
    redis_url: Option<String>,
    token: Option<String>,
) -> anyhow::Result<Option<(std::net::SocketAddr, ProxyConfig)>> {
    let Some(addr) = config.proxy_listen else {
        return Ok(None);
    };
    let redis_url = redis_url
        .or_else(|| config.redis_url.as_ref().map(|s| s.expose().to_string()))
        .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
    let token = token
        .or_else(|| config.proxy_token.as_ref().map(|s| s.expose().to_string()))
        .ok_or_else(|| {
            anyhow::anyhow!("the proxy needs a token: set EDGEPUB_PROXY_TOKEN or pass --token")
        })?;
    let mut pc = ProxyConfig::new(redis_url, token);
    pc.allow_commands = config.proxy_allow_commands.clone();
    Ok(Some((addr, pc)))
}

pub(super) async fn start_proxy(
    addr: std::net::SocketAddr,
    pc: ProxyConfig,
    signals: bool,
) -> anyhow::Result<actix_web::dev::Server> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    let (port, server) = crate::proxy::build(pc, listener, signals).await?;
    tracing::info!(address = %addr.ip(), port, "Upstash-compatible Redis proxy listening");
    Ok(server)
}

pub(super) fn standalone_proxy(
    file: Option<&std::path::Path>,
    listen: Option<std::net::SocketAddr>,
    redis_url: Option<String>,
    token: Option<String>,
) -> ExitCode {
    let mut config = match Config::load(file) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("edgepub: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_format);
    config.proxy_listen = listen
        .or(config.proxy_listen)
        .or(Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8079))));
    let run = async {
        let (addr, pc) = proxy_config(&config, redis_url, token)?
            .ok_or_else(|| anyhow::anyhow!("no listen address"))?;
        start_proxy(addr, pc, true).await?.await?;
        anyhow::Ok(())
    };
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|rt| rt.block_on(run));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgepub: {e:#}");
            ExitCode::FAILURE
        }
    }
}
