//! Every JSON request body of the API: `extract::parse_json` into each body type, then the
//! public checks that run on the parsed values.
//!
//! Each input is parsed as every body type (`CreateLinkIn`, `ActivateIn`, `EnabledIn`,
//! `RelinkIn`, `SetupLinkIn`, `WebhookIn`, `WebhookPatch`). Properties:
//! - no panic; a refusal is always `ApiError::InputInvalid` with a message;
//! - `parse_json` accepts exactly what `serde_json::from_slice` accepts, limited to bodies
//!   whose first non-blank byte is `{` and with no NUL character in any string or key (which
//!   PostgreSQL could not store), and yields the same value;
//! - the checks after parsing: `check_text` refuses exactly the blank and the over-long
//!   (more than 256 characters), naming the field; `check_scope_config` accepts only the
//!   environment's scope config; `webhooks::check_url` accepts only http(s) URLs with a host,
//!   without credentials or fragment, at most 2048 bytes long, whose literal IP (if any) the
//!   environment permits, and what it accepts for production it accepts for development;
//!   `check_event_types` returns the subscription without duplicates, in order, and only known
//!   event types, or all of them when none are given.
#![no_main]

use std::fmt::Debug;

use libfuzzer_sys::fuzz_target;
use plugboard::{
    api::{
        connect::{ActivateIn, CreateLinkIn},
        integrations::{EnabledIn, RelinkIn, SetupLinkIn},
        webhooks::endpoints::{WebhookIn, WebhookPatch},
    },
    error::ApiError,
    events::EVENT_TYPES,
    extract::parse_json,
    links::{check_scope_config, check_text},
    net::Allowed,
    webhooks::{check_event_types, check_url},
};
use plugboard_store::{Environment, EnvironmentName};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Parses `bytes` as `T` with Plugboard and with serde_json, and checks that they agree.
fn parse<T: DeserializeOwned + Debug>(bytes: &[u8]) -> Option<T> {
    let ours = parse_json::<T>(bytes);
    let object = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let reference = serde_json::from_slice::<T>(bytes)
        .ok()
        .filter(|_| object && !has_nul(bytes));
    match ours {
        Ok(value) => {
            assert_eq!(
                Some(format!("{value:?}")),
                reference.as_ref().map(|value| format!("{value:?}")),
                "parse_json accepted a body serde_json refuses, or read it differently"
            );
            Some(value)
        }
        Err(ApiError::InputInvalid(message)) => {
            assert!(!message.is_empty());
            assert!(
                reference.is_none(),
                "parse_json refused a body serde_json accepts ({message}): {reference:?}"
            );
            None
        }
        Err(other) => panic!("parse_json failed with {other:?}, not InputInvalid"),
    }
}

/// Whether a string or key of the JSON document `bytes` contains a NUL character.
fn has_nul(bytes: &[u8]) -> bool {
    fn walk(value: &Value) -> bool {
        match value {
            Value::String(text) => text.contains('\0'),
            Value::Array(items) => items.iter().any(walk),
            Value::Object(map) => map
                .iter()
                .any(|(key, value)| key.contains('\0') || walk(value)),
            _ => false,
        }
    }
    serde_json::from_slice::<Value>(bytes).is_ok_and(|value| walk(&value))
}

fn environment() -> Environment {
    Environment {
        id: "env".into(),
        name: EnvironmentName::Production,
        scope_config_id: "scope".into(),
        created_at: chrono::DateTime::UNIX_EPOCH,
    }
}

fn check_text_field(field: &'static str, value: &str) {
    let expected = !value.trim().is_empty() && value.chars().count() <= 256;
    match check_text(field, value) {
        Ok(()) => assert!(expected, "{field} accepted: {value:?}"),
        Err(error) => {
            assert!(!expected, "{field} refused: {value:?}");
            assert!(error.to_string().starts_with(&format!("{field}: ")));
        }
    }
}

fn check_scope(scope_config_id: Option<&str>) {
    let accepted = check_scope_config(&environment(), scope_config_id).is_ok();
    assert_eq!(accepted, scope_config_id.is_none_or(|id| id == "scope"));
}

fn check_webhook_url(text: &str) {
    let production = Allowed::public_only();
    let development = Allowed {
        loopback: true,
        networks: Vec::new(),
    };
    let accepted_in_production = check_url(text, &production).is_ok();
    if let Ok(url) = check_url(text, &development) {
        assert!(text.len() <= 2048);
        assert!(matches!(url.scheme(), "http" | "https"), "{url}");
        assert!(url.host().is_some(), "{url}");
        assert!(
            url.username().is_empty() && url.password().is_none(),
            "{url}"
        );
        assert!(url.fragment().is_none(), "{url}");
        assert!(development.check_literal_host(&url).is_ok(), "{url}");
        if accepted_in_production {
            assert!(production.check_literal_host(&url).is_ok(), "{url}");
        }
    } else {
        assert!(
            !accepted_in_production,
            "allowed in production only: {text:?}"
        );
    }
}

fn check_events(types: Option<&[String]>) {
    let checked = check_event_types(types);
    let Some(types) = types else {
        assert_eq!(checked.as_deref(), Ok(&EVENT_TYPES.map(String::from)[..]));
        return;
    };
    let known = !types.is_empty() && types.iter().all(|t| EVENT_TYPES.contains(&t.as_str()));
    let Ok(checked) = checked else {
        assert!(!known, "refused: {types:?}");
        return;
    };
    assert!(known, "accepted: {types:?}");
    let mut first_seen: Vec<String> = Vec::new();
    for event_type in types {
        if !first_seen.contains(event_type) {
            first_seen.push(event_type.clone());
        }
    }
    assert_eq!(checked, first_seen);
}

fuzz_target!(|data: &[u8]| {
    if let Some(body) = parse::<CreateLinkIn>(data) {
        check_text_field(
            "end_user_organization_name",
            &body.end_user_organization_name,
        );
        if let Some(origin) = &body.end_user_origin_id {
            check_text_field("end_user_origin_id", origin);
        }
        if let Some(remote) = &body.remote_environment {
            check_text_field("remote_environment", remote);
        }
        check_scope(body.scope_config_id.as_deref());
    }
    parse::<ActivateIn>(data);
    parse::<EnabledIn>(data);
    if let Some(body) = parse::<RelinkIn>(data) {
        check_scope(body.scope_config_id.as_deref());
    }
    parse::<SetupLinkIn>(data);
    if let Some(body) = parse::<WebhookIn>(data) {
        check_webhook_url(&body.url);
        check_events(body.events.as_deref());
    }
    if let Some(body) = parse::<WebhookPatch>(data) {
        if let Some(url) = &body.url {
            check_webhook_url(url);
        }
        check_events(body.events.as_deref());
    }
});
