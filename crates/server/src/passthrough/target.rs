//! Where a passthrough call goes: the API's base URL (the catalog's, an operator's override,
//! or Plugboard's own for the sandbox) filled with the integration's values, whether the
//! guard applies, and the URL shown back with any query credential redacted.

use std::collections::BTreeMap;

use plugboard_catalog::{Api, Auth, Tool};

use super::{Failure, Passthrough};
use crate::integrations::Opened;
use crate::{AppState, net, tool_auth};

/// Where a call goes and how it authenticates, resolved from the catalog and configuration.
pub(super) struct Target<'a> {
    pub(super) tool: &'a Tool,
    pub(super) api: &'a Api,
    /// How requests present the credentials: the API's scheme, or the access token of an
    /// integration connected by signing in.
    pub(super) auth: &'a Auth,
    /// The tool's base URL template (override, catalog, or Plugboard's own for the sandbox).
    pub(super) tool_base: String,
    /// The API's base URL, filled.
    pub(super) base: url::Url,
    /// Whether the operator chose the API's URL (an override) or Plugboard serves it: no guard.
    pub(super) trusted: bool,
    /// Whether the tool's base is the operator's (an override) or Plugboard's (the sandbox):
    /// URLs relative to it, such as a token endpoint, are not guarded.
    pub(super) tool_trusted: bool,
    /// Whether the sandbox API, served in process.
    pub(super) sandbox: bool,
}

pub(super) fn resolve<'a>(
    state: &'a AppState,
    passthrough: &Passthrough,
    tool: &'a Tool,
    api: &'a Api,
    credentials: &Opened,
    options: &BTreeMap<String, String>,
) -> Result<Target<'a>, Failure> {
    let sandbox = tool.id == crate::sandbox::TOOL;
    let tool_override = passthrough.overrides.get(&tool.id);
    let tool_base = match (tool_override, sandbox) {
        (Some(url), _) => url.clone(),
        (None, true) => state
            .config
            .public_url
            .as_str()
            .trim_end_matches('/')
            .to_owned(),
        (None, false) => tool.base_url.clone().unwrap_or_default(),
    };
    let api_override = passthrough
        .overrides
        .get(&format!("{}/{}", tool.id, api.id));
    let template = api_override.map_or(api.base_url.as_str(), String::as_str);
    let mut chosen = BTreeMap::new();
    for (name, option) in &api.options {
        let value = option
            .value(options.get(name).map(String::as_str))
            .map_err(|problem| {
                Failure::Input(format!(
                    "api_options.{name} {problem} for {}/{}",
                    tool.id, api.id
                ))
            })?;
        chosen.insert(name.as_str(), value);
    }
    let stored = credentials.get();
    let value_of = |name: &str| {
        chosen
            .get(name)
            .copied()
            .or_else(|| stored.get(name).map(String::as_str))
    };
    let base = tool_auth::endpoint_with(&tool_base, template, &tool.fields, value_of)
        .map_err(|error| {
            Failure::Tool(
                format!(
                    "the integration's stored values do not make a valid URL for this API ({error}); \
                     relink the integration"
                ),
                "stored_values_invalid",
            )
        })?;
    // An override of the tool's base makes only what is built on it the operator's: an API
    // with a base of its own on another host stays guarded unless overridden itself.
    let tool_trusted = tool_override.is_some() || sandbox;
    let trusted = api_override.is_some() || (tool_trusted && api.is_relative());
    check_guarded(&base, trusted)?;
    Ok(Target {
        tool,
        api,
        auth: tool_auth::effective(&api.auth, credentials.get()),
        tool_base,
        base,
        trusted,
        tool_trusted,
        sandbox,
    })
}

/// The URL as the caller is shown it: the one the tool was sent, with a credential that the
/// auth scheme puts in the query shown as `[redacted]`.
pub(super) fn shown_url(url: &url::Url, auth: &Auth) -> String {
    let Some(secret) = tool_auth::query_secret(auth) else {
        return url.to_string();
    };
    let mut shown = url.clone();
    shown.query_pairs_mut().append_pair(secret, "[redacted]");
    shown.to_string()
}

impl Target<'_> {
    /// The client for the API's requests.
    pub(super) fn client<'p>(&self, passthrough: &'p Passthrough) -> &'p reqwest::Client {
        client(passthrough, self.trusted)
    }

    /// Whether a URL relative to the tool's base (a token endpoint) is the operator's own.
    pub(super) fn relative_trusted(&self, template: &str) -> bool {
        template.starts_with('/') && self.tool_trusted
    }
}

/// The trusted client (the operator's overrides, Plugboard's own sandbox) or the guarded one
/// (public addresses only).
pub(super) fn client(passthrough: &Passthrough, trusted: bool) -> &reqwest::Client {
    if trusted {
        &passthrough.trusted
    } else {
        &passthrough.guarded
    }
}

/// Refuses a URL that is not trusted and not https, or names a non-public address literally
/// (names are checked when they resolve).
pub(super) fn check_guarded(url: &url::Url, trusted: bool) -> Result<(), Failure> {
    if trusted {
        return Ok(());
    }
    if url.scheme() != "https" {
        return Err(Failure::Tool(
            "the tool's URL is not https".into(),
            "blocked",
        ));
    }
    net::check_literal_host(url).map_err(|blocked| Failure::Tool(blocked.to_string(), "blocked"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_credentials_are_redacted_in_the_shown_url() {
        let url = url::Url::parse("https://api.example.com/v1/jobs?page=2").expect("url");
        let auth = Auth::Query {
            name: "apikey".into(),
            value: "{api_key}".into(),
        };
        assert_eq!(
            shown_url(&url, &auth),
            "https://api.example.com/v1/jobs?page=2&apikey=%5Bredacted%5D"
        );
        assert_eq!(shown_url(&url, &Auth::None), url.to_string());
    }
}
