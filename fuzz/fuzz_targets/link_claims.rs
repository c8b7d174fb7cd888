//! Link tokens built from arbitrary claims: `tokens::seal_link`, then `verify_link`.
//!
//! Properties, for any claims (any strings, any times) and any "now":
//! - the token is sealed (`v4.local.`, then the sealed body and the footer in base64url), so it
//!   fits a URL unescaped, and the body does not show the e-mail or the organisation;
//! - it opens to exactly the claims sealed while `exp` lies after "now", and is refused as
//!   expired from `exp` on; the same nonce seals the same claims to the same token;
//! - it is invalid under another master key, and opens the same after a master key change
//!   (the fuzz key kept as a previous key); a token sealed after that change is invalid for a
//!   vault that has only the old key;
//! - changed in any one byte, cut short, or extended by one byte, it is invalid (never
//!   accepted, never reported as merely expired): there is no second spelling of a token;
//! - the same claims signed the way links were before sealing (JWS) still open alike.
#![no_main]

use arbitrary::Arbitrary;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use plugboard::{
    links::{Language, LinkClaims, LinkKind, LinkType},
    tokens::{LinkError, seal_link, seal_link_with_nonce, sign_legacy_link, verify_link},
};
use plugboard_catalog::Category;
use plugboard_fuzz::{at, other_vault, remake, rotated_vault, vault};

#[derive(Arbitrary, Debug)]
struct Input {
    jti: String,
    env: String,
    relink: bool,
    iid: Option<String>,
    category: u8,
    tool: Option<String>,
    renv: Option<String>,
    language: u8,
    magic_link: bool,
    email: Option<String>,
    org: String,
    oid: Option<String>,
    scope: Option<String>,
    exp: i64,
    now: i64,
    tamper: Tamper,
}

/// How to damage the sealed token.
#[derive(Arbitrary, Debug)]
enum Tamper {
    /// XOR the byte at this position (modulo the length) with a non-zero mask.
    Flip(usize, u8),
    /// Keep only this many bytes (modulo the length).
    Truncate(usize),
    /// Insert a byte at this position (modulo the length + 1).
    Insert(usize, u8),
}

fn claims(input: &Input) -> LinkClaims {
    const LANGUAGES: [Language; 5] = [
        Language::En,
        Language::De,
        Language::Fr,
        Language::It,
        Language::Es,
    ];
    LinkClaims {
        jti: input.jti.clone(),
        env: input.env.clone(),
        kind: if input.relink {
            LinkKind::Relink
        } else {
            LinkKind::Connect
        },
        iid: input.iid.clone(),
        cat: Category::ALL[usize::from(input.category) % Category::ALL.len()],
        tool: input.tool.clone(),
        renv: input.renv.clone(),
        // One value in six names no language (the browser's is used).
        lang: LANGUAGES
            .get(usize::from(input.language) % (LANGUAGES.len() + 1))
            .copied(),
        typ: if input.magic_link {
            LinkType::MagicLink
        } else {
            LinkType::Embedded
        },
        email: input.email.clone(),
        org: input.org.clone(),
        oid: input.oid.clone(),
        scope: input.scope.clone(),
        exp: input.exp,
    }
}

fn tampered(token: &str, tamper: &Tamper) -> Vec<u8> {
    let mut bytes = token.as_bytes().to_vec();
    match *tamper {
        Tamper::Flip(at, mask) => bytes[at % token.len()] ^= mask.max(1),
        Tamper::Truncate(keep) => bytes.truncate(keep % token.len()),
        Tamper::Insert(at, byte) => bytes.insert(at % (token.len() + 1), byte),
    }
    bytes
}

/// Whether `needle` (at least 8 bytes, so chance cannot produce it) occurs in `haystack`.
fn shows(haystack: &[u8], needle: &str) -> bool {
    needle.len() >= 8
        && haystack
            .windows(needle.len())
            .any(|window| window == needle.as_bytes())
}

fuzz_target!(|input: Input| {
    let vault = vault();
    let claims = claims(&input);
    let token = seal_link(vault, &claims);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 4, "{token}");
    assert_eq!((parts[0], parts[1]), ("v4", "local"), "{token}");
    assert!(
        parts[2..].iter().all(|part| !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
        "not URL-safe: {token}"
    );
    let body = URL_SAFE_NO_PAD.decode(parts[2]).expect("base64url");
    for secret in [&claims.org, claims.email.as_deref().unwrap_or_default()] {
        assert!(!shows(&body, secret), "{secret:?} readable in {token}");
    }
    assert_eq!(remake(vault, &token, &claims), token, "not deterministic");
    assert_ne!(
        seal_link_with_nonce(vault, &claims, [0; 32]),
        seal_link_with_nonce(vault, &claims, [1; 32]),
        "the nonce is not used"
    );

    let now = at(input.now);
    let expected = if claims.exp > now.timestamp() {
        Ok(claims.clone())
    } else {
        Err(LinkError::Expired)
    };
    assert_eq!(verify_link(vault, &token, now), expected);
    assert_eq!(
        verify_link(other_vault(), &token, now),
        Err(LinkError::Invalid)
    );
    assert_eq!(verify_link(rotated_vault(), &token, now), expected);
    let after_rotation = seal_link(rotated_vault(), &claims);
    assert_eq!(verify_link(rotated_vault(), &after_rotation, now), expected);
    assert_eq!(
        verify_link(vault, &after_rotation, now),
        Err(LinkError::Invalid)
    );
    let legacy = sign_legacy_link(vault, &claims);
    assert_eq!(verify_link(vault, &legacy, now), expected, "{legacy}");
    assert_eq!(verify_link(rotated_vault(), &legacy, now), expected);

    if let Ok(damaged) = String::from_utf8(tampered(&token, &input.tamper)) {
        assert_eq!(
            verify_link(vault, &damaged, now),
            Err(LinkError::Invalid),
            "a damaged token was not refused as invalid: {damaged}"
        );
    }
});
