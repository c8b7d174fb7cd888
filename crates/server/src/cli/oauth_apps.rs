//! `plugboard oauth-apps set | list | remove`. The client secret is read from stdin, never
//! taken as an argument: arguments show in `ps` and in shell history.

use std::io::{BufRead, Write};

use anyhow::Context;
use plugboard_store::Environment;
use zeroize::Zeroizing;

use super::OauthAppsCommand;
use crate::{
    AppState,
    audit::Caller,
    config::Config,
    error::DomainError,
    events::format_time,
    oauth::{
        self,
        apps::{self, AppInput},
    },
};

/// Runs an `oauth-apps` subcommand.
pub(super) async fn run(command: OauthAppsCommand, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    match command {
        OauthAppsCommand::Set {
            tool,
            environment,
            client_id,
            scopes,
            settings,
        } => {
            let environment = state.environments.get(environment.into()).clone();
            // Checked before the secret is asked for, so a typo costs no paste.
            apps::oauth_tool(&state, &tool).map_err(flag_error)?;
            let client_secret = read_secret()?;
            let scopes = (!scopes.is_empty()).then_some(scopes);
            set(
                &state,
                &environment,
                &tool,
                AppInput {
                    client_id,
                    client_secret,
                    scopes,
                    settings: settings.into_iter().collect(),
                },
            )
            .await
        }
        OauthAppsCommand::List { environment } => {
            let environment = state.environments.get(environment.into()).clone();
            list(&state, &environment).await
        }
        OauthAppsCommand::Remove { tool, environment } => {
            let environment = state.environments.get(environment.into()).clone();
            match apps::remove(&state, &environment, &tool, &Caller::cli()).await {
                Err(DomainError::NotFound(missing)) => anyhow::bail!(
                    "{missing} (see `plugboard oauth-apps list --environment {}`)",
                    environment.name
                ),
                other => other.map_err(flag_error)?,
            }
            writeln!(
                std::io::stdout(),
                "removed the OAuth app of {tool} in {}",
                environment.name
            )?;
            Ok(())
        }
    }
}

/// The client secret: the first line of stdin, without its line ending.
fn read_secret() -> anyhow::Result<Zeroizing<String>> {
    let stdin = std::io::stdin();
    if std::io::IsTerminal::is_terminal(&stdin) {
        eprintln!("Client secret (one line, then Enter):");
    }
    let mut line = Zeroizing::new(String::new());
    stdin
        .lock()
        .read_line(&mut line)
        .context("reading the client secret from stdin")?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.is_empty() {
        anyhow::bail!(
            "the client secret is read from stdin, which gave none: e.g. `printf '%s\\n' \"$SECRET\" | plugboard oauth-apps set …`"
        );
    }
    Ok(Zeroizing::new(secret.to_owned()))
}

/// Saves a new revision; prints it and the redirect URI to register at the vendor.
async fn set(
    state: &AppState,
    environment: &Environment,
    tool: &str,
    input: AppInput,
) -> anyhow::Result<()> {
    let app = apps::save(state, environment, tool, input, &Caller::cli())
        .await
        .map_err(flag_error)?;
    let catalog_tool = apps::oauth_tool(state, &app.tool).map_err(flag_error)?;
    let scopes = apps::scopes(catalog_tool, &app).join(" ");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "saved revision {} of the OAuth app of {} in {}",
        app.revision, app.tool, environment.name
    )?;
    writeln!(out, "client id:    {}", app.client_id)?;
    writeln!(
        out,
        "scopes:       {}{}",
        if scopes.is_empty() { "(none)" } else { &scopes },
        if app.scopes.is_some() {
            ""
        } else {
            " (the catalog's defaults)"
        }
    )?;
    writeln!(
        out,
        "redirect URI: {} (register it at the vendor)",
        oauth::redirect_uri(&state.config)
    )?;
    Ok(())
}

/// Prints every tool with OAuth sign-in and the environment's current app for it.
async fn list(state: &AppState, environment: &Environment) -> anyhow::Result<()> {
    let current = apps::list(state, environment).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<20}  {:<8}  {:<24}  {:<40}  SCOPES",
        "TOOL", "REVISION", "SAVED", "CLIENT ID"
    )?;
    for tool in state.catalog.tools().filter(|tool| tool.signs_in()) {
        match current.iter().find(|app| app.tool == tool.id) {
            Some(app) => {
                let scopes = apps::scopes(tool, app).join(" ");
                writeln!(
                    out,
                    "{:<20}  {:<8}  {:<24}  {:<40}  {}{}",
                    tool.id,
                    app.revision,
                    format_time(app.created_at),
                    app.client_id,
                    scopes,
                    if app.scopes.is_some() {
                        ""
                    } else {
                        " (defaults)"
                    }
                )?;
            }
            None => writeln!(
                out,
                "{:<20}  {:<8}  {:<24}  {:<40}  -",
                tool.id, "-", "-", "(not configured)"
            )?,
        }
    }
    writeln!(
        out,
        "\nredirect URI to register at each vendor: {}",
        oauth::redirect_uri(&state.config)
    )?;
    Ok(())
}

/// An operation's error in this command's words: the fields are named by their flags, and the
/// secret by where it comes from.
fn flag_error(error: DomainError) -> anyhow::Error {
    match error {
        DomainError::Invalid { field, message } => {
            let flag = match field {
                "tool" => "<tool>",
                "client_id" => "--client-id",
                "client_secret" => "the client secret (stdin)",
                "scopes" => "--scope",
                other => other,
            };
            anyhow::anyhow!("{flag}: {message}")
        }
        other => other.into(),
    }
}
