//! The OpenAPI 3.1 document, generated from the handlers' annotations and the wire types' doc
//! comments. `docs/openapi.json` is a committed copy; a test fails when it drifts.

use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::api;

/// Adds the bearer `ApiKey` scheme every operation uses.
struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "An API key: `Authorization: Bearer pb_prod_…` or `pb_dev_…`.",
            ))
            .build();
        components.add_security_scheme("ApiKey", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI description of the `/v1` API.
#[allow(deprecated)]
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plugboard API",
        description = "Self-hosted Connect service, wire-compatible with the Kombo Connect API. \
                       Successful responses are HTTP 200 with `{\"status\":\"success\",\"data\":…}`; \
                       errors carry `{\"status\":\"error\",\"error\":{code,title,message,log_url}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    paths(
        api::connect::create_link,
        api::connect::integration_by_token,
        api::connect::activate_integration,
        api::integrations::list_integrations,
        api::integrations::get_integration,
        api::integrations::delete_integration,
        api::integrations::set_enabled,
        api::integrations::relink,
        api::integrations::setup_link,
        api::tools::get_tools,
        api::general::check_api_key,
        api::events::get_event,
        api::links::list_links,
        api::links::revoke_link,
        api::webhooks::create_webhook,
        api::webhooks::list_webhooks,
        api::webhooks::get_webhook,
        api::webhooks::update_webhook,
        api::webhooks::delete_webhook,
        api::webhooks::rotate_secret,
        api::webhooks::send_test,
        api::webhooks::list_deliveries,
        api::webhooks::get_delivery,
        api::webhooks::retry_delivery,
        api::audit::list_audit_events,
    ),
    modifiers(&ApiKeyScheme),
    tags(
        (name = "Connect", description = "Connection links and activation tokens"),
        (name = "Integrations", description = "Managing connected integrations"),
        (name = "General", description = "API keys and tools"),
        (name = "Webhooks", description = "Webhook endpoints and their delivery log"),
        (name = "Audit", description = "The audit trail of operator actions and end-user steps"),
    )
)]
pub struct ApiDoc;

/// The document as JSON, with the package version.
pub fn document() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    serde_json::to_value(doc).unwrap_or_default()
}
