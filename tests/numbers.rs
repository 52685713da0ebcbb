//! Numbers end to end (issue #21): live state holds numbers exactly as the API wrote them, past
//! f64 too, and plans compare them with the manifests' by exact value. The emulator is seeded
//! with raw request bodies (never a serde value that could respell a number), and it keeps each
//! number's text (serde_json only writes an exponent's `+`: `1e999999` reads back `1e+999999`).

mod common;

use serde_json::{Value, json};

use common::{Env, TOKEN, ada_manifest, ada_spec};

/// Sends `body` as it is, byte for byte; the answer, which must be a success.
fn send_raw(env: &Env, method: reqwest::Method, path: &str, body: &str) -> Value {
    let (status, text) = env.emulator.send(method, path, Some(TOKEN), Some(body));
    assert!((200..300).contains(&status), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap()
}

/// The raw text of a GET's answer.
fn get_raw(env: &Env, path: &str) -> String {
    env.emulator
        .send(reqwest::Method::GET, path, Some(TOKEN), None)
        .1
}

fn action<'a>(plan: &'a Value, name: &str) -> &'a Value {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no action for {name}: {plan}"))
}

/// An Ada integration whose form's `maximum` is `1e999999` (a valid JSON number no f64 holds)
/// is read, planned, updated and verified like any other, and the other integrations of the
/// target plan too.
#[test]
fn a_live_number_past_f64_is_read_and_planned() {
    let env = Env::new(100);
    let mut spec = ada_spec("Huge Max", "old text");
    spec["configuration_fields"]["properties"]["account"]["properties"]["seats"] =
        json!({"type": "integer", "maximum": "MAXIMUM"});
    let body = spec.to_string().replace("\"MAXIMUM\"", "1e999999");
    let huge = send_raw(
        &env,
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        &body,
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.emulator.seed_ada("Plain", "same");
    let listed = get_raw(&env, "/api/v2/platform-integrations/?limit=100");
    assert!(
        listed.contains(r#""maximum":1e+999999"#),
        "the emulator keeps the number: {listed}"
    );

    env.manifest("plain.yaml", &ada_manifest("Plain", "same"));
    // Pinned by id, managing its description only.
    env.manifest(
        "huge.yaml",
        &format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata: {{id: '{huge}'}}\nspec:\n  description: new text\n"),
    );
    let (code, plan, stderr) = env.plan_json(&["--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "update": 1, "noop": 1, "blocked": 0, "unmanaged": 0})
    );
    assert_eq!(
        action(&plan, "Huge Max")["patch"],
        json!({"description": "new text"})
    );

    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, plan, stderr) = env.plan_json(&["--detailed-exitcode"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan["summary"]["noop"], 2);
    let listed = get_raw(&env, "/api/v2/platform-integrations/?limit=100");
    assert!(
        listed.contains(r#""maximum":1e+999999"#),
        "the PATCH left the form as it was: {listed}"
    );
}

/// A manifest's number against a live one, by exact value: `9007199254740993` is not the live
/// `9007199254740992.0` (one f64), `1e300` is not `1e301`, and `1` is `1.0`.
#[test]
fn manifest_numbers_are_compared_with_live_ones_exactly() {
    let env = Env::new(100);
    for body in [
        r#"{"name": "big", "config": {"limit": 9007199254740992.0}}"#,
        r#"{"name": "far", "config": {"max": 1e301}}"#,
        r#"{"name": "one", "config": {"step": 1.0, "ratio": 0.5}}"#,
    ] {
        send_raw(&env, reqwest::Method::POST, "/integration", body);
    }
    let listed = get_raw(&env, "/integration?limit=100");
    for text in [
        r#""limit":9007199254740992.0"#,
        r#""max":1e+301"#,
        r#""step":1.0"#,
    ] {
        assert!(listed.contains(text), "the emulator keeps {text}: {listed}");
    }
    let truto = |name: &str, config: &str| {
        format!(
            "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec:\n  name: {name}\n  config: {config}\n"
        )
    };
    env.manifest("big.yaml", &truto("big", "{limit: 9007199254740993}"));
    env.manifest("far.yaml", &truto("far", "{max: 1e300}"));
    env.manifest("one.yaml", &truto("one", "{step: 1, ratio: 0.50}"));

    let (code, plan, stderr) = env.plan_json(&["--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "update": 2, "noop": 1, "blocked": 0, "unmanaged": 0})
    );
    let big = action(&plan, "big");
    assert_eq!(big["action"], "update");
    assert_eq!(
        big["patch"]["config"]["limit"].to_string(),
        "9007199254740993"
    );
    assert_eq!(
        big["live"]["config"]["limit"].to_string(),
        "9007199254740992.0"
    );
    assert_eq!(action(&plan, "far")["action"], "update");
    assert_eq!(action(&plan, "one")["action"], "noop");

    let (code, text, stderr) = env.run(&["plan", "--target", "truto"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        text.contains("config.limit: 9007199254740992.0 → 9007199254740993"),
        "{text}"
    );

    let (code, _, stderr) = env.run(&["apply", "--target", "truto", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, plan, stderr) = env.plan_json(&["--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plan["summary"]["noop"], 3);
    let listed = get_raw(&env, "/integration?limit=100");
    assert!(
        listed.contains(r#""limit":9007199254740993"#),
        "written exactly: {listed}"
    );
}
