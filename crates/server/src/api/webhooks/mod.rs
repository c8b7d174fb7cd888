//! Webhook endpoints and their delivery log (Plugboard extension; Kombo configures webhooks in
//! its dashboard). Every endpoint belongs to the environment of the API key that manages it.
//! [`endpoints`] manages the endpoints; [`deliveries`] reads and retries what was sent to them.

use crate::error::{ApiError, DomainError, Missing};

pub mod deliveries;
pub mod endpoints;

/// The 404 for an endpoint id that is not in the caller's environment (whether it exists in
/// another one is not told), with the id cut to 40 characters.
fn endpoint_not_found(id: &str) -> ApiError {
    DomainError::NotFound(Missing::WebhookEndpoint(id.to_owned())).into()
}
