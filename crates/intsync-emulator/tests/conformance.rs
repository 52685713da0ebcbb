//! Every response body of the emulated Ada routes validates against Ada's own OpenAPI schemas
//! (`tests/fixtures/ada-platform-integrations.openapi.yml`), errors included.

use intsync_emulator::server::RunningServer;
use intsync_emulator::{Emulator, Store};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "conformance";

/// The spec as JSON, with schema names made URI-safe (`Platform Integrations_...` has a space).
fn spec() -> Value {
    let text = include_str!("fixtures/ada-platform-integrations.openapi.yml");
    let spec: Value = serde_saphyr::from_str(text).expect("the spec parses");
    let text = serde_json::to_string(&spec)
        .unwrap()
        .replace("Platform Integrations_", "Platform_Integrations_");
    serde_json::from_str(&text).unwrap()
}

/// A validator for the response schema of `method path` answering `status`; `Errors` when the
/// spec lists no such status for the operation (the emulator answers some statuses Ada's spec
/// omits, e.g. 404 on PATCH, with the documented error envelope).
fn validator(
    spec: &Value,
    path: &str,
    method: &str,
    status: u16,
) -> (jsonschema::Validator, String) {
    let operation = &spec["paths"][path][method];
    assert!(operation.is_object(), "no {method} {path} in the spec");
    let reference =
        operation["responses"][status.to_string()]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or("#/components/schemas/Errors")
            .to_owned();
    let root = json!({ "$ref": reference, "components": spec["components"] });
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&root)
        .unwrap_or_else(|e| panic!("schema for {method} {path} {status}: {e}"));
    (validator, reference)
}

struct Check {
    spec: Value,
    server: RunningServer,
    http: reqwest::Client,
    checked: Vec<String>,
}

/// One step of the conformance run: an API call and the status it must get (its body is then
/// validated against the spec's schema for that status), or a test control that must succeed.
enum Step<'a> {
    Call {
        method: Method,
        path: String,
        spec_path: &'a str,
        body: Option<Value>,
        token: Option<&'a str>,
        expect: u16,
        why: &'a str,
    },
    Control {
        method: Method,
        path: String,
        body: Value,
    },
}

impl Check {
    /// Sends the call, asserts that it got `expect` (the status of this very call, not one seen
    /// somewhere in the run), and validates its body against the spec.
    #[allow(clippy::too_many_arguments)] // reason: one call's whole description, as in the table
    async fn call(
        &mut self,
        method: Method,
        path: &str,
        spec_path: &str,
        body: Option<Value>,
        token: Option<&str>,
        expect: u16,
        why: &str,
    ) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.server.base_url()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.expect("JSON body");
        assert_eq!(
            status, expect,
            "{method} {path} ({why}) answered {status}, not {expect}: {body}"
        );
        let (validator, reference) = validator(
            &self.spec,
            spec_path,
            &method.as_str().to_lowercase(),
            status,
        );
        let errors: Vec<String> = validator
            .iter_errors(&body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{method} {path} → {status} does not match {reference}: {errors:?}\n{body}"
        );
        self.checked
            .push(format!("{method} {spec_path} {status} ({reference})"));
        body
    }

    async fn run(&mut self, steps: Vec<Step<'_>>) {
        for step in steps {
            match step {
                Step::Call {
                    method,
                    path,
                    spec_path,
                    body,
                    token,
                    expect,
                    why,
                } => {
                    self.call(method, &path, spec_path, body, token, expect, why)
                        .await;
                }
                Step::Control { method, path, body } => {
                    let response = self
                        .http
                        .request(method.clone(), format!("{}{path}", self.server.base_url()))
                        .bearer_auth(TOKEN)
                        .json(&body)
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(response.status().as_u16(), 200, "control {method} {path}");
                }
            }
        }
    }
}

fn create_body(name: &str) -> Value {
    json!({
        "name": name, "description": "d", "author": "a", "contact": "help@example.com",
        "identifier_field_path": "account.name",
        "uninstallation_url": "https://example.com/u", "oauth_callback_url": "https://example.com/c",
        "tags": ["knowledge"], "scopes": ["articles:read"],
        "configuration_fields": {"type": "object"},
        "icon_url": "https://example.com/i.png", "call_to_action": "Connect", "error_codes": {"error_403": "Unauthorized"}
    })
}

/// The validators are not vacuous: they reject what Ada's schemas reject.
#[test]
fn schemas_reject_wrong_bodies() {
    let spec = spec();
    let (integration, _) = validator(&spec, "/v2/platform-integrations/{id}", "patch", 200);
    assert!(!integration.is_valid(&json!({})));
    assert!(!integration.is_valid(&json!({"id": "x", "status": "development", "tags": ["faq"]})));
    let (list, _) = validator(&spec, "/v2/platform-integrations/", "get", 200);
    assert!(!list.is_valid(&json!({"data": [{}], "meta": {"next_page_url": null}})));
    assert!(!list.is_valid(&json!({"data": [], "meta": {"next_page_url": 3}})));
    let (errors, reference) = validator(&spec, "/v2/platform-integrations/", "post", 400);
    assert_eq!(reference, "#/components/schemas/Errors");
    assert!(!errors.is_valid(&json!({"errors": [{"message": "no type"}]})));
    assert!(!errors.is_valid(&json!({"statusCode": 400})));
}

#[tokio::test]
async fn ada_responses_match_the_openapi_schemas() {
    let _ = rustls::crypto::ring::default_provider().install_default(); // reqwest needs a TLS provider, even for http://
    let server = RunningServer::start(
        Emulator::new(Store::in_memory(), TOKEN),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let mut c = Check {
        spec: spec(),
        server,
        http: reqwest::Client::new(),
        checked: Vec::new(),
    };
    let collection = "/v2/platform-integrations/";
    let item = "/v2/platform-integrations/{id}";
    let t = Some(TOKEN);
    let ada = "/api/v2/platform-integrations/";

    let created = c
        .call(
            Method::POST,
            ada,
            collection,
            Some(create_body("one")),
            t,
            200,
            "create with every field",
        )
        .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let mut minimal = create_body("two");
    for optional in ["icon_url", "call_to_action", "error_codes"] {
        minimal.as_object_mut().unwrap().remove(optional);
    }
    let path = format!("/api/v2/platform-integrations/{id}");
    let call = |method: Method,
                path: &str,
                spec_path: &'static str,
                body: Option<Value>,
                token: Option<&'static str>,
                expect: u16,
                why: &'static str| Step::Call {
        method,
        path: path.to_owned(),
        spec_path,
        body,
        token,
        expect,
        why,
    };
    let control = |method: Method, path: &str, body: Value| Step::Control {
        method,
        path: path.to_owned(),
        body,
    };
    // Each call with the status it must get, in order; a route that answers one of them with
    // another status fails here, at that call.
    let approve = json!({"status": "approved"});
    let faults = json!({"rules": [
        {"method": "GET", "times": 1, "action": {"type": "status", "status": 429}},
        {"method": "GET", "after": 1, "times": 1, "action": {"type": "status", "status": 500}}
    ]});
    let clear = json!({"description": "new", "icon_url": null, "error_codes": null});
    let unknown = "/api/v2/platform-integrations/000000000000000000000000";
    let (first, bad_cursor) = (format!("{ada}?limit=1"), format!("{ada}?cursor=nope"));
    let (status, faults_path) = (format!("/_emulator/ada/{id}/status"), "/_emulator/faults");
    use Method as M;
    #[rustfmt::skip]
    let steps = vec![
        call(M::POST, ada, collection, Some(minimal), t, 200, "create without the optional fields"),
        call(M::POST, ada, collection, Some(json!({"name": 1})), t, 400, "create with a wrong type"),
        call(M::POST, ada, collection, Some(create_body("x")), None, 401, "create without a token"),
        call(M::GET, &first, collection, None, t, 200, "a page with next_page_url"),
        call(M::GET, ada, collection, None, t, 200, "the last page: next_page_url null"),
        call(M::GET, ada, collection, None, None, 401, "list without a token"),
        call(M::GET, &bad_cursor, collection, None, t, 400, "an unknown cursor"),
        call(M::PATCH, &path, item, Some(clear), t, 200, "update, clearing the nullable fields"),
        call(M::PATCH, &path, item, Some(json!({"tags": ["nope"]})), t, 400, "a tag Ada refuses"),
        call(M::PATCH, unknown, item, Some(json!({})), t, 404, "update of an unknown id"),
        call(M::PATCH, &path, item, Some(json!({})), None, 401, "update without a token"),
        control(M::POST, &status, approve),
        call(M::PATCH, &path, item, Some(json!({"name": "frozen"})), t, 403, "update when approved"),
        // Injected 429 and 500 use the same envelope.
        control(M::PUT, faults_path, faults),
        call(M::GET, ada, collection, None, t, 429, "an injected 429"),
        call(M::GET, ada, collection, None, t, 500, "an injected 500"),
        call(M::GET, ada, collection, None, t, 200, "the faults are spent"),
    ];
    c.run(steps).await;

    // The table covers every status the spec's error envelope is checked for.
    let statuses: Vec<&str> = c
        .checked
        .iter()
        .map(|s| s.split(' ').nth(2).unwrap())
        .collect();
    for status in ["200", "400", "401", "403", "404", "429", "500"] {
        assert!(
            statuses.contains(&status),
            "no {status} checked: {:#?}",
            c.checked
        );
    }
}
