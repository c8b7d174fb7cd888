//! The signed `state` field of the hosted flow's credentials form:
//! `tokens::verify_form_state`, and `sign_form_state` feeding it.
//!
//! Properties:
//! - any state string, link id, tool and time: no panic; a state that verifies was issued at
//!   most `FORM_LIFETIME` before "now" and not after it, and its signature part is exactly the
//!   one `sign_form_state` makes for that link, tool and issue time;
//! - a signed state verifies from the moment it was issued until `FORM_LIFETIME` later, and at
//!   no other time; never for another link id or tool, never under another master key; the
//!   same after a master key change (the old key kept as a previous one), while a state signed
//!   after that change does not verify for a vault with only the old key;
//! - changed in any one byte or cut short, a signed state does not verify.
#![no_main]

use arbitrary::Arbitrary;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use libfuzzer_sys::fuzz_target;
use plugboard::tokens::{FORM_LIFETIME, sign_form_state, verify_form_state};
use plugboard_fuzz::{at, other_vault, rotated_vault, vault};

#[derive(Arbitrary, Debug)]
struct Input {
    link_id: String,
    tool: String,
    /// Any state, as a client could post it.
    state: String,
    now: i64,
    /// When the signed state was issued, and how long before "now".
    issued_at: i64,
    age: i64,
    other_link_id: String,
    other_tool: String,
    flip_at: usize,
    flip_mask: u8,
    keep: usize,
}

fuzz_target!(|input: Input| {
    let vault = vault();
    let (link, tool) = (input.link_id.as_str(), input.tool.as_str());

    let now = at(input.now);
    if verify_form_state(vault, link, tool, &input.state, now) {
        let (issued, signature) = input
            .state
            .split_once('.')
            .expect("a verified state has a dot");
        let issued: i64 = issued
            .parse()
            .expect("a verified state has a numeric issue time");
        let age = now.timestamp() - issued;
        assert!(
            (0..=FORM_LIFETIME.num_seconds()).contains(&age),
            "age {age}"
        );
        let signed = sign_form_state(vault, link, tool, at(issued));
        assert_eq!(signed.split_once('.').map(|(_, s)| s), Some(signature));
        assert!(URL_SAFE_NO_PAD.decode(signature).is_ok());
    }

    let issued = at(input.issued_at);
    let state = sign_form_state(vault, link, tool, issued);
    let checked_at = at(issued.timestamp().saturating_add(input.age));
    let age = checked_at.timestamp() - issued.timestamp();
    let fresh = (0..=FORM_LIFETIME.num_seconds()).contains(&age);
    assert_eq!(
        verify_form_state(vault, link, tool, &state, checked_at),
        fresh,
        "state {state} checked {age} s after it was issued"
    );
    if input.other_link_id != link {
        assert!(!verify_form_state(
            vault,
            &input.other_link_id,
            tool,
            &state,
            checked_at
        ));
    }
    if input.other_tool != tool {
        assert!(!verify_form_state(
            vault,
            link,
            &input.other_tool,
            &state,
            checked_at
        ));
    }
    assert!(!verify_form_state(
        other_vault(),
        link,
        tool,
        &state,
        checked_at
    ));
    assert_eq!(
        verify_form_state(rotated_vault(), link, tool, &state, checked_at),
        fresh
    );
    let after_rotation = sign_form_state(rotated_vault(), link, tool, issued);
    assert!(!verify_form_state(
        vault,
        link,
        tool,
        &after_rotation,
        checked_at
    ));

    let mut flipped = state.clone().into_bytes();
    flipped[input.flip_at % state.len()] ^= input.flip_mask.max(1);
    if let Ok(flipped) = String::from_utf8(flipped) {
        assert!(
            !verify_form_state(vault, link, tool, &flipped, checked_at),
            "{flipped} verified in place of {state}"
        );
    }
    let cut = &state[..input.keep % state.len()];
    assert!(!verify_form_state(vault, link, tool, cut, checked_at));
});
