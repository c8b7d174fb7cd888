//! The overview of an environment: integrations by status, connection flows of the last 24
//! hours (opened, completed, failed; an hourly bar chart each, drawn on the server as SVG),
//! webhook deliveries failing and endpoints disabled. Each number links to the page that
//! explains it.

use askama::Template;
use axum::{extract::State, http::StatusCode, response::Response};
use chrono::{Duration, DurationRound, Utc};
use plugboard_store::StoreError;

use super::{
    Env,
    session::Signed,
    views::{self, Ui},
};
use crate::{AppState, audit::Action};

/// Hours shown in the flow charts.
const HOURS: i64 = 24;

/// Height of a chart's drawing area, in SVG units (bars are 10 wide with a gap of 2).
const CHART_HEIGHT: u64 = 40;

/// One bar of a chart.
struct Bar {
    x: i64,
    y: u64,
    height: u64,
    title: String,
}

/// One of the flow charts: a number, and its hours as bars.
struct Chart {
    label: String,
    total: u64,
    bars: Vec<Bar>,
    class: &'static str,
    /// What the picture says, for screen readers.
    description: String,
}

/// One number of the overview, linked to where it is explained.
struct Tile {
    label: String,
    count: u64,
    /// The page that explains it, where there is one.
    href: Option<String>,
    /// `warn` when the number is one to act on and not zero.
    class: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard/overview.html")]
struct OverviewPage {
    ui: Ui,
    integrations: Vec<Tile>,
    charts: Vec<Chart>,
    webhooks: Vec<Tile>,
    width: i64,
    height: u64,
}

/// `GET /dashboard/{env}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Env(environment): Env,
) -> Response {
    match overview(&state, &signed, &environment).await {
        Ok(page) => views::render(&page, StatusCode::OK),
        Err(error) => views::store_problem(&state, Some(&signed.signed_in), error),
    }
}

async fn overview(
    state: &AppState,
    signed: &Signed,
    environment: &plugboard_store::Environment,
) -> Result<OverviewPage, StoreError> {
    let ui = Ui::new(
        state,
        Some(&signed.signed_in),
        Some((environment, "")),
        "overview",
        views::t("overview-title"),
    );
    let list = ui.href("/integrations");
    let counts = state.store.count_integrations(&environment.id).await?;
    let tile = |key: &str, count: u64, filter: &str, warn: bool| Tile {
        label: views::t(key),
        count,
        href: Some(format!("{list}?status={filter}")),
        class: if warn && count > 0 { "warn" } else { "" },
    };
    let integrations = vec![
        tile("status-active", counts.active, "ACTIVE", false),
        tile("status-failing", counts.failing, "FAILING", true),
        tile("status-invalid", counts.invalid, "INVALID", true),
        tile("status-inactive", counts.inactive, "INACTIVE", false),
    ];

    let now = Utc::now();
    let this_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let first_hour = this_hour - Duration::hours(HOURS - 1);
    let actions = [
        (Action::LinkOpened, "flows-opened", "opened"),
        (Action::LinkCompleted, "flows-completed", "completed"),
        (Action::LinkVerificationFailed, "flows-failed", "failed"),
    ];
    let counted = state
        .store
        .count_audit_actions(&environment.id, first_hour)
        .await?;
    let charts = actions
        .iter()
        .map(|(action, key, class)| {
            let mut hours = [0u64; HOURS as usize];
            for count in counted.iter().filter(|c| c.action == action.as_str()) {
                let index = (count.hour - first_hour).num_hours();
                if let Some(slot) = usize::try_from(index).ok().and_then(|i| hours.get_mut(i)) {
                    *slot += count.count;
                }
            }
            chart(views::t(key), class, &hours, first_hour)
        })
        .collect();

    let since = now - Duration::hours(HOURS);
    let deliveries = state.store.delivery_counts(&environment.id, since).await?;
    let endpoints = state
        .store
        .list_webhook_endpoints(Some(&environment.id))
        .await?;
    let disabled = endpoints.iter().filter(|e| !e.enabled).count() as u64;
    let webhooks = vec![
        Tile {
            label: views::t("deliveries-failed"),
            count: deliveries.failed,
            href: Some(ui.href("/webhooks")),
            class: if deliveries.failed > 0 { "warn" } else { "" },
        },
        Tile {
            label: views::t("deliveries-retrying"),
            count: deliveries.retrying,
            href: Some(ui.href("/webhooks")),
            class: if deliveries.retrying > 0 { "warn" } else { "" },
        },
        Tile {
            label: views::t("deliveries-succeeded"),
            count: deliveries.succeeded,
            href: Some(ui.href("/webhooks")),
            class: "",
        },
        Tile {
            label: views::t("endpoints-disabled"),
            count: disabled,
            href: Some(ui.href("/webhooks")),
            class: if disabled > 0 { "warn" } else { "" },
        },
    ];
    Ok(OverviewPage {
        ui,
        integrations,
        charts,
        webhooks,
        width: HOURS * 12,
        height: CHART_HEIGHT,
    })
}

/// A chart of hourly counts, the tallest bar the full height.
fn chart(
    label: String,
    class: &'static str,
    hours: &[u64],
    first_hour: chrono::DateTime<Utc>,
) -> Chart {
    let max = hours.iter().copied().max().unwrap_or(0).max(1);
    let total: u64 = hours.iter().sum();
    let bars = hours
        .iter()
        .enumerate()
        .map(|(index, &count)| {
            // A non-zero hour gets at least a sliver, so it never looks like zero.
            let height = if count == 0 {
                0
            } else {
                (count * CHART_HEIGHT / max).max(2)
            };
            let start = first_hour + Duration::hours(index as i64);
            Bar {
                x: index as i64 * 12,
                y: CHART_HEIGHT - height,
                height,
                title: format!("{}: {count}", start.format("%H:00 UTC")),
            }
        })
        .collect();
    let description = views::t_with(
        "chart-description",
        &[
            ("what", &label),
            ("total", &total.to_string()),
            ("max", &max.to_string()),
        ],
    );
    Chart {
        label,
        total,
        bars,
        class,
        description,
    }
}
