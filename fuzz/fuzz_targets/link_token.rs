//! The link-token parser, `tokens::verify_link`, on arbitrary bytes: sealed links (PASETO
//! v4.local, what Plugboard issues) and links signed before sealing (JWS, still accepted until
//! they expire).
//!
//! Properties, for every input:
//! - it never panics, with the fuzz key or any other;
//! - after a master key change (a vault whose current key is another, with the fuzz key as a
//!   previous one) every token gets exactly the answer it got before;
//! - a token that opens is genuine: it is exactly the token its claims make under the fuzz key
//!   (sealed with the nonce it carries, or signed), so no second spelling of a token opens;
//!   its expiry lies after "now", it is invalid under another master key, and it is expired
//!   from its expiry on;
//! - a token refused as expired is genuine too: at the earliest instant it opens, and again
//!   remakes to itself (unless its expiry lies before the earliest representable instant).
//!
//! The seeds are tokens sealed and signed with the fuzz key, so mutations start past the
//! authentication check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugboard::tokens::{LinkError, verify_link};
use plugboard_fuzz::{NOW, at, other_vault, remake, rotated_vault, vault};

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let vault = vault();
    let verified = verify_link(vault, token, at(NOW));
    assert_eq!(
        verify_link(rotated_vault(), token, at(NOW)),
        verified,
        "a master key change changed the answer"
    );
    match verified {
        Ok(claims) => {
            assert!(claims.exp > NOW, "verified after its expiry: {claims:?}");
            assert_eq!(
                remake(vault, token, &claims),
                token,
                "not the token of its claims"
            );
            assert_eq!(
                verify_link(other_vault(), token, at(NOW)),
                Err(LinkError::Invalid),
                "verified under another master key"
            );
            assert_eq!(
                verify_link(vault, token, at(claims.exp)),
                Err(LinkError::Expired),
                "still valid at its expiry"
            );
        }
        Err(LinkError::Expired) => {
            assert_eq!(
                verify_link(other_vault(), token, at(NOW)),
                Err(LinkError::Invalid),
                "genuine under another master key"
            );
            match verify_link(vault, token, at(i64::MIN)) {
                Ok(claims) => assert_eq!(remake(vault, token, &claims), token),
                Err(LinkError::Expired) => {}
                Err(LinkError::Invalid) => panic!("expired at one time, invalid at another"),
            }
        }
        Err(LinkError::Invalid) => {}
    }
});
