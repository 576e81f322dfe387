//! Built-in Upstash-compatible REST proxy in front of a plain Redis.
//!
//! Edges that can only speak HTTP (and the official `@upstash/redis` SDK) talk to Redis
//! through this proxy, the way serverless-redis-http lets them talk to a self-hosted Redis.
//!
//! Wire format (Upstash REST):
//! * `POST /` with `["SET","k","v","EX",60]` → `{"result": ...}` or 400 `{"error": "..."}`;
//! * `POST /pipeline` with `[[...],[...]]` → `[{"result": ...}, {"error": "..."}, ...]`,
//!   one answer per command, a failing command not stopping the others;
//! * `POST /multi-exec` → the same, inside MULTI/EXEC; an aborted transaction is one 400;
//! * `GET|POST /{command}/{arg}/...` → as `POST /`, a POST body being the last argument;
//! * `GET /` and `GET /health` → `{"status":"ok"}` when Redis answers PING (no token needed).
//!
//! Auth is `Authorization: Bearer <token>` or `?_token=<token>`; anything else is 401.
//! `Upstash-Encoding: base64` makes every string in a result base64 (see `encode.rs` for the exact rules).
//! Every answer, including errors, is JSON.
//!
//! Use [`build`] to run the proxy as its own server, or [`ProxyState::connect`] plus
//! [`configure`] to mount it in an existing actix `App` (for instance under a scope).

mod auth;
mod backend;
mod body;
mod command;
mod config;
mod encode;
mod error;
mod handlers;
mod policy;
mod scope;

pub use scope::tenant_token;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{web, App, HttpRequest, HttpServer};

pub use config::{
    ProxyConfig, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_PIPELINE_COMMANDS,
};
pub use error::ProxyError;

use auth::TokenDigest;
use backend::Backend;

/// Long enough for in-flight commands (bounded by the Redis response timeout) to finish.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

/// What the handlers share: the Redis connection, the token digest and the limits.
///
/// Register it as `web::Data<ProxyState>` next to [`configure`].
#[derive(Clone)]
pub struct ProxyState {
    backend: Backend,
    token: TokenDigest,
    /// The token itself, only as the key tenant tokens are checked with.
    mac_key: String,
    max_body_bytes: usize,
    max_pipeline_commands: usize,
    pub(crate) allow_commands: Vec<String>,
}

impl ProxyState {
    /// Checks the configuration and connects to Redis once.
    pub async fn connect(config: &ProxyConfig) -> Result<Self, ProxyError> {
        validate(config)?;
        let backend = Backend::connect(config).await?;
        Ok(Self {
            backend,
            token: TokenDigest::new(&config.token),
            mac_key: config.token.clone(),
            max_body_bytes: config.max_body_bytes,
            max_pipeline_commands: config.max_pipeline_commands,
            allow_commands: config.allow_commands.clone(),
        })
    }

    /// The proxy's own token opens everything; a tenant token its tenant's keys.
    fn authorize(&self, req: &HttpRequest) -> Result<scope::Access, ProxyError> {
        if self.token.authorizes(req) {
            return Ok(scope::Access::All);
        }
        auth::presented(req)
            .and_then(|t| scope::tenant_of(&self.mac_key, &t))
            .map(scope::Access::Tenant)
            .ok_or(ProxyError::Unauthorized)
    }

    /// Why `cmd` may not run for `access`: outside a tenant's keys, or refused to everyone.
    fn refusal(&self, access: &scope::Access, cmd: &command::Command) -> Option<String> {
        if let scope::Access::Tenant(tenant) = access {
            if let Some(reason) = scope::refusal(tenant, cmd) {
                return Some(reason);
            }
        }
        policy::refusal(cmd, &self.allow_commands)
    }
}

impl std::fmt::Debug for ProxyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the token digest nor the connection details belong in logs.
        f.debug_struct("ProxyState")
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_pipeline_commands", &self.max_pipeline_commands)
            .finish_non_exhaustive()
    }
}

/// Registers the proxy routes; the app must also carry `web::Data<ProxyState>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let not_allowed = || web::to(handlers::method_not_allowed);
    cfg.service(
        web::resource("/")
            .route(web::post().to(handlers::single))
            .route(web::get().to(handlers::health))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/health")
            .route(web::get().to(handlers::health))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/pipeline")
            .route(web::post().to(handlers::pipeline))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/multi-exec")
            .route(web::post().to(handlers::multi_exec))
            .default_service(not_allowed()),
    )
    .service(
        web::resource("/{path:.+}")
            .route(web::get().to(handlers::path_form))
            .route(web::post().to(handlers::path_form))
            .default_service(not_allowed()),
    );
}

/// Connects to Redis, then serves the proxy on `listener`.
///
/// Returns the bound port (useful with port 0) and the server, which runs once awaited or
/// spawned. With `handle_signals` false the caller stops it through `Server::handle()`.
pub async fn build(
    config: ProxyConfig,
    listener: TcpListener,
    handle_signals: bool,
) -> Result<(u16, Server), ProxyError> {
    let port = listener.local_addr()?.port();
    let state = web::Data::new(ProxyState::connect(&config).await?);
    let mut server =
        HttpServer::new(move || App::new().app_data(state.clone()).configure(configure))
            .max_connections(config.max_connections)
            .shutdown_timeout(SHUTDOWN_TIMEOUT.as_secs())
            .listen(listener)?;
    if !handle_signals {
        server = server.disable_signals();
    }
    tracing::info!(
        port,
        redis = %config::redact_url(&config.redis_url),
        "Upstash-compatible REST proxy listening"
    );
    Ok((port, server.run()))
}

fn validate(config: &ProxyConfig) -> Result<(), ProxyError> {
    // An empty token would let `Authorization: Bearer ` through on some clients.
    if config.token.trim().is_empty() {
        return Err(ProxyError::Config("token must not be empty".into()));
    }
    for (name, value) in [
        ("max_body_bytes", config.max_body_bytes),
        ("max_pipeline_commands", config.max_pipeline_commands),
        ("max_connections", config.max_connections),
    ] {
        if value == 0 {
            return Err(ProxyError::Config(format!("{name} must be at least 1")));
        }
    }
    Ok(())
}
