//! Hardening: rate limits, the audit trail of operator actions, and every way a link or
//! activation token can be wrong answered alike.

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, TestApp, encode, spawn_app, spawn_app_with, string},
};

async fn api_keys_are_rate_limited_each_on_its_own(backend: Backend) {
    let app = spawn_app_with(backend, |config| {
        config.rate_limit_api = std::num::NonZeroU32::new(5);
    })
    .await;
    for _ in 0..5 {
        app.get("/v1/check-api-key").await.data();
    }
    let refused = app.get("/v1/check-api-key").await;
    let message = refused.error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    assert!(message.contains("5 a minute"), "{message}");
    let retry_after: u64 = refused.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((1..=12).contains(&retry_after), "{retry_after}");
    // Every endpoint counts against the same key.
    app.json(
        Method::POST,
        "/v1/connect/create-link",
        serde_json::json!({}),
    )
    .await
    .error(429, Some("PLATFORM.RATE_LIMIT_EXCEEDED"));
    // Another key has its own allowance; a bad key is still told it is bad, not limited.
    app.get_as(&app.prod_key, "/v1/check-api-key").await.data();
    app.get_as(
        "pb_dev_0000000000000000000000000000000000000000",
        "/v1/check-api-key",
    )
    .await
    .error(401, Some("PLATFORM.AUTHENTICATION_INVALID"));
}

async fn a_limit_can_be_turned_off(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.rate_limit_api = None).await;
    for _ in 0..1500 {
        let reply = app.get("/v1/check-api-key").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

async fn operator_actions_are_in_the_audit_trail_without_secrets(backend: Backend) {
    let app = spawn_app(backend).await;
    let integration = app.connected_integration().await;
    app.set_integration_enabled(&integration, false).await;
    app.delete_integration(&integration).await;
    let (endpoint, first_secret) = app
        .add_webhook_for("http://127.0.0.1:9/hook", &["integration-created"])
        .await;
    app.set_webhook_enabled(&endpoint, false).await;
    let second_secret = app.rotate_webhook_secret(&endpoint).await;
    app.delete_webhook(&endpoint).await;

    let trail = app.get("/v1/audit-events").await;
    let entries = trail.data()["results"].as_array().expect("results").clone();
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .filter(|action| !action.starts_with("link."))
        .collect();
    assert_eq!(
        actions,
        [
            "webhook_endpoint.deleted",
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint.updated",
            "webhook_endpoint.created",
            "integration.deleted",
            "integration.disabled",
            "api_key.created",
        ],
        "newest first, only this environment's key"
    );
    let key_id = app
        .state
        .store
        .list_api_keys(Some(&app.state.environments.development.id))
        .await
        .expect("keys")
        .remove(0)
        .id;
    for entry in entries.iter().take(6) {
        assert_eq!(entry["actor"], format!("api_key:{key_id}"), "{entry}");
        assert_eq!(entry["ip"], "127.0.0.1");
    }
    assert_eq!(entries[4]["target"], format!("integration:{integration}"));
    let key_entry = entries.last().expect("key");
    assert_eq!(key_entry["actor"], "cli");
    assert_eq!(key_entry["target"], format!("api_key:{key_id}"));
    assert!(key_entry["ip"].is_null());
    for secret in [&first_secret, &second_secret, &app.dev_key] {
        assert!(
            !trail.text.contains(secret.as_str()),
            "a secret in the audit trail"
        );
    }
    the_trail_filters_and_pages(&app, &endpoint, &entries).await;
}

/// The audit trail of the test above (`entries`, a deleted integration and the four actions on
/// `endpoint`) filters and pages.
async fn the_trail_filters_and_pages(app: &TestApp, endpoint: &str, entries: &[Value]) {
    let deleted = app.get("/v1/audit-events?action=integration.deleted").await;
    assert_eq!(deleted.data()["results"].as_array().map(Vec::len), Some(1));
    let target = app
        .get(&format!(
            "/v1/audit-events?target=webhook_endpoint:{endpoint}"
        ))
        .await;
    assert_eq!(target.data()["results"].as_array().map(Vec::len), Some(4));
    let future = app
        .get("/v1/audit-events?created_after=2999-01-01T00:00:00Z")
        .await;
    assert_eq!(future.data()["results"], json!([]));
    let ids = |entries: &[Value]| entries.iter().map(|e| string(e, "id")).collect::<Vec<_>>();
    let seen = app.every_page("/v1/audit-events", 3).await;
    assert_eq!(
        ids(&seen),
        ids(entries),
        "pages of 3 add up to the whole trail"
    );
    for bad in [
        "action=integration.exploded",
        "created_after=yesterday",
        "page_size=0",
        "cursor=garbage",
    ] {
        app.get(&format!("/v1/audit-events?{bad}"))
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
    }
}

/// Every way to forge or break the link `link`: sealed with another key, a flipped byte,
/// parts missing or added, and the same for the legacy signed form.
fn forged_links(app: &TestApp, link: &str) -> Vec<String> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let sealed = link.split_once("token=").expect("token").1.to_owned();
    let mut claims = app.claims(link);
    let foreign = plugboard::vault::Vault::new(&plugboard::vault::MasterKey::generate());
    // Sealed links (PASETO v4.local): another key, a flipped byte, parts missing or added.
    let sealed_parts: Vec<&str> = sealed.split('.').collect();
    let (ciphertext, footer) = (sealed_parts[2], sealed_parts[3]);
    let flipped_ciphertext = {
        let mut bytes = URL_SAFE_NO_PAD.decode(ciphertext).expect("b64");
        bytes[40] ^= 1;
        format!("v4.local.{}.{footer}", URL_SAFE_NO_PAD.encode(bytes))
    };
    // Links signed before sealing (JWS) are still verified: forge those too.
    let token = plugboard::tokens::sign_legacy_link(&app.state.vault, &claims);
    let parts: Vec<&str> = token.split('.').collect();
    let (header, payload, signature) = (parts[0], parts[1], parts[2]);
    claims.env = app.state.environments.production.id.clone();
    let cross_environment = format!(
        "{header}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"))
    );
    let unsigned = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT","kid":"x"}"#)
    );
    let flipped_signature = {
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("b64");
        bytes[0] ^= 1;
        format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    vec![
        plugboard::tokens::seal_link(&foreign, &claims),
        flipped_ciphertext,
        format!("v4.local.{ciphertext}"),
        format!("v4.local.{ciphertext}.{footer}.{footer}"),
        format!("v4.public.{ciphertext}.{footer}"),
        cross_environment,
        unsigned,
        flipped_signature,
        plugboard::tokens::sign_legacy_link(&foreign, &claims),
        format!("{header}.{payload}"),
        format!("{header}.{payload}.{signature}.{signature}"),
        format!("{}.{payload}.{signature}", URL_SAFE_NO_PAD.encode(b"[]")),
        "%00%ff".to_owned(),
        "a".repeat(8000),
    ]
}

/// Every forged or misused link token opens the same "this link does not work" page, and
/// every misused activation token gets the same 404: nothing tells an attacker which check
/// failed.
async fn bad_tokens_are_refused_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app.create_link(json!({})).await;
    let forged = forged_links(&app, &link);
    let invalid = app.send(Method::GET, "/connect?token=x", None, None).await;
    assert_eq!(invalid.status, 400);
    for token in &forged {
        let reply = app
            .send(Method::GET, &format!("/connect?token={token}"), None, None)
            .await;
        assert_eq!(reply.status, 400, "{token}");
        assert_eq!(reply.text, invalid.text, "the same page for {token}");
        let posted = reqwest::Client::new()
            .post(format!("{}/connect/verify", app.base))
            .form(&[
                ("token", token.as_str()),
                ("tool", "sandbox"),
                ("state", "1.x"),
            ])
            .send()
            .await
            .expect("post");
        assert_eq!(posted.status(), 400);
        assert_eq!(posted.text().await.expect("body"), invalid.text);
    }

    // Activation tokens: replayed, tampered, from the other environment, unknown or malformed.
    let activation = app.complete(&link, "personio", "secret").await;
    let redeem = |key: &str, token: &str| {
        let (app, key, token) = (&app, key.to_owned(), token.to_owned());
        async move {
            let by_token = app
                .get_as(
                    &key,
                    &format!("/v1/connect/integration-by-token/{}", encode(&token)),
                )
                .await;
            let activate = app
                .send(
                    Method::POST,
                    "/v1/connect/activate-integration",
                    Some(&key),
                    Some(json!({"token": token}).to_string()),
                )
                .await;
            (by_token, activate)
        }
    };
    let (foreign_env, _) = redeem(&app.prod_key, &activation).await;
    let reference = foreign_env.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let (first, _) = redeem(&app.dev_key, &activation).await;
    first.data();
    let mut tampered = activation.clone();
    let last = tampered.pop().expect("char");
    tampered.push(if last == 'a' { 'b' } else { 'a' });
    for bad in [
        activation.clone(),
        tampered,
        "pbat_".to_owned(),
        "pbat_unknown".to_owned(),
        "pb_dev_notanactivationtoken".to_owned(),
        "é🙂".to_owned(),
        "x".repeat(5000),
    ] {
        let (by_token, activate) = redeem(&app.dev_key, &bad).await;
        for reply in [by_token, activate] {
            let message = reply.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
            assert_eq!(message, reference, "the same answer for {bad:.40}");
        }
    }
    // An activation token past its ten minutes is refused by the store like a used one.
    let link = app.create_link(json!({})).await;
    let late = app.complete(&link, "personio", "secret").await;
    let redeemed = app
        .state
        .store
        .redeem_activation_token(
            &app.state.environments.development.id,
            &plugboard::tokens::hash(&late),
            chrono::Utc::now() + chrono::Duration::minutes(11),
        )
        .await
        .expect("store");
    assert!(
        redeemed.is_none(),
        "expired activation tokens do not redeem"
    );
}

/// A NUL character anywhere (PostgreSQL cannot store one) and a path that is not UTF-8 are the
/// client's mistakes: 400 in the envelope, on both databases, never a 5xx.
async fn nul_characters_and_broken_paths_are_input_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    for path in [
        "/v1/webhooks/ab%00c",
        "/v1/webhooks/ab%00c/deliveries",
        "/v1/events/ab%00c",
        "/v1/webhooks/deliveries/ab%00c",
        "/v1/integrations?tool=a%00b",
        "/v1/integrations?end_user_origin_id=a%00b",
        "/v1/audit-events?actor=a%00b",
        "/v1/integrations?cursor=MToA",
        "/v1/audit-events?cursor=MToA",
        "/v1/connect/links?cursor=MToA",
        "/v1/webhooks/%FF",
        "/v1/events/%FF",
        "/v1/tools/%FF",
        "/v1/connect/integration-by-token/%FF",
    ] {
        let reply = app.get(path).await;
        assert_eq!(reply.status, 400, "{path}: {}", reply.text);
        reply.error(400, Some("PLATFORM.INPUT_INVALID"));
    }
    app.send(
        Method::DELETE,
        "/v1/connect/links/ab%00c",
        Some(&app.dev_key),
        None,
    )
    .await
    .error(400, Some("PLATFORM.INPUT_INVALID"));
    for link_type in ["MAGIC_LINK", "EMBEDDED"] {
        let reply = app
            .json(
                Method::POST,
                "/v1/connect/create-link",
                json!({"end_user_email": "a@b.example", "end_user_organization_name": "Ac\u{0}me",
                       "link_type": link_type}),
            )
            .await;
        assert!(
            reply
                .error(400, Some("PLATFORM.INPUT_INVALID"))
                .contains("NUL"),
            "{link_type}"
        );
    }
    // A backslash and the letters u0000 are ordinary text.
    app.json(
        Method::POST,
        "/v1/connect/create-link",
        json!({"end_user_email": "a@b.example", "end_user_organization_name": "Ac\\u0000me"}),
    )
    .await
    .data();
}

both_backends!(
    nul_characters_and_broken_paths_are_input_errors,
    bad_tokens_are_refused_alike,
    operator_actions_are_in_the_audit_trail_without_secrets,
    api_keys_are_rate_limited_each_on_its_own,
    a_limit_can_be_turned_off
);
