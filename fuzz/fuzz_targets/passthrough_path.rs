//! The passthrough `path` a caller sends, joined to an API's base URL
//! (`passthrough::path::join`): the one thing standing between a caller and any other URL the
//! integration's credentials would be sent to.
//!
//! The path is built from pieces that are either arbitrary text or one of the spellings that
//! move a URL elsewhere (dot segments plain, percent-encoded once to three times, in Unicode
//! dots, `//`, `@`, backslashes, schemes, fragments, `?`), so the fuzzer reaches the refusals
//! and the combinations between them at once.
//!
//! Properties, for any path and optional query parameter, with the base
//! `https://api.example.com/v1/base`:
//! - no panic;
//! - an accepted URL has the base's scheme, host and port, no user name or password and no
//!   fragment, and its path is `/v1/base` or starts with `/v1/base/`;
//! - no segment of its path is `.` or `..`, also after up to three rounds of percent-decoding
//!   (the rounds `join` inspects; `%2e`, `%2E`, `%252e`…), with or without a trailing `;`, or
//!   in the Unicode dots some servers fold to `.`;
//! - all of this still holds for the URL read back from its text, which is what the tool's
//!   server sees.
#![no_main]

use std::collections::BTreeMap;
use std::sync::LazyLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plugboard::passthrough::path::join;
use url::Url;

/// The API's base URL; a path below the host, so an escape to its parent shows.
static BASE: LazyLock<Url> =
    LazyLock::new(|| Url::parse("https://api.example.com/v1/base").expect("a valid base"));

/// The base's path, which every accepted URL's path must start with.
const BASE_PATH: &str = "/v1/base";

/// Rounds of percent-decoding `join` inspects for hidden dot segments (its `DECODE_ROUNDS`).
const DECODE_ROUNDS: usize = 3;

/// Characters some servers fold to `.`, as `join` lists them.
const DOT_LIKE: &[char] = &[
    '.', '\u{FF0E}', '\u{FE52}', '\u{3002}', '\u{2024}', '\u{2025}', '\u{FF61}',
];

/// Spellings that take a URL somewhere else, or nearly do.
const TOKENS: &[&str] = &[
    "/",
    "..",
    ".",
    "%2e",
    "%2E",
    "%2e%2e",
    ".%2e",
    "%2e.",
    "%252e",
    "%25252e",
    "%2525252e",
    "%E2%80%A5",
    "%2f",
    "%2F",
    "%252f",
    "//",
    "\\",
    "%5c",
    "%5C",
    "%255c",
    "@",
    "%40",
    "?",
    "#",
    "%23",
    ";",
    ":",
    "https:",
    "http://evil.example",
    "//evil.example",
    "javascript:",
    "%00",
    "%0d%0a",
    "%EF%BC%8E",
    "%E3%80%82",
    "%EF%B9%92",
    "%E2%80%A4",
    "%EF%BD%A1",
    "\u{FF0E}",
    " ",
    "\t",
    "a",
    "v1",
    "base",
    "%",
    "%%",
    "%zz",
    "&",
    "=",
];

#[derive(Arbitrary, Debug)]
enum Piece {
    Token(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    pieces: Vec<Piece>,
    param: Option<(String, String)>,
}

/// The invariants of the module documentation for one accepted URL.
fn check(url: &Url, path: &str) {
    assert_eq!(url.scheme(), BASE.scheme(), "{path:?} -> {url}");
    assert_eq!(url.host(), BASE.host(), "{path:?} -> {url}");
    assert_eq!(url.port_or_known_default(), Some(443), "{path:?} -> {url}");
    assert_eq!(url.username(), "", "{path:?} -> {url}");
    assert_eq!(url.password(), None, "{path:?} -> {url}");
    assert_eq!(url.fragment(), None, "{path:?} -> {url}");
    let rest = url
        .path()
        .strip_prefix(BASE_PATH)
        .unwrap_or_else(|| panic!("{path:?} -> {url}: outside the base path"));
    assert!(
        rest.is_empty() || rest.starts_with('/'),
        "{path:?} -> {url}: beside the base path"
    );
    let mut decoded = url.path().to_owned();
    for round in 0..=DECODE_ROUNDS {
        // Path parameters (`..;x`) do not hide a dot segment from servers that strip them.
        let dot_segment = decoded.split('/').find(|segment| {
            let name = segment.split(';').next().unwrap_or_default();
            !name.is_empty() && name.chars().all(|c| DOT_LIKE.contains(&c))
        });
        assert!(
            dot_segment.is_none(),
            "{path:?} -> {url}: dot segment {dot_segment:?} after {round} decoding round(s)"
        );
        decoded = percent_encoding::percent_decode_str(&decoded)
            .decode_utf8_lossy()
            .into_owned();
    }
}

fuzz_target!(|input: Input| {
    let path: String = input
        .pieces
        .iter()
        .map(|piece| match piece {
            Piece::Token(i) => TOKENS[usize::from(*i) % TOKENS.len()],
            Piece::Text(text) => text.as_str(),
        })
        .collect();
    let params: BTreeMap<String, String> = input.param.into_iter().collect();
    let Ok(url) = join(&BASE, &path, &params) else {
        return;
    };
    check(&url, &path);
    let reread = Url::parse(url.as_str()).expect("a joined URL reads back");
    check(&reread, &path);
});
