//! The sandbox tool: what its help text promises is what its keys do.

use crate::helpers::{Backend, form_state, spawn_app, submit, token_of};

#[tokio::test]
async fn the_sandbox_help_names_only_keys_that_fail_as_failures() {
    let app = spawn_app(Backend::Sqlite).await;
    let token = token_of(&app.create_link(serde_json::json!({"language": "en"})).await);
    let page = reqwest::get(format!(
        "{}/connect?token={token}&tool=sandbox&step=credentials",
        app.base
    ))
    .await
    .expect("credentials page")
    .text()
    .await
    .expect("body");
    // "Try invalid, missing_scope or rate_limited to see failures, or slow for …"
    let failures = page
        .split("Try ")
        .nth(1)
        .and_then(|rest| rest.split(" to see failures").next())
        .expect("the help names the failures");
    let keys: Vec<&str> = failures
        .split([',', ' '])
        .filter(|word| !word.is_empty() && *word != "or")
        .collect();
    assert_eq!(
        keys,
        ["invalid", "missing_scope", "rate_limited"],
        "{failures}"
    );
    let state = form_state(&app.base, &token, "sandbox").await;
    for key in keys {
        let (_, html) = submit(&app.base, &token, "sandbox", &state, &[("api_key", key)]).await;
        assert!(!html.contains("is connected"), "{key} fails: {html}");
    }
    // `slow` is named apart: it connects, after a pause.
    assert!(page.contains("or slow for a check that takes three seconds"));
    let (status, html) = submit(&app.base, &token, "sandbox", &state, &[("api_key", "slow")]).await;
    assert_eq!(status, 200);
    assert!(html.contains("Sandbox is connected"), "{html}");
}
