//! `GET /v1/tools/{category}`: the tools end users can connect in the caller's environment,
//! so operators can build their own tool picker.

use axum::{Json, extract::State};
use plugboard_catalog::{Category, Tool};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    api::{Success, integrations::NOT_OFFERED, success},
    error::{ApiError, ApiResult, ErrorEnvelope},
    extract::{ApiPath, Authenticated},
};

/// Image URLs of a tool. Plugboard draws its own monogram icons rather than vendors' logos.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolAssetsOut {
    /// Logo (SVG).
    pub logo_url: String,
    /// Square icon (SVG).
    pub icon_url: String,
    /// Black icon (SVG).
    pub icon_black_url: String,
}

/// Coverage of one data model of the category, listed so clients see what Kombo would offer;
/// Plugboard offers none of them (passthrough only, see `docs/compatibility.md`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageModelOut {
    /// Model id, e.g. `hris_employees`.
    pub id: String,
    /// Display name.
    pub label: String,
    /// `SUPPORTED`, `UNSUPPORTED`, `NOT_IMPLEMENTED` or `UNKNOWN`; always `NOT_IMPLEMENTED`:
    /// the tool may hold this data, but Plugboard offers no unified model for it.
    pub coverage_status: &'static str,
    /// Per-field coverage; Plugboard reports models only.
    pub fields: Vec<serde_json::Value>,
}

/// What a tool covers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    /// The category's data models, each `NOT_IMPLEMENTED`: Plugboard syncs no data, so the
    /// tool is used through the passthrough API (`POST /v1/passthrough/{tool}/{api}`).
    pub read_models: Vec<CoverageModelOut>,
    /// Write actions; none in Plugboard (writes go through passthrough).
    pub write_actions: Vec<CoverageModelOut>,
    /// Extra features; none in Plugboard.
    pub features: Vec<serde_json::Value>,
}

/// A connectable tool, in Kombo's shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolOut {
    /// Tool id; pass it as `integration_tool` to create-link.
    pub id: String,
    /// Display name.
    pub label: String,
    /// A debugging variant name; `null`.
    pub internal_label: Option<String>,
    /// URLs of the tool's logo and icons, served by Plugboard under `/assets/tools/`.
    pub assets: ToolAssetsOut,
    /// Set when the tool's API costs extra; `null` otherwise.
    pub paid_api_details_markdown: Option<String>,
    /// Set when a fast-track process exists; `null` otherwise.
    pub fast_track_details_markdown: Option<String>,
    /// Set when a vendor partnership is needed; `null` otherwise.
    pub partner_only_details_markdown: Option<String>,
    /// The vendor's documentation of API access.
    pub connection_guide_url: Option<String>,
    /// What Plugboard offers for the tool beyond passthrough: no data models, no actions.
    pub coverage: CoverageOut,
}

/// The list of tools.
#[derive(Debug, Serialize, ToSchema)]
pub struct ToolsOut {
    /// Tools enabled in the environment for the category, by id.
    pub tools: Vec<ToolOut>,
}

fn tool_out(state: &AppState, tool: &Tool, category: Category) -> ToolOut {
    let read_models = category
        .default_models()
        .iter()
        .map(|(id, label)| CoverageModelOut {
            id: (*id).to_owned(),
            label: (*label).to_owned(),
            coverage_status: NOT_OFFERED,
            fields: Vec::new(),
        })
        .collect();
    ToolOut {
        id: tool.id.clone(),
        label: tool.label.clone(),
        internal_label: None,
        assets: ToolAssetsOut {
            logo_url: crate::tools::asset_url(&state.config, &tool.id, "logo.svg"),
            icon_url: crate::tools::asset_url(&state.config, &tool.id, "icon.svg"),
            icon_black_url: crate::tools::asset_url(&state.config, &tool.id, "icon-black.svg"),
        },
        paid_api_details_markdown: None,
        fast_track_details_markdown: None,
        partner_only_details_markdown: None,
        connection_guide_url: tool.docs_url.as_ref().map(ToString::to_string),
        coverage: CoverageOut {
            read_models,
            write_actions: Vec::new(),
            features: Vec::new(),
        },
    }
}

/// Get tools.
///
/// The tools enabled in the caller's environment for one category (`hris`, `ats`,
/// `assessment` or `lms`, lower case).
#[utoipa::path(
    get, path = "/v1/tools/{category}", tag = "General", operation_id = "GetToolsCategory",
    params(("category" = String, Path, description = "hris, ats, assessment or lms", pattern = "^(hris|ats|assessment|lms)$")),
    responses(
        (status = 200, description = "The tools", body = Success<ToolsOut>),
        (status = 400, description = "Unknown category", body = ErrorEnvelope),
    ),
    security(("ApiKey" = []))
)]
pub async fn get_tools(
    State(state): State<AppState>,
    auth: Authenticated,
    ApiPath(category): ApiPath<String>,
) -> ApiResult<Json<Success<ToolsOut>>> {
    let category = Category::from_path(&category).ok_or_else(|| {
        ApiError::InputInvalid(format!(
            "category: {category:?} is not one of hris, ats, assessment, lms"
        ))
    })?;
    let sign_ins = crate::tools::SignIns::of(&state, &auth.environment).await?;
    let tools = crate::tools::offered(&state.catalog, &auth.environment, category, &sign_ins)
        .map(|tool| tool_out(&state, tool, category))
        .collect();
    Ok(success(ToolsOut { tools }))
}
