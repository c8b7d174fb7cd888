//! Filling a verification URL template (`https://{subdomain}.example.com/c/{company}/users`)
//! with the end user's values so that no value can move the request.
//!
//! A value is first checked against its field's `pattern`, then placed by where its
//! placeholder sits: in the host, it must be a host name (one label when the placeholder is
//! only part of the host); in the path, it becomes exactly one percent-encoded segment and may
//! not be `.` or `..` (which the URL parser would resolve); in the query, it is
//! percent-encoded. A `url` field may only be the whole start of the template (an instance's
//! base URL) and must be a plain `https://` URL. So `..`, `/`, `%2e%2e`, `?` and `#` in a value
//! stay inside their own segment or are refused.

use crate::{Field, FieldKind};

/// Why a URL template could not be filled; names the field, never its value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    /// The field has no value (or only spaces).
    #[error("{0} is empty")]
    Missing(String),
    /// The value does not match the field's pattern.
    #[error("{0} does not match its pattern")]
    Pattern(String),
    /// The value cannot be (part of) a host name.
    #[error("{0} is not a host name")]
    Host(String),
    /// The value would not stay one path segment.
    #[error("{0} cannot be a path segment")]
    Segment(String),
    /// A `url` field's value is not a plain `https://` URL, or the field is not at the start.
    #[error("{0} is not an https base URL")]
    BaseUrl(String),
    /// The filled template is not a URL.
    #[error("the filled URL is invalid")]
    Invalid,
}

/// Where a placeholder sits in a URL template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The template starts with it: a whole base URL.
    Base,
    /// In the host; `whole` when the placeholder is the entire host.
    Host {
        /// Whether the placeholder is the host and nothing else.
        whole: bool,
    },
    /// In the path.
    Path,
    /// In the query.
    Query,
}

/// The placeholders of a URL template with their byte ranges and slots, in order.
pub fn slots(template: &str) -> Vec<(std::ops::Range<usize>, &str, Slot)> {
    let authority = template.find("://").map(|scheme_end| {
        let start = scheme_end + 3;
        let end = template[start..]
            .find(['/', '?', '#'])
            .map_or(template.len(), |i| start + i);
        start..end
    });
    let query_start = template.find('?').unwrap_or(template.len());
    spans(template)
        .into_iter()
        .map(|(range, name)| {
            let slot = if range.start == 0 {
                Slot::Base
            } else if authority
                .as_ref()
                .is_some_and(|a| a.start <= range.start && range.end <= a.end)
            {
                let whole = authority.as_ref() == Some(&range);
                Slot::Host { whole }
            } else if range.start > query_start {
                Slot::Query
            } else {
                Slot::Path
            };
            (range, name, slot)
        })
        .collect()
}

/// The placeholders in the host of a URL template: values that decide which server is asked.
pub fn host_placeholders(template: &str) -> Vec<&str> {
    slots(template)
        .into_iter()
        .filter(|(_, _, slot)| matches!(slot, Slot::Host { .. } | Slot::Base))
        .map(|(_, name, _)| name)
        .collect()
}

/// The `{name}` placeholders of `template` with their byte ranges (braces included), for
/// filling a template in one pass.
pub fn spans(template: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(start) = template[offset..].find('{').map(|i| offset + i) {
        let after = start + 1;
        let Some(end) = template[after..].find('}').map(|i| after + i) else {
            break;
        };
        let name = &template[after..end];
        if !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            found.push((start..end + 1, name));
            offset = end + 1;
        } else {
            // Not a placeholder (e.g. a JSON object): look again just after this brace.
            offset = after;
        }
    }
    found
}

/// Fills `template` with `value_of(field id)` as described in the module documentation, and
/// parses the result. `fields` supply the patterns and kinds; a placeholder without a field
/// gets the same encoding, without a pattern.
pub fn fill_url<'a>(
    template: &str,
    fields: &[Field],
    value_of: impl Fn(&str) -> Option<&'a str>,
) -> Result<url::Url, FillError> {
    let mut filled = String::with_capacity(template.len() + 32);
    let mut copied = 0;
    for (range, name, slot) in slots(template) {
        filled.push_str(&template[copied..range.start]);
        copied = range.end;
        let field = fields.iter().find(|field| field.id == name);
        let value = value_of(name).unwrap_or_default().trim();
        if value.is_empty() {
            if slot == Slot::Query {
                continue;
            }
            return Err(FillError::Missing(name.to_owned()));
        }
        if let Some(pattern) = field.and_then(|field| field.pattern.as_ref())
            && !pattern.is_match(value)
        {
            return Err(FillError::Pattern(name.to_owned()));
        }
        let is_url = field.is_some_and(|field| field.kind == FieldKind::Url);
        match slot {
            Slot::Base if is_url => {
                let base =
                    url::Url::parse(value).map_err(|_| FillError::BaseUrl(name.to_owned()))?;
                let plain = base.scheme() == "https"
                    && base.host_str().is_some()
                    && base.username().is_empty()
                    && base.password().is_none()
                    && base.query().is_none()
                    && base.fragment().is_none();
                if !plain {
                    return Err(FillError::BaseUrl(name.to_owned()));
                }
                filled.push_str(base.as_str().trim_end_matches('/'));
            }
            Slot::Base => return Err(FillError::BaseUrl(name.to_owned())),
            _ if is_url => return Err(FillError::BaseUrl(name.to_owned())),
            Slot::Host { whole } => {
                if !is_host_name(value, whole) {
                    return Err(FillError::Host(name.to_owned()));
                }
                filled.push_str(&value.to_ascii_lowercase());
            }
            Slot::Path => {
                if value == "." || value == ".." {
                    return Err(FillError::Segment(name.to_owned()));
                }
                filled.push_str(&encode(value));
            }
            Slot::Query => filled.push_str(&encode(value)),
        }
    }
    filled.push_str(&template[copied..]);
    url::Url::parse(&filled).map_err(|_| FillError::Invalid)
}

/// Percent-encodes everything but letters, digits and `-._*`.
fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// A DNS host name of letters, digits and inner hyphens; dots only when `dotted`.
fn is_host_name(value: &str, dotted: bool) -> bool {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    value.len() <= 253
        && if dotted {
            value.split('.').all(label_ok)
        } else {
            label_ok(value)
        }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Localized;

    fn field(id: &str, kind: FieldKind, pattern: Option<&str>) -> Field {
        Field {
            id: id.to_owned(),
            kind,
            required: true,
            pattern: pattern.map(|p| crate::Pattern::new(p).expect("a valid pattern")),
            max_length: 500,
            label: Localized {
                en: id.to_owned(),
                de: id.to_owned(),
                fr: id.to_owned(),
                it: id.to_owned(),
                es: id.to_owned(),
            },
            help: None,
            placeholder: None,
        }
    }

    fn fill(
        template: &str,
        fields: &[Field],
        values: &[(&str, &str)],
    ) -> Result<String, FillError> {
        fill_url(template, fields, |name| {
            values.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        })
        .map(String::from)
    }

    /// Every shipped tool's verification URL fills with its fields' example values, and a
    /// `..` in any of its URL fields is refused.
    #[test]
    fn every_builtin_verification_url_fills_and_refuses_dot_dot() {
        let catalog = crate::Catalog::builtin().expect("catalog");
        let mut checked = 0;
        for tool in catalog.tools() {
            let (Some(base), Some(verify)) = (&tool.base_url, &tool.verify) else {
                continue;
            };
            let template = format!("{}{}", base.trim_end_matches('/'), verify.path);
            let example = |name: &str| {
                tool.fields
                    .iter()
                    .find(|field| field.id == name)
                    .and_then(|field| field.placeholder.as_deref())
                    .or(Some("example"))
            };
            let url = fill_url(&template, &tool.fields, example)
                .unwrap_or_else(|e| panic!("{}: {e}", tool.id));
            assert_eq!(url.scheme(), "https", "{}", tool.id);
            for (_, name, slot) in slots(&template) {
                if slot == Slot::Query {
                    continue;
                }
                let dot_dot = |field: &str| {
                    if field == name {
                        Some("..")
                    } else {
                        example(field)
                    }
                };
                assert!(
                    fill_url(&template, &tool.fields, dot_dot).is_err(),
                    "{}: {name} = ..",
                    tool.id
                );
            }
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }

    #[test]
    fn placeholders_are_placed_by_where_they_sit() {
        let slots: Vec<(&str, Slot)> = slots("https://{sub}.x.com/c/{company}/u?q={key}&r=1")
            .into_iter()
            .map(|(_, name, slot)| (name, slot))
            .collect();
        assert_eq!(
            slots,
            [
                ("sub", Slot::Host { whole: false }),
                ("company", Slot::Path),
                ("key", Slot::Query),
            ]
        );
        assert_eq!(
            slots_of("https://{host}/api"),
            [("host", Slot::Host { whole: true })]
        );
        assert_eq!(slots_of("{instance}/api"), [("instance", Slot::Base)]);
        assert_eq!(host_placeholders("https://{sub}.x.com/{company}"), ["sub"]);
        assert!(host_placeholders("https://api.x.com/gateway.php/{company}").is_empty());
    }

    fn slots_of(template: &str) -> Vec<(&str, Slot)> {
        slots(template)
            .into_iter()
            .map(|(_, name, slot)| (name, slot))
            .collect()
    }

    #[test]
    fn a_path_value_stays_one_segment() {
        let fields = [field("company", FieldKind::Text, None)];
        let template = "https://api.x.com/c/{company}/offers?limit=1";
        for (value, path) in [
            ("acme", "/c/acme/offers"),
            ("a/b", "/c/a%2Fb/offers"),
            ("../admin", "/c/..%2Fadmin/offers"),
            ("%2e%2e", "/c/%252e%252e/offers"),
            ("a?x=1", "/c/a%3Fx%3D1/offers"),
            ("a#frag", "/c/a%23frag/offers"),
            ("a b", "/c/a%20b/offers"),
            ("a\\b", "/c/a%5Cb/offers"),
            ("..a", "/c/..a/offers"),
        ] {
            let url = fill(template, &fields, &[("company", value)]).expect(value);
            let url = url::Url::parse(&url).expect("url");
            assert_eq!(url.host_str(), Some("api.x.com"), "{value}");
            assert_eq!(url.path(), path, "{value}");
            assert_eq!(url.query(), Some("limit=1"), "{value}");
            assert_eq!(url.fragment(), None, "{value}");
        }
        for value in ["..", ".", " .. ", ""] {
            assert!(
                fill(template, &fields, &[("company", value)]).is_err(),
                "{value:?} is refused"
            );
        }
    }

    #[test]
    fn values_are_checked_against_their_pattern() {
        let fields = [field("id", FieldKind::Text, Some("[0-9]+"))];
        let template = "https://api.x.com/customers/{id}";
        assert_eq!(
            fill(template, &fields, &[("id", "42")]).as_deref(),
            Ok("https://api.x.com/customers/42")
        );
        for value in ["42/..", "..", "4 2", "42%2F", "x"] {
            assert_eq!(
                fill(template, &fields, &[("id", value)]),
                Err(FillError::Pattern("id".into())),
                "{value}"
            );
        }
    }

    #[test]
    fn a_host_value_is_a_label_or_a_host_name() {
        let label = [field("sub", FieldKind::Text, None)];
        let template = "https://{sub}.x.com/api";
        assert_eq!(
            fill(template, &label, &[("sub", "Acme-1")]).as_deref(),
            Ok("https://acme-1.x.com/api")
        );
        for value in [
            "evil.com#",
            "evil.com/",
            "a.b",
            "user@evil",
            "evil:80",
            "-a",
            "a%2e",
            "[::1]",
            "..",
        ] {
            assert_eq!(
                fill(template, &label, &[("sub", value)]),
                Err(FillError::Host("sub".into())),
                "{value}"
            );
        }
        let whole = [field("host", FieldKind::Text, None)];
        assert_eq!(
            fill("https://{host}/api", &whole, &[("host", "acme.okta.com")]).as_deref(),
            Ok("https://acme.okta.com/api")
        );
        for value in ["acme.okta.com/x", "a..b", "127.0.0.1:22", "x@y"] {
            assert!(
                fill("https://{host}/api", &whole, &[("host", value)]).is_err(),
                "{value}"
            );
        }
    }

    #[test]
    fn a_query_value_is_encoded_and_may_be_empty() {
        let fields = [field("key", FieldKind::Secret, None)];
        assert_eq!(
            fill(
                "https://x.com/jobs?apikey={key}",
                &fields,
                &[("key", "a&b=c#d")]
            )
            .as_deref(),
            Ok("https://x.com/jobs?apikey=a%26b%3Dc%23d")
        );
        assert!(fill("https://x.com/jobs?apikey={key}", &fields, &[]).is_ok());
    }

    #[test]
    fn a_url_field_is_a_plain_https_base_at_the_start_only() {
        let fields = [field("instance", FieldKind::Url, None)];
        assert_eq!(
            fill(
                "{instance}/api",
                &fields,
                &[("instance", "https://hr.acme.com/")]
            )
            .as_deref(),
            Ok("https://hr.acme.com/api")
        );
        for value in [
            "http://hr.acme.com",
            "https://u:p@hr.acme.com",
            "https://hr.acme.com/?x=1",
            "https://hr.acme.com/#x",
            "hr.acme.com",
        ] {
            assert_eq!(
                fill("{instance}/api", &fields, &[("instance", value)]),
                Err(FillError::BaseUrl("instance".into())),
                "{value}"
            );
        }
        assert!(
            fill(
                "https://x.com/{instance}",
                &fields,
                &[("instance", "https://a.com")]
            )
            .is_err()
        );
    }
}
