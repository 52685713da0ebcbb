//! `intsync apply` end to end: the real binary against the emulator over HTTP.

mod common;

use std::time::Duration;

use common::{Env, TOKEN, ada_manifest, truto_manifest};
use serde_json::{Value, json};

fn writes(env: &Env) -> Vec<Value> {
    env.requests()
        .into_iter()
        .filter(|r| r["method"] != "GET")
        .collect()
}

fn apply(env: &Env, args: &[&str]) -> (i32, String, String) {
    let out = env.intsync().arg("apply").args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn create_update_and_noop_then_plan_shows_nothing() {
    let env = Env::new(100);
    env.seed_ada("Same", "same");
    let changed = env.seed_ada("Changed", "old");
    env.manifest("same.yaml", &ada_manifest("Same", "same"));
    env.manifest("changed.yaml", &ada_manifest("Changed", "new"));
    env.manifest("new.yaml", &ada_manifest("New", "hello"));
    env.clear_requests();
    let (code, stdout, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("Plan: 1 to create, 1 to update, 0 blocked, 1 unchanged"),
        "the plan is printed first: {stdout}"
    );
    assert!(
        stderr.contains("Apply: 1 created, 1 updated, 0 failed."),
        "{stderr}"
    );
    let written = writes(&env);
    assert_eq!(written.len(), 2, "{written:#?}");
    let patch = written.iter().find(|r| r["method"] == "PATCH").unwrap();
    assert_eq!(
        patch["path"],
        format!("/api/v2/platform-integrations/{changed}")
    );
    assert_eq!(env.ada_live().len(), 3);

    let out = env
        .intsync()
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // A second apply has nothing to do.
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("Nothing to apply."), "{stderr}");
    assert!(writes(&env).is_empty());
}

#[test]
fn patch_body_is_exactly_the_changed_fields() {
    let env = Env::new(100);
    env.seed_ada("A", "old");
    env.manifest("a.yaml", &ada_manifest("A", "new"));
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    // The emulator's record of the PATCH: its `updated` moved and only `description` changed.
    let live = &env.ada_live()[0];
    assert_eq!(live["description"], "new");
}

#[test]
fn blocked_changes_refuse_the_whole_run_unless_skipped() {
    let env = Env::new(100);
    let frozen = env.seed_ada("Frozen", "old");
    env.seed_ada("Open", "old");
    env.call(
        reqwest::Method::POST,
        &format!("/_emulator/ada/{frozen}/status"),
        Some(json!({"status": "approved"})),
    );
    env.manifest("frozen.yaml", &ada_manifest("Frozen", "new"));
    env.manifest("open.yaml", &ada_manifest("Open", "new"));
    env.manifest("new.yaml", &ada_manifest("New", "x"));
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("1 change is blocked"), "{stderr}");
    assert!(writes(&env).is_empty(), "not one write");

    let (code, _, stderr) = apply(&env, &["--auto-approve", "--skip-blocked"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Skipping 1 blocked change:"), "{stderr}");
    assert!(
        stderr.contains(&format!("\"Frozen\" ({frozen})")),
        "{stderr}"
    );
    let written = writes(&env);
    assert_eq!(
        written.len(),
        2,
        "the create and the open update: {written:#?}"
    );
    assert!(
        written
            .iter()
            .all(|r| r["path"] != format!("/api/v2/platform-integrations/{frozen}"))
    );
}

#[test]
fn off_a_terminal_apply_needs_auto_approve() {
    let env = Env::new(100);
    env.manifest("new.yaml", &ada_manifest("New", "x"));
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("pass --auto-approve"), "{stderr}");
    assert!(writes(&env).is_empty());
}

#[test]
fn saved_plan_is_refused_when_stale_and_does_nothing_twice() {
    let env = Env::new(100);
    let id = env.seed_ada("A", "old");
    env.seed_ada("B", "old");
    env.manifest("a.yaml", &ada_manifest("A", "new"));
    env.manifest("b.yaml", &ada_manifest("B", "old"));
    env.manifest("c.yaml", &ada_manifest("C", "created"));
    let out = env
        .intsync()
        .args(["plan", "--out", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    // Someone changes A meanwhile: the saved plan is stale, nothing is written.
    env.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(json!({"description": "someone else"})),
    );
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &["--plan", "plan.json", "--auto-approve"]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "AdaPlatformIntegration \"A\" ({id}) changed: description"
        )),
        "{stderr}"
    );
    assert!(writes(&env).is_empty());

    // Put it back: the plan applies, and applying it again does nothing.
    env.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(json!({"description": "old"})),
    );
    let out = env
        .intsync()
        .args(["plan", "--out", "plan.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let (code, _, stderr) = apply(&env, &["--plan", "plan.json", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Apply: 1 created, 1 updated, 0 failed."),
        "{stderr}"
    );
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &["--plan", "plan.json", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Nothing to apply."), "{stderr}");
    assert!(writes(&env).is_empty());
    assert_eq!(env.ada_live().len(), 3, "no duplicate create");
}

#[test]
fn storms_of_429_and_503_converge() {
    let env = Env::new(100);
    for i in 0..6 {
        env.seed_ada(&format!("U{i}"), "old");
    }
    for i in 0..6 {
        env.manifest(
            &format!("u{i}.yaml"),
            &ada_manifest(&format!("U{i}"), "new"),
        );
        env.manifest(
            &format!("c{i}.yaml"),
            &ada_manifest(&format!("C{i}"), "new"),
        );
    }
    let faults = json!({"rules": [
        {"method": "PATCH", "times": 5, "action": {"type": "status", "status": 503}},
        {"method": "POST", "times": 5, "action": {"type": "status", "status": 429}},
        {"method": "POST", "after": 7, "times": 2, "action": {"type": "status", "status": 429, "retry_after": "1"}},
        {"method": "GET", "times": 2, "action": {"type": "status", "status": 429}},
    ]});
    env.call(reqwest::Method::PUT, "/_emulator/faults", Some(faults));
    let (code, _, stderr) = apply(&env, &["--auto-approve", "--parallelism", "3"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Apply: 6 created, 6 updated, 0 failed."),
        "{stderr}"
    );
    let live = env.ada_live();
    assert_eq!(live.len(), 12, "no duplicates");
    assert!(live.iter().all(|r| r["description"] == "new"));
}

#[test]
fn dropped_connection_after_a_committed_post_makes_exactly_one() {
    let env = Env::new(100);
    env.manifest("new.yaml", &ada_manifest("Only Once", "x"));
    env.call(reqwest::Method::PUT, "/_emulator/faults", Some(json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "drop_after_commit"}}]})));
    // Found by listing: created, but its secret was in the lost answer. That item fails.
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("its client secret was lost: it was in the answer that was lost"),
        "{stderr}"
    );
    assert!(stderr.contains("rotate it in Ada's dashboard"), "{stderr}");
    let live = env.ada_live();
    assert_eq!(live.len(), 1, "{live:#?}");
    let posts = env
        .requests()
        .iter()
        .filter(|r| r["method"] == "POST")
        .count();
    assert_eq!(posts, 1, "the POST was not re-sent");

    // A POST dropped before it was handled looks the same from the client: it may be on its
    // way. Not sent again in this run; the item fails, and the next run creates it.
    env.manifest("second.yaml", &ada_manifest("Second", "x"));
    env.call(
        reqwest::Method::PUT,
        "/_emulator/faults",
        Some(json!({"rules": [{"method": "POST", "times": 1, "action": {"type": "drop_before"}}]})),
    );
    env.clear_requests();
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("outcome unknown; run `intsync plan` again in a minute"),
        "{stderr}"
    );
    assert_eq!(writes(&env).len(), 1, "sent once");
    assert_eq!(env.ada_live().len(), 1);
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.ada_live().len(), 2);
}

#[test]
fn client_secret_goes_to_a_0600_file_and_nowhere_else() {
    let env = Env::new(100);
    env.manifest("new.yaml", &ada_manifest("Secretive", "x"));
    env.manifest("crm.yaml", &truto_manifest("crm", "crm"));
    let out = env
        .intsync()
        .args(["apply", "--auto-approve"])
        .env("RUST_LOG", "trace")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = env.ada_live()[0]["id"].as_str().unwrap().to_owned();
    let path = env
        .dir
        .path()
        .join(".intsync/secrets")
        .join(format!("{id}.json"));
    let saved: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let secret = saved["client_secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64);
    assert_eq!(saved["id"], id.as_str());
    assert_eq!(saved["name"], "Secretive");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
    }
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("intsync::http"), "trace logs were on");
    assert!(!all.contains(secret), "the client secret leaked");
    assert!(!all.contains(TOKEN), "the token leaked");
    assert!(
        all.contains(&format!(".intsync/secrets/{id}.json")),
        "the path is printed"
    );

    // --secrets-dir moves it.
    env.manifest("other.yaml", &ada_manifest("Other", "x"));
    let out = env
        .intsync()
        .args(["apply", "--auto-approve", "--secrets-dir", "elsewhere"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_dir(env.dir.path().join("elsewhere"))
            .unwrap()
            .count(),
        1
    );
}

#[test]
fn truto_updates_send_the_version_and_refusals_are_reported_together() {
    let env = Env::new(100);
    let created = env.call(
        reqwest::Method::POST,
        "/integration",
        Some(json!({"name": "crm", "category": "crm"})),
    );
    env.manifest("crm.yaml", &truto_manifest("crm", "helpdesk"));
    env.manifest(
        "bad.yaml",
        &truto_manifest("other", "x").replace("category: x", "category: x\n  sharing: allow"),
    );
    // The emulator refuses every POST: the update still happens, the failure is reported after.
    env.call(
        reqwest::Method::PUT,
        "/_emulator/faults",
        Some(json!({"rules": [{"method": "POST", "action": {"type": "status", "status": 403}}]})),
    );
    let out = env
        .intsync()
        .args(["apply", "--auto-approve", "--target", "truto"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Apply: 0 created, 1 updated, 1 failed."),
        "{stderr}"
    );
    let failures = stderr.split("Failures:").nth(1).unwrap();
    assert!(
        failures.contains("TrutoIntegration \"other\": POST"),
        "{stderr}"
    );
    assert!(failures.contains("answered 403"), "{stderr}");
    let live = env.call(
        reqwest::Method::GET,
        &format!("/integration/{}", created["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(live["category"], "helpdesk");
    assert_eq!(live["version"], 2);
}

/// SIGKILL part-way through a 200-integration apply; a re-run converges with no duplicates.
#[test]
fn killed_mid_apply_a_rerun_converges_without_duplicates() {
    let env = Env::new(100);
    for i in 0..200 {
        env.manifest(
            &format!("m{i:03}.yaml"),
            &ada_manifest(&format!("Bulk {i:03}"), "x"),
        );
    }
    env.call(
        reqwest::Method::PUT,
        "/_emulator/faults",
        Some(json!({"latency_ms": 15})),
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
        .args(["apply", "--auto-approve"])
        .current_dir(env.dir.path())
        .env("TEST_ADA_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Kill once some, but not all, creates have landed.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let n = env
            .requests()
            .iter()
            .filter(|r| r["method"] == "POST")
            .count();
        if n >= 40 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = env.call(
        reqwest::Method::GET,
        "/api/v2/platform-integrations/?limit=100",
        None,
    );
    assert!(
        partial["meta"]["next_page_url"].is_null()
            && partial["data"].as_array().unwrap().len() < 200,
        "killed before the end"
    );

    env.call(reqwest::Method::DELETE, "/_emulator/faults", None);
    let (code, _, stderr) = apply(&env, &["--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let out = env
        .intsync()
        .args(["plan", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let mut names = Vec::new();
    let mut path = "/api/v2/platform-integrations/?limit=100".to_owned();
    loop {
        let page = env.call(reqwest::Method::GET, &path, None);
        names.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["name"].as_str().unwrap().to_owned()),
        );
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => path = next.trim_start_matches(&env.server.base_url()).to_owned(),
            None => break,
        }
    }
    let total = names.len();
    names.sort();
    names.dedup();
    assert_eq!(total, 200, "no duplicates");
    assert_eq!(names.len(), 200);
}

/// The client-side limiter keeps apply under the server's limit: zero 429s.
#[test]
fn client_side_rate_limit_avoids_429s() {
    let env = Env::new(100);
    for i in 0..12 {
        env.manifest(&format!("m{i}.yaml"), &ada_manifest(&format!("R{i}"), "x"));
    }
    let config = std::fs::read_to_string(env.dir.path().join("intsync.toml")).unwrap();
    std::fs::write(
        env.dir.path().join("intsync.toml"),
        config.replacen("rate_limit = \"off\"", "rate_limit = { per_second = 5 }", 1),
    )
    .unwrap();
    env.call(
        reqwest::Method::PUT,
        "/_emulator/rate-limit",
        Some(json!({"ada": [{"window_ms": 1000, "limit": 5}]})),
    );
    env.clear_requests();
    let started = std::time::Instant::now();
    let (code, _, stderr) = apply(&env, &["--auto-approve", "--parallelism", "8"]);
    assert_eq!(code, 0, "{stderr}");
    // 1 list + 12 creates + 1 verifying list = 14 requests at 5 per second.
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let statuses: Vec<Value> = env.requests().iter().map(|r| r["status"].clone()).collect();
    assert_eq!(statuses.len(), 14, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s != 429), "{statuses:?}");
}

/// The README's first command, from a copy of the repository's manifests with no configuration:
/// apply on the embedded `local` target, then a plan that shows nothing to do.
#[test]
fn quickstart_on_the_embedded_local_target() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = dir.path().join("manifests");
    std::fs::create_dir(&manifests).unwrap();
    for entry in
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("manifests"))
            .unwrap()
    {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), manifests.join(entry.file_name())).unwrap();
    }
    let run = |args: &[&str]| {
        assert_cmd::Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
            .args(args)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    };
    let out = run(&["apply", "--auto-approve"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Apply: 4 created, 0 updated, 0 failed.")
    );
    let out = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        std::fs::read_dir(dir.path().join(".intsync/secrets"))
            .unwrap()
            .count(),
        3,
        "one secret per Ada integration"
    );
    let state: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(".intsync/local-state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(state["ada"].as_array().unwrap().len(), 3);
    assert_eq!(state["truto"].as_array().unwrap().len(), 1);
}

/// On a terminal apply asks, and only `yes` writes. `script` (util-linux) gives it a terminal.
#[test]
fn on_a_terminal_apply_asks_first() {
    let env = Env::new(100);
    env.manifest("new.yaml", &ada_manifest("Asked", "x"));
    let bin = assert_cmd::cargo::cargo_bin!("intsync")
        .display()
        .to_string();
    let on_a_terminal = |answer: &str| {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &format!("{bin} apply"), "/dev/null"])
            .current_dir(env.dir.path())
            .env("TEST_ADA_TOKEN", TOKEN)
            .env("NO_COLOR", "1")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("`script` from util-linux runs the command on a terminal");
        use std::io::Write as _;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answer.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    env.clear_requests();
    let transcript = on_a_terminal("no\n");
    assert!(
        transcript.contains("Apply 1 change to target `ada`? Only `yes` continues:"),
        "{transcript}"
    );
    assert!(
        transcript.contains("Cancelled; nothing was written."),
        "{transcript}"
    );
    assert!(writes(&env).is_empty());
    let transcript = on_a_terminal("yes\n");
    assert!(
        transcript.contains("Apply: 1 created, 0 updated, 0 failed."),
        "{transcript}"
    );
    assert_eq!(env.ada_live().len(), 1);
}
