//! The operator's branding of the flow per environment (product name, logo, accent colour),
//! tool logos (CC0 imports and the operator's own directory) and the picker's order.

use base64::Engine;
use plugboard::branding::{Accent, BrandLogo};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with, token_of};

const LOGO_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" fill="#0b5fff"/></svg>"##;

async fn branded_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, |config| {
        config.product_name = Some("Acme HR".into());
        config.brand.product_name.development = Some("Acme HR Staging".into());
        config.brand.accent.default = Accent::parse("#ffcc00");
        config.brand.accent.production = Accent::parse("#0b5fff");
        let data = base64::engine::general_purpose::STANDARD.encode(LOGO_SVG);
        config.brand.logo.production = Some(
            BrandLogo::from_setting(&format!("data:image/svg+xml;base64,{data}")).expect("logo"),
        );
    })
    .await
}

/// The first page of a link without a tool: the picker.
async fn page(app: &TestApp, key: &str, query: &str) -> String {
    let token = token_of(&app.create_link_as(key, json!({})).await);
    let reply = app
        .send(
            Method::GET,
            &format!("/connect?token={token}{query}"),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.text
}

/// The `href` or `src` value that starts with `prefix`.
fn url_in(html: &str, prefix: &str) -> String {
    let start = html
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {html}"));
    let rest = &html[start + prefix.len()..];
    format!(
        "{prefix}{}",
        &rest[..rest.find('"').expect("closing quote")]
    )
}

#[tokio::test]
async fn each_environment_shows_its_own_name_logo_and_accent() {
    let app = branded_app().await;
    let production = page(&app, &app.prod_key.clone(), "").await;
    assert!(production.contains("<span>Acme HR</span>"), "{production}");
    assert!(
        production.contains("/assets/brand/accent-0b5fff.css"),
        "{production}"
    );

    let development = page(&app, &app.dev_key.clone(), "").await;
    assert!(
        development.contains("<span>Acme HR Staging</span>"),
        "{development}"
    );
    assert!(
        development.contains("/assets/brand/accent-ffcc00.css"),
        "{development}"
    );
    assert!(
        !development.contains(".svg\" alt=\"\" height=\"24\""),
        "no development logo"
    );

    // The accent's stylesheet: a contrast-safe text colour on it (black on yellow).
    let css = reqwest::get(format!("{}/assets/brand/accent-ffcc00.css", app.base))
        .await
        .expect("css");
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");
    let css = css.text().await.expect("body");
    assert!(
        css.contains("--accent:#ffcc00") && css.contains("--on-accent:#000000"),
        "{css}"
    );
    for bad in [
        "accent-ffcc0.css",
        "accent-FFCC00.css",
        "accent-zzzzzz.css",
        "x.svg",
    ] {
        let reply = reqwest::get(format!("{}/assets/brand/{bad}", app.base))
            .await
            .expect("request");
        assert_eq!(reply.status(), 404, "{bad}");
    }
}

#[tokio::test]
async fn the_operator_logo_is_served_as_an_inert_image() {
    let app = branded_app().await;
    let production = page(&app, &app.prod_key.clone(), "").await;
    let start = production
        .find("<span class=\"brand\"><img src=\"")
        .expect("logo in header");
    let logo = url_in(&production[start..], "/assets/brand/");
    let reply = reqwest::get(format!("{}{logo}", app.base))
        .await
        .expect("logo");
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["content-type"], "image/svg+xml");
    let csp = reply.headers()["content-security-policy"]
        .to_str()
        .expect("ascii");
    assert!(
        csp.starts_with("default-src 'none'") && csp.contains("sandbox"),
        "{csp}"
    );
    assert_eq!(reply.text().await.expect("body"), LOGO_SVG);
}

#[tokio::test]
async fn guides_name_the_operators_product() {
    let app = branded_app().await;
    let guide = page(&app, &app.prod_key.clone(), "&tool=personio&step=guide").await;
    assert!(guide.contains("such as Acme HR"), "{guide}");
    assert!(!guide.contains("Plugboard"), "{guide}");
}

#[tokio::test]
async fn tool_images_are_logos_where_licensed_with_their_content_type_and_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("bamboohr.png"), b"\x89PNG\r\n\x1a\nimage").expect("png");
    let path = dir.path().to_path_buf();
    let app = spawn_app_with(Backend::Sqlite, move |config| {
        config.brand.tool_logos_dir = Some(path);
    })
    .await;
    for (tool, content_type, mark) in [
        ("greenhouse", "image/svg+xml", "<path"),
        ("lever", "image/svg+xml", "<text"),
        ("bamboohr", "image/png", "PNG"),
    ] {
        let reply = reqwest::get(format!("{}/assets/tools/{tool}/icon.svg", app.base))
            .await
            .expect("image");
        assert_eq!(reply.status(), 200, "{tool}");
        assert_eq!(reply.headers()["content-type"], content_type, "{tool}");
        let csp = reply.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(csp.starts_with("default-src 'none'"), "{tool}: {csp}");
        let body = reply.bytes().await.expect("body");
        assert!(
            String::from_utf8_lossy(&body).contains(mark),
            "{tool}: {}",
            String::from_utf8_lossy(&body)
        );
    }
}

#[tokio::test]
async fn the_sandbox_comes_first_in_development() {
    let app = spawn_app(Backend::Sqlite).await;
    let picker = page(&app, &app.dev_key.clone(), "").await;
    let first = url_in(&picker, "data-tool=\"");
    assert_eq!(first, "data-tool=\"sandbox", "{picker}");
}

#[tokio::test]
async fn the_consent_step_lists_what_the_guide_asks_to_grant() {
    let app = spawn_app(Backend::Sqlite).await;
    let consent = page(&app, &app.dev_key.clone(), "&tool=personio").await;
    let listed: Vec<&str> = consent
        .split("<li><strong>")
        .skip(1)
        .map(|item| &item[..item.find("</strong>").expect("closing tag")])
        .collect();
    assert_eq!(
        listed,
        ["Employees", "Absences", "Attendances"],
        "{consent}"
    );
    assert!(
        consent.contains(
            "use your Personio account through its API, with the access you grant below:"
        ),
        "{consent}"
    );
    let guide = page(&app, &app.dev_key.clone(), "&tool=personio&step=guide").await;
    assert!(
        guide.contains("Grant Read access to Employees, Absences, Attendances,"),
        "{guide}"
    );
    // A key with the account's own access: the consent lists the category's data models as
    // what that access can include, and promises no more than the credentials allow.
    let consent = page(&app, &app.dev_key.clone(), "&tool=bamboohr").await;
    assert_eq!(consent.matches("<li><strong>").count(), 8, "{consent}");
    assert!(
        consent.contains("with the access of the credentials you enter. This can include:"),
        "{consent}"
    );
    assert!(!consent.contains("read access"), "{consent}");
}
