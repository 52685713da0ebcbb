//! One writer per target (design §12, issue #21): two `apply` runs at once in one checkout
//! created every integration twice (Ada has no delete). The second writer now refuses at once,
//! naming the first, or waits for it with `--lock-timeout` and plans from what it wrote; and
//! when duplicates exist anyway, the error says which is which and how to keep one.

mod common;

use std::time::Duration;

use common::{Env, Running, ada_manifest};
use serde_json::json;

fn slow_api(env: &Env) {
    env.emulator
        .set_faults(json!({"latency_ms": 300, "rules": []}));
}

fn manifests(env: &Env) {
    for i in 0..3 {
        env.manifest(
            &format!("m{i}.yaml"),
            &ada_manifest(&format!("Twice {i}"), "x"),
        );
    }
}

fn names(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = env
        .emulator
        .ada_live()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

/// Starts `intsync apply` and returns once it holds the lock (it says it reads live state).
fn first_apply(env: &Env) -> Running {
    let mut first = env.spawn(&["apply", "--auto-approve"]);
    first.wait_stderr("Reading live state", Duration::from_secs(20));
    first
}

/// Waits for the first apply to succeed.
fn first_succeeds(first: Running) {
    let (code, _, stderr) = first.finish(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn a_second_apply_refuses_at_once_and_names_the_first() {
    let env = Env::new(100);
    manifests(&env);
    slow_api(&env);
    let first = first_apply(&env);
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("target `ada` is being written by pid ")
            && stderr.contains(&format!("pid {} on ", first.pid()))
            && stderr.contains("`intsync apply`")
            && stderr.contains("nothing was done")
            && stderr.contains("--lock-timeout"),
        "{stderr}"
    );
    first_succeeds(first);
    assert_eq!(
        names(&env),
        ["Twice 0", "Twice 1", "Twice 2"],
        "no duplicate"
    );
}

#[test]
fn a_second_apply_with_a_lock_timeout_waits_and_plans_from_what_the_first_wrote() {
    let env = Env::new(100);
    manifests(&env);
    slow_api(&env);
    let first = first_apply(&env);
    let (code, _, stderr) = env.run(&["apply", "--auto-approve", "--lock-timeout", "60s"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Waiting up to 1 min for the lock of target `ada`"),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing to apply."), "{stderr}");
    first_succeeds(first);
    assert_eq!(
        names(&env),
        ["Twice 0", "Twice 1", "Twice 2"],
        "no duplicate"
    );
}

/// `pull` and `watch --apply` take the same lock as `apply`.
#[test]
fn pull_and_watch_apply_wait_for_the_writer_too() {
    let env = Env::new(100);
    manifests(&env);
    slow_api(&env);
    let first = first_apply(&env);
    let (code, _, stderr) = env.run(&["pull", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is being written by pid"), "{stderr}");
    let (code, _, stderr) = env.run(&["watch", "--apply"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is being written by pid"), "{stderr}");
    first_succeeds(first);
}

/// Duplicates made anyway (by hand, another checkout): every id with its creation time and
/// whether its client secret is saved here, and how to pin one.
#[test]
fn duplicate_names_list_every_id_with_its_creation_time_and_saved_secret() {
    let env = Env::new(100);
    env.manifest("dup.yaml", &ada_manifest("Dup", "x"));
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let first = env.emulator.ada_live()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = env.emulator.seed_ada("Dup", "x");
    let (code, _, stderr) = env.run(&["plan"]);
    assert_eq!(code, 1, "{stderr}");
    let line = |id: &str| {
        stderr
            .lines()
            .find(|l| l.starts_with(&format!("  - {id:?}: created ")))
            .unwrap_or_else(|| panic!("{id}: {stderr}"))
            .to_owned()
    };
    assert!(
        line(&first).contains(&format!(
            "client secret saved in .intsync/secrets/{first}.json"
        )),
        "{stderr}"
    );
    assert!(
        line(&second).contains("no client secret saved here"),
        "{stderr}"
    );
    assert!(
        stderr.contains("Keep one: add `metadata: { id: ")
            && stderr.contains("\"manifests/dup.yaml\""),
        "{stderr}"
    );
}
