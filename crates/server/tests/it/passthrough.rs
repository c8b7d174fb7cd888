//! Passthrough (`POST /v1/passthrough/{tool}/{api}`) through the real server: the sandbox's own
//! API end to end, each auth scheme against a fake vendor on loopback (the catalog override),
//! the path guard, limits, retries, the request log, and credentials that never show.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, http::StatusCode, response::IntoResponse};
use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};

use crate::fake_vendor;
use crate::{
    both_backends,
    helpers::{Backend, TestApp, encode, spawn_app, spawn_app_with},
};

/// A server whose BambooHR is the fake vendor at `vendor_url` (as `configure` further sets
/// it up), with one connected BambooHR integration; returns the server and the integration id.
async fn with_bamboohr(
    backend: Backend,
    vendor_url: &str,
    configure: impl FnOnce(&mut plugboard::config::Config),
) -> (TestApp, String) {
    let app = spawn_app_with(backend, |config| {
        config
            .tool_base_urls
            .insert("bamboohr".into(), format!("{vendor_url}/{{subdomain}}"));
        configure(config);
    })
    .await;
    let id = app
        .connect_tool("bamboohr", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    (app, id)
}

/// The integration's request log, after everything queued is written.
async fn request_log(app: &TestApp, integration: &str) -> Vec<Value> {
    app.state.passthrough.log.flush().await;
    app.every_page(
        &format!("/v1/integrations/{}/requests", encode(integration)),
        100,
    )
    .await
}

/// The README's loop: connect the sandbox, then read its employees through passthrough, as
/// Kombo's SDKs send it; the call is logged without its secret.
async fn the_sandbox_is_read_through_passthrough(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app
        .connect_tool("sandbox", &[("api_key", "canary-sandbox-key-0001")])
        .await;
    let reply = app
        .passthrough(
            "sandbox/v1",
            &id,
            json!({"method": "GET", "path": "/employees"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["status"], "success");
    assert_eq!(reply.json["warnings"], json!([]));
    let data = &reply.json["data"];
    assert_eq!(data["status"], 200);
    assert_eq!(data["url"], format!("{}/sandbox/v1/employees", app.base));
    assert_eq!(data["headers"]["content-type"], "application/json");
    assert_eq!(data["data"]["data"].as_array().map(Vec::len), Some(5));
    assert_eq!(data["data"]["data"][0]["first_name"], "Ada");
    assert_eq!(reply.headers["concurrency-limit"], "30");
    assert_eq!(reply.headers["concurrency-remaining"], "29");

    // The tool's 404 is an answer, not Plugboard's error.
    let missing = app
        .passthrough(
            "sandbox/v1",
            &id,
            json!({"method": "GET", "path": "/employees/99"}),
        )
        .await;
    assert_eq!(missing.status, 200);
    assert_eq!(missing.json["data"]["status"], 404);

    // A binary document, base64-encoded on request.
    let pdf = app
        .passthrough(
            "sandbox/v1",
            &id,
            json!({"method": "GET", "path": "/documents/1", "response_as_base64": true}),
        )
        .await;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(pdf.json["data"]["data"].as_str().expect("base64"))
        .expect("valid base64");
    assert!(bytes.starts_with(b"%PDF-"), "{:?}", &bytes[..8]);

    // JSON, a raw string (SOAP) and multipart bodies, echoed back.
    let posted = app.passthrough("sandbox/v1",
        &id,
        json!({"method": "POST", "path": "/echo", "params": {"dry_run": "1"}, "data": {"first_name": "Mary"}}),
    )
    .await;
    let echo = &posted.json["data"]["data"];
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["query"], "dry_run=1");
    assert_eq!(echo["content_type"], "application/json");
    assert_eq!(echo["body"], json!({"first_name": "Mary"}));
    let soap = "<soap:Envelope><soap:Body/></soap:Envelope>";
    let posted = app.passthrough("sandbox/v1",
        &id,
        json!({"method": "POST", "path": "/echo", "headers": {"Content-Type": "text/xml"}, "data": soap}),
    )
    .await;
    assert_eq!(posted.json["data"]["data"]["content_type"], "text/xml");
    assert_eq!(posted.json["data"]["data"]["body"], soap);
    let posted = app.passthrough("sandbox/v1",
        &id,
        json!({"method": "POST", "path": "/echo", "multipart_form_data": [
            {"name": "title", "value": "Contract"},
            {"name": "file", "value": {"name": "c.txt", "content_type": "text/plain", "data": "aGVsbG8="}},
        ]}),
    )
    .await;
    let echoed = &posted.json["data"]["data"];
    assert!(
        echoed["content_type"]
            .as_str()
            .is_some_and(|t| t.starts_with("multipart/form-data; boundary=")),
        "{echoed}"
    );
    let body = echoed["body"].as_str().expect("text");
    assert!(
        body.contains("name=\"title\"") && body.contains("Contract"),
        "{body}"
    );
    assert!(
        body.contains("filename=\"c.txt\"") && body.contains("hello"),
        "{body}"
    );

    let log = request_log(&app, &id).await;
    assert_eq!(log.len(), 6, "{log:?}");
    let last = &log[log.len() - 1];
    assert_eq!(last["path"], "/employees");
    assert_eq!(last["method"], "GET");
    assert_eq!(last["api"], "v1");
    assert_eq!(last["remote_status"], 200);
    assert_eq!(last["attempts"], 1);
    assert_eq!(log[0]["path"], "/echo", "newest first");
    let everything = format!("{log:?}{}", app.metrics().await.text);
    assert!(
        !everything.contains("canary-sandbox-key"),
        "the key leaked: {everything}"
    );
    assert!(
        everything
            .contains("plugboard_passthrough_requests_total{tool=\"sandbox\",outcome=\"2xx\"}")
    );

    // One entry by its id, and filters.
    let one = app
        .get(&format!(
            "/v1/integrations/{}/requests/{}",
            encode(&id),
            last["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(one.data()["path"], "/employees");
    let failed_only = app
        .get(&format!(
            "/v1/integrations/{}/requests?status_class=client_error",
            encode(&id)
        ))
        .await;
    assert_eq!(
        failed_only.data()["results"].as_array().map(Vec::len),
        Some(1)
    );
}

/// Plugboard's own errors are the compat envelope with Kombo's PLATFORM codes only.
async fn errors_use_kombos_codes(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connect_tool("sandbox", &[("api_key", "k")]).await;
    let get = json!({"method": "GET", "path": "/employees"});

    let unknown = app
        .passthrough(
            "sandbox/v1",
            "sandbox:111111111111111111111111",
            get.clone(),
        )
        .await;
    unknown.error(404, Some("PLATFORM.INTEGRATION_NOT_FOUND"));
    let no_header = app
        .send(
            Method::POST,
            "/v1/passthrough/sandbox/v1",
            Some(&app.dev_key),
            Some(get.to_string()),
        )
        .await;
    assert!(
        no_header
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("X-Integration-Id")
    );
    let wrong_tool = app
        .passthrough("personio/personnel", &id, get.clone())
        .await;
    assert!(
        wrong_tool
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("not personio")
    );
    let unknown_api = app.passthrough("sandbox/v2", &id, get.clone()).await;
    assert!(
        unknown_api
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("its APIs are: v1")
    );
    let bad_method = app
        .passthrough("sandbox/v1", &id, json!({"method": "TRACE", "path": "/"}))
        .await;
    assert!(
        bad_method
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("method")
    );
    let other_env = reqwest::Client::new()
        .post(format!("{}/v1/passthrough/sandbox/v1", app.base))
        .bearer_auth(&app.prod_key)
        .header("x-integration-id", &id)
        .json(&get)
        .send()
        .await
        .expect("request");
    assert_eq!(
        other_env.status(),
        404,
        "a development integration is not production's"
    );

    app.set_integration_enabled(&id, false).await;
    let disabled = app.passthrough("sandbox/v1", &id, get.clone()).await;
    let message = disabled.error(400, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("disabled"), "{message}");
    let log_url = disabled.json["error"]["log_url"]
        .as_str()
        .expect("a log_url");
    let entry = app.get(log_url.trim_start_matches(&app.base)).await;
    assert_eq!(entry.data()["error"], "disabled");
}

/// Every escape from the API's base URL is refused before any request, each with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_and_headers_cannot_leave_the_api() {
    let (vendor_url, seen) = fake_vendor::recording(|_| fake_vendor::ok_json(json!({}))).await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.tool_base_urls.insert(
            "bamboohr".into(),
            format!("{vendor_url}/gateway/{{subdomain}}"),
        );
    })
    .await;
    let id = app
        .connect_tool("bamboohr", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    for (path, reason) in [
        ("https://evil.example/x", "relative"),
        ("//evil.example/x", "relative"),
        ("/../../admin", ". or .."),
        ("/%2e%2e/admin", ". or .."),
        ("/%252e%252e/admin", ". or .."),
        ("/.%2E/admin", ". or .."),
        ("/%EF%BC%8E%EF%BC%8E/admin", ". or .."),
        ("/..;x/admin", ". or .."),
        ("/%2e%2e;jsessionid=1/admin", ". or .."),
        ("/a\\..\\admin", "backslashes"),
        ("/a%5c..%5cadmin", "backslashes"),
        ("/x@evil.example", "@"),
        ("/x\r\nHost: evil.example", "control"),
        ("/x%0d%0aHost:%20evil.example", "control"),
        ("/．．/admin", "ASCII"),
        ("/x#fragment", "fragment"),
    ] {
        let reply = app
            .passthrough("bamboohr/v1", &id, json!({"method": "GET", "path": path}))
            .await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(reason), "{path:?}: {message}");
    }
    for headers in [
        json!({"X-A": "1\r\nHost: evil.example"}),
        json!({"X-A": "1\nAuthorization: Bearer x"}),
        json!({"X-A\r\nHost": "1"}),
    ] {
        let reply = app
            .passthrough(
                "bamboohr/v1",
                &id,
                json!({"method": "GET", "path": "/x", "headers": headers}),
            )
            .await;
        reply.error(400, Some("PLATFORM.INPUT_INVALID"));
    }
    assert!(
        seen.lock().expect("lock").is_empty(),
        "nothing reached the vendor"
    );

    // Host and Authorization overrides are dropped, with a warning, not sent.
    let reply = app.passthrough("bamboohr/v1",
        &id,
        json!({"method": "GET", "path": "/employees/directory", "headers": {"Authorization": "Bearer mine", "Host": "evil.example", "Connection": "close", "X-Trace": "t1"}}),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(
        reply.json["warnings"].as_array().map(Vec::len),
        Some(3),
        "{}",
        reply.text
    );
    let seen = seen.lock().expect("lock").pop().expect("a request");
    assert_eq!(seen.uri, "/gateway/acme/v1/employees/directory");
    assert_eq!(
        seen.headers["authorization"], "Basic azp4",
        "base64(k:x), Plugboard's"
    );
    assert_eq!(seen.headers["x-trace"], "t1");
    assert!(
        seen.headers["host"]
            .to_str()
            .expect("host")
            .starts_with("127.0.0.1:")
    );
}

/// A tool, its credentials, its passthrough API and the auth scheme it uses.
type SchemeCase = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

/// Each auth scheme of the catalog presents the credentials as the vendor documents.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_auth_scheme_presents_the_credentials() {
    let (vendor_url, seen) = fake_vendor::recording(|seen| {
        if seen.uri.starts_with("/v1/auth") {
            fake_vendor::ok_json(
                json!({"success": true, "data": {"token": "personio-access-token"}}),
            )
        } else {
            fake_vendor::ok_json(json!({"ok": true}))
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        for (tool, base) in [
            ("bamboohr", format!("{vendor_url}/gw/{{subdomain}}")),
            ("recruitee", format!("{vendor_url}/c/{{company_id}}")),
            ("pinpoint", vendor_url.clone()),
            ("jazzhr", vendor_url.clone()),
            ("personio", vendor_url.clone()),
        ] {
            config.tool_base_urls.insert(tool.into(), base);
        }
    })
    .await;
    let cases: [SchemeCase; 5] = [
        (
            "bamboohr",
            &[("subdomain", "acme"), ("api_key", "bamboo-key")],
            "bamboohr/v1",
            "basic",
        ),
        (
            "recruitee",
            &[("company_id", "77"), ("api_token", "recruitee-token")],
            "recruitee/v1",
            "bearer",
        ),
        (
            "pinpoint",
            &[("subdomain", "acme"), ("api_key", "pinpoint-key")],
            "pinpoint/v1",
            "header",
        ),
        ("jazzhr", &[("api_key", "jazz-key")], "jazzhr/v1", "query"),
        (
            "personio",
            &[("client_id", "cid"), ("client_secret", "csecret")],
            "personio/personnel",
            "token",
        ),
    ];
    for (tool, credentials, api, scheme) in cases {
        let id = app.connect_tool(tool, credentials).await;
        seen.lock().expect("lock").clear();
        let reply = app
            .passthrough(
                api,
                &id,
                json!({"method": "GET", "path": "/things?limit=1"}),
            )
            .await;
        assert_eq!(reply.status, 200, "{tool}: {}", reply.text);
        assert_eq!(reply.json["data"]["data"], json!({"ok": true}), "{tool}");
        let requests = seen.lock().expect("lock").clone();
        let last = requests.last().expect("a request");
        assert!(last.uri.contains("/things?limit=1"), "{tool}: {}", last.uri);
        let auth = last
            .headers
            .get("authorization")
            .map(|v| v.to_str().expect("ascii").to_owned());
        match scheme {
            "basic" => {
                let expected = base64::engine::general_purpose::STANDARD.encode("bamboo-key:x");
                assert_eq!(auth, Some(format!("Basic {expected}")));
            }
            "bearer" => assert_eq!(auth.as_deref(), Some("Bearer recruitee-token")),
            "header" => assert_eq!(last.headers["x-api-key"], "pinpoint-key"),
            "query" => {
                assert!(last.uri.contains("apikey=jazz-key"), "{}", last.uri);
                let shown = reply.json["data"]["url"].as_str().expect("url");
                assert!(
                    !shown.contains("jazz-key") && shown.contains("%5Bredacted%5D"),
                    "{shown}"
                );
                // The caller cannot set the credential's parameter, in the path or in params.
                let mine = app
                    .passthrough(
                        api,
                        &id,
                        json!({"method": "GET", "path": "/jobs?apikey=mine&page=2", "params": {"apikey": "also-mine"}}),
                    )
                    .await;
                let sent = seen
                    .lock()
                    .expect("lock")
                    .last()
                    .expect("a request")
                    .uri
                    .clone();
                assert_eq!(sent, "/jobs?page=2&apikey=jazz-key", "{}", mine.text);
                let warning = mine.json["warnings"][0]["message"]
                    .as_str()
                    .unwrap_or_default();
                assert!(warning.contains("apikey was not sent"), "{warning}");
            }
            "token" => {
                assert_eq!(requests.len(), 2, "a login, then the call");
                let login = &requests[0];
                assert_eq!(
                    (login.method.as_str(), login.uri.as_str()),
                    ("POST", "/v1/auth")
                );
                let form = String::from_utf8_lossy(&login.body);
                assert!(
                    form.contains("client_id=cid") && form.contains("client_secret=csecret"),
                    "{form}"
                );
                assert_eq!(auth.as_deref(), Some("Bearer personio-access-token"));
                // The token is reused.
                app.passthrough(api, &id, json!({"method": "GET", "path": "/again"}))
                    .await;
                assert_eq!(seen.lock().expect("lock").len(), 3, "no second login");
            }
            _ => unreachable!(),
        }
        let log = format!("{:?}", request_log(&app, &id).await);
        for (_, secret) in credentials
            .iter()
            .filter(|(k, _)| k.contains("key") || k.contains("token") || k.contains("secret"))
        {
            assert!(!log.contains(secret), "{tool}: {log}");
            assert!(!reply.text.contains(secret), "{tool}: {}", reply.text);
        }
    }
}

/// A token the tool stops accepting (401) is renewed once, and the call succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_renewed_once() {
    let logins = Arc::new(Mutex::new(0));
    let counter = logins.clone();
    let (vendor_url, _) = fake_vendor::recording(move |seen| {
        if seen.uri.starts_with("/v1/auth") {
            let mut n = counter.lock().expect("lock");
            *n += 1;
            return fake_vendor::ok_json(json!({"data": {"token": format!("token-{n}")}}));
        }
        match seen
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        {
            Some("Bearer token-2") => fake_vendor::ok_json(json!({"ok": true})),
            _ => StatusCode::UNAUTHORIZED.into_response(),
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config
            .tool_base_urls
            .insert("personio".into(), vendor_url.clone());
    })
    .await;
    let id = app
        .connect_tool("personio", &[("client_id", "c"), ("client_secret", "s")])
        .await;
    let reply = app
        .passthrough(
            "personio/personnel",
            &id,
            json!({"method": "GET", "path": "/company/employees"}),
        )
        .await;
    assert_eq!(reply.json["data"]["status"], 200, "{}", reply.text);
    assert_eq!(*logins.lock().expect("lock"), 2);
    let log = request_log(&app, &id).await;
    assert_eq!(log[0]["attempts"], 2);
}

/// More calls in flight than the limit get Kombo's concurrency error with its headers.
async fn the_concurrency_limit_is_kept(backend: Backend) {
    let release = Arc::new(tokio::sync::Notify::new());
    let gate = release.clone();
    // A slow vendor: its handler waits for the release.
    let slow = Router::new().fallback(move || {
        let gate = gate.clone();
        async move {
            gate.notified().await;
            axum::Json(json!({"done": true}))
        }
    });
    let slow_url = fake_vendor::serve(slow).await;
    let app = spawn_app_with(backend, |config| {
        config.passthrough.concurrency = 2;
        config
            .tool_base_urls
            .insert("bamboohr".into(), format!("{slow_url}/{{subdomain}}"));
    })
    .await;
    let id = app
        .connect_tool("bamboohr", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    let app = Arc::new(app);
    let mut held = Vec::new();
    for _ in 0..2 {
        let (app, id) = (app.clone(), id.clone());
        held.push(tokio::spawn(async move {
            app.passthrough(
                "bamboohr/v1",
                &id,
                json!({"method": "GET", "path": "/slow"}),
            )
            .await
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "GET", "path": "/slow"}),
        )
        .await;
    refused.error(429, Some("PLATFORM.CONCURRENCY_LIMIT_EXCEEDED"));
    assert_eq!(refused.headers["concurrency-limit"], "2");
    assert_eq!(refused.headers["concurrency-remaining"], "0");
    release.notify_waiters();
    for call in held {
        let reply = call.await.expect("joined");
        assert_eq!(
            reply.json["data"]["data"],
            json!({"done": true}),
            "{}",
            reply.text
        );
    }
    let log = request_log(&app, &id).await;
    assert!(
        log.iter()
            .any(|entry| entry["error"] == "concurrency_limit"),
        "{log:?}"
    );
}

/// Timeouts, oversized answers and unreachable tools are errors with their classes logged.
async fn limits_and_failures_are_clear_errors(backend: Backend) {
    let (vendor_url, _) = fake_vendor::recording(|seen| {
        if seen.uri.contains("/big") {
            ("x".repeat(10_000)).into_response()
        } else {
            fake_vendor::ok_json(json!({}))
        }
    })
    .await;
    let sleepy = Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    });
    let sleepy_url = fake_vendor::serve(sleepy).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed_url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let app = spawn_app_with(backend, |config| {
        config.passthrough.timeout = Duration::from_secs(1);
        config.passthrough.max_response_body = 4096;
        config
            .tool_base_urls
            .insert("bamboohr".into(), format!("{vendor_url}/{{subdomain}}"));
        config
            .tool_base_urls
            .insert("recruitee".into(), format!("{sleepy_url}/{{company_id}}"));
        config
            .tool_base_urls
            .insert("pinpoint".into(), closed_url.clone());
    })
    .await;
    let bamboo = app
        .connect_tool("bamboohr", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    let big = app
        .passthrough(
            "bamboohr/v1",
            &bamboo,
            json!({"method": "GET", "path": "/big"}),
        )
        .await;
    assert!(
        big.error(502, Some("PLATFORM.UNKNOWN_ERROR"))
            .contains("larger than 4096 bytes")
    );
    let recruitee = app
        .connect_tool("recruitee", &[("company_id", "1"), ("api_token", "t")])
        .await;
    let late = app
        .passthrough(
            "recruitee/v1",
            &recruitee,
            json!({"method": "GET", "path": "/late"}),
        )
        .await;
    late.error(504, Some("PLATFORM.TASK_TIMED_OUT"));
    let pinpoint = app
        .connect_tool("pinpoint", &[("subdomain", "acme"), ("api_key", "k")])
        .await;
    let refused = app
        .passthrough(
            "pinpoint/v1",
            &pinpoint,
            json!({"method": "GET", "path": "/x"}),
        )
        .await;
    assert!(
        refused
            .error(502, Some("PLATFORM.UNKNOWN_ERROR"))
            .contains("could not be reached")
    );
    let classes: BTreeMap<&str, String> = [
        ("big", &bamboo),
        ("late", &recruitee),
        ("refused", &pinpoint),
    ]
    .into_iter()
    .map(|(name, id)| (name, id.clone()))
    .collect();
    for (name, id) in classes {
        let log = request_log(&app, &id).await;
        let expected = match name {
            "big" => "response_too_large",
            "late" => "timeout",
            _ => "refused",
        };
        assert_eq!(log[0]["error"], expected, "{name}: {log:?}");
    }
}

/// Opt-in retries wait as `Retry-After` says, for idempotent methods only.
async fn retries_are_opt_in_and_idempotent_only(backend: Backend) {
    let count = Arc::new(Mutex::new(0));
    let counter = count.clone();
    let (vendor_url, _) = fake_vendor::recording(move |_| {
        let mut n = counter.lock().expect("lock");
        *n += 1;
        if *n % 2 == 1 {
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                "slow down",
            )
                .into_response()
        } else {
            fake_vendor::ok_json(json!({"ok": true}))
        }
    })
    .await;
    let (app, id) = with_bamboohr(backend, &vendor_url, |_| {}).await;
    let plain = app
        .passthrough("bamboohr/v1", &id, json!({"method": "GET", "path": "/x"}))
        .await;
    assert_eq!(plain.json["data"]["status"], 429, "no retry unless asked");
    // Realigns the vendor's alternation: this call gets its 200.
    app.passthrough("bamboohr/v1", &id, json!({"method": "GET", "path": "/x"}))
        .await;
    let again = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "GET", "path": "/x", "api_options": {"retries": "2"}}),
        )
        .await;
    assert_eq!(again.json["data"]["status"], 200, "{}", again.text);
    assert!(
        again.json["warnings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("asked 2 times")),
        "{}",
        again.text
    );
    let post = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "POST", "path": "/x", "api_options": {"retries": "2"}}),
        )
        .await;
    assert_eq!(post.json["data"]["status"], 429, "a POST is never repeated");
    let bad = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "GET", "path": "/x", "api_options": {"retries": "9"}}),
        )
        .await;
    bad.error(400, Some("PLATFORM.INPUT_INVALID"));
}

/// A `Retry-After` longer than the retry budget ends the retries at once: the tool's answer
/// comes back with a warning, not after a long wait.
async fn the_retry_budget_bounds_the_wait(backend: Backend) {
    let (vendor_url, seen) = fake_vendor::recording(|_| {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "3600")],
            "down for maintenance",
        )
            .into_response()
    })
    .await;
    let (app, id) = with_bamboohr(backend, &vendor_url, |config| {
        config.passthrough.retry_budget = Duration::from_secs(2);
    })
    .await;
    let started = std::time::Instant::now();
    let reply = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "GET", "path": "/x", "api_options": {"retries": "5"}}),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(2), "no waiting");
    assert_eq!(reply.json["data"]["status"], 503, "{}", reply.text);
    let warning = reply.json["warnings"][0]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(warning.contains("retry budget"), "{warning}");
    assert_eq!(seen.lock().expect("lock").len(), 1, "asked once");
}

/// Requests over the size limit are refused whole; a multipart file cannot be fetched from a
/// non-public address; an API key over its own rate is not passed on.
async fn request_limits_and_fetched_files(backend: Backend) {
    let (vendor_url, seen) = fake_vendor::recording(|_| fake_vendor::ok_json(json!({}))).await;
    let (app, id) = with_bamboohr(backend, &vendor_url, |config| {
        config.passthrough.max_request_body = 64 * 1024;
    })
    .await;
    let big = "x".repeat(100 * 1024);
    let reply = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "POST", "path": "/x", "data": big}),
        )
        .await;
    let message = reply.error(413, Some("PLATFORM.INPUT_INVALID"));
    assert!(message.contains("65536 bytes"), "{message}");
    for (url, expected) in [
        (format!("{vendor_url}/file.pdf"), "non-public"),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            "non-public",
        ),
        ("file:///etc/passwd".to_owned(), "http(s) URL"),
    ] {
        let reply = app
            .passthrough(
                "bamboohr/v1",
                &id,
                json!({"method": "POST", "path": "/files", "multipart_form_data": [
                    {"name": "file", "value": {"name": "f.pdf", "data_url": url}},
                ]}),
            )
            .await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(expected), "{url}: {message}");
    }
    let missing_type = app
        .passthrough(
            "bamboohr/v1",
            &id,
            json!({"method": "POST", "path": "/files", "multipart_form_data": [
                {"name": "file", "value": {"name": "f.pdf", "data": "aGk="}},
            ]}),
        )
        .await;
    assert!(
        missing_type
            .error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("content_type is required")
    );
    assert!(
        seen.lock().expect("lock").is_empty(),
        "nothing reached the tool"
    );
}

/// An API whose base URL takes `api_options` (Workday's REST and SOAP adapters, as Kombo's)
/// builds it from the caller's values, each checked and kept to its own segment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_options_choose_the_service() {
    let (vendor_url, seen) = fake_vendor::recording(|seen| {
        if seen.uri.ends_with("/token") {
            fake_vendor::ok_json(json!({"access_token": "wd-token", "expires_in": 3600}))
        } else {
            fake_vendor::ok_json(json!({"ok": true}))
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        let urls = &mut config.tool_base_urls;
        urls.insert(
            "workday".into(),
            format!("{vendor_url}/ccx/oauth2/{{tenant}}"),
        );
        urls.insert(
            "workday/rest".into(),
            format!("{vendor_url}/api/{{service_name}}/{{version}}/{{tenant}}"),
        );
        urls.insert(
            "workday/soap".into(),
            format!("{vendor_url}/ccx/service/{{tenant}}/{{service_name}}/v{{service_version}}"),
        );
    })
    .await;
    let id = app
        .connect_tool(
            "workday",
            &[
                ("host", "wd2-impl-services1.workday.com"),
                ("tenant", "acme"),
                ("client_id", "cid"),
                ("client_secret", "secret"),
                ("refresh_token", "refresh"),
            ],
        )
        .await;
    let rest = app.passthrough("workday/rest",
        &id,
        json!({"method": "GET", "path": "/workers", "api_options": {"service_name": "staffing"}}),
    )
    .await;
    assert_eq!(rest.json["data"]["status"], 200, "{}", rest.text);
    let soap = app
        .passthrough(
            "workday/soap",
            &id,
            json!({"method": "POST", "path": "/", "headers": {"Content-Type": "text/xml"},
               "data": "<env:Envelope/>", "api_options": {"service_name": "Human_Resources"}}),
        )
        .await;
    assert_eq!(soap.json["data"]["status"], 200, "{}", soap.text);
    let uris: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|s| s.uri.clone())
        .collect();
    assert_eq!(
        uris,
        [
            "/ccx/oauth2/acme/token",
            "/api/staffing/v1/acme/workers",
            "/ccx/oauth2/acme/token",
            "/ccx/service/acme/Human_Resources/v38.2/",
        ],
        "one login per API, then the calls"
    );
    for (options, expected) in [
        (json!({}), "api_options.service_name is required"),
        (
            json!({"service_name": "../admin"}),
            "does not match its pattern",
        ),
        (
            json!({"service_name": "staffing", "version": "v1/../x"}),
            "api_options.version",
        ),
    ] {
        let reply = app
            .passthrough(
                "workday/rest",
                &id,
                json!({"method": "GET", "path": "/workers", "api_options": options}),
            )
            .await;
        let message = reply.error(400, Some("PLATFORM.INPUT_INVALID"));
        assert!(message.contains(expected), "{message}");
    }
}

/// A multipart file given by `data_url` is downloaded first (here from a network the operator
/// allowed) and sent as a file part; one over the size limit is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_files_are_downloaded_from_data_url() {
    let (files, _) = fake_vendor::recording(|seen| {
        if seen.uri.contains("big") {
            "x".repeat(100 * 1024).into_response()
        } else {
            (
                [("content-type", "application/pdf")],
                "%PDF-1.4 downloaded contract",
            )
                .into_response()
        }
    })
    .await;
    let app = spawn_app_with(Backend::Sqlite, |config| {
        config.passthrough.max_request_body = 64 * 1024;
        config.passthrough.download_networks = vec!["127.0.0.0/8".parse().expect("network")];
    })
    .await;
    let id = app.connect_tool("sandbox", &[("api_key", "k")]).await;
    let reply = app.passthrough("sandbox/v1",
        &id,
        json!({"method": "POST", "path": "/echo", "multipart_form_data": [
            {"name": "contract", "value": {"name": "contract.pdf", "content_type": "application/pdf",
                                            "data_url": format!("{files}/signed/contract.pdf?sig=abc")}},
        ]}),
    )
    .await;
    let body = reply.json["data"]["data"]["body"]
        .as_str()
        .unwrap_or_default();
    assert!(body.contains("filename=\"contract.pdf\""), "{}", reply.text);
    assert!(body.contains("Content-Type: application/pdf"), "{body}");
    assert!(body.contains("%PDF-1.4 downloaded contract"), "{body}");
    let big = app
        .passthrough(
            "sandbox/v1",
            &id,
            json!({"method": "POST", "path": "/echo", "multipart_form_data": [
                {"name": "f", "value": {"name": "f.bin", "data_url": format!("{files}/big")}},
            ]}),
        )
        .await;
    assert!(
        big.error(400, Some("PLATFORM.INPUT_INVALID"))
            .contains("larger than 65536 bytes")
    );
}

/// Entries older than the retention are deleted by the worker's pruning, and newer ones stay.
async fn the_request_log_is_pruned_after_its_retention(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.connect_tool("sandbox", &[("api_key", "k")]).await;
    for _ in 0..3 {
        app.passthrough(
            "sandbox/v1",
            &id,
            json!({"method": "GET", "path": "/absences"}),
        )
        .await;
    }
    assert_eq!(request_log(&app, &id).await.len(), 3);
    let retention = app.state.config.passthrough.log_retention;
    let store = app.state.store.as_ref();
    let now = chrono::Utc::now();
    assert_eq!(
        plugboard::retention::prune_request_log(store, now, retention).await,
        0,
        "within the retention"
    );
    let later =
        now + chrono::Duration::from_std(retention).expect("days") + chrono::Duration::hours(1);
    assert_eq!(
        plugboard::retention::prune_request_log(store, later, retention).await,
        3
    );
    assert!(request_log(&app, &id).await.is_empty());
}

both_backends!(
    the_request_log_is_pruned_after_its_retention,
    retries_are_opt_in_and_idempotent_only,
    the_retry_budget_bounds_the_wait,
    request_limits_and_fetched_files,
    the_sandbox_is_read_through_passthrough,
    errors_use_kombos_codes,
    the_concurrency_limit_is_kept,
    limits_and_failures_are_clear_errors,
);
