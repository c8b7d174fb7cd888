//! The parts of a tool file that drive the hosted flow: the credential fields the end user
//! fills in, the step-by-step guide, and the request that verifies the credentials against the
//! tool's real API. Every end-user text exists in all five languages of the flow.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::Auth;

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
    pub pattern: Option<Pattern>,
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

impl Field {
    /// Whether `value` (already trimmed) is acceptable: the server's half of the rule whose
    /// browser half is [`Field::input`]. An empty optional field is acceptable whatever its
    /// pattern or kind, as it is to the browser.
    pub fn check(&self, value: &str) -> Result<(), FieldProblem> {
        if value.is_empty() {
            return if self.required {
                Err(FieldProblem::Required)
            } else {
                Ok(())
            };
        }
        if value.chars().count() > self.max_length as usize {
            return Err(FieldProblem::TooLong {
                max: self.max_length,
            });
        }
        if self.pattern.as_ref().is_some_and(|p| !p.is_match(value)) {
            return Err(FieldProblem::Pattern);
        }
        let fits_kind = match self.kind {
            FieldKind::Url => is_https_url(value),
            FieldKind::Email => is_plain_email(value),
            FieldKind::Text | FieldKind::Secret => true,
        };
        if fits_kind {
            Ok(())
        } else {
            Err(self.mismatch())
        }
    }

    /// The attributes of the field's `<input>`, from the same rule as [`Field::check`], so the
    /// browser refuses what the server would refuse before the form is sent.
    pub fn input(&self) -> Input<'_> {
        Input {
            input_type: match self.kind {
                FieldKind::Text => "text",
                FieldKind::Secret => "password",
                FieldKind::Url => "url",
                FieldKind::Email => "email",
            },
            required: self.required,
            pattern: self.pattern.as_ref().map(Pattern::as_str),
            max_length: self.max_length,
        }
    }

    /// What a value of the wrong form is called: the browser reports a type or pattern
    /// mismatch with one message per field, and this says which one it is.
    pub fn mismatch(&self) -> FieldProblem {
        match self.kind {
            FieldKind::Url => FieldProblem::NotUrl,
            FieldKind::Email => FieldProblem::NotEmail,
            FieldKind::Text | FieldKind::Secret => FieldProblem::Pattern,
        }
    }
}

/// Why [`Field::check`] refused a value; the flow says it in the end user's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// A required field is empty.
    Required,
    /// The value has more characters than the field accepts.
    TooLong {
        /// The field's `max_length`, which the message names.
        max: u32,
    },
    /// The value does not match the field's pattern.
    Pattern,
    /// A URL field's value is not an absolute `https://` URL with a host.
    NotUrl,
    /// An email field's value is not a plain address (see [`is_plain_email`]).
    NotEmail,
}

/// The HTML attributes of a field's `<input>`: what the browser checks before submitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input<'a> {
    /// The `type` attribute: `text`, `password`, `url` or `email`.
    pub input_type: &'static str,
    /// The `required` attribute.
    pub required: bool,
    /// The `pattern` attribute, unanchored as HTML wants it.
    pub pattern: Option<&'a str>,
    /// The `maxlength` attribute.
    pub max_length: u32,
}

/// A field's `pattern`, compiled once when the catalog loads (a file whose pattern does not
/// compile does not load). The browser gets the source, which HTML anchors; the server matches
/// the same expression anchored the same way.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: String,
    anchored: regex::Regex,
}

impl Pattern {
    /// Compiles `source`, anchored at both ends.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            source: source.to_owned(),
            anchored: regex::Regex::new(&format!("^(?:{source})$"))?,
        })
    }

    /// The expression as written in the tool file, for the HTML `pattern` attribute.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `value` matches.
    pub fn is_match(&self, value: &str) -> bool {
        self.anchored.is_match(value)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Self::new(&source).map_err(|e| serde::de::Error::custom(format!("pattern {source:?}: {e}")))
    }
}

/// Whether `value` is an absolute `https://` URL with a host, as a URL field needs.
fn is_https_url(value: &str) -> bool {
    url::Url::parse(value).is_ok_and(|url| url.scheme() == "https" && url.host().is_some())
}

/// Whether `email` is a plain address: valid, at most 320 bytes, and without the quoting or
/// angle brackets that an address may carry but that no end user types into a form.
pub fn is_plain_email(email: &str) -> bool {
    email.len() <= 320
        && !email.starts_with('"')
        && !email.contains(['<', '>', '"'])
        && email_address::EmailAddress::is_valid(email)
}

fn yes() -> bool {
    true
}

fn default_max_length() -> u32 {
    500
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
    pub auth: Auth,
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
        all.extend(self.auth.templates());
        all.extend(self.headers.values().map(String::as_str));
        all.extend(self.form.values().map(String::as_str));
        all.extend(self.json.as_deref());
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: FieldKind, pattern: Option<&str>) -> Field {
        let label = "Subdomain".to_owned();
        Field {
            id: "subdomain".to_owned(),
            kind,
            required: true,
            pattern: pattern.map(|p| Pattern::new(p).expect("a valid pattern")),
            max_length: 10,
            label: Localized {
                en: label.clone(),
                de: label.clone(),
                fr: label.clone(),
                it: label.clone(),
                es: label,
            },
            help: None,
            placeholder: None,
        }
    }

    #[test]
    fn an_empty_value_is_refused_only_when_required() {
        let mut text = field(FieldKind::Email, Some("[a-z]+"));
        assert_eq!(text.check(""), Err(FieldProblem::Required));
        text.required = false;
        assert_eq!(
            text.check(""),
            Ok(()),
            "no pattern or kind applies to nothing"
        );
    }

    #[test]
    fn a_value_longer_than_max_length_characters_is_refused() {
        let text = field(FieldKind::Text, Some("[a-zé]+"));
        assert_eq!(
            text.check("éééééééééé"),
            Ok(()),
            "ten characters, twenty bytes"
        );
        assert_eq!(
            text.check("aaaaaaaaaaa"),
            Err(FieldProblem::TooLong { max: 10 })
        );
    }

    #[test]
    fn the_pattern_must_match_the_whole_value() {
        let text = field(FieldKind::Text, Some("[a-z]+|[0-9]+"));
        assert_eq!(text.check("acme"), Ok(()));
        assert_eq!(text.check("42"), Ok(()));
        for value in ["acme42", "acme/..", "ACME", " x"] {
            assert_eq!(text.check(value), Err(FieldProblem::Pattern), "{value:?}");
        }
        assert_eq!(field(FieldKind::Secret, None).check("any thing"), Ok(()));
    }

    #[test]
    fn a_url_field_takes_only_https_urls_with_a_host() {
        let mut url = field(FieldKind::Url, None);
        url.max_length = 500;
        assert_eq!(url.check("https://hr.acme.example/api"), Ok(()));
        for value in [
            "http://hr.acme.example",
            "hr.acme.example",
            "https://",
            "data:,x",
        ] {
            assert_eq!(url.check(value), Err(FieldProblem::NotUrl), "{value:?}");
        }
    }

    #[test]
    fn an_email_field_takes_only_plain_addresses() {
        let mut email = field(FieldKind::Email, None);
        email.max_length = 500;
        assert_eq!(email.check("o'brien+hr@acme.example"), Ok(()));
        for value in [
            "acme.example",
            "a>b@acme.example",
            "\"a\"@acme.example",
            "a@",
        ] {
            assert_eq!(email.check(value), Err(FieldProblem::NotEmail), "{value:?}");
        }
        assert!(!is_plain_email(&format!(
            "{}@acme.example",
            "a".repeat(320)
        )));
    }

    /// The browser's attributes and the server's check read the same rule.
    #[test]
    fn the_input_attributes_are_the_fields_rule() {
        let text = field(FieldKind::Text, Some("[a-z]+"));
        assert_eq!(
            text.input(),
            Input {
                input_type: "text",
                required: true,
                pattern: Some("[a-z]+"),
                max_length: 10,
            }
        );
        let kinds = [
            (FieldKind::Text, "text", FieldProblem::Pattern),
            (FieldKind::Secret, "password", FieldProblem::Pattern),
            (FieldKind::Url, "url", FieldProblem::NotUrl),
            (FieldKind::Email, "email", FieldProblem::NotEmail),
        ];
        for (kind, input_type, mismatch) in kinds {
            let field = field(kind, None);
            assert_eq!(field.input().input_type, input_type);
            assert_eq!(field.mismatch(), mismatch);
        }
    }

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
