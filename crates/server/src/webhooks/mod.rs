//! Webhooks: the operations on endpoints that the API and the CLI share (each checks its input
//! and writes its audit entry), and (in [`worker`]) the delivery of the events that every
//! change writes to the outbox.
//!
//! An endpoint's secret is shown once, when it is created or rotated, and is stored sealed
//! (the associated data binds it to its endpoint). A rotation keeps the old secret signing
//! alongside the new one for [`ROTATION_OVERLAP`], so receivers can switch without losing a
//! delivery.

use chrono::Utc;
use plugboard_store::{
    Environment, EnvironmentName, Sealed, ids,
    webhooks::{EndpointChanges, WebhookEndpoint},
};
use url::Url;
use zeroize::Zeroizing;

use crate::{
    AppState,
    audit::{Action, Caller},
    config::WebhookConfig,
    error::{DomainError, Missing},
    events::{self, EVENT_TYPES},
    net::Allowed,
    vault::{Purpose, Vault, VaultError},
};

pub mod sign;
pub mod worker;

/// How long a rotated-out secret keeps signing.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Longest accepted endpoint URL.
const MAX_URL_LEN: usize = 2048;

/// The addresses webhook requests of `environment` may reach: public ones, the operator's
/// allow-listed networks and, in development when the deployment opts in
/// (`PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK`, on in `serve --demo`), loopback: a receiver on the
/// developer's machine. Off by default, so a development key cannot reach the services on a
/// deployed server's loopback.
pub fn allowed_addresses(config: &WebhookConfig, environment: EnvironmentName) -> Allowed {
    Allowed {
        loopback: config.allow_loopback && environment == EnvironmentName::Development,
        networks: config.allowed_networks.clone(),
    }
}

/// Checks an endpoint URL as given by an operator; the message says what to fix.
pub fn check_url(text: &str, allowed: &Allowed) -> Result<Url, String> {
    if text.len() > MAX_URL_LEN {
        return Err(format!("is longer than {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(text.trim()).map_err(|e| format!("is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if url.host().is_none() {
        return Err("must name a host".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password; put a token in the path".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a #fragment".into());
    }
    // Names are checked again on every delivery, on the addresses actually connected to.
    allowed.check_literal_host(&url).map_err(|blocked| {
        format!(
            "points at {}, which is not a public address; allow its network with \
             PLUGBOARD_WEBHOOK_ALLOWED_NETWORKS (or, for development webhooks, loopback with \
             PLUGBOARD_WEBHOOK_ALLOW_LOOPBACK) if that is intended",
            blocked.0
        )
    })?;
    Ok(url)
}

/// Checks a subscription; `None` means every event type. Duplicates are dropped.
pub fn check_event_types(types: Option<&[String]>) -> Result<Vec<String>, String> {
    let Some(types) = types else {
        return Ok(EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect());
    };
    if types.is_empty() {
        return Err(format!(
            "must name at least one event type, or be left out for all: {}",
            EVENT_TYPES.join(", ")
        ));
    }
    let mut checked: Vec<String> = Vec::new();
    for event_type in types {
        if !EVENT_TYPES.contains(&event_type.as_str()) {
            return Err(format!(
                "{event_type:?} is not an event type; use {}",
                EVENT_TYPES.join(", ")
            ));
        }
        if !checked.contains(event_type) {
            checked.push(event_type.clone());
        }
    }
    Ok(checked)
}

/// Opens an endpoint's sealed secret.
pub fn open_secret(
    vault: &Vault,
    endpoint_id: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<String>, VaultError> {
    let bytes = vault.open(Purpose::WebhookSecret, endpoint_id, sealed)?;
    Ok(Zeroizing::new(String::from_utf8_lossy(&bytes).into_owned()))
}

fn seal_secret(vault: &Vault, endpoint_id: &str, secret: &str) -> Sealed {
    vault.seal(Purpose::WebhookSecret, endpoint_id, secret.as_bytes())
}

/// An operator's changes to an endpoint: only the fields given change, each checked as on
/// create.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    /// Where deliveries are posted (`url`).
    pub url: Option<String>,
    /// The event types it receives (`events`).
    pub events: Option<Vec<String>>,
    /// Whether it receives deliveries (`enabled`).
    pub enabled: Option<bool>,
}

fn checked_url(
    state: &AppState,
    environment: &Environment,
    url: &str,
) -> Result<String, DomainError> {
    let allowed = allowed_addresses(&state.config.webhooks, environment.name);
    check_url(url, &allowed)
        .map(String::from)
        .map_err(|message| DomainError::invalid("url", message))
}

fn checked_events(events: Option<&[String]>) -> Result<Vec<String>, DomainError> {
    check_event_types(events).map_err(|message| DomainError::invalid("events", message))
}

fn missing(id: &str) -> DomainError {
    DomainError::NotFound(Missing::WebhookEndpoint(id.to_owned()))
}

/// An audit entry for a change to `endpoint`, naming its URL and subscription (never its
/// secret).
fn entry(
    caller: &Caller,
    action: Action,
    endpoint: &WebhookEndpoint,
) -> crate::audit::Entry<'static> {
    caller
        .entry(action)
        .target("webhook_endpoint", &endpoint.id)
        .detail("url", endpoint.url.clone())
        .detail("events", endpoint.event_types.clone())
}

/// Creates an endpoint of `environment` after checking its `url` and subscription (`events`;
/// `None` means every event type). Returns it with its secret, which is shown once and stored
/// only sealed.
pub async fn create_endpoint(
    state: &AppState,
    environment: &Environment,
    url: &str,
    events: Option<&[String]>,
    caller: &Caller,
) -> Result<(WebhookEndpoint, Zeroizing<String>), DomainError> {
    let url = checked_url(state, environment, url)?;
    let event_types = checked_events(events)?;
    let id = ids::new_id();
    let secret = sign::new_secret();
    let now = Utc::now();
    let endpoint = WebhookEndpoint {
        secret: seal_secret(&state.vault, &id, &secret),
        id,
        environment_id: environment.id.clone(),
        url,
        event_types,
        enabled: true,
        disabled_reason: None,
        previous_secret: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    state.store.insert_webhook_endpoint(&endpoint).await?;
    tracing::info!(endpoint_id = %endpoint.id, environment = %environment.name, "webhook endpoint created");
    let created = entry(caller, Action::WebhookEndpointCreated, &endpoint);
    caller.record(state, &environment.id, created).await;
    Ok((endpoint, secret))
}

/// Applies an operator's changes to an endpoint. Enabling it sends the deliveries that waited.
pub async fn update_endpoint(
    state: &AppState,
    environment: &Environment,
    id: &str,
    input: &EndpointPatch,
    caller: &Caller,
) -> Result<WebhookEndpoint, DomainError> {
    let changes = EndpointChanges {
        url: input
            .url
            .as_deref()
            .map(|url| checked_url(state, environment, url))
            .transpose()?,
        event_types: input
            .events
            .as_deref()
            .map(|events| checked_events(Some(events)))
            .transpose()?,
        enabled: input.enabled,
    };
    let endpoint = state
        .store
        .update_webhook_endpoint(&environment.id, id, &changes, Utc::now())
        .await?
        .ok_or_else(|| missing(id))?;
    let updated = entry(caller, Action::WebhookEndpointUpdated, &endpoint)
        .detail("enabled", endpoint.enabled);
    caller.record(state, &environment.id, updated).await;
    Ok(endpoint)
}

/// Deletes an endpoint with its deliveries and their log.
pub async fn delete_endpoint(
    state: &AppState,
    environment: &Environment,
    id: &str,
    caller: &Caller,
) -> Result<(), DomainError> {
    if !state
        .store
        .delete_webhook_endpoint(&environment.id, id)
        .await?
    {
        return Err(missing(id));
    }
    tracing::info!(endpoint_id = %id, "webhook endpoint deleted");
    let deleted = caller
        .entry(Action::WebhookEndpointDeleted)
        .target("webhook_endpoint", id);
    caller.record(state, &environment.id, deleted).await;
    Ok(())
}

/// Gives an endpoint a new secret; the old one keeps signing for [`ROTATION_OVERLAP`].
/// Returns the endpoint and the new secret.
pub async fn rotate_secret(
    state: &AppState,
    environment: &Environment,
    id: &str,
    caller: &Caller,
) -> Result<(WebhookEndpoint, Zeroizing<String>), DomainError> {
    let secret = sign::new_secret();
    let now = Utc::now();
    let endpoint = state
        .store
        .rotate_webhook_secret(
            &environment.id,
            id,
            &seal_secret(&state.vault, id, &secret),
            now + ROTATION_OVERLAP,
            now,
        )
        .await?
        .ok_or_else(|| missing(id))?;
    tracing::info!(endpoint_id = %id, "webhook secret rotated");
    let rotated = caller
        .entry(Action::WebhookEndpointSecretRotated)
        .target("webhook_endpoint", &endpoint.id);
    caller.record(state, &environment.id, rotated).await;
    Ok((endpoint, secret))
}

/// Queues a `webhook-test` event for one endpoint, through the same durable delivery as every
/// other event. Returns the event's and the delivery's ids.
pub async fn send_test_event(
    state: &AppState,
    environment: &Environment,
    id: &str,
    caller: &Caller,
) -> Result<(String, String), DomainError> {
    let event = events::webhook_test(&environment.id, id, Utc::now());
    let delivery = state
        .store
        .queue_event_for_endpoint(&event, id)
        .await?
        .ok_or_else(|| missing(id))?;
    let tested = caller
        .entry(Action::WebhookEndpointTested)
        .target("webhook_endpoint", id)
        .detail("delivery", delivery.clone());
    caller.record(state, &environment.id, tested).await;
    Ok((event.id, delivery))
}

/// Delivers a delivery again: pending and due now, whatever its status; the same event (the
/// same `webhook-id`) is sent.
pub async fn redeliver(
    state: &AppState,
    environment: &Environment,
    id: &str,
    caller: &Caller,
) -> Result<plugboard_store::webhooks::Delivery, DomainError> {
    let delivery = state
        .store
        .retry_delivery(&environment.id, id, Utc::now())
        .await?
        .ok_or_else(|| DomainError::NotFound(Missing::WebhookDelivery(id.to_owned())))?;
    tracing::info!(delivery_id = %id, "webhook delivery queued again");
    let retried = caller
        .entry(Action::WebhookDeliveryRetried)
        .target("webhook_delivery", id)
        .detail("endpoint", delivery.endpoint_id.clone())
        .detail("event_type", delivery.event_type.clone());
    caller.record(state, &environment.id, retried).await;
    Ok(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked() {
        let production = Allowed::public_only();
        let development = Allowed {
            loopback: true,
            networks: Vec::new(),
        };
        assert!(check_url("https://hooks.example.com/plugboard?team=1", &production).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hook", &development).is_ok());
        for (url, why) in [
            ("hooks.example.com/x", "absolute"),
            ("ftp://hooks.example.com/", "http or https"),
            ("https://user:pw@hooks.example.com/", "user name"),
            ("https://hooks.example.com/#x", "fragment"),
            ("http://127.0.0.1:9000/hook", "not a public address"),
            ("http://[::ffff:169.254.169.254]/", "not a public address"),
            ("http://10.0.0.1/", "not a public address"),
        ] {
            let error = check_url(url, &production).expect_err(url);
            assert!(error.contains(why), "{url}: {error}");
        }
        assert!(check_url("http://10.0.0.1/", &development).is_err());
    }

    #[test]
    fn loopback_is_opt_in_and_for_development_only() {
        let mut config = WebhookConfig::default();
        for environment in [EnvironmentName::Development, EnvironmentName::Production] {
            let allowed = allowed_addresses(&config, environment);
            assert!(check_url("http://127.0.0.1:9000/hook", &allowed).is_err());
            assert!(check_url("http://[::1]:9000/hook", &allowed).is_err());
        }
        config.allow_loopback = true;
        let development = allowed_addresses(&config, EnvironmentName::Development);
        assert!(check_url("http://127.0.0.1:9000/hook", &development).is_ok());
        let production = allowed_addresses(&config, EnvironmentName::Production);
        assert!(check_url("http://127.0.0.1:9000/hook", &production).is_err());
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_url(&long, &production).is_err());
    }

    #[test]
    fn subscriptions_default_to_everything_and_reject_unknown_types() {
        assert_eq!(
            check_event_types(None).expect("all").len(),
            EVENT_TYPES.len()
        );
        let twice = vec![
            "integration-created".to_owned(),
            "integration-created".to_owned(),
        ];
        assert_eq!(
            check_event_types(Some(&twice)).expect("deduplicated"),
            vec!["integration-created".to_owned()]
        );
        assert!(check_event_types(Some(&[])).is_err());
        let unknown = check_event_types(Some(&["sync-finished".to_owned()])).expect_err("unknown");
        assert!(unknown.contains("integration-created"), "{unknown}");
    }
}
