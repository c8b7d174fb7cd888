//! Webhook signatures: `webhooks::sign::kombo_signature` and `standard_signature`.
//!
//! Plugboard only signs webhooks; it verifies none, so there is no verification direction to
//! fuzz. Properties, for any secret, message id, timestamp and body:
//! - no panic; both signatures are deterministic;
//! - `X-Kombo-Signature` is the unpadded base64url (43 characters) of HMAC-SHA256 over the body
//!   keyed with the secret's UTF-8 bytes, as checked by an HMAC written out from RFC 2104;
//! - `standard_signature` returns `None`, not a panic, unless the secret is `whsec_` and valid
//!   standard base64; otherwise it is `v1,` and the standard base64 of HMAC-SHA256 over
//!   `{id}.{timestamp}.{body}` keyed with the decoded secret, with no space or comma after
//!   the `v1,` (the header lists several signatures separated by spaces);
//! - a secret made as Plugboard makes them (`whsec_` and the base64 of any bytes) always signs,
//!   and a different body, id or timestamp gives a different signature.
#![no_main]

use arbitrary::Arbitrary;
use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use libfuzzer_sys::fuzz_target;
use plugboard::webhooks::sign::{SECRET_PREFIX, kombo_signature, standard_signature};
use plugboard_fuzz::{check_hmac_oracle, hmac_sha256};

#[derive(Arbitrary, Debug)]
struct Input {
    secret: String,
    key: Vec<u8>,
    id: String,
    timestamp: i64,
    body: Vec<u8>,
    other_body: Vec<u8>,
    other_id: String,
    other_timestamp: i64,
}

/// The `webhook-signature` entry the specification defines, or `None` for a malformed secret.
fn expected_standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let mac = hmac_sha256(
        &key,
        &[
            id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body,
        ],
    );
    Some(format!("v1,{}", STANDARD.encode(mac)))
}

fn check_standard(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let signature = standard_signature(secret, id, timestamp, body);
    assert_eq!(signature, standard_signature(secret, id, timestamp, body));
    assert_eq!(signature, expected_standard(secret, id, timestamp, body));
    if let Some(signature) = &signature {
        let encoded = signature.strip_prefix("v1,").expect("v1 prefix");
        assert_eq!(encoded.len(), 44);
        assert!(!encoded.contains([' ', ',']));
    }
    signature
}

fuzz_target!(
    init: check_hmac_oracle(),
    |input: Input| {
        let kombo = kombo_signature(&input.secret, &input.body);
        assert_eq!(kombo, kombo_signature(&input.secret, &input.body));
        assert_eq!(kombo.len(), 43);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&kombo).ok(),
            Some(hmac_sha256(input.secret.as_bytes(), &[&input.body]).to_vec())
        );
        if input.other_body != input.body {
            assert_ne!(kombo, kombo_signature(&input.secret, &input.other_body));
        }

        check_standard(&input.secret, &input.id, input.timestamp, &input.body);

        let secret = format!("{SECRET_PREFIX}{}", STANDARD.encode(&input.key));
        let signature = check_standard(&secret, &input.id, input.timestamp, &input.body)
            .expect("a well-formed secret signs");
        if input.other_body != input.body {
            assert_ne!(
                Some(&signature),
                check_standard(&secret, &input.id, input.timestamp, &input.other_body).as_ref()
            );
        }
        if (input.other_id.as_str(), input.other_timestamp) != (input.id.as_str(), input.timestamp)
        {
            // The timestamp holds no dot, so `{id}.{timestamp}` names one pair only.
            assert_ne!(
                Some(&signature),
                check_standard(&secret, &input.other_id, input.other_timestamp, &input.body)
                    .as_ref()
            );
        }
    }
);
