//! Lists a newcomer extends by hand, held to the code: the audit actions and the webhook event
//! types wherever the OpenAPI document or the README lists them, and a payload builder for
//! every event type.
//!
//! The endpoints need no such test: `api::routes` declares each one once, for the router and
//! the document alike, and Schemathesis calls every documented operation of the running server.

use std::collections::BTreeSet;

use chrono::Utc;
use plugboard::{
    audit::Action,
    events::{self, EVENT_TYPES, TEST_EVENT_TYPE},
};
use plugboard_catalog::Category;
use plugboard_store::{EndUser, Integration, IntegrationStatus, SetupStatus, ids::IntegrationId};
use serde_json::Value;

/// The words in backticks in `text` that `looks_like` accepts.
fn quoted(text: &str, looks_like: impl Fn(&str) -> bool) -> BTreeSet<String> {
    let words = text.split('`').skip(1).step_by(2);
    words.filter(|w| looks_like(w)).map(str::to_owned).collect()
}

/// What `schema` (a property or a parameter's schema, `$ref`s followed) lists: its `enum` or
/// its items' `enum`, else the words of `description` in backticks that `looks_like` accepts.
fn listed(
    doc: &Value,
    schema: &Value,
    description: &Value,
    looks_like: fn(&str) -> bool,
) -> BTreeSet<String> {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            &doc["components"]["schemas"][reference.rsplit('/').next().unwrap_or("")]
        }
        None => schema,
    };
    let values = schema["enum"]
        .as_array()
        .or(schema["items"]["enum"].as_array());
    match values {
        Some(values) => values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        None => quoted(description.as_str().unwrap_or(""), looks_like),
    }
}

/// An audit action's shape: `noun.verb`, lower case with underscores.
fn looks_like_action(word: &str) -> bool {
    word.contains('.')
        && word
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
}

/// An event type's shape: lower case words joined by hyphens.
fn looks_like_event_type(word: &str) -> bool {
    word.contains('-') && word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

fn set<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeSet<String> {
    names.into_iter().map(str::to_owned).collect()
}

#[test]
fn the_documented_audit_actions_are_every_action() {
    let doc = plugboard::openapi::document();
    let all = set(Action::ALL.iter().map(|action| action.as_str()));
    assert_eq!(all.len(), Action::ALL.len(), "action names are unique");
    let action = &doc["components"]["schemas"]["AuditEventOut"]["properties"]["action"];
    assert!(
        action.is_object(),
        "AuditEventOut.action is in the document"
    );
    assert_eq!(
        listed(&doc, action, &action["description"], looks_like_action),
        all,
        "AuditEventOut.action documents every audit::Action, and only those"
    );
    let parameters = doc["paths"]["/v1/audit-events"]["get"]["parameters"].as_array();
    let filter = parameters
        .into_iter()
        .flatten()
        .find(|parameter| parameter["name"] == "action")
        .expect("GET /v1/audit-events?action= is documented");
    let filter = listed(
        &doc,
        &filter["schema"],
        &filter["description"],
        looks_like_action,
    );
    assert!(
        filter.is_empty() || filter == all,
        "where the action filter lists actions, it lists them all: {filter:?}"
    );
}

/// Every `enum` in `value` (recursively) that names one of the event types.
fn event_type_enums(value: &Value, found: &mut Vec<BTreeSet<String>>) {
    match value {
        Value::Object(object) => {
            let names = object.get("enum").and_then(Value::as_array);
            if let Some(names) =
                names.filter(|names| names.iter().any(|n| EVENT_TYPES.iter().any(|t| n == t)))
            {
                found.push(
                    names
                        .iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect(),
                );
            }
            object
                .values()
                .for_each(|child| event_type_enums(child, found));
        }
        Value::Array(items) => items
            .iter()
            .for_each(|child| event_type_enums(child, found)),
        _ => {}
    }
}

#[test]
fn the_documented_event_types_are_every_event_type() {
    let all = set(EVENT_TYPES);
    // The README's section on webhooks names them in its first paragraph.
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let section = readme
        .split("\n## Webhooks\n")
        .nth(1)
        .expect("a Webhooks section");
    let paragraph = section.trim_start().split("\n\n").next().unwrap_or("");
    assert_eq!(
        quoted(paragraph, looks_like_event_type),
        all,
        "the README's Webhooks section names every event type"
    );
    // The OpenAPI document: wherever an enum names event types (subscriptions, the delivery
    // log's filter), it names them all, and the delivery log may add the test event.
    let mut enums = Vec::new();
    event_type_enums(&plugboard::openapi::document(), &mut enums);
    let mut with_test = all.clone();
    with_test.insert(TEST_EVENT_TYPE.to_owned());
    for listed in enums {
        assert!(listed == all || listed == with_test, "{listed:?}");
    }
}

#[test]
fn every_event_type_has_a_payload_builder() {
    let now = Utc::now();
    let end_user = EndUser {
        email: None,
        organization_name: "Acme, Inc.".into(),
        origin_id: None,
    };
    let integration = Integration {
        id: IntegrationId::parse("personio:CBNMt7dSNCzBdnRTx87dev4E").expect("id"),
        environment_id: "env".into(),
        tool: "personio".into(),
        category: Category::Hris,
        status: IntegrationStatus::Active,
        setup_status: SetupStatus::Completed,
        end_user: end_user.clone(),
        scope_config_id: "scope".into(),
        remote_environment: None,
        created_at: now,
        updated_at: now,
    };
    let built = [
        events::integration_created(&integration, now),
        events::integration_deleted(&integration, now),
        events::integration_state_changed(&integration, IntegrationStatus::Inactive, now),
        events::connection_flow_failed(
            "env",
            "personio",
            Category::Hris,
            &end_user,
            "unreachable",
            str::to_owned,
            now,
        ),
    ];
    for event in &built {
        let payload: Value = serde_json::from_str(&event.payload).expect("JSON");
        assert_eq!(
            payload["type"],
            event.event_type.as_str(),
            "the payload says its type"
        );
    }
    assert_eq!(
        set(built.iter().map(|event| event.event_type.as_str())),
        set(EVENT_TYPES)
    );
    let test = events::webhook_test("env", "endpoint", now);
    assert_eq!(test.event_type, TEST_EVENT_TYPE);
    assert!(
        !EVENT_TYPES.contains(&TEST_EVENT_TYPE),
        "nobody subscribes to test events"
    );
}
