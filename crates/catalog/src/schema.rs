//! The parts of a tool file that drive the hosted flow: the credential fields the end user
//! fills in, the step-by-step guide, and the request that verifies the credentials against the
//! tool's real API. Every end-user text exists in all five languages of the flow.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A text in every language of the flow. Deserialisation fails, naming the language, when one
/// is missing, so no end user ever sees a blank label.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized<T> {
    /// English.
    pub en: T,
    /// German.
    pub de: T,
    /// French.
    pub fr: T,
    /// Italian.
    pub it: T,
    /// Spanish.
    pub es: T,
}

impl<T> Localized<T> {
    /// The text in `language` (`en`, `de`, `fr`, `it`, `es`); English for anything else.
    pub fn get(&self, language: &str) -> &T {
        match language {
            "de" => &self.de,
            "fr" => &self.fr,
            "it" => &self.it,
            "es" => &self.es,
            _ => &self.en,
        }
    }

    /// All five, for validation.
    pub fn all(&self) -> [(&'static str, &T); 5] {
        [
            ("en", &self.en),
            ("de", &self.de),
            ("fr", &self.fr),
            ("it", &self.it),
            ("es", &self.es),
        ]
    }
}

/// What kind of input a credential field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// Plain text, shown as typed (a subdomain, a client id).
    Text,
    /// A secret: masked while typed, never shown back, sealed at rest.
    Secret,
    /// An absolute `https://` URL (an on-premise instance).
    Url,
    /// An email address (a service user's login).
    Email,
}

/// One credential field of the form.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Key of the value in the stored credentials, and the name of its `{placeholder}` in the
    /// verification request.
    pub id: String,
    /// Input kind.
    pub kind: FieldKind,
    /// Whether the field must be filled in. Default `true`.
    #[serde(default = "yes")]
    pub required: bool,
    /// A regular expression the whole value must match (no `^`/`$`: it is anchored, as an HTML
    /// `pattern` is). Use only syntax that JavaScript and Rust's `regex` read alike.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Longest accepted value. Default 500.
    #[serde(default = "default_max_length")]
    pub max_length: u32,
    /// The field's label.
    pub label: Localized<String>,
    /// One sentence on where to find the value.
    #[serde(default)]
    pub help: Option<Localized<String>>,
    /// An example value shown in the empty input (not localised: values are not words).
    #[serde(default)]
    pub placeholder: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_max_length() -> u32 {
    500
}

/// How the verification request presents the credentials.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum VerifyAuth {
    /// No authorization header (credentials go in headers, query or body instead).
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
}

/// HTTP methods a verification request may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    /// GET.
    Get,
    /// POST.
    Post,
}

/// A request against the tool's real API that succeeds (2xx) only with working credentials.
/// Strings may contain `{field_id}` placeholders, replaced with the end user's values
/// (URL-encoded in the URL, verbatim elsewhere).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verify {
    /// HTTP method.
    pub method: Method,
    /// Path appended to the tool's base URL; may carry a query string.
    pub path: String,
    /// How credentials are presented.
    pub auth: VerifyAuth,
    /// Extra headers, e.g. `X-SmartToken = "{api_key}"`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A form body (`application/x-www-form-urlencoded`), for token endpoints.
    #[serde(default)]
    pub form: BTreeMap<String, String>,
    /// A JSON body template.
    #[serde(default)]
    pub json: Option<String>,
}

/// The placeholders (`{name}`, name in snake_case) in `template`. Other braces, such as those
/// of a JSON body, are left alone.
pub fn placeholders(template: &str) -> Vec<&str> {
    crate::template::spans(template)
        .into_iter()
        .map(|(_, name)| name)
        .collect()
}

impl Verify {
    /// Every template string of the request, for placeholder validation.
    pub fn templates(&self) -> Vec<&str> {
        let mut all = vec![self.path.as_str()];
        match &self.auth {
            VerifyAuth::None => {}
            VerifyAuth::Basic { username, password } => {
                all.extend([username.as_str(), password.as_str()])
            }
            VerifyAuth::Bearer { token } => all.push(token),
        }
        all.extend(self.headers.values().map(String::as_str));
        all.extend(self.form.values().map(String::as_str));
        all.extend(self.json.as_deref());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_found() {
        assert_eq!(
            placeholders("https://{subdomain}.x.com/{a}/b"),
            vec!["subdomain", "a"]
        );
        assert!(placeholders("no placeholders").is_empty());
        assert_eq!(placeholders("{unclosed"), Vec::<&str>::new());
        assert_eq!(
            placeholders(r#"{"client_id": "{client_id}"}"#),
            vec!["client_id"]
        );
    }
}
