//! Every catalog tool's passthrough API, request by request: the URL the catalog builds is the
//! vendor's documented base, and a call reaches the tool (a recording fake on loopback) on the
//! right path with exactly the credentials, login and fixed headers its documentation asks
//! for. A tool that gains an API without a row here fails the test.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::{Arc, Mutex},
};

use axum::response::IntoResponse;
use base64::Engine;
use plugboard_catalog::{Auth, Catalog, Tool, fill_url};
use serde_json::{Value, json};

use crate::fake_vendor::{self, Seen};
use crate::helpers::{Backend, spawn_app_with};

/// What the caller asks for on every tool: a path with a query of its own.
const PROBE: &str = "/probe?x=1";

/// One passthrough API of one tool and what its vendor's documentation requires.
struct Row {
    tool: &'static str,
    api: &'static str,
    /// Sample values for the tool's fields.
    credentials: &'static [(&'static str, &'static str)],
    /// The API's base URL as the vendor documents it, with the sample values in place.
    documented: &'static str,
    /// How the credentials must arrive.
    auth: Expected,
    /// Headers the vendor needs on every call besides the credentials.
    fixed: &'static [(&'static str, &'static str)],
    /// The caller's `api_options` that the base URL takes (Workday's service).
    options: &'static [(&'static str, &'static str)],
}

/// How a request must present the credentials.
enum Expected {
    /// `Authorization: Basic base64(username:password)`.
    Basic(&'static str, &'static str),
    /// One header with this exact value (`Authorization: Bearer …`, `X-SmartToken: …`).
    Header(&'static str, &'static str),
    /// A query parameter appended after the caller's own.
    Query(&'static str, &'static str),
    /// A login first, then its token in `Authorization`.
    Login(Login),
}

/// A vendor's login request and what follows from its answer.
struct Login {
    /// The login URL as the vendor documents it, with the sample values in place.
    documented: &'static str,
    body: LoginBody,
    /// HTTP Basic credentials of the login, if any.
    basic: Option<(&'static str, &'static str)>,
    /// The vendor's answer, as documented: the token sits where the catalog's pointer says.
    answer: &'static str,
    /// The `Authorization` value of the calls that follow.
    authorization: &'static str,
}

/// The body of a login request.
enum LoginBody {
    Form(&'static [(&'static str, &'static str)]),
    Json(&'static str),
}

fn rows() -> Vec<Row> {
    vec![
        Row {
            tool: "ashby",
            api: "v1",
            credentials: &[("api_key", "ashby-key")],
            documented: "https://api.ashbyhq.com",
            auth: Expected::Basic("ashby-key", ""),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "bamboohr",
            api: "v1",
            credentials: &[("subdomain", "acme"), ("api_key", "bamboo-key")],
            documented: "https://api.bamboohr.com/api/gateway.php/acme/v1",
            auth: Expected::Basic("bamboo-key", "x"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "breezyhr",
            api: "v3",
            credentials: &[
                ("email", "recruiting@acme.com"),
                ("password", "breezy-password"),
            ],
            documented: "https://api.breezy.hr/v3",
            auth: Expected::Login(Login {
                documented: "https://api.breezy.hr/v3/signin",
                body: LoginBody::Json(
                    r#"{"email":"recruiting@acme.com","password":"breezy-password"}"#,
                ),
                basic: None,
                answer: r#"{"access_token":"breezy-session","user":{"_id":"u1"}}"#,
                authorization: "breezy-session",
            }),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "deel",
            api: "api",
            credentials: &[("api_token", "deel-token")],
            documented: "https://api.letsdeel.com/rest",
            auth: Expected::Header("authorization", "Bearer deel-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "employmenthero",
            api: "default",
            credentials: &[
                ("oauth:access_token", "eh-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://api.employmenthero.com/api",
            auth: Expected::Header("authorization", "Bearer eh-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "entraid",
            api: "v1",
            credentials: &[
                ("oauth:access_token", "entra-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://graph.microsoft.com/v1.0",
            auth: Expected::Header("authorization", "Bearer entra-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "googleworkspace",
            api: "admin",
            credentials: &[
                ("oauth:access_token", "google-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://admin.googleapis.com",
            auth: Expected::Header("authorization", "Bearer google-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "googleworkspace",
            api: "people",
            credentials: &[
                ("oauth:access_token", "google-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://people.googleapis.com",
            auth: Expected::Header("authorization", "Bearer google-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "gusto",
            api: "v1",
            credentials: &[
                ("oauth:access_token", "gusto-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://api.gusto.com/v1",
            auth: Expected::Header("authorization", "Bearer gusto-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "rippling",
            api: "api",
            credentials: &[
                ("oauth:access_token", "rippling-token"),
                ("oauth:app", "oapp_test"),
            ],
            documented: "https://api.rippling.com/platform/api",
            auth: Expected::Header("authorization", "Bearer rippling-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "factorial",
            api: "api",
            credentials: &[("api_key", "factorial-key")],
            documented: "https://api.factorialhr.com/api",
            auth: Expected::Header("x-api-key", "factorial-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "greenhouse",
            api: "harvestv3",
            credentials: &[("client_id", "gh-client"), ("client_secret", "gh-secret")],
            documented: "https://harvest.greenhouse.io/v3",
            auth: Expected::Login(Login {
                documented: "https://auth.greenhouse.io/token",
                body: LoginBody::Form(&[("grant_type", "client_credentials")]),
                basic: Some(("gh-client", "gh-secret")),
                answer: r#"{"access_token":"gh-access","token_type":"Bearer","expires_at":"2026-12-01T12:00:00Z"}"#,
                authorization: "Bearer gh-access",
            }),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "hibob",
            api: "v1",
            credentials: &[("service_user_id", "SERVICE-1"), ("token", "hibob-token")],
            documented: "https://api.hibob.com/v1",
            auth: Expected::Basic("SERVICE-1", "hibob-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "homerun",
            api: "v2",
            credentials: &[("api_key", "homerun-key")],
            documented: "https://api.homerun.co/v2",
            auth: Expected::Header("authorization", "Bearer homerun-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "hrworks",
            api: "v2",
            credentials: &[
                ("access_key", "hrw-access"),
                ("secret_access_key", "hrw-secret"),
            ],
            documented: "https://api.hrworks.de/v2",
            auth: Expected::Login(Login {
                documented: "https://api.hrworks.de/v2/authentication",
                body: LoginBody::Json(
                    r#"{"accessKey":"hrw-access","secretAccessKey":"hrw-secret"}"#,
                ),
                basic: None,
                answer: r#"{"token":"hrw-token"}"#,
                authorization: "Bearer hrw-token",
            }),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "humaans",
            api: "api",
            credentials: &[("api_token", "humaans-token")],
            documented: "https://app.humaans.io/api",
            auth: Expected::Header("authorization", "Bearer humaans-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "icims",
            api: "default",
            credentials: &[
                ("customer_id", "1234"),
                ("username", "icims-user"),
                ("password", "icims-password"),
            ],
            documented: "https://api.icims.com/customers/1234",
            auth: Expected::Basic("icims-user", "icims-password"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "jazzhr",
            api: "v1",
            credentials: &[("api_key", "jazz-key")],
            documented: "https://api.resumatorapi.com/v1",
            auth: Expected::Query("apikey", "jazz-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "jobvite",
            api: "api",
            credentials: &[("api_key", "jv-key"), ("api_secret", "jv-secret")],
            documented: "https://api.jobvite.com/api/v2",
            auth: Expected::Header("x-jvi-sc", "jv-secret"),
            fixed: &[("x-jvi-api", "jv-key")],
            options: &[],
        },
        Row {
            tool: "jobvite",
            api: "v2",
            credentials: &[("api_key", "jv-key"), ("api_secret", "jv-secret")],
            documented: "https://api.jobvite.com/api/v2",
            auth: Expected::Header("x-jvi-sc", "jv-secret"),
            fixed: &[("x-jvi-api", "jv-key")],
            options: &[],
        },
        Row {
            tool: "join",
            api: "v2",
            credentials: &[("api_token", "join-token")],
            documented: "https://api.join.com/v2",
            auth: Expected::Header("authorization", "join-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "lever",
            api: "v1",
            credentials: &[("api_key", "lever-key")],
            documented: "https://api.lever.co/v1",
            auth: Expected::Basic("lever-key", ""),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "lucca",
            api: "api",
            credentials: &[("host", "acme.ilucca.net"), ("api_key", "lucca-key")],
            documented: "https://acme.ilucca.net",
            auth: Expected::Header("authorization", "lucca application=lucca-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "okta",
            api: "v1",
            credentials: &[("domain", "acme.okta.com"), ("api_token", "okta-token")],
            documented: "https://acme.okta.com/api/v1",
            auth: Expected::Header("authorization", "SSWS okta-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "personio",
            api: "personnel",
            credentials: &[("client_id", "p-client"), ("client_secret", "p-secret")],
            documented: "https://api.personio.de/v1",
            auth: Expected::Login(Login {
                documented: "https://api.personio.de/v1/auth",
                body: LoginBody::Form(&[("client_id", "p-client"), ("client_secret", "p-secret")]),
                basic: None,
                answer: r#"{"success":true,"data":{"token":"p1-token"}}"#,
                authorization: "Bearer p1-token",
            }),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "personio",
            api: "personnelv2",
            credentials: &[("client_id", "p-client"), ("client_secret", "p-secret")],
            documented: "https://api.personio.de/v2",
            auth: Expected::Login(Login {
                documented: "https://api.personio.de/v2/auth/token",
                body: LoginBody::Form(&[
                    ("grant_type", "client_credentials"),
                    ("client_id", "p-client"),
                    ("client_secret", "p-secret"),
                ]),
                basic: None,
                answer: r#"{"access_token":"p2-token","token_type":"Bearer","expires_in":86400}"#,
                authorization: "Bearer p2-token",
            }),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "pinpoint",
            api: "v1",
            credentials: &[("subdomain", "acme"), ("api_key", "pinpoint-key")],
            documented: "https://acme.pinpointhq.com/api/v1",
            auth: Expected::Header("x-api-key", "pinpoint-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "recruitee",
            api: "default",
            credentials: &[("company_id", "77"), ("api_token", "recruitee-token")],
            documented: "https://api.recruitee.com/c/77",
            auth: Expected::Header("authorization", "Bearer recruitee-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "recruitee",
            api: "v1",
            credentials: &[("company_id", "77"), ("api_token", "recruitee-token")],
            documented: "https://api.recruitee.com/c/77",
            auth: Expected::Header("authorization", "Bearer recruitee-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "remotecom",
            api: "default",
            credentials: &[("api_token", "remote-token")],
            documented: "https://gateway.remote.com",
            auth: Expected::Header("authorization", "Bearer remote-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "smartrecruiters",
            api: "default",
            credentials: &[("api_key", "smart-key")],
            documented: "https://api.smartrecruiters.com",
            auth: Expected::Header("x-smarttoken", "smart-key"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "teamtailor",
            api: "v1",
            credentials: &[("api_key", "tt-key")],
            documented: "https://api.teamtailor.com/v1",
            auth: Expected::Header("authorization", "Token token=tt-key"),
            fixed: &[("x-api-version", "20240904")],
            options: &[],
        },
        Row {
            tool: "workable",
            api: "v3",
            credentials: &[("subdomain", "acme"), ("api_token", "workable-token")],
            documented: "https://acme.workable.com/spi/v3",
            auth: Expected::Header("authorization", "Bearer workable-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "workable",
            api: "v1",
            credentials: &[("subdomain", "acme"), ("api_token", "workable-token")],
            documented: "https://acme.workable.com/spi/v3",
            auth: Expected::Header("authorization", "Bearer workable-token"),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "workday",
            api: "custom-report",
            credentials: WORKDAY,
            documented: "https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme",
            auth: Expected::Login(workday_login()),
            fixed: &[],
            options: &[],
        },
        Row {
            tool: "workday",
            api: "rest",
            credentials: WORKDAY,
            documented: "https://wd2-impl-services1.workday.com/ccx/api/staffing/v6/acme",
            auth: Expected::Login(workday_login()),
            fixed: &[],
            options: &[("service_name", "staffing"), ("version", "v6")],
        },
        Row {
            tool: "workday",
            api: "soap",
            credentials: WORKDAY,
            documented: "https://wd2-impl-services1.workday.com/ccx/service/acme/Human_Resources/v44.0",
            auth: Expected::Login(workday_login()),
            fixed: &[],
            options: &[
                ("service_name", "Human_Resources"),
                ("service_version", "44.0"),
            ],
        },
    ]
}

/// Workday's sample values, shared by its three APIs.
const WORKDAY: &[(&str, &str)] = &[
    ("host", "wd2-impl-services1.workday.com"),
    ("tenant", "acme"),
    ("client_id", "wd-client"),
    ("client_secret", "wd-secret"),
    ("refresh_token", "wd-refresh"),
];

/// Workday's OAuth 2 refresh-token grant at the tenant's token endpoint, for every API.
fn workday_login() -> Login {
    Login {
        documented: "https://wd2-impl-services1.workday.com/ccx/oauth2/acme/token",
        body: LoginBody::Form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "wd-refresh"),
        ]),
        basic: Some(("wd-client", "wd-secret")),
        answer: r#"{"access_token":"wd-token","token_type":"Bearer"}"#,
        authorization: "Bearer wd-token",
    }
}

/// The sandbox has no vendor: Plugboard serves its API, checked on its own below.
const SANDBOX: (&str, &str) = ("sandbox", "v1");

/// Every tool's API, called as its vendor documents it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_api_sends_the_documented_request() {
    let catalog = Catalog::builtin().expect("the catalog");
    let rows = rows();
    let declared: BTreeSet<(String, String)> = catalog
        .tools()
        .flat_map(|tool| {
            tool.apis
                .iter()
                .map(|api| (tool.id.clone(), api.id.clone()))
        })
        .collect();
    let covered: BTreeSet<(String, String)> = rows
        .iter()
        .map(|row| (row.tool, row.api))
        .chain([SANDBOX])
        .map(|(tool, api)| (tool.to_owned(), api.to_owned()))
        .collect();
    assert_eq!(
        covered, declared,
        "every catalog API has exactly one row here"
    );

    // The vendor answers a login with the current row's documented answer, anything else with
    // a fixed body.
    let login: Arc<Mutex<Option<(String, Value)>>> = Arc::default();
    let current = login.clone();
    let (vendor_url, seen) = fake_vendor::recording(move |seen| {
        let path = seen.uri.split('?').next().unwrap_or_default();
        match &*current.lock().expect("lock") {
            Some((login_path, answer)) if seen.method == "POST" && path == login_path => {
                axum::Json(answer.clone()).into_response()
            }
            _ => axum::Json(json!({"ok": true})).into_response(),
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        for row in &rows {
            let tool = catalog.get(row.tool).expect("a catalog tool");
            let api = tool.api(row.api).expect("a catalog API");
            let tool_base = tool.base_url.as_deref().expect("a base URL");
            config.tool_base_urls.insert(
                row.tool.into(),
                format!("{vendor_url}{}", path_of(tool_base)),
            );
            if !api.is_relative() {
                config.tool_base_urls.insert(
                    format!("{}/{}", row.tool, row.api),
                    format!("{vendor_url}{}", path_of(&api.base_url)),
                );
            }
        }
    })
    .await;

    // Signed-in tools are offered where the operator registered an OAuth app; their rows
    // hold a signed-in integration's tokens (without an expiry: used as they are).
    let development = app
        .state
        .environments
        .get(plugboard_store::EnvironmentName::Development);
    for tool in catalog
        .tools()
        .filter(|tool| tool.auth == plugboard_catalog::AuthKind::Oauth2)
    {
        let settings = tool
            .oauth
            .iter()
            .flat_map(|oauth| oauth.app_settings.keys());
        let input = plugboard::oauth::apps::AppInput {
            client_id: "client".into(),
            client_secret: "secret".to_owned().into(),
            scopes: None,
            settings: settings.map(|name| (name.clone(), "acme".into())).collect(),
        };
        plugboard::oauth::apps::save(
            &app.state,
            development,
            &tool.id,
            input,
            &plugboard::audit::Caller::cli(),
        )
        .await
        .expect("an OAuth app");
    }
    for row in &rows {
        let what = format!("{}/{}", row.tool, row.api);
        let tool = catalog.get(row.tool).expect("a catalog tool");
        let values: BTreeMap<&str, &str> =
            row.credentials.iter().chain(row.options).copied().collect();
        let options: BTreeMap<&str, &str> = row.options.iter().copied().collect();
        let api = tool.api(row.api).expect("a catalog API");
        assert_eq!(
            catalog_url(tool, &api.base_url, &values),
            row.documented,
            "{what}: the catalog's URL is not the documented base"
        );
        let login_path = match &row.auth {
            Expected::Login(expected) => {
                let Auth::Token(exchange) = &api.auth else {
                    panic!(
                        "{what}: a token login is documented, the catalog has {:?}",
                        api.auth
                    )
                };
                assert_eq!(
                    catalog_url(tool, &exchange.url, &values),
                    expected.documented,
                    "{what}: the catalog's login URL is not the documented one"
                );
                Some((
                    path_of(expected.documented).to_owned(),
                    serde_json::from_str(expected.answer).expect("a JSON answer"),
                ))
            }
            _ => None,
        };
        *login.lock().expect("lock") = login_path;

        let id = app.connect_tool(row.tool, row.credentials).await;
        seen.lock().expect("lock").clear();
        let reply = app
            .passthrough(
                &what,
                &id,
                json!({"method": "GET", "path": PROBE, "api_options": options}),
            )
            .await;
        assert_eq!(reply.status, 200, "{what}: {}", reply.text);
        assert_eq!(reply.json["data"]["status"], 200, "{what}: {}", reply.text);
        let mut requests = std::mem::take(&mut *seen.lock().expect("lock"));
        let expected_uri = match &row.auth {
            Expected::Query(name, value) => {
                format!("{}{PROBE}&{name}={value}", path_of(row.documented))
            }
            _ => format!("{}{PROBE}", path_of(row.documented)),
        };
        let get = requests.pop().expect("the call");
        assert_eq!(
            (get.method.as_str(), get.uri.as_str()),
            ("GET", expected_uri.as_str()),
            "{what}"
        );
        if let Expected::Login(expected) = &row.auth {
            assert_eq!(requests.len(), 1, "{what}: one login before the call");
            check_login(&what, &requests[0], expected);
        } else {
            assert!(requests.is_empty(), "{what}: no login: {requests:?}");
        }
        check_credentials(&what, &get, row);

        // A POST keeps the caller's JSON content type and body, with the same credentials.
        let body = json!({"first_name": "Mary"});
        let reply = app.passthrough(&what,
            &id,
            json!({"method": "POST", "path": PROBE, "headers": {"Content-Type": "application/json"}, "data": body.clone(), "api_options": options}),
        )
        .await;
        assert_eq!(reply.json["data"]["status"], 200, "{what}: {}", reply.text);
        let requests = std::mem::take(&mut *seen.lock().expect("lock"));
        let [post] = &requests[..] else {
            panic!("{what}: one request, the token reused: {requests:?}")
        };
        assert_eq!(
            (post.method.as_str(), post.uri.as_str()),
            ("POST", expected_uri.as_str()),
            "{what}"
        );
        assert_eq!(
            post.headers.get("content-type").map(|v| v.as_bytes()),
            Some(&b"application/json"[..]),
            "{what}: the caller's content type"
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&post.body).ok(),
            Some(body),
            "{what}: the caller's body"
        );
        check_credentials(&what, post, row);
    }

    // The sandbox: Plugboard's own API under its public URL, with the key as a Bearer token
    // (it refuses anything else).
    let sandbox = catalog.get(SANDBOX.0).expect("the sandbox");
    assert_eq!(
        sandbox.api(SANDBOX.1).map(|api| api.base_url.as_str()),
        Some("/sandbox/v1")
    );
    let id = app
        .connect_tool(SANDBOX.0, &[("api_key", "sandbox-key")])
        .await;
    let reply = app.passthrough("sandbox/v1",
        &id,
        json!({"method": "POST", "path": "/echo?x=1", "headers": {"Content-Type": "application/json"}, "data": {"a": 1}}),
    )
    .await;
    let data = &reply.json["data"];
    assert_eq!(data["status"], 200, "sandbox/v1: {}", reply.text);
    assert_eq!(data["url"], format!("{}/sandbox/v1/echo?x=1", app.base));
    assert_eq!(data["data"]["content_type"], "application/json");
    assert_eq!(data["data"]["body"], json!({"a": 1}));
}

/// The login request: method, documented path, body, Basic credentials, nothing else.
fn check_login(what: &str, seen: &Seen, expected: &Login) {
    assert_eq!(
        (seen.method.as_str(), seen.uri.as_str()),
        ("POST", path_of(expected.documented)),
        "{what}: the login"
    );
    let content_type = seen
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    match expected.body {
        LoginBody::Form(pairs) => {
            assert_eq!(
                content_type, "application/x-www-form-urlencoded",
                "{what}: login"
            );
            let sent: BTreeSet<(String, String)> = url::form_urlencoded::parse(&seen.body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let wanted: BTreeSet<(String, String)> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            assert_eq!(sent, wanted, "{what}: the login form");
        }
        LoginBody::Json(text) => {
            assert_eq!(content_type, "application/json", "{what}: login");
            assert_eq!(
                serde_json::from_slice::<Value>(&seen.body).ok(),
                serde_json::from_str::<Value>(text).ok(),
                "{what}: the login body"
            );
        }
    }
    assert_eq!(
        header(seen, "authorization"),
        expected.basic.map(|(user, password)| basic(user, password)),
        "{what}: the login's Basic credentials"
    );
}

/// The credentials and fixed headers of a call, and no other credential header.
fn check_credentials(what: &str, seen: &Seen, row: &Row) {
    let authorization = match &row.auth {
        Expected::Basic(user, password) => Some(basic(user, password)),
        Expected::Header("authorization", value) => Some((*value).to_owned()),
        Expected::Header(name, value) => {
            assert_eq!(
                header(seen, name).as_deref(),
                Some(*value),
                "{what}: {name}"
            );
            None
        }
        Expected::Query(..) => None,
        Expected::Login(login) => Some(login.authorization.to_owned()),
    };
    assert_eq!(header(seen, "authorization"), authorization, "{what}");
    for (name, value) in row.fixed {
        assert_eq!(
            header(seen, name).as_deref(),
            Some(*value),
            "{what}: {name}"
        );
    }
}

fn header(seen: &Seen, name: &str) -> Option<String> {
    let mut values = seen.headers.get_all(name).iter();
    let first = values.next()?.to_str().expect("ASCII").to_owned();
    assert!(values.next().is_none(), "{name} sent twice");
    Some(first)
}

fn basic(user: &str, password: &str) -> String {
    let pair = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {pair}")
}

/// The URL the catalog builds for `template` (an API base or a login URL) without overrides,
/// as passthrough joins it, with any trailing `/` of a `/` base dropped.
fn catalog_url(tool: &Tool, template: &str, values: &BTreeMap<&str, &str>) -> String {
    let whole = match template.strip_prefix('/') {
        Some(rest) => format!(
            "{}/{rest}",
            tool.base_url
                .as_deref()
                .expect("a base URL")
                .trim_end_matches('/')
        ),
        None => template.to_owned(),
    };
    let url = fill_url(&whole, &tool.fields, |name| values.get(name).copied())
        .unwrap_or_else(|error| panic!("{}: {whole}: {error}", tool.id));
    url.as_str().trim_end_matches('/').to_owned()
}

/// The path of an `https://host/path` URL or template (placeholders kept), without the host.
fn path_of(url: &str) -> &str {
    let rest = url.strip_prefix("https://").expect("an https URL");
    rest.find('/').map_or("", |start| &rest[start..])
}
