//! Builds the server from a config, a store and an already-bound listener, so tests bind
//! port 0 and never sleep.

use crate::api::{self, error::ErrorBody, error::ErrorDetail, AppState};
use crate::clock::SharedClock;
use crate::config::Config;
use crate::domain::token::{self, Scope};
use crate::store::{Options, Store, StoreError};
use crate::telemetry::{self, Metrics};
use actix_cors::Cors;
use actix_web::dev::{Server, ServiceResponse};
use actix_web::http::{header, StatusCode};
use actix_web::middleware::{from_fn, ErrorHandlerResponse, ErrorHandlers};
use actix_web::{web, App, HttpResponse, HttpServer};
use std::net::TcpListener;
use std::sync::Arc;

/// Connects to the configured database and runs its migrations.
/// Connects, migrates and settles the secret key: the configured keys (or the key file) must
/// open every secret the database holds; a new key file is generated only for a database that
/// never had a secret sealed, so replicas sharing a database never end up with different keys.
pub async fn open_store(config: &Config, clock: SharedClock) -> Result<Store, StoreError> {
    let env_key = config.secret_key.as_ref().map(|k| k.expose());
    let existing =
        crate::secrets::existing_keyring(env_key, &config.data_dir).map_err(StoreError::Secret)?;
    // Connecting needs a keyring; nothing is sealed or opened before the real one is set.
    let provisional = existing.clone().unwrap_or_else(|| {
        crate::secrets::Keyring::new(crate::secrets::Key::generate(), Vec::new())
    });
    let opts = Options {
        max_connections: config.db_max_connections,
        acquire_timeout: std::time::Duration::from_secs(config.db_acquire_timeout_secs),
        busy_timeout: std::time::Duration::from_secs(config.db_busy_timeout_secs),
        history_limit: config.page_history_limit,
        keyring: provisional,
    };
    let store = Store::connect(config.database_url.expose(), opts, clock).await?;
    store.migrate().await?;
    let keyring = match existing {
        Some(k) => k,
        None => {
            let used = store.sealing_keys().await?;
            if !used.is_empty() {
                let ids: Vec<String> = used.into_iter().collect();
                return Err(StoreError::Secret(crate::secrets::SecretError::MissingKey(
                    ids.join(", "),
                )));
            }
            crate::secrets::create_key_file(&config.data_dir).map_err(StoreError::Secret)?
        }
    };
    store.adopt_keyring(&keyring).await?;
    let store = store.with_keyring(keyring);
    store.seal_endpoint_urls().await?;
    Ok(store)
}

/// Makes sure someone can log in: stores `EDGEPUB_ADMIN_TOKEN` when given, else creates an
/// admin token on the very first start. Returns a generated secret so the caller can show it
/// once; it is never logged.
pub async fn bootstrap_admin(store: &Store, config: &Config) -> Result<Option<String>, StoreError> {
    store.scrub_token_prefixes().await?;
    if let Some(secret) = &config.admin_token {
        store
            .insert_token(
                secret.expose(),
                "admin (EDGEPUB_ADMIN_TOKEN)",
                &[Scope::Admin],
                None,
            )
            .await?;
        return Ok(None);
    }
    if store.count_tokens().await? > 0 {
        return Ok(None);
    }
    let secret = token::generate();
    store
        .insert_token(
            &secret,
            "admin (first start)",
            &[Scope::Admin, Scope::Publish],
            None,
        )
        .await?;
    Ok(Some(secret))
}

/// The publish machinery of one process, with its own lease owner id.
pub fn publish_context(config: &Config, store: Store) -> crate::publish::PublishContext {
    crate::publish::PublishContext {
        clock: store.clock.clone(),
        store,
        css: Arc::new(crate::compile::CssCache::new()),
        compile: crate::compile::CompileOptions {
            max_layout_bytes: config.max_body_bytes.min(config.max_page_bytes),
            max_components: config.max_components,
            max_depth: config.max_depth,
        },
        targets: config.target_context(),
        owner: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        cache_wake: Arc::new(tokio::sync::Notify::new()),
        hooks_wake: Arc::new(tokio::sync::Notify::new()),
        retention_wake: Arc::new(tokio::sync::Notify::new()),
        lease: chrono::Duration::seconds(i64::try_from(config.lease_secs).unwrap_or(15)),
    }
}

/// The cache outbox worker of one process.
pub fn cache_work(
    config: &Config,
    publish: &crate::publish::PublishContext,
) -> crate::cache::outbox::CacheWork {
    crate::cache::outbox::CacheWork {
        store: publish.store.clone(),
        clock: publish.clock.clone(),
        policy: publish.targets.policy,
        timeout: std::time::Duration::from_secs(config.test_timeout_secs),
        owner: publish.owner.clone(),
        lease: publish.lease,
        backoff: crate::net::retry::Backoff {
            attempts: u32::MAX,
            base: std::time::Duration::from_millis(500),
            max: std::time::Duration::from_secs(config.cache_retry_max_secs),
        },
        hooks_wake: publish.hooks_wake.clone(),
    }
}

/// The cache clients of the request path (previews, rate limits) and the rate limiter, one
/// per process (so the in-process counts are shared by every HTTP worker).
fn request_caches(
    config: &Config,
    clock: SharedClock,
) -> (
    web::Data<crate::cache::pool::ClientPool>,
    web::Data<crate::ratelimit::RateLimiter>,
) {
    // Short: a request waits at most this long for a cache before doing without it.
    let timeout = std::time::Duration::from_secs(config.test_timeout_secs.min(2));
    let policy = crate::net::NetPolicy {
        allow_link_local: config.allow_link_local,
    };
    let clients = web::Data::new(crate::cache::pool::ClientPool::new(policy, timeout, clock));
    let limiter = crate::ratelimit::RateLimiter::new(
        crate::ratelimit::Limits::from(config),
        clients.clone().into_inner(),
        timeout,
    );
    (clients, web::Data::new(limiter))
}

pub struct Application {
    port: u16,
    server: Server,
    workers: crate::worker::Workers,
    local_files: Arc<crate::publish::targets::local_files::LocalFiles>,
    shutdown_grace: std::time::Duration,
}

impl Application {
    /// `handle_signals`: stop gracefully on SIGTERM/SIGINT (the binary); tests pass false.
    pub fn build(
        config: Config,
        store: Store,
        listener: TcpListener,
        handle_signals: bool,
    ) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let metrics = Metrics::new().map_err(std::io::Error::other)?;
        let shutdown_timeout = config.shutdown_timeout_secs;
        let http_workers = config.workers;
        let publish = Arc::new(publish_context(&config, store.clone()));
        let wake_worker = Arc::new(tokio::sync::Notify::new());
        let local_files = publish.targets.local.clone();
        let mut background = crate::worker::Workers::default();
        background.spawn(
            Arc::new(crate::publish::worker::PublishWork(publish.clone())),
            wake_worker.clone(),
            std::time::Duration::from_secs(1),
        );
        background.spawn(
            Arc::new(cache_work(&config, &publish)),
            publish.cache_wake.clone(),
            std::time::Duration::from_secs(1),
        );
        if config.release_retention > 0 {
            background.spawn(
                Arc::new(crate::publish::retention::RetentionWork {
                    store: publish.store.clone(),
                    // Its own owner: the publish worker of this process must not count as
                    // holding the lease for it (or lose its lease when pruning ends).
                    owner: format!("{}-retention", publish.owner),
                    lease: publish.lease,
                    keep: i64::try_from(config.release_retention).unwrap_or(i64::MAX),
                }),
                publish.retention_wake.clone(),
                std::time::Duration::from_secs(3600),
            );
        }
        background.spawn(
            Arc::new(crate::webhooks::delivery::DeliveryWork::new(
                publish.store.clone(),
                publish.clock.clone(),
                publish.targets.policy,
                std::time::Duration::from_secs(config.webhook_timeout_secs),
            )),
            publish.hooks_wake.clone(),
            std::time::Duration::from_secs(1),
        );
        background.spawn(
            Arc::new(crate::preview::PruneWork(store.clone())),
            Arc::new(tokio::sync::Notify::new()),
            std::time::Duration::from_secs(60),
        );
        background.spawn(
            Arc::new(crate::publish::schedule::ScheduleWork {
                store: store.clone(),
                wake_publish: wake_worker.clone(),
            }),
            Arc::new(tokio::sync::Notify::new()),
            std::time::Duration::from_secs(1),
        );
        background.spawn(
            Arc::new(crate::publish::verify::VerifyWork {
                ctx: publish.clone(),
                wake_publish: wake_worker.clone(),
            }),
            Arc::new(tokio::sync::Notify::new()),
            std::time::Duration::from_secs(1),
        );
        if config.audit_retention_days > 0 {
            background.spawn(
                Arc::new(crate::audit::prune::PruneWork::new(
                    store.clone(),
                    config.audit_retention_days,
                )),
                Arc::new(tokio::sync::Notify::new()),
                std::time::Duration::from_secs(1),
            );
        }
        let (clients, limiter) = request_caches(&config, store.clock.clone());
        let metrics_data = web::Data::new(metrics.clone());
        let state = web::Data::new(AppState {
            store,
            config: Arc::new(config),
            metrics,
            publish,
            wake_worker,
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(metrics_data.clone())
                .app_data(clients.clone())
                .app_data(limiter.clone())
                .wrap(
                    ErrorHandlers::new()
                        .handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed),
                )
                .wrap(cors(&state.config.cors_origins))
                .wrap(from_fn(api::guard::refuse_nul))
                .wrap(from_fn(telemetry::observe))
                .configure(api::configure)
        })
        .listen(listener)?
        .shutdown_timeout(shutdown_timeout);
        if let Some(n) = http_workers {
            server = server.workers(n);
        }
        if !handle_signals {
            server = server.disable_signals();
        }
        Ok(Application {
            port,
            server: server.run(),
            workers: background,
            local_files: local_files.clone(),
            shutdown_grace: std::time::Duration::from_secs(shutdown_timeout),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (`stop(true)`: gracefully, like a signal); then
    /// `run_until_stopped` stops the workers and returns. Tests use it to take a process down.
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped; on a signal, in-flight requests finish first, then the publish
    /// job in hand (within the shutdown timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        self.workers.stop(self.shutdown_grace).await;
        // After the workers: nothing writes the files any more, so each closes clean.
        self.local_files.close_all().await;
        result
    }
}

fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            telemetry::REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            telemetry::REQUEST_ID,
            header::RETRY_AFTER,
            header::HeaderName::from_static("ratelimit-limit"),
            header::HeaderName::from_static("ratelimit-remaining"),
            header::HeaderName::from_static("ratelimit-reset"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let body = ErrorBody {
        error: ErrorDetail {
            code: "method_not_allowed".into(),
            message: "this route does not accept that method".into(),
            details: serde_json::Value::Null,
        },
    };
    let (req, _) = res.into_parts();
    let allow = req
        .match_pattern()
        .and_then(|p| api::routes::allowed_methods(&p))
        .unwrap_or_else(|| "GET".into());
    let res = ServiceResponse::new(
        req,
        HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, allow))
            .json(body),
    );
    Ok(ErrorHandlerResponse::Response(res.map_into_right_body()))
}
