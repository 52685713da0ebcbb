//! `intsync watch` driving the real binary: saves re-plan, invalid saves print diagnostics and the
//! watcher lives on, `--apply` writes once per meaningful save and only what saves changed
//! (nothing at start), Ctrl-C exits 0.

mod common;

use std::time::{Duration, Instant};

use common::{Env, Running, ada_manifest};

/// `intsync watch EXTRA` started in the background.
fn watch(env: &Env, extra: &[&str]) -> Running {
    env.spawn(&[&["watch"], extra].concat())
}

#[test]
fn saves_replan_invalid_saves_are_survived() {
    let env = Env::new(100);
    env.emulator.seed_ada("Watched", "old");
    env.manifest("w.yaml", &ada_manifest("Watched", "old"));
    env.emulator.clear_requests();
    let mut watcher = watch(&env, &[]);
    watcher.plan_with("0 to update");

    let saved = Instant::now();
    env.manifest("w.yaml", &ada_manifest("Watched", "new"));
    let plan = watcher.plan_with("description: \"old\" → \"new\"");
    eprintln!("save → plan: {:?}", saved.elapsed());
    assert!(
        plan.iter().any(|l| l.contains("will be updated")),
        "{plan:#?}"
    );
    assert!(plan[0].starts_with('['), "timestamped: {plan:#?}");

    env.manifest("w.yaml", "apiVersion: intsync/v1\nkind: [unclosed\n");
    let diagnostics = watcher.wait_stderr("waiting for the next save", Duration::from_secs(2));
    assert!(
        diagnostics
            .iter()
            .any(|l| l.contains("intsync::yaml_syntax")),
        "{diagnostics:#?}"
    );
    assert!(watcher.still_running(), "still running");

    env.manifest("w.yaml", &ada_manifest("Watched", "newer"));
    watcher.plan_with("description: \"old\" → \"newer\"");
    // Watch only reads: once it has stopped (so a write after the last plan would be in the
    // log), no write reached the API.
    watcher.stop();
    assert!(env.emulator.requests().iter().all(|r| r["method"] == "GET"));
}

#[test]
fn apply_writes_once_per_meaningful_save() {
    let env = Env::new(100);
    let id = env.emulator.seed_ada("Applied", "v0");
    env.manifest("a.yaml", &ada_manifest("Applied", "v0"));
    let mut watcher = watch(&env, &["--apply"]);
    watcher.plan_with("0 to update");
    env.emulator.clear_requests();

    for (i, text) in ["v1", "v2"].into_iter().enumerate() {
        env.manifest("a.yaml", &ada_manifest("Applied", text));
        watcher.plan_with(&format!("→ \"{text}\""));
        watcher.wait_stderr("applied 1 change", Duration::from_secs(5));
        let patches = env.emulator.logged("PATCH").len();
        assert_eq!(patches, i + 1, "one PATCH per save that changed something");
    }
    // Whitespace only: a plan, no write.
    env.manifest(
        "a.yaml",
        &format!("\n\n{}   \n", ada_manifest("Applied", "v2")),
    );
    watcher.plan_with("0 to update, 0 blocked, 1 unchanged");
    // A marker: a later save that does write. Saves are handled one after another, so once its
    // write is done, a write of the save that changed nothing would be in the log too.
    env.manifest("marker.yaml", &ada_manifest("Marker", "x"));
    watcher.plan_with("\"Marker\" will be created");
    watcher.wait_stderr("applied 1 change", Duration::from_secs(5));
    let patches = env.emulator.logged("PATCH").len();
    assert_eq!(patches, 2, "no PATCH for a save that changed nothing");
    let live = env
        .emulator
        .call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    assert_eq!(live["data"][0]["id"], id.as_str());
    assert_eq!(live["data"][0]["description"], "v2");

    // Approved meanwhile: `watch --apply` reads live state after each save, before it writes,
    // so the next save is planned as blocked and only reported: no PATCH is even tried.
    env.emulator.set_status(&id, "approved");
    env.manifest("a.yaml", &ada_manifest("Applied", "v3"));
    watcher.plan_with("is blocked");
    // A later save that writes something else: once its write is done, the blocked change has
    // certainly had its chance to be written, and was not.
    env.manifest("b.yaml", &ada_manifest("Other", "new"));
    watcher.wait_stderr("applied 1 change", Duration::from_secs(5));
    let patches = env.emulator.logged("PATCH").len();
    assert_eq!(patches, 2, "blocked changes are only reported");
    let live = env
        .emulator
        .call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    assert_eq!(
        live["data"][0]["description"], "v2",
        "the approved one is untouched"
    );
    watcher.stop();
}

#[test]
fn local_state_held_by_watch_is_refused_to_others_with_a_clear_error() {
    let env = Env::new(100);
    env.manifest("w.yaml", &ada_manifest("Local", "one"));
    let mut watcher = watch(&env, &["--target", "local"]);
    watcher.plan_with("1 to create");
    let (code, _, stderr) = env.run(&["apply", "--target", "local", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is in use by another process"), "{stderr}");
    watcher.stop();
    // Once the watcher is gone, the state is free again.
    let (code, _, stderr) = env.run(&["apply", "--target", "local", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn apply_saves_client_secrets_of_creates_and_never_prints_them() {
    let env = Env::new(100);
    let mut watcher = watch(&env, &["--apply"]);
    watcher.plan_with("No changes");
    env.manifest("born.yaml", &ada_manifest("Born", "new"));
    let mut seen = watcher.wait_stderr("Saved the client secret of", Duration::from_secs(5));
    seen.extend(watcher.wait_stderr("applied 1 change", Duration::from_secs(5)));
    let file = std::fs::read_dir(env.secrets_dir())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&file).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let secret = saved["client_secret"].as_str().unwrap();
    assert!(secret.len() > 10);
    assert!(seen.iter().all(|l| !l.contains(secret)), "{seen:#?}");
    watcher.stop();
}

/// A `--refresh` reading that finds live state moved into a difference with the manifests
/// (someone edited it in the dashboard) prints it as drift; a save not applied yet is not.
#[test]
fn a_refresh_prints_what_changed_live_as_drift() {
    let env = Env::new(100);
    let id = env.emulator.seed_ada("Watched", "old");
    env.manifest("w.yaml", &ada_manifest("Watched", "old"));
    let mut watcher = watch(&env, &["--refresh", "1"]);
    watcher.plan_with("0 to update");
    // A save, not applied: pending, not drift.
    env.manifest(
        "w.yaml",
        &ada_manifest("Watched", "old").replace("Cool Shop", "Cool Shop Inc."),
    );
    watcher.plan_with("author:");
    // Out of band: the description changed live.
    env.emulator.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(serde_json::json!({"description": "edited in the dashboard"})),
    );
    let lines = watcher.wait_stdout(
        "[drift] description: \"edited in the dashboard\" → \"old\"",
        Duration::from_secs(10),
    );
    let report = lines
        .iter()
        .rposition(|l| l.contains("drift on target `ada`"))
        .map(|i| &lines[i..])
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        !report.iter().any(|l| l.contains("author")),
        "the unapplied save is not drift: {report:#?}"
    );
    watcher.stop();
}

/// Issue #21: `watch --apply` started on a pending plan applied it at once, reverting an edit
/// made in the dashboard. At start it prints the plan and writes nothing; a save writes what it
/// changed, and only that.
#[test]
fn apply_writes_nothing_at_start_and_only_what_a_save_changed() {
    let env = Env::new(100);
    let edited = env.emulator.seed_ada("Edited", "from git");
    env.emulator.seed_ada("Other", "old");
    // Someone changed `Edited` in the dashboard; git still says "from git".
    env.emulator.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{edited}"),
        Some(serde_json::json!({"description": "edited in the dashboard"})),
    );
    env.manifest("edited.yaml", &ada_manifest("Edited", "from git"));
    env.manifest("other.yaml", &ada_manifest("Other", "old"));
    env.manifest("pending.yaml", &ada_manifest("Pending create", "x"));
    env.emulator.clear_requests();
    let mut watcher = watch(&env, &["--apply"]);
    watcher.plan_with("1 to create, 1 to update");
    watcher.wait_stderr("nothing is written at start", Duration::from_secs(5));
    // A save that changes nothing writes nothing.
    env.manifest("other.yaml", &ada_manifest("Other", "old"));
    watcher.plan_with("1 to create, 1 to update");
    // A save that changes `Other`: that change alone is written.
    env.manifest("other.yaml", &ada_manifest("Other", "saved"));
    let seen = watcher.wait_stderr("applied 1 change", Duration::from_secs(10));
    assert!(
        seen.iter()
            .any(|l| l.contains("2 differences your saves did not make are left as they are")),
        "{seen:#?}"
    );
    let writes = env.emulator.writes();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0]["method"], "PATCH");
    assert!(!writes[0]["path"].as_str().unwrap().contains(&edited));
    let live = env.emulator.ada_live();
    let description = |name: &str| {
        live.iter()
            .find(|r| r["name"] == name)
            .map(|r| r["description"].clone())
    };
    assert_eq!(
        description("Edited").unwrap(),
        "edited in the dashboard",
        "the dashboard edit is not reverted"
    );
    assert_eq!(description("Other").unwrap(), "saved");
    assert_eq!(
        description("Pending create"),
        None,
        "not created: no save asked"
    );
    watcher.stop();
}

/// A create an earlier run left in flight (its record on disk) is named when watch starts;
/// `watch --apply`, the target's writer, settles it (the record goes), plain `watch` does not.
#[test]
fn a_create_left_in_flight_is_named_at_start() {
    let env = Env::new(100);
    env.emulator.seed_ada("Left", "x");
    env.manifest("left.yaml", &ada_manifest("Left", "x"));
    let records = env.dir.path().join(".intsync/targets/ada/intents");
    std::fs::create_dir_all(&records).unwrap();
    let record = records.join("1-2-0.json");
    std::fs::write(
        &record,
        r#"{"kind":"AdaPlatformIntegration","name":"Left","manifest":"manifests/left.yaml","pid":2,"host":"ci-runner","sent_ms":1}"#,
    )
    .unwrap();
    for (extra, kept) in [(&[][..], true), (&["--apply"][..], false)] {
        let mut watcher = watch(&env, extra);
        let seen = watcher.wait_stderr(
            "a run stopped while creating AdaPlatformIntegration \"Left\"",
            Duration::from_secs(10),
        );
        assert!(seen.last().unwrap().contains("it is lost"), "{seen:#?}");
        watcher.plan_with("0 to create");
        assert_eq!(record.exists(), kept, "{extra:?}");
        watcher.stop();
    }
}
