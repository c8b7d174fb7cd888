//! OAuth 2.0 sign-in for tools that offer it: the operators' OAuth apps ([`apps`]), the
//! vendor's endpoints and the token requests ([`client`]), the sign-in attempts of the hosted
//! flow (`flow/signin/`), and access tokens kept fresh, refreshed once at a time across processes
//! ([`tokens`]).
//!
//! An OAuth integration's tokens are part of its sealed credentials, under keys no catalog
//! field can have ([`TokenSet`]): relinking replaces them, deleting deletes them, key rotation
//! re-seals them, and passthrough and the connection checks open them like any credential.

pub mod apps;
pub mod client;
pub mod tokens;

use chrono::{DateTime, Utc};

use crate::{config::Config, integrations::Credentials};

/// The one redirect URI of a deployment, registered at every vendor: RFC 9700 wants exact
/// matching, so it never varies (the tool travels in the server-side attempt, not the URL).
pub fn redirect_uri(config: &Config) -> String {
    config.public(CALLBACK_PATH)
}

/// Where vendors send the end user's browser back.
pub const CALLBACK_PATH: &str = "/connect/oauth/callback";

/// Credential keys of the token set. A catalog field id is snake_case, so a key with a `:`
/// can never collide with a value the end user typed.
const ACCESS_TOKEN: &str = "oauth:access_token";
const REFRESH_TOKEN: &str = "oauth:refresh_token";
const EXPIRES_AT: &str = "oauth:expires_at";
const ISSUED_AT: &str = "oauth:issued_at";
const APP: &str = "oauth:app";

/// The tokens of an integration connected by signing in, and the app revision that refreshes
/// them.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The bearer token sent to the tool.
    pub access_token: String,
    /// The token that obtains the next access token; `None` when the vendor issued none
    /// (the integration then needs a relink when the access token expires).
    pub refresh_token: Option<String>,
    /// When the access token expires; `None` when the vendor did not say (it is then
    /// refreshed only when the tool refuses it).
    pub expires_at: Option<DateTime<Utc>>,
    /// When the access token was issued: with `expires_at`, its lifetime, which bounds the
    /// refresh margin.
    pub issued_at: DateTime<Utc>,
    /// The id of the OAuth app revision the tokens were issued to (`oapp_…`): only that
    /// client may refresh them.
    pub app: String,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("expires_at", &self.expires_at)
            .field("app", &self.app)
            .finish_non_exhaustive()
    }
}

impl TokenSet {
    /// The token set in `credentials`, if the integration was connected by signing in.
    pub fn from_credentials(credentials: &Credentials) -> Option<Self> {
        let time = |key| {
            credentials
                .get(key)
                .and_then(|text: &String| DateTime::parse_from_rfc3339(text).ok())
                .map(|time| time.with_timezone(&Utc))
        };
        Some(Self {
            access_token: credentials.get(ACCESS_TOKEN)?.clone(),
            refresh_token: credentials.get(REFRESH_TOKEN).cloned(),
            expires_at: time(EXPIRES_AT),
            issued_at: time(ISSUED_AT).unwrap_or(DateTime::<Utc>::MIN_UTC),
            app: credentials.get(APP)?.clone(),
        })
    }

    /// Writes the token set into `credentials`, replacing the previous one.
    pub fn write_into(&self, credentials: &mut Credentials) {
        credentials.insert(ACCESS_TOKEN.into(), self.access_token.clone());
        match &self.refresh_token {
            Some(token) => credentials.insert(REFRESH_TOKEN.into(), token.clone()),
            None => credentials.remove(REFRESH_TOKEN),
        };
        match self.expires_at {
            Some(at) => credentials.insert(EXPIRES_AT.into(), at.to_rfc3339()),
            None => credentials.remove(EXPIRES_AT),
        };
        credentials.insert(ISSUED_AT.into(), self.issued_at.to_rfc3339());
        credentials.insert(APP.into(), self.app.clone());
    }

    /// Whether the access token is still good at `now` with `margin` to spare. The margin is
    /// at most half the token's lifetime, so a short-lived token is not refreshed on every
    /// use. A token without an expiry is good until the tool refuses it.
    pub fn fresh(&self, now: DateTime<Utc>, margin: chrono::Duration) -> bool {
        let Some(expires_at) = self.expires_at else {
            return true;
        };
        let lifetime = expires_at - self.issued_at;
        let margin = margin.min(lifetime / 2);
        now + margin < expires_at
    }
}

/// Whether `credentials` hold OAuth tokens: the integration was connected by signing in, so
/// its requests carry the access token whatever the catalog's API-key scheme says.
pub fn signed_in(credentials: &Credentials) -> bool {
    credentials.contains_key(ACCESS_TOKEN)
}

/// The access token in `credentials`, for the request that carries it.
pub fn access_token(credentials: &Credentials) -> Option<&str> {
    credentials.get(ACCESS_TOKEN).map(String::as_str)
}

/// `credentials` with `token` as the access token: a copy for one request, after a refresh
/// that the opened (cached) credentials do not show yet.
pub fn with_access_token(credentials: &Credentials, token: &str) -> Credentials {
    let mut copy = credentials.clone();
    copy.insert(ACCESS_TOKEN.into(), token.to_owned());
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(lifetime_secs: Option<i64>) -> TokenSet {
        let issued_at = Utc::now();
        TokenSet {
            access_token: "a".into(),
            refresh_token: Some("r".into()),
            expires_at: lifetime_secs.map(|s| issued_at + chrono::Duration::seconds(s)),
            issued_at,
            app: "oapp_1".into(),
        }
    }

    #[test]
    fn token_sets_round_trip_through_credentials() {
        let mut credentials = Credentials::new();
        credentials.insert("subdomain".into(), "acme".into());
        let tokens = set(Some(3600));
        tokens.write_into(&mut credentials);
        assert!(signed_in(&credentials));
        let read = TokenSet::from_credentials(&credentials).expect("tokens");
        assert_eq!(read.access_token, "a");
        assert_eq!(read.refresh_token.as_deref(), Some("r"));
        assert_eq!(
            read.expires_at.map(|t| t.timestamp()),
            tokens.expires_at.map(|t| t.timestamp())
        );
        assert_eq!(credentials["subdomain"], "acme");
    }

    #[test]
    fn the_margin_is_at_most_half_the_lifetime() {
        let margin = chrono::Duration::minutes(15);
        let now = Utc::now();
        assert!(set(Some(7200)).fresh(now, margin));
        assert!(
            !set(Some(7200)).fresh(now + chrono::Duration::minutes(106), margin),
            "within 15 minutes of expiry"
        );
        // A one-minute token is refreshed after thirty seconds, not on every use.
        assert!(set(Some(60)).fresh(now + chrono::Duration::seconds(20), margin));
        assert!(!set(Some(60)).fresh(now + chrono::Duration::seconds(31), margin));
        assert!(set(None).fresh(now + chrono::Duration::days(400), margin));
    }
}
