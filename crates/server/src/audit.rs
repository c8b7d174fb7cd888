//! The audit trail: who changed what (API keys, integrations, webhook endpoints, magic links)
//! and every step an end user takes in the hosted flow, with time, environment, link, IP
//! address and user agent. Entries name actors and targets by id and carry chosen facts (a
//! tool, an outcome), never a request body, so no secret can reach them.
//!
//! An entry is written after the action succeeds, by the operation that did it (`api_keys`,
//! `links`, `integrations`, `webhooks`, and the flow for the end user's steps), with the
//! [`Caller`] its surface hands it: each action is written in exactly one function. A failed write is logged at error level and
//! does not undo the action or fail the request: the action already happened, and refusing
//! the answer would only hide that from the caller.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{HeaderMap, header, request::Parts},
};
use chrono::Utc;
use plugboard_store::audit::AuditEvent;
use serde_json::{Map, Value};

use crate::{AppState, extract::Authenticated};

/// The longest user agent kept; longer ones are cut (they are free text from the client).
const MAX_USER_AGENT: usize = 512;

/// What an entry records as having happened. The wire names are part of the API
/// (`GET /v1/audit-events?action=…`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// An API key was created (`plugboard api-keys create`).
    ApiKeyCreated,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// An integration was deleted through the API.
    IntegrationDeleted,
    /// An integration was enabled through the API.
    IntegrationEnabled,
    /// An integration was disabled through the API.
    IntegrationDisabled,
    /// An operator asked for an integration's credentials to be checked now.
    IntegrationCheckRequested,
    /// A webhook endpoint was created.
    WebhookEndpointCreated,
    /// A webhook endpoint's URL, events or enabled state changed.
    WebhookEndpointUpdated,
    /// A webhook endpoint's secret was rotated.
    WebhookEndpointSecretRotated,
    /// A webhook endpoint was deleted.
    WebhookEndpointDeleted,
    /// A test event was sent to a webhook endpoint.
    WebhookEndpointTested,
    /// A webhook delivery was queued again.
    WebhookDeliveryRetried,
    /// An OAuth app was registered or changed (a new revision).
    OauthAppSaved,
    /// An OAuth app was removed.
    OauthAppRemoved,
    /// A magic link was created (embedded links are not recorded).
    LinkCreated,
    /// A magic link was revoked.
    LinkRevoked,
    /// The end user opened a connection link.
    LinkOpened,
    /// The end user chose a tool in the picker.
    LinkToolChosen,
    /// The end user submitted credentials.
    LinkCredentialsSubmitted,
    /// The submitted credentials did not work (`detail.outcome` says why).
    LinkVerificationFailed,
    /// The submitted credentials worked.
    LinkVerificationSucceeded,
    /// The flow finished: the integration was created or relinked.
    LinkCompleted,
    /// The end user started signing in to an OAuth tool (the popup or page left for the
    /// vendor).
    LinkSigninStarted,
    /// An environment's settings (product name, framing origins) were saved.
    SettingsUpdated,
    /// An operator account was created (`plugboard operators create`).
    OperatorCreated,
    /// An operator account was disabled: its sessions ended.
    OperatorDisabled,
    /// A disabled operator account was enabled again.
    OperatorEnabled,
    /// An operator's password was forgotten and a new sign-in link issued.
    OperatorReset,
    /// An operator chose a password with a one-time sign-in link.
    OperatorPasswordSet,
    /// An operator signed in to the dashboard.
    OperatorSignedIn,
    /// A dashboard sign-in was refused (`detail.reason` says why).
    OperatorSigninFailed,
    /// An operator signed out (`detail.everywhere` when every session ended).
    OperatorSignedOut,
}

impl Action {
    /// Every action, for documentation and filter validation.
    pub const ALL: [Self; 32] = [
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::IntegrationDeleted,
        Self::IntegrationEnabled,
        Self::IntegrationDisabled,
        Self::IntegrationCheckRequested,
        Self::WebhookEndpointCreated,
        Self::WebhookEndpointUpdated,
        Self::WebhookEndpointSecretRotated,
        Self::WebhookEndpointDeleted,
        Self::WebhookEndpointTested,
        Self::WebhookDeliveryRetried,
        Self::OauthAppSaved,
        Self::OauthAppRemoved,
        Self::LinkCreated,
        Self::LinkRevoked,
        Self::LinkOpened,
        Self::LinkToolChosen,
        Self::LinkCredentialsSubmitted,
        Self::LinkVerificationFailed,
        Self::LinkVerificationSucceeded,
        Self::LinkCompleted,
        Self::LinkSigninStarted,
        Self::SettingsUpdated,
        Self::OperatorCreated,
        Self::OperatorDisabled,
        Self::OperatorEnabled,
        Self::OperatorReset,
        Self::OperatorPasswordSet,
        Self::OperatorSignedIn,
        Self::OperatorSigninFailed,
        Self::OperatorSignedOut,
    ];

    /// The stored and wire name, `noun.verb`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKeyCreated => "api_key.created",
            Self::ApiKeyRevoked => "api_key.revoked",
            Self::IntegrationDeleted => "integration.deleted",
            Self::IntegrationEnabled => "integration.enabled",
            Self::IntegrationDisabled => "integration.disabled",
            Self::IntegrationCheckRequested => "integration.check_requested",
            Self::WebhookEndpointCreated => "webhook_endpoint.created",
            Self::WebhookEndpointUpdated => "webhook_endpoint.updated",
            Self::WebhookEndpointSecretRotated => "webhook_endpoint.secret_rotated",
            Self::WebhookEndpointDeleted => "webhook_endpoint.deleted",
            Self::WebhookEndpointTested => "webhook_endpoint.tested",
            Self::WebhookDeliveryRetried => "webhook_delivery.retried",
            Self::OauthAppSaved => "oauth_app.saved",
            Self::OauthAppRemoved => "oauth_app.removed",
            Self::LinkCreated => "link.created",
            Self::LinkRevoked => "link.revoked",
            Self::LinkOpened => "link.opened",
            Self::LinkToolChosen => "link.tool_chosen",
            Self::LinkCredentialsSubmitted => "link.credentials_submitted",
            Self::LinkVerificationFailed => "link.verification_failed",
            Self::LinkVerificationSucceeded => "link.verification_succeeded",
            Self::LinkCompleted => "link.completed",
            Self::LinkSigninStarted => "link.signin_started",
            Self::SettingsUpdated => "settings.updated",
            Self::OperatorCreated => "operator.created",
            Self::OperatorDisabled => "operator.disabled",
            Self::OperatorEnabled => "operator.enabled",
            Self::OperatorReset => "operator.reset",
            Self::OperatorPasswordSet => "operator.password_set",
            Self::OperatorSignedIn => "operator.signed_in",
            Self::OperatorSigninFailed => "operator.signin_failed",
            Self::OperatorSignedOut => "operator.signed_out",
        }
    }
}

/// Who acted.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A request made with this API key (by id).
    ApiKey(String),
    /// The operator, on the command line (`plugboard …`).
    Cli,
    /// The end user, in the hosted flow.
    EndUser,
    /// An operator in the dashboard (by operator id).
    Operator(String),
}

impl Actor {
    /// The actor of a request authenticated with an API key.
    pub fn api_key(auth: &Authenticated) -> Self {
        Self::ApiKey(auth.api_key_id.clone())
    }

    fn stored(&self) -> String {
        match self {
            Self::ApiKey(id) => format!("api_key:{id}"),
            Self::Cli => "cli".to_owned(),
            Self::EndUser => "end_user".to_owned(),
            Self::Operator(id) => format!("operator:{id}"),
        }
    }
}

/// The client of an HTTP request: its address (through trusted proxies) and user agent.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The client's address, if known.
    pub ip: Option<IpAddr>,
    /// Its `User-Agent`, cut to 512 characters.
    pub user_agent: Option<String>,
}

impl Client {
    /// The client of a request that arrived from `peer` with `headers`. `X-Forwarded-For` is
    /// believed only as far as it was written by `trusted` proxies: read from the right, the
    /// first address that is not a trusted proxy is the client.
    pub fn from_request(
        peer: Option<IpAddr>,
        headers: &HeaderMap,
        trusted: &[ipnet::IpNet],
    ) -> Self {
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        let mut ip = peer;
        if peer.as_ref().is_some_and(is_trusted) {
            let forwarded = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .map(str::trim)
                .collect::<Vec<_>>();
            for hop in forwarded.iter().rev() {
                let Ok(hop) = hop.parse::<IpAddr>() else {
                    // A hop we cannot read ends what can be trusted.
                    break;
                };
                ip = Some(hop);
                if !is_trusted(&hop) {
                    break;
                }
            }
        }
        let user_agent = headers
            .get(header::USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()))
            .map(|text| text.chars().take(MAX_USER_AGENT).collect());
        Self {
            ip: ip.map(|ip| ip.to_canonical()),
            user_agent,
        }
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip());
        Ok(Self::from_request(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        ))
    }
}

/// Who asked for an operation, as the operation records it: the actor, and the client's
/// address and user agent when the request came over HTTP. Surfaces build one (the API from
/// its key and request, the CLI with [`Caller::cli`]) and pass it down with the input.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who acted.
    pub actor: Actor,
    /// Where from, for requests over HTTP.
    pub client: Option<Client>,
}

impl Caller {
    /// A request authenticated with an API key, from `client`.
    pub fn api(auth: &Authenticated, client: Client) -> Self {
        Self {
            actor: Actor::api_key(auth),
            client: Some(client),
        }
    }

    /// An operator signed in to the dashboard, from `client`.
    pub fn operator(operator_id: &str, client: Client) -> Self {
        Self {
            actor: Actor::Operator(operator_id.to_owned()),
            client: Some(client),
        }
    }

    /// The operator on the command line.
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            client: None,
        }
    }

    /// An entry of `action` by this caller, to be filled in and [`Caller::record`]ed.
    pub fn entry(&self, action: Action) -> Entry<'static> {
        Entry::new(action, self.actor.clone())
    }

    /// Writes `entry` for `environment_id` with this caller's client.
    pub async fn record(&self, state: &AppState, environment_id: &str, entry: Entry<'_>) {
        record(state, environment_id, entry, self.client.as_ref()).await;
    }
}

/// One entry to write.
#[derive(Debug)]
pub struct Entry<'a> {
    /// What happened.
    pub action: Action,
    /// Who did it.
    pub actor: Actor,
    /// What it was done to, as `kind:<id>`.
    pub target: Option<String>,
    /// The link involved.
    pub link_id: Option<&'a str>,
    /// Chosen facts; never a secret.
    pub detail: Map<String, Value>,
}

impl<'a> Entry<'a> {
    /// An entry with no target, link or detail yet.
    pub fn new(action: Action, actor: Actor) -> Self {
        Self {
            action,
            actor,
            target: None,
            link_id: None,
            detail: Map::new(),
        }
    }

    /// Names what the action was done to.
    pub fn target(mut self, kind: &str, id: &str) -> Self {
        self.target = Some(format!("{kind}:{id}"));
        self
    }

    /// Names the link.
    pub fn link(mut self, link_id: &'a str) -> Self {
        self.link_id = Some(link_id);
        self
    }

    /// Adds a fact.
    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.detail.insert(key.to_owned(), value.into());
        self
    }
}

/// A new entry's id: the time in hexadecimal milliseconds, then a counter of this process,
/// then random characters. The trail is ordered by time and then by id, so entries one process
/// writes within the same millisecond (the flow's steps of one submission) keep their order.
fn entry_id(now: chrono::DateTime<Utc>) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let count = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & 0xff_ffff;
    let random = plugboard_store::ids::new_id();
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or_default();
    format!("{millis:012x}{count:06x}{}", &random[..8])
}

/// Writes `entry` for `environment_id`, from `client` when the action came over HTTP.
pub async fn record(
    state: &AppState,
    environment_id: &str,
    entry: Entry<'_>,
    client: Option<&Client>,
) {
    let now = Utc::now();
    let event = AuditEvent {
        id: entry_id(now),
        environment_id: environment_id.to_owned(),
        action: entry.action.as_str().to_owned(),
        actor: entry.actor.stored(),
        target: entry.target,
        link_id: entry.link_id.map(str::to_owned),
        ip: client.and_then(|c| c.ip).map(|ip| ip.to_string()),
        user_agent: client.and_then(|c| c.user_agent.clone()),
        detail: Value::Object(entry.detail).to_string(),
        created_at: now,
    };
    if let Err(error) = state.store.record_audit_event(&event).await {
        tracing::error!(%error, action = %event.action, "could not write the audit trail");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                value.parse().expect("value"),
            );
        }
        map
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let proxy: IpAddr = "10.0.0.5".parse().expect("ip");
        let trusted = ["10.0.0.0/8".parse().expect("net")];
        let spoofed = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9")]);
        let direct = Client::from_request(
            Some("198.51.100.1".parse().expect("ip")),
            &spoofed,
            &trusted,
        );
        assert_eq!(
            direct.ip,
            "198.51.100.1".parse().ok(),
            "an untrusted peer's header is ignored"
        );
        let via_proxy = Client::from_request(Some(proxy), &spoofed, &trusted);
        assert_eq!(
            via_proxy.ip,
            "203.0.113.9".parse().ok(),
            "the rightmost untrusted hop"
        );
        let chain = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-for", "10.0.0.7"),
        ]);
        let two_proxies = Client::from_request(Some(proxy), &chain, &trusted);
        assert_eq!(two_proxies.ip, "203.0.113.9".parse().ok());
        let garbage = headers(&[("x-forwarded-for", "203.0.113.9, not-an-ip")]);
        assert_eq!(
            Client::from_request(Some(proxy), &garbage, &trusted).ip,
            Some(proxy)
        );
        let none = Client::from_request(Some(proxy), &spoofed, &[]);
        assert_eq!(none.ip, Some(proxy), "no trusted proxies: the peer");
    }

    #[test]
    fn user_agents_are_cut_and_mapped_addresses_unwrapped() {
        let long = "x".repeat(2000);
        let client = Client::from_request(
            Some("::ffff:192.0.2.1".parse().expect("ip")),
            &headers(&[("user-agent", &long)]),
            &[],
        );
        assert_eq!(client.user_agent.map(|ua| ua.len()), Some(MAX_USER_AGENT));
        assert_eq!(client.ip, "192.0.2.1".parse().ok());
    }

    #[test]
    fn ids_of_one_millisecond_keep_their_order() {
        let now = Utc::now();
        let ids: Vec<String> = (0..1000).map(|_| entry_id(now)).collect();
        // The counter wraps only after 16 million entries; within one run the order holds.
        assert!(
            ids.windows(2)
                .all(|w| w[0] < w[1] || w[1][12..18] == *"000000")
        );
        assert!(entry_id(now + chrono::Duration::milliseconds(1)) > ids[0]);
    }

    #[test]
    fn action_names_are_unique() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
    }
}
