//! The dashboard's secrets never leak: with the real binary logging at TRACE, an operator's
//! one-time sign-in link, password and session ids, and the secrets the dashboard shows once
//! (an API key, a webhook secret before and after rotation, an OAuth client secret typed into
//! a form) are searched for in every log line, in every page the operator opens afterwards
//! (the audit trail included) and in the SQLite files.

use std::time::Duration;

use reqwest::header;

use crate::binary::Binary;

/// Occurrences of `needle` in `haystack`.
fn count(haystack: &[u8], needle: &str) -> usize {
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle.as_bytes())
        .count()
}

/// The session cookie a response sets, as `name=value`.
fn session(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
        .find(|pair| pair.starts_with("plugboard_session=") && pair.len() > 18)
}

/// The `value` of the element with `id` on a page (the once-shown secret's input).
fn shown(html: &str, id: &str) -> String {
    let at = html.find(&format!("id=\"{id}\"")).expect("the input");
    let start = html[..at].rfind("value=\"").expect("value") + 7;
    let end = html[start..].find('"').expect("end") + start;
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&#43;", "+")
        .replace("&#61;", "=")
}

/// The page's CSRF token.
fn csrf(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let end = html[start..].find('"').expect("end") + start;
    html[start..end].to_owned()
}

/// The longest run of letters and digits: what a page showing the secret would contain
/// however it escaped the rest.
fn fragment(secret: &str) -> &str {
    secret
        .split(|c: char| !c.is_ascii_alphanumeric())
        .max_by_key(|run| run.len())
        .expect("a run")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_secrets_never_reach_logs_pages_or_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log_path = dir.path().join("trace.log");
    let binary = Binary::new(dir.path(), &[("PLUGBOARD_LOG", "trace")]);
    let created = binary.run(&["operators", "create", "--email", "ops@example.com"]);
    assert!(created.status.success());
    let stdout = String::from_utf8_lossy(&created.stdout).into_owned();
    let link = stdout
        .lines()
        .find(|line| line.contains("/dashboard/welcome?token="))
        .expect("the sign-in link")
        .trim()
        .to_owned();
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let mut logs = String::from_utf8_lossy(&created.stderr).into_owned();
    assert!(
        !logs.contains(&token),
        "the CLI's log does not repeat the link"
    );
    let mut server = binary
        .serve(std::fs::File::create(&log_path).expect("log file").into())
        .await;
    let base = binary.base();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let password = format!("CANARY-PASSWORD-{}", plugboard_store::ids::new_id());
    let post = |path: String, cookie: Option<String>, form: Vec<(String, String)>| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let mut request = client
                .post(format!("{base}{path}"))
                .header(header::ORIGIN, &base)
                .form(&form);
            if let Some(cookie) = cookie {
                request = request.header(header::COOKIE, cookie);
            }
            request.send().await.expect("post")
        }
    };
    let get = |path: String, cookie: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            let response = client
                .get(format!("{base}{path}"))
                .header(header::COOKIE, cookie)
                .send()
                .await
                .expect("get");
            let headers = format!("{:?}", response.headers());
            format!("{headers} {}", response.text().await.expect("body"))
        }
    };
    let fields = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<Vec<_>>()
    };

    let welcomed = post(
        "/dashboard/welcome".into(),
        None,
        fields(&[
            ("token", &token),
            ("password", &password),
            ("confirm", &password),
        ]),
    )
    .await;
    let first_session = session(&welcomed).expect("signed in");
    let page = get(
        "/dashboard/development/api-keys".into(),
        first_session.clone(),
    )
    .await;
    let token_csrf = csrf(&page);
    post(
        "/dashboard/sign-out".into(),
        Some(first_session.clone()),
        fields(&[("csrf", &token_csrf)]),
    )
    .await;
    let signed_in = post(
        "/dashboard/sign-in".into(),
        None,
        fields(&[("email", "ops@example.com"), ("password", &password)]),
    )
    .await;
    let cookie = session(&signed_in).expect("signed in again");
    let page = get("/dashboard/development/api-keys".into(), cookie.clone()).await;
    let csrf = csrf(&page);

    let key_page = post(
        "/dashboard/development/api-keys".into(),
        Some(cookie.clone()),
        fields(&[("csrf", &csrf), ("name", "canary")]),
    )
    .await
    .text()
    .await
    .expect("html");
    let api_key = shown(&key_page, "secret");
    let receiver = crate::receiver::TestReceiver::start().await;
    let endpoint_page = post(
        "/dashboard/development/webhooks".into(),
        Some(cookie.clone()),
        fields(&[
            ("csrf", &csrf),
            ("url", &receiver.url),
            ("event", "integration-created"),
        ]),
    )
    .await
    .text()
    .await
    .expect("html");
    let webhook_secret = shown(&endpoint_page, "secret");
    let endpoint = endpoint_page
        .split("/dashboard/development/webhooks/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the endpoint's page")
        .to_owned();
    let rotated = post(
        format!("/dashboard/development/webhooks/{endpoint}/rotate"),
        Some(cookie.clone()),
        fields(&[("csrf", &csrf)]),
    )
    .await
    .text()
    .await
    .expect("html");
    let rotated_secret = shown(&rotated, "secret");
    let client_secret = format!("CANARY-CLIENT-SECRET-{}", plugboard_store::ids::new_id());
    let saved = post(
        "/dashboard/development/oauth-apps/gusto".into(),
        Some(cookie.clone()),
        fields(&[
            ("csrf", &csrf),
            ("client_id", "canary-client"),
            ("client_secret", &client_secret),
        ]),
    )
    .await;
    assert_eq!(saved.status(), 303);

    // Every page the operator can open afterwards.
    let mut pages = Vec::new();
    for environment in ["development", "production"] {
        for page in [
            "",
            "/integrations",
            "/links",
            "/webhooks",
            "/api-keys",
            "/oauth-apps",
            "/oauth-apps/gusto",
            "/settings",
            "/audit",
        ] {
            let path = format!("/dashboard/{environment}{page}");
            pages.push((path.clone(), get(path, cookie.clone()).await));
        }
    }
    let path = format!("/dashboard/development/webhooks/{endpoint}");
    pages.push((path.clone(), get(path, cookie.clone()).await));
    let _ = server.terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;
    logs.push_str(&std::fs::read_to_string(&log_path).expect("logs"));
    // TRACE turns on every level; what the dashboard does logs at DEBUG and above.
    assert!(logs.contains("DEBUG"), "the server logged verbosely");
    let mut database = Vec::new();
    for file in ["plugboard.db", "plugboard.db-wal"] {
        database.extend(std::fs::read(dir.path().join(file)).unwrap_or_default());
    }
    let first_session = first_session
        .trim_start_matches("plugboard_session=")
        .to_owned();
    let session_id = cookie.trim_start_matches("plugboard_session=").to_owned();
    for (name, secret) in [
        ("the sign-in token", token.as_str()),
        ("the password", password.as_str()),
        ("the first session", first_session.as_str()),
        ("the session", session_id.as_str()),
        ("the API key", fragment(&api_key)),
        ("the webhook secret", fragment(&webhook_secret)),
        ("the rotated webhook secret", fragment(&rotated_secret)),
        ("the OAuth client secret", client_secret.as_str()),
    ] {
        assert!(secret.len() >= 12, "{name} is a real secret: {secret}");
        assert_eq!(
            count(logs.as_bytes(), secret),
            0,
            "{name} in the TRACE logs"
        );
        assert_eq!(count(&database, secret), 0, "{name} in the database files");
        for (path, page) in &pages {
            assert_eq!(count(page.as_bytes(), secret), 0, "{name} on {path}");
        }
    }
}
