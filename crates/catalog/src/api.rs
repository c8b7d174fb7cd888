//! The parts of a tool file that let a product use a connection: the tool's APIs that
//! passthrough requests may call (`[[apis]]`, under Kombo's `{tool}/{api}` ids), and how a
//! request presents the stored credentials ([`Auth`], shared with the verification request).

use std::collections::BTreeMap;

use serde::Deserialize;

/// How a request presents the end user's credentials. Strings are templates whose
/// `{field_id}` placeholders take the stored values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// Nothing added (the credentials travel in the body, as for a token endpoint).
    None,
    /// HTTP Basic.
    Basic {
        /// Username template, e.g. `{api_key}`.
        username: String,
        /// Password template, e.g. `x`.
        password: String,
    },
    /// `Authorization: Bearer <token>`.
    Bearer {
        /// Token template, e.g. `{api_key}`.
        token: String,
    },
    /// A header of the vendor's own, e.g. `X-SmartToken: {api_key}`.
    Header {
        /// Header name.
        name: String,
        /// Value template.
        value: String,
    },
    /// A query parameter, e.g. `?api_key={api_key}`. Its value is never shown back: the URL in
    /// answers and logs carries `[redacted]` in its place.
    Query {
        /// Parameter name.
        name: String,
        /// Value template.
        value: String,
    },
    /// The stored credentials are exchanged for a short-lived access token first (an OAuth 2
    /// client-credentials grant, or a vendor's own login endpoint), which is then sent as
    /// `Authorization: Bearer <token>` (or with the exchange's own `prefix`). The token is
    /// cached until it expires and renewed once when the tool answers 401.
    Token(TokenExchange),
    /// `Authorization: Bearer <access token>` with the integration's OAuth access token,
    /// refreshed ahead of its expiry (and once on a 401). Only for `oauth2` tools.
    Oauth,
}

/// The login request of [`Auth::Token`], and where its answer keeps the token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenExchange {
    /// The token endpoint: a path appended to the tool's `base_url` (`/v1/auth`), or an
    /// absolute `https://` URL template. Always called with POST.
    pub url: String,
    /// A form body (`application/x-www-form-urlencoded`), e.g. `client_id = "{client_id}"`.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// A JSON body template, instead of a form.
    #[serde(default)]
    pub json: Option<String>,
    /// HTTP Basic credentials for the token endpoint (OAuth 2's `client_secret_basic`).
    #[serde(default)]
    pub basic: Option<BasicPair>,
    /// JSON Pointer (RFC 6901) to the token in the answer. Default `/access_token`.
    #[serde(default = "default_token_pointer")]
    pub token: String,
    /// JSON Pointer to the token's lifetime in seconds. Default `/expires_in`; when the answer
    /// has none, `lifetime` applies.
    #[serde(default = "default_expires_pointer")]
    pub expires_in: String,
    /// Seconds a token lives when the answer does not say. Default 3600.
    #[serde(default = "default_lifetime")]
    pub lifetime: u64,
    /// What precedes the token in the `Authorization` header. Default `"Bearer "`; `""` for
    /// vendors that take the bare token (Breezy HR).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

/// A username and password template pair.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicPair {
    /// Username template.
    pub username: String,
    /// Password template.
    pub password: String,
}

fn default_token_pointer() -> String {
    "/access_token".into()
}

fn default_expires_pointer() -> String {
    "/expires_in".into()
}

fn default_lifetime() -> u64 {
    3600
}

fn default_prefix() -> String {
    "Bearer ".into()
}

impl Auth {
    /// Every template string, for placeholder validation.
    pub fn templates(&self) -> Vec<&str> {
        match self {
            Self::None | Self::Oauth => Vec::new(),
            Self::Basic { username, password } => vec![username, password],
            Self::Bearer { token } => vec![token],
            Self::Header { value, .. } | Self::Query { value, .. } => vec![value],
            Self::Token(exchange) => {
                let mut all = vec![exchange.url.as_str()];
                all.extend(exchange.form.values().map(String::as_str));
                all.extend(exchange.json.as_deref());
                if let Some(basic) = &exchange.basic {
                    all.extend([basic.username.as_str(), basic.password.as_str()]);
                }
                all
            }
        }
    }

    /// The header this scheme sets, lower-case, which a caller's headers may never replace.
    pub fn header_name(&self) -> Option<String> {
        match self {
            Self::None | Self::Query { .. } => None,
            Self::Basic { .. } | Self::Bearer { .. } | Self::Token(_) | Self::Oauth => {
                Some("authorization".into())
            }
            Self::Header { name, .. } => Some(name.to_ascii_lowercase()),
        }
    }
}

/// One API of a tool that passthrough requests may call: `POST /v1/passthrough/{tool}/{id}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    /// Kombo's id of the API (`personnel`, `v1`, `harvest`), so that client code written for
    /// Kombo calls the same API here. Letters, digits, `-` and `_`.
    pub id: String,
    /// The base every request's `path` is appended to: a path appended to the tool's
    /// `base_url` (`/v1`), or an absolute `https://` URL template for an API on another host.
    /// Placeholders may only name non-secret fields: the URL is shown back to the caller.
    pub base_url: String,
    /// How requests present the credentials.
    pub auth: Auth,
    /// Headers sent with every request that the caller cannot replace, such as a vendor's
    /// account header (`X-Company-ID = "{company_id}"`) or an API version it pins.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The vendor's reference for this API, linked from the documentation.
    #[serde(default)]
    pub docs_url: Option<url::Url>,
    /// Values the caller gives in `api_options` that `base_url` names as `{placeholders}`,
    /// such as Workday's `service_name`: Kombo's adapters read them the same way. Each is
    /// checked against its pattern and kept to one path segment or host label.
    #[serde(default)]
    pub options: BTreeMap<String, ApiOption>,
}

/// One `api_options` value an API's base URL takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiOption {
    /// The whole value must match (anchored, as a field's pattern is).
    pub pattern: crate::Pattern,
    /// The value when the caller gives none; without one, the option is required.
    #[serde(default)]
    pub default: Option<String>,
}

impl ApiOption {
    /// The value to use: the caller's, else the default; `Err` names what is wrong.
    pub fn value<'a>(&'a self, given: Option<&'a str>) -> Result<&'a str, &'static str> {
        match given.or(self.default.as_deref()) {
            None => Err("is required"),
            Some(value) if self.pattern.is_match(value) => Ok(value),
            Some(_) => Err("does not match its pattern"),
        }
    }
}

impl Api {
    /// Every template string, for placeholder validation.
    pub fn templates(&self) -> Vec<&str> {
        let mut all = vec![self.base_url.as_str()];
        all.extend(self.auth.templates());
        all.extend(self.headers.values().map(String::as_str));
        all
    }

    /// Whether `base_url` is relative to the tool's base URL.
    pub fn is_relative(&self) -> bool {
        self.base_url.starts_with('/')
    }
}

/// Whether `id` can be an API id: 1 to 40 ASCII letters, digits, `-` or `_`.
pub fn is_api_id(id: &str) -> bool {
    (1..=40).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_schemes_parse_with_their_defaults() {
        let auth: Auth = toml::from_str::<BTreeMap<String, Auth>>(
            r#"a = { type = "token", url = "/auth", form = { client_id = "{client_id}" } }"#,
        )
        .expect("token auth")
        .remove("a")
        .expect("a");
        let Auth::Token(exchange) = &auth else {
            panic!("{auth:?}")
        };
        assert_eq!(exchange.token, "/access_token");
        assert_eq!(exchange.expires_in, "/expires_in");
        assert_eq!(exchange.lifetime, 3600);
        assert_eq!(exchange.prefix, "Bearer ");
        assert_eq!(auth.templates(), vec!["/auth", "{client_id}"]);
        assert_eq!(auth.header_name().as_deref(), Some("authorization"));
        let header = Auth::Header {
            name: "X-API-KEY".into(),
            value: "{api_key}".into(),
        };
        assert_eq!(header.header_name().as_deref(), Some("x-api-key"));
        let query = Auth::Query {
            name: "api_key".into(),
            value: "{api_key}".into(),
        };
        assert_eq!(query.header_name(), None);
    }

    #[test]
    fn api_ids_are_plain() {
        for good in [
            "v1",
            "personnelv2",
            "recruitingV2",
            "harvest-v2",
            "custom_report",
        ] {
            assert!(is_api_id(good), "{good}");
        }
        for bad in ["", "a/b", "..", "a b", "é", &"a".repeat(41)] {
            assert!(!is_api_id(bad), "{bad}");
        }
    }
}
