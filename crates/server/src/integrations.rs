//! The domain operations on integrations, shared by the API and the hosted flow: completing a
//! connection or relink flow, redeeming activation tokens, and lifecycle changes. Each change
//! and its webhook event are written in one transaction; operators' changes write their audit
//! entry here too.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use plugboard_store::{
    ConsumedLink, EndUser, Environment, Integration, IntegrationStatus, NewActivationToken,
    NewIntegration, Relink, SetupStatus, StoreError, ids::IntegrationId,
};
use zeroize::Zeroizing;

use crate::{
    AppState,
    audit::{Action, Caller},
    error::{DomainError, Missing},
    events,
    links::{self, LinkClaims, LinkKind, LinkProblem},
    tokens, tools,
    vault::Purpose,
};

/// How long an activation token can be redeemed.
pub const ACTIVATION_TOKEN_TTL: Duration = Duration::minutes(10);

/// A status change can race with another; this many attempts resolve any realistic contention.
const CAS_ATTEMPTS: usize = 5;

/// The credentials an end user entered: field id → value.
pub type Credentials = BTreeMap<String, String>;

/// Credentials opened from the vault, wiped from memory when the last user drops them.
pub struct Opened(Credentials);

impl Opened {
    /// Wraps freshly opened credentials.
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }

    /// The values, by field id.
    pub fn get(&self) -> &Credentials {
        &self.0
    }
}

impl Drop for Opened {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            zeroize::Zeroize::zeroize(value);
        }
    }
}

/// Opens an integration's sealed credentials: for passthrough calls and connection checks.
pub async fn open_credentials(
    store: &dyn plugboard_store::Store,
    vault: &crate::vault::Vault,
    id: &IntegrationId,
) -> Result<Opened, DomainError> {
    let sealed = store
        .integration_credentials(id)
        .await?
        .ok_or_else(|| DomainError::Internal(format!("integration {id} has no credentials")))?;
    let plaintext = vault
        .open(Purpose::Credentials, id.as_str(), &sealed)
        .map_err(|e| DomainError::Internal(format!("opening the credentials of {id}: {e}")))?;
    let credentials = serde_json::from_slice(&plaintext).map_err(|e| {
        DomainError::Internal(format!("the credentials of {id} are not a map: {e}"))
    })?;
    Ok(Opened::new(credentials))
}

/// Forgets what this process keeps of an integration it just relinked, disabled or deleted:
/// passthrough's caches and its OAuth access token, so the next call sees the change.
fn forget_in_process(state: &AppState, id: &IntegrationId) {
    state.passthrough.forget_integration(id);
    state.oauth_tokens.forget(id.as_str());
}

fn new_activation(now: DateTime<Utc>) -> (String, NewActivationToken) {
    let token = tokens::new_activation_token();
    let record = NewActivationToken {
        hash: tokens::hash(&token),
        expires_at: now + ACTIVATION_TOKEN_TTL,
    };
    (token, record)
}

fn seal_credentials(
    state: &AppState,
    id: &IntegrationId,
    credentials: &Credentials,
) -> plugboard_store::Sealed {
    let plaintext =
        Zeroizing::new(serde_json::to_vec(credentials).expect("a map of strings serialises"));
    state
        .vault
        .seal(Purpose::Credentials, id.as_str(), &plaintext)
}

/// The integration a connect link's flow creates: the link's end user and category, the
/// chosen tool, the environment's scope config unless the link named one.
fn new_integration(
    claims: &LinkClaims,
    environment: &Environment,
    tool: &str,
    now: DateTime<Utc>,
) -> Integration {
    Integration {
        id: IntegrationId::generate(tool),
        environment_id: environment.id.clone(),
        tool: tool.to_owned(),
        category: claims.cat,
        status: IntegrationStatus::Active,
        setup_status: SetupStatus::Completed,
        end_user: EndUser {
            email: claims.email.clone(),
            organization_name: claims.org.clone(),
            origin_id: claims.oid.clone(),
        },
        scope_config_id: claims
            .scope
            .clone()
            .unwrap_or_else(|| environment.scope_config_id.clone()),
        remote_environment: claims.renv.clone(),
        created_at: now,
        updated_at: now,
    }
}

/// A completion that lost the race for its link: another submission used it first.
fn link_used(error: StoreError) -> DomainError {
    match error {
        StoreError::LinkAlreadyUsed => LinkProblem::Used.into(),
        other => DomainError::Store(other),
    }
}

/// Completes a connection flow whose link `claims` has been verified and whose `credentials`
/// have been checked against the tool: creates the integration with its sealed credentials,
/// consumes the link, writes `integration-created`, and returns the activation token for the
/// browser. A link completes at most once.
pub async fn complete_connection(
    state: &AppState,
    claims: &LinkClaims,
    tool: &str,
    credentials: &Credentials,
) -> Result<String, DomainError> {
    let unavailable = |reason: String| DomainError::from(LinkProblem::ToolUnavailable(reason));
    if claims.kind != LinkKind::Connect {
        return Err(unavailable(
            "this link relinks an existing integration".into(),
        ));
    }
    if let Some(fixed) = claims.tool.as_deref().filter(|fixed| *fixed != tool) {
        return Err(unavailable(format!("this link is for {fixed} only")));
    }
    let environment = links::check(state, claims).await?;
    let sign_ins = tools::SignIns::of(state, &environment).await?;
    tools::available(&state.catalog, &environment, tool, claims.cat, &sign_ins)
        .map_err(unavailable)?;
    let now = Utc::now();
    let integration = new_integration(claims, &environment, tool, now);
    let id = integration.id.clone();
    let (token, activation) = new_activation(now);
    let new = NewIntegration {
        credentials: seal_credentials(state, &id, credentials),
        link: ConsumedLink {
            link_id: claims.jti.clone(),
            expires_at: claims.expires_at(),
        },
        activation,
        event: events::integration_created(&integration, now),
        integration,
    };
    state
        .store
        .create_integration(&new)
        .await
        .map_err(link_used)?;
    state.metrics.integration_created(environment.name);
    tracing::info!(integration_id = %id, environment = %environment.name, "integration created");
    Ok(token)
}

/// Completes a relink flow: the integration keeps its id and gets the new credentials, returns
/// to `ACTIVE` (writing `integration-state-changed` if that changes its status), and an
/// activation token is returned as for a new connection.
pub async fn complete_relink(
    state: &AppState,
    claims: &LinkClaims,
    credentials: &Credentials,
) -> Result<String, DomainError> {
    let id = claims.relinked().ok_or_else(|| {
        LinkProblem::ToolUnavailable("this link does not relink an integration".into())
    })?;
    let environment = links::check(state, claims).await?;
    for _ in 0..CAS_ATTEMPTS {
        let current = state
            .store
            .integration(&environment.id, &id)
            .await?
            .ok_or(LinkProblem::IntegrationGone)?;
        let now = Utc::now();
        let (token, activation) = new_activation(now);
        let changes_state = current.status != IntegrationStatus::Active;
        let relink = Relink {
            integration_id: id.clone(),
            expected_status: current.status,
            credentials: seal_credentials(state, &id, credentials),
            scope_config_id: claims.scope.clone(),
            link: ConsumedLink {
                link_id: claims.jti.clone(),
                expires_at: claims.expires_at(),
            },
            activation,
            event: changes_state.then(|| {
                events::integration_state_changed(&current, IntegrationStatus::Active, now)
            }),
            now,
        };
        let relinked =
            state
                .store
                .relink_integration(&relink)
                .await
                .map_err(|error| match error {
                    plugboard_store::StoreError::LinkAlreadyUsed => LinkProblem::Used.into(),
                    other => DomainError::Store(other),
                })?;
        if relinked.is_some() {
            forget_in_process(state, &id);
            tracing::info!(integration_id = %id, "integration relinked");
            return Ok(token);
        }
    }
    Err(DomainError::Internal(format!(
        "integration {id} kept changing during relink"
    )))
}

/// Exchanges an activation token for its integration: once, within its lifetime, and only for
/// API keys of the integration's environment. Every failure looks the same to the caller, so a
/// guessed, replayed or foreign token reveals nothing.
pub async fn redeem_activation_token(
    state: &AppState,
    environment: &Environment,
    token: &str,
) -> Result<Integration, DomainError> {
    let hash = tokens::hash(token);
    let redeemed = state
        .store
        .redeem_activation_token(&environment.id, &hash, Utc::now())
        .await?;
    state.metrics.activation_redeemed(redeemed.is_some());
    redeemed.ok_or(DomainError::NotFound(Missing::ActivationToken))
}

/// The integration `id` of `environment`.
pub async fn get(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
) -> Result<Integration, DomainError> {
    state
        .store
        .integration(&environment.id, id)
        .await?
        .ok_or_else(|| missing(id))
}

fn missing(id: &IntegrationId) -> DomainError {
    DomainError::NotFound(Missing::Integration(id.to_string()))
}

/// Deletes an integration with its credentials and writes `integration-deleted`.
pub async fn delete(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
    caller: &Caller,
) -> Result<(), DomainError> {
    let integration = get(state, environment, id).await?;
    let event = events::integration_deleted(&integration, Utc::now());
    if !state
        .store
        .delete_integration(&environment.id, id, &event)
        .await?
    {
        // Deleted concurrently by another request: the outcome the caller asked for.
        return Err(missing(id));
    }
    forget_in_process(state, id);
    tracing::info!(integration_id = %id, "integration deleted");
    let entry = caller
        .entry(Action::IntegrationDeleted)
        .target("integration", id.as_str());
    caller.record(state, &environment.id, entry).await;
    Ok(())
}

/// Enables (`ACTIVE`) or disables (`INACTIVE`) an integration, writing
/// `integration-state-changed` when the status changes. Enabling an `INVALID` integration
/// leaves it `INVALID`: only new credentials (a relink) can fix it.
pub async fn set_enabled(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
    enabled: bool,
    caller: &Caller,
) -> Result<(), DomainError> {
    change_status(state, environment, id, enabled).await?;
    let action = if enabled {
        Action::IntegrationEnabled
    } else {
        Action::IntegrationDisabled
    };
    let entry = caller.entry(action).target("integration", id.as_str());
    caller.record(state, &environment.id, entry).await;
    Ok(())
}

/// The status change of [`set_enabled`], retried while concurrent changes race with it.
async fn change_status(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
    enabled: bool,
) -> Result<(), DomainError> {
    for _ in 0..CAS_ATTEMPTS {
        let integration = get(state, environment, id).await?;
        let target = match (enabled, integration.status) {
            (false, IntegrationStatus::Inactive)
            | (true, IntegrationStatus::Active | IntegrationStatus::Invalid) => {
                return Ok(());
            }
            (false, _) => IntegrationStatus::Inactive,
            (true, IntegrationStatus::Inactive) => IntegrationStatus::Active,
        };
        let now = Utc::now();
        let event = events::integration_state_changed(&integration, target, now);
        let changed = state
            .store
            .update_integration_status(&environment.id, id, integration.status, target, &event, now)
            .await?;
        if changed {
            forget_in_process(state, id);
            tracing::info!(integration_id = %id, status = %target, "integration status changed");
            return Ok(());
        }
    }
    Err(DomainError::Internal(format!(
        "integration {id} kept changing while being enabled/disabled"
    )))
}
