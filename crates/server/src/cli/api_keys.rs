//! `plugboard api-keys create | list | revoke`.

use std::io::Write;

use super::{ApiKeysCommand, flag_error};
use crate::{
    AppState, api_keys, audit::Caller, config::Config, error::DomainError, events::format_time,
};

/// Runs an `api-keys` subcommand.
pub(super) async fn run(command: ApiKeysCommand, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    match command {
        ApiKeysCommand::Create { environment, name } => {
            let (_, key) = api_keys::create(&state, environment.into(), &name, &Caller::cli())
                .await
                .map_err(flag_error)?;
            writeln!(std::io::stdout(), "{key}")?;
        }
        ApiKeysCommand::List { environment } => list(&state, environment.map(Into::into)).await?,
        ApiKeysCommand::Revoke { id } => {
            match api_keys::revoke(&state, &id, &Caller::cli()).await {
                Err(DomainError::NotFound(_)) => {
                    anyhow::bail!("no active API key has id {id:?} (see `plugboard api-keys list`)")
                }
                other => other?,
            }
            writeln!(std::io::stdout(), "revoked {id}")?;
        }
    }
    Ok(())
}

/// Prints the keys, of one environment or of both, as a table.
async fn list(
    state: &AppState,
    environment: Option<plugboard_store::EnvironmentName>,
) -> anyhow::Result<()> {
    let filter = environment.map(|env| state.environments.get(env).id.clone());
    let mut out = std::io::stdout().lock();
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
    Ok(())
}
