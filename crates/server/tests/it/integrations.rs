//! Integration management over HTTP: get, list, delete, enable/disable, relink, setup-link.

use plugboard::{
    error::DomainError,
    integrations,
    links::{LinkKind, LinkProblem},
};
use reqwest::Method;
use serde_json::json;

use crate::{
    both_backends,
    helpers::{Backend, encode, spawn_app, string},
};

async fn get_returns_kombos_shape_for_percent_encoded_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let reply = app.get(&format!("/v1/integrations/{}", encode(&id))).await;
    let data = reply.data().clone();
    let base = &app.base;
    let created_at = data["created_at"].as_str().expect("created_at").to_owned();
    assert!(
        created_at.ends_with('Z') && created_at.len() == 24,
        "UTC with milliseconds: {created_at}"
    );
    let read_models = data["read_models"].clone();
    // Passthrough only: the category's models are listed, none offered.
    assert_eq!(
        read_models[0],
        json!({"id": "hris_employees", "label": "Employees", "is_available": false,
               "coverage_status": "NOT_IMPLEMENTED", "scope_config_setting": "DISABLED",
               "opted_out_by_customer": false, "fields": []})
    );
    assert!(
        read_models
            .as_array()
            .expect("array")
            .iter()
            .all(|model| model["is_available"] == false
                && model["coverage_status"] == "NOT_IMPLEMENTED")
    );
    assert_eq!(
        data,
        json!({
            "id": id,
            "tool": {"id": "personio", "label": "Personio", "internal_label": null,
                     "logo_url": format!("{base}/assets/tools/personio/logo.svg"),
                     "icon_url": format!("{base}/assets/tools/personio/icon.svg")},
            "category": "HRIS", "status": "ACTIVE", "setup_status": "COMPLETED",
            "end_user": {"organization_name": "Acme, Inc.", "creator_email": "admin@acme.example", "origin_id": "36123"},
            "scope_config": {"id": app.state.environments.development.scope_config_id, "name": "Default"},
            "data_expired_at": null, "created_at": created_at, "beta": false,
            "read_models": read_models, "write_actions": [],
        })
    );
    let raw = app.get(&format!("/v1/integrations/{id}")).await;
    assert_eq!(
        raw.data()["id"],
        id.as_str(),
        "an unencoded colon works too"
    );
    let icon = reqwest::get(format!("{base}/assets/tools/personio/icon.svg"))
        .await
        .expect("icon");
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
}

async fn unknown_malformed_and_foreign_ids_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    for path in [
        "/v1/integrations/personio%3ACBNMt7dSNCzBdnRTx87dev4E".to_owned(),
        "/v1/integrations/not-an-id".to_owned(),
        "/v1/integrations/%FF%FE".to_owned(),
        format!("/v1/integrations/{}", "x".repeat(5000)),
    ] {
        let reply = app.get(&path).await;
        assert!(
            reply.status == 404 || reply.status == 400,
            "{path}: {}",
            reply.text
        );
        assert!(reply.json["error"]["code"].is_string(), "{}", reply.text);
    }
    let foreign = app
        .get_as(&app.prod_key, &format!("/v1/integrations/{}", encode(&id)))
        .await;
    assert!(
        foreign
            .error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"))
            .contains(&id)
    );
}

async fn delete_accepts_an_empty_object_and_writes_its_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let path = format!("/v1/integrations/{}", encode(&id));
    let reply = app.json(Method::DELETE, &path, json!({})).await;
    assert_eq!(reply.data(), &json!({}));
    app.get(&path)
        .await
        .error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    app.send(Method::DELETE, &path, Some(&app.dev_key), None)
        .await
        .error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let id2 = app.connected_integration().await;
    let reply = app
        .send(
            Method::DELETE,
            &format!("/v1/integrations/{}", encode(&id2)),
            Some(&app.dev_key),
            None,
        )
        .await;
    reply.data();
    let events = app.events().await;
    let (kind, payload) = &events[0];
    assert_eq!(kind, "integration-deleted");
    assert_eq!(payload["data"]["id"], id2.as_str());
    assert_eq!(payload["data"]["end_user"]["origin_id"], "36123");
    assert!(
        payload["data"]["deleted_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let parsed = plugboard_store::ids::IntegrationId::parse(&id).expect("id");
    assert_eq!(
        app.state
            .store
            .integration_credentials(&parsed)
            .await
            .expect("lookup"),
        None,
        "credentials are gone"
    );
}

async fn enabling_and_disabling_change_status_with_events(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let path = format!("/v1/integrations/{}", encode(&id));
    let enabled = format!("{path}/enabled");
    async fn status(app: &crate::helpers::TestApp, path: &str) -> String {
        app.get(path).await.data()["status"]
            .as_str()
            .expect("status")
            .to_owned()
    }
    let state_events = |events: Vec<(String, serde_json::Value)>| {
        events
            .into_iter()
            .filter(|(kind, _)| kind == "integration-state-changed")
            .map(|(_, p)| p)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        app.json(Method::PUT, &enabled, json!({"value": false}))
            .await
            .data(),
        &json!({})
    );
    assert_eq!(status(&app, &path).await, "INACTIVE");
    app.set_integration_enabled(&id, false).await;
    let events = state_events(app.events().await);
    assert_eq!(events.len(), 1, "no event when nothing changes");
    assert_eq!(events[0]["data"]["state"], "INACTIVE");
    assert_eq!(events[0]["data"]["integration_id"], id.as_str());
    app.set_integration_enabled(&id, true).await;
    assert_eq!(status(&app, &path).await, "ACTIVE");
    assert_eq!(
        state_events(app.events().await)[0]["data"]["state"],
        "ACTIVE"
    );
    for bad in [json!({}), json!({"value": "no"}), json!({"value": null})] {
        let message = app
            .json(Method::PUT, &enabled, bad)
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("value"), "{message}");
    }
}

async fn relink_links_reconnect_the_same_integration(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let path = format!("/v1/integrations/{}/relink", encode(&id));
    let reply = app
        .json(
            Method::POST,
            &path,
            json!({"language": "fr", "link_type": "EMBEDDED"}),
        )
        .await;
    let link = reply.data()["link"].as_str().expect("link").to_owned();
    let claims = app.claims(&link);
    assert_eq!(claims.kind, LinkKind::Relink);
    assert_eq!(claims.iid.as_deref(), Some(id.as_str()));
    assert_eq!(claims.tool.as_deref(), Some("personio"));
    // Disable it, then relink: the new credentials bring it back to ACTIVE with an event.
    app.set_integration_enabled(&id, false).await;
    let credentials = [("api_key".to_owned(), "new secret".to_owned())].into();
    let token = integrations::complete_relink(&app.state, &claims, &credentials)
        .await
        .expect("relink");
    assert_eq!(app.redeem(&token).await, id, "same integration id");
    assert_eq!(
        app.get(&format!("/v1/integrations/{}", encode(&id)))
            .await
            .data()["status"],
        "ACTIVE"
    );
    let (kind, payload) = &app.events().await[0];
    assert_eq!(
        (kind.as_str(), &payload["data"]["state"]),
        ("integration-state-changed", &json!("ACTIVE"))
    );
    let again = integrations::complete_relink(&app.state, &claims, &credentials).await;
    assert!(
        matches!(again, Err(DomainError::Link(LinkProblem::Used))),
        "{again:?}"
    );
    app.relink(&id).await;
    let missing = app
        .json(
            Method::POST,
            "/v1/integrations/personio%3ACBNMt7dSNCzBdnRTx87dev4E/relink",
            json!({}),
        )
        .await;
    missing.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
}

async fn setup_links_explain_there_is_no_setup_step(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connected_integration().await;
    let path = format!("/v1/integrations/{}/setup-link", encode(&id));
    let message = app
        .json(Method::POST, &path, json!({"link_type": "EMBEDDED"}))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("setup"), "{message}");
    let message = app
        .json(Method::POST, &path, json!({}))
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("link_type"), "{message}");
}

async fn the_list_pages_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for (tool, origin, category) in [
        ("personio", "a", "HRIS"),
        ("greenhouse", "b", "ATS"),
        ("personio", "b", "HRIS"),
    ] {
        let link = app
            .create_link(json!({"end_user_origin_id": origin, "integration_category": category}))
            .await;
        let token = app.complete(&link, tool, "secret").await;
        ids.push(app.redeem(&token).await);
    }
    let seen: Vec<String> = app
        .every_page("/v1/integrations", 2)
        .await
        .iter()
        .map(|integration| string(integration, "id"))
        .collect();
    assert_eq!(seen, ids, "oldest first, no gaps or repeats");
    async fn count(app: &crate::helpers::TestApp, query: &str) -> usize {
        let reply = app.get(&format!("/v1/integrations?{query}")).await;
        reply.data()["results"].as_array().expect("results").len()
    }
    assert_eq!(count(&app, "end_user_origin_id=b").await, 2);
    assert_eq!(count(&app, "tool=personio&end_user_origin_id=b").await, 1);
    assert_eq!(count(&app, "category=ATS").await, 1);
    assert_eq!(count(&app, "status=INACTIVE").await, 0);
    for (query, field) in [
        ("page_size=0", "page_size"),
        ("page_size=251", "page_size"),
        ("page_size=x", "page_size"),
        ("cursor=garbage", "cursor"),
        ("status=BROKEN", "status"),
        ("category=hris", "category"),
    ] {
        let message = app
            .get(&format!("/v1/integrations?{query}"))
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(field), "{query}: {message}");
    }
    let prod = app.get_as(&app.prod_key, "/v1/integrations").await;
    assert_eq!(prod.data()["results"], json!([]));
}

both_backends!(
    get_returns_kombos_shape_for_percent_encoded_ids,
    unknown_malformed_and_foreign_ids_are_not_found,
    delete_accepts_an_empty_object_and_writes_its_event,
    enabling_and_disabling_change_status_with_events,
    relink_links_reconnect_the_same_integration,
    setup_links_explain_there_is_no_setup_step,
    the_list_pages_and_filters,
);
