//! The OAuth sign-in's secrets never leak. The real binary, logging at TRACE, signs an end
//! user in to a real authorization server (`oidc-provider`) standing in for Gusto, and
//! refreshes the tokens once; then every secret of the loop is searched for: the client
//! secret (registered over the API), the `state`, the browser's cookie, the PKCE verifier, the
//! authorization code, both access tokens and both refresh tokens (read from the binary's
//! database with its master key: the provider counts exactly one code exchange and one
//! refresh, so these are all the tokens there were), and the activation token. Places: every
//! log line, every HTTP answer after the secret's creation (the flow's pages, passthrough,
//! the OAuth apps, the audit trail, the request log, events, deliveries, metrics), every
//! webhook request, and the database (the SQLite files, or a `pg_dump` of the schema).

use std::{fs::File, time::Duration};

use chrono::Utc;
use plugboard::vault::Purpose;

use crate::{
    binary::{add_endpoint, get},
    both_backends,
    helpers::{Backend, METRICS_TOKEN, activation_token},
    oauth_durability::GustoBinary,
    oauth_provider::{Provider, location},
    oauth_signin::{call_back, start_at},
    receiver::TestReceiver,
};

fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle.as_bytes())
        .count()
}

/// The query parameter `name` of `url`.
fn param(url: &str, name: &str) -> String {
    let url = reqwest::Url::parse(url).expect("url");
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| panic!("no {name} in {url}"))
}

/// An answer as the secrets are searched for in it: its headers and body, and the secrets it
/// is the one to create (or carry to the vendor), which may appear in it.
struct Answer {
    name: String,
    text: String,
    creates: Vec<String>,
}

async fn answer(name: &str, response: reqwest::Response, creates: &[&String]) -> Answer {
    let headers = format!("{:?}", response.headers());
    let body = response.text().await.expect("body");
    Answer {
        name: name.to_owned(),
        text: format!("{headers} {body}"),
        creates: creates.iter().map(|s| (*s).clone()).collect(),
    }
}

/// The database's bytes: its SQLite files, or a data-only `pg_dump` of its schema.
fn database(gusto: &GustoBinary) -> Vec<u8> {
    match &gusto.pg_schema {
        None => ["plugboard.db", "plugboard.db-wal", "plugboard.db-shm"]
            .iter()
            .flat_map(|file| std::fs::read(gusto.dir.path().join(file)).unwrap_or_default())
            .collect(),
        Some(schema) => crate::helpers::pg_dump(schema),
    }
}

async fn no_sign_in_secret_leaks(backend: Backend) {
    let provider = Provider::start();
    // Four-second tokens, fresh for two: one refresh after a short wait.
    provider.configure(Some(4), None).await;
    let gusto = GustoBinary::new(
        backend,
        &provider,
        &[
            ("PLUGBOARD_LOG", "trace"),
            ("PLUGBOARD_METRICS_TOKEN", METRICS_TOKEN),
        ],
    )
    .await;
    let log_path = gusto.dir.path().join("trace.log");
    let mut server = gusto
        .binary
        .serve(File::create(&log_path).expect("log file").into())
        .await;
    let base = gusto.base();
    let client = &gusto.client;
    let key = &gusto.api_key;
    let receiver = TestReceiver::start().await;
    let endpoint = add_endpoint(client, &base, key, &receiver.url).await;
    let endpoint_id = endpoint["id"].as_str().expect("id").to_owned();
    let mut answers = Vec::new();

    let client_secret = format!("CANARY-CLIENT-SECRET-{}", plugboard_store::ids::new_id());
    let registered = gusto.register_app(&provider, &client_secret).await;
    answers.push(Answer {
        name: "PUT /v1/oauth-apps/gusto".into(),
        text: registered,
        creates: Vec::new(),
    });

    // The sign-in, step by step, keeping every secret the browser or the vendor sees.
    let link = gusto.link_token().await;
    let started = start_at(&base, &link, "gusto").await;
    let state = param(&started.authorize_url, "state");
    // The start carries the state to the vendor and sets the cookie; nothing else.
    assert!(!started.authorize_url.contains(&client_secret));
    let (cookie_name, browser) = started.cookie.split_once('=').expect("name=value");
    let attempt = cookie_name
        .strip_prefix("plugboard_oauth_")
        .expect("the cookie names the attempt")
        .to_owned();
    let jti = plugboard::tokens::verify_link(&gusto.vault, &link, Utc::now())
        .expect("link")
        .jti;
    let store = gusto.store().await;
    let recorded = store
        .oauth_attempt(&jti, &attempt)
        .await
        .expect("store")
        .expect("the attempt is recorded");
    let sealed = gusto
        .vault
        .open(Purpose::OauthAttempt, &attempt, &recorded.sealed)
        .expect("the attempt opens");
    let sealed: serde_json::Value = serde_json::from_slice(&sealed).expect("JSON");
    let verifier = sealed["verifier"]
        .as_str()
        .expect("a PKCE verifier")
        .to_owned();
    let callback_url = provider.consent(&started.authorize_url, true).await;
    let code = param(&callback_url, "code");
    let callback = call_back(&callback_url, Some(&started.cookie)).await;
    let finish_url = format!("{base}{}", location(&callback));
    answers.push(answer("the callback", callback, &[]).await);
    let status_url = format!("{base}/connect/oauth/status?token={link}&attempt={attempt}");
    let status = client.get(&status_url).send().await.expect("status");
    answers.push(answer("the status", status, &[]).await);
    let finish = client.get(&finish_url).send().await.expect("finish");
    let finish = answer("the finish page", finish, &[]).await;
    let activation = activation_token(&finish.text);
    answers.push(Answer {
        creates: vec![activation.clone()],
        ..finish
    });
    let integration = gusto.redeem(&activation).await;
    let first = gusto.tokens(&integration).await;

    // A call with the first access token, then one that refreshes.
    let mut calls = vec![gusto.call(&integration).await];
    tokio::time::sleep(Duration::from_millis(2500)).await;
    calls.push(gusto.call(&integration).await);
    let second = gusto.tokens(&integration).await;
    for (i, reply) in calls.iter().enumerate() {
        assert_eq!(reply["data"]["status"], 200, "{reply}");
        answers.push(Answer {
            name: format!("passthrough #{i}"),
            text: reply.to_string(),
            creates: Vec::new(),
        });
    }
    let stats = provider.stats().await;
    assert_eq!(stats["token_requests"]["authorization_code"], 1, "{stats}");
    assert_eq!(stats["token_requests"]["refresh_token"], 1, "{stats}");
    assert_ne!(first.access_token, second.access_token);
    assert_ne!(first.refresh_token, second.refresh_token, "rotated");

    let encoded = integration.replace(':', "%3A");
    let requests_url = format!("{base}/v1/integrations/{encoded}/requests");
    let started_waiting = std::time::Instant::now();
    let logged = loop {
        let logged = get(client, &requests_url, key).await["data"]["results"].clone();
        if logged.as_array().is_some_and(|calls| calls.len() >= 2) {
            break logged;
        }
        assert!(
            started_waiting.elapsed() < Duration::from_secs(10),
            "the request log stays short: {logged}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let deliveries = receiver.wait_for(1, Duration::from_secs(20)).await;
    let mut paths = vec![
        "/v1/oauth-apps".to_owned(),
        "/v1/oauth-apps/gusto".to_owned(),
        "/v1/audit-events".to_owned(),
        "/v1/integrations".to_owned(),
        format!("/v1/integrations/{encoded}"),
        format!("/v1/integrations/{encoded}/requests"),
        format!("/v1/connect/integration-by-token/{activation}"),
        "/v1/connect/links".to_owned(),
        format!("/v1/webhooks/{endpoint_id}/deliveries"),
        "/metrics".to_owned(),
    ];
    for call in logged.as_array().expect("calls") {
        let id = call["id"].as_str().expect("id");
        paths.push(format!("/v1/integrations/{encoded}/requests/{id}"));
    }
    for delivery in &deliveries {
        let event: serde_json::Value = serde_json::from_str(&delivery.body).expect("JSON");
        let id = event["id"].as_str().expect("event id");
        paths.push(format!("/v1/events/{id}"));
    }
    for path in &paths {
        let bearer = if path == "/metrics" {
            METRICS_TOKEN
        } else {
            key
        };
        let response = client
            .get(format!("{base}{path}"))
            .bearer_auth(bearer)
            .send()
            .await
            .expect("get");
        // An activation token is redeemed once; asking again answers 404, without it.
        let redeemed = path.contains("integration-by-token");
        assert!(
            redeemed || response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        answers.push(answer(path, response, &[]).await);
    }
    server.terminate();
    drop(server);
    let logs = std::fs::read(&log_path).expect("logs");
    assert!(count(&logs, "TRACE") > 0, "the binary logged at TRACE");
    let webhooks: Vec<String> = deliveries
        .iter()
        .map(|delivery| format!("{:?} {}", delivery.headers, delivery.body))
        .collect();
    assert!(
        webhooks.iter().any(|w| w.contains("integration-created")),
        "{webhooks:?}"
    );
    let database = database(&gusto);
    assert!(count(&database, "gusto:") > 0, "the search itself works");
    assert!(
        count(&logs, &integration) > 0,
        "the logs name the integration"
    );

    let mut secrets = vec![
        ("the client secret", client_secret.clone()),
        ("the state", state),
        ("the browser cookie", browser.to_owned()),
        ("the PKCE verifier", verifier),
        ("the authorization code", code),
        ("the first access token", first.access_token.clone()),
        ("the second access token", second.access_token.clone()),
        ("the activation token", activation.clone()),
    ];
    for (name, token) in [("first", &first), ("second", &second)] {
        let refresh = token.refresh_token.clone().expect("a refresh token");
        secrets.push((
            if name == "first" {
                "the first refresh token"
            } else {
                "the second refresh token"
            },
            refresh,
        ));
    }
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is long enough to search for");
        assert_eq!(count(&logs, secret), 0, "{what} in the TRACE logs");
        assert_eq!(count(&database, secret), 0, "{what} in the database");
        for webhook in &webhooks {
            assert_eq!(count(webhook.as_bytes(), secret), 0, "{what} in a webhook");
        }
        for answer in &answers {
            if answer.creates.contains(secret) {
                continue;
            }
            assert_eq!(
                count(answer.text.as_bytes(), secret),
                0,
                "{what} in the answer of {}",
                answer.name
            );
        }
    }
}

both_backends!(no_sign_in_secret_leaks);
