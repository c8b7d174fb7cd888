//! The contract every [`Store`] implementation passes, one file per area like the traits. Each
//! backend crate runs it with [`contract_tests!`](crate::contract_tests) and a factory that
//! returns a fresh, migrated store. This module holds the fixtures the areas share.

use chrono::{DateTime, Duration, Utc};
use plugboard_catalog::Category;

use crate::{
    ConsumedLink, EndUser, EnvironmentName, Event, Integration, IntegrationStatus,
    NewActivationToken, NewIntegration, Sealed, SetupStatus, Store, ids,
};

mod api_keys;
mod audit;
mod events;
mod integrations;
mod links;
mod oauth;
mod operators;
mod request_log;
mod sealing;
mod setup;
mod webhooks;

pub use api_keys::*;
pub use audit::*;
pub use events::*;
pub use integrations::*;
pub use links::*;
pub use oauth::*;
pub use operators::*;
pub use request_log::*;
pub use sealing::*;
pub use setup::*;
pub use webhooks::*;

/// Expands to one `#[tokio::test]` per contract check, each on a store from `$factory`
/// (an expression evaluating to a future of `Arc<dyn Store>`).
#[macro_export]
macro_rules! contract_tests {
    ($factory:expr) => {
        $crate::contract_tests!(@each $factory;
            environments_are_created_once,
            environment_settings_are_saved_per_environment,
            api_keys_are_found_by_hash_until_revoked,
            api_key_uses_are_recorded_once_a_minute,
            magic_links_are_recorded,
            a_link_completes_at_most_one_integration,
            links_are_consumed_by_completing_a_flow,
            link_progress_follows_the_end_users_steps,
            creating_an_integration_writes_everything_once,
            activation_tokens_are_single_use_and_scoped,
            concurrent_redemptions_succeed_exactly_once,
            integrations_list_walks_with_a_cursor,
            integrations_list_filters_combine,
            integration_search_matches_ids_emails_and_names,
            integration_search_filters_combine,
            integration_search_walks_with_a_cursor,
            integration_health_follows_the_checks,
            integration_counts_by_status_and_health,
            status_changes_are_compare_and_set,
            deleting_removes_credentials_and_tokens,
            relink_replaces_credentials_and_reactivates,
            connection_checks_are_claimed_once_and_recorded,
            oauth_app_revisions_count_up_and_retire,
            oauth_apps_are_per_environment,
            concurrent_oauth_app_puts_number_distinct_revisions,
            oauth_attempts_are_consumed_once,
            expired_oauth_attempts_are_refused,
            concurrent_oauth_callbacks_consume_once,
            an_attempt_ends_once_after_its_callback,
            oauth_results_are_taken_once,
            oauth_attempts_are_pruned_after_expiry,
            credentials_locks_serialise_refreshes,
            oauth_client_secrets_are_resealed,
            operators_are_unique_by_email,
            signin_tokens_are_valid_until_they_expire,
            signin_tokens_are_redeemed_once,
            concurrent_signin_redemptions_succeed_once,
            expired_and_disabled_signin_tokens_are_refused,
            signin_failures_count_until_a_session_starts,
            signin_failures_restart_after_an_expired_lock,
            operator_sessions_honour_expiry_idleness_and_disabling,
            operator_sessions_end_one_or_all,
            disabling_ends_sessions_and_tokens,
            resetting_replaces_password_sessions_and_token,
            operator_sessions_and_tokens_are_pruned,
            standalone_events_are_stored_and_found,
            an_integrations_events_and_deliveries_are_found,
            audit_events_page_newest_first,
            audit_events_filter,
            audit_actions_are_counted_by_hour,
            request_log_keeps_every_field,
            request_log_pages_newest_first,
            request_log_filters,
            request_log_goes_with_its_integration,
            request_log_batches_are_whole,
            request_log_prunes_oldest_first,
            sealing_counts_and_batches_visit_old_keys,
            resealing_is_compare_and_set,
            webhook_endpoints_are_stored_and_listed,
            events_fan_out_to_subscribed_enabled_endpoints,
            endpoint_changes_disable_and_enable,
            rotation_keeps_the_previous_secret,
            a_test_event_reaches_one_endpoint,
            deleting_an_endpoint_deletes_its_deliveries,
            claims_respect_endpoint_caps_and_release,
            concurrent_claims_take_disjoint_deliveries,
            expired_leases_make_deliveries_due_again,
            a_failed_attempt_is_logged_and_rescheduled,
            a_stale_lease_cannot_reschedule_but_a_success_counts,
            giving_up_and_retrying_by_hand,
            failing_and_gone_endpoints_are_disabled,
            the_delivery_log_pages_with_filters,
            deliveries_are_counted_by_state,
        );
    };
    (@each $factory:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let store: ::std::sync::Arc<dyn $crate::Store> = $factory.await;
                $crate::contract::$name(store).await;
            }
        )+
    };
}

async fn environment_id(store: &dyn Store, name: EnvironmentName) -> String {
    let environments = store.environments().await.expect("environments");
    environments
        .into_iter()
        .find(|env| env.name == name)
        .expect("both environments exist")
        .id
}

fn millis_now() -> DateTime<Utc> {
    // Stored timestamps have millisecond precision; compare like with like.
    crate::from_millis(crate::to_millis(Utc::now())).expect("now is in range")
}

fn sealed(tag: &str) -> Sealed {
    Sealed {
        key_id: "k1".into(),
        nonce: vec![7; 24],
        ciphertext: tag.as_bytes().to_vec(),
    }
}

fn event(environment_id: &str, event_type: &str) -> Event {
    let id = ids::new_id();
    Event {
        payload: format!(r#"{{"id":"{id}","type":"{event_type}","data":{{}}}}"#),
        id,
        environment_id: environment_id.into(),
        event_type: event_type.into(),
        created_at: millis_now(),
        detail: None,
        integration_id: None,
    }
}

fn new_integration(environment_id: &str, tool: &str, origin: Option<&str>) -> NewIntegration {
    let now = millis_now();
    let integration = Integration {
        id: ids::IntegrationId::generate(tool),
        environment_id: environment_id.into(),
        tool: tool.into(),
        category: Category::Hris,
        status: IntegrationStatus::Active,
        setup_status: SetupStatus::Completed,
        end_user: EndUser {
            email: Some("admin@acme.example".into()),
            organization_name: "Acme, Inc.".into(),
            origin_id: origin.map(Into::into),
        },
        scope_config_id: ids::new_id(),
        remote_environment: None,
        created_at: now,
        updated_at: now,
    };
    NewIntegration {
        credentials: sealed(integration.id.as_str()),
        link: ConsumedLink {
            link_id: ids::new_id(),
            expires_at: now + Duration::hours(1),
        },
        activation: NewActivationToken {
            hash: ids::new_id().into_bytes(),
            expires_at: now + Duration::minutes(10),
        },
        event: event(environment_id, "integration-created"),
        integration,
    }
}
