//! Link tokens built from arbitrary claims: `tokens::sign_link`, then `verify_link`.
//!
//! Properties, for any claims (any strings, any times) and any "now":
//! - the token is three base64url parts joined by dots, so it fits a URL unescaped;
//! - it verifies to exactly the claims signed while `exp` lies after "now", and is refused as
//!   expired from `exp` on;
//! - it is invalid under another master key, and verifies the same after a master key change
//!   (the fuzz key kept as a previous key); a token signed after that change is invalid for a
//!   vault that has only the old key;
//! - changed in any one byte, cut short, or extended by one byte, it is invalid (never
//!   accepted, never reported as merely expired): there is no second spelling of a signature.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use plugboard::tokens::{
    Language, LinkClaims, LinkError, LinkKind, LinkType, sign_link, verify_link,
};
use plugboard_catalog::Category;
use plugboard_fuzz::{at, other_vault, rotated_vault, vault};

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
    iat: i64,
    exp: i64,
    now: i64,
    tamper: Tamper,
}

/// How to damage the signed token.
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
        lang: LANGUAGES[usize::from(input.language) % LANGUAGES.len()],
        typ: if input.magic_link {
            LinkType::MagicLink
        } else {
            LinkType::Embedded
        },
        email: input.email.clone(),
        org: input.org.clone(),
        oid: input.oid.clone(),
        scope: input.scope.clone(),
        iat: input.iat,
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

fuzz_target!(|input: Input| {
    let vault = vault();
    let claims = claims(&input);
    let token = sign_link(vault, &claims);
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "{token}");
    assert!(
        parts.iter().all(|part| !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')),
        "not URL-safe: {token}"
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
    let after_rotation = sign_link(rotated_vault(), &claims);
    assert_eq!(verify_link(rotated_vault(), &after_rotation, now), expected);
    assert_eq!(
        verify_link(vault, &after_rotation, now),
        Err(LinkError::Invalid)
    );

    if let Ok(damaged) = String::from_utf8(tampered(&token, &input.tamper)) {
        assert_eq!(
            verify_link(vault, &damaged, now),
            Err(LinkError::Invalid),
            "a damaged token was not refused as invalid: {damaged}"
        );
    }
});
