//! Connection links: what a link carries ([`LinkClaims`]), minting one ([`create`]),
//! revoking a magic link ([`revoke`]), and the one answer to "can this link still be used?"
//! ([`check`]), asked when the flow opens a link and again when it completes, since a magic
//! link may be revoked, or a relinked integration deleted, while the end user types.
//!
//! Sealing and opening the token is `tokens.rs`'s business; this module owns what is in it.

use chrono::{DateTime, Utc};
use plugboard_catalog::{Category, is_plain_email};
use plugboard_store::{
    EndUser, Environment, Integration, MagicLink,
    ids::{self, IntegrationId},
};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    audit::{Action, Caller},
    error::{DomainError, Missing},
    tokens, tools,
};

/// Longest accepted end-user text field; generous, but bounded so links stay URL-sized.
const MAX_TEXT: usize = 256;

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A new connection.
    #[default]
    Connect,
    /// New credentials for an existing integration.
    Relink,
}

/// How the link is used: Kombo's `link_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkType {
    /// Shown in the operator's app through the SDK; valid for 1 hour.
    Embedded,
    /// Sent to the end user to open in a browser tab; valid for 1 year.
    MagicLink,
}

impl LinkType {
    /// How long links of this type stay valid.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            Self::Embedded => chrono::Duration::hours(1),
            Self::MagicLink => chrono::Duration::days(365),
        }
    }
}

/// Languages of the hosted flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English (default).
    #[default]
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Italian.
    It,
    /// Spanish.
    Es,
}

/// Everything a link carries, and nothing the flow does not need: it is sealed into every
/// link, so each byte costs on every `create-link` and in every URL. One-letter keys keep links
/// short; the aliases are the names of links signed before sealing (JWS), which stay readable
/// until they expire. No key is one of PASETO's registered claims (`exp` there is an ISO 8601
/// string; `x` here is Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Link id: consumed on completion, and the key of recorded magic links.
    #[serde(rename = "j", alias = "jti")]
    pub jti: String,
    /// Environment id.
    #[serde(rename = "e", alias = "env")]
    pub env: String,
    /// Connect or relink (omitted for connect, the usual case).
    #[serde(
        rename = "k",
        alias = "kind",
        default,
        skip_serializing_if = "LinkKind::is_connect"
    )]
    pub kind: LinkKind,
    /// The integration a relink link is for.
    #[serde(
        rename = "i",
        alias = "iid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub iid: Option<String>,
    /// Category of the flow.
    #[serde(rename = "c", alias = "cat")]
    pub cat: Category,
    /// Pre-selected tool.
    #[serde(
        rename = "t",
        alias = "tool",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub tool: Option<String>,
    /// The tool's own environment to connect.
    #[serde(
        rename = "r",
        alias = "renv",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub renv: Option<String>,
    /// UI language; `None` lets the end user's browser choose (`Accept-Language`).
    #[serde(
        rename = "l",
        alias = "lang",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub lang: Option<Language>,
    /// Embedded or magic link.
    #[serde(rename = "y", alias = "typ")]
    pub typ: LinkType,
    /// End user's email.
    #[serde(
        rename = "m",
        alias = "email",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub email: Option<String>,
    /// End user's organisation.
    #[serde(rename = "o", alias = "org")]
    pub org: String,
    /// Operator's id of the end user.
    #[serde(
        rename = "u",
        alias = "oid",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub oid: Option<String>,
    /// Scope config to apply.
    #[serde(
        rename = "s",
        alias = "scope",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub scope: Option<String>,
    /// Expires at (Unix seconds). There is no issue time: nothing reads it, a magic link's is
    /// recorded in the database, and an embedded link's is its expiry less one hour.
    #[serde(rename = "x", alias = "exp")]
    pub exp: i64,
}

impl LinkKind {
    fn is_connect(&self) -> bool {
        *self == Self::Connect
    }
}

impl LinkClaims {
    /// The integration a relink link is for; `None` for a connect link or a malformed id.
    pub fn relinked(&self) -> Option<IntegrationId> {
        self.iid
            .as_deref()
            .and_then(IntegrationId::parse)
            .filter(|_| self.kind == LinkKind::Relink)
    }

    /// When the link expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// What a new link opens: the input of [`create`], in the API's field names.
#[derive(Debug, Clone)]
pub struct LinkRequest {
    /// A new connection, or new credentials for `integration_id`.
    pub kind: LinkKind,
    /// The integration a relink link is for.
    pub integration_id: Option<IntegrationId>,
    /// Which category of tools the flow offers.
    pub category: Category,
    /// A tool chosen in advance: the flow skips its picker.
    pub tool: Option<String>,
    /// The tool's own environment (tool-specific); only together with `tool`.
    pub remote_environment: Option<String>,
    /// UI language; `None` lets the end user's browser choose.
    pub language: Option<Language>,
    /// Embedded (1 hour) or magic link (1 year).
    pub link_type: LinkType,
    /// Whom it is for; echoed in the integration and its webhooks.
    pub end_user: EndUser,
    /// Scope config to apply; only the environment's own exists.
    pub scope_config_id: Option<String>,
}

impl LinkRequest {
    /// A link through which the end user of `integration` enters new credentials for it: the
    /// same tool, category and end user.
    pub fn relink(
        integration: Integration,
        language: Option<Language>,
        link_type: LinkType,
        scope_config_id: Option<String>,
    ) -> Self {
        Self {
            kind: LinkKind::Relink,
            integration_id: Some(integration.id),
            category: integration.category,
            tool: Some(integration.tool),
            remote_environment: integration.remote_environment,
            language,
            link_type,
            end_user: integration.end_user,
            scope_config_id,
        }
    }
}

/// Checks `request`, seals a link for it and returns its absolute URL. Magic links are also
/// recorded, so they can be listed and revoked; embedded links leave no trace until they
/// complete. Errors name the API's field.
pub async fn create(
    state: &AppState,
    environment: &Environment,
    request: LinkRequest,
    caller: &Caller,
) -> Result<String, DomainError> {
    // Only a link fixed to a tool needs the environment's OAuth apps.
    let sign_ins = match &request.tool {
        Some(_) => tools::SignIns::of(state, environment).await?,
        None => tools::SignIns::default(),
    };
    check_request(state, environment, &request, &sign_ins)?;
    let now = Utc::now();
    let expires_at = now + request.link_type.lifetime();
    let claims = claims_for(&request, environment, expires_at);
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
        // A magic link is a lasting thing an operator made, so it is audited; embedded links
        // are made for each page view of the operator's app and leave no trace until opened.
        let kind = match claims.kind {
            LinkKind::Connect => "connect",
            LinkKind::Relink => "relink",
        };
        let entry = caller
            .entry(Action::LinkCreated)
            .target("link", &record.id)
            .link(&record.id)
            .detail("kind", kind)
            .detail("category", record.category.as_str())
            .detail("organization", record.end_user.organization_name.clone());
        caller.record(state, &environment.id, entry).await;
    }
    state
        .metrics
        .link_created(environment.name, request.link_type);
    // Sealed, not only signed: the URL travels through histories and logs, and the claims
    // hold the end user's e-mail and organisation.
    let token = tokens::seal_link(&state.vault, &claims);
    Ok(state.config.public(&format!("/connect?token={token}")))
}

fn claims_for(
    request: &LinkRequest,
    environment: &Environment,
    expires_at: DateTime<Utc>,
) -> LinkClaims {
    LinkClaims {
        jti: ids::new_id(),
        env: environment.id.clone(),
        kind: request.kind,
        iid: request.integration_id.as_ref().map(ToString::to_string),
        cat: request.category,
        tool: request.tool.clone(),
        renv: request.remote_environment.clone(),
        lang: request.language,
        typ: request.link_type,
        email: request.end_user.email.clone(),
        org: request.end_user.organization_name.clone(),
        oid: request.end_user.origin_id.clone(),
        scope: request.scope_config_id.clone(),
        exp: expires_at.timestamp(),
    }
}

/// The rules of a link request. A relink's end user and tool come from its integration,
/// which passed these rules when it was created, so only a new connection's are checked.
fn check_request(
    state: &AppState,
    environment: &Environment,
    request: &LinkRequest,
    sign_ins: &tools::SignIns,
) -> Result<(), DomainError> {
    if request.kind == LinkKind::Connect {
        check_end_user(&request.end_user)?;
        if let Some(tool) = &request.tool {
            tools::available(
                &state.catalog,
                environment,
                tool,
                request.category,
                sign_ins,
            )
            .map_err(|reason| DomainError::invalid("integration_tool", reason))?;
        }
        if let Some(remote) = &request.remote_environment {
            if request.tool.is_none() {
                return Err(DomainError::invalid(
                    "remote_environment",
                    "only allowed together with integration_tool",
                ));
            }
            check_text("remote_environment", remote)?;
        }
    }
    check_scope_config(environment, request.scope_config_id.as_deref())
}

fn check_end_user(end_user: &EndUser) -> Result<(), DomainError> {
    if !end_user.email.as_deref().is_some_and(is_plain_email) {
        return Err(DomainError::invalid(
            "end_user_email",
            "must be a valid email address",
        ));
    }
    check_text("end_user_organization_name", &end_user.organization_name)?;
    if let Some(origin) = &end_user.origin_id {
        check_text("end_user_origin_id", origin)?;
    }
    Ok(())
}

/// Checks an end-user text field: present, not blank, bounded.
pub fn check_text(field: &'static str, value: &str) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_TEXT} characters"),
        ));
    }
    Ok(())
}

/// Checks that `scope_config_id`, when given, names the environment's scope config (the only
/// one Plugboard has).
pub fn check_scope_config(environment: &Environment, id: Option<&str>) -> Result<(), DomainError> {
    match id {
        Some(id) if id != environment.scope_config_id => Err(DomainError::invalid(
            "scope_config_id",
            format!(
                "unknown scope config {id:?}; this environment's is {:?}",
                environment.scope_config_id
            ),
        )),
        _ => Ok(()),
    }
}

/// Revokes a magic link of `environment`: the flow refuses it from now on, also mid-flow.
pub async fn revoke(
    state: &AppState,
    environment: &Environment,
    id: &str,
    caller: &Caller,
) -> Result<(), DomainError> {
    if !state
        .store
        .revoke_magic_link(&environment.id, id, Utc::now())
        .await?
    {
        return Err(DomainError::NotFound(Missing::MagicLink(id.to_owned())));
    }
    tracing::info!(link_id = %id, "magic link revoked");
    let entry = caller
        .entry(Action::LinkRevoked)
        .target("link", id)
        .link(id);
    caller.record(state, &environment.id, entry).await;
    Ok(())
}

/// Why a genuine, unexpired link cannot be used. Each has its own page in the flow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkProblem {
    /// The link names an environment or integration id that cannot exist: a link Plugboard
    /// did not mint this way.
    #[error("the link is invalid")]
    Invalid,
    /// The link already completed a flow: a link creates at most one integration.
    #[error("the link has already been used")]
    Used,
    /// The operator revoked the magic link.
    #[error("the link has been revoked")]
    Revoked,
    /// The integration a relink link is for was deleted.
    #[error("the integration no longer exists")]
    IntegrationGone,
    /// The tool cannot be connected with this link (why, for the logs).
    #[error("{0}")]
    ToolUnavailable(String),
}

/// Whether the link of `claims` can still be used, and its environment if so: the
/// environment exists, the link has not completed, a magic link is not revoked, and a relink
/// link's integration still exists. The flow asks when a page opens, completion asks again.
pub async fn check(state: &AppState, claims: &LinkClaims) -> Result<Environment, DomainError> {
    let environment = state
        .environments
        .by_id(&claims.env)
        .cloned()
        .ok_or(LinkProblem::Invalid)?;
    if state.store.link_consumed(&claims.jti).await? {
        return Err(LinkProblem::Used.into());
    }
    if claims.typ == LinkType::MagicLink {
        let record = state.store.magic_link(&claims.jti).await?;
        if record.is_none_or(|link| link.revoked_at.is_some()) {
            return Err(LinkProblem::Revoked.into());
        }
    }
    if claims.kind == LinkKind::Relink {
        let id = claims.relinked().ok_or(LinkProblem::Invalid)?;
        if state
            .store
            .integration(&environment.id, &id)
            .await?
            .is_none()
        {
            return Err(LinkProblem::IntegrationGone.into());
        }
    }
    Ok(environment)
}
