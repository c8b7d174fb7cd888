//! A passthrough body prepared once and attached to every attempt: nothing, bytes (JSON or
//! raw), or multipart parts whose files are decoded from base64 or fetched (through the
//! guard) from `data_url` first, all within the request size limit.

use reqwest::header::{CONTENT_TYPE, HeaderMap};

use super::{
    Call, Failure,
    body::{self, FormValue, Outgoing},
    transport::{ReadError, read_limited},
};
use crate::{AppState, net};

/// A body ready to be sent, as many times as retries need.
pub(super) enum Payload {
    Empty,
    Bytes(Vec<u8>),
    Multipart(Vec<(String, Part)>),
}

pub(super) enum Part {
    Text(String),
    File {
        name: String,
        content_type: Option<String>,
        bytes: Vec<u8>,
    },
}

impl Payload {
    pub(super) async fn prepare(
        state: &AppState,
        call: &Call,
        headers: &mut HeaderMap,
        warnings: &mut Vec<String>,
    ) -> Result<Self, Failure> {
        let Some(parts) = call.multipart_form_data.as_ref().filter(|p| !p.is_empty()) else {
            return Ok(match body::outgoing(call.data.as_ref()) {
                Outgoing::Empty => Self::Empty,
                Outgoing::Bytes { body, content_type } => {
                    body::default_content_type(headers, content_type);
                    Self::Bytes(body)
                }
            });
        };
        if call.data.as_ref().is_some_and(|d| !d.is_null()) {
            warnings.push("data was not sent: the request is multipart_form_data.".into());
        }
        // reqwest sets the multipart content type with its boundary.
        headers.remove(CONTENT_TYPE);
        let limit = state.passthrough.config.max_request_body;
        let mut prepared = Vec::with_capacity(parts.len());
        let mut total = 0usize;
        for (index, part) in parts.iter().enumerate() {
            let field = format!("multipart_form_data[{index}]");
            let value = match &part.value {
                FormValue::Text(text) => Part::Text(text.clone()),
                FormValue::File(file) => {
                    if let Some(content_type) = &file.content_type
                        && !body::is_media_type(content_type)
                    {
                        return Err(Failure::Input(format!(
                            "{field}.value.content_type must be a media type such as application/pdf"
                        )));
                    }
                    let bytes = match (&file.data, &file.data_url) {
                        (Some(data), None) => {
                            if file.content_type.is_none() {
                                return Err(Failure::Input(format!(
                                    "{field}.value.content_type is required with data"
                                )));
                            }
                            body::decode_file(data).ok_or_else(|| {
                                Failure::Input(format!("{field}.value.data is not base64"))
                            })?
                        }
                        (None, Some(url)) => fetch_file(state, &field, url, limit).await?,
                        _ => {
                            return Err(Failure::Input(format!(
                                "{field}.value needs exactly one of data and data_url"
                            )));
                        }
                    };
                    Part::File {
                        name: file.name.clone(),
                        content_type: file.content_type.clone(),
                        bytes,
                    }
                }
            };
            total += match &value {
                Part::Text(text) => text.len(),
                Part::File { bytes, .. } => bytes.len(),
            };
            if total > limit {
                return Err(Failure::Input(format!(
                    "the multipart body is larger than {limit} bytes (PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY)"
                )));
            }
            prepared.push((part.name.clone(), value));
        }
        Ok(Self::Multipart(prepared))
    }

    pub(super) fn len(&self) -> u64 {
        let len = match self {
            Self::Empty => 0,
            Self::Bytes(bytes) => bytes.len(),
            Self::Multipart(parts) => parts
                .iter()
                .map(|(_, part)| match part {
                    Part::Text(text) => text.len(),
                    Part::File { bytes, .. } => bytes.len(),
                })
                .sum(),
        };
        len as u64
    }

    pub(super) fn attach(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, Failure> {
        Ok(match self {
            Self::Empty => request,
            Self::Bytes(bytes) => request.body(bytes.clone()),
            Self::Multipart(parts) => {
                let mut form = reqwest::multipart::Form::new();
                for (name, part) in parts {
                    form = match part {
                        Part::Text(text) => form.text(name.clone(), text.clone()),
                        Part::File {
                            name: file_name,
                            content_type,
                            bytes,
                        } => {
                            let mut file = reqwest::multipart::Part::bytes(bytes.clone())
                                .file_name(file_name.clone());
                            if let Some(content_type) = content_type {
                                file = file.mime_str(content_type).map_err(|_| {
                                    Failure::Input(format!("{content_type:?} is not a media type"))
                                })?;
                            }
                            form.part(name.clone(), file)
                        }
                    };
                }
                request.multipart(form)
            }
        })
    }
}

/// Downloads a multipart file from `data_url` through a guarded client (never the trusted
/// one: the URL is the caller's): public addresses, and the networks the operator allowed for
/// downloads; at most `limit` bytes.
pub(super) async fn fetch_file(
    state: &AppState,
    field: &str,
    url: &str,
    limit: usize,
) -> Result<Vec<u8>, Failure> {
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| Failure::Input(format!("{field}.value.data_url must be an http(s) URL")))?;
    if let Err(blocked) = state
        .passthrough
        .download_networks
        .check_literal_host(&parsed)
    {
        return Err(Failure::Input(format!("{field}.value.data_url: {blocked}")));
    }
    let response = state
        .passthrough
        .downloads
        .get(parsed)
        .send()
        .await
        .map_err(|error| {
            Failure::Input(format!(
                "{field}.value.data_url could not be downloaded: {}",
                net::classify(&error).detail
            ))
        })?;
    if !response.status().is_success() {
        return Err(Failure::Input(format!(
            "{field}.value.data_url answered {}",
            response.status()
        )));
    }
    read_limited(response, limit).await.map_err(|error| match error {
        ReadError::TooLarge => Failure::Input(format!(
            "{field}.value.data_url is larger than {limit} bytes (PLUGBOARD_PASSTHROUGH_MAX_REQUEST_BODY)"
        )),
        ReadError::Broken(detail) => {
            Failure::Input(format!("{field}.value.data_url broke off: {detail}"))
        }
    })
}
