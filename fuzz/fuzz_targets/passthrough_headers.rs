//! The headers a caller asks a passthrough call to send (`passthrough::headers::outgoing`):
//! credentials, hop-by-hop headers and the headers Plugboard sets itself must never reach the
//! tool from the caller, and no value may split a header in two.
//!
//! Names are arbitrary text or one of the names that must not cross, in any letter case;
//! values are arbitrary text, optionally with a CR, LF or NUL spliced in.
//!
//! Properties, for any headers, with the API's own header `x-company-id` protected:
//! - no panic;
//! - an accepted set sends none of the hop-by-hop headers, none of the headers Plugboard owns
//!   (`Host`, `Content-Length`, `Authorization`, `Proxy-Authorization`, `Cookie`, the
//!   `Forwarded` family) and not `x-company-id`;
//! - no value sent holds CR, LF or NUL;
//! - every caller header is either sent or named in a warning, never silently lost.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plugboard::passthrough::headers::outgoing;

/// Headers that must never cross from the caller: the module's hop-by-hop and
/// Plugboard-owned lists, and the protected header of this target.
const NEVER_SENT: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
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
    "x-company-id",
];

/// Names that pass, so accepted sets also hold headers that are sent.
const ORDINARY: &[&str] = &["accept", "x-custom", "content-type", "user-agent"];

/// What may be spliced into a value to split the header.
const BREAKS: &[&str] = &[
    "\r",
    "\n",
    "\r\n",
    "\0",
    "\r\nHost: evil.example",
    "\t",
    " ",
];

#[derive(Arbitrary, Debug)]
enum Name {
    Never { index: u8, upper: u32 },
    Ordinary(u8),
    Text(String),
}

#[derive(Arbitrary, Debug)]
struct Header {
    name: Name,
    value: String,
    /// A break spliced in at a character position of the value.
    splice: Option<(u8, u16)>,
}

/// The name in letter case chosen by the bits of `upper`, so `Authorization` and
/// `AUTHORIZATION` are tried as well as `authorization`.
fn cased(name: &str, upper: u32) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            if upper >> (i % 32) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn build(header: &Header) -> (String, String) {
    let name = match &header.name {
        Name::Never { index, upper } => {
            cased(NEVER_SENT[usize::from(*index) % NEVER_SENT.len()], *upper)
        }
        Name::Ordinary(index) => ORDINARY[usize::from(*index) % ORDINARY.len()].to_owned(),
        Name::Text(text) => text.clone(),
    };
    let mut value = header.value.clone();
    if let Some((which, at)) = header.splice {
        let at = value
            .char_indices()
            .map(|(i, _)| i)
            .chain([value.len()])
            .nth(usize::from(at) % (value.chars().count() + 1))
            .unwrap_or(value.len());
        value.insert_str(at, BREAKS[usize::from(which) % BREAKS.len()]);
    }
    (name, value)
}

fuzz_target!(|input: Vec<Header>| {
    let headers: BTreeMap<String, String> = input.iter().map(build).collect();
    let protected = ["x-company-id".to_owned()];
    let Ok((sent, warnings)) = outgoing(&headers, &protected) else {
        return;
    };
    for (name, value) in &sent {
        assert!(
            !NEVER_SENT.contains(&name.as_str()),
            "{name} was sent: {headers:?}"
        );
        assert!(
            !value
                .as_bytes()
                .iter()
                .any(|b| matches!(b, b'\r' | b'\n' | 0)),
            "{name}: {value:?} was sent: {headers:?}"
        );
    }
    assert_eq!(
        sent.len() + warnings.len(),
        headers.len(),
        "sent {sent:?}, warned {warnings:?}: {headers:?}"
    );
});
