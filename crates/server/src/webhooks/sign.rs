//! The two signatures every delivery carries.
//!
//! - `X-Kombo-Signature`: Kombo's scheme, so receivers written for Kombo verify Plugboard's
//!   webhooks unchanged: base64url (no padding) of HMAC-SHA256 over the body, keyed with the
//!   secret's UTF-8 bytes (the whole `whsec_…` string).
//! - `webhook-signature`: [Standard Webhooks](https://www.standardwebhooks.com/): `v1,` and
//!   standard base64 of HMAC-SHA256 over `{webhook-id}.{webhook-timestamp}.{body}`, keyed with
//!   the base64-decoded part of the secret after `whsec_`. During a rotation it lists one
//!   signature per live secret, separated by spaces.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of every webhook secret, as in Standard Webhooks.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> Zeroizing<String> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    rand::rng().fill_bytes(bytes.as_mut());
    Zeroizing::new(format!(
        "{SECRET_PREFIX}{}",
        STANDARD.encode(bytes.as_ref())
    ))
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// `X-Kombo-Signature` of `body`.
pub fn kombo_signature(secret: &str, body: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(mac(secret.as_bytes(), &[body]))
}

/// One `v1,<signature>` entry of `webhook-signature`, or `None` for a secret that is not
/// `whsec_` and base64 (Plugboard only makes well-formed ones).
pub fn standard_signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = Zeroizing::new(STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()?);
    let timestamp = timestamp.to_string();
    let signature = mac(
        &key,
        &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body],
    );
    Some(format!("v1,{}", STANDARD.encode(signature)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // The example from the Standard Webhooks specification.
        let signature = standard_signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(
            signature.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn kombo_signature_is_unpadded_base64url() {
        let signature = kombo_signature("whsec_secret", br#"{"id":"1"}"#);
        assert_eq!(signature.len(), 43);
        assert!(!signature.contains(['=', '+', '/']));
    }

    #[test]
    fn new_secrets_are_standard_webhooks_secrets() {
        let secret = new_secret();
        let key = STANDARD
            .decode(secret.strip_prefix(SECRET_PREFIX).expect("prefix"))
            .expect("base64");
        assert_eq!(key.len(), 32);
        assert_ne!(*secret, *new_secret());
    }
}
