//! Webhook events in Kombo's exact shapes (`{id, type, data}`), serialised once, compactly,
//! when the change happens. Those bytes are stored in the outbox and are exactly what gets
//! signed and delivered, so every retry carries the same body.

use chrono::{DateTime, Utc};
use plugboard_catalog::Category;
use plugboard_store::{EndUser, Event, Integration, IntegrationStatus, ids};
use serde::Serialize;

/// The event types an endpoint can subscribe to: Kombo's, for what Plugboard does.
pub const EVENT_TYPES: [&str; 4] = [
    "integration-created",
    "integration-deleted",
    "integration-state-changed",
    "connection-flow-failed",
];

/// The type of the event `POST /v1/webhooks/{id}/test` sends (a Plugboard extension; it is
/// sent only when asked for, to that one endpoint).
pub const TEST_EVENT_TYPE: &str = "webhook-test";

/// Kombo's timestamp format: UTC with milliseconds and `Z`, e.g. `2022-08-07T14:01:29.196Z`.
pub fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Serde helper for [`format_time`].
pub fn serialize_time<S: serde::Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(*time))
}

/// The `end_user` object of webhooks and of `GET /integrations/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EndUserOut {
    /// The customer's organisation name.
    pub organization_name: String,
    /// Email of the person who connected the integration.
    pub creator_email: Option<String>,
    /// The operator's own id for this customer (`end_user_origin_id` of create-link).
    pub origin_id: Option<String>,
}

impl From<&EndUser> for EndUserOut {
    fn from(user: &EndUser) -> Self {
        Self {
            organization_name: user.organization_name.clone(),
            creator_email: user.email.clone(),
            origin_id: user.origin_id.clone(),
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    id: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    data: T,
}

fn event<T: Serialize>(
    environment_id: &str,
    event_type: &str,
    data: T,
    now: DateTime<Utc>,
) -> Event {
    event_with_id(ids::new_id(), environment_id, event_type, data, now)
}

fn event_with_id<T: Serialize>(
    id: String,
    environment_id: &str,
    event_type: &str,
    data: T,
    now: DateTime<Utc>,
) -> Event {
    let envelope = Envelope {
        id: &id,
        event_type,
        data,
    };
    // Structs of strings always serialise; an empty payload would be caught by tests.
    let payload = serde_json::to_string(&envelope)
        .expect("an event envelope of strings and numbers serialises");
    Event {
        id,
        environment_id: environment_id.to_owned(),
        event_type: event_type.to_owned(),
        payload,
        created_at: now,
        detail: None,
        integration_id: None,
    }
}

/// `event` about `integration`.
fn about(integration: &Integration, event: Event) -> Event {
    Event {
        integration_id: Some(integration.id.to_string()),
        ..event
    }
}

#[derive(Serialize)]
struct IntegrationCreated<'a> {
    id: &'a str,
    tool: &'a str,
    category: Category,
    end_user: EndUserOut,
}

/// `integration-created`.
pub fn integration_created(integration: &Integration, now: DateTime<Utc>) -> Event {
    let data = IntegrationCreated {
        id: integration.id.as_str(),
        tool: &integration.tool,
        category: integration.category,
        end_user: (&integration.end_user).into(),
    };
    let created = event(
        &integration.environment_id,
        "integration-created",
        data,
        now,
    );
    about(integration, created)
}

#[derive(Serialize)]
struct IntegrationDeleted<'a> {
    id: &'a str,
    tool: &'a str,
    category: Category,
    end_user: EndUserOut,
    #[serde(serialize_with = "serialize_time")]
    deleted_at: DateTime<Utc>,
}

/// `integration-deleted`.
pub fn integration_deleted(integration: &Integration, now: DateTime<Utc>) -> Event {
    let data = IntegrationDeleted {
        id: integration.id.as_str(),
        tool: &integration.tool,
        category: integration.category,
        end_user: (&integration.end_user).into(),
        deleted_at: now,
    };
    let deleted = event(
        &integration.environment_id,
        "integration-deleted",
        data,
        now,
    );
    about(integration, deleted)
}

#[derive(Serialize)]
struct StateChanged<'a> {
    integration_tool: &'a str,
    integration_id: &'a str,
    integration_category: Category,
    end_user: EndUserOut,
    /// Plugboard runs no quality assurance, so every integration has passed it.
    qa_status: &'static str,
    setup_status: &'static str,
    state: &'static str,
    #[serde(serialize_with = "serialize_time")]
    updated_at: DateTime<Utc>,
}

/// `integration-state-changed`, describing `integration` once it has status `state`.
pub fn integration_state_changed(
    integration: &Integration,
    state: IntegrationStatus,
    now: DateTime<Utc>,
) -> Event {
    let data = StateChanged {
        integration_tool: &integration.tool,
        integration_id: integration.id.as_str(),
        integration_category: integration.category,
        end_user: (&integration.end_user).into(),
        qa_status: "PASSED",
        setup_status: integration.setup_status.as_str(),
        state: state.as_str(),
        updated_at: now,
    };
    let changed = event(
        &integration.environment_id,
        "integration-state-changed",
        data,
        now,
    );
    about(integration, changed)
}

#[derive(Serialize)]
struct ConnectionFlowFailed<'a> {
    integration_tool: &'a str,
    integration_category: Category,
    end_user: EndUserOut,
    log_url: String,
}

/// `connection-flow-failed`: the end user's credentials did not verify. Informational: they
/// may still complete the flow. `log_url` is the event's own page (`GET /v1/events/{id}`),
/// which says why it failed (`detail`); `public` makes the URL absolute.
pub fn connection_flow_failed(
    environment_id: &str,
    tool: &str,
    category: Category,
    end_user: &EndUser,
    detail: &str,
    public: impl Fn(&str) -> String,
    now: DateTime<Utc>,
) -> Event {
    let id = ids::new_id();
    let data = ConnectionFlowFailed {
        integration_tool: tool,
        integration_category: category,
        end_user: end_user.into(),
        log_url: public(&format!("/v1/events/{id}")),
    };
    let event = event_with_id(id, environment_id, "connection-flow-failed", data, now);
    Event {
        detail: Some(detail.to_owned()),
        ..event
    }
}

#[derive(Serialize)]
struct WebhookTest<'a> {
    webhook_id: &'a str,
    message: &'static str,
}

/// `webhook-test`: a harmless event to check that an endpoint receives and verifies
/// deliveries.
pub fn webhook_test(environment_id: &str, endpoint_id: &str, now: DateTime<Utc>) -> Event {
    let data = WebhookTest {
        webhook_id: endpoint_id,
        message: "This is a test event from Plugboard.",
    };
    event(environment_id, TEST_EVENT_TYPE, data, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugboard_store::{SetupStatus, ids::IntegrationId};

    fn integration() -> Integration {
        let created = DateTime::parse_from_rfc3339("2022-08-07T14:01:29.196Z")
            .expect("time")
            .to_utc();
        Integration {
            id: IntegrationId::parse("personio:CBNMt7dSNCzBdnRTx87dev4E").expect("id"),
            environment_id: "env".into(),
            tool: "personio".into(),
            category: Category::Hris,
            status: IntegrationStatus::Active,
            setup_status: SetupStatus::Completed,
            end_user: EndUser {
                email: None,
                organization_name: "Acme, Inc.".into(),
                origin_id: Some("36123".into()),
            },
            scope_config_id: "scope".into(),
            remote_environment: None,
            created_at: created,
            updated_at: created,
        }
    }

    #[test]
    fn payloads_are_compact_and_in_kombos_shape() {
        let now = integration().created_at;
        let created = integration_created(&integration(), now);
        let expected = format!(
            r#"{{"id":"{}","type":"integration-created","data":{{"id":"personio:CBNMt7dSNCzBdnRTx87dev4E","tool":"personio","category":"HRIS","end_user":{{"organization_name":"Acme, Inc.","creator_email":null,"origin_id":"36123"}}}}}}"#,
            created.id
        );
        assert_eq!(created.payload, expected);
        let deleted = integration_deleted(&integration(), now);
        assert!(
            deleted
                .payload
                .ends_with(r#""deleted_at":"2022-08-07T14:01:29.196Z"}}"#),
            "{}",
            deleted.payload
        );
        let changed = integration_state_changed(&integration(), IntegrationStatus::Inactive, now);
        let json: serde_json::Value = serde_json::from_str(&changed.payload).expect("json");
        assert_eq!(json["type"], "integration-state-changed");
        assert_eq!(json["data"]["state"], "INACTIVE");
        assert_eq!(json["data"]["qa_status"], "PASSED");
        assert_eq!(json["data"]["setup_status"], "COMPLETED");
        assert_eq!(json["data"]["integration_category"], "HRIS");
        assert_eq!(json["data"]["updated_at"], "2022-08-07T14:01:29.196Z");
    }
}
