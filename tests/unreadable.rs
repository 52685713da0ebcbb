//! One live integration that cannot be read (issue #22): every other integration plans, applies
//! and exports; the unreadable one is said by id with the reason, on stderr, after the rest,
//! and the command exits 1. A manifest that may be it is never planned: no update, and above
//! all no create (Ada has no delete: a duplicate would stay).
//!
//! The API is a hand-written Ada (`common::tiny::Server`): the emulator refuses to store an
//! integration without `status`, or named by a number.

mod common;

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use common::tiny::{Answer, Request, Server, env_at};
use common::{Workdir, ada_manifest, ada_record, file_names};

const LIST: &str = "/api/v2/platform-integrations/";

/// A minimal Ada holding `records`: the list answers all of them on one page, a PATCH merges
/// its body into the record of its id, a POST adds one (with a client secret).
fn fake_ada(records: Vec<Value>) -> (Server, Arc<Mutex<Vec<Value>>>) {
    let state = Arc::new(Mutex::new(records));
    let held = Arc::clone(&state);
    let server = Server::start(move |request: &Request| {
        let error = |status: u16| {
            Answer::json(
                status,
                r#"{"errors":[{"type":"x","message":"no such route"}]}"#,
            )
        };
        if !request.authorized {
            return error(401);
        }
        let mut records = held.lock().unwrap();
        match request.method.as_str() {
            "GET" if request.target.starts_with(LIST) => Answer::json(
                200,
                json!({"data": *records, "meta": {"next_page_url": null}}).to_string(),
            ),
            "PATCH" => {
                let id = request.target.trim_start_matches(LIST);
                let Some(record) = records.iter_mut().find(|r| r["id"] == id) else {
                    return error(404);
                };
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                for (key, value) in body.as_object().unwrap() {
                    record[key] = value.clone();
                }
                Answer::json(200, record.to_string())
            }
            "POST" if request.target == LIST => {
                let mut record: Value = serde_json::from_slice(&request.body).unwrap();
                record["id"] = json!(format!("new{}", records.len()));
                record["status"] = json!("development");
                records.push(record.clone());
                record["client_secret"] = json!("fresh-secret-1");
                Answer::json(200, record.to_string())
            }
            _ => error(404),
        }
    });
    (server, state)
}

/// `Alpha` (its manifest changes the description), `Beta` (unchanged), and `Gamma`, whose
/// answer has no `status`; a manifest of each, by name, and one of `Fresh`, which is not live.
fn one_without_status() -> (Server, Arc<Mutex<Vec<Value>>>, Workdir) {
    let mut gamma = ada_record("a3", "Gamma", "old");
    gamma.as_object_mut().unwrap().remove("status");
    let (server, state) = fake_ada(vec![
        ada_record("a1", "Alpha", "old"),
        ada_record("a2", "Beta", "same"),
        gamma,
    ]);
    let env = env_at(
        &server,
        &[
            ("alpha.yaml", ada_manifest("Alpha", "new")),
            ("beta.yaml", ada_manifest("Beta", "same")),
            ("gamma.yaml", ada_manifest("Gamma", "new")),
            ("fresh.yaml", ada_manifest("Fresh", "brand new")),
        ],
    );
    (server, state, env)
}

const GAMMA_SAID: &str = "error: the live AdaPlatformIntegration \"Gamma\" (a3) cannot be read: it has no `status` (listed by GET /api/v2/platform-integrations/?limit=100)";

/// `plan` prints the plan of the others (in every format), then names the unreadable one by id
/// with its reason and the manifest set aside, and exits 1 (also with `--detailed-exitcode`).
#[test]
fn plan_prints_the_others_and_names_the_unreadable_one() {
    let (server, _, env) = one_without_status();
    let (code, stdout, stderr) = env.run(&["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no plan on stdout ({e}): {stdout:?}\nstderr: {stderr}"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        plan["summary"],
        json!({"create": 1, "update": 1, "blocked": 0, "noop": 1, "unmanaged": 0}),
        "{stdout}"
    );
    let actions: Vec<(String, String)> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["action"].as_str().unwrap().to_owned(),
                a["manifest"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        actions.contains(&("update".into(), "manifests/alpha.yaml".into())),
        "{actions:?}"
    );
    assert!(
        actions.contains(&("create".into(), "manifests/fresh.yaml".into())),
        "{actions:?}"
    );
    assert!(
        !actions.iter().any(|(_, m)| m.ends_with("gamma.yaml")),
        "Gamma's manifest is never planned: {actions:?}"
    );
    let update = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "update")
        .unwrap();
    assert_eq!(update["patch"], json!({"description": "new"}));
    assert_eq!(
        plan["unreadable"],
        json!([{
            "kind": "AdaPlatformIntegration", "id": "a3", "name": "Gamma",
            "page": "/api/v2/platform-integrations/?limit=100", "reason": "has no `status`",
            "set_aside": [{"manifest": "manifests/gamma.yaml", "name": "Gamma", "claim": "name"}]
        }])
    );
    assert!(stderr.contains(GAMMA_SAID), "{stderr}");
    assert!(
        stderr.contains(
            "manifests/gamma.yaml was not planned: its name \"Gamma\" is this integration's"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "error: 1 live integration of target `ada` cannot be read (above); the rest was planned"
        ),
        "{stderr}"
    );

    let (code, text, stderr) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 1, "an error, not changes: {stderr}");
    assert!(
        text.contains("~ AdaPlatformIntegration \"Alpha\" (a1) will be updated"),
        "{text}"
    );
    assert!(
        text.contains("Unreadable (live, but its answer cannot be read")
            && text.contains("✗ AdaPlatformIntegration \"Gamma\" (a3): has no `status`")
            && text.contains("not planned: manifests/gamma.yaml"),
        "{text}"
    );
    assert!(stderr.contains(GAMMA_SAID), "{stderr}");

    let (code, markdown, _) = env.run(&["plan", "--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        markdown.contains("**✗ 1 live integration cannot be read**")
            && markdown.contains(
                "`Gamma` (`a3`): `` has no `status` `` — not planned: `manifests/gamma.yaml`"
            ),
        "{markdown}"
    );

    let (code, _, stderr) = env.run(&["drift"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(GAMMA_SAID), "{stderr}");
    assert!(
        server.requests().iter().all(|r| r.method == "GET"),
        "plan and drift only read"
    );
}

/// `apply` writes everything else (the update, the create of `Fresh`), never writes to the
/// unreadable integration nor creates another `Gamma`, then names it and exits 1.
#[test]
fn apply_writes_the_others_and_never_creates_the_unreadable_one() {
    let (server, state, env) = one_without_status();
    let (code, stdout, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let writes: Vec<(String, String, Value)> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            (
                r.method,
                r.target,
                serde_json::from_slice(&r.body).unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(writes.len(), 2, "{writes:?}\n{stderr}");
    assert!(
        writes.contains(&(
            "PATCH".into(),
            format!("{LIST}a1"),
            json!({"description": "new"})
        )),
        "{writes:?}"
    );
    assert!(
        writes
            .iter()
            .any(|(m, t, body)| m == "POST" && t == LIST && body["name"] == "Fresh"),
        "{writes:?}"
    );
    let names: Vec<Value> = state
        .lock()
        .unwrap()
        .iter()
        .map(|r| r["name"].clone())
        .collect();
    assert_eq!(
        names,
        [
            json!("Alpha"),
            json!("Beta"),
            json!("Gamma"),
            json!("Fresh")
        ],
        "one Gamma, as before"
    );
    assert!(
        stderr.contains("Apply: 1 created, 1 updated, 0 failed."),
        "{stderr}"
    );
    assert!(stderr.contains(GAMMA_SAID), "{stderr}");
    assert!(
        stderr.contains("manifests/gamma.yaml was not planned"),
        "{stderr}"
    );
    // The report comes after the writes.
    assert!(
        stderr.find("Apply: ").unwrap() < stderr.find(GAMMA_SAID).unwrap(),
        "{stderr}"
    );
}

/// `export` writes a manifest of each readable integration, none of the unreadable one, names
/// it, and exits 1.
#[test]
fn export_writes_the_others_and_names_the_unreadable_one() {
    let (_server, _, env) = one_without_status();
    let (code, _, stderr) = env.run(&["export", "--dir", "exported"]);
    assert_eq!(code, 1, "{stderr}");
    let exported = env.dir.path().join("exported");
    assert!(exported.is_dir(), "nothing exported: {stderr}");
    let files = file_names(&exported);
    assert_eq!(files, ["alpha.yaml", "beta.yaml"], "{stderr}");
    assert!(stderr.contains(GAMMA_SAID), "{stderr}");
    assert!(
        stderr.contains("the others were exported (above)"),
        "{stderr}"
    );
}

/// An integration whose `name` is a number has no name a manifest can match: a manifest of a
/// new name may be the one it is, so it is not created; the update by name of a readable one
/// goes on.
#[test]
fn a_name_that_is_not_a_string_sets_aside_the_creates() {
    let mut numbered = ada_record("a4", "x", "old");
    numbered["name"] = json!(42);
    let (server, state, _) = {
        let (server, state) = fake_ada(vec![ada_record("a1", "Alpha", "old"), numbered]);
        (server, state, ())
    };
    let env = env_at(
        &server,
        &[
            ("alpha.yaml", ada_manifest("Alpha", "new")),
            ("delta.yaml", ada_manifest("Delta", "new")),
        ],
    );
    let (code, stdout, stderr) = env.run(&["plan", "--format", "json"]);
    let plan: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("no plan on stdout ({e}): {stdout:?}\nstderr: {stderr}"));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(plan["summary"]["update"], 1, "{stdout}");
    assert_eq!(plan["summary"]["create"], 0, "Delta may be a4: {stdout}");
    assert_eq!(
        plan["unreadable"][0]["set_aside"],
        json!([{"manifest": "manifests/delta.yaml", "name": "Delta", "claim": "create"}])
    );
    assert!(
        stderr.contains(
            "error: the live AdaPlatformIntegration (name unreadable) (a4) cannot be read: it has a `name` that is a number, not a string"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("manifests/delta.yaml was not created"),
        "{stderr}"
    );

    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    let writes: Vec<(String, String)> = server
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| (r.method, r.target))
        .collect();
    assert_eq!(writes, [("PATCH".to_owned(), format!("{LIST}a1"))]);
    assert_eq!(state.lock().unwrap().len(), 2, "nothing created");
}

/// `watch` says the unreadable integration after each plan, and goes on watching: a save is
/// planned again (and it is said again).
#[test]
fn watch_says_the_unreadable_one_and_goes_on() {
    let (server, _, env) = one_without_status();
    let mut watch = env.spawn(&["watch", "manifests"]);
    let within = std::time::Duration::from_secs(10);
    watch.wait_stdout(
        "~ AdaPlatformIntegration \"Alpha\" (a1) will be updated",
        within,
    );
    watch.wait_stderr(GAMMA_SAID, within);
    env.manifest("alpha.yaml", &ada_manifest("Alpha", "newer"));
    watch.wait_stdout("description: \"old\" → \"newer\"", within);
    watch.wait_stderr(GAMMA_SAID, within);
    assert!(watch.still_running(), "watch goes on");
    drop(watch);
    assert!(server.requests().iter().all(|r| r.method == "GET"));
}
