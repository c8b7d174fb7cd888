//! The three kinds of token Plugboard hands out.
//!
//! - **API keys** (`pb_prod_…`, `pb_dev_…`): 256 random bits; the prefix shows the environment
//!   and lets secret scanners recognise a leaked key. Stored only as SHA-256: a key this long
//!   needs no slow hash, and lookups stay one indexed read.
//! - **Activation tokens** (`pbat_…`): 256 random bits, stored only as SHA-256.
//! - **Link tokens**: the stateless connection links. A compact JWS (HS256, like Kombo's
//!   links) over [`LinkClaims`], signed with a key derived from the master key, so an embedded
//!   link needs no database row and an abandoned flow leaves nothing behind.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use plugboard_catalog::Category;
use plugboard_store::EnvironmentName;
use rand::RngCore;
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

/// What a link opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A new connection.
    Connect,
    /// New credentials for an existing integration.
    Relink,
}

/// How the link is used: Kombo's `link_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LinkType {
    /// Shown in the operator's app through the SDK; valid for 1 hour.
    Embedded,
    /// Sent to the end user to open in a browser tab; valid for 1 year.
    MagicLink,
}

impl LinkType {
    /// How long links of this type stay valid.
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            Self::Embedded => chrono::Duration::hours(1),
            Self::MagicLink => chrono::Duration::days(365),
        }
    }
}

/// Languages of the hosted flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English (default).
    #[default]
    En,
    /// German.
    De,
    /// French.
    Fr,
    /// Italian.
    It,
    /// Spanish.
    Es,
}

/// Everything a link carries. Short keys keep links short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkClaims {
    /// Link id: consumed on completion, and the key of recorded magic links.
    pub jti: String,
    /// Environment id.
    pub env: String,
    /// Connect or relink.
    pub kind: LinkKind,
    /// The integration a relink link is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iid: Option<String>,
    /// Category of the flow.
    pub cat: Category,
    /// Pre-selected tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The tool's own environment to connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renv: Option<String>,
    /// UI language; `None` lets the end user's browser choose (`Accept-Language`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Language>,
    /// Embedded or magic link.
    pub typ: LinkType,
    /// End user's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// End user's organisation.
    pub org: String,
    /// Operator's id of the end user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oid: Option<String>,
    /// Scope config to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

impl LinkClaims {
    /// When the link expires.
    pub fn expires_at(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.exp, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

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

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// Signs `claims` into a compact JWS.
pub fn sign_link(vault: &Vault, claims: &LinkClaims) -> String {
    let header = Header {
        alg: "HS256".into(),
        typ: "JWT".into(),
        kid: vault.key_id().into(),
    };
    let signing_input = format!("{}.{}", encode_json(&header), encode_json(claims));
    let key = vault
        .link_key(None)
        .unwrap_or_else(|| unreachable!("the current key always exists"));
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Verifies a link token's signature and expiry and returns its claims.
pub fn verify_link(
    vault: &Vault,
    token: &str,
    now: DateTime<Utc>,
) -> Result<LinkClaims, LinkError> {
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
    let claims: LinkClaims =
        serde_json::from_slice(&decode(payload)?).map_err(|_| LinkError::Invalid)?;
    if claims.exp <= now.timestamp() {
        return Err(LinkError::Expired);
    }
    Ok(claims)
}

/// How long a rendered credentials form stays submittable.
pub const FORM_LIFETIME: chrono::Duration = chrono::Duration::hours(2);

fn form_mac(key: &[u8; 32], link_id: &str, tool: &str, issued_at: i64) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(format!("form\0{link_id}\0{tool}\0{issued_at}").as_bytes());
    mac
}

/// The signed `state` field of a credentials form: binds a submission to the link and tool the
/// form was rendered for, and to when, so a form cannot be replayed against another tool or
/// long after it was shown. No cookie is needed, which a cross-site iframe could not keep.
pub fn sign_form_state(vault: &Vault, link_id: &str, tool: &str, now: DateTime<Utc>) -> String {
    let issued_at = now.timestamp();
    let key = vault
        .link_key(None)
        .unwrap_or_else(|| unreachable!("the current key always exists"));
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
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::MasterKey;

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
            email: Some("a@b.example".into()),
            org: "Acme".into(),
            oid: None,
            scope: None,
            iat: 0,
            exp,
        }
    }

    #[test]
    fn links_round_trip_and_expire() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let original = claims(now.timestamp() + 60);
        let token = sign_link(&vault, &original);
        assert!(token.starts_with("eyJ"), "a JWS like Kombo's: {token}");
        assert_eq!(verify_link(&vault, &token, now), Ok(original));
        let later = now + chrono::Duration::seconds(61);
        assert_eq!(verify_link(&vault, &token, later), Err(LinkError::Expired));
    }

    #[test]
    fn tampered_or_foreign_links_are_invalid() {
        let vault = Vault::new(&MasterKey::generate());
        let now = Utc::now();
        let token = sign_link(&vault, &claims(now.timestamp() + 60));
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
