//! Every route, envelope and error of the emulator, over real HTTP on 127.0.0.1:0.

use intsync_emulator::server::RunningServer;
use intsync_emulator::{Emulator, Owner, Store};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "test-token";

struct Client {
    server: RunningServer,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Client {
    async fn start() -> Client {
        let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
        let emulator = Emulator::new(Store::in_memory(), TOKEN);
        let server = RunningServer::start(emulator, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        Client {
            server,
            http: reqwest::Client::new(),
        }
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Reply {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.server.base_url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request answered");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("non-JSON body: {}", String::from_utf8_lossy(&bytes)));
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn raw(&self, method: Method, path: &str, body: &'static [u8]) -> Reply {
        let response = self
            .http
            .request(method, format!("{}{path}", self.server.base_url()))
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.send(Method::GET, path, None, Some(TOKEN)).await
    }

    async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(Method::POST, path, Some(body), Some(TOKEN)).await
    }

    async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(Method::PATCH, path, Some(body), Some(TOKEN))
            .await
    }

    async fn control(&self, method: Method, path: &str, body: Value) -> Reply {
        self.send(
            method,
            &format!("/_emulator/{path}"),
            Some(body),
            Some(TOKEN),
        )
        .await
    }
}

fn ada_body(name: &str) -> Value {
    json!({
        "name": name,
        "description": "Sync articles",
        "author": "Cool Shop",
        "contact": "help@coolshop.support",
        "identifier_field_path": "credentials.url",
        "uninstallation_url": "https://coolshop.example.com/uninstall",
        "oauth_callback_url": "https://coolshop.example.com/oauth/callback",
        "tags": ["knowledge"],
        "scopes": ["articles:read"],
        "configuration_fields": {"type": "object", "required": ["credentials"], "properties": {"credentials": {"type": "object"}}},
    })
}

fn assert_ada_error(reply: &Reply, status: u16, kind: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    let errors = reply.body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("Ada envelope: {}", reply.body));
    assert_eq!(errors[0]["type"], kind, "{}", reply.body);
    assert!(errors[0]["message"].is_string());
}

fn assert_truto_error(reply: &Reply, status: u16, error: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(reply.body["statusCode"], status, "{}", reply.body);
    assert_eq!(reply.body["error"], error);
    assert!(reply.body["message"].is_string());
}

#[tokio::test]
async fn ada_create_returns_200_development_and_a_secret_only_once() {
    let c = Client::start().await;
    let created = c
        .post("/api/v2/platform-integrations/", ada_body("Cool Shop"))
        .await;
    assert_eq!(created.status, 200);
    assert_eq!(created.body["status"], "development");
    assert_eq!(created.body["id"].as_str().unwrap().len(), 24);
    assert!(
        created.body["created"]
            .as_str()
            .unwrap()
            .ends_with("+00:00")
    );
    assert_eq!(created.body["created"], created.body["updated"]);
    assert!(created.body["client_secret"].as_str().unwrap().len() >= 32);
    assert_eq!(created.body["icon_url"], Value::Null);

    let listed = c.get("/api/v2/platform-integrations/").await;
    assert_eq!(listed.status, 200);
    let item = &listed.body["data"][0];
    assert_eq!(item["id"], created.body["id"]);
    assert!(
        item.get("client_secret").is_none(),
        "the secret is never returned again"
    );

    let patched = c
        .patch(
            &format!(
                "/api/v2/platform-integrations/{}",
                created.body["id"].as_str().unwrap()
            ),
            json!({"description": "New"}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["description"], "New");
    assert!(patched.body.get("client_secret").is_none());
}

#[tokio::test]
async fn ada_collection_with_and_without_trailing_slash() {
    let c = Client::start().await;
    assert_eq!(
        c.post("/api/v2/platform-integrations", ada_body("No slash"))
            .await
            .status,
        200
    );
    assert_eq!(
        c.post("/api/v2/platform-integrations/", ada_body("Slash"))
            .await
            .status,
        200
    );
    for path in [
        "/api/v2/platform-integrations",
        "/api/v2/platform-integrations/",
    ] {
        let listed = c.get(path).await;
        assert_eq!(listed.body["data"].as_array().unwrap().len(), 2);
        assert_eq!(listed.body["meta"]["next_page_url"], Value::Null);
    }
}

#[tokio::test]
async fn ada_create_validation() {
    let c = Client::start().await;
    let mut missing = ada_body("x");
    missing.as_object_mut().unwrap().remove("scopes");
    missing.as_object_mut().unwrap().remove("author");
    let reply = c.post("/api/v2/platform-integrations/", missing).await;
    assert_ada_error(&reply, 400, "bad_request");
    assert!(
        reply.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("author, scopes")
    );

    let cases = [
        ("name", json!("x".repeat(161))),
        ("name", json!("")),
        ("author", json!(42)),
        ("tags", json!(["faq"])),
        ("scopes", json!("articles:read")),
        ("oauth_callback_url", json!("not a url")),
        ("configuration_fields", json!([])),
        ("description", Value::Null),
        ("unknown_key", json!("x")),
    ];
    for (field, value) in cases {
        let mut body = ada_body("x");
        body[field] = value.clone();
        let reply = c.post("/api/v2/platform-integrations/", body).await;
        assert_ada_error(&reply, 400, "bad_request");
        assert_eq!(
            reply.body["errors"][0]["details"], field,
            "{field} = {value}"
        );
    }
    // Nullable fields accept null; 160 characters (not bytes) is fine.
    let mut body = ada_body(&"é".repeat(160));
    body["icon_url"] = Value::Null;
    body["call_to_action"] = Value::Null;
    body["error_codes"] = Value::Null;
    assert_eq!(
        c.post("/api/v2/platform-integrations/", body).await.status,
        200
    );
}

/// `error_codes` is "error codes and their corresponding error message": an object of strings
/// (or null). Anything else is refused as Ada would, 400 in its envelope naming the field, on
/// create and on update, with nothing stored (issue #21).
#[tokio::test]
async fn ada_error_codes_must_map_to_strings() {
    let c = Client::start().await;
    let id = c
        .post("/api/v2/platform-integrations/", ada_body("codes"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v2/platform-integrations/{id}");
    for codes in [
        json!({"error_403": 403}),
        json!({"error_403": "Unauthorized", "error_500": null}),
        json!({"error_403": {"message": "Unauthorized"}}),
        json!({"error_403": ["Unauthorized"]}),
        json!({"error_403": true}),
        json!("Unauthorized"),
    ] {
        let mut body = ada_body("refused");
        body["error_codes"] = codes.clone();
        let created = c.post("/api/v2/platform-integrations/", body).await;
        assert_ada_error(&created, 400, "bad_request");
        assert_eq!(
            created.body["errors"][0]["details"], "error_codes",
            "{codes}"
        );
        let patched = c.patch(&path, json!({ "error_codes": codes })).await;
        assert_ada_error(&patched, 400, "bad_request");
        assert_eq!(
            patched.body["errors"][0]["details"], "error_codes",
            "{codes}"
        );
    }
    let message = c
        .patch(&path, json!({"error_codes": {"error_\u{1b}[31m": 1}}))
        .await
        .body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        message,
        "`error_codes` must map each key to a string, but \"error_\\u001b[31m\" is a number"
    );
    let listed = c.get("/api/v2/platform-integrations/").await.body["data"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "nothing created");
    assert_eq!(listed[0]["error_codes"], Value::Null, "nothing changed");
    for codes in [json!({}), json!({"error_403": "Unauthorized"}), Value::Null] {
        assert_eq!(
            c.patch(&path, json!({ "error_codes": codes })).await.status,
            200
        );
    }
}

#[tokio::test]
async fn ada_patch_rules() {
    let c = Client::start().await;
    let id = c
        .post("/api/v2/platform-integrations/", ada_body("x"))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v2/platform-integrations/{id}");

    // Nullable fields clear with null; others refuse it.
    let cleared = c
        .patch(&path, json!({"icon_url": null, "error_codes": null}))
        .await;
    assert_eq!(cleared.status, 200);
    assert_ada_error(
        &c.patch(&path, json!({"name": null})).await,
        400,
        "bad_request",
    );
    assert_ada_error(
        &c.patch(&path, json!({"status": "approved"})).await,
        400,
        "bad_request",
    );
    assert_ada_error(
        &c.patch(&path, json!({"name": "y".repeat(161)})).await,
        400,
        "bad_request",
    );

    // An empty PATCH changes nothing, not even `updated`.
    let before = c.get("/api/v2/platform-integrations/").await.body["data"][0].clone();
    let empty = c.patch(&path, json!({})).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body, before);

    // Unknown id: 404.
    assert_ada_error(
        &c.patch(
            "/api/v2/platform-integrations/000000000000000000000000",
            json!({"name": "z"}),
        )
        .await,
        404,
        "not_found",
    );

    // Not in development: refused, with nothing changed.
    let set = c
        .control(
            Method::POST,
            &format!("ada/{id}/status"),
            json!({"status": "approved"}),
        )
        .await;
    assert_eq!(set.status, 200);
    assert_eq!(set.body["status"], "approved");
    let refused = c.patch(&path, json!({"description": "changed"})).await;
    assert_ada_error(&refused, 403, "forbidden");
    assert!(
        refused.body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("only integrations in development")
    );
    let after = c.get("/api/v2/platform-integrations/").await.body["data"][0].clone();
    assert_eq!(after["description"], before["description"]);
    assert_eq!(after["status"], "approved");
}

#[tokio::test]
async fn ada_pagination_across_pages() {
    let c = Client::start().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            c.post("/api/v2/platform-integrations/", ada_body(&format!("n{i}")))
                .await
                .body["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let mut seen = Vec::new();
    let mut url = format!(
        "{}/api/v2/platform-integrations/?limit=3",
        c.server.base_url()
    );
    let mut pages = 0;
    loop {
        pages += 1;
        let reply: Value = c
            .http
            .get(&url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            reply["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned()),
        );
        match reply["meta"]["next_page_url"].as_str() {
            Some(next) => {
                assert!(
                    next.starts_with(&c.server.base_url()),
                    "absolute URL: {next}"
                );
                assert!(next.contains("cursor=") && next.contains("limit=3"));
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, ids);
    // Default and maximum page size, and bad parameters.
    assert_eq!(
        c.get("/api/v2/platform-integrations/").await.body["data"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_eq!(
        c.get("/api/v2/platform-integrations/?limit=1000")
            .await
            .body["data"]
            .as_array()
            .unwrap()
            .len(),
        7
    );
    assert_ada_error(
        &c.get("/api/v2/platform-integrations/?limit=0").await,
        400,
        "bad_request",
    );
    assert_ada_error(
        &c.get("/api/v2/platform-integrations/?limit=abc").await,
        400,
        "bad_request",
    );
    assert_ada_error(
        &c.get("/api/v2/platform-integrations/?cursor=nope").await,
        400,
        "bad_request",
    );
}

#[tokio::test]
async fn authentication() {
    let c = Client::start().await;
    for token in [None, Some("wrong"), Some("test-toke"), Some("test-tokenx")] {
        let reply = c
            .send(Method::GET, "/api/v2/platform-integrations/", None, token)
            .await;
        assert_ada_error(&reply, 401, "unauthorized");
        let reply = c.send(Method::GET, "/integration", None, token).await;
        assert_truto_error(&reply, 401, "Unauthorized");
        let reply = c
            .send(Method::GET, "/_emulator/requests", None, token)
            .await;
        assert_eq!(reply.status, 401);
    }
    assert_eq!(
        c.send(Method::GET, "/_emulator/health", None, None)
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn malformed_bodies_are_400_never_500() {
    let c = Client::start().await;
    for body in [
        &b"{"[..],
        b"[]",
        b"\"text\"",
        b"null",
        b"",
        b"{\"name\": }",
        b"\xff\xfe",
    ] {
        let reply = c
            .raw(Method::POST, "/api/v2/platform-integrations/", body)
            .await;
        assert_ada_error(&reply, 400, "bad_request");
        let reply = c.raw(Method::POST, "/integration", body).await;
        assert_truto_error(&reply, 400, "Bad Request");
    }
}

#[tokio::test]
async fn bodies_over_10_mb_are_413() {
    let c = Client::start().await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(10 * 1024 * 1024 + 1));
    let response = c
        .http
        .post(format!(
            "{}/api/v2/platform-integrations/",
            c.server.base_url()
        ))
        .bearer_auth(TOKEN)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["type"], "content_too_large");
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let c = Client::start().await;
    assert_ada_error(&c.get("/api/v2/nothing").await, 404, "not_found");
    assert_ada_error(
        &c.get("/api/v2/platform-integrations/abc").await,
        405,
        "method_not_allowed",
    );
    assert_truto_error(
        &c.send(Method::PUT, "/integration", None, Some(TOKEN)).await,
        405,
        "Method Not Allowed",
    );
    assert_truto_error(&c.get("/nothing").await, 404, "Not Found");
}

#[tokio::test]
async fn truto_routes_versions_and_envelopes() {
    let c = Client::start().await;
    let created = c.post("/integration", json!({"name": "my_custom_crm", "category": "crm", "config": {"base_url": "https://x"}})).await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.body["sharing"], "allow");
    assert_eq!(created.body["is_beta"], false);

    for prefix in ["/integration", "/integrations"] {
        let got = c.get(&format!("{prefix}/{id}")).await;
        assert_eq!(got.status, 200);
        assert_eq!(got.body["name"], "my_custom_crm");
    }

    // PATCH needs the current version, answers 400 on a mismatch, and bumps it.
    let path = format!("/integration/{id}");
    assert_truto_error(
        &c.patch(&path, json!({"category": "helpdesk"})).await,
        400,
        "Bad Request",
    );
    let conflict = c
        .patch(&path, json!({"category": "helpdesk", "version": 7}))
        .await;
    assert_truto_error(&conflict, 400, "Bad Request");
    assert!(
        conflict.body["message"]
            .as_str()
            .unwrap()
            .contains("version mismatch")
    );
    let ok = c
        .patch(
            &path,
            json!({"category": "helpdesk", "config": {"x": 1}, "version": 1}),
        )
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body["version"], 2);
    assert_eq!(
        ok.body["config"],
        json!({"x": 1}),
        "config is replaced whole"
    );
    let stale = c
        .patch(
            &format!("/integrations/{id}"),
            json!({"is_beta": true, "version": 1}),
        )
        .await;
    assert_truto_error(&stale, 400, "Bad Request");
    assert_truto_error(
        &c.patch(&path, json!({"sharing": "everyone", "version": 2}))
            .await,
        400,
        "Bad Request",
    );
    assert_truto_error(
        &c.patch(&path, json!({"unknown": 1, "version": 2})).await,
        400,
        "Bad Request",
    );

    // Names are unique per team.
    assert_truto_error(
        &c.post("/integration", json!({"name": "my_custom_crm"}))
            .await,
        409,
        "Conflict",
    );
    assert_truto_error(
        &c.post("/integration", json!({"category": "crm"})).await,
        400,
        "Bad Request",
    );
    // Create takes only its documented keys: `sharing` is for PATCH.
    let with_sharing = c
        .post("/integration", json!({"name": "shared", "sharing": "deny"}))
        .await;
    assert_truto_error(&with_sharing, 400, "Bad Request");
    assert!(
        with_sharing.body["message"]
            .as_str()
            .unwrap()
            .contains("`sharing`"),
        "names the unknown field: {}",
        with_sharing.body
    );

    // Delete, then 404.
    let deleted = c
        .send(
            Method::DELETE,
            &format!("/integrations/{id}"),
            None,
            Some(TOKEN),
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.body, json!({ "id": id }));
    assert_truto_error(&c.get(&path).await, 404, "Not Found");
    assert_truto_error(
        &c.patch(&path, json!({"version": 2})).await,
        404,
        "Not Found",
    );
}

#[tokio::test]
async fn truto_pagination_and_filters() {
    let c = Client::start().await;
    for i in 0..5 {
        let category = if i % 2 == 0 { "crm" } else { "helpdesk" };
        assert_eq!(
            c.post(
                "/integration",
                json!({"name": format!("i{i}"), "category": category})
            )
            .await
            .status,
            201
        );
    }
    let mut names = Vec::new();
    let mut cursor = String::new(); // the SDK sends an empty cursor first
    let mut pages = 0;
    loop {
        pages += 1;
        let reply = c
            .get(&format!("/integration?limit=2&next_cursor={cursor}"))
            .await;
        assert_eq!(reply.body["limit"], 2);
        names.extend(
            reply.body["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_owned()),
        );
        match reply.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, ["i0", "i1", "i2", "i3", "i4"]);
    let crm = c.get("/integration?category=crm&limit=2").await;
    assert_eq!(crm.body["result"].as_array().unwrap().len(), 2);
    assert!(crm.body["next_cursor"].is_string());
    let helpdesk = c.get("/integration?category=helpdesk&name=i3").await;
    assert_eq!(helpdesk.body["result"].as_array().unwrap().len(), 1);
    assert_eq!(helpdesk.body["next_cursor"], Value::Null);
    assert_eq!(c.get("/integration").await.body["limit"], 100);
}

#[tokio::test]
async fn injected_status_faults_with_and_without_retry_after() {
    let c = Client::start().await;
    let faults = json!({"rules": [
        {"api": "ada", "method": "GET", "times": 1, "action": {"type": "status", "status": 429}},
        {"api": "ada", "method": "GET", "times": 1, "after": 1, "action": {"type": "status", "status": 429, "retry_after": "2"}},
        {"api": "truto", "times": 1, "action": {"type": "status", "status": 503}},
    ]});
    assert_eq!(c.control(Method::PUT, "faults", faults).await.status, 200);
    let first = c.get("/api/v2/platform-integrations/").await;
    assert_ada_error(&first, 429, "too_many_requests");
    assert!(first.headers.get("retry-after").is_none());
    let second = c.get("/api/v2/platform-integrations/").await;
    assert_ada_error(&second, 429, "too_many_requests");
    assert_eq!(second.headers["retry-after"], "2");
    assert_eq!(c.get("/api/v2/platform-integrations/").await.status, 200);
    assert_truto_error(&c.get("/integration").await, 503, "Service Unavailable");
    assert_eq!(c.get("/integration").await.status, 200);

    let log = c
        .send(Method::GET, "/_emulator/requests", None, Some(TOKEN))
        .await
        .body;
    let statuses: Vec<Value> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!(429), json!(429), json!(200), json!(503), json!(200)]
    );
    assert_eq!(log[0]["fault"], "status 429");
    assert_eq!(
        c.send(Method::DELETE, "/_emulator/requests", None, Some(TOKEN))
            .await
            .status,
        200
    );
    assert_eq!(
        c.send(Method::GET, "/_emulator/requests", None, Some(TOKEN))
            .await
            .body,
        json!([])
    );
}

#[tokio::test]
async fn dropped_connection_after_commit_keeps_the_write() {
    let c = Client::start().await;
    let faults =
        json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "drop_after_commit"}}]});
    c.control(Method::PUT, "faults", faults).await;
    let error = c
        .http
        .post(format!(
            "{}/api/v2/platform-integrations/",
            c.server.base_url()
        ))
        .bearer_auth(TOKEN)
        .json(&ada_body("committed"))
        .send()
        .await
        .expect_err("no answer");
    assert!(
        error.is_request() || error.is_connect() || error.is_body(),
        "{error:?}"
    );
    let listed = c.get("/api/v2/platform-integrations/").await;
    assert_eq!(
        listed.body["data"].as_array().unwrap().len(),
        1,
        "the write was committed"
    );
    assert_eq!(listed.body["data"][0]["name"], "committed");
}

#[tokio::test]
async fn dropped_connection_before_handling_changes_nothing() {
    let c = Client::start().await;
    c.control(
        Method::PUT,
        "faults",
        json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "drop_before"}}]}),
    )
    .await;
    let sent = c
        .http
        .post(format!("{}/integration", c.server.base_url()))
        .bearer_auth(TOKEN)
        .json(&json!({"name": "never"}))
        .send()
        .await;
    assert!(sent.is_err());
    assert_eq!(c.get("/integration").await.body["result"], json!([]));
}

#[tokio::test]
async fn latency_and_reset() {
    let c = Client::start().await;
    c.post("/integration", json!({"name": "a"})).await;
    c.control(Method::PUT, "faults", json!({"latency_ms": 150}))
        .await;
    let started = std::time::Instant::now();
    c.get("/integration").await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
    assert_eq!(
        c.send(Method::DELETE, "/_emulator/faults", None, Some(TOKEN))
            .await
            .status,
        200
    );
    assert_eq!(
        c.control(Method::POST, "reset", json!({})).await.status,
        200
    );
    assert_eq!(c.get("/integration").await.body["result"], json!([]));
}

#[tokio::test]
async fn documented_rate_limit() {
    let c = Client::start().await;
    assert_eq!(
        c.control(
            Method::PUT,
            "rate-limit",
            json!({"ada": "documented", "truto": [{"window_ms": 60000, "limit": 2}]})
        )
        .await
        .status,
        200
    );
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(c.get("/api/v2/platform-integrations/").await.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        10,
        "{statuses:?}"
    );
    let limited = c.get("/api/v2/platform-integrations/").await;
    assert_ada_error(&limited, 429, "too_many_requests");
    assert!(
        limited.headers.get("retry-after").is_none(),
        "Ada documents no Retry-After"
    );
    c.get("/integration").await;
    c.get("/integration").await;
    let truto = c.get("/integration").await;
    assert_truto_error(&truto, 429, "Too Many Requests");
    assert_eq!(truto.headers["retry-after"], "10");
}

/// A `delay_commit` fault on a create: a client with a short timeout gives up, lists, sees
/// nothing; the server commits the create after the hold anyway, exactly once.
async fn held_create_commits_after_the_client_gave_up(
    path: &str,
    body: Value,
    items: &str,
    status: u16,
) {
    let hold = std::time::Duration::from_millis(1_500);
    let c = Client::start().await;
    let faults = json!({"rules": [{"method": "POST", "path_prefix": path, "times": 1,
        "action": {"type": "delay_commit", "ms": 1_500}}]});
    assert_eq!(c.control(Method::PUT, "faults", faults).await.status, 200);
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let sent = std::time::Instant::now();
    let error = impatient
        .post(format!("{}{path}", c.server.base_url()))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect_err("the client times out during the hold");
    assert!(error.is_timeout(), "{error:?}");

    let listed = c.get(path).await;
    assert_eq!(listed.status, 200);
    if sent.elapsed() < hold {
        assert_eq!(
            listed.body[items],
            json!([]),
            "not visible right after the client gave up"
        );
    }

    // Poll (not sleep) until the held create shows up.
    let deadline = sent + std::time::Duration::from_secs(15);
    let (listed, seen_after) = loop {
        let listed = c.get(path).await;
        if listed.body[items]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            break (listed, sent.elapsed());
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the held create was never committed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(
        seen_after >= hold,
        "committed before the hold ended: {seen_after:?}"
    );
    let items = listed.body[items].as_array().unwrap();
    assert_eq!(items.len(), 1, "exactly one: {items:?}");
    assert_eq!(items[0]["name"], body["name"]);

    let log = c
        .send(Method::GET, "/_emulator/requests", None, Some(TOKEN))
        .await
        .body;
    let posts: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["method"] == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "{log}");
    assert_eq!(posts[0]["fault"], "delay_commit");
    assert_eq!(posts[0]["status"], status, "the status it finally got");
    let rules = c
        .send(Method::GET, "/_emulator/faults", None, Some(TOKEN))
        .await
        .body;
    assert_eq!(rules["rules"][0]["seen"], 1, "counted once");
    assert_eq!(rules["rules"][0]["applied"], 1);
}

#[tokio::test]
async fn ada_delayed_commit_after_the_client_timed_out() {
    held_create_commits_after_the_client_gave_up(
        "/api/v2/platform-integrations/",
        ada_body("late"),
        "data",
        200,
    )
    .await;
}

#[tokio::test]
async fn truto_delayed_commit_after_the_client_timed_out() {
    held_create_commits_after_the_client_gave_up(
        "/integration",
        json!({"name": "late"}),
        "result",
        201,
    )
    .await;
}

#[tokio::test]
async fn delay_commit_fault_round_trips() {
    let c = Client::start().await;
    let faults = json!({"rules": [{"api": "ada", "method": "POST", "times": 1,
        "action": {"type": "delay_commit", "ms": 2500}}]});
    assert_eq!(c.control(Method::PUT, "faults", faults).await.status, 200);
    let read = c
        .send(Method::GET, "/_emulator/faults", None, Some(TOKEN))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.body["rules"][0]["action"],
        json!({"type": "delay_commit", "ms": 2500})
    );
    assert_eq!(read.body["rules"][0]["method"], "POST");
    assert_eq!(read.body["rules"][0]["times"], 1);
    let missing_ms = c
        .control(
            Method::PUT,
            "faults",
            json!({"rules": [{"action": {"type": "delay_commit"}}]}),
        )
        .await;
    assert_eq!(missing_ms.status, 400, "{}", missing_ms.body);
}

fn names(reply: &Reply) -> Vec<String> {
    reply.body["result"]
        .as_array()
        .unwrap_or_else(|| panic!("a list page: {}", reply.body))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn truto_environment_names_the_tokens_team() {
    let c = Client::start().await;
    let env = c.get("/environment").await;
    assert_eq!(env.status, 200, "{}", env.body);
    assert_eq!(env.body["next_cursor"], Value::Null);
    assert_eq!(env.body["limit"], 100);
    let result = env.body["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{}", env.body);
    let environment = result[0].as_object().unwrap();
    let mut keys: Vec<&str> = environment.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["created_at", "id", "name", "team_id", "updated_at"]);
    assert_eq!(environment["team_id"], Owner::Own.team_id());
    assert_eq!(environment["name"], "emulator");
    assert!(environment["id"].as_str().unwrap().len() == 36);

    // Our own integrations carry that team id.
    let created = c.post("/integration", json!({"name": "mine"})).await;
    assert_eq!(created.body["team_id"], environment["team_id"]);

    assert_truto_error(
        &c.post("/environment", json!({})).await,
        405,
        "Method Not Allowed",
    );
    assert_truto_error(
        &c.send(Method::GET, "/environment", None, None).await,
        401,
        "Unauthorized",
    );
}

#[tokio::test]
async fn truto_lists_own_truto_built_and_shared_integrations() {
    let c = Client::start().await;
    let seed = |owner: Option<&str>, integration: Value| {
        let mut body = json!({ "integration": integration });
        if let Some(owner) = owner {
            body["owner"] = json!(owner);
        }
        c.control(Method::POST, "truto/integrations", body)
    };
    let truto = seed(
        Some("truto"),
        json!({"name": "hubspot", "category": "crm", "config": {"base_url": "https://api.hubapi.com"}}),
    )
    .await;
    assert_eq!(truto.status, 201, "{}", truto.body);
    assert_eq!(truto.body["team_id"], Owner::Truto.team_id());
    assert_eq!(truto.body["team"]["id"], Owner::Truto.team_id());
    assert_eq!(truto.body["team"]["name"], "Truto");
    assert_eq!(truto.body["team"]["is_verified"], true);
    assert_eq!(
        truto.body["config"],
        json!({"base_url": "https://api.hubapi.com"}),
        "the control answers the whole record"
    );
    assert_eq!(truto.body["version"], 1);
    assert_eq!(truto.body["sharing"], "allow");
    assert_eq!(truto.body["installed_environment"], json!([]));
    let shared = seed(
        Some("other"),
        json!({"name": "acme_crm", "config": {"secret": "s3"}, "sharing": "allow", "is_beta": true}),
    )
    .await;
    assert_eq!(shared.status, 201, "{}", shared.body);
    assert_eq!(shared.body["team_id"], Owner::Other.team_id());
    assert_eq!(shared.body["team"]["name"], "Acme Corp");
    assert_eq!(shared.body["is_beta"], true);
    let private = seed(
        Some("other"),
        json!({"name": "acme_private", "config": {"secret": "p"}, "sharing": "deny"}),
    )
    .await;
    assert_eq!(private.status, 201, "{}", private.body);
    let own = seed(None, json!({"name": "mine", "config": {"k": 1}})).await;
    assert_eq!(own.status, 201, "{}", own.body);
    assert_eq!(
        own.body["team_id"],
        Owner::Own.team_id(),
        "owner defaults to own"
    );
    let id = |reply: &Reply| reply.body["id"].as_str().unwrap().to_owned();
    let (truto_id, shared_id, private_id, own_id) =
        (id(&truto), id(&shared), id(&private), id(&own));

    // The list: own, Truto-built and shared; never the other team's `deny` one; foreign
    // `config` stripped.
    let listed = c.get("/integration").await;
    assert_eq!(names(&listed), ["hubspot", "acme_crm", "mine"]);
    for item in listed.body["result"].as_array().unwrap() {
        if item["name"] == "mine" {
            assert_eq!(item["config"], json!({"k": 1}), "own config kept");
        } else {
            assert!(item.get("config").is_none(), "config stripped: {item}");
            assert!(item["team"].is_object());
        }
    }
    // Pages of one walk exactly the visible ones.
    let (mut walked, mut cursors, mut cursor) = (Vec::new(), Vec::new(), String::new());
    loop {
        let page = c
            .get(&format!("/integration?limit=1&next_cursor={cursor}"))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        walked.extend(names(&page));
        match page.body["next_cursor"].as_str() {
            Some(next) => {
                cursor = next.to_owned();
                cursors.push(cursor.clone());
            }
            None => break,
        }
    }
    assert_eq!(walked, ["hubspot", "acme_crm", "mine"]);
    assert_eq!(cursors, [shared_id.clone(), own_id.clone()]);
    // Filters apply among the visible ones.
    assert!(names(&c.get("/integration?sharing=deny").await).is_empty());
    assert!(names(&c.get("/integration?name=acme_private").await).is_empty());
    assert_eq!(
        names(&c.get("/integration?category=crm").await),
        ["hubspot"]
    );

    // GET: foreign without config; the hidden one is 404.
    for prefix in ["/integration", "/integrations"] {
        let got = c.get(&format!("{prefix}/{truto_id}")).await;
        assert_eq!(got.status, 200);
        assert!(got.body.get("config").is_none(), "{}", got.body);
        assert_eq!(
            c.get(&format!("{prefix}/{own_id}")).await.body["config"],
            json!({"k": 1})
        );
        assert_truto_error(
            &c.get(&format!("{prefix}/{private_id}")).await,
            404,
            "Not Found",
        );
    }

    // Writes: only our own. Ownership is checked before the version.
    for prefix in ["/integration", "/integrations"] {
        for (foreign, version) in [(&truto_id, 1), (&shared_id, 1), (&truto_id, 9)] {
            let refused = c
                .patch(
                    &format!("{prefix}/{foreign}"),
                    json!({"category": "x", "version": version}),
                )
                .await;
            assert_eq!(
                refused.body,
                json!({"statusCode": 403, "error": "Forbidden", "message": refused.body["message"]}),
            );
            assert_truto_error(&refused, 403, "Forbidden");
        }
        assert_truto_error(
            &c.patch(
                &format!("{prefix}/{private_id}"),
                json!({"category": "x", "version": 1}),
            )
            .await,
            404,
            "Not Found",
        );
        let deleted = c
            .send(
                Method::DELETE,
                &format!("{prefix}/{shared_id}"),
                None,
                Some(TOKEN),
            )
            .await;
        assert_truto_error(&deleted, 403, "Forbidden");
        assert_truto_error(
            &c.send(
                Method::DELETE,
                &format!("{prefix}/{private_id}"),
                None,
                Some(TOKEN),
            )
            .await,
            404,
            "Not Found",
        );
    }
    let patched = c
        .patch(
            &format!("/integration/{own_id}"),
            json!({"category": "x", "version": 1}),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["version"], 2);
    let unchanged = c.get(&format!("/integration/{truto_id}")).await;
    assert_eq!(
        (
            unchanged.body["version"].clone(),
            unchanged.body["category"].clone()
        ),
        (json!(1), json!("crm"))
    );
    assert_eq!(
        names(&c.get("/integration").await),
        ["hubspot", "acme_crm", "mine"],
        "nothing foreign was deleted"
    );

    // Names are unique within a team only.
    let ours = c
        .post(
            "/integration",
            json!({"name": "hubspot", "config": {"a": 1}}),
        )
        .await;
    assert_eq!(ours.status, 201, "{}", ours.body);
    assert_eq!(ours.body["team_id"], Owner::Own.team_id());
    assert_truto_error(
        &c.post("/integration", json!({"name": "hubspot"})).await,
        409,
        "Conflict",
    );
    let by_name = c.get("/integration?name=hubspot").await;
    let teams: Vec<&Value> = by_name.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["team_id"])
        .collect();
    assert_eq!(
        teams,
        [Owner::Truto.team_id(), Owner::Own.team_id()],
        "{}",
        by_name.body
    );
    let renamed = c
        .patch(
            &format!("/integration/{own_id}"),
            json!({"name": "acme_private", "version": 2}),
        )
        .await;
    assert_eq!(renamed.status, 200, "another team's name: {}", renamed.body);
    assert_truto_error(
        &c.patch(
            &format!("/integration/{own_id}"),
            json!({"name": "hubspot", "version": 3}),
        )
        .await,
        409,
        "Conflict",
    );

    // The control: validation, uniqueness within the owner's team.
    assert_eq!(
        seed(Some("truto"), json!({"name": "hubspot"})).await.status,
        409
    );
    assert_eq!(
        seed(Some("other"), json!({"name": "hubspot"})).await.status,
        201
    );
    for bad in [
        json!({"owner": "someone", "integration": {"name": "x"}}),
        json!({"owner": "truto"}),
        json!({"integration": {"category": "crm"}}),
        json!({"integration": {"name": "x", "version": 1}}),
        json!({"integration": {"name": "x", "sharing": "public"}}),
        json!({"integration": "x"}),
        json!({"integration": {"name": "x"}, "extra": 1}),
        json!([]),
    ] {
        let refused = c
            .control(Method::POST, "truto/integrations", bad.clone())
            .await;
        assert_ada_error(&refused, 400, "bad_request");
        assert!(
            !names(&c.get("/integration").await).contains(&"x".to_owned()),
            "{bad}"
        );
    }
    assert_eq!(
        c.send(
            Method::POST,
            "/_emulator/truto/integrations",
            Some(json!({"integration": {"name": "x"}})),
            None
        )
        .await
        .status,
        401
    );

    // Reset forgets the seeded ones too.
    c.control(Method::POST, "reset", json!({})).await;
    assert!(names(&c.get("/integration").await).is_empty());
}
