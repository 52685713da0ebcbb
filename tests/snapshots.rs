//! Whole-output snapshots of `plan` (text, markdown, JSON), `apply`, `drift` and `export` on one
//! fixed scenario: the real binary against the emulator, every byte of stdout and stderr, and
//! the exit code. They are the proof that a change to the code keeps what users see as it is.
//!
//! What differs from run to run is redacted by insta filters (see [`check`]): integration ids
//! (each named by its integration), the emulator's address, the test directory, timestamps and
//! fingerprints. The snapshots are committed in `tests/snapshots/`; a run whose output differs
//! fails (outside CI, insta writes the new output beside the snapshot as `.snap.new`, for
//! `cargo insta review` or a look with `diff`). An intended change: `INSTA_UPDATE=always cargo
//! test --test snapshots`, and review the diff of the `.snap` files.

mod common;

use common::{Env, ada_manifest, truto_manifest, truto_spec};

/// The Ada integrations: name, description live (`None`: not live), in its manifest (`None`:
/// no manifest). `Frozen` is approved, so its change is blocked.
const ADA: [(&str, Option<&str>, Option<&str>); 5] = [
    ("Unchanged", Some("same"), Some("same")),
    ("Changed", Some("old text"), Some("new text")),
    ("Frozen", Some("old text"), Some("new text")),
    ("Brand New", None, Some("hello")),
    ("Nobody's", Some("nobody manages it"), None),
];

/// The Truto integrations: name, category live (`None`: not live), in its manifest.
const TRUTO: [(&str, Option<&str>, &str); 3] = [
    ("crm", Some("crm"), "helpdesk"),
    ("tickets", Some("ticketing"), "ticketing"),
    ("new_crm", None, "crm"),
];

/// [`ADA`] and [`TRUTO`] live and in manifests: a create, an update, a noop, a blocked change
/// and an unmanaged integration on Ada; a create, an update and a noop on Truto.
fn scenario() -> Env {
    let env = Env::new(100);
    let file = |name: &str| format!("{}.yaml", name.to_lowercase().replace([' ', '_'], "-"));
    for (name, live, manifest) in ADA {
        if let Some(description) = live {
            let id = env.emulator.seed_ada(name, description);
            if name == "Frozen" {
                env.emulator.set_status(&id, "approved");
            }
        }
        if let Some(description) = manifest {
            env.manifest(&file(name), &ada_manifest(name, description));
        }
    }
    for (name, live, manifest) in TRUTO {
        if let Some(category) = live {
            env.emulator.seed_truto(truto_spec(name, category));
        }
        env.manifest(&file(name), &truto_manifest(name, manifest));
    }
    env
}

/// `text` as a regular expression that matches it literally (what `regex::escape` does).
fn literally(text: &str) -> String {
    let mut escaped = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// Asserts that `text`, with what differs from run to run redacted, is the snapshot `name`;
/// `command` is said in the snapshot's header.
///
/// Redacted: every live integration's id, as `[id of NAME]` (read from the emulator after the
/// command, so an integration it created is named too), Truto's team id as `[team]`; then any
/// other Ada id (24 hex digits) and UUID; the emulator's base URL as `[emulator]` (any other
/// loopback port as `[port]`); the test directory as `[dir]`; timestamps as `[time]`;
/// fingerprints as `sha256:[fingerprint]`.
fn check(env: &Env, name: &str, command: &str, text: &str) {
    let api = &env.emulator;
    let mut settings = insta::Settings::clone_current();
    settings.set_omit_expression(true);
    settings.set_description(command);
    let live = api.ada_live().into_iter().chain(api.truto_live());
    for integration in live {
        let id = integration["id"].as_str().unwrap();
        let name = integration["name"].as_str().unwrap();
        settings.add_filter(&literally(id), format!("[id of {name}]"));
    }
    let team = &api.call(reqwest::Method::GET, "/environment", None)["result"][0]["team_id"];
    settings.add_filter(&literally(team.as_str().unwrap()), "[team]");
    settings.add_filter(r"\b[0-9a-f]{24}\b", "[ada id]");
    settings.add_filter(
        r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
        "[uuid]",
    );
    settings.add_filter(&literally(api.base_url()), "[emulator]");
    settings.add_filter(r"127\.0\.0\.1:\d+", "127.0.0.1:[port]");
    // The directory as the binary sees it, and as the test named it (`/tmp` may be a link).
    let dir = env.path();
    if let Ok(canonical) = dir.canonicalize() {
        settings.add_filter(&literally(&canonical.display().to_string()), "[dir]");
    }
    settings.add_filter(&literally(&dir.display().to_string()), "[dir]");
    settings.add_filter(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
        "[time]",
    );
    settings.add_filter(r"sha256:[0-9a-f]{64}", "sha256:[fingerprint]");
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A run's whole output: its exit code, stdout and stderr, each stream ended by a marker (so a
/// missing or extra newline at its end shows).
fn transcript((code, stdout, stderr): (i32, String, String)) -> String {
    format!(
        "exit code: {code}\n\
         ----- stdout -----\n{stdout}[end of stdout]\n\
         ----- stderr -----\n{stderr}[end of stderr]\n"
    )
}

/// Runs `intsync ARGS` in `env` and checks its whole output against the snapshot `name`.
fn check_run(env: &Env, name: &str, args: &[&str]) {
    let run = env.run(args);
    check(
        env,
        name,
        &format!("intsync {}", args.join(" ")),
        &transcript(run),
    );
}

#[test]
fn plan_in_every_format() {
    let env = scenario();
    check_run(&env, "plan_text", &["plan"]);
    check_run(&env, "plan_markdown", &["plan", "--format", "markdown"]);
    check_run(&env, "plan_json", &["plan", "--format", "json"]);
    check_run(&env, "plan_truto_text", &["plan", "--target", "truto"]);
    check_run(
        &env,
        "plan_detailed_exitcode",
        &["plan", "--detailed-exitcode"],
    );
}

#[test]
fn apply_refused_then_skipping_the_blocked_change() {
    let env = scenario();
    // The blocked change refuses the whole run: nothing is written.
    check_run(&env, "apply_blocked", &["apply", "--auto-approve"]);
    // One write at a time, so that what it says comes in one order.
    check_run(
        &env,
        "apply_skip_blocked",
        &[
            "apply",
            "--auto-approve",
            "--skip-blocked",
            "--parallelism",
            "1",
        ],
    );
    check_run(
        &env,
        "apply_truto",
        &[
            "apply",
            "--target",
            "truto",
            "--auto-approve",
            "--parallelism",
            "1",
        ],
    );
    check_run(
        &env,
        "apply_nothing_left",
        &["apply", "--auto-approve", "--skip-blocked"],
    );
}

/// Applied, then edited live (the dashboard): `Unchanged`'s description.
#[test]
fn drift_after_a_live_edit() {
    let env = scenario();
    for target in ["ada", "truto"] {
        let args = [
            "apply",
            "--target",
            target,
            "--auto-approve",
            "--skip-blocked",
        ];
        let (code, _, stderr) = env.run(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    let unchanged = env
        .emulator
        .ada_live()
        .into_iter()
        .find(|i| i["name"] == "Unchanged")
        .unwrap();
    env.emulator.call(
        reqwest::Method::PATCH,
        &format!(
            "/api/v2/platform-integrations/{}",
            unchanged["id"].as_str().unwrap()
        ),
        Some(serde_json::json!({"description": "edited in the dashboard"})),
    );
    check_run(&env, "drift_text", &["drift"]);
    check_run(&env, "drift_markdown", &["drift", "--format", "markdown"]);
    check_run(&env, "drift_json", &["drift", "--format", "json"]);
    check_run(&env, "drift_truto", &["drift", "--target", "truto"]);
}

/// `export` of each target: what it says, then every file it wrote, by name.
#[test]
fn export_of_each_target() {
    let env = scenario();
    for (target, dir) in [("ada", "exported-ada"), ("truto", "exported-truto")] {
        let args = ["export", "--target", target, "--dir", dir];
        let mut text = transcript(env.run(&args));
        for (file, bytes) in common::files(&env.path().join(dir)) {
            let content = String::from_utf8(bytes).unwrap();
            text.push_str(&format!(
                "----- {dir}/{file} -----\n{content}[end of {file}]\n"
            ));
        }
        check(
            &env,
            &format!("export_{target}"),
            &format!("intsync {}", args.join(" ")),
            &text,
        );
    }
}
