//! The kinds of token Plugboard hands out.
//!
//! - **API keys** (`pb_prod_…`, `pb_dev_…`): 256 random bits; the prefix shows the environment
//!   and lets secret scanners recognise a leaked key. Stored only as SHA-256: a key this long
//!   needs no slow hash, and lookups stay one indexed read.
//! - **Activation tokens** (`pbat_…`): 256 random bits, stored only as SHA-256.
//! - **Operators' sign-in tokens** (`pbst_…`) and **dashboard session ids**: 256 random bits,
//!   stored only as SHA-256; a session's CSRF token is an HMAC of its hash, stored nowhere.
//! - **Link tokens**: the stateless connection links, so an embedded link needs no database
//!   row and an abandoned flow leaves nothing behind. A link carries the end user's e-mail and
//!   organisation and travels through browser histories and proxy logs, so its [`LinkClaims`]
//!   are sealed, not only signed: PASETO v4.local (XChaCha20 and a BLAKE2b MAC, through the
//!   `rusty_paseto` crate) under a key derived from the master key, with the key id in the
//!   footer (`{"kid":…}`) so links sealed before a master key change still open. Links issued
//!   before sealing (a compact JWS, HS256, whose payload anyone can read) are still verified
//!   until they expire; none are issued any more.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use plugboard_catalog::Category;
use plugboard_store::EnvironmentName;
use rand::RngCore;
use rusty_paseto::core::{
    Footer, ImplicitAssertion, Key, Local, Paseto, PasetoNonce, PasetoSymmetricKey, Payload, V4,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::vault::Vault;

type HmacSha256 = Hmac<Sha256>;

/// 32 random bytes in base58.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bs58::encode(bytes).into_string()
}

/// SHA-256 of a token: what the database stores instead of the token.
pub fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The prefix of API keys of `environment`.
pub fn api_key_prefix(environment: EnvironmentName) -> &'static str {
    match environment {
        EnvironmentName::Production => "pb_prod_",
        EnvironmentName::Development => "pb_dev_",
    }
}

/// A new API key for `environment`.
pub fn new_api_key(environment: EnvironmentName) -> String {
    format!("{}{}", api_key_prefix(environment), random_secret())
}

/// The part of a key shown in lists: the environment prefix and a few characters.
pub fn display_prefix(key: &str) -> String {
    key.chars().take(12).collect()
}

/// Whether `value` has the shape of a Plugboard API key (cheap check before a lookup).
pub fn looks_like_api_key(value: &str) -> bool {
    EnvironmentName::ALL.iter().any(|env| {
        value
            .strip_prefix(api_key_prefix(*env))
            .is_some_and(|rest| {
                (40..=50).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
            })
    })
}

/// Prefix of activation tokens.
pub const ACTIVATION_PREFIX: &str = "pbat_";

/// A new activation token.
pub fn new_activation_token() -> String {
    format!("{ACTIVATION_PREFIX}{}", random_secret())
}

/// Prefix of operators' one-time sign-in tokens (the link `plugboard operators create` prints).
pub const SIGNIN_TOKEN_PREFIX: &str = "pbst_";

/// A new one-time sign-in token for an operator; stored only as SHA-256.
pub fn new_signin_token() -> String {
    format!("{SIGNIN_TOKEN_PREFIX}{}", random_secret())
}

/// A new dashboard session id (the session cookie's value); stored only as SHA-256.
pub fn new_session_id() -> String {
    random_secret()
}

fn csrf_mac(key: &[u8; 32], session_hash: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"csrf\0");
    mac.update(session_hash);
    mac
}

/// The CSRF token of the dashboard session whose id hashes to `session_hash`: an HMAC, so it
/// needs no storage, differs per session and cannot be computed without the master key.
pub fn csrf_token(vault: &Vault, session_hash: &[u8]) -> String {
    let key = vault
        .dashboard_keys()
        .next()
        .expect("the current key always exists");
    URL_SAFE_NO_PAD.encode(csrf_mac(key, session_hash).finalize().into_bytes())
}

/// Whether `token` is the CSRF token of the session whose id hashes to `session_hash`.
pub fn verify_csrf(vault: &Vault, session_hash: &[u8], token: &str) -> bool {
    let Ok(token) = URL_SAFE_NO_PAD.decode(token) else {
        return false;
    };
    vault
        .dashboard_keys()
        .any(|key| csrf_mac(key, session_hash).verify_slice(&token).is_ok())
}

use crate::links::{Language, LinkClaims, LinkKind, LinkType};

/// Why a link token was refused. Deliberately coarse: the end user can only act on
/// "ask for a new link" versus "this link has expired".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token Plugboard signed, or altered.
    #[error("the link is invalid")]
    Invalid,
    /// Genuine but past its expiry.
    #[error("the link has expired")]
    Expired,
}

/// How every sealed link begins (PASETO's version and purpose).
const SEALED_HEADER: &str = "v4.local.";

/// PASETO's implicit assertion: authenticated but not carried. It binds a sealed token to its
/// use, so nothing else sealed under a link key could ever pass for a link.
const LINK_ASSERTION: &str = "plugboard link v1";

/// The footer of a sealed link: the id of the master key whose subkey sealed it. Public, and
/// authenticated with the rest of the token.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedFooter<'a> {
    #[serde(borrow)]
    kid: std::borrow::Cow<'a, str>,
}

fn sealed_footer(key_id: &str) -> String {
    // Key ids are base58 (`vault.rs`): nothing in them needs escaping in JSON.
    format!(r#"{{"kid":"{key_id}"}}"#)
}

fn paseto_key(bytes: &[u8; 32]) -> PasetoSymmetricKey<V4, Local> {
    PasetoSymmetricKey::from(Key::from(*bytes))
}

/// Seals `claims` into a link token (PASETO v4.local, footer `{"kid":…}`) with the current key.
pub fn seal_link(vault: &Vault, claims: &LinkClaims) -> String {
    // ThreadRng is a CSPRNG seeded from the OS (what PASETO asks of a nonce), without a system
    // call per link.
    let mut nonce = [0u8; 32];
    rand::rng().fill_bytes(&mut nonce);
    seal_link_with_nonce(vault, claims, nonce)
}

/// [`seal_link`] with a given nonce. Only for tests and the fuzzer, which check that a token
/// that opens is exactly the one its claims and nonce make (no second spelling opens).
#[doc(hidden)]
pub fn seal_link_with_nonce(vault: &Vault, claims: &LinkClaims, nonce: [u8; 32]) -> String {
    // Claims are strings, integers and unit enums: serialising cannot fail.
    let mut payload = Vec::with_capacity(256);
    serde_json::to_writer(&mut payload, claims).expect("link claims always serialise");
    let payload = std::str::from_utf8(&payload).expect("serde_json writes UTF-8");
    let key = vault
        .link_seal_key(None)
        .expect("the current key always exists");
    let footer = sealed_footer(vault.key_id());
    Paseto::<V4, Local>::builder()
        .set_payload(Payload::from(payload))
        .set_footer(Footer::from(footer.as_str()))
        .set_implicit_assertion(ImplicitAssertion::from(LINK_ASSERTION))
        .try_encrypt(&paseto_key(key), &PasetoNonce::from(&Key::from(nonce)))
        .expect("v4.local encryption with a 32-byte key cannot fail")
}

/// Opens a link token, sealed or (until the last of them expires) signed, checks its expiry
/// and returns its claims.
pub fn verify_link(
    vault: &Vault,
    token: &str,
    now: DateTime<Utc>,
) -> Result<LinkClaims, LinkError> {
    let claims = if token.starts_with(SEALED_HEADER) {
        open_sealed(vault, token)?
    } else {
        verify_legacy(vault, token)?
    };
    if claims.exp <= now.timestamp() {
        return Err(LinkError::Expired);
    }
    Ok(claims)
}

fn open_sealed(vault: &Vault, token: &str) -> Result<LinkClaims, LinkError> {
    // v4.local.<nonce ‖ ciphertext ‖ tag>.<footer>: the footer is required, it names the key.
    if token.split('.').count() != 4 {
        return Err(LinkError::Invalid);
    }
    let (_, footer) = token.rsplit_once('.').ok_or(LinkError::Invalid)?;
    // A footer is a few dozen characters; a long one is refused before decoding it.
    if footer.len() > 128 {
        return Err(LinkError::Invalid);
    }
    let footer = URL_SAFE_NO_PAD
        .decode(footer)
        .map_err(|_| LinkError::Invalid)?;
    let parsed: SealedFooter<'_> =
        serde_json::from_slice(&footer).map_err(|_| LinkError::Invalid)?;
    let key = vault
        .link_seal_key(Some(&parsed.kid))
        .ok_or(LinkError::Invalid)?;
    // The footer must be spelled exactly as this server writes it: rusty_paseto compares the
    // token's footer with this one, and the MAC covers it.
    let expected = sealed_footer(&parsed.kid);
    let payload = Paseto::<V4, Local>::try_decrypt(
        token,
        &paseto_key(key),
        Footer::from(expected.as_str()),
        ImplicitAssertion::from(LINK_ASSERTION),
    )
    .map_err(|_| LinkError::Invalid)?;
    serde_json::from_str(&payload).map_err(|_| LinkError::Invalid)
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// Signs `claims` into a compact JWS, the format of links issued before links were sealed.
/// Only for tests and the fuzzer, which check that such links still open: Plugboard no longer
/// issues them.
#[doc(hidden)]
pub fn sign_legacy_link(vault: &Vault, claims: &LinkClaims) -> String {
    #[derive(Serialize)]
    struct Legacy<'a> {
        jti: &'a str,
        env: &'a str,
        kind: LinkKind,
        #[serde(skip_serializing_if = "Option::is_none")]
        iid: &'a Option<String>,
        cat: Category,
        #[serde(skip_serializing_if = "Option::is_none")]
        tool: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        renv: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        lang: Option<Language>,
        typ: LinkType,
        #[serde(skip_serializing_if = "Option::is_none")]
        email: &'a Option<String>,
        org: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        oid: &'a Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: &'a Option<String>,
        iat: i64,
        exp: i64,
    }
    let header = Header {
        alg: "HS256".into(),
        typ: "JWT".into(),
        kid: vault.key_id().into(),
    };
    let legacy = Legacy {
        jti: &claims.jti,
        env: &claims.env,
        kind: claims.kind,
        iid: &claims.iid,
        cat: claims.cat,
        tool: &claims.tool,
        renv: &claims.renv,
        lang: claims.lang,
        typ: claims.typ,
        email: &claims.email,
        org: &claims.org,
        oid: &claims.oid,
        scope: &claims.scope,
        iat: claims
            .exp
            .saturating_sub(claims.typ.lifetime().num_seconds()),
        exp: claims.exp,
    };
    let signing_input = format!("{}.{}", encode_json(&header), encode_json(&legacy));
    let key = vault.link_key(None).expect("the current key always exists");
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies a link signed before links were sealed (compact JWS, HS256).
fn verify_legacy(vault: &Vault, token: &str) -> Result<LinkClaims, LinkError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LinkError::Invalid);
    };
    let decode = |part: &str| URL_SAFE_NO_PAD.decode(part).map_err(|_| LinkError::Invalid);
    let parsed: Header =
        serde_json::from_slice(&decode(header)?).map_err(|_| LinkError::Invalid)?;
    if parsed.alg != "HS256" {
        return Err(LinkError::Invalid);
    }
    let key = vault
        .link_key(Some(&parsed.kid))
        .ok_or(LinkError::Invalid)?;
    let mut mac = HmacSha256::new_from_slice(key).map_err(|_| LinkError::Invalid)?;
    mac.update(header.as_bytes());
    mac.update(b".");
    mac.update(payload.as_bytes());
    // verify_slice compares in constant time.
    mac.verify_slice(&decode(signature)?)
        .map_err(|_| LinkError::Invalid)?;
    serde_json::from_slice(&decode(payload)?).map_err(|_| LinkError::Invalid)
}

/// How long a rendered credentials form stays submittable.
pub const FORM_LIFETIME: chrono::Duration = chrono::Duration::hours(2);

fn form_mac(key: &[u8; 32], link_id: &str, tool: &str, issued_at: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(format!("form\0{link_id}\0{tool}\0{issued_at}").as_bytes());
    mac
}

/// The signed `state` field of a credentials form: binds a submission to the link and tool the
/// form was rendered for, and to when, so a form cannot be replayed against another tool or
/// long after it was shown. No cookie is needed, which a cross-site iframe could not keep.
pub fn sign_form_state(vault: &Vault, link_id: &str, tool: &str, now: DateTime<Utc>) -> String {
    let issued_at = now.timestamp();
    let key = vault.link_key(None).expect("the current key always exists");
    let signature = URL_SAFE_NO_PAD.encode(
        form_mac(key, link_id, tool, issued_at)
            .finalize()
            .into_bytes(),
    );
    format!("{issued_at}.{signature}")
}

/// Whether `state` was signed for this link and tool within [`FORM_LIFETIME`].
pub fn verify_form_state(
    vault: &Vault,
    link_id: &str,
    tool: &str,
    state: &str,
    now: DateTime<Utc>,
) -> bool {
    let Some((issued, signature)) = state.split_once('.') else {
        return false;
    };
    let (Ok(issued_at), Ok(signature)) = (issued.parse::<i64>(), URL_SAFE_NO_PAD.decode(signature))
    else {
        return false;
    };
    // Checked: an issue time far from now (the fuzzer sent i64::MIN) must not overflow.
    let fresh = now
        .timestamp()
        .checked_sub(issued_at)
        .is_some_and(|age| (0..=FORM_LIFETIME.num_seconds()).contains(&age));
    // A form rendered just before a master key change still submits.
    fresh
        && vault.link_keys().any(|key| {
            form_mac(key, link_id, tool, issued_at)
                .verify_slice(&signature)
                .is_ok()
        })
}

/// base64url of a value's JSON. Plain structs of strings and integers always serialise.
fn encode_json(value: &impl Serialize) -> String {
    URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(value).expect("token parts are plain data and serialise"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MasterKey;

    const EMAIL: &str = "jane.doe@acme-industries.example";
    const ORG: &str = "Acme Industries";

    fn claims(exp: i64) -> LinkClaims {
        LinkClaims {
            jti: plugboard_store::ids::new_id(),
            env: "env".into(),
            kind: LinkKind::Connect,
            iid: None,
            cat: Category::Hris,
            tool: Some("personio".into()),
            renv: None,
            lang: Some(Language::De),
            typ: LinkType::Embedded,
            email: Some(EMAIL.into()),
            org: ORG.into(),
            oid: Some("customer-1".into()),
            scope: None,
            exp,
        }
    }

    /// Every base64 decoding of every part of `token` (both alphabets, every alignment), and
    /// the token itself.
    fn decodings(token: &str) -> Vec<Vec<u8>> {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD as URL};
        let mut out = vec![token.as_bytes().to_vec()];
        for part in token.split(['.', '?', '=', '&']) {
            for skip in 0..4.min(part.len()) {
                let part = &part[skip..];
                let part = &part[..part.len() - part.len() % 4];
                for engine in [&URL, &STANDARD_NO_PAD] {
                    // Decode what decodes: characters of the other alphabet end a run.
                    for run in
                        part.split(|c: char| !(c.is_ascii_alphanumeric() || "-_+/".contains(c)))
                    {
                        let run = &run[..run.len() - run.len() % 4];
                        if let Ok(bytes) = engine.decode(run) {
                            out.push(bytes);
                        }
                    }
                }
            }
        }
        out
    }

    fn contains(haystack: &[u8], needle: &str) -> bool {
        haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
    }

    #[test]
    fn links_are_sealed_round_trip_and_expire() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let original = claims(now.timestamp() + 60);
        let token = seal_link(&vault, &original);
        assert!(token.starts_with("v4.local."), "PASETO v4.local: {token}");
        assert_eq!(verify_link(&vault, &token, now), Ok(original.clone()));
        assert_ne!(
            seal_link(&vault, &original),
            token,
            "a fresh nonce per link"
        );
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(verify_link(&vault, &token, later), Err(LinkError::Expired));
        let at_expiry = DateTime::from_timestamp(original.exp, 0).expect("time");
        assert_eq!(
            verify_link(&vault, &token, at_expiry),
            Err(LinkError::Expired)
        );
        // A relink link with every optional claim round-trips too.
        let relink = LinkClaims {
            kind: LinkKind::Relink,
            iid: Some("integration".into()),
            renv: Some("sandbox".into()),
            lang: None,
            typ: LinkType::MagicLink,
            email: None,
            scope: Some("scope".into()),
            ..claims(now.timestamp() + 60)
        };
        assert_eq!(
            verify_link(&vault, &seal_link(&vault, &relink), now),
            Ok(relink)
        );
    }

    #[test]
    fn sealed_links_show_neither_email_nor_organisation_nor_ids() {
        let vault = Vault::new(&MasterKey::generate());
        let original = claims(Utc::now().timestamp() + 60);
        let token = seal_link(&vault, &original);
        let decoded = decodings(&token);
        assert!(decoded.len() > 8, "the decodings were tried");
        for secret in [
            EMAIL,
            ORG,
            "jane.doe",
            "acme",
            "customer-1",
            "personio",
            &original.jti,
        ] {
            assert!(
                !decoded.iter().any(|bytes| contains(bytes, secret)),
                "{secret} readable in {token}"
            );
        }
        // The footer names the key and nothing else.
        let footer = token.rsplit('.').next().expect("footer");
        assert_eq!(
            URL_SAFE_NO_PAD.decode(footer).expect("b64"),
            format!(r#"{{"kid":"{}"}}"#, vault.key_id()).as_bytes()
        );
        // The detector works: the JWS links issued before sealing fail it.
        let legacy = sign_legacy_link(&vault, &original);
        assert!(
            decodings(&legacy)
                .iter()
                .any(|bytes| contains(bytes, EMAIL))
        );
        assert!(decodings(&legacy).iter().any(|bytes| contains(bytes, ORG)));
    }

    #[test]
    fn tampered_or_foreign_sealed_links_are_invalid() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let original = claims(now.timestamp() + 60);
        let token = seal_link(&vault, &original);
        let other = Vault::new(&MasterKey::generate());
        assert_eq!(verify_link(&other, &token, now), Err(LinkError::Invalid));
        assert_eq!(
            verify_link(&vault, &seal_link(&other, &original), now),
            Err(LinkError::Invalid)
        );
        // Every single-character change anywhere in the token is refused.
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).expect("ascii");
            assert_eq!(
                verify_link(&vault, &changed, now),
                Err(LinkError::Invalid),
                "changed at {i}: {changed}"
            );
        }
        let parts: Vec<&str> = token.split('.').collect();
        let (payload, footer) = (parts[2], parts[3]);
        let footer_of = |json: &str| URL_SAFE_NO_PAD.encode(json);
        for forged in [
            // No footer, an empty one, another key's id, another spelling of the same id.
            format!("v4.local.{payload}"),
            format!("v4.local.{payload}."),
            format!("v4.local.{payload}.{}", footer_of(r#"{"kid":"x"}"#)),
            format!(
                "v4.local.{payload}.{}",
                footer_of(&format!(r#"{{ "kid": "{}" }}"#, vault.key_id()))
            ),
            format!(
                "v4.local.{payload}.{}",
                footer_of(&format!(r#"{{"kid":"{}","x":1}}"#, vault.key_id()))
            ),
            // Other versions and purposes, extra parts, cut short.
            format!("v4.public.{payload}.{footer}"),
            format!("v3.local.{payload}.{footer}"),
            format!("v4.local.{payload}.{footer}.{footer}"),
            format!("v4.local.{}.{footer}", &payload[..payload.len() - 4]),
            format!("v4.local.{}.{footer}", &payload[..40]),
            format!("v4.local..{footer}"),
            "v4.local.".to_owned(),
        ] {
            assert_eq!(
                verify_link(&vault, &forged, now),
                Err(LinkError::Invalid),
                "{forged}"
            );
        }
        // The implicit assertion binds a token to links: the same key sealing the same claims
        // for another use does not open.
        let key = paseto_key(vault.link_seal_key(None).expect("key"));
        let json = serde_json::to_string(&original).expect("json");
        let footer = sealed_footer(vault.key_id());
        let other_use = Paseto::<V4, Local>::builder()
            .set_payload(Payload::from(json.as_str()))
            .set_footer(Footer::from(footer.as_str()))
            .set_implicit_assertion(ImplicitAssertion::from("something else"))
            .try_encrypt(&key, &PasetoNonce::from(&Key::from([7; 32])))
            .expect("seal");
        assert_eq!(
            verify_link(&vault, &other_use, now),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn links_sealed_under_a_previous_master_key_still_open() {
        let old = MasterKey::generate();
        let new = MasterKey::generate();
        let before = Vault::new(&old);
        let after = Vault::with_previous(&new, &[old]);
        let now = Utc::now();
        let original = claims(now.timestamp() + 60);
        let old_link = seal_link(&before, &original);
        assert_eq!(verify_link(&after, &old_link, now), Ok(original.clone()));
        let new_link = seal_link(&after, &original);
        assert!(new_link.ends_with(&URL_SAFE_NO_PAD.encode(sealed_footer(after.key_id()))));
        assert_eq!(verify_link(&after, &new_link, now), Ok(original));
        assert_eq!(
            verify_link(&before, &new_link, now),
            Err(LinkError::Invalid)
        );
    }

    #[test]
    fn links_signed_before_sealing_still_open_until_they_expire() {
        let old = MasterKey::generate();
        let vault = Vault::new(&old);
        let now = Utc::now();
        let original = claims(now.timestamp() + 60);
        let token = sign_legacy_link(&vault, &original);
        assert!(token.starts_with("eyJ"), "a JWS: {token}");
        assert_eq!(verify_link(&vault, &token, now), Ok(original.clone()));
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(verify_link(&vault, &token, later), Err(LinkError::Expired));
        // After a master key change too.
        let rotated = Vault::with_previous(&MasterKey::generate(), &[old]);
        assert_eq!(verify_link(&rotated, &token, now), Ok(original.clone()));
        // A JWS exactly as the previous version wrote it (long claim names, `lang` always
        // present, an `iat`) opens.
        let header =
            encode_json(&serde_json::json!({"alg": "HS256", "typ": "JWT", "kid": vault.key_id()}));
        let payload = encode_json(&serde_json::json!({
            "jti": original.jti, "env": "env", "kind": "connect", "cat": "HRIS",
            "tool": "personio", "lang": "de", "typ": "EMBEDDED", "email": EMAIL, "org": ORG,
            "oid": "customer-1", "iat": original.exp - 3600, "exp": original.exp,
        }));
        let mut mac = HmacSha256::new_from_slice(vault.link_key(None).expect("key")).expect("mac");
        mac.update(format!("{header}.{payload}").as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        assert_eq!(
            verify_link(&vault, &format!("{header}.{payload}.{signature}"), now),
            Ok(original)
        );
    }

    #[test]
    fn tampered_or_foreign_legacy_links_are_invalid() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let token = sign_legacy_link(&vault, &claims(now.timestamp() + 60));
        let other = Vault::new(&MasterKey::generate());
        assert_eq!(verify_link(&other, &token, now), Err(LinkError::Invalid));
        let (head, rest) = token.split_once('.').expect("three parts");
        let (_, signature) = rest.rsplit_once('.').expect("three parts");
        let forged_claims = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims(now.timestamp() + 999)).expect("json"));
        let forged = format!("{head}.{forged_claims}.{signature}");
        assert_eq!(verify_link(&vault, &forged, now), Err(LinkError::Invalid));
        let none_alg = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"x"}"#);
        assert_eq!(
            verify_link(&vault, &format!("{none_alg}.{forged_claims}."), now),
            Err(LinkError::Invalid)
        );
        for junk in [
            "",
            ".",
            "..",
            "a.b.c",
            "a.b.c.d",
            &format!("{token}x"),
            "eyJ.eyJ.%%%",
        ] {
            assert_eq!(
                verify_link(&vault, junk, now),
                Err(LinkError::Invalid),
                "{junk}"
            );
        }
    }

    #[test]
    fn form_states_from_the_far_past_or_future_are_refused_without_overflow() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        for state in ["-9223372036854775808.", "9223372036854775807.x", "-1.AAAA"] {
            assert!(
                !verify_form_state(&vault, "link", "tool", state, now),
                "{state}"
            );
        }
    }

    #[test]
    fn form_state_binds_link_tool_and_time() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let state = sign_form_state(&vault, "link", "personio", now);
        assert!(verify_form_state(&vault, "link", "personio", &state, now));
        assert!(!verify_form_state(&vault, "link", "hibob", &state, now));
        assert!(!verify_form_state(&vault, "other", "personio", &state, now));
        assert!(!verify_form_state(
            &vault,
            "link",
            "personio",
            &state,
            now + FORM_LIFETIME + chrono::Duration::seconds(1)
        ));
        assert!(!verify_form_state(
            &Vault::new(&MasterKey::generate()),
            "link",
            "personio",
            &state,
            now
        ));
        for junk in [
            "",
            ".",
            "1.",
            "x.y",
            &format!("{}.{}", now.timestamp() + 5, "AAAA"),
        ] {
            assert!(
                !verify_form_state(&vault, "link", "personio", junk, now),
                "{junk}"
            );
        }
    }

    #[test]
    fn api_keys_show_their_environment() {
        let key = new_api_key(EnvironmentName::Development);
        assert!(key.starts_with("pb_dev_"));
        assert!(looks_like_api_key(&key), "{key}");
        assert!(looks_like_api_key(&new_api_key(
            EnvironmentName::Production
        )));
        assert!(!looks_like_api_key("pb_dev_short"));
        assert!(!looks_like_api_key(&key.replace("pb_dev_", "pb_stg_")));
        assert_eq!(display_prefix(&key).len(), 12);
        assert_ne!(new_activation_token(), new_activation_token());
        assert_eq!(hash("x").len(), 32);
    }
}
