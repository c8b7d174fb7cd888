//! The OpenAPI 3.1 document, generated from the handlers' annotations and the wire types' doc
//! comments. `docs/openapi.json` is a committed copy; a test fails when it drifts.

use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, RefOr, ResponseBuilder,
        header::HeaderBuilder,
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
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

/// Adds the error answers that the extractors and layers give on every operation, so that each
/// operation lists every status it can answer with: 401 (the API key), 429 (its rate limit) and
/// 503 (the database) everywhere; 400 wherever there is a body, a query string or a path
/// parameter to reject (a path segment that is not UTF-8, say); 413 and 415 wherever there is
/// a body. An operation's own, more specific description of a status is kept.
struct CommonResponses;

impl CommonResponses {
    fn error(description: &str, retry_after: bool) -> RefOr<utoipa::openapi::Response> {
        let content = ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
            .build();
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", content);
        if retry_after {
            let seconds = ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1));
            response = response.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(seconds)
                    .description(Some("Seconds to wait before retrying."))
                    .build(),
            );
        }
        RefOr::T(response.build())
    }
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let shared = [
            (
                "InvalidInput",
                "Invalid input (`PLATFORM.INPUT_INVALID`); the message names the field at fault",
                false,
            ),
            (
                "Unauthorized",
                "Missing, malformed, unknown or revoked API key (`PLATFORM.AUTHENTICATION_INVALID`)",
                false,
            ),
            (
                "PayloadTooLarge",
                "The body is larger than 64 KiB (`PLATFORM.INPUT_INVALID`)",
                false,
            ),
            (
                "UnsupportedMediaType",
                "The body is declared as something other than JSON (`PLATFORM.INPUT_INVALID`)",
                false,
            ),
            (
                "RateLimited",
                "A rate limit is exhausted: the API key's requests, or the failed authentications \
                 from the client's address (`PLATFORM.RATE_LIMIT_EXCEEDED`); retry after \
                 `Retry-After` seconds",
                true,
            ),
            (
                "Unavailable",
                "The database cannot be reached (`PLATFORM.UNKNOWN_ERROR`); retry shortly",
                true,
            ),
        ];
        for (name, description, retry_after) in shared {
            components
                .responses
                .insert(name.to_owned(), Self::error(description, retry_after));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                let has_body = operation.request_body.is_some();
                let has_parameters = operation.parameters.iter().flatten().next().is_some();
                let mut add = |status: &str, name: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_owned())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
                };
                if has_body || has_parameters {
                    add("400", "InvalidInput");
                }
                add("401", "Unauthorized");
                if has_body {
                    add("413", "PayloadTooLarge");
                    add("415", "UnsupportedMediaType");
                }
                add("429", "RateLimited");
                add("503", "Unavailable");
            }
        }
    }
}

/// The document's frame: its info and the tags, in the order readers see them. The paths and
/// schemas come from [`api::routes()`], the one list of endpoints.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Plugboard API",
        description = "Self-hosted Connect service, wire-compatible with the Kombo Connect API. \
                       Successful responses are HTTP 200 with `{\"status\":\"success\",\"data\":…}`; \
                       errors carry `{\"status\":\"error\",\"error\":{code,title,message,log_url}}`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "Connect", description = "Connection links and activation tokens"),
        (name = "Integrations", description = "Managing connected integrations"),
        (name = "General", description = "API keys and tools"),
        (name = "Webhooks", description = "Webhook endpoints and their delivery log"),
        (name = "Audit", description = "The audit trail of operator actions and end-user steps"),
    )
)]
struct ApiDoc;

/// The document as JSON, with the package version: the frame, the endpoints of
/// [`api::routes()`] with the schemas they name, then the modifiers, which run last because
/// `CommonResponses` walks the operations.
pub fn document() -> serde_json::Value {
    let mut doc = ApiDoc::openapi();
    doc.merge(api::routes().into_openapi());
    ApiKeyScheme.modify(&mut doc);
    CommonResponses.modify(&mut doc);
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    serde_json::to_value(doc).unwrap_or_default()
}
