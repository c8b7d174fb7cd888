//! The command line: `serve`, `worker`, `migrate`, `api-keys`, `webhooks`, `oauth-apps`,
//! `operators`, `keys` and `default-config`. Every command reads the same configuration as `serve`. Results go to
//! stdout (scriptable); logs go to stderr. The operator's commands live one file per group
//! (`api_keys.rs`, `webhooks.rs`, `oauth_apps.rs`, `operators.rs`, `keys.rs`), one function per subcommand, and call the same
//! operations as the API, as the operator (`audit::Caller::cli`).

use std::{io::Write, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use plugboard_store::EnvironmentName;
use tokio::net::TcpListener;

use crate::{AppState, config::Config, error::DomainError, open_store};

mod api_keys;
mod keys;
mod oauth_apps;
mod operators;
mod webhooks;

/// Plugboard: a self-hosted Connect service, wire-compatible with the Kombo Connect API.
#[derive(Debug, Parser)]
#[command(name = "plugboard", version, about)]
pub struct Cli {
    /// A TOML file of configuration keys (see `plugboard default-config`): each PLUGBOARD_*
    /// variable in lower case without the prefix. PLUGBOARD_* environment variables override it.
    #[arg(long, global = true, env = "PLUGBOARD_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API, the hosted flow and the webhook worker (migrating the database first).
    Serve {
        /// Also serve a demo customer app at `/` that shows the whole loop: it creates and
        /// prints a development API key and points a webhook endpoint at its inbox.
        #[arg(long)]
        demo: bool,
    },
    /// Run only the webhook worker, the connection checker and retention (to scale them out;
    /// several may share one PostgreSQL).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Add, list and remove webhook endpoints.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Save, list and remove the OAuth apps end users sign in to tools with.
    #[command(subcommand)]
    OauthApps(OauthAppsCommand),
    /// Create, list, disable, enable and reset the dashboard's operators.
    #[command(subcommand)]
    Operators(OperatorsCommand),
    /// Rotate the master key: generate one, re-seal stored secrets under it, show progress.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Print every configuration key with its default and what it does, as a TOML file that
    /// `--config` reads.
    DefaultConfig,
}

/// `plugboard keys …`. See docs/security.md for the whole rotation.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Print a new random master key (base64 of 32 bytes) on stdout.
    Generate,
    /// Count the stored secrets sealed with each master key.
    Status,
    /// Re-seal every stored secret under PLUGBOARD_MASTER_KEY, opening old ones with
    /// PLUGBOARD_PREVIOUS_MASTER_KEYS. Online: servers keep serving. Safe to run again.
    Rotate {
        /// Secrets re-sealed per batch.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        batch_size: u32,
    },
}

/// `plugboard webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Add an endpoint and print only its signing secret on stdout. It is shown this once.
    Add {
        /// The environment whose events it receives.
        #[arg(long, value_enum)]
        environment: EnvironmentArg,
        /// Where events are posted.
        #[arg(long)]
        url: String,
        /// Event types to receive, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
    },
    /// List endpoints (never their secrets).
    List {
        /// Only endpoints of this environment.
        #[arg(long, value_enum)]
        environment: Option<EnvironmentArg>,
    },
    /// Remove an endpoint, with its delivery log, by its id (from `list`).
    Remove {
        /// The endpoint's id.
        id: String,
    },
}

/// `plugboard oauth-apps …`.
#[derive(Debug, Subcommand)]
pub enum OauthAppsCommand {
    /// Save a new revision of a tool's OAuth app, reading the client secret from stdin (one
    /// line; never an argument, which `ps` would show). Prints the revision and the redirect
    /// URI to register at the vendor.
    Set {
        /// The catalog tool, e.g. `gusto` (`list` shows which tools have OAuth sign-in).
        tool: String,
        /// The environment whose end users sign in with it.
        #[arg(long, value_enum)]
        environment: EnvironmentArg,
        /// The client id the vendor issued.
        #[arg(long)]
        client_id: String,
        /// A scope to request instead of the catalog's defaults; repeat for several.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// A value the tool's sign-in URLs need of the app, as `name=value` (Rippling's
        /// `app_name=…`); repeat for several.
        #[arg(long = "setting", value_name = "NAME=VALUE", value_parser = parse_setting)]
        settings: Vec<(String, String)>,
    },
    /// List the tools with OAuth sign-in and the environment's app for each (never secrets).
    List {
        /// The environment to show.
        #[arg(long, value_enum)]
        environment: EnvironmentArg,
    },
    /// Remove a tool's OAuth app: its end users can no longer sign in to it, while existing
    /// integrations keep refreshing with their revision.
    Remove {
        /// The catalog tool.
        tool: String,
        /// The environment to remove it from.
        #[arg(long, value_enum)]
        environment: EnvironmentArg,
    },
}

/// A `--setting name=value`.
fn parse_setting(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .ok_or_else(|| format!("{text:?} is not name=value"))
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

/// `plugboard operators …`: the people who sign in to `/dashboard`.
#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Create an operator and print a one-time sign-in link (valid three days) with which they
    /// choose a password. Send it to them privately.
    Create {
        /// The address they sign in with.
        #[arg(long)]
        email: String,
        /// What they may do: `admin` changes things, `viewer` only looks.
        #[arg(long, value_enum, default_value = "admin")]
        role: RoleArg,
    },
    /// List operators (never passwords).
    List,
    /// Disable an operator (by e-mail address or id): their sessions end at once.
    Disable {
        /// The operator's e-mail address or id.
        operator: String,
    },
    /// Enable a disabled operator again.
    Enable {
        /// The operator's e-mail address or id.
        operator: String,
    },
    /// Forget an operator's password, end their sessions and print a new one-time sign-in
    /// link (a forgotten password, a lost laptop).
    Reset {
        /// The operator's e-mail address or id.
        operator: String,
    },
}

/// An operator's role on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RoleArg {
    /// Sees and changes everything.
    Admin,
    /// Sees everything, changes nothing.
    Viewer,
}

impl From<RoleArg> for plugboard_store::OperatorRole {
    fn from(arg: RoleArg) -> Self {
        match arg {
            RoleArg::Admin => Self::Admin,
            RoleArg::Viewer => Self::Viewer,
        }
    }
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

/// Which database `config` names, for a person: the SQLite file's absolute path, or the
/// PostgreSQL host, port and database (never the user or password). A relative data directory
/// depends on the folder the command runs in, so that case says how to pin it.
pub fn describe_database(config: &Config) -> String {
    match &config.database {
        crate::config::Database::Sqlite(path) => {
            let absolute = std::path::absolute(path).unwrap_or_else(|_| path.clone());
            let mut text = format!("SQLite database {}", absolute.display());
            if path.is_relative() {
                text.push_str(
                    " (relative to the current folder; set PLUGBOARD_DATA_DIR to use the same database from anywhere)",
                );
            }
            text
        }
        crate::config::Database::Postgres(url) => match url::Url::parse(url) {
            Ok(url) => format!(
                "PostgreSQL database {} on {}:{}",
                url.path().trim_start_matches('/'),
                url.host_str().unwrap_or("localhost"),
                url.port().unwrap_or(5432)
            ),
            Err(_) => "PostgreSQL database (PLUGBOARD_DATABASE_URL)".to_owned(),
        },
    }
}

/// Says on stderr which database a command uses, so that a key created against one database
/// and then refused by a server using another is explained on the spot. Long-running commands
/// (`serve`, `worker`) log it instead, so that JSON logs stay JSON.
fn announce_database(config: &Config, logged: bool) {
    let database = describe_database(config);
    if logged {
        tracing::info!(%database, "using {database}");
    } else {
        eprintln!("plugboard: using {database}");
    }
}

/// Runs a parsed command line with validated configuration.
pub async fn execute(command: Command, config: Config) -> anyhow::Result<()> {
    let opens_database = !matches!(
        command,
        Command::Keys(KeysCommand::Generate) | Command::DefaultConfig
    );
    if opens_database {
        announce_database(
            &config,
            matches!(command, Command::Serve { .. } | Command::Worker),
        );
    }
    match command {
        Command::Serve { demo } => serve(config, demo).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.migrate().await.context("applying migrations")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::ApiKeys(command) => api_keys::run(command, config).await,
        Command::Operators(command) => operators::run(command, config).await,
        Command::Worker => {
            let shutdown = shutdown_signal();
            let state = AppState::new(config).await?;
            // The webhook worker, the connection checker and the request log's pruning,
            // stopped together.
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let until = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            };
            let checker = tokio::spawn(crate::checks::run(
                crate::checks::Context::of(&state),
                until(stopped.clone()),
            ));
            let pruner = tokio::spawn(crate::retention::run(
                state.store.clone(),
                state.config.passthrough.log_retention,
                state.config.dashboard.session_idle,
                until(stopped.clone()),
            ));
            let context = crate::webhooks::worker::Context::of(&state);
            let worker = tokio::spawn(crate::webhooks::worker::run(context, until(stopped)));
            shutdown.await;
            let _ = stop.send(true);
            let _ = worker.await;
            let _ = checker.await;
            let _ = pruner.await;
            Ok(())
        }
        Command::Webhooks(command) => webhooks::run(command, config).await,
        Command::OauthApps(command) => oauth_apps::run(command, config).await,
        Command::Keys(command) => keys::run(command, config).await,
        Command::DefaultConfig => {
            std::io::stdout().write_all(crate::config::DEFAULTS.as_bytes())?;
            Ok(())
        }
    }
}

/// An operation's error in the command line's words: an invalid field is named by its flag
/// (`--url is not an absolute URL`).
fn flag_error(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::Invalid { field, message } => anyhow::anyhow!("--{field} {message}"),
        other => other.into(),
    }
}

async fn serve(config: Config, demo: bool) -> anyhow::Result<()> {
    let shutdown = shutdown_signal();
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (PLUGBOARD_LISTEN)", config.listen))?;
    crate::run_with(config, listener, shutdown, demo).await
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when
/// the future is first polled, so a SIGTERM that arrives while the server or worker is still
/// starting stops it gracefully instead of killing it.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()).ok(),
            signal(SignalKind::terminate()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut interrupt, mut terminate) = signals;
            tokio::select! {
                Some(()) = recv(interrupt.as_mut()) => {},
                Some(()) = recv(terminate.as_mut()) => {},
                else => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}

/// The next delivery of `signal`, or never if its handler could not be installed.
#[cfg(unix)]
async fn recv(signal: Option<&mut tokio::signal::unix::Signal>) -> Option<()> {
    match signal {
        Some(signal) => signal.recv().await,
        None => std::future::pending().await,
    }
}
