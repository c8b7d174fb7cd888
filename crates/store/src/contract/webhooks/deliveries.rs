//! Contract of [`crate::Deliveries`]: claims lease deliveries to one worker at a time, respect
//! per-endpoint caps, and give an expired lease's deliveries out again; attempts are logged and
//! decide what happens next.

use std::{collections::HashMap, sync::Arc};

use chrono::{Duration, Utc};

use super::{claim_now, endpoint, leased, outcome, twenty_events};
use crate::{
    EnvironmentName, Event, Store,
    contract::{environment_id, event, millis_now},
    webhooks::{
        Attempt, AttemptOutcome, Claim, DeliveryCounts, DeliveryCursor, DeliveryFilter,
        DeliveryStatus, DisabledReason, EndpointHealth, NextStep,
    },
};

/// A busy endpoint only gets its free slots; a lost claim is given back by its lease id.
pub async fn claims_respect_endpoint_caps_and_release(store: Arc<dyn Store>) {
    let (_, hook, other) = twenty_events(&*store).await;
    assert!(
        store
            .next_delivery_due()
            .await
            .expect("due")
            .is_some_and(|due| due <= Utc::now())
    );

    // A busy endpoint only gets its free slots.
    let mut in_flight = HashMap::new();
    in_flight.insert(hook.id.clone(), 3);
    let capped = Claim {
        per_endpoint: 4,
        ..claim_now("lease-a", &in_flight, 100)
    };
    let claimed = store.claim_deliveries(&capped).await.expect("claim");
    let to_hook = claimed.iter().filter(|c| c.endpoint_id == hook.id).count();
    let to_other = claimed.iter().filter(|c| c.endpoint_id == other.id).count();
    assert_eq!((to_hook, to_other), (1, 4));

    // A claim whose reply was lost (the database restarted as it committed) is given back by
    // its lease id: its deliveries are due at once, as the same attempt, not after the lease.
    assert_eq!(
        store
            .release_lease("no-such-lease", Utc::now())
            .await
            .expect("release"),
        0
    );
    assert_eq!(
        store
            .release_lease("lease-a", Utc::now())
            .await
            .expect("release"),
        5
    );
    let again = store.claim_deliveries(&capped).await.expect("claim");
    assert_eq!(again.len(), 5, "the released deliveries are due again");
    assert!(
        again.iter().all(|c| c.attempt == 1),
        "the attempt is undone"
    );
}

/// Concurrent claims take disjoint deliveries.
pub async fn concurrent_claims_take_disjoint_deliveries(store: Arc<dyn Store>) {
    let (_, hook, _) = twenty_events(&*store).await;
    let mut in_flight = HashMap::new();
    in_flight.insert(hook.id.clone(), 3);
    let capped = Claim {
        per_endpoint: 4,
        ..claim_now("lease-a", &in_flight, 100)
    };
    assert_eq!(
        store.claim_deliveries(&capped).await.expect("claim").len(),
        5
    );
    // Concurrent claims take disjoint deliveries, 35 in all.
    let none = HashMap::new();
    let mut tasks = Vec::new();
    for worker in 0..4 {
        let store = Arc::clone(&store);
        let none = none.clone();
        tasks.push(tokio::spawn(async move {
            let lease = format!("lease-w{worker}");
            let mut mine = Vec::new();
            loop {
                let got = store
                    .claim_deliveries(&claim_now(&lease, &none, 3))
                    .await
                    .expect("claim");
                if got.is_empty() {
                    break mine;
                }
                mine.extend(got.into_iter().map(|c| c.id));
            }
        }));
    }
    let mut ids: Vec<String> = Vec::new();
    for task in tasks {
        ids.extend(task.await.expect("task"));
    }
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!((total, ids.len()), (35, 35), "each delivery claimed once");
    assert!(
        store
            .claim_deliveries(&claim_now("late", &none, 100))
            .await
            .expect("claim")
            .is_empty()
    );
}

/// Expired leases (a crashed worker) make the deliveries due again, as the next attempt.
pub async fn expired_leases_make_deliveries_due_again(store: Arc<dyn Store>) {
    twenty_events(&*store).await;
    let none = HashMap::new();
    let first = store
        .claim_deliveries(&claim_now("lease-a", &none, 100))
        .await
        .expect("claim");
    assert!(first.iter().all(|c| c.attempt == 1));
    let now = Utc::now();
    let expired = Claim {
        now: now + Duration::seconds(61),
        lease_until: now + Duration::seconds(121),
        ..claim_now("lease-b", &none, 100)
    };
    let claimed = store.claim_deliveries(&expired).await.expect("claim");
    assert_eq!(claimed.len(), 40);
    assert!(
        claimed
            .iter()
            .all(|c| c.attempt == 2 && c.lease_id == "lease-b")
    );
}

/// A failed attempt is logged with its answer, reschedules its delivery and marks its
/// endpoint failing.
pub async fn a_failed_attempt_is_logged_and_rescheduled(store: Arc<dyn Store>) {
    let (dev, _, _, claimed) = leased(&*store).await;
    let first = &claimed[0];
    let retry_at = millis_now() + Duration::minutes(5);
    store
        .finish_attempts(
            &[outcome(
                first,
                Some(503),
                NextStep::RetryAt(retry_at),
                EndpointHealth::Failing {
                    disable_if_failing_since: millis_now() - Duration::days(5),
                },
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let detail = store
        .delivery(&dev, &first.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(detail.delivery.status, DeliveryStatus::Pending);
    assert_eq!(detail.delivery.next_attempt_at, retry_at);
    assert_eq!(detail.delivery.last_http_status, Some(503));
    assert_eq!(detail.attempts.len(), 1);
    assert_eq!(
        detail.attempts[0].response_excerpt.as_deref(),
        Some("answer 503")
    );
    assert_eq!(detail.payload, first.payload);
    let failing = store
        .webhook_endpoint(&dev, &first.endpoint_id)
        .await
        .expect("get")
        .expect("exists");
    assert!(failing.failing_since.is_some() && failing.enabled);
}

/// A worker whose lease was taken over cannot reschedule, but its success counts.
pub async fn a_stale_lease_cannot_reschedule_but_a_success_counts(store: Arc<dyn Store>) {
    let (dev, _, _, claimed) = leased(&*store).await;
    let stale = AttemptOutcome {
        lease_id: "someone-else".into(),
        ..outcome(&claimed[1], None, NextStep::GiveUp, EndpointHealth::Healthy)
    };
    store
        .finish_attempts(&[stale], millis_now())
        .await
        .expect("finish");
    let still = store
        .delivery(&dev, &claimed[1].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(still.delivery.status, DeliveryStatus::Pending);
    assert_eq!(
        still.attempts.len(),
        1,
        "the attempt is logged all the same"
    );
    let success = AttemptOutcome {
        lease_id: "someone-else".into(),
        ..outcome(
            &claimed[1],
            Some(200),
            NextStep::Succeeded,
            EndpointHealth::Healthy,
        )
    };
    let success = AttemptOutcome {
        attempt: Attempt {
            number: 9,
            ..success.attempt.clone()
        },
        ..success
    };
    store
        .finish_attempts(&[success], millis_now())
        .await
        .expect("finish");
    let done = store
        .delivery(&dev, &claimed[1].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(done.delivery.status, DeliveryStatus::Succeeded);
}

/// Giving up fails the delivery; a manual retry makes it due again.
pub async fn giving_up_and_retrying_by_hand(store: Arc<dyn Store>) {
    let (dev, _, _, claimed) = leased(&*store).await;
    store
        .finish_attempts(
            &[outcome(
                &claimed[2],
                Some(500),
                NextStep::GiveUp,
                EndpointHealth::Healthy,
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let failed = store
        .delivery(&dev, &claimed[2].id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(failed.delivery.status, DeliveryStatus::Failed);
    let retried = store
        .retry_delivery(&dev, &claimed[2].id, millis_now())
        .await
        .expect("retry")
        .expect("exists");
    assert_eq!(retried.status, DeliveryStatus::Pending);
    assert_eq!(
        store
            .retry_delivery(&dev, "missing", millis_now())
            .await
            .expect("retry"),
        None
    );
}

/// Failing for longer than the limit disables an endpoint; 410 disables at once; disabled
/// endpoints' deliveries wait.
pub async fn failing_and_gone_endpoints_are_disabled(store: Arc<dyn Store>) {
    let (dev, hook, other, _) = leased(&*store).await;
    let none = HashMap::new();
    store
        .record_event(&event(&dev, "integration-created"))
        .await
        .expect("event");
    let mut pending = store
        .claim_deliveries(&claim_now("lease-c", &none, 100))
        .await
        .expect("claim");
    assert!(!pending.is_empty());
    let one = pending.remove(0);
    store
        .finish_attempts(
            &[outcome(
                &one,
                Some(500),
                NextStep::RetryAt(millis_now()),
                EndpointHealth::Failing {
                    disable_if_failing_since: millis_now() + Duration::seconds(1),
                },
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let disabled = store
        .webhook_endpoint(&dev, &one.endpoint_id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (disabled.enabled, disabled.disabled_reason),
        (false, Some(DisabledReason::Failing))
    );
    let gone_target = if one.endpoint_id == hook.id {
        &other
    } else {
        &hook
    };
    let to_gone = pending
        .iter()
        .find(|c| c.endpoint_id == gone_target.id)
        .expect("the new event's delivery");
    store
        .finish_attempts(
            &[outcome(
                to_gone,
                Some(410),
                NextStep::RetryAt(millis_now()),
                EndpointHealth::Gone,
            )],
            millis_now(),
        )
        .await
        .expect("finish");
    let gone = store
        .webhook_endpoint(&dev, &gone_target.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(
        (gone.enabled, gone.disabled_reason),
        (false, Some(DisabledReason::Gone))
    );
    // Disabled endpoints' deliveries wait.
    assert!(
        store
            .claim_deliveries(&claim_now("lease-d", &none, 100))
            .await
            .expect("claim")
            .iter()
            .all(|c| c.endpoint_id != one.endpoint_id)
    );
}

/// The log: newest first, filtered, paged.
pub async fn the_delivery_log_pages_with_filters(store: Arc<dyn Store>) {
    let (dev, hook, other, claimed) = leased(&*store).await;
    store
        .record_event(&event(&dev, "integration-created"))
        .await
        .expect("event");
    let success = outcome(
        &claimed[0],
        Some(200),
        NextStep::Succeeded,
        EndpointHealth::Healthy,
    );
    store
        .finish_attempts(&[success], millis_now())
        .await
        .expect("finish");
    let log = store
        .list_deliveries(&dev, &hook.id, &DeliveryFilter::default(), None, 100)
        .await
        .expect("list");
    assert_eq!(log.len(), 21, "every event went to both endpoints");
    let page = store
        .list_deliveries(&dev, &hook.id, &DeliveryFilter::default(), None, 4)
        .await
        .expect("list");
    let last = page.last().expect("a page");
    let next = store
        .list_deliveries(
            &dev,
            &hook.id,
            &DeliveryFilter::default(),
            Some(&DeliveryCursor {
                created_at: last.created_at,
                id: last.id.clone(),
            }),
            100,
        )
        .await
        .expect("list");
    assert_eq!(page.len() + next.len(), 21);
    assert!(next.iter().all(|d| !page.contains(d)));
    let by_type = DeliveryFilter {
        event_type: Some("integration-deleted".into()),
        ..Default::default()
    };
    assert!(
        store
            .list_deliveries(&dev, &hook.id, &by_type, None, 100)
            .await
            .expect("list")
            .is_empty()
    );
    let succeeded = DeliveryFilter {
        status: Some(DeliveryStatus::Succeeded),
        ..Default::default()
    };
    let succeeded_count = store
        .list_deliveries(&dev, &hook.id, &succeeded, None, 100)
        .await
        .expect("list")
        .len()
        + store
            .list_deliveries(&dev, &other.id, &succeeded, None, 100)
            .await
            .expect("list")
            .len();
    assert_eq!(succeeded_count, 1);
}

/// Deliveries queued from `since` on (inclusive) are counted by where they stand: delivered,
/// given up, pending after a failed attempt (or one still in flight), pending untried; per
/// environment.
pub async fn deliveries_are_counted_by_state(store: Arc<dyn Store>) {
    let dev = environment_id(&*store, EnvironmentName::Development).await;
    let prod = environment_id(&*store, EnvironmentName::Production).await;
    let hook = endpoint(&dev, "https://a.example/hook", &["integration-created"]);
    let elsewhere = endpoint(&prod, "https://b.example/hook", &["integration-created"]);
    for endpoint in [&hook, &elsewhere] {
        store
            .insert_webhook_endpoint(endpoint)
            .await
            .expect("insert");
    }
    // In the past, so that every delivery is due to the claims below.
    let since = millis_now() - Duration::minutes(10);
    let queued_at = |env: &str, at| Event {
        created_at: at,
        ..event(env, "integration-created")
    };
    for i in 0..4 {
        store
            .record_event(&queued_at(&dev, since + Duration::seconds(i)))
            .await
            .expect("event");
    }
    let none = HashMap::new();
    let mut claimed = store
        .claim_deliveries(&claim_now("lease-a", &none, 100))
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 4);
    claimed.sort_by(|a, b| a.id.cmp(&b.id));
    let outcomes = [
        outcome(
            &claimed[0],
            Some(200),
            NextStep::Succeeded,
            EndpointHealth::Healthy,
        ),
        outcome(
            &claimed[1],
            Some(500),
            NextStep::GiveUp,
            EndpointHealth::Healthy,
        ),
        outcome(
            &claimed[2],
            Some(503),
            NextStep::RetryAt(millis_now() + Duration::minutes(5)),
            EndpointHealth::Healthy,
        ),
    ];
    store
        .finish_attempts(&outcomes, millis_now())
        .await
        .expect("finish");
    // Queued after the claim, so never tried: two in the window, one before it, one in
    // production.
    for at in [since + Duration::seconds(5), since + Duration::seconds(6)] {
        store
            .record_event(&queued_at(&dev, at))
            .await
            .expect("event");
    }
    store
        .record_event(&queued_at(&dev, since - Duration::milliseconds(1)))
        .await
        .expect("event");
    store
        .record_event(&queued_at(&prod, since + Duration::seconds(1)))
        .await
        .expect("event");

    assert_eq!(
        store.delivery_counts(&dev, since).await.expect("counts"),
        DeliveryCounts {
            succeeded: 1,
            failed: 1,
            retrying: 2,
            waiting: 2,
        },
        "the one still in flight counts as retrying; the one before `since` not at all"
    );
    assert_eq!(
        store
            .delivery_counts(&dev, since - Duration::hours(1))
            .await
            .expect("counts"),
        DeliveryCounts {
            succeeded: 1,
            failed: 1,
            retrying: 2,
            waiting: 3,
        }
    );
    assert_eq!(
        store
            .delivery_counts(&dev, since + Duration::seconds(5))
            .await
            .expect("counts"),
        DeliveryCounts {
            waiting: 2,
            ..DeliveryCounts::default()
        },
        "since is inclusive"
    );
    assert_eq!(
        store.delivery_counts(&prod, since).await.expect("counts"),
        DeliveryCounts {
            waiting: 1,
            ..DeliveryCounts::default()
        },
        "per environment"
    );
}
