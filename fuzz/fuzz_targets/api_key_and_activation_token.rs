//! API keys and activation tokens: `tokens::looks_like_api_key`, `display_prefix` and `hash`.
//!
//! Neither kind of token has more of a parser: an API key is checked for its shape and then
//! looked up by its SHA-256; an activation token is looked up by its SHA-256 alone. Properties,
//! for any string (the `Authorization` header's key, the path's activation token):
//! - no panic;
//! - `looks_like_api_key` holds exactly for `pb_prod_` or `pb_dev_` followed by 40 to 50 ASCII
//!   letters and digits (the documented shape, written out independently);
//! - `hash` is the SHA-256 of the UTF-8 bytes, so two tokens share a hash only if they are equal;
//! - `display_prefix`, what key lists show, is the first 12 characters and never more;
//! - and the keys `new_api_key` makes pass the shape check.
//!
//! (A key minted from a 32-byte secret with at least 10 leading zero bytes can be shorter
//! than 40 characters and refused; the chance is below 1 in 10^26, see docs/fuzzing.md.)
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plugboard::tokens::{display_prefix, hash, looks_like_api_key, new_api_key};
use plugboard_store::EnvironmentName;
use sha2::{Digest, Sha256};

#[derive(Arbitrary, Debug)]
struct Input {
    production: bool,
    /// Last, so it takes the rest of the input: a seed is a flag byte and a token.
    token: String,
}

/// The documented shape of an API key.
fn is_api_key(value: &str) -> bool {
    ["pb_prod_", "pb_dev_"].iter().any(|prefix| {
        value.strip_prefix(prefix).is_some_and(|rest| {
            (40..=50).contains(&rest.chars().count())
                && rest.chars().all(|c| c.is_ascii_alphanumeric())
        })
    })
}

fuzz_target!(|input: Input| {
    let token = input.token.as_str();
    assert_eq!(looks_like_api_key(token), is_api_key(token), "{token:?}");
    assert_eq!(hash(token), Sha256::digest(token.as_bytes()).to_vec());
    let shown = display_prefix(token);
    assert!(token.starts_with(&shown));
    assert_eq!(shown.chars().count(), token.chars().count().min(12));

    let environment = if input.production {
        EnvironmentName::Production
    } else {
        EnvironmentName::Development
    };
    assert!(looks_like_api_key(&new_api_key(environment)));
});
