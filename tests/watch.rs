//! `intsync watch` driving the real binary: saves re-plan, invalid saves print diagnostics and the
//! watcher lives on, `--apply` writes once per meaningful save and only what saves changed
//! (nothing at start), Ctrl-C exits 0.

mod common;

use std::process::{Child, Command};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

use common::{Env, ada_manifest};

struct Watcher {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

impl Watcher {
    fn start(env: &Env, extra: &[&str]) -> Watcher {
        let args: Vec<&str> = std::iter::once("watch")
            .chain(extra.iter().copied())
            .collect();
        let (child, stdout, stderr) = env.spawn(&args);
        Watcher {
            child,
            stdout,
            stderr,
        }
    }

    /// Lines of `stream` up to the first that contains `needle`, within `timeout`.
    fn wait(stream: &Receiver<String>, needle: &str, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stream.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(needle);
                    seen.push(line);
                    if found {
                        return seen;
                    }
                }
                Err(_) => panic!("no line with {needle:?} within {timeout:?}; saw: {seen:#?}"),
            }
        }
    }

    /// The next printed plan (lines up to its `Plan:` summary) that contains `needle`; a save
    /// can be seen as more than one change, so earlier plans are skipped.
    fn plan(&self, needle: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut block = Vec::new();
        let mut skipped = Vec::new();
        loop {
            match self
                .stdout
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    let done = line.starts_with("Plan: ");
                    block.push(line);
                    if done {
                        if block.iter().any(|l| l.contains(needle)) {
                            return block;
                        }
                        skipped.push(std::mem::take(&mut block));
                    }
                }
                Err(_) => {
                    let stderr: Vec<String> = self.stderr.try_iter().collect();
                    panic!(
                        "no plan with {needle:?} within 10 s; plans: {skipped:#?} then {block:#?}; stderr: {stderr:#?}"
                    );
                }
            }
        }
    }

    fn stop(mut self) {
        let killed = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert_eq!(status.code(), Some(0), "Ctrl-C exits 0");
                return;
            }
            assert!(Instant::now() < deadline, "watch did not stop on Ctrl-C");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn saves_replan_invalid_saves_are_survived() {
    let env = Env::new(100);
    env.seed_ada("Watched", "old");
    env.manifest("w.yaml", &ada_manifest("Watched", "old"));
    env.clear_requests();
    let watcher = Watcher::start(&env, &[]);
    watcher.plan("0 to update");

    let saved = Instant::now();
    env.manifest("w.yaml", &ada_manifest("Watched", "new"));
    let plan = watcher.plan("description: \"old\" → \"new\"");
    eprintln!("save → plan: {:?}", saved.elapsed());
    assert!(
        plan.iter().any(|l| l.contains("will be updated")),
        "{plan:#?}"
    );
    assert!(plan[0].starts_with('['), "timestamped: {plan:#?}");

    env.manifest("w.yaml", "apiVersion: intsync/v1\nkind: [unclosed\n");
    let diagnostics = Watcher::wait(
        &watcher.stderr,
        "waiting for the next save",
        Duration::from_secs(2),
    );
    assert!(
        diagnostics
            .iter()
            .any(|l| l.contains("intsync::yaml_syntax")),
        "{diagnostics:#?}"
    );
    let mut watcher = watcher;
    assert!(watcher.child.try_wait().unwrap().is_none(), "still running");

    env.manifest("w.yaml", &ada_manifest("Watched", "newer"));
    watcher.plan("description: \"old\" → \"newer\"");
    // Watch only reads: once it has stopped (so a write after the last plan would be in the
    // log), no write reached the API.
    watcher.stop();
    assert!(env.requests().iter().all(|r| r["method"] == "GET"));
}

#[test]
fn apply_writes_once_per_meaningful_save() {
    let env = Env::new(100);
    let id = env.seed_ada("Applied", "v0");
    env.manifest("a.yaml", &ada_manifest("Applied", "v0"));
    let watcher = Watcher::start(&env, &["--apply"]);
    watcher.plan("0 to update");
    env.clear_requests();

    for (i, text) in ["v1", "v2"].into_iter().enumerate() {
        env.manifest("a.yaml", &ada_manifest("Applied", text));
        watcher.plan(&format!("→ \"{text}\""));
        Watcher::wait(&watcher.stderr, "applied 1 change", Duration::from_secs(5));
        let patches = env
            .requests()
            .iter()
            .filter(|r| r["method"] == "PATCH")
            .count();
        assert_eq!(patches, i + 1, "one PATCH per save that changed something");
    }
    // Whitespace only: a plan, no write.
    env.manifest(
        "a.yaml",
        &format!("\n\n{}   \n", ada_manifest("Applied", "v2")),
    );
    watcher.plan("0 to update, 0 blocked, 1 unchanged");
    // A marker: a later save that does write. Saves are handled one after another, so once its
    // write is done, a write of the save that changed nothing would be in the log too.
    env.manifest("marker.yaml", &ada_manifest("Marker", "x"));
    watcher.plan("\"Marker\" will be created");
    Watcher::wait(&watcher.stderr, "applied 1 change", Duration::from_secs(5));
    let patches = env
        .requests()
        .iter()
        .filter(|r| r["method"] == "PATCH")
        .count();
    assert_eq!(patches, 2, "no PATCH for a save that changed nothing");
    let live = env.call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
    assert_eq!(live["data"][0]["id"], id.as_str());
    assert_eq!(live["data"][0]["description"], "v2");

    // Approved meanwhile: `watch --apply` reads live state after each save, before it writes,
    // so the next save is planned as blocked and only reported: no PATCH is even tried.
    env.call(
        reqwest::Method::POST,
        &format!("/_emulator/ada/{id}/status"),
        Some(serde_json::json!({"status": "approved"})),
    );
    env.manifest("a.yaml", &ada_manifest("Applied", "v3"));
    watcher.plan("is blocked");
    // A later save that writes something else: once its write is done, the blocked change has
    // certainly had its chance to be written, and was not.
    env.manifest("b.yaml", &ada_manifest("Other", "new"));
    Watcher::wait(&watcher.stderr, "applied 1 change", Duration::from_secs(5));
    let patches = env
        .requests()
        .iter()
        .filter(|r| r["method"] == "PATCH")
        .count();
    assert_eq!(patches, 2, "blocked changes are only reported");
    let live = env.call(reqwest::Method::GET, "/api/v2/platform-integrations/", None);
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
    let watcher = Watcher::start(&env, &["--target", "local"]);
    watcher.plan("1 to create");
    let out = env
        .intsync()
        .args(["apply", "--target", "local", "--auto-approve"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("is in use by another process"), "{stderr}");
    watcher.stop();
    // Once the watcher is gone, the state is free again.
    env.intsync()
        .args(["apply", "--target", "local", "--auto-approve"])
        .assert()
        .success();
}

#[test]
fn apply_saves_client_secrets_of_creates_and_never_prints_them() {
    let env = Env::new(100);
    let watcher = Watcher::start(&env, &["--apply"]);
    watcher.plan("No changes");
    env.manifest("born.yaml", &ada_manifest("Born", "new"));
    let mut seen = Watcher::wait(
        &watcher.stderr,
        "Saved the client secret of",
        Duration::from_secs(5),
    );
    seen.extend(Watcher::wait(
        &watcher.stderr,
        "applied 1 change",
        Duration::from_secs(5),
    ));
    let dir = env.dir.path().join(".intsync/secrets");
    let file = std::fs::read_dir(&dir)
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
    let id = env.seed_ada("Watched", "old");
    env.manifest("w.yaml", &ada_manifest("Watched", "old"));
    let watcher = Watcher::start(&env, &["--refresh", "1"]);
    watcher.plan("0 to update");
    // A save, not applied: pending, not drift.
    env.manifest(
        "w.yaml",
        &ada_manifest("Watched", "old").replace("Cool Shop", "Cool Shop Inc."),
    );
    watcher.plan("author:");
    // Out of band: the description changed live.
    env.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(serde_json::json!({"description": "edited in the dashboard"})),
    );
    let lines = Watcher::wait(
        &watcher.stdout,
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
    let edited = env.seed_ada("Edited", "from git");
    env.seed_ada("Other", "old");
    // Someone changed `Edited` in the dashboard; git still says "from git".
    env.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{edited}"),
        Some(serde_json::json!({"description": "edited in the dashboard"})),
    );
    env.manifest("edited.yaml", &ada_manifest("Edited", "from git"));
    env.manifest("other.yaml", &ada_manifest("Other", "old"));
    env.manifest("pending.yaml", &ada_manifest("Pending create", "x"));
    env.clear_requests();
    let watcher = Watcher::start(&env, &["--apply"]);
    watcher.plan("1 to create, 1 to update");
    Watcher::wait(
        &watcher.stderr,
        "nothing is written at start",
        Duration::from_secs(5),
    );
    // A save that changes nothing writes nothing.
    env.manifest("other.yaml", &ada_manifest("Other", "old"));
    watcher.plan("1 to create, 1 to update");
    // A save that changes `Other`: that change alone is written.
    env.manifest("other.yaml", &ada_manifest("Other", "saved"));
    let seen = Watcher::wait(&watcher.stderr, "applied 1 change", Duration::from_secs(10));
    assert!(
        seen.iter()
            .any(|l| l.contains("2 differences your saves did not make are left as they are")),
        "{seen:#?}"
    );
    let writes: Vec<serde_json::Value> = env
        .requests()
        .into_iter()
        .filter(|r| r["method"] != "GET" && !r["path"].as_str().unwrap().starts_with("/_emulator"))
        .collect();
    assert_eq!(writes.len(), 1, "{writes:#?}");
    assert_eq!(writes[0]["method"], "PATCH");
    assert!(!writes[0]["path"].as_str().unwrap().contains(&edited));
    let live = env.ada_live();
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
    env.seed_ada("Left", "x");
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
        let watcher = Watcher::start(&env, extra);
        let seen = Watcher::wait(
            &watcher.stderr,
            "a run stopped while creating AdaPlatformIntegration \"Left\"",
            Duration::from_secs(10),
        );
        assert!(seen.last().unwrap().contains("it is lost"), "{seen:#?}");
        watcher.plan("0 to create");
        assert_eq!(record.exists(), kept, "{extra:?}");
        watcher.stop();
    }
}
