//! How a tool's OAuth 2.0 sign-in works (`[oauth]`): the vendor's authorization and token
//! endpoints, the scopes, PKCE, how the client authenticates at the token endpoint, and the
//! vendor's extra parameters. The client id and secret are not here: they are the operator's
//! own app, registered per environment (`PUT /v1/oauth-apps/{tool}`).

use std::collections::BTreeMap;

use serde::Deserialize;

/// The `[oauth]` section of an `oauth2` tool.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OauthSettings {
    /// The authorization endpoint the end user's browser is sent to. An absolute `https://`
    /// template: `{field}` placeholders take the values the end user typed before signing in
    /// (a subdomain, a tenant), each checked against its field's pattern and kept to one host
    /// label or path segment.
    pub authorize_url: String,
    /// The token endpoint Plugboard exchanges the code at and refreshes tokens at; the same
    /// kind of template.
    pub token_url: String,
    /// The issuer the vendor names in the authorization response's `iss` (RFC 9207). When the
    /// vendor sends `iss` and this is absent, the authorization endpoint's origin is expected.
    #[serde(default)]
    pub issuer: Option<String>,
    /// The scopes requested when the operator's app names none: the least the integration
    /// needs (RFC 9700 §2.3), including what makes the vendor issue a refresh token
    /// (`offline_access`) where it asks for a scope.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// How the vendor wants scopes joined in the `scope` parameter. Default one space.
    #[serde(default = "space")]
    pub scope_separator: String,
    /// Whether to send a PKCE S256 challenge. Default `true`: RFC 9700 recommends PKCE for
    /// confidential clients too, and vendors that do not know it ignore it.
    #[serde(default = "yes")]
    pub pkce: bool,
    /// How the client authenticates at the token endpoint. Default `body`.
    #[serde(default)]
    pub client_auth: ClientAuth,
    /// Parameters the vendor requires on the authorization request besides the standard ones
    /// (Lever's `audience`, Google's `access_type = "offline"` and `prompt = "consent"`).
    /// Constants, never templates.
    #[serde(default)]
    pub authorize_params: BTreeMap<String, String>,
    /// Parameters the vendor requires on every token request, code exchange and refresh
    /// alike (BambooHR's `request = "token"`). Constants.
    #[serde(default)]
    pub token_params: BTreeMap<String, String>,
    /// Values the operator's app adds to the endpoints' `{placeholders}`, by name, each with
    /// the pattern the whole value must match: what identifies the operator's app at a vendor
    /// that puts it in the URL (Rippling's app name). The operator gives them with the app
    /// (`settings`); the end user never sees them.
    #[serde(default)]
    pub app_settings: BTreeMap<String, AppSetting>,
    /// What signing in looks like, step by step, in every language of the flow: for a tool
    /// that also takes a key (whose `[guide]` is about the key). An `oauth2` tool's `[guide]`
    /// is already this.
    #[serde(default)]
    pub guide: Option<crate::Localized<Vec<String>>>,
}

/// One value of the operator's app that the endpoints name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSetting {
    /// The whole value must match (anchored): it is kept to one host label or path segment.
    pub pattern: crate::Pattern,
    /// Where the operator finds the value, for the API's and the CLI's error messages.
    pub help: String,
}

impl PartialEq for AppSetting {
    fn eq(&self, other: &Self) -> bool {
        self.pattern.as_str() == other.pattern.as_str() && self.help == other.help
    }
}

impl Eq for AppSetting {}

/// How the client id and secret reach the token endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuth {
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    #[default]
    Body,
    /// HTTP Basic (`client_secret_basic`).
    Basic,
}

fn space() -> String {
    " ".into()
}

fn yes() -> bool {
    true
}

/// Standard parameters a tool's extra parameters may not replace: they carry the flow's own
/// security values.
pub const RESERVED_PARAMS: [&str; 10] = [
    "response_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
];

impl OauthSettings {
    /// The two endpoint templates, for placeholder validation.
    pub fn templates(&self) -> [&str; 2] {
        [&self.authorize_url, &self.token_url]
    }

    /// The section's own rules: https endpoints, no reserved parameter replaced, a separator.
    pub fn validate(&self) -> Result<(), String> {
        for (name, url) in [
            ("authorize_url", &self.authorize_url),
            ("token_url", &self.token_url),
        ] {
            if !url.starts_with("https://") {
                return Err(format!("oauth.{name} must be an absolute https:// URL"));
            }
        }
        if let Some(issuer) = &self.issuer
            && !issuer.starts_with("https://")
        {
            return Err("oauth.issuer must be an https:// URL".into());
        }
        let extra = self.authorize_params.keys().chain(self.token_params.keys());
        if let Some(name) = extra
            .into_iter()
            .find(|n| RESERVED_PARAMS.contains(&n.as_str()) || n.as_str() == "grant_type")
        {
            return Err(format!(
                "oauth parameters may not replace the flow's own {name:?}"
            ));
        }
        if let Some(name) = self.app_settings.keys().find(|name| {
            name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        }) {
            return Err(format!("oauth.app_settings.{name} must be snake_case"));
        }
        if self.scope_separator.is_empty() {
            return Err("oauth.scope_separator may not be empty".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> OauthSettings {
        toml::from_str(text).expect("oauth section")
    }

    #[test]
    fn defaults_are_the_safe_ones() {
        let settings = parse(
            r#"authorize_url = "https://example.com/authorize"
               token_url = "https://example.com/token""#,
        );
        assert!(settings.pkce);
        assert_eq!(settings.client_auth, ClientAuth::Body);
        assert_eq!(settings.scope_separator, " ");
        assert_eq!(settings.validate(), Ok(()));
    }

    #[test]
    fn reserved_parameters_and_plain_http_are_refused() {
        let settings = parse(
            r#"authorize_url = "https://example.com/authorize"
               token_url = "https://example.com/token"
               authorize_params = { redirect_uri = "https://evil.example" }"#,
        );
        assert!(settings.validate().is_err());
        let settings = parse(
            r#"authorize_url = "http://example.com/authorize"
               token_url = "https://example.com/token""#,
        );
        assert!(settings.validate().is_err());
    }
}
