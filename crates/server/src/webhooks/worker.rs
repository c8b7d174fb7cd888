//! The delivery worker: claims due deliveries, sends them, records each attempt.
//!
//! - **Claiming.** Deliveries are claimed in batches under a lease
//!   ([`Deliveries::claim_deliveries`](plugboard_store::Deliveries::claim_deliveries)); a
//!   claim never takes more than an endpoint's free slots
//!   (`PLUGBOARD_WEBHOOK_ENDPOINT_CONCURRENCY`) or the process's
//!   (`PLUGBOARD_WEBHOOK_CONCURRENCY`), so a hanging endpoint holds at most its own slots and
//!   healthy endpoints keep flowing.
//! - **Waking.** After a claim the worker sleeps until the next delivery is due, a commit
//!   queues new deliveries (in process on SQLite, `LISTEN/NOTIFY` on PostgreSQL), a slot frees
//!   up, or [`POLL`] passes (other processes' work on SQLite).
//! - **Recording.** Attempts are recorded in batches by one task (`record`), so a burst of
//!   deliveries costs one write transaction per batch rather than per request.
//! - **Crashes.** A delivery whose worker dies stays leased until [`lease`] passes, then is due
//!   again: at least once, with the same `webhook-id`.
//! - **Shutdown.** Claiming stops, requests in flight finish (each is bounded by the timeout),
//!   their outcomes are recorded, then the worker returns.

use std::{
    collections::HashMap,
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::Utc;
use plugboard_store::{
    EnvironmentName, Store, ids,
    webhooks::{Attempt, AttemptOutcome, Claim, ClaimedDelivery, EndpointHealth, NextStep},
};
use rand::Rng;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use tokio::{
    sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc},
    task::JoinSet,
};
use zeroize::Zeroizing;

use crate::{
    AppState, Environments,
    config::WebhookConfig,
    lock,
    metrics::Metrics,
    net,
    vault::Vault,
    webhooks::{allowed_addresses, open_secret, sign},
};

/// Longest sleep between looks at the queue when nothing wakes the worker.
pub const POLL: Duration = Duration::from_secs(1);

/// How many bytes of a response body are kept in the delivery log.
pub const EXCERPT_BYTES: usize = 1024;

/// Longest `Retry-After` honoured: a receiver cannot park a delivery for longer than a day.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Most outcomes written in one transaction.
const RECORD_BATCH: usize = 256;

/// How long a claim reserves a delivery: enough for the request (at most the timeout) and for
/// recording its outcome, with a margin, so a live worker does not lose a lease it is using
/// (if it does, the delivery is merely sent twice). After a crash, its deliveries wait this
/// long before they are sent again: 35 seconds with the default timeout.
pub fn lease(config: &WebhookConfig) -> Duration {
    config.timeout * 2 + Duration::from_secs(5)
}

/// One HTTP client per environment: they differ in which addresses they may reach.
struct Clients {
    production: (reqwest::Client, net::Allowed),
    development: (reqwest::Client, net::Allowed),
}

impl Clients {
    fn new(config: &WebhookConfig) -> Self {
        let make = |environment| {
            let allowed = allowed_addresses(config, environment);
            (
                net::guarded_client(config.timeout, allowed.clone()),
                allowed,
            )
        };
        Self {
            production: make(EnvironmentName::Production),
            development: make(EnvironmentName::Development),
        }
    }

    fn get(&self, environment: EnvironmentName) -> &(reqwest::Client, net::Allowed) {
        match environment {
            EnvironmentName::Production => &self.production,
            EnvironmentName::Development => &self.development,
        }
    }
}

/// What the worker needs, and nothing more: it is the HTTP server's neighbour, not part of it,
/// and `plugboard worker` runs it alone.
pub struct Context {
    /// Where deliveries are claimed and their outcomes recorded.
    pub store: Arc<dyn plugboard_store::Store>,
    /// Opens the endpoints' sealed secrets.
    pub vault: Arc<Vault>,
    /// Which environment a delivery belongs to decides the addresses it may reach.
    pub environments: Environments,
    /// Concurrency, lease, timeout, retry schedule and allowed networks.
    pub config: WebhookConfig,
    /// Attempts and deliveries in flight.
    pub metrics: Arc<Metrics>,
}

impl Context {
    /// The worker's share of the application's state.
    pub fn of(state: &AppState) -> Self {
        Self {
            store: Arc::clone(&state.store),
            vault: Arc::clone(&state.vault),
            environments: state.environments.clone(),
            config: state.config.webhooks.clone(),
            metrics: Arc::clone(&state.metrics),
        }
    }
}

/// What the worker shares with its delivery tasks.
struct Shared {
    context: Context,
    clients: Clients,
    /// Deliveries in flight per endpoint, for the per-endpoint cap.
    in_flight: Mutex<HashMap<String, u32>>,
    /// Signalled when a delivery task ends, so a worker waiting for a slot claims again.
    freed: Notify,
}

/// How many failed claims' leases a worker remembers to give back.
const MAX_LOST_LEASES: usize = 64;

/// Gives back the leases of failed claims, keeping those the database did not answer for.
async fn release_lost(store: &dyn plugboard_store::Store, leases: &mut Vec<String>) {
    let mut kept = Vec::new();
    for lease_id in leases.drain(..) {
        match store.release_lease(&lease_id, Utc::now()).await {
            Ok(0) => {}
            Ok(released) => {
                tracing::info!(released, "deliveries of a failed claim are due again");
            }
            Err(_) => kept.push(lease_id),
        }
    }
    *leases = kept;
}

/// Runs the worker until `shutdown` completes, then drains. Errors of the database are
/// logged and retried; this only returns once shut down.
pub async fn run(context: Context, shutdown: impl Future<Output = ()> + Send) {
    let config = context.config.clone();
    let shared = Arc::new(Shared {
        clients: Clients::new(&config),
        context,
        in_flight: Mutex::default(),
        freed: Notify::new(),
    });
    let store = Arc::clone(&shared.context.store);
    let (outcomes, queue) = mpsc::channel(4 * RECORD_BATCH);
    let recorder = tokio::spawn(record(Arc::clone(&store), queue));
    let slots = Arc::new(Semaphore::new(config.concurrency as usize));
    let mut tasks = JoinSet::new();
    let mut failures = 0u32;
    // Leases of claims that failed without an answer: the claim may have committed as the
    // connection dropped. They are given back once the database answers again, so their
    // deliveries go at once instead of after the lease (about 35 s by default).
    let mut lost_leases: Vec<String> = Vec::new();
    tokio::pin!(shutdown);
    tracing::info!(
        concurrency = config.concurrency,
        per_endpoint = config.endpoint_concurrency,
        "webhook worker started"
    );
    loop {
        while tasks.try_join_next().is_some() {}
        let free = slots.available_permits();
        let mut claimed = 0;
        if !lost_leases.is_empty() {
            release_lost(&*store, &mut lost_leases).await;
        }
        if free > 0 {
            let in_flight = lock(&shared.in_flight).clone();
            let lease_id = ids::new_id();
            let now = Utc::now();
            let claim = Claim {
                lease_id: &lease_id,
                now,
                lease_until: now + lease(&config),
                limit: u32::try_from(free).unwrap_or(u32::MAX),
                per_endpoint: config.endpoint_concurrency,
                in_flight: &in_flight,
            };
            match store.claim_deliveries(&claim).await {
                Ok(deliveries) => {
                    failures = 0;
                    claimed = deliveries.len();
                    for delivery in deliveries {
                        // This loop is the only place that takes permits, and it counted them.
                        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                            break;
                        };
                        *lock(&shared.in_flight)
                            .entry(delivery.endpoint_id.clone())
                            .or_default() += 1;
                        tasks.spawn(deliver(
                            Arc::clone(&shared),
                            delivery,
                            permit,
                            outcomes.clone(),
                        ));
                    }
                }
                Err(error) => {
                    failures += 1;
                    tracing::warn!(%error, "claiming webhook deliveries failed; retrying");
                    if lost_leases.len() >= MAX_LOST_LEASES {
                        // An outage this long: the oldest leases expire by themselves.
                        lost_leases.remove(0);
                    }
                    lost_leases.push(lease_id);
                }
            }
        }
        if claimed > 0 && claimed == free {
            // The batch was full: more is probably due. Claim again once a slot frees.
            tokio::select! {
                () = &mut shutdown => break,
                () = shared.freed.notified() => {}
            }
            continue;
        }
        let wait = if failures > 0 {
            POLL * failures.min(10)
        } else {
            match store.next_delivery_due().await {
                Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or_default().min(POLL),
                Ok(None) => POLL,
                Err(_) => POLL,
            }
        };
        // Due work that could not be claimed (its endpoints' slots are taken) goes when a slot
        // frees. A slot freed since the claim left a permit in `freed`, so this cannot miss it.
        let wait = if wait.is_zero() { POLL } else { wait };
        tokio::select! {
            () = &mut shutdown => break,
            () = store.wait_for_new_deliveries(wait) => {}
            () = shared.freed.notified() => {}
        }
    }
    tracing::info!(
        in_flight = tasks.len(),
        "webhook worker stopping; finishing deliveries in flight"
    );
    while tasks.join_next().await.is_some() {}
    drop(outcomes);
    let _ = recorder.await;
    tracing::info!("webhook worker stopped");
}

/// Sends one delivery and queues its outcome for recording.
async fn deliver(
    shared: Arc<Shared>,
    delivery: ClaimedDelivery,
    permit: OwnedSemaphorePermit,
    outcomes: mpsc::Sender<AttemptOutcome>,
) {
    let metrics = &shared.context.metrics;
    metrics.webhook_in_flight(1);
    let outcome = attempt(&shared, &delivery).await;
    metrics.webhook_in_flight(-1);
    {
        let mut in_flight = lock(&shared.in_flight);
        if let Some(count) = in_flight.get_mut(&delivery.endpoint_id) {
            *count -= 1;
            if *count == 0 {
                in_flight.remove(&delivery.endpoint_id);
            }
        }
    }
    drop(permit);
    shared.freed.notify_one();
    // The recorder only stops after every task has ended.
    let _ = outcomes.send(outcome).await;
}

/// The response of an attempt, as far as it matters.
struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    excerpt: String,
}

/// Makes one attempt and decides what follows.
async fn attempt(shared: &Shared, delivery: &ClaimedDelivery) -> AttemptOutcome {
    let config = &shared.context.config;
    let started_at = Utc::now();
    let clock = Instant::now();
    let result = send(shared, delivery).await;
    let elapsed = clock.elapsed();
    let now = Utc::now();
    let (http_status, error, excerpt, retry_after) = match result {
        Ok(answer) => (
            Some(answer.status),
            None,
            Some(answer.excerpt),
            answer.retry_after,
        ),
        Err(error) => (None, Some(error), None, None),
    };
    let succeeded = http_status.is_some_and(|s| (200..300).contains(&s));
    let gone = http_status == Some(410);
    shared.context.metrics.webhook_attempt(
        match (succeeded, http_status) {
            (true, _) => "succeeded",
            (false, Some(_)) => "http_error",
            (false, None) => "network_error",
        },
        elapsed,
    );
    let next = if succeeded {
        NextStep::Succeeded
    } else {
        match retry_delay(&config.retry_schedule, delivery.attempt, retry_after) {
            Some(delay) => NextStep::RetryAt(now + delay),
            None => NextStep::GiveUp,
        }
    };
    let health = if succeeded {
        EndpointHealth::Healthy
    } else if gone {
        tracing::warn!(endpoint_id = %delivery.endpoint_id, "webhook endpoint answered 410 Gone; disabling it");
        EndpointHealth::Gone
    } else {
        EndpointHealth::Failing {
            disable_if_failing_since: now
                - chrono::Duration::from_std(config.disable_after).unwrap_or(chrono::Duration::MAX),
        }
    };
    if !succeeded {
        tracing::info!(
            delivery_id = %delivery.id,
            endpoint_id = %delivery.endpoint_id,
            attempt = delivery.attempt,
            status = http_status,
            error = error.as_deref(),
            "webhook attempt failed"
        );
    }
    AttemptOutcome {
        delivery_id: delivery.id.clone(),
        lease_id: delivery.lease_id.clone(),
        endpoint_id: delivery.endpoint_id.clone(),
        attempt: Attempt {
            number: delivery.attempt,
            started_at,
            duration_ms: u32::try_from(elapsed.as_millis()).unwrap_or(u32::MAX),
            http_status,
            error,
            response_excerpt: excerpt.filter(|e| !e.is_empty()),
        },
        next,
        health,
    }
}

/// The wait before the retry that follows attempt `attempt` (1-based), or `None` when the
/// schedule is exhausted. Each wait is lengthened by up to a quarter at random, never
/// shortened, so the schedule's total span is a minimum; a longer `Retry-After` wins.
pub fn retry_delay(
    schedule: &[Duration],
    attempt: u32,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(attempt).ok()?.checked_sub(1)?;
    let base = *schedule.get(index)?;
    let jitter = rand::rng().random_range(1.0..1.25);
    let delay = base.mul_f64(jitter);
    Some(match retry_after {
        Some(wanted) => delay.max(wanted.min(MAX_RETRY_AFTER)),
        None => delay,
    })
}

/// Signs and sends a delivery. `Err` is a failure without an HTTP answer, in words for the
/// delivery log (never the URL, which may carry the operator's own token).
async fn send(shared: &Shared, delivery: &ClaimedDelivery) -> Result<Answer, String> {
    let context = &shared.context;
    let environment = context
        .environments
        .by_id(&delivery.environment_id)
        .map(|env| env.name)
        .ok_or("the delivery's environment does not exist")?;
    let (client, allowed) = shared.clients.get(environment);
    let url =
        url::Url::parse(&delivery.url).map_err(|_| "the endpoint URL is invalid".to_owned())?;
    allowed
        .check_literal_host(&url)
        .map_err(|blocked| unreachable_host(&blocked.0))?;
    let secret = open_secret(&context.vault, &delivery.endpoint_id, &delivery.secret)
        .map_err(|_| "the endpoint's secret cannot be opened with this master key".to_owned())?;
    let previous: Option<Zeroizing<String>> =
        delivery.previous_secret.as_ref().and_then(|previous| {
            open_secret(&context.vault, &delivery.endpoint_id, &previous.secret).ok()
        });
    let headers = signed_headers(
        delivery,
        &secret,
        previous.as_deref().map(String::as_str),
        Utc::now().timestamp(),
    );
    let url_host = url.host_str().unwrap_or_default().to_owned();
    let url_host = url_host.as_str();
    let response = client
        .post(url)
        .headers(headers)
        .body(delivery.payload.clone())
        .send()
        .await
        .map_err(|error| describe(&error, url_host, context.config.timeout))?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(net::parse_retry_after);
    Ok(Answer {
        status,
        retry_after,
        excerpt: excerpt(response).await,
    })
}

/// The headers of a delivery: Kombo's signature and Standard Webhooks' three.
pub fn signed_headers(
    delivery: &ClaimedDelivery,
    secret: &str,
    previous: Option<&str>,
    timestamp: i64,
) -> HeaderMap {
    let body = delivery.payload.as_bytes();
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let signatures: Vec<String> = [Some(secret), previous]
        .into_iter()
        .flatten()
        .filter_map(|secret| sign::standard_signature(secret, &delivery.event_id, timestamp, body))
        .collect();
    let values = [
        ("x-kombo-signature", sign::kombo_signature(secret, body)),
        ("webhook-id", delivery.event_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ];
    for (name, value) in values {
        // Ids, digits and base64 are always valid header values.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers
}

/// `Retry-After` as seconds or an HTTP date.
/// The first [`EXCERPT_BYTES`] of a response body, read no further.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The one error for a host that may not be reached and one that does not resolve: the delivery
/// log must not tell a development key which internal names exist.
fn unreachable_host(host: &str) -> String {
    format!("refused: {host} does not resolve to an address webhooks may reach")
}

/// A transport failure in words, without the URL, by its cause as [`net::classify`] tells it.
fn describe(error: &reqwest::Error, host: &str, timeout: Duration) -> String {
    let failure = net::classify(error);
    match failure.cause {
        net::Cause::Dns | net::Cause::Blocked => unreachable_host(host),
        net::Cause::Timeout => {
            format!("timed out after {}", humantime::format_duration(timeout))
        }
        net::Cause::Refused => "could not connect: connection refused".to_owned(),
        net::Cause::Tls => format!("TLS handshake failed: {}", failure.detail),
        net::Cause::Connect => format!("could not connect: {}", failure.detail),
        net::Cause::Other => format!("request failed: {}", failure.detail),
    }
}

/// Writes outcomes in batches until every sender is gone. A failed write is retried: the
/// deliveries stay leased meanwhile, and if the process dies first, they are simply sent again.
/// Once shutting down, it tries a few times only, so a dead database cannot keep the process
/// from exiting; unrecorded deliveries are then sent again after their lease.
async fn record(store: Arc<dyn Store>, mut queue: mpsc::Receiver<AttemptOutcome>) {
    const TRIES_WHEN_STOPPING: u32 = 3;
    let mut batch = Vec::with_capacity(RECORD_BATCH);
    while queue.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let mut delay = Duration::from_millis(100);
        let mut tries = 0;
        loop {
            match store.finish_attempts(&batch, Utc::now()).await {
                Ok(()) => break,
                Err(error) => {
                    tries += 1;
                    if queue.is_closed() && tries >= TRIES_WHEN_STOPPING {
                        tracing::error!(%error, outcomes = batch.len(), "could not record webhook attempts before stopping; they will be sent again");
                        break;
                    }
                    tracing::warn!(%error, outcomes = batch.len(), "recording webhook attempts failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_with_upward_jitter() {
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        for _ in 0..100 {
            let first = retry_delay(&schedule, 1, None).expect("a retry");
            assert!(first >= Duration::from_secs(5) && first < Duration::from_millis(6250));
        }
        assert!(retry_delay(&schedule, 2, None).expect("a retry") >= Duration::from_secs(300));
        assert_eq!(retry_delay(&schedule, 3, None), None, "exhausted");
        assert_eq!(retry_delay(&schedule, 0, None), None);
        let longer = retry_delay(&schedule, 1, Some(Duration::from_secs(60))).expect("a retry");
        assert_eq!(
            longer,
            Duration::from_secs(60),
            "Retry-After wins when longer"
        );
        let capped = retry_delay(&schedule, 1, Some(Duration::from_secs(10 * 24 * 3600)));
        assert_eq!(capped, Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn the_default_schedule_spans_more_than_two_days() {
        let total: Duration = WebhookConfig::default().retry_schedule.iter().sum();
        assert!(total > Duration::from_secs(2 * 24 * 3600), "{total:?}");
    }
}
