//! The domain operations on integrations, shared by the API and the hosted flow: minting links,
//! completing a connection or relink flow, redeeming activation tokens, and lifecycle changes.
//! Each change and its webhook event are written in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use plugboard_catalog::Category;
use plugboard_store::{
    ConsumedLink, EndUser, Environment, Integration, IntegrationStatus, MagicLink,
    NewActivationToken, NewIntegration, Relink, SetupStatus, StoreError,
    ids::{self, IntegrationId},
};
use zeroize::Zeroizing;

use crate::{
    AppState,
    error::{ApiError, ApiResult},
    events,
    extract::not_found,
    tokens::{self, Language, LinkClaims, LinkKind, LinkType},
    vault::Purpose,
};

/// How long an activation token can be redeemed.
pub const ACTIVATION_TOKEN_TTL: Duration = Duration::minutes(10);

/// A status change can race with another; this many attempts resolve any realistic contention.
const CAS_ATTEMPTS: usize = 5;

/// What a new link opens.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    /// Connect or relink.
    pub kind: LinkKind,
    /// For relink links.
    pub integration_id: Option<IntegrationId>,
    /// Category of the flow.
    pub category: Category,
    /// Pre-selected tool.
    pub tool: Option<String>,
    /// The tool's own environment.
    pub remote_environment: Option<String>,
    /// UI language; `None` lets the end user's browser choose.
    pub language: Option<Language>,
    /// Embedded or magic link.
    pub link_type: LinkType,
    /// Whom it is for.
    pub end_user: EndUser,
    /// Scope config to apply.
    pub scope_config_id: Option<String>,
}

/// Seals a link for `request` and returns its absolute URL. Magic links are also recorded, so
/// they can be listed and revoked; embedded links leave no trace until they complete.
pub async fn mint_link(
    state: &AppState,
    environment: &Environment,
    request: LinkRequest,
) -> ApiResult<String> {
    let now = Utc::now();
    let expires_at = now + request.link_type.lifetime();
    let claims = LinkClaims {
        jti: ids::new_id(),
        env: environment.id.clone(),
        kind: request.kind,
        iid: request.integration_id.as_ref().map(ToString::to_string),
        cat: request.category,
        tool: request.tool.clone(),
        renv: request.remote_environment,
        lang: request.language,
        typ: request.link_type,
        email: request.end_user.email.clone(),
        org: request.end_user.organization_name.clone(),
        oid: request.end_user.origin_id.clone(),
        scope: request.scope_config_id,
        exp: expires_at.timestamp(),
    };
    if request.link_type == LinkType::MagicLink {
        let record = MagicLink {
            id: claims.jti.clone(),
            environment_id: environment.id.clone(),
            integration_id: request.integration_id,
            end_user: request.end_user,
            category: request.category,
            tool: request.tool,
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        state.store.insert_magic_link(&record).await?;
    }
    state
        .metrics
        .link_created(environment.name, request.link_type);
    // Sealed, not only signed: the URL travels through histories and logs, and the claims
    // hold the end user's e-mail and organisation.
    let token = tokens::seal_link(&state.vault, &claims);
    Ok(state.config.public(&format!("/connect?token={token}")))
}

/// The credentials an end user entered: field id → value.
pub type Credentials = BTreeMap<String, String>;

/// Why a verified link could not complete.
#[derive(Debug, thiserror::Error)]
pub enum CompleteError {
    /// The link already completed a flow.
    #[error("the link has already been used")]
    LinkAlreadyUsed,
    /// The magic link was revoked by the operator.
    #[error("the link has been revoked")]
    LinkRevoked,
    /// The tool cannot be connected with this link.
    #[error("{0}")]
    ToolUnavailable(String),
    /// The integration of a relink link no longer exists.
    #[error("the integration no longer exists")]
    IntegrationGone,
    /// Storage failed.
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl From<StoreError> for CompleteError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::LinkAlreadyUsed => Self::LinkAlreadyUsed,
            other => Self::Api(other.into()),
        }
    }
}

async fn link_environment(
    state: &AppState,
    claims: &LinkClaims,
) -> Result<Environment, CompleteError> {
    let environment = state
        .environments
        .by_id(&claims.env)
        .cloned()
        .ok_or_else(|| {
            CompleteError::ToolUnavailable("the link's environment does not exist".into())
        })?;
    if claims.typ == LinkType::MagicLink {
        let record = state.store.magic_link(&claims.jti).await?;
        if record.is_none_or(|link| link.revoked_at.is_some()) {
            return Err(CompleteError::LinkRevoked);
        }
    }
    Ok(environment)
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
    let plaintext = Zeroizing::new(serde_json::to_vec(credentials).unwrap_or_default());
    state
        .vault
        .seal(Purpose::Credentials, id.as_str(), &plaintext)
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
) -> Result<String, CompleteError> {
    if claims.kind != LinkKind::Connect {
        return Err(CompleteError::ToolUnavailable(
            "this link relinks an existing integration".into(),
        ));
    }
    if claims.tool.as_deref().is_some_and(|fixed| fixed != tool) {
        return Err(CompleteError::ToolUnavailable(format!(
            "this link is for {} only",
            claims.tool.as_deref().unwrap_or_default()
        )));
    }
    let environment = link_environment(state, claims).await?;
    state
        .tool_available(&environment, tool, claims.cat)
        .map_err(CompleteError::ToolUnavailable)?;
    let now = Utc::now();
    let id = IntegrationId::generate(tool);
    let integration = Integration {
        id: id.clone(),
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
    };
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
    state.store.create_integration(&new).await?;
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
) -> Result<String, CompleteError> {
    let id = claims
        .iid
        .as_deref()
        .and_then(IntegrationId::parse)
        .filter(|_| claims.kind == LinkKind::Relink)
        .ok_or_else(|| {
            CompleteError::ToolUnavailable("this link does not relink an integration".into())
        })?;
    let environment = link_environment(state, claims).await?;
    for _ in 0..CAS_ATTEMPTS {
        let current = state
            .store
            .integration(&environment.id, &id)
            .await?
            .ok_or(CompleteError::IntegrationGone)?;
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
        if state.store.relink_integration(&relink).await?.is_some() {
            tracing::info!(integration_id = %id, "integration relinked");
            return Ok(token);
        }
    }
    Err(CompleteError::Api(ApiError::internal(format!(
        "integration {id} kept changing during relink"
    ))))
}

/// Exchanges an activation token for its integration: once, within its lifetime, and only for
/// API keys of the integration's environment. Every failure looks the same to the caller, so a
/// guessed, replayed or foreign token reveals nothing.
pub async fn redeem_activation_token(
    state: &AppState,
    environment: &Environment,
    token: &str,
) -> ApiResult<Integration> {
    let hash = tokens::hash(token);
    let redeemed = state
        .store
        .redeem_activation_token(&environment.id, &hash, Utc::now())
        .await?;
    state.metrics.activation_redeemed(redeemed.is_some());
    redeemed.ok_or_else(|| {
        ApiError::IntegrationNotFound(
            "No integration for this activation token: it is unknown, expired (tokens live 10 minutes), \
             already redeemed, or belongs to another environment."
                .into(),
        )
    })
}

/// The integration, or the API's not-found error.
pub async fn get(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
) -> ApiResult<Integration> {
    state
        .store
        .integration(&environment.id, id)
        .await?
        .ok_or_else(|| not_found(id.as_str()))
}

/// Deletes an integration with its credentials and writes `integration-deleted`.
pub async fn delete(
    state: &AppState,
    environment: &Environment,
    id: &IntegrationId,
) -> ApiResult<()> {
    let integration = get(state, environment, id).await?;
    let event = events::integration_deleted(&integration, Utc::now());
    if !state
        .store
        .delete_integration(&environment.id, id, &event)
        .await?
    {
        // Deleted concurrently by another request: the outcome the caller asked for.
        return Err(not_found(id.as_str()));
    }
    tracing::info!(integration_id = %id, "integration deleted");
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
) -> ApiResult<()> {
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
            tracing::info!(integration_id = %id, status = %target, "integration status changed");
            return Ok(());
        }
    }
    Err(ApiError::internal(format!(
        "integration {id} kept changing while being enabled/disabled"
    )))
}
