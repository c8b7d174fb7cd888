//! The operator's branding of the hosted flow, per environment: product name, logo and accent
//! colour. Configuration (`PLUGBOARD_PRODUCT_NAME`, `PLUGBOARD_LOGO`, `PLUGBOARD_ACCENT_COLOR`,
//! each with `_PRODUCTION`/`_DEVELOPMENT` overrides) is read once, at start-up; pages ask
//! [`crate::settings::branding`], which puts the product name an operator saved in the
//! dashboard over it.
//!
//! The logo is served by Plugboard itself (`/assets/brand/<hash>.svg|png`) and the accent as a
//! one-rule stylesheet (`/assets/brand/accent-<rrggbb>.css`): the flow's content security policy
//! lets it load images and styles from its own origin only, so no inline style and no
//! third-party request is needed.

use std::path::Path;

use axum::{
    extract::{Path as UrlPath, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use base64::Engine;
use plugboard_store::EnvironmentName;
use sha2::{Digest, Sha256};

use crate::{AppState, config::ConfigError, error::ApiError};

/// One environment's branding, as the flow renders it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Branding {
    /// The operator's product, named in the flow's header and texts; `None`: a generic phrase.
    pub product_name: Option<String>,
    /// The operator's logo, shown in the flow's header.
    pub logo: Option<BrandLogo>,
    /// The colour of buttons and links.
    pub accent: Option<Accent>,
}

/// An operator logo, checked and held in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrandLogo {
    /// `image/svg+xml` or `image/png`.
    pub content_type: &'static str,
    /// The image.
    pub body: Vec<u8>,
    /// `<hash>.svg` or `<hash>.png`: the file name it is served under, which changes when the
    /// image does, so browsers may cache it for good.
    pub file: String,
}

impl BrandLogo {
    /// The path it is served at.
    pub fn path(&self) -> String {
        format!("/assets/brand/{}", self.file)
    }
}

/// An accent colour, `#rrggbb`, with the text colour that stays readable on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accent([u8; 3]);

impl Accent {
    /// Parses `#rrggbb`.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.trim().strip_prefix('#')?;
        if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some(Self([channel(0)?, channel(2)?, channel(4)?]))
    }

    /// `#rrggbb` in lower case.
    pub fn hex(self) -> String {
        let [r, g, b] = self.0;
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// White or black, whichever contrasts more with the accent: at least 4.58:1 for any
    /// colour, so button labels meet WCAG AA whatever the operator picks.
    pub fn text_color(self) -> &'static str {
        let l = luminance(self.0);
        if (1.05 / (l + 0.05)) >= ((l + 0.05) / 0.05) {
            "#ffffff"
        } else {
            "#000000"
        }
    }

    /// The colour links are drawn in on the white dialog: the accent when it reaches 4.5:1 on
    /// white, else the flow's default link colour.
    fn link_color(self) -> String {
        if 1.05 / (luminance(self.0) + 0.05) >= 4.5 {
            self.hex()
        } else {
            "#4338ca".to_owned()
        }
    }

    /// The accent darkened by a fifth, for hovered buttons.
    fn hover(self) -> String {
        let [r, g, b] = self.0.map(|c| (u16::from(c) * 4 / 5) as u8);
        format!("#{r:02x}{g:02x}{b:02x}")
    }

    /// The path of its stylesheet.
    pub fn stylesheet_path(self) -> String {
        format!("/assets/brand/accent-{}.css", &self.hex()[1..])
    }

    /// The stylesheet: custom properties that `flow.css` uses for buttons and links.
    pub fn stylesheet(self) -> String {
        format!(
            ":root{{--accent:{};--accent-hover:{};--on-accent:{};--accent-link:{}}}\n",
            self.hex(),
            self.hover(),
            self.text_color(),
            self.link_color(),
        )
    }
}

/// WCAG 2 relative luminance.
fn luminance(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2])
}

/// A setting with a value for all environments and an override for each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PerEnvironment<T> {
    /// `PLUGBOARD_<NAME>`.
    pub default: Option<T>,
    /// `PLUGBOARD_<NAME>_PRODUCTION`.
    pub production: Option<T>,
    /// `PLUGBOARD_<NAME>_DEVELOPMENT`.
    pub development: Option<T>,
}

impl<T> Default for PerEnvironment<T> {
    fn default() -> Self {
        Self {
            default: None,
            production: None,
            development: None,
        }
    }
}

impl<T: Clone> PerEnvironment<T> {
    /// The override of `environment`, else the common value.
    pub fn get(&self, environment: EnvironmentName) -> Option<T> {
        match environment {
            EnvironmentName::Production => self.production.as_ref(),
            EnvironmentName::Development => self.development.as_ref(),
        }
        .or(self.default.as_ref())
        .cloned()
    }

    fn values(&self) -> impl Iterator<Item = &T> {
        [&self.default, &self.production, &self.development]
            .into_iter()
            .flatten()
    }
}

/// The validated branding settings (`Config::branding` picks one environment's).
#[derive(Debug, Clone, Default)]
pub struct BrandingConfig {
    /// `PLUGBOARD_PRODUCT_NAME_PRODUCTION` and `_DEVELOPMENT` (the common value is
    /// `Config::product_name`).
    pub product_name: PerEnvironment<String>,
    /// `PLUGBOARD_LOGO`, `_PRODUCTION`, `_DEVELOPMENT`.
    pub logo: PerEnvironment<BrandLogo>,
    /// `PLUGBOARD_ACCENT_COLOR`, `_PRODUCTION`, `_DEVELOPMENT`.
    pub accent: PerEnvironment<Accent>,
    /// `PLUGBOARD_TOOL_LOGOS_DIR`: a directory of `<tool-id>.svg`/`.png` files replacing the
    /// catalog's tool images, read at start-up.
    pub tool_logos_dir: Option<std::path::PathBuf>,
}

/// The raw branding values, as `config` reads them (each field is a configuration key).
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RawBranding {
    pub product_name_production: Option<String>,
    pub product_name_development: Option<String>,
    pub logo: Option<String>,
    pub logo_production: Option<String>,
    pub logo_development: Option<String>,
    pub accent_color: Option<String>,
    pub accent_color_production: Option<String>,
    pub accent_color_development: Option<String>,
    pub tool_logos_dir: Option<std::path::PathBuf>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn fail(variable: &str, message: impl std::fmt::Display) -> ConfigError {
    ConfigError(format!("{variable}: {message}"))
}

impl BrandingConfig {
    /// Validates the raw values; every error names its variable.
    pub(crate) fn parse(raw: RawBranding) -> Result<Self, ConfigError> {
        let accent = |variable: &str, value: Option<String>| {
            non_empty(value)
                .map(|text| {
                    Accent::parse(&text).ok_or_else(|| {
                        fail(variable, format!("{text:?} is not a colour like #4338ca"))
                    })
                })
                .transpose()
        };
        let logo = |variable: &str, value: Option<String>| {
            non_empty(value)
                .map(|text| read_logo(&text).map_err(|message| fail(variable, message)))
                .transpose()
        };
        let tool_logos_dir = raw.tool_logos_dir.filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = &tool_logos_dir
            && !dir.is_dir()
        {
            return Err(fail(
                "PLUGBOARD_TOOL_LOGOS_DIR",
                format!("{} is not a directory", dir.display()),
            ));
        }
        Ok(Self {
            product_name: PerEnvironment {
                default: None,
                production: non_empty(raw.product_name_production),
                development: non_empty(raw.product_name_development),
            },
            logo: PerEnvironment {
                default: logo("PLUGBOARD_LOGO", raw.logo)?,
                production: logo("PLUGBOARD_LOGO_PRODUCTION", raw.logo_production)?,
                development: logo("PLUGBOARD_LOGO_DEVELOPMENT", raw.logo_development)?,
            },
            accent: PerEnvironment {
                default: accent("PLUGBOARD_ACCENT_COLOR", raw.accent_color)?,
                production: accent(
                    "PLUGBOARD_ACCENT_COLOR_PRODUCTION",
                    raw.accent_color_production,
                )?,
                development: accent(
                    "PLUGBOARD_ACCENT_COLOR_DEVELOPMENT",
                    raw.accent_color_development,
                )?,
            },
            tool_logos_dir,
        })
    }

    /// The configured logo served as `file`, if any.
    fn logo_file(&self, file: &str) -> Option<&BrandLogo> {
        self.logo.values().find(|logo| logo.file == file)
    }
}

/// A logo given as a `data:image/svg+xml;base64,…` or `data:image/png;base64,…` URL, or as the
/// path of an `.svg` or `.png` file. Held to the rules of operator tool images (size, no active
/// content). Other URLs are refused: the flow loads nothing from third parties, which would
/// learn of every end user's visit.
fn read_logo(value: &str) -> Result<BrandLogo, String> {
    BrandLogo::from_setting(value)
}

impl BrandLogo {
    /// Reads a `PLUGBOARD_LOGO*` value (see `read_logo`); the error says what is wrong.
    pub fn from_setting(value: &str) -> Result<Self, String> {
        let (content_type, body) = if let Some(data) = value.strip_prefix("data:") {
            let (kind, payload) = data
                .split_once(";base64,")
                .ok_or("a data: URL must be base64 (data:image/png;base64,…)")?;
            let content_type = match kind {
                "image/svg+xml" => "image/svg+xml",
                "image/png" => "image/png",
                other => return Err(format!("{other:?} is neither image/svg+xml nor image/png")),
            };
            let body = base64::engine::general_purpose::STANDARD
                .decode(payload.trim())
                .map_err(|_| "the data: URL is not valid base64".to_owned())?;
            (content_type, body)
        } else if value.contains("://") {
            return Err(
            "must be a data: URL or a file path; Plugboard serves the logo itself, as the flow \
             loads nothing from other sites"
                .into(),
        );
        } else {
            let path = Path::new(value);
            let content_type = match path.extension().and_then(|ext| ext.to_str()) {
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => return Err(format!("{value}: the file must be .svg or .png")),
            };
            let size = std::fs::metadata(path)
                .map_err(|e| format!("{value}: {e}"))?
                .len();
            if size > plugboard_catalog::MAX_OVERRIDE_BYTES {
                return Err(format!("{value}: is larger than 256 KiB"));
            }
            (
                content_type,
                std::fs::read(path).map_err(|e| format!("{value}: {e}"))?,
            )
        };
        plugboard_catalog::check_image(content_type, &body).map_err(|e| format!("the logo {e}"))?;
        let digest = Sha256::digest(&body);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let extension = if content_type == "image/png" {
            "png"
        } else {
            "svg"
        };
        Ok(BrandLogo {
            content_type,
            file: format!("{hash}.{extension}"),
            body,
        })
    }
}

/// `GET /assets/brand/{file}`: the configured logos and the accent stylesheets. The accent's
/// file is named after its colour and the logo's after its content, so both are cached for a
/// year.
pub async fn brand_asset(
    State(state): State<AppState>,
    UrlPath(file): UrlPath<String>,
) -> Response {
    let mut response = if let Some(logo) = state.config.brand.logo_file(&file) {
        crate::ops::image_response(logo.content_type, logo.body.clone())
    } else if let Some(accent) = file
        .strip_prefix("accent-")
        .and_then(|rest| rest.strip_suffix(".css"))
        .filter(|hex| {
            hex.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        .and_then(|hex| Accent::parse(&format!("#{hex}")))
    {
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            accent.stylesheet(),
        )
            .into_response()
    } else {
        return ApiError::NotFound(format!("There is no file {file:?}.")).into_response();
    };
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accent_text_keeps_aa_contrast_for_any_colour() {
        let contrast = |a: f64, b: f64| (a.max(b) + 0.05) / (a.min(b) + 0.05);
        for hex in [
            "#000000", "#ffffff", "#777777", "#ffcc00", "#4338ca", "#e42c51", "#24a47f",
        ] {
            let accent = Accent::parse(hex).expect(hex);
            let text = Accent::parse(accent.text_color()).expect("hex");
            let ratio = contrast(luminance(accent.0), luminance(text.0));
            assert!(ratio >= 4.5, "{hex} on {}: {ratio}", accent.text_color());
        }
        assert_eq!(
            Accent::parse("#FFCC00").map(Accent::text_color),
            Some("#000000")
        );
        assert_eq!(
            Accent::parse("#4338ca").map(Accent::text_color),
            Some("#ffffff")
        );
    }

    #[test]
    fn accent_must_be_six_hex_digits() {
        for bad in ["red", "#fff", "#12345g", "4338ca", "#4338ca;x", "#4338ca0"] {
            assert_eq!(Accent::parse(bad), None, "{bad}");
        }
        assert_eq!(
            Accent::parse(" #4338CA ").map(Accent::hex).as_deref(),
            Some("#4338ca")
        );
    }

    #[test]
    fn overrides_win_over_the_common_value() {
        let setting = PerEnvironment {
            default: Some(1),
            production: None,
            development: Some(2),
        };
        assert_eq!(setting.get(EnvironmentName::Production), Some(1));
        assert_eq!(setting.get(EnvironmentName::Development), Some(2));
    }

    #[test]
    fn errors_name_the_variable() {
        let raw = |accent: &str| RawBranding {
            accent_color_development: Some(accent.into()),
            ..RawBranding::default()
        };
        let message = BrandingConfig::parse(raw("blue"))
            .expect_err("not a colour")
            .0;
        assert!(
            message.starts_with("PLUGBOARD_ACCENT_COLOR_DEVELOPMENT"),
            "{message}"
        );
        let parsed = BrandingConfig::parse(raw("#0B5FFF")).expect("valid");
        assert_eq!(
            parsed
                .accent
                .get(EnvironmentName::Development)
                .map(Accent::hex)
                .as_deref(),
            Some("#0b5fff")
        );
        let message = BrandingConfig::parse(RawBranding {
            logo_production: Some("https://cdn.example.com/logo.svg".into()),
            ..RawBranding::default()
        })
        .expect_err("remote")
        .0;
        assert!(
            message.starts_with("PLUGBOARD_LOGO_PRODUCTION"),
            "{message}"
        );
        let message = BrandingConfig::parse(RawBranding {
            tool_logos_dir: Some("/no/such/dir".into()),
            ..RawBranding::default()
        })
        .expect_err("missing dir")
        .0;
        assert!(message.starts_with("PLUGBOARD_TOOL_LOGOS_DIR"), "{message}");
    }

    #[test]
    fn logos_are_data_urls_or_files_never_remote_urls() {
        let svg = base64::engine::general_purpose::STANDARD.encode("<svg viewBox=\"0 0 1 1\"/>");
        let logo = read_logo(&format!("data:image/svg+xml;base64,{svg}")).expect("valid");
        assert_eq!(logo.content_type, "image/svg+xml");
        assert!(
            logo.file.ends_with(".svg") && logo.file.len() == 20,
            "{}",
            logo.file
        );
        for bad in [
            "https://cdn.example.com/logo.svg".to_owned(),
            "data:text/html;base64,PGgxPg==".to_owned(),
            "data:image/svg+xml,<svg/>".to_owned(),
            format!(
                "data:image/svg+xml;base64,{}",
                base64::engine::general_purpose::STANDARD.encode("<svg onload=\"x()\"/>")
            ),
            "/no/such/logo.svg".to_owned(),
            "logo.gif".to_owned(),
        ] {
            assert!(read_logo(&bad).is_err(), "{bad}");
        }
    }
}
