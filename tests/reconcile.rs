//! The reconcile contract end to end (design §6, §8): signals mid-apply, creates whose outcome is
//! unknown or whose answer is incomplete, `watch --apply` against failing reads and outside
//! writes, `Retry-After`, the key order of forms through `apply --plan`, and Truto's version
//! conflicts. The real binary against the emulator over HTTP; every wait has a deadline.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{Env, ada_manifest, ada_spec, truto_manifest, wait_until};
use reqwest::Method;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// Helpers

fn named<'a>(live: &'a [Value], name: &str) -> Vec<&'a Value> {
    live.iter().filter(|r| r["name"] == name).collect()
}

// ---------------------------------------------------------------------------------------------
// 1. Signals mid-apply

/// SIGINT / SIGTERM while creates are in flight: the writes in flight finish and their secrets
/// are saved, nothing new starts, what was not started is listed, and the exit code says which
/// signal. A re-run converges with no duplicate.
fn signal_mid_apply(signal: &str, signal_name: &str, exit_code: i32) {
    let env = Env::new(100);
    let names: Vec<String> = (0..8).map(|i| format!("Signalled {i}")).collect();
    for (i, name) in names.iter().enumerate() {
        env.manifest(&format!("s{i}.yaml"), &ada_manifest(name, "x"));
    }
    // Each create is committed at once and answered 400 ms later: two are in flight for a while.
    env.emulator.set_faults(
        json!({"rules": [{"method": "POST", "action": {"type": "latency", "ms": 400}}]}),
    );
    env.emulator.clear_requests();
    let mut apply = env.spawn(&["apply", "--auto-approve", "--parallelism", "2"]);
    wait_until("two creates in flight", Duration::from_secs(15), || {
        (env.emulator.logged("POST").len() >= 2).then_some(())
    });
    assert!(apply.still_running(), "the signal must land mid-run");
    apply.signal(signal);
    let (code, _, stderr) = apply.finish(Duration::from_secs(15));
    assert_eq!(code, Some(exit_code), "{stderr}");
    assert!(
        stderr.contains(&format!("Stopped by {signal_name}")),
        "{stderr}"
    );

    let live = env.emulator.ada_live();
    assert!(
        !live.is_empty() && live.len() < names.len(),
        "the signal landed mid-run: {} live",
        live.len()
    );
    let posts = env.emulator.logged("POST").len();
    assert_eq!(posts, live.len(), "every create sent was committed");
    // Every write in flight finished and its secret is on disk.
    for integration in &live {
        let name = integration["name"].as_str().unwrap();
        env.assert_secret_saved(integration["id"].as_str().unwrap(), name);
        assert!(
            stderr.contains(&format!("created AdaPlatformIntegration {name:?}")),
            "the finished create of {name:?} is reported: {stderr}"
        );
    }
    // Every other write is listed as not started.
    let not_started = stderr
        .split("not started")
        .nth(1)
        .unwrap_or_else(|| panic!("no `not started` list: {stderr}"));
    let missing: Vec<&String> = names
        .iter()
        .filter(|n| named(&live, n).is_empty())
        .collect();
    assert_eq!(missing.len(), names.len() - live.len());
    for name in missing {
        assert!(
            not_started.contains(&format!("AdaPlatformIntegration {name:?}")),
            "{name:?} is listed as not started: {stderr}"
        );
    }

    // A re-run finishes the job: eight, no duplicate, each with its secret.
    env.emulator.clear_faults();
    let (code, _, stderr) = env
        .spawn(&["apply", "--auto-approve"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let live = env.emulator.ada_live();
    assert_eq!(live.len(), names.len(), "{live:#?}");
    for name in &names {
        let found = named(&live, name);
        assert_eq!(found.len(), 1, "exactly one {name:?}");
        env.assert_secret_saved(found[0]["id"].as_str().unwrap(), name);
    }
    let files = std::fs::read_dir(env.secrets_dir())
        .unwrap()
        .filter(|e| {
            !e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with('.')
        })
        .count();
    assert_eq!(files, names.len(), "one secret file per integration");
}

#[test]
fn sigint_mid_apply_finishes_writes_in_flight_and_exits_130() {
    signal_mid_apply("INT", "SIGINT", 130);
}

#[test]
fn sigterm_mid_apply_finishes_writes_in_flight_and_exits_143() {
    signal_mid_apply("TERM", "SIGTERM", 143);
}

/// A second SIGINT while apply waits for the writes in flight exits at once, with 130, naming
/// the creates it leaves in flight. What it leaves behind (issue #21: the secrets were lost
/// silently, and the next apply said "No changes"): a record of each create, which the next
/// `plan` reports and the next `apply` settles (adopted, secret lost: rotate; exit 1), once.
#[test]
fn second_sigint_exits_at_once() {
    let env = Env::new(100);
    env.manifest("a.yaml", &ada_manifest("Slow A", "x"));
    env.manifest("b.yaml", &ada_manifest("Slow B", "x"));
    env.emulator.set_faults(
        json!({"rules": [{"method": "POST", "action": {"type": "latency", "ms": 5000}}]}),
    );
    env.emulator.clear_requests();
    let mut apply = env.spawn(&["apply", "--auto-approve"]);
    wait_until("both creates in flight", Duration::from_secs(15), || {
        (env.emulator.logged("POST").len() == 2).then_some(())
    });
    let in_flight = Instant::now();
    apply.signal("INT");
    // The first one is taken: it waits for the writes in flight (answered 5 s after they landed).
    apply.wait_stderr("waiting for the writes in flight", Duration::from_secs(3));
    std::thread::sleep(Duration::from_millis(200));
    assert!(apply.still_running(), "it waits after one SIGINT");
    apply.signal("INT");
    let second = Instant::now();
    let (code, _, stderr) = apply.finish(Duration::from_secs(10));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "exited {:?} after the second SIGINT",
        second.elapsed()
    );
    assert!(
        in_flight.elapsed() < Duration::from_millis(4500),
        "exited before the answer came: {:?}",
        in_flight.elapsed()
    );
    let exiting = stderr
        .lines()
        .find(|l| l.contains("again: exiting now"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(
        exiting.contains("2 creates in flight, outcome unknown")
            && exiting.contains("AdaPlatformIntegration \"Slow A\"")
            && exiting.contains("AdaPlatformIntegration \"Slow B\"")
            && exiting.contains("rotate it"),
        "{exiting}"
    );

    // What it left behind: both integrations live (committed when they arrived), no secret
    // file, and a record of each create in flight.
    env.emulator.clear_faults();
    let live = env.emulator.ada_live();
    assert_eq!(live.len(), 2, "{live:#?}");
    assert!(!env.secrets_dir().exists());
    let records = env.dir.path().join(".intsync/targets/ada/intents");
    assert_eq!(std::fs::read_dir(&records).unwrap().count(), 2);

    // `plan` names both (read-only: the records stay).
    let (code, _, stderr) = env.run(&["plan"]);
    assert_eq!(code, 0, "{stderr}");
    for name in ["Slow A", "Slow B"] {
        assert!(
            stderr.lines().any(|l| l.contains(&format!("{name:?}"))
                && l.contains("a run stopped while creating")
                && l.contains("it is lost")),
            "{name}: {stderr}"
        );
    }
    assert_eq!(std::fs::read_dir(&records).unwrap().count(), 2);

    // `apply` adopts them (nothing to create), says so, fails once, and clears the records.
    env.emulator.clear_requests();
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.matches("it is lost").count(), 2, "{stderr}");
    assert!(stderr.contains("Nothing to apply."), "{stderr}");
    assert!(
        env.emulator.logged("POST").is_empty(),
        "nothing created again"
    );
    assert_eq!(std::fs::read_dir(&records).unwrap().count(), 0);
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "said once: {stderr}");
    assert!(!stderr.contains("a run stopped"), "{stderr}");
    assert_eq!(env.emulator.ada_live().len(), 2, "no duplicate");
}

// ---------------------------------------------------------------------------------------------
// 2, 3. Creates whose answer is late or incomplete

/// The server commits a create 4 s after it arrived; the client gives up after 1 s and looks
/// for it over its grace window (1.5 timeouts). The POST is never sent again; the item fails
/// with "outcome unknown"; the integration shows later, once.
#[test]
fn create_committed_after_the_client_timeout_is_never_sent_twice() {
    let env = Env::new(100);
    env.edit_config(
        "rate_limit = \"off\"",
        "rate_limit = \"off\"\ntimeout_secs = 1",
    );
    env.manifest("late.yaml", &ada_manifest("Late", "x"));
    env.emulator.set_faults(json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "delay_commit", "ms": 4000}}]}),
    );
    env.emulator.clear_requests();
    let (code, _, stderr) = env
        .spawn(&["apply", "--auto-approve"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains("outcome unknown; run `intsync plan` again in a minute"),
        "{stderr}"
    );
    let faults = env.emulator.faults();
    assert_eq!(
        faults["rules"][0]["seen"], 1,
        "one POST arrived: {faults:#}"
    );

    // The emulator commits a request, then logs it: wait for both (the run has ended, so
    // nothing can be sent any more).
    wait_until(
        "the held create is committed and logged",
        Duration::from_secs(15),
        || {
            (!env.emulator.ada_live().is_empty() && !env.emulator.logged("POST").is_empty())
                .then_some(())
        },
    );
    let live = env.emulator.ada_live();
    assert_eq!(named(&live, "Late").len(), 1, "{live:#?}");
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(
        env.emulator.logged("POST").len(),
        1,
        "the POST was never re-sent"
    );
    let faults = env.emulator.faults();
    assert_eq!(faults["rules"][0]["seen"], 1, "{faults:#}");

    let (code, stdout, _) = env
        .spawn(&["plan", "--detailed-exitcode"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stdout}");
}

/// A create answered 200 with its secret but without `scopes`: the secret is kept, the
/// integration is read from live state, and nothing is created twice.
#[test]
fn create_answered_without_a_field_keeps_its_secret() {
    let env = Env::new(100);
    env.manifest("partial.yaml", &ada_manifest("Partial", "x"));
    env.emulator.set_faults(json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "drop_field", "field": "scopes"}}]}),
    );
    env.emulator.clear_requests();
    let (code, _, stderr) = env
        .spawn(&["apply", "--auto-approve"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("read from live state as its answer was incomplete"),
        "{stderr}"
    );
    let faults = env.emulator.faults();
    assert_eq!(
        faults["rules"][0]["applied"], 1,
        "the fault acted: {faults:#}"
    );
    let live = env.emulator.ada_live();
    assert_eq!(live.len(), 1, "{live:#?}");
    assert_eq!(live[0]["name"], "Partial");
    env.assert_secret_saved(live[0]["id"].as_str().unwrap(), "Partial");
    assert_eq!(env.emulator.logged("POST").len(), 1);
}

// ---------------------------------------------------------------------------------------------
// 4. watch --apply

/// A save whose read of live state fails writes nothing until a read succeeds; then it writes,
/// once.
#[test]
fn watch_apply_writes_nothing_until_a_read_succeeds() {
    let env = Env::new(100);
    env.emulator.clear_requests();
    let mut watch = env.spawn(&["watch", "--apply", "--refresh", "1", "manifests"]);
    watch.next_plan(Duration::from_secs(10));

    env.manifest("x.yaml", &ada_manifest("Watch X", "x"));
    watch.wait_stderr(
        "created AdaPlatformIntegration \"Watch X\"",
        Duration::from_secs(10),
    );
    watch.wait_stderr("applied 1 change", Duration::from_secs(5));
    assert_eq!(env.emulator.logged("POST").len(), 1);

    // Every read fails from now on.
    env.emulator.set_faults(
        json!({"rules": [{"method": "GET", "action": {"type": "status", "status": 500}}]}),
    );
    watch.wait_stderr("cannot refresh live state", Duration::from_secs(10));
    env.manifest("x.yaml", &ada_manifest("Watch X", "x"));
    env.manifest("y.yaml", &ada_manifest("Watch Y", "y"));
    watch.wait_stderr(
        "nothing is written until a read succeeds",
        Duration::from_secs(10),
    );
    // The loop is back to its refreshes: the cycle of that save is over.
    watch.wait_stderr("cannot refresh live state", Duration::from_secs(10));
    assert_eq!(
        env.emulator.logged("POST").len(),
        1,
        "no write while live state cannot be read"
    );

    // Reads work again: the next refresh lets the waiting save write Y (and only Y).
    env.emulator.clear_faults();
    let after = watch.wait_stderr(
        "created AdaPlatformIntegration \"Watch Y\"",
        Duration::from_secs(10),
    );
    assert!(
        after
            .iter()
            .all(|l| !l.contains("created AdaPlatformIntegration \"Watch X\"")),
        "{after:#?}"
    );
    watch.wait_stderr("applied 1 change", Duration::from_secs(5));
    watch.signal("INT");
    let (code, _, stderr) = watch.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "{stderr}");

    let live = env.emulator.ada_live();
    assert_eq!(named(&live, "Watch X").len(), 1, "{live:#?}");
    assert_eq!(named(&live, "Watch Y").len(), 1, "{live:#?}");
    assert_eq!(live.len(), 2);
    assert_eq!(env.emulator.logged("POST").len(), 2, "one create per name");
}

/// An integration created outside intsync just before its manifest is saved: watch reads live
/// state after the save, sees it, and does not create it again.
#[test]
fn watch_apply_reads_after_the_save_and_adopts_an_outside_create() {
    let env = Env::new(100);
    // No refresh during the test: only the read after the save can see the outside create.
    let mut watch = env.spawn(&["watch", "--apply", "--refresh", "3600", "manifests"]);
    watch.next_plan(Duration::from_secs(10));
    env.emulator.clear_requests();

    let id = env.emulator.seed_ada("Outside Z", "z");
    env.manifest("z.yaml", &ada_manifest("Outside Z", "z"));
    let plan = watch.next_plan(Duration::from_secs(10));
    let summary = plan.last().unwrap();
    assert!(
        summary.contains("0 to create, 0 to update, 0 blocked, 1 unchanged"),
        "{plan:#?}"
    );
    watch.signal("INT");
    let (code, _, stderr) = watch.finish(Duration::from_secs(10));
    assert_eq!(code, Some(0), "Ctrl-C stops watch with 0: {stderr}");
    assert!(
        !stderr.contains("created AdaPlatformIntegration"),
        "{stderr}"
    );

    let live = env.emulator.ada_live();
    assert_eq!(named(&live, "Outside Z").len(), 1, "{live:#?}");
    assert_eq!(live[0]["id"], id.as_str());
    assert_eq!(
        env.emulator.logged("POST").len(),
        1,
        "the only create is the outside one"
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Retry-After

const RETRY_LINE: &str = "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100 }";

/// `plan` after a 429 carrying `retry_after`: its exit code and how long it took.
fn plan_after_429(env: &Env, retry_after: &str) -> (Option<i32>, String, Duration) {
    env.emulator.set_faults(json!({"rules": [{"method": "GET", "times": 1, "action": {"type": "status", "status": 429, "retry_after": retry_after}}]}),
    );
    env.emulator.clear_requests();
    let started = Instant::now();
    let (code, _, stderr) = env.spawn(&["plan"]).finish(Duration::from_secs(20));
    let took = started.elapsed();
    let gets = env.emulator.logged("GET");
    assert!(
        gets.len() >= 2 && gets[0]["status"] == 429,
        "retried after the 429: {gets:#?}"
    );
    (code, stderr, took)
}

#[test]
fn retry_after_huge_negative_and_dates_are_handled() {
    let env = Env::new(100);
    env.manifest("r.yaml", &ada_manifest("Retried", "x"));
    env.edit_config(RETRY_LINE,
        "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100, max_retry_after_ms = 300 }",
    );
    for value in ["1e20", "-5"] {
        let (code, stderr, took) = plan_after_429(&env, value);
        assert_eq!(code, Some(0), "Retry-After: {value}: {stderr}");
        assert!(
            took < Duration::from_secs(10),
            "Retry-After: {value}: capped, took {took:?}"
        );
    }

    // An HTTP-date is honoured (the backoff alone would wait a few milliseconds).
    env.edit_config("max_retry_after_ms = 300", "max_retry_after_ms = 10000");
    let now = SystemTime::now();
    let started = Instant::now();
    let date = httpdate::fmt_http_date(now + Duration::from_secs(2));
    let (code, stderr, _) = plan_after_429(&env, &date);
    assert_eq!(code, Some(0), "Retry-After: {date}: {stderr}");
    // The date has whole seconds: it is at least 1 s after `now`.
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After: {date} was not waited for: {:?}",
        started.elapsed()
    );
}

// ---------------------------------------------------------------------------------------------
// 6. The order of a form's properties through `apply --plan`

fn ordered_form_manifest(name: &str, zeta_title: &str) -> String {
    format!(
        "apiVersion: intsync/v1
kind: AdaPlatformIntegration
spec:
  name: {name}
  description: A form in the author's order
  author: Cool Shop
  contact: help@coolshop.support
  identifier_field_path: account.name
  uninstallation_url: https://coolshop.example.com/uninstall
  oauth_callback_url: https://coolshop.example.com/oauth/callback
  tags: [knowledge]
  scopes: [articles:read]
  configuration_fields:
    type: object
    required: [account]
    properties:
      zeta:
        type: string
        title: {zeta_title}
      account:
        type: object
        required: [name]
        properties:
          name:
            type: string
            title: Account name
      alpha:
        type: boolean
        title: Alpha
"
    )
}

fn property_order(integration: &Value) -> Vec<String> {
    integration["configuration_fields"]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("no properties: {integration:#}"))
        .keys()
        .cloned()
        .collect()
}

fn plan_out_then_apply_plan(env: &Env) -> Value {
    let (code, stdout, stderr) = env.spawn(&["validate"]).finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let (code, _, stderr) = env
        .spawn(&["plan", "--out", "plan.json"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(env.dir.path().join("plan.json")).unwrap();
    // The payload (`body` of a create, `patch` of an update; `live` keeps the API's order).
    let payload = ["\"body\": {", "\"patch\": {"]
        .iter()
        .find_map(|key| text.find(key))
        .unwrap_or_else(|| panic!("no body or patch in the plan: {text}"));
    let zeta = text[payload..]
        .find("\"zeta\"")
        .expect("zeta in the payload");
    let alpha = text[payload..]
        .find("\"alpha\"")
        .expect("alpha in the payload");
    assert!(zeta < alpha, "the plan keeps the manifest's order: {text}");
    let (code, _, stderr) = env
        .spawn(&["apply", "--plan", "plan.json", "--auto-approve"])
        .finish(Duration::from_secs(30));
    assert_eq!(code, Some(0), "{stderr}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn form_property_order_survives_plan_out_and_apply_plan() {
    let env = Env::new(100);
    env.manifest("form.yaml", &ordered_form_manifest("Ordered Form", "Zeta"));
    let plan = plan_out_then_apply_plan(&env);
    let body = &plan["actions"][0]["body"];
    assert_eq!(plan["actions"][0]["action"], "create", "{plan:#}");
    assert_eq!(property_order(body), ["zeta", "account", "alpha"]);
    let live = env.emulator.ada_live();
    assert_eq!(live.len(), 1);
    assert_eq!(property_order(&live[0]), ["zeta", "account", "alpha"]);

    // An update to a form stored alphabetically: the manifest's order is what goes live.
    let env = Env::new(100);
    let mut spec = ada_spec("Reordered Form", "A form in the author's order");
    spec["scopes"] = json!(["articles:read"]);
    spec["configuration_fields"] = json!({
        "type": "object", "required": ["account"],
        "properties": {
            "account": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "title": "Account name"}}},
            "alpha": {"type": "boolean", "title": "Alpha"},
            "zeta": {"type": "string", "title": "Zeta"}
        }
    });
    let id = env
        .emulator
        .call(Method::POST, "/api/v2/platform-integrations/", Some(spec))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        property_order(&env.emulator.ada_live()[0]),
        ["account", "alpha", "zeta"]
    );
    env.manifest(
        "form.yaml",
        &ordered_form_manifest("Reordered Form", "Zeta, renamed"),
    );
    env.emulator.clear_requests();
    let plan = plan_out_then_apply_plan(&env);
    assert_eq!(plan["actions"][0]["action"], "update", "{plan:#}");
    let patches = env.emulator.logged("PATCH");
    assert_eq!(patches.len(), 1, "{patches:#?}");
    let live = env.emulator.ada_live();
    assert_eq!(live[0]["id"], id.as_str());
    assert_eq!(
        live[0]["configuration_fields"]["properties"]["zeta"]["title"],
        "Zeta, renamed"
    );
    assert_eq!(property_order(&live[0]), ["zeta", "account", "alpha"]);
}

// ---------------------------------------------------------------------------------------------
// 7. Truto version conflicts

/// Someone else updates a Truto integration while intsync's PATCH is on its way: the PATCH is
/// refused on its version, nothing is overwritten, and apply exits 4 (stale).
#[test]
fn truto_version_conflict_mid_apply_exits_4_and_overwrites_nothing() {
    let env = Env::new(100);
    let created = env
        .emulator
        .seed_truto(json!({"name": "crm", "category": "crm"}));
    let id = created["id"].as_str().unwrap().to_owned();
    env.manifest("crm.yaml", &truto_manifest("crm", "helpdesk"));
    env.emulator.set_faults(json!({"rules": [{"method": "PATCH", "times": 1, "action": {"type": "delay_commit", "ms": 3000}}]}),
    );
    let apply = env.spawn(&["apply", "--target", "truto", "--auto-approve"]);
    wait_until("intsync's PATCH is held", Duration::from_secs(15), || {
        (env.emulator.faults()["rules"][0]["seen"] == 1).then_some(())
    });
    // Someone else's update, at the current version, lands first.
    let current = env
        .emulator
        .call(Method::GET, &format!("/integration/{id}"), None);
    assert_eq!(current["version"], 1, "{current:#}");
    let theirs = env.emulator.call(
        Method::PATCH,
        &format!("/integration/{id}"),
        Some(json!({"category": "marketing", "version": current["version"]})),
    );
    assert_eq!(theirs["version"], 2, "{theirs:#}");

    let (code, _, stderr) = apply.finish(Duration::from_secs(30));
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("run `intsync plan` again"), "{stderr}");
    let live = env
        .emulator
        .call(Method::GET, &format!("/integration/{id}"), None);
    assert_eq!(live["category"], "marketing", "not overwritten: {live:#}");
    assert_eq!(live["version"], 2, "{live:#}");
}
