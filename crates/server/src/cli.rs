//! The command line: `serve`, `migrate` and `api-keys`. Every command reads the same
//! configuration as `serve`. Results go to stdout (scriptable); logs go to stderr.

use std::{io::Write, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use plugboard_store::EnvironmentName;
use tokio::net::TcpListener;

use crate::{AppState, config::Config, events::format_time, open_store};

/// Plugboard: a self-hosted Connect service, wire-compatible with the Kombo Connect API.
#[derive(Debug, Parser)]
#[command(name = "plugboard", version, about)]
pub struct Cli {
    /// A TOML file with configuration keys (listen, data_dir, database_url, public_url,
    /// master_key, log, log_format, product_name, tool_base_urls, frame_ancestors_production,
    /// frame_ancestors_development); PLUGBOARD_* environment variables override it.
    #[arg(long, global = true, env = "PLUGBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (migrating the database first).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
}

/// `plugboard api-keys …`.
#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key and print only the key on stdout. It is shown this once.
    Create {
        /// The environment the key acts in.
        #[arg(long, value_enum)]
        environment: EnvironmentArg,
        /// A label to recognise the key by.
        #[arg(long)]
        name: String,
    },
    /// List keys (never the keys themselves).
    List {
        /// Only keys of this environment.
        #[arg(long, value_enum)]
        environment: Option<EnvironmentArg>,
    },
    /// Revoke a key by its id (from `list`).
    Revoke {
        /// The key's id.
        id: String,
    },
}

/// An environment on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum EnvironmentArg {
    /// Production.
    Production,
    /// Development.
    Development,
}

impl From<EnvironmentArg> for EnvironmentName {
    fn from(arg: EnvironmentArg) -> Self {
        match arg {
            EnvironmentArg::Production => Self::Production,
            EnvironmentArg::Development => Self::Development,
        }
    }
}

/// Runs a parsed command line with validated configuration.
pub async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.migrate().await.context("applying migrations")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ApiKeys(command) => api_keys(command, config).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (PLUGBOARD_LISTEN)", config.listen))?;
    crate::run(config, listener, shutdown_signal()).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

async fn api_keys(command: ApiKeysCommand, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    let mut out = std::io::stdout().lock();
    match command {
        ApiKeysCommand::Create { environment, name } => {
            let (_, key) = state.create_api_key(environment.into(), &name).await?;
            writeln!(out, "{key}")?;
        }
        ApiKeysCommand::List { environment } => {
            let filter = environment.map(|env| state.environments.get(env.into()).id.clone());
            writeln!(
                out,
                "{:<24}  {:<11}  {:<14}  {:<24}  {:<24}  NAME",
                "ID", "ENVIRONMENT", "KEY", "CREATED", "REVOKED"
            )?;
            for key in state.store.list_api_keys(filter.as_deref()).await? {
                let environment = state
                    .environments
                    .by_id(&key.environment_id)
                    .map_or("?", |env| env.name.as_str());
                let revoked = key.revoked_at.map_or_else(|| "-".to_owned(), format_time);
                writeln!(
                    out,
                    "{:<24}  {:<11}  {:<14}  {:<24}  {:<24}  {}",
                    key.id,
                    environment,
                    format!("{}…", key.prefix),
                    format_time(key.created_at),
                    revoked,
                    key.name
                )?;
            }
        }
        ApiKeysCommand::Revoke { id } => {
            if !state.revoke_api_key(&id).await? {
                anyhow::bail!("no active API key has id {id:?} (see `plugboard api-keys list`)");
            }
            tracing::info!(key_id = %id, "API key revoked");
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}
