//! Joining a caller's `path` to an API's base URL so that the request cannot leave the API.
//!
//! The caller names a path under the base (`/company/employees?limit=10`). Anything that could
//! move the request elsewhere is refused with a message saying what: an absolute URL or a
//! scheme, a `//` authority, `@`, a backslash, control characters, a fragment, non-ASCII
//! characters (percent-encode them), and dot segments, also when percent-encoded (once or
//! more), written with Unicode dots, or split by backslashes. After joining, the URL must
//! still have the base's scheme, host and port and start with the base's path: the checks
//! above give clear errors, this one is the guarantee.

use std::collections::BTreeMap;

use url::Url;

/// Why a `path` was refused; the message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    /// The path is empty.
    #[error("path must not be empty")]
    Empty,
    /// The path is longer than [`MAX_PATH`].
    #[error("path must be at most {MAX_PATH} characters")]
    TooLong,
    /// An absolute URL, a scheme or an authority (`//host`).
    #[error("path must be relative to the API's base URL, not a URL or //host")]
    NotRelative,
    /// `.` or `..` as a segment, however encoded, also with path parameters (`..;x`).
    #[error("path must not contain . or .. segments (also percent-encoded)")]
    DotSegment,
    /// A backslash, however encoded.
    #[error("path must not contain backslashes")]
    Backslash,
    /// `@`, which some parsers read as user information.
    #[error("path must not contain @ (percent-encode it as %40)")]
    At,
    /// A character below 0x21 or DEL: spaces, tabs, CR and LF.
    #[error("path must not contain spaces or control characters (percent-encode them)")]
    Control,
    /// A character outside ASCII.
    #[error("path must be ASCII: percent-encode other characters")]
    NotAscii,
    /// A `#` fragment, which would never reach the tool.
    #[error("path must not contain a # fragment")]
    Fragment,
    /// The joined URL left the API (the last line of defence; the rules above should say why
    /// first).
    #[error("path leaves the API's base URL")]
    Escapes,
    /// A query parameter name is empty or holds a control character.
    #[error("params: {0:?} is not a valid parameter name")]
    Param(String),
}

/// Longest accepted `path`.
pub const MAX_PATH: usize = 4096;

/// How many rounds of percent-decoding are inspected for hidden dot segments: a server that
/// decodes twice is common, three times rare, more than that unheard of.
const DECODE_ROUNDS: usize = 3;

/// Characters that some servers or proxies fold to `.` or `..` (fullwidth, small and
/// ideographic full stops, one- and two-dot leaders): a segment of only these is a dot segment
/// too.
const DOT_LIKE: &[char] = &[
    '.', '\u{FF0E}', '\u{FE52}', '\u{3002}', '\u{2024}', '\u{2025}', '\u{FF61}',
];

/// The request URL: `path` (which may carry a query) under `base`, with `params` added to the
/// query.
pub fn join(base: &Url, path: &str, params: &BTreeMap<String, String>) -> Result<Url, PathProblem> {
    check(path)?;
    for name in params.keys() {
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(PathProblem::Param(name.clone()));
        }
    }
    let base_path = base.path().trim_end_matches('/');
    let relative = if path.starts_with('/') || path.starts_with('?') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let mut joined = base.clone();
    let (path_part, query) = match relative.split_once('?') {
        Some((path_part, query)) => (path_part, Some(query)),
        None => (relative.as_str(), None),
    };
    joined.set_path(&format!("{base_path}{path_part}"));
    let mut query = query.filter(|q| !q.is_empty()).map(str::to_owned);
    if let Some(base_query) = base.query().filter(|q| !q.is_empty()) {
        query = Some(match query {
            Some(q) => format!("{base_query}&{q}"),
            None => base_query.to_owned(),
        });
    }
    joined.set_query(query.as_deref());
    if !params.is_empty() {
        joined.query_pairs_mut().extend_pairs(params);
    }
    let stays = joined.scheme() == base.scheme()
        && joined.host() == base.host()
        && joined.port_or_known_default() == base.port_or_known_default()
        && joined.username() == base.username()
        && joined.password() == base.password()
        && joined.fragment().is_none()
        && (joined.path() == base_path
            || joined
                .path()
                .strip_prefix(base_path)
                .is_some_and(|rest| rest.starts_with('/')));
    if stays {
        Ok(joined)
    } else {
        Err(PathProblem::Escapes)
    }
}

/// The lexical rules of the module documentation.
fn check(path: &str) -> Result<(), PathProblem> {
    if path.is_empty() {
        return Err(PathProblem::Empty);
    }
    if path.len() > MAX_PATH {
        return Err(PathProblem::TooLong);
    }
    if !path.is_ascii() {
        return Err(PathProblem::NotAscii);
    }
    if path.bytes().any(|b| b < 0x21 || b == 0x7f) {
        return Err(PathProblem::Control);
    }
    if path.starts_with("//") || has_scheme(path) {
        return Err(PathProblem::NotRelative);
    }
    if path.contains('#') {
        return Err(PathProblem::Fragment);
    }
    if path.contains('@') {
        return Err(PathProblem::At);
    }
    let path_part = path.split('?').next().unwrap_or_default();
    let mut decoded = path_part.to_owned();
    for _ in 0..=DECODE_ROUNDS {
        inspect(&decoded)?;
        let next = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
        if next == decoded {
            break;
        }
        decoded = next;
    }
    Ok(())
}

/// Whether the path starts with `scheme:` (letters, digits, `+-.` before a colon that comes
/// before any `/`): `https:…`, `javascript:…`, `file:…`.
fn has_scheme(path: &str) -> bool {
    let head = path.split(['/', '?']).next().unwrap_or_default();
    head.split_once(':').is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    })
}

/// One decoding round's rules: no backslash, no segment made only of dots (or dot-like
/// characters), no `//` authority or control character that decoding revealed.
fn inspect(decoded: &str) -> Result<(), PathProblem> {
    if decoded.contains('\\') {
        return Err(PathProblem::Backslash);
    }
    if decoded.chars().any(char::is_control) {
        return Err(PathProblem::Control);
    }
    // A segment's path parameters (`..;jsessionid=1`) are ignored by servers that read them,
    // so what counts is the part before the first `;`.
    let dot_segment = decoded.split('/').any(|segment| {
        let name = segment.split(';').next().unwrap_or_default();
        !name.is_empty() && name.chars().all(|c| DOT_LIKE.contains(&c))
    });
    if dot_segment {
        return Err(PathProblem::DotSegment);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://api.example.com/v1").expect("base")
    }

    fn joined(path: &str) -> Result<String, PathProblem> {
        join(&base(), path, &BTreeMap::new()).map(String::from)
    }

    #[test]
    fn plain_paths_and_queries_join_under_the_base() {
        assert_eq!(
            joined("/company/employees").as_deref(),
            Ok("https://api.example.com/v1/company/employees")
        );
        assert_eq!(
            joined("company/employees?limit=10&offset=0").as_deref(),
            Ok("https://api.example.com/v1/company/employees?limit=10&offset=0")
        );
        assert_eq!(joined("/").as_deref(), Ok("https://api.example.com/v1/"));
        assert_eq!(
            joined("/users/john%40acme.com").as_deref(),
            Ok("https://api.example.com/v1/users/john%40acme.com")
        );
        assert_eq!(
            joined("/files/report.v2.pdf").as_deref(),
            Ok("https://api.example.com/v1/files/report.v2.pdf"),
            "dots inside a segment are names, not dot segments"
        );
        let params = [("q".to_owned(), "a b&c".to_owned())].into();
        assert_eq!(
            join(&base(), "/search?limit=1", &params).map(String::from),
            Ok("https://api.example.com/v1/search?limit=1&q=a+b%26c".into())
        );
    }

    #[test]
    fn a_base_with_a_query_keeps_it() {
        let base = Url::parse("https://api.example.com/soap?wsdl=1").expect("base");
        assert_eq!(
            join(&base, "/", &BTreeMap::new()).map(String::from),
            Ok("https://api.example.com/soap/?wsdl=1".into())
        );
    }

    /// Each escape has its own expected rule, so a change that refuses it for the wrong
    /// reason (or lets it through) shows here.
    #[test]
    fn escapes_are_refused_each_for_its_reason() {
        use PathProblem::*;
        let cases: &[(&str, PathProblem)] = &[
            ("", Empty),
            ("https://evil.example/x", NotRelative),
            ("HTTP://evil.example", NotRelative),
            ("javascript:alert(1)", NotRelative),
            ("//evil.example/x", NotRelative),
            ("/../admin", DotSegment),
            ("/a/../../admin", DotSegment),
            ("..", DotSegment),
            ("/./x", DotSegment),
            ("/%2e%2e/admin", DotSegment),
            ("/%2E%2E/admin", DotSegment),
            ("/.%2e/admin", DotSegment),
            ("/%252e%252e/admin", DotSegment),
            ("/%25252e%25252e/admin", DotSegment),
            ("/%2e%2e;/admin", DotSegment),
            ("/..;x/admin", DotSegment),
            ("/..;jsessionid=1/admin", DotSegment),
            ("/%2e%2e;a=b/admin", DotSegment),
            ("/%E2%80%A5/admin", DotSegment),
            ("/%EF%BC%8E%EF%BC%8E/admin", DotSegment),
            ("/%E3%80%82%E3%80%82/admin", DotSegment),
            ("/\\..\\admin", Backslash),
            ("/a%5c..%5cadmin", Backslash),
            ("/a%255c..", Backslash),
            ("/x@evil.example", At),
            ("@evil.example/x", At),
            ("/x y", Control),
            ("/x\r\nHost: evil", Control),
            ("/x%0d%0aHost:%20evil", Control),
            ("/x\t", Control),
            ("/x#frag", Fragment),
            ("/ü", NotAscii),
            ("/．．/admin", NotAscii),
        ];
        for (path, problem) in cases {
            assert_eq!(joined(path), Err(problem.clone()), "{path:?}");
        }
        assert_eq!(joined(&"a".repeat(MAX_PATH + 1)), Err(TooLong));
    }

    #[test]
    fn bad_parameter_names_are_refused() {
        for name in ["", "a\nb"] {
            let params = [(name.to_owned(), "x".to_owned())].into();
            assert_eq!(
                join(&base(), "/x", &params),
                Err(PathProblem::Param(name.to_owned()))
            );
        }
    }
}
