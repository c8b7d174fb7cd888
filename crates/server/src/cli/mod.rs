//! The command line: `serve`, `worker`, `migrate`, `api-keys` and `webhooks`. Every command
//! reads the same configuration as `serve`. Results go to stdout (scriptable); logs go to
//! stderr.

use std::{io::Write, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use plugboard_store::EnvironmentName;
use tokio::net::TcpListener;

use crate::{
    AppState, audit::Caller, config::Config, error::DomainError, events::format_time, open_store,
};

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
    /// Run only the webhook worker (to scale delivery out; several may share one PostgreSQL).
    Worker,
    /// Apply database migrations and exit.
    Migrate,
    /// Create, list and revoke API keys.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Add, list and remove webhook endpoints.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
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
                    " (relative to the current folder; set PLUGBOARD_DATA_DIR to use the same                      database from anywhere)",
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
        Command::ApiKeys(command) => api_keys(command, config).await,
        Command::Worker => {
            let state = AppState::new(config).await?;
            crate::webhooks::worker::run(state, shutdown_signal()).await;
            Ok(())
        }
        Command::Webhooks(command) => webhooks(command, config).await,
        Command::Keys(command) => keys(command, config).await,
        Command::DefaultConfig => {
            std::io::stdout().write_all(crate::config::DEFAULTS.as_bytes())?;
            Ok(())
        }
    }
}

async fn keys(command: KeysCommand, config: Config) -> anyhow::Result<()> {
    use base64::Engine;
    let mut out = std::io::stdout().lock();
    if let KeysCommand::Generate = command {
        let key = crate::vault::MasterKey::generate();
        let text =
            zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(key.bytes()));
        writeln!(out, "{}", text.as_str())?;
        return Ok(());
    }
    let store = open_store(&config).await?;
    store
        .migrate()
        .await
        .context("applying database migrations")?;
    let vault = crate::vault::Vault::with_previous(
        &crate::master_key(&config)?,
        &config.previous_master_keys,
    );
    let state_of = |id: &str| {
        if id == vault.key_id() {
            "current"
        } else if vault.knows(id) {
            "previous (can be opened)"
        } else {
            "UNKNOWN: configure this key in PLUGBOARD_PREVIOUS_MASTER_KEYS"
        }
    };
    let print_status = |out: &mut std::io::StdoutLock<'_>, counts: &[(String, u64)]| {
        writeln!(out, "{:<14}  {:>9}  STATE", "KEY ID", "SECRETS")?;
        for (id, count) in counts {
            writeln!(out, "{id:<14}  {count:>9}  {}", state_of(id))?;
        }
        if counts.iter().all(|(id, _)| id == vault.key_id()) {
            writeln!(
                out,
                "Every secret is sealed with the current key {}; previous keys can be removed.",
                vault.key_id()
            )?;
        }
        std::io::Result::Ok(())
    };
    match command {
        KeysCommand::Generate => unreachable!("handled above"),
        KeysCommand::Status => {
            print_status(&mut out, &store.sealing_key_counts().await?)?;
        }
        KeysCommand::Rotate { batch_size } => {
            let started = std::time::Instant::now();
            let report = crate::keys::rotate(&*store, &vault, batch_size, |report| {
                eprintln!(
                    "re-sealed {} secret(s) so far ({} changed meanwhile by a server)",
                    report.resealed, report.changed_meanwhile
                );
            })
            .await?;
            eprintln!(
                "Re-sealed {} secret(s) under key {} in {:.1?}; {} were rewritten by a server meanwhile.",
                report.resealed,
                vault.key_id(),
                started.elapsed(),
                report.changed_meanwhile
            );
            for (slot, id, error) in &report.failed {
                eprintln!("could not re-seal {slot:?} of {id}: {error}");
            }
            let counts = store.sealing_key_counts().await?;
            print_status(&mut out, &counts)?;
            if !report.failed.is_empty() {
                anyhow::bail!("{} secret(s) could not be opened", report.failed.len());
            }
            if counts.iter().any(|(id, _)| id != vault.key_id()) {
                anyhow::bail!(
                    "secrets sealed with another key remain: a server still runs with the old \
                     PLUGBOARD_MASTER_KEY; restart every instance with the new key, then run this again"
                );
            }
        }
    }
    Ok(())
}

async fn webhooks(command: WebhooksCommand, config: Config) -> anyhow::Result<()> {
    use crate::webhooks;
    let state = AppState::new(config).await?;
    let mut out = std::io::stdout().lock();
    match command {
        WebhooksCommand::Add {
            environment,
            url,
            events,
        } => {
            let environment = state.environments.get(environment.into()).clone();
            let input = webhooks::EndpointInput {
                url: Some(url),
                events,
                enabled: None,
            };
            let (endpoint, secret) =
                webhooks::create_endpoint(&state, &environment, &input, &Caller::cli())
                    .await
                    .map_err(flag_error)?;
            eprintln!(
                "Added webhook endpoint {} for {} ({}).",
                endpoint.id,
                environment.name,
                endpoint.event_types.join(", ")
            );
            writeln!(out, "{}", secret.as_str())?;
        }
        WebhooksCommand::List { environment } => {
            let filter = environment.map(|env| state.environments.get(env.into()).id.clone());
            writeln!(
                out,
                "{:<24}  {:<11}  {:<8}  {:<60}  EVENTS",
                "ID", "ENVIRONMENT", "ENABLED", "URL"
            )?;
            for endpoint in state
                .store
                .list_webhook_endpoints(filter.as_deref())
                .await?
            {
                let environment = state
                    .environments
                    .by_id(&endpoint.environment_id)
                    .map_or("?", |env| env.name.as_str());
                let enabled = match endpoint.disabled_reason {
                    None if endpoint.enabled => "yes".to_owned(),
                    None => "no".to_owned(),
                    Some(reason) => format!("no ({})", reason.as_str().to_lowercase()),
                };
                writeln!(
                    out,
                    "{:<24}  {:<11}  {:<8}  {:<60}  {}",
                    endpoint.id,
                    environment,
                    enabled,
                    endpoint.url,
                    endpoint.event_types.join(",")
                )?;
            }
        }
        WebhooksCommand::Remove { id } => {
            let mut removed = false;
            for environment in [
                &state.environments.production,
                &state.environments.development,
            ] {
                match webhooks::delete_endpoint(&state, environment, &id, &Caller::cli()).await {
                    Ok(()) => removed = true,
                    Err(DomainError::NotFound(_)) => {}
                    Err(other) => return Err(other.into()),
                }
            }
            if !removed {
                anyhow::bail!("no webhook endpoint has id {id:?} (see `plugboard webhooks list`)");
            }
            tracing::info!(endpoint_id = %id, "webhook endpoint removed");
            writeln!(out, "removed {id}")?;
        }
    }
    Ok(())
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
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {} (PLUGBOARD_LISTEN)", config.listen))?;
    crate::run_with(config, listener, shutdown_signal(), demo).await
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
            let (_, key) =
                crate::api_keys::create(&state, environment.into(), &name, &Caller::cli())
                    .await
                    .map_err(flag_error)?;
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
            match crate::api_keys::revoke(&state, &id, &Caller::cli()).await {
                Err(DomainError::NotFound(_)) => {
                    anyhow::bail!("no active API key has id {id:?} (see `plugboard api-keys list`)")
                }
                other => other?,
            }
            writeln!(out, "revoked {id}")?;
        }
    }
    Ok(())
}
