//! Webhooks over HTTP on both backends: managing endpoints and where they may point
//! (`endpoints`), signed deliveries checked by independent implementations (`signatures`), and
//! retries, `Retry-After`, `410`, redirects, timeouts, test events and the delivery log
//! (`deliveries`).

use std::time::Duration;

mod deliveries;
mod endpoints;
pub(crate) mod signatures;

/// How long a test waits for a delivery before failing.
const WAIT: Duration = Duration::from_secs(20);

/// A configuration change: retries after `schedule_ms` milliseconds instead of minutes.
fn compressed(schedule_ms: &[u64]) -> impl FnOnce(&mut plugboard::config::Config) {
    let schedule: Vec<Duration> = schedule_ms
        .iter()
        .map(|&ms| Duration::from_millis(ms))
        .collect();
    move |config| config.webhooks.retry_schedule = schedule
}
