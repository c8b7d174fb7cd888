//! General endpoints: checking an API key.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::{Success, success},
    error::{ApiResult, ErrorEnvelope},
    extract::Authenticated,
};

/// The environment an API key acts in.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckApiKeyOut {
    /// The environment's id.
    #[schema(example = "B89SCXXho7Yw8PGo8AKJxLn4")]
    pub environment_id: String,
    /// Deprecated alias of `environment_id`, still required by Kombo's schema.
    #[schema(deprecated)]
    pub customer_id: String,
}

/// Check API key.
///
/// Answers 200 with the key's environment when the key is valid, 401 otherwise.
#[utoipa::path(
    get, path = "/v1/check-api-key", tag = "General", operation_id = "GetCheckApiKey",
    responses(
        (status = 200, description = "The key is valid", body = Success<CheckApiKeyOut>),
        (status = 401, description = "The key is missing, unknown or revoked", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn check_api_key(auth: Authenticated) -> ApiResult<Json<Success<CheckApiKeyOut>>> {
    let id = auth.environment.id;
    Ok(success(CheckApiKeyOut {
        environment_id: id.clone(),
        customer_id: id,
    }))
}
