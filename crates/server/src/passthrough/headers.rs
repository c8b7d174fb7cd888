//! Which headers cross Plugboard in a passthrough call, in each direction.
//!
//! The caller's headers go to the tool, except: hop-by-hop headers (RFC 9110 §7.6.1), which
//! describe the caller's connection to Plugboard, not Plugboard's to the tool; headers that
//! Plugboard sets itself (`Host`, `Content-Length`); and every header that carries
//! credentials (`Authorization`, `Proxy-Authorization`, `Cookie`, and the API's own auth and
//! fixed headers), which the catalog decides. Those are dropped with a warning the caller can
//! read. A name or value that is not a valid header (CR or LF in it: header injection) is
//! refused outright. The tool's answer comes back without hop-by-hop headers, repeated
//! headers as arrays.

use std::collections::BTreeMap;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

/// Headers that only describe one connection (RFC 9110 §7.6.1, and the `Proxy-*` and
/// `Keep-Alive` of HTTP/1.1 practice).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Headers Plugboard sets itself or that carry credentials, never taken from the caller.
const PLUGBOARD_OWNED: &[&str] = &[
    "host",
    "content-length",
    "authorization",
    "proxy-authorization",
    "cookie",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Longest accepted header value: tools do not need more, and it bounds the work per header.
const MAX_VALUE: usize = 8 * 1024;

/// Most headers a caller may send.
pub const MAX_HEADERS: usize = 100;

/// Why the caller's headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderProblem {
    /// Not a header name (token characters only).
    #[error("headers: {0:?} is not a valid header name")]
    Name(String),
    /// A value with CR, LF, NUL or other control characters, or too long.
    #[error(
        "headers.{0}: the value must be at most 8 KiB of visible characters, spaces and tabs (no line breaks)"
    )]
    Value(String),
    /// More than [`MAX_HEADERS`].
    #[error("headers: at most {MAX_HEADERS} headers")]
    TooMany,
}

/// The caller's headers that go to the tool, and a warning for each one dropped. `protected`
/// lists the API's own header names (lower-case), which the caller may not replace.
pub fn outgoing(
    headers: &BTreeMap<String, String>,
    protected: &[String],
) -> Result<(HeaderMap, Vec<String>), HeaderProblem> {
    if headers.len() > MAX_HEADERS {
        return Err(HeaderProblem::TooMany);
    }
    let mut map = HeaderMap::new();
    let mut warnings = Vec::new();
    for (name, value) in headers {
        let parsed = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| HeaderProblem::Name(name.clone()))?;
        let valid = value.len() <= MAX_VALUE
            && value
                .bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80);
        let value = valid
            .then(|| HeaderValue::from_str(value).ok())
            .flatten()
            .ok_or_else(|| HeaderProblem::Value(name.clone()))?;
        let lower = parsed.as_str();
        if HOP_BY_HOP.contains(&lower) {
            warnings.push(format!(
                "The header {name} was not sent: it describes the connection to Plugboard."
            ));
        } else if PLUGBOARD_OWNED.contains(&lower) || protected.iter().any(|p| p == lower) {
            warnings.push(format!(
                "The header {name} was not sent: Plugboard sets it, with the integration's credentials where they belong."
            ));
        } else {
            map.append(parsed, value);
        }
    }
    Ok((map, warnings))
}

/// A response header's value: one string, or several when the tool repeated the header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum HeaderValueOut {
    /// The header appeared once.
    One(String),
    /// The header appeared several times (`Set-Cookie`, `Link`).
    Many(Vec<String>),
}

/// The tool's response headers as the caller sees them: lower-case names, hop-by-hop headers
/// dropped, values that are not UTF-8 decoded lossily.
pub fn incoming(headers: &HeaderMap) -> BTreeMap<String, HeaderValueOut> {
    let mut out: BTreeMap<String, HeaderValueOut> = BTreeMap::new();
    for (name, value) in headers {
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
        match out.remove(name.as_str()) {
            None => {
                out.insert(name.as_str().to_owned(), HeaderValueOut::One(text));
            }
            Some(HeaderValueOut::One(first)) => {
                out.insert(
                    name.as_str().to_owned(),
                    HeaderValueOut::Many(vec![first, text]),
                );
            }
            Some(HeaderValueOut::Many(mut all)) => {
                all.push(text);
                out.insert(name.as_str().to_owned(), HeaderValueOut::Many(all));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ordinary_headers_pass_and_owned_ones_are_dropped_with_a_warning() {
        let (map, warnings) = outgoing(
            &headers(&[
                ("Accept", "application/pdf"),
                ("X-Custom", "1"),
                ("Authorization", "Bearer theirs"),
                ("host", "evil.example"),
                ("Connection", "close"),
                ("X-Company-Id", "other"),
                ("Cookie", "a=b"),
            ]),
            &["x-company-id".to_owned()],
        )
        .expect("valid");
        assert_eq!(map.len(), 2, "{map:?}");
        assert_eq!(map["accept"], "application/pdf");
        assert_eq!(map["x-custom"], "1");
        assert_eq!(warnings.len(), 5, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("Authorization")));
    }

    #[test]
    fn injections_are_refused() {
        for (name, value) in [
            ("X-A", "1\r\nHost: evil.example"),
            ("X-A", "1\nX-B: 2"),
            ("X-A", "1\r"),
            ("X-A", "nul\0"),
            ("X-A\r\nHost", "1"),
            ("X A", "1"),
            ("", "1"),
            ("X-Ü", "1"),
        ] {
            assert!(
                outgoing(&headers(&[(name, value)]), &[]).is_err(),
                "{name:?}: {value:?}"
            );
        }
        let long = "x".repeat(MAX_VALUE + 1);
        assert!(outgoing(&headers(&[("X-A", &long)]), &[]).is_err());
    }

    #[test]
    fn repeated_response_headers_become_arrays() {
        let mut map = HeaderMap::new();
        map.append("set-cookie", HeaderValue::from_static("a=1"));
        map.append("set-cookie", HeaderValue::from_static("b=2"));
        map.append("content-type", HeaderValue::from_static("application/json"));
        map.append("transfer-encoding", HeaderValue::from_static("chunked"));
        let out = incoming(&map);
        assert_eq!(
            out["set-cookie"],
            HeaderValueOut::Many(vec!["a=1".into(), "b=2".into()])
        );
        assert_eq!(
            out["content-type"],
            HeaderValueOut::One("application/json".into())
        );
        assert!(!out.contains_key("transfer-encoding"));
    }
}
