//! Deliveries: who receives which event, retries on schedule, `Retry-After`, `410`,
//! redirects, timeouts, a backlog, manual retries and the delivery log.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};

use super::{WAIT, compressed};
use crate::{
    both_backends,
    helpers::{Backend, TestApp, spawn_app, spawn_app_with},
    receiver::{Answer, TestReceiver},
};

/// Polls the delivery log of `endpoint` until `done` holds for its newest delivery's detail.
async fn wait_for_delivery(app: &TestApp, endpoint: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let list = app
            .get(&format!("/v1/webhooks/{endpoint}/deliveries"))
            .await;
        if let Some(id) = list.data()["results"][0]["id"].as_str() {
            let detail = app.get(&format!("/v1/webhooks/deliveries/{id}")).await;
            if done(detail.data()) {
                return detail.data().clone();
            }
        }
        assert!(
            Instant::now() < deadline,
            "the delivery did not get there: {}",
            list.text
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn subscriptions_and_environments_decide_who_receives(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = TestReceiver::start().await;
    let deleted_only = TestReceiver::start().await;
    app.add_webhook(&all.url).await;
    app.add_webhook_for(&deleted_only.url, &["integration-deleted"])
        .await;
    let integration = app.connected_integration().await;
    app.delete_integration(&integration).await;
    let got = all.wait_for(2, WAIT).await;
    let types: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<Value>(&r.body).expect("json")["type"]
                .as_str()
                .expect("type")
                .to_owned()
        })
        .collect();
    assert!(
        types.contains(&"integration-created".to_owned())
            && types.contains(&"integration-deleted".to_owned()),
        "{types:?}"
    );
    let only = deleted_only.wait_for(1, WAIT).await;
    assert!(only[0].body.contains("integration-deleted"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        deleted_only.received().len(),
        1,
        "no integration-created for it"
    );
}

async fn failures_are_retried_on_schedule_and_logged(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[100, 100, 100])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::Status(500), Answer::Status(503)]);
    let (id, _) = app.add_webhook(&receiver.url).await;
    app.connected_integration().await;
    let got = receiver.wait_for(3, WAIT).await;
    let ids: Vec<&str> = got.iter().map(|r| r.header("webhook-id")).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "the same webhook-id on every retry: {ids:?}"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "byte-identical retries"
    );
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(100),
        "the schedule's wait"
    );

    let detail = wait_for_delivery(&app, &id, |d| d["status"] == "SUCCEEDED").await;
    assert_eq!(detail["attempts"], 3);
    assert!(detail["next_attempt_at"].is_null());
    assert_eq!(detail["last_http_status"], 200);
    let log = detail["attempt_log"].as_array().expect("attempts");
    let statuses: Vec<&Value> = log.iter().map(|a| &a["http_status"]).collect();
    assert_eq!(statuses, [&json!(500), &json!(503), &json!(200)]);
    assert_eq!(log[0]["response_excerpt"], "answer 500");
    assert_eq!(detail["payload"]["type"], "integration-created");
    let endpoint = app.get(&format!("/v1/webhooks/{id}")).await;
    assert!(
        endpoint.data()["failing_since"].is_null(),
        "a success clears the failure record"
    );
    an_exhausted_delivery_is_retried_by_hand(&app, &receiver, &id).await;
    the_log_filters_and_pages(&app, &id).await;
    let metrics = app.metrics().await;
    assert!(
        metrics
            .text
            .contains("plugboard_webhook_attempts_total{outcome=\"http_error\"}"),
        "{}",
        metrics.text
    );
}

/// Exhausted: FAILED after 1 + 3 attempts (the schedule of the test above); a manual retry
/// delivers once the receiver is fixed.
async fn an_exhausted_delivery_is_retried_by_hand(
    app: &TestApp,
    receiver: &TestReceiver,
    id: &str,
) {
    receiver.answer(Answer::Status(500));
    let (_, delivery) = app.test_webhook(id).await;
    let failed = wait_for_delivery(app, id, |d| d["status"] == "FAILED").await;
    assert_eq!(failed["id"], delivery.as_str());
    assert_eq!(failed["attempts"], 4);
    let failing = app.get(&format!("/v1/webhooks/{id}")).await;
    assert!(failing.data()["failing_since"].is_string());
    receiver.answer(Answer::Status(204));
    let retried = app
        .send(
            Method::POST,
            &format!("/v1/webhooks/deliveries/{delivery}/retry"),
            Some(&app.dev_key),
            None,
        )
        .await;
    assert_eq!(retried.data()["status"], "PENDING");
    let done = wait_for_delivery(app, id, |d| d["status"] == "SUCCEEDED").await;
    assert_eq!(done["last_http_status"], 204);
    app.send(
        Method::POST,
        "/v1/webhooks/deliveries/nope/retry",
        Some(&app.dev_key),
        None,
    )
    .await
    .error(404, None);
}

/// The delivery log of endpoint `id`, which holds at least two deliveries, one of them a test
/// event, and no failed one: it filters and pages.
async fn the_log_filters_and_pages(app: &TestApp, id: &str) {
    let failed_only = app
        .get(&format!("/v1/webhooks/{id}/deliveries?status=FAILED"))
        .await;
    assert_eq!(failed_only.data()["results"], json!([]));
    let tests_only = app
        .get(&format!(
            "/v1/webhooks/{id}/deliveries?event_type=webhook-test&page_size=1"
        ))
        .await;
    assert_eq!(
        tests_only.data()["results"].as_array().expect("page").len(),
        1
    );
    assert!(tests_only.data()["next"].is_null());
    let first_page = app
        .get(&format!("/v1/webhooks/{id}/deliveries?page_size=1"))
        .await;
    let next = first_page.data()["next"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let second_page = app
        .get(&format!(
            "/v1/webhooks/{id}/deliveries?page_size=1&cursor={next}"
        ))
        .await;
    assert_ne!(
        second_page.data()["results"][0]["id"],
        first_page.data()["results"][0]["id"]
    );
    app.get(&format!("/v1/webhooks/{id}/deliveries?status=LOST"))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    app.get(&format!("/v1/webhooks/{id}/deliveries?cursor=garbage"))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    app.get("/v1/webhooks/missing/deliveries")
        .await
        .error(404, None);
    app.get("/v1/webhooks/deliveries/missing")
        .await
        .error(404, None);
}

async fn retry_after_is_honoured(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[50, 50])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::RetryAfter(2)]);
    app.add_webhook(&receiver.url).await;
    app.connected_integration().await;
    let got = receiver.wait_for(2, WAIT).await;
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= Duration::from_millis(1900),
        "waited only {waited:?}"
    );
}

async fn gone_disables_the_endpoint_until_enabled(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[50, 50, 50])).await;
    let receiver = TestReceiver::start().await;
    receiver.then([Answer::Status(410)]);
    let (id, _) = app.add_webhook(&receiver.url).await;
    app.connected_integration().await;
    receiver.wait_for(1, WAIT).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let endpoint = app.get(&format!("/v1/webhooks/{id}")).await;
        if endpoint.data()["disabled_reason"] == "GONE" {
            assert_eq!(endpoint.data()["enabled"], false);
            break;
        }
        assert!(Instant::now() < deadline, "{}", endpoint.text);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        receiver.received().len(),
        1,
        "nothing is sent to a gone endpoint"
    );
    // The delivery waited; enabling sends it.
    app.set_webhook_enabled(&id, true).await;
    let got = receiver.wait_for(2, WAIT).await;
    assert_eq!(got[0].header("webhook-id"), got[1].header("webhook-id"));
}

async fn redirects_are_not_followed(backend: Backend) {
    let app = spawn_app_with(backend, compressed(&[60_000])).await;
    let receiver = TestReceiver::start().await;
    let elsewhere = TestReceiver::start().await;
    receiver.answer(Answer::Redirect(elsewhere.url.clone()));
    let (id, _) = app.add_webhook(&receiver.url).await;
    app.connected_integration().await;
    let detail = wait_for_delivery(&app, &id, |d| {
        d["attempts"] == 1 && d["last_http_status"] == 302
    })
    .await;
    assert_eq!(
        detail["status"], "PENDING",
        "a redirect is a failure, retried later"
    );
    assert!(
        elsewhere.received().is_empty(),
        "the redirect was not followed"
    );
}

async fn a_hanging_endpoint_times_out_without_delaying_others(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.webhooks.timeout = Duration::from_millis(700);
        config.webhooks.endpoint_concurrency = 2;
        config.webhooks.retry_schedule = vec![Duration::from_secs(60)];
    })
    .await;
    let hanging = TestReceiver::start().await;
    hanging.answer(Answer::Hang);
    let healthy = TestReceiver::start().await;
    let (hanging_id, _) = app.add_webhook(&hanging.url).await;
    let (healthy_id, _) = app.add_webhook(&healthy.url).await;
    let started = Instant::now();
    for endpoint in [&hanging_id, &healthy_id] {
        for _ in 0..5 {
            app.test_webhook(endpoint).await;
        }
    }
    healthy.wait_for(5, WAIT).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "healthy deliveries waited for the hanging endpoint: {:?}",
        started.elapsed()
    );
    let detail = wait_for_delivery(&app, &hanging_id, |d| {
        d["attempts"].as_u64() >= Some(1)
            && d["attempt_log"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    let error = detail["attempt_log"][0]["error"]
        .as_str()
        .expect("an error");
    assert!(error.contains("timed out"), "{error}");
    assert!(detail["attempt_log"][0]["http_status"].is_null());
}

async fn a_backlog_drains_without_idling(backend: Backend) {
    // One delivery in flight at a time: every completion must lead straight to the next claim.
    // (A worker that missed the freed slot would idle a poll interval, a second, per delivery.)
    let app = spawn_app_with(backend, |config| config.webhooks.endpoint_concurrency = 1).await;
    let receiver = TestReceiver::start().await;
    let (id, _) = app.add_webhook(&receiver.url).await;
    app.set_webhook_enabled(&id, false).await;
    let env = app.state.environments.development.id.clone();
    for _ in 0..300 {
        let event = plugboard::events::webhook_test(&env, &id, chrono::Utc::now());
        app.state
            .store
            .queue_event_for_endpoint(&event, &id)
            .await
            .expect("queue")
            .expect("endpoint");
    }
    app.set_webhook_enabled(&id, true).await;
    receiver.wait_for(300, WAIT).await;
}

both_backends!(
    a_backlog_drains_without_idling,
    subscriptions_and_environments_decide_who_receives,
    failures_are_retried_on_schedule_and_logged,
    retry_after_is_honoured,
    gone_disables_the_endpoint_until_enabled,
    redirects_are_not_followed,
    a_hanging_endpoint_times_out_without_delaying_others,
);
