//! The bodies of a passthrough call: what the caller's `data` or `multipart_form_data` becomes
//! on the wire, and what the tool's answer becomes in `data.data`.

use base64::Engine;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::Deserialize;

/// One part of a `multipart/form-data` request, in Kombo's shape.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormPart {
    /// The part's field name.
    pub name: String,
    /// A text value, or a file.
    pub value: FormValue,
}

/// A multipart value: text, or a file given inline (base64) or by URL.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FormValue {
    /// A text field.
    Text(String),
    /// A file.
    File(FormFile),
}

/// A file part. Exactly one of `data` and `data_url` is given.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FormFile {
    /// The file name sent to the tool.
    pub name: String,
    /// The file's media type, e.g. `application/pdf`; required with `data`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// A URL Plugboard downloads the file from at once (through the outbound guard: public
    /// addresses, and the networks in `PLUGBOARD_PASSTHROUGH_DOWNLOAD_NETWORKS`). Signed,
    /// short-lived URLs work.
    #[serde(default)]
    pub data_url: Option<String>,
    /// The file's bytes, base64-encoded.
    #[serde(default)]
    pub data: Option<String>,
}

/// What the caller asked to send, before files are fetched.
#[derive(Debug, Clone, PartialEq)]
pub enum Outgoing {
    /// No body.
    Empty,
    /// Bytes with their content type.
    Bytes {
        /// The bytes.
        body: Vec<u8>,
        /// The content type, unless the caller set one.
        content_type: &'static str,
    },
}

/// The body of `data`: JSON for objects, arrays, numbers and booleans; a string as it is
/// (SOAP envelopes, CSV); nothing for `null` or no `data`.
pub fn outgoing(data: Option<&serde_json::Value>) -> Outgoing {
    match data {
        None | Some(serde_json::Value::Null) => Outgoing::Empty,
        Some(serde_json::Value::String(text)) => Outgoing::Bytes {
            body: text.clone().into_bytes(),
            content_type: "text/plain; charset=utf-8",
        },
        Some(other) => Outgoing::Bytes {
            body: serde_json::to_vec(other).unwrap_or_default(),
            content_type: "application/json",
        },
    }
}

/// Whether `value` is a media type such as `application/pdf` (Kombo's
/// `^[\w.-]+\/[\w.-]+$`).
pub fn is_media_type(value: &str) -> bool {
    let part = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
    };
    value
        .split_once('/')
        .is_some_and(|(kind, sub)| part(kind) && part(sub))
}

/// Decodes a file part's inline base64 (standard alphabet, padding optional).
pub fn decode_file(data: &str) -> Option<Vec<u8>> {
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    engine.decode(data.trim()).ok()
}

/// What the caller gets in `data.data`: base64 when asked for, JSON when the tool said JSON
/// and sent JSON, else text. A body that is not UTF-8 is decoded lossily with a warning.
pub fn incoming(
    headers: &HeaderMap,
    body: &[u8],
    as_base64: bool,
    warnings: &mut Vec<String>,
) -> Option<serde_json::Value> {
    if body.is_empty() {
        return None;
    }
    if as_base64 {
        return Some(serde_json::Value::String(
            base64::engine::general_purpose::STANDARD.encode(body),
        ));
    }
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(is_json_type);
    if json && let Ok(value) = serde_json::from_slice(body) {
        return Some(value);
    }
    Some(serde_json::Value::String(match std::str::from_utf8(body) {
        Ok(text) => text.to_owned(),
        Err(_) => {
            warnings.push(
                "The tool's answer is not text; ask with response_as_base64: true to get its exact bytes."
                    .into(),
            );
            String::from_utf8_lossy(body).into_owned()
        }
    }))
}

/// `application/json`, `application/problem+json`, `text/json`, with any parameters.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json" || essence == "text/json" || essence.ends_with("+json")
}

/// Sets `content_type` unless the caller's headers have one.
pub fn default_content_type(headers: &mut HeaderMap, content_type: &'static str) {
    headers
        .entry(CONTENT_TYPE)
        .or_insert(HeaderValue::from_static(content_type));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_becomes_json_or_raw_text() {
        assert_eq!(outgoing(None), Outgoing::Empty);
        assert_eq!(outgoing(Some(&json!(null))), Outgoing::Empty);
        assert_eq!(
            outgoing(Some(&json!({"a": 1}))),
            Outgoing::Bytes {
                body: br#"{"a":1}"#.to_vec(),
                content_type: "application/json"
            }
        );
        assert_eq!(
            outgoing(Some(&json!("<soap:Envelope/>"))),
            Outgoing::Bytes {
                body: b"<soap:Envelope/>".to_vec(),
                content_type: "text/plain; charset=utf-8"
            }
        );
    }

    #[test]
    fn answers_are_json_text_or_base64() {
        let mut json_headers = HeaderMap::new();
        json_headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        let mut warnings = Vec::new();
        assert_eq!(
            incoming(&json_headers, br#"{"ok":true}"#, false, &mut warnings),
            Some(json!({"ok": true}))
        );
        assert_eq!(
            incoming(&json_headers, b"not json", false, &mut warnings),
            Some(json!("not json"))
        );
        assert_eq!(
            incoming(&HeaderMap::new(), b"%PDF\xff", true, &mut warnings),
            Some(json!("JVBERv8="))
        );
        assert!(warnings.is_empty());
        assert_eq!(incoming(&HeaderMap::new(), b"", false, &mut warnings), None);
        incoming(&HeaderMap::new(), b"\xff\xfe", false, &mut warnings);
        assert_eq!(warnings.len(), 1);
    }

    #[test]
    fn media_types_and_base64_files() {
        assert!(is_media_type("application/pdf"));
        assert!(is_media_type("application/vnd.ms-excel"));
        assert!(!is_media_type("application/pdf; x=1"));
        assert!(!is_media_type("pdf"));
        assert_eq!(decode_file("aGk="), Some(b"hi".to_vec()));
        assert_eq!(decode_file("aGk"), Some(b"hi".to_vec()));
        assert_eq!(decode_file("!!"), None);
    }
}
