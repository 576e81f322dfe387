//! The `edgepub` command line: flags and dispatch here; each command family in its own file.

mod admin;
mod proxy;
mod publish;

use admin::{rotate_key, token_command};
use proxy::{proxy_config, standalone_proxy, start_proxy};

use crate::api::openapi;
use crate::clock;
use crate::config::{Config, LogFormat};
use crate::domain::token::{self, Scope};
use crate::proxy::ProxyConfig;
use crate::startup::{bootstrap_admin, open_store, Application};
use crate::store::Store;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "edgepub",
    version,
    about = "Publish backend for visual site builders"
)]
pub struct Cli {
    /// TOML config file (default: ./edgepub.toml when present). Env vars override it.
    #[arg(long, global = true, env = "EDGEPUB_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format, overriding EDGEPUB_LOG_FORMAT: pretty or json.
    #[arg(long, global = true, value_parser = ["pretty", "json"])]
    pub log_format: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (migrates the database first).
    Serve,
    /// Run database migrations and exit.
    Migrate,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Run only the Upstash-compatible REST proxy in front of a Redis (for self-hosted edges).
    RedisProxy {
        /// Address to listen on [env: EDGEPUB_PROXY_LISTEN; default 127.0.0.1:8079]
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// The Redis behind the proxy [env: REDIS_URL; default redis://127.0.0.1:6379]
        #[arg(long)]
        redis_url: Option<String>,
        /// Bearer token clients must present [env: EDGEPUB_PROXY_TOKEN]
        #[arg(long)]
        token: Option<String>,
    },
    /// Publish a project: enqueue a job and, with --wait, run it here with a progress bar
    /// (exit status 1 when it fails). Cooperates with running servers through the lease.
    Publish {
        /// Project slug or UUID.
        #[arg(long)]
        project: String,
        /// Rewrite and re-version every page.
        #[arg(long)]
        force: bool,
        /// Wait until the job ends, showing progress.
        #[arg(long)]
        wait: bool,
    },
    /// Compare every enabled target and the cache with the last release; print the report
    /// (JSON) and exit 1 when anything drifted. The latest scheduled pass is named on stderr.
    Verify {
        /// Project slug or UUID.
        #[arg(long)]
        project: String,
        /// Check nothing: print the latest scheduled pass (as `GET …/verification` shows it)
        /// and exit 1 when it found drift or none ran yet.
        #[arg(long)]
        last: bool,
    },
    /// Manage the key that seals secrets at rest.
    #[command(subcommand)]
    Secrets(SecretsCommand),
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-seal every stored secret under a new key. With a key file (the default) a new key is
    /// generated; with EDGEPUB_SECRET_KEY pass the new key and then switch the variable to it.
    RotateKey {
        /// The new key (32 bytes, base64 or hex), required when EDGEPUB_SECRET_KEY is set.
        #[arg(long, env = "EDGEPUB_NEW_SECRET_KEY", hide_env_values = true)]
        new_key: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print its secret (shown only once) on stdout.
    Create {
        #[arg(long)]
        name: String,
        /// admin, publish or edge; repeat or separate with commas.
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<Scope>,
        /// Limit the token to one project (UUID or slug).
        #[arg(long)]
        project: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id, or every token with that name.
    Revoke { id_or_name: String },
}

impl clap::ValueEnum for Scope {
    fn value_variants<'a>() -> &'a [Self] {
        &[Scope::Admin, Scope::Publish, Scope::Edge]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.as_str()))
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        print!("{}", openapi::document());
        return ExitCode::SUCCESS;
    }
    if let Command::RedisProxy {
        listen,
        redis_url,
        token,
    } = cli.command
    {
        return standalone_proxy(cli.config.as_deref(), listen, redis_url, token);
    }
    let config = match Config::load(cli.config.as_deref()) {
        Ok(mut c) => {
            if let Some(format) = cli.log_format.as_deref() {
                c.log_format = if format == "json" {
                    LogFormat::Json
                } else {
                    LogFormat::Pretty
                };
            }
            c
        }
        Err(e) => {
            eprintln!("edgepub: {e}");
            return ExitCode::from(2);
        }
    };
    crate::telemetry::init(config.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("edgepub: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("edgepub: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    // Only these two may create a database; any other command run from the wrong directory
    // would otherwise work on a new, empty one.
    let create = matches!(command, Command::Serve | Command::Migrate);
    crate::preflight::check(&config, create).await?;
    let store = open_store(&config, clock::system()).await?;
    let result = match command {
        Command::Serve => serve(config, store.clone()).await,
        Command::Migrate => {
            eprintln!("edgepub: {} database is migrated", store.backend());
            Ok(())
        }
        Command::Token(t) => token_command(&store, t).await,
        Command::Openapi | Command::RedisProxy { .. } => Ok(()),
        Command::Publish {
            project,
            force,
            wait,
        } => publish::publish(&config, &store, &project, force, wait).await,
        Command::Verify { project, last } => publish::verify(&config, &store, &project, last).await,
        Command::Secrets(SecretsCommand::RotateKey { new_key }) => {
            rotate_key(&config, &store, new_key).await
        }
    };
    store.close().await;
    result
}

async fn serve(config: Config, store: Store) -> anyhow::Result<()> {
    // Bound before the first admin token is made: a start that cannot listen must not use up
    // the one time that token is shown.
    let listener = std::net::TcpListener::bind(config.listen).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {}: {e} (set EDGEPUB_LISTEN to another address)",
            config.listen
        )
    })?;
    if let Some(secret) = bootstrap_admin(&store, &config).await? {
        println!("edgepub: created an admin API token. It is shown only this once; keep it safe:");
        println!("\n    {secret}\n");
    }
    tracing::info!(address = %config.listen, database = store.backend(), "edgepub listening");
    if store.backend() == "postgres" {
        if let Ok(n @ 1..) = store.enabled_local_targets().await {
            tracing::warn!(
                local_targets = n,
                "local publish targets on a shared Postgres: every replica must see the same EDGEPUB_PAGES_ROOT (a shared volume), or publish to Turso or a push edge"
            );
        }
    }
    let proxy = match proxy_config(&config, None, None)? {
        Some((addr, pc)) => Some(start_proxy(addr, pc, true).await?),
        None => None,
    };
    let app = Application::build(config, store, listener, true)?;
    match proxy {
        // Both stop on the same signal; wait for both so neither is cut off mid-request.
        Some(proxy) => {
            let (api, proxy) = tokio::join!(app.run_until_stopped(), proxy);
            api?;
            proxy?;
        }
        None => app.run_until_stopped().await?,
    }
    tracing::info!("edgepub stopped");
    Ok(())
}
