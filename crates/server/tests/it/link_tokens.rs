//! Link tokens over HTTP: a created link's URL hides whom it is for (the claims are sealed,
//! PASETO v4.local), and the link still opens.

use base64::{
    Engine,
    engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD},
};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, spawn_app};

const EMAIL: &str = "jane.doe@globex-industries.example";
const ORGANIZATION: &str = "Globex Industries";
const ORIGIN_ID: &str = "customer-8081";

/// `link` itself, percent-decoded, and every base64 decoding (both alphabets, every alignment)
/// of every run of base64 characters in it.
fn decodings(link: &str) -> Vec<Vec<u8>> {
    let decoded: String = url::form_urlencoded::parse(link.as_bytes())
        .flat_map(|(k, v)| [k.into_owned(), v.into_owned()])
        .collect::<Vec<_>>()
        .join("&");
    let mut out = vec![link.as_bytes().to_vec(), decoded.as_bytes().to_vec()];
    for text in [link, decoded.as_str()] {
        for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-_+/".contains(c))) {
            for skip in 0..4.min(run.len()) {
                let run = &run[skip..];
                let run = &run[..run.len() - run.len() % 4];
                for engine in [&URL_SAFE_NO_PAD, &STANDARD_NO_PAD] {
                    if let Ok(bytes) = engine.decode(run) {
                        out.push(bytes);
                    }
                }
            }
        }
    }
    out
}

fn readable(link: &str, secret: &str) -> bool {
    decodings(link).iter().any(|bytes| {
        bytes
            .windows(secret.len())
            .any(|window| window.eq_ignore_ascii_case(secret.as_bytes()))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_links_do_not_show_whom_they_are_for() {
    let app = spawn_app(Backend::Sqlite).await;
    for link_type in ["EMBEDDED", "MAGIC_LINK"] {
        let link = app
            .create_link(json!({
                "end_user_email": EMAIL,
                "end_user_organization_name": ORGANIZATION,
                "end_user_origin_id": ORIGIN_ID,
                "link_type": link_type,
            }))
            .await;
        let token = link.split_once("token=").expect("token").1;
        assert!(token.starts_with("v4.local."), "sealed: {link}");
        for secret in [EMAIL, "jane.doe", "globex", ORIGIN_ID] {
            assert!(!readable(&link, secret), "{secret} readable in {link}");
        }
        // The server still reads it: the claims are all there, and the page greets the
        // organisation.
        let claims = app.claims(&link);
        assert_eq!(claims.email.as_deref(), Some(EMAIL));
        assert_eq!(claims.org, ORGANIZATION);
        let page = app
            .send(Method::GET, &format!("/connect?token={token}"), None, None)
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.text.contains(ORGANIZATION), "{}", page.text);
    }
    // The check finds what it looks for: a link signed the old way shows the e-mail.
    let link = app.create_link(json!({"end_user_email": EMAIL})).await;
    let legacy = plugboard::tokens::sign_legacy_link(&app.state.vault, &app.claims(&link));
    assert!(readable(
        &format!("{}/connect?token={legacy}", app.base),
        EMAIL
    ));
}
