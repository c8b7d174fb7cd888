//! Responses are compressed for clients that accept it: the flow's pages (which repeat the link
//! token) and its assets, with gzip or brotli; the SDK's npm tarball is served as it is.

use reqwest::header;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

/// GETs `url` with `Accept-Encoding: encoding`: (`Content-Encoding`, `Vary`, body bytes).
async fn get(url: &str, encoding: &str) -> (Option<String>, String, Vec<u8>) {
    let response = reqwest::Client::new()
        .get(url)
        .header(header::ACCEPT_ENCODING, encoding)
        .send()
        .await
        .expect("request");
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    let text = |name| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().expect("ascii").to_owned())
    };
    let encoding = text(header::CONTENT_ENCODING);
    let vary = text(header::VARY).unwrap_or_default();
    (
        encoding,
        vary,
        response.bytes().await.expect("body").to_vec(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flow_pages_and_assets_are_compressed_for_clients_that_accept_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let link = app.create_link(json!({})).await;

    let (encoding, _, plain) = get(&link, "identity").await;
    assert_eq!(encoding, None, "identity was asked for");
    let html = String::from_utf8(plain.clone()).expect("utf-8");
    let start = html.find("/connect/assets/").expect("an asset in the page");
    let end = start + html[start..].find('"').expect("end of the asset's URL");
    let asset = format!("{}{}", app.base, &html[start..end]);

    let (encoding, vary, gzipped) = get(&link, "gzip").await;
    assert_eq!(encoding.as_deref(), Some("gzip"));
    assert!(vary.to_lowercase().contains("accept-encoding"), "{vary}");
    assert_eq!(gzipped[..2], [0x1f, 0x8b], "a gzip stream");
    assert!(
        gzipped.len() * 2 < plain.len(),
        "the picker's {} bytes compress to {}",
        plain.len(),
        gzipped.len()
    );

    let (encoding, _, brotli) = get(&link, "br").await;
    assert_eq!(encoding.as_deref(), Some("br"));
    assert!(brotli.len() * 2 < plain.len());

    let (encoding, _, plain_asset) = get(&asset, "identity").await;
    assert_eq!(encoding, None);
    let (encoding, _, gzipped_asset) = get(&asset, "gzip, deflate, br;q=0").await;
    assert_eq!(encoding.as_deref(), Some("gzip"), "{asset}");
    assert_eq!(gzipped_asset[..2], [0x1f, 0x8b]);
    assert!(gzipped_asset.len() < plain_asset.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_tarball_is_served_as_it_is() {
    let app = spawn_app(Backend::Sqlite).await;
    let url = format!("{}{}", app.base, plugboard::sdk::tarball_path());
    let response = reqwest::Client::new()
        .get(&url)
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers[header::CONTENT_TYPE], "application/gzip");
    assert_eq!(
        headers[header::CACHE_CONTROL],
        "public, max-age=31536000, immutable"
    );
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    let body = response.bytes().await.expect("body");
    assert_eq!(&body[..], plugboard::sdk::TARBALL);
    assert_eq!(body[..2], [0x1f, 0x8b]);

    let old = reqwest::get(format!("{}/sdk/plugboard-connect-0.0.1.tgz", app.base))
        .await
        .expect("request");
    assert_eq!(old.status(), 404);
}
