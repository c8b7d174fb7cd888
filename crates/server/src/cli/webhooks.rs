//! `plugboard webhooks add | list | remove`.

use std::io::Write;

use plugboard_store::{Environment, EnvironmentName};

use super::{WebhooksCommand, flag_error};
use crate::{AppState, audit::Caller, config::Config, error::DomainError, webhooks};

/// Runs a `webhooks` subcommand.
pub(super) async fn run(command: WebhooksCommand, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    match command {
        WebhooksCommand::Add {
            environment,
            url,
            events,
        } => {
            let environment = state.environments.get(environment.into()).clone();
            add(&state, &environment, &url, events.as_deref()).await
        }
        WebhooksCommand::List { environment } => list(&state, environment.map(Into::into)).await,
        WebhooksCommand::Remove { id } => remove(&state, &id).await,
    }
}

/// Adds an endpoint; the secret, shown once, goes to stdout.
async fn add(
    state: &AppState,
    environment: &Environment,
    url: &str,
    events: Option<&[String]>,
) -> anyhow::Result<()> {
    let caller = Caller::cli();
    let (endpoint, secret) = webhooks::create_endpoint(state, environment, url, events, &caller)
        .await
        .map_err(flag_error)?;
    eprintln!(
        "Added webhook endpoint {} for {} ({}).",
        endpoint.id,
        environment.name,
        endpoint.event_types.join(", ")
    );
    writeln!(std::io::stdout(), "{}", secret.as_str())?;
    Ok(())
}

/// Prints the endpoints, of one environment or of both, as a table.
async fn list(state: &AppState, environment: Option<EnvironmentName>) -> anyhow::Result<()> {
    let filter = environment.map(|env| state.environments.get(env).id.clone());
    let mut out = std::io::stdout().lock();
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
    Ok(())
}

/// Removes the endpoint `id`, in whichever environment it is: ids are unique across both.
async fn remove(state: &AppState, id: &str) -> anyhow::Result<()> {
    let mut removed = false;
    for environment in [
        &state.environments.production,
        &state.environments.development,
    ] {
        match webhooks::delete_endpoint(state, environment, id, &Caller::cli()).await {
            Ok(()) => removed = true,
            Err(DomainError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
    }
    if !removed {
        anyhow::bail!("no webhook endpoint has id {id:?} (see `plugboard webhooks list`)");
    }
    writeln!(std::io::stdout(), "removed {id}")?;
    Ok(())
}
