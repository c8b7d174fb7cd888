//! Prometheus metrics, served at `/metrics`. The registry is owned by the application state
//! rather than global, so several servers in one test process keep separate counts.
//!
//! Route labels are route templates (`/v1/integrations/{integration_id}`), never raw paths:
//! raw paths would carry activation tokens and make the label set unbounded.

use std::time::Duration;

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};
use plugboard_store::EnvironmentName;
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, histogram::Histogram},
    registry::Registry,
};

use crate::{AppState, links::LinkType};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LinkLabels {
    environment: &'static str,
    link_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EnvironmentLabels {
    environment: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PassthroughLabels {
    tool: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: String,
}

/// The application's metrics.
pub struct Metrics {
    registry: Registry,
    requests: Family<HttpLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    links: Family<LinkLabels, Counter>,
    integrations: Family<EnvironmentLabels, Counter>,
    redemptions: Family<OutcomeLabels, Counter>,
    verifications: Family<OutcomeLabels, Counter>,
    oauth_tokens: Family<OutcomeLabels, Counter>,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    webhook_durations: Histogram,
    webhook_in_flight: prometheus_client::metrics::gauge::Gauge,
    passthrough: Family<PassthroughLabels, Counter>,
    passthrough_durations: Family<ToolLabels, Histogram>,
    connection_checks: Family<OutcomeLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every Plugboard metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("plugboard");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests",
            durations.clone(),
        );
        let links = Family::<LinkLabels, Counter>::default();
        registry.register(
            "links_created",
            "Connection and relink links created",
            links.clone(),
        );
        let integrations = Family::<EnvironmentLabels, Counter>::default();
        registry.register(
            "integrations_created",
            "Integrations created by completed flows",
            integrations.clone(),
        );
        let redemptions = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "activation_redemptions",
            "Activation token redemptions by outcome",
            redemptions.clone(),
        );
        let verifications = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "credential_verifications",
            "Credential checks against tools, by outcome",
            verifications.clone(),
        );
        let oauth_tokens = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "oauth_token_requests",
            "OAuth token requests (code exchanges and refreshes) by outcome: refreshed, \
             invalid_grant, invalid_client, token_request_failed, token_endpoint_unreachable",
            oauth_tokens.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome (succeeded, http_error, network_error)",
            webhook_attempts.clone(),
        );
        let webhook_durations = Histogram::new([
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0,
        ]);
        registry.register(
            "webhook_attempt_duration_seconds",
            "Time from sending a webhook to its response (or failure)",
            webhook_durations.clone(),
        );
        let webhook_in_flight = prometheus_client::metrics::gauge::Gauge::default();
        registry.register(
            "webhook_in_flight",
            "Webhook requests in flight in this process",
            webhook_in_flight.clone(),
        );
        let passthrough = Family::<PassthroughLabels, Counter>::default();
        registry.register(
            "passthrough_requests",
            "Passthrough calls by tool and outcome: the tool's status class (2xx, 3xx, 4xx, \
             5xx) or Plugboard's error class (timeout, unreachable, ...)",
            passthrough.clone(),
        );
        let passthrough_durations = Family::<ToolLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
            ])
        });
        registry.register(
            "passthrough_request_duration_seconds",
            "Time a passthrough call took in all, retries included, by tool",
            passthrough_durations.clone(),
        );
        let connection_checks = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "connection_checks",
            "Background re-verifications of integrations' credentials, by outcome",
            connection_checks.clone(),
        );
        Self {
            registry,
            requests,
            durations,
            links,
            integrations,
            redemptions,
            verifications,
            oauth_tokens,
            webhook_attempts,
            webhook_durations,
            webhook_in_flight,
            passthrough,
            passthrough_durations,
            connection_checks,
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let route = route.to_owned();
        self.requests
            .get_or_create(&HttpLabels {
                method: method.to_owned(),
                route: route.clone(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a new link.
    pub fn link_created(&self, environment: EnvironmentName, link_type: LinkType) {
        let link_type = match link_type {
            LinkType::Embedded => "EMBEDDED",
            LinkType::MagicLink => "MAGIC_LINK",
        };
        self.links
            .get_or_create(&LinkLabels {
                environment: environment.as_str(),
                link_type,
            })
            .inc();
    }

    /// Counts a completed connection flow.
    pub fn integration_created(&self, environment: EnvironmentName) {
        self.integrations
            .get_or_create(&EnvironmentLabels {
                environment: environment.as_str(),
            })
            .inc();
    }

    /// Counts a credential verification in the hosted flow.
    pub fn verification(&self, outcome: &'static str) {
        self.verifications
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts an OAuth token request by outcome.
    pub fn oauth_refresh(&self, outcome: &'static str) {
        self.oauth_tokens
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a finished webhook attempt and its duration.
    pub fn webhook_attempt(&self, outcome: &'static str, elapsed: Duration) {
        self.webhook_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        self.webhook_durations.observe(elapsed.as_secs_f64());
    }

    /// Tracks webhook requests in flight (`+1` when one starts, `-1` when it ends).
    pub fn webhook_in_flight(&self, delta: i64) {
        self.webhook_in_flight.inc_by(delta);
    }

    /// Counts a finished passthrough call of `tool` (a catalog id, so the label set is
    /// bounded) and its duration.
    pub fn passthrough_call(&self, tool: &str, outcome: &'static str, elapsed: Duration) {
        self.passthrough
            .get_or_create(&PassthroughLabels {
                tool: tool.to_owned(),
                outcome,
            })
            .inc();
        self.passthrough_durations
            .get_or_create(&ToolLabels {
                tool: tool.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a connection check by its outcome (`connected`, `invalid_credentials`, ...).
    pub fn connection_check(&self, outcome: &'static str) {
        self.connection_checks
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Counts a redemption attempt.
    pub fn activation_redeemed(&self, success: bool) {
        let outcome = if success { "redeemed" } else { "rejected" };
        self.redemptions
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }
}

/// Middleware recording every request's count and latency under its route template.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}
