//! Operators' OAuth apps over HTTP (`/v1/oauth-apps`) and on the command line
//! (`plugboard oauth-apps`): revisions, validation, environments, what an app opens (the tool
//! list, create-link), the audit trail, and a client secret that never comes back out.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use reqwest::Method;
use serde_json::{Value, json};

use crate::{
    both_backends,
    helpers::{Backend, Reply, TestApp, spawn_app},
};

const SECRET: &str = "gusto-SECRET-canary-7c1d0b";

async fn put(app: &TestApp, key: &str, tool: &str, body: Value) -> Reply {
    app.send(
        Method::PUT,
        &format!("/v1/oauth-apps/{tool}"),
        Some(key),
        Some(body.to_string()),
    )
    .await
}

async fn delete(app: &TestApp, key: &str, tool: &str) -> Reply {
    app.send(
        Method::DELETE,
        &format!("/v1/oauth-apps/{tool}"),
        Some(key),
        None,
    )
    .await
}

fn redirect_uri(app: &TestApp) -> String {
    format!("{}/connect/oauth/callback", app.base)
}

/// An answer that must not carry the secret (successes show exactly their documented fields,
/// compared whole where they are checked).
#[track_caller]
fn no_secret(reply: &Reply) {
    assert!(!reply.text.contains(SECRET), "{}", reply.text);
}

async fn put_get_and_put_again_make_revisions(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    let saved = put(
        &app,
        &key,
        "gusto",
        json!({"client_id": "client-one", "client_secret": SECRET}),
    )
    .await;
    no_secret(&saved);
    let first = saved.data().clone();
    let id = first["id"].as_str().expect("id").to_owned();
    assert!(id.starts_with("oapp_"), "{id}");
    let created_at = first["created_at"].as_str().expect("created_at").to_owned();
    assert_eq!(
        first,
        json!({
            "id": id, "tool": "gusto", "revision": 1, "client_id": "client-one",
            "scopes": [], "custom_scopes": false, "settings": {}, "redirect_uri": redirect_uri(&app),
            "created_at": created_at,
        })
    );
    let got = app.get("/v1/oauth-apps/gusto").await;
    no_secret(&got);
    assert_eq!(got.data(), &first);

    // A second save is a new revision with its own id; the catalog's scopes were used before,
    // the app's own now.
    let second = put(
        &app,
        &key,
        "gusto",
        json!({"client_id": "client-two", "client_secret": SECRET, "scopes": ["payrolls:read"]}),
    )
    .await;
    no_secret(&second);
    let second = second.data().clone();
    assert_eq!(second["revision"], 2);
    assert_eq!(second["client_id"], "client-two");
    assert_eq!(second["scopes"], json!(["payrolls:read"]));
    assert_eq!(second["custom_scopes"], true);
    assert_ne!(second["id"], first["id"]);
    assert_eq!(app.get("/v1/oauth-apps/gusto").await.data(), &second);

    // A tool with default scopes shows them, marked as the catalog's.
    let bamboo = put(
        &app,
        &key,
        "bamboohr",
        json!({"client_id": "bamboo", "client_secret": SECRET, "scopes": null}),
    )
    .await;
    let bamboo = bamboo.data();
    assert_eq!(bamboo["custom_scopes"], false);
    assert!(
        bamboo["scopes"]
            .as_array()
            .expect("scopes")
            .contains(&json!("offline_access")),
        "{bamboo}"
    );
}

async fn the_list_shows_every_oauth_tool(backend: Backend) {
    let app = spawn_app(backend).await;
    let listed = app.get("/v1/oauth-apps").await;
    let results = listed.data()["results"]
        .as_array()
        .expect("results")
        .clone();
    let tools: Vec<&str> = results
        .iter()
        .map(|tool| tool["tool"].as_str().expect("tool"))
        .collect();
    assert!(
        tools.contains(&"gusto") && tools.contains(&"bamboohr"),
        "{tools:?}"
    );
    assert!(
        !tools.contains(&"personio"),
        "personio has no OAuth sign-in"
    );
    for tool in &results {
        assert_eq!(tool["configured"], false, "{tool}");
        assert_eq!(tool["app"], Value::Null, "{tool}");
        assert_eq!(tool["redirect_uri"], redirect_uri(&app).as_str());
        assert!(tool["label"].is_string(), "{tool}");
    }

    let saved = put(
        &app,
        &app.dev_key,
        "gusto",
        json!({"client_id": "client-one", "client_secret": SECRET}),
    )
    .await;
    let saved = saved.data().clone();
    let listed = app.get("/v1/oauth-apps").await;
    no_secret(&listed);
    let results = listed.data()["results"]
        .as_array()
        .expect("results")
        .clone();
    let gusto = results
        .iter()
        .find(|tool| tool["tool"] == "gusto")
        .expect("gusto");
    assert_eq!(
        gusto,
        &json!({"tool": "gusto", "label": "Gusto", "configured": true, "app": saved,
                "redirect_uri": redirect_uri(&app)})
    );
    assert_eq!(
        results
            .iter()
            .filter(|tool| tool["configured"] == true)
            .count(),
        1
    );
}

async fn invalid_input_names_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    let valid = || json!({"client_id": "client", "client_secret": SECRET});
    let with = |field: &str, value: Value| {
        let mut body = valid();
        body[field] = value;
        body
    };
    let cases = [
        ("gusto", with("scopes", json!(["a b"])), "scopes"),
        ("gusto", with("scopes", json!(["say \"hi\""])), "scopes"),
        ("gusto", with("scopes", json!(["back\\slash"])), "scopes"),
        ("gusto", with("scopes", json!([""])), "scopes"),
        ("gusto", with("scopes", json!("employees:read")), "scopes"),
        ("gusto", with("client_id", json!("  ")), "client_id"),
        (
            "gusto",
            with("client_id", json!("x".repeat(513))),
            "client_id",
        ),
        ("gusto", with("client_secret", json!("")), "client_secret"),
        ("gusto", json!({"client_id": "client"}), "client_secret"),
        (
            "gusto",
            with("scope", json!(["typo"])),
            "unknown field `scope`",
        ),
        ("personio", valid(), "tool"),
        ("notatool", valid(), "tool"),
    ];
    for (tool, body, field) in cases {
        let reply = put(&app, &key, tool, body.clone()).await;
        no_secret(&reply);
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(
            message.contains(field),
            "{tool} {body} → {message} should name {field}"
        );
    }
    // The tool is checked on every method.
    for tool in ["personio", "notatool"] {
        let message = app
            .get(&format!("/v1/oauth-apps/{tool}"))
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("tool"), "{message}");
        let message = delete(&app, &key, tool)
            .await
            .error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains("tool"), "{message}");
    }
    // Nothing was saved.
    assert_eq!(
        app.get("/v1/oauth-apps/gusto").await.error(404, None),
        "No OAuth app is registered for tool \"gusto\" in this environment."
    );
}

async fn delete_then_save_again_continues_the_revisions(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    let body = |client: &str| json!({"client_id": client, "client_secret": SECRET});
    put(&app, &key, "gusto", body("one")).await.data();
    put(&app, &key, "gusto", body("two")).await.data();
    assert_eq!(delete(&app, &key, "gusto").await.data(), &json!({}));
    let message = app.get("/v1/oauth-apps/gusto").await.error(404, None);
    assert!(message.contains("gusto"), "{message}");
    delete(&app, &key, "gusto").await.error(404, None);
    let third = put(&app, &key, "gusto", body("three")).await;
    assert_eq!(third.data()["revision"], 3);
    assert_eq!(third.data()["client_id"], "three");
}

async fn environments_are_isolated(backend: Backend) {
    let app = spawn_app(backend).await;
    let prod = app.prod_key.clone();
    put(
        &app,
        &prod,
        "gusto",
        json!({"client_id": "prod-client", "client_secret": SECRET}),
    )
    .await
    .data();
    assert_eq!(
        app.get_as(&prod, "/v1/oauth-apps/gusto").await.data()["client_id"],
        "prod-client"
    );
    app.get("/v1/oauth-apps/gusto").await.error(404, None);
    let listed = app.get("/v1/oauth-apps").await;
    assert!(
        listed.data()["results"]
            .as_array()
            .expect("results")
            .iter()
            .all(|tool| tool["configured"] == false),
        "{}",
        listed.text
    );
    delete(&app, &app.dev_key, "gusto").await.error(404, None);
    // Development numbers its own revisions.
    let dev = put(
        &app,
        &app.dev_key,
        "gusto",
        json!({"client_id": "dev-client", "client_secret": SECRET}),
    )
    .await;
    assert_eq!(dev.data()["revision"], 1);
    assert_eq!(
        app.get_as(&prod, "/v1/oauth-apps/gusto").await.data()["client_id"],
        "prod-client"
    );
}

/// The ids `GET /v1/tools/hris` lists for `key`.
async fn hris(app: &TestApp, key: &str) -> Vec<String> {
    let reply = app.get_as(key, "/v1/tools/hris").await;
    reply.data()["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|tool| tool["id"].as_str().expect("id").to_owned())
        .collect()
}

/// `POST /v1/connect/create-link` for Gusto with `key`.
async fn create_gusto_link(app: &TestApp, key: &str) -> Reply {
    let body = json!({
        "end_user_email": "admin@acme.example",
        "end_user_organization_name": "Acme, Inc.",
        "integration_tool": "gusto",
    });
    app.send(
        Method::POST,
        "/v1/connect/create-link",
        Some(key),
        Some(body.to_string()),
    )
    .await
}

async fn an_app_offers_its_tool(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    assert!(!hris(&app, &key).await.contains(&"gusto".to_owned()));
    let refused = create_gusto_link(&app, &key).await;
    let message = refused.error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("integration_tool"), "{message}");

    put(
        &app,
        &key,
        "gusto",
        json!({"client_id": "client", "client_secret": SECRET}),
    )
    .await
    .data();
    assert!(hris(&app, &key).await.contains(&"gusto".to_owned()));
    let link = create_gusto_link(&app, &key).await;
    assert!(link.data()["link"].is_string(), "{}", link.text);
    // Production has no app: it still does not offer Gusto.
    assert!(
        !hris(&app, &app.prod_key)
            .await
            .contains(&"gusto".to_owned())
    );
    create_gusto_link(&app, &app.prod_key)
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));

    delete(&app, &key, "gusto").await.data();
    assert!(!hris(&app, &key).await.contains(&"gusto".to_owned()));
    create_gusto_link(&app, &key)
        .await
        .error(400, Some("PLATFORM.INPUT_INVALID"));
}

async fn saves_and_removals_are_audited_without_the_secret(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    let saved = put(
        &app,
        &key,
        "gusto",
        json!({"client_id": "client", "client_secret": SECRET}),
    )
    .await;
    let id = saved.data()["id"].as_str().expect("id").to_owned();
    delete(&app, &key, "gusto").await.data();

    let trail = app.get("/v1/audit-events").await;
    no_secret(&trail);
    let entries = trail.data()["results"].as_array().expect("results").clone();
    let saved = entries
        .iter()
        .find(|entry| entry["action"] == "oauth_app.saved")
        .expect("oauth_app.saved");
    assert!(
        saved["actor"]
            .as_str()
            .is_some_and(|actor| actor.starts_with("api_key:")),
        "{saved}"
    );
    assert_eq!(saved["target"], format!("oauth_app:{id}").as_str());
    assert_eq!(saved["detail"]["tool"], "gusto");
    assert_eq!(saved["detail"]["revision"], 1);
    assert_eq!(saved["detail"]["client_id"], "client");
    let removed = entries
        .iter()
        .find(|entry| entry["action"] == "oauth_app.removed")
        .expect("oauth_app.removed");
    assert_eq!(removed["detail"]["tool"], "gusto");
    let filtered = app.get("/v1/audit-events?action=oauth_app.removed").await;
    assert_eq!(
        filtered.data()["results"]
            .as_array()
            .expect("results")
            .len(),
        1
    );
    // The other environment saw nothing.
    let prod = app.get_as(&app.prod_key, "/v1/audit-events").await;
    assert!(!prod.text.contains("oauth_app."), "{}", prod.text);
}

/// The database's bytes: the SQLite files, or a `pg_dump` of the test's schema.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    match &app.pg_schema {
        None => app
            .sqlite_files()
            .into_iter()
            .flat_map(|file| std::fs::read(file).expect("read database file"))
            .collect(),
        Some(schema) => crate::helpers::pg_dump(schema),
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

async fn the_secret_is_stored_sealed(backend: Backend) {
    let app = spawn_app(backend).await;
    let client_id = format!("client-id-{}", plugboard_store::ids::new_id());
    put(
        &app,
        &app.dev_key,
        "gusto",
        json!({"client_id": client_id, "client_secret": SECRET}),
    )
    .await
    .data();
    let bytes = database_bytes(&app);
    assert!(
        contains(&bytes, &client_id),
        "the search works: the client id is stored in clear"
    );
    assert!(
        !contains(&bytes, SECRET),
        "the client secret is stored sealed"
    );
    // And it opens to what was given.
    let environment = app.state.environments.development.clone();
    let stored = plugboard::oauth::apps::current(&app.state, &environment, "gusto")
        .await
        .expect("app");
    let opened = plugboard::oauth::apps::open_secret(&app.state, &stored).expect("opens");
    assert_eq!(opened.as_str(), SECRET);
}

async fn apps_carry_the_settings_their_tool_needs(backend: Backend) {
    let app = spawn_app(backend).await;
    let key = app.dev_key.clone();
    // Rippling's authorization URL names the operator's App Shop listing.
    let missing = put(
        &app,
        &key,
        "rippling",
        json!({"client_id": "c", "client_secret": SECRET}),
    )
    .await;
    let message = missing.error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(
        message.contains("settings") && message.contains("app_name"),
        "{message}"
    );
    for bad in [
        json!({"app_name": "evil.example/x"}),
        json!({"app_name": "acme", "other": "x"}),
    ] {
        let refused = put(
            &app,
            &key,
            "rippling",
            json!({"client_id": "c", "client_secret": SECRET, "settings": bad}),
        )
        .await;
        refused.error(400, Some("PLATFORM.INPUT_INVALID"));
    }
    let saved = put(
        &app,
        &key,
        "rippling",
        json!({"client_id": "c", "client_secret": SECRET, "settings": {"app_name": "acme-hr"}}),
    )
    .await;
    assert_eq!(saved.data()["settings"], json!({"app_name": "acme-hr"}));
    let read = app.get("/v1/oauth-apps/rippling").await;
    assert_eq!(read.data()["settings"], json!({"app_name": "acme-hr"}));
}

both_backends!(
    apps_carry_the_settings_their_tool_needs,
    put_get_and_put_again_make_revisions,
    the_list_shows_every_oauth_tool,
    invalid_input_names_its_field,
    delete_then_save_again_continues_the_revisions,
    environments_are_isolated,
    an_app_offers_its_tool,
    saves_and_removals_are_audited_without_the_secret,
    the_secret_is_stored_sealed,
);

/// `plugboard oauth-apps …` on `dir`, with `stdin` as its input.
fn cli(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plugboard"))
        .arg("oauth-apps")
        .args(args)
        .env_clear()
        .env("PLUGBOARD_DATA_DIR", dir)
        .env("PLUGBOARD_PUBLIC_URL", "https://connect.example.com")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plugboard");
    let mut input = child.stdin.take().expect("stdin");
    // A command that fails before reading may have closed its end already.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("wait for plugboard")
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn oauth_apps_cli_reads_the_secret_from_stdin() {
    let dir = tempfile::tempdir().expect("tempdir");
    let set = cli(
        dir.path(),
        &[
            "set",
            "bamboohr",
            "--environment",
            "production",
            "--client-id",
            "cli-client",
            "--scope",
            "employee",
            "--scope",
            "offline_access",
        ],
        &format!("{SECRET}\n"),
    );
    let (out, err) = text(&set);
    assert!(set.status.success(), "{err}");
    assert!(out.contains("revision 1"), "{out}");
    assert!(out.contains("employee offline_access"), "{out}");
    assert!(
        out.contains("https://connect.example.com/connect/oauth/callback"),
        "{out}"
    );
    assert!(!out.contains(SECRET) && !err.contains(SECRET), "{out}{err}");

    let again = cli(
        dir.path(),
        &[
            "set",
            "bamboohr",
            "--environment",
            "production",
            "--client-id",
            "cli-client-2",
        ],
        &format!("{SECRET}\r\n"),
    );
    let (out, err) = text(&again);
    assert!(again.status.success(), "{err}");
    assert!(out.contains("revision 2"), "{out}");
    assert!(out.contains("the catalog's defaults"), "{out}");

    let list = cli(dir.path(), &["list", "--environment", "production"], "");
    let (out, err) = text(&list);
    assert!(list.status.success(), "{err}");
    let bamboo = out
        .lines()
        .find(|line| line.starts_with("bamboohr "))
        .expect("a bamboohr row");
    assert!(bamboo.contains("cli-client-2"), "{out}");
    assert!(
        out.lines()
            .any(|line| line.starts_with("gusto ") && line.contains("(not configured)")),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
    let dev = cli(dir.path(), &["list", "--environment", "development"], "");
    assert!(!text(&dev).0.contains("cli-client"), "{}", text(&dev).0);

    // The secret reached the database sealed.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("data dir") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().contains(".db") {
            bytes.extend(std::fs::read(path).expect("read"));
        }
    }
    assert!(contains(&bytes, "cli-client-2"), "the search works");
    assert!(!contains(&bytes, SECRET));

    // Failures name the flag; no secret on stdin is refused, not saved empty.
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &[
                "set",
                "personio",
                "--environment",
                "production",
                "--client-id",
                "c",
            ],
            "x\n",
            "<tool>",
        ),
        (
            &[
                "set",
                "gusto",
                "--environment",
                "production",
                "--client-id",
                "c",
                "--scope",
                "a b",
            ],
            "x\n",
            "--scope",
        ),
        (
            &[
                "set",
                "gusto",
                "--environment",
                "production",
                "--client-id",
                " ",
            ],
            "x\n",
            "--client-id",
        ),
        (
            &[
                "set",
                "gusto",
                "--environment",
                "production",
                "--client-id",
                "c",
            ],
            "",
            "stdin",
        ),
    ];
    for (args, stdin, named) in cases {
        let failed = cli(dir.path(), args, stdin);
        let (_, err) = text(&failed);
        assert!(!failed.status.success(), "{args:?}");
        assert!(err.contains(named), "{args:?}: {err}");
    }

    let removed = cli(
        dir.path(),
        &["remove", "bamboohr", "--environment", "production"],
        "",
    );
    assert!(removed.status.success(), "{}", text(&removed).1);
    let again = cli(
        dir.path(),
        &["remove", "bamboohr", "--environment", "production"],
        "",
    );
    assert!(!again.status.success());
    assert!(
        text(&again).1.contains("No OAuth app"),
        "{}",
        text(&again).1
    );
}
