//! Tokens and client secrets never print, even at `RUST_LOG=trace` (every crate's trace logs:
//! hyper, reqwest, rustls, ours): every command that talks to a target — `plan`, `apply`,
//! `export`, `watch --apply` (planned once, then stopped with SIGINT) — on both vendors, on
//! success, through retries (503 and 429 with `Retry-After`, on reads and writes), on failed
//! writes (a refused POST, a PATCH failing every attempt), on a persistent fault, and with a
//! wrong token. stdout, stderr and exported files must hold neither the token (nor the wrong
//! one) nor any client secret the runs created (read back from `.intsync/secrets/*.json`).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Env, TOKEN, ada_manifest, lines, truto_manifest};
use reqwest::Method;
use serde_json::{Value, json};

const WRONG_TOKEN: &str = "wrong-token-value-5e6f7a";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Success,
    /// 503 then 429 (`Retry-After: 1`) on the first reads, 429 on the first POST, 503 on the
    /// first PATCH: all retried, all succeed.
    Retries,
    /// Every POST refused (400), every PATCH 500: the writes fail, reads work.
    WritesFail,
    /// Every request 500.
    Persistent,
    /// The token variable holds another token: 401.
    WrongToken,
}

impl Scenario {
    fn faults(self, api: &str) -> Value {
        let status = |status: u16, retry_after: Option<&str>| match retry_after {
            Some(r) => json!({"type": "status", "status": status, "retry_after": r}),
            None => json!({"type": "status", "status": status}),
        };
        let rules = match self {
            Scenario::Success | Scenario::WrongToken => json!([]),
            Scenario::Retries => json!([
                {"api": api, "method": "GET", "times": 1, "action": status(503, None)},
                {"api": api, "method": "GET", "after": 1, "times": 1, "action": status(429, Some("1"))},
                {"api": api, "method": "POST", "times": 1, "action": status(429, Some("1"))},
                {"api": api, "method": "PATCH", "times": 1, "action": status(503, None)},
            ]),
            Scenario::WritesFail => json!([
                {"api": api, "method": "POST", "action": status(400, None)},
                {"api": api, "method": "PATCH", "action": status(500, None)},
            ]),
            Scenario::Persistent => json!([{"api": api, "action": status(500, None)}]),
        };
        json!({ "rules": rules })
    }

    /// Whether the commands succeed (watch then runs until stopped).
    fn reads_work(self) -> bool {
        matches!(
            self,
            Scenario::Success | Scenario::Retries | Scenario::WritesFail
        )
    }
}

struct Run {
    label: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

struct Leaks {
    env: Env,
    runs: Vec<Run>,
    /// Bumped before every writing run, so that each has a create and (from the second on) an
    /// update to send.
    generation: usize,
}

impl Leaks {
    fn new() -> Leaks {
        let env = Env::new(100);
        common::write_config(
            env.dir.path(),
            &env.server.base_url(),
            100,
            "retry = { attempts = 4, base_delay_ms = 10, max_delay_ms = 50, max_retry_after_ms = 50 }",
        );
        Leaks {
            env,
            runs: Vec::new(),
            generation: 0,
        }
    }

    /// New manifests for `target`: a create, and a change to the integration its first
    /// writing run created.
    fn new_changes(&mut self, target: &str) {
        self.generation += 1;
        let g = self.generation;
        let env = &self.env;
        if target == "ada" {
            env.manifest("kept-ada.yaml", &ada_manifest("Kept", &format!("d{g}")));
            env.manifest(
                &format!("ada-{g}.yaml"),
                &ada_manifest(&format!("Leak {g}"), "x"),
            );
        } else {
            env.manifest("kept-truto.yaml", &truto_manifest("kept", &format!("c{g}")));
            env.manifest(
                &format!("truto-{g}.yaml"),
                &truto_manifest(&format!("leak-{g}"), "crm"),
            );
        }
    }

    fn command(&self, scenario: Scenario, target: &str) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("intsync"));
        let (ada, truto) = match (scenario, target) {
            (Scenario::WrongToken, "ada") => (WRONG_TOKEN, TOKEN),
            (Scenario::WrongToken, _) => (TOKEN, WRONG_TOKEN),
            _ => (TOKEN, TOKEN),
        };
        cmd.current_dir(self.env.dir.path())
            .env("TEST_ADA_TOKEN", ada)
            .env("TEST_TRUTO_TOKEN", truto)
            .env("RUST_LOG", "trace")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        cmd
    }

    fn arm(&self, scenario: Scenario, target: &str) {
        self.env.call(
            Method::PUT,
            "/_emulator/faults",
            Some(scenario.faults(target)),
        );
    }

    fn run(&mut self, scenario: Scenario, target: &str, args: &[&str]) {
        self.arm(scenario, target);
        let out = self
            .command(scenario, target)
            .args(args)
            .args(["--target", target])
            .output()
            .unwrap();
        self.runs.push(Run {
            label: format!("{scenario:?} {target} {args:?}"),
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }

    /// `watch --apply`: when reads work, saves new changes once it started (it writes nothing
    /// at start), waits for that save's cycle to end (`applied ...`), then SIGINT; otherwise it
    /// stops by itself on the failed first read.
    fn watch(&mut self, scenario: Scenario, target: &str) {
        self.arm(scenario, target);
        let mut child = self
            .command(scenario, target)
            .args(["watch", "--apply", "--target", target])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut err = String::new();
        if scenario.reads_work() {
            loop {
                match stderr.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                    Ok(line) => {
                        let done = line.contains("] applied ");
                        // It writes only what a save changes (never at start): save some.
                        if line.contains("nothing is written at start") {
                            self.new_changes(target);
                        }
                        err.push_str(&line);
                        err.push('\n');
                        if done {
                            break;
                        }
                    }
                    Err(_) => {
                        let _ = child.kill();
                        panic!("{scenario:?} {target}: watch did not apply within 20 s: {err}");
                    }
                }
            }
            let sent = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
        }
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("{scenario:?} {target}: watch did not exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The reader threads end at end of file.
        err.extend(stderr.iter().map(|l| l + "\n"));
        let out: String = stdout.iter().map(|l| l + "\n").collect();
        self.runs.push(Run {
            label: format!("{scenario:?} {target} watch --apply"),
            code: status.code(),
            stdout: out,
            stderr: err,
        });
    }
}

/// Every client secret saved by the runs.
fn saved_secrets(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir.join(".intsync/secrets")) else {
        return Vec::new();
    };
    entries
        .map(|e| {
            let saved: Value =
                serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap();
            saved["client_secret"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn no_token_and_no_client_secret_in_any_output_at_trace_level() {
    let started = Instant::now();
    let mut leaks = Leaks::new();
    let scenarios = [
        Scenario::Success,
        Scenario::Retries,
        Scenario::WritesFail,
        Scenario::Persistent,
        Scenario::WrongToken,
    ];
    let mut exports = Vec::new();
    for scenario in scenarios {
        for target in ["ada", "truto"] {
            leaks.run(scenario, target, &["plan"]);
            let dir = format!("exported-{scenario:?}-{target}");
            leaks.run(scenario, target, &["export", "--dir", &dir]);
            exports.push(leaks.env.dir.path().join(dir));
            leaks.new_changes(target);
            leaks.run(scenario, target, &["apply", "--auto-approve"]);
            leaks.new_changes(target);
            leaks.watch(scenario, target);
        }
    }
    leaks.arm(Scenario::Success, "ada");

    // The runs did what each scenario says (so the output checked is that of the path meant).
    for run in &leaks.runs {
        let want = if run.label.starts_with("Success") || run.label.starts_with("Retries") {
            0
        } else if run.label.starts_with("WritesFail") {
            // Reads work: plan, export and (stopped) watch exit 0; apply fails its writes.
            if run.label.contains("\"apply\"") {
                1
            } else {
                0
            }
        } else {
            1
        };
        assert_eq!(
            run.code,
            Some(want),
            "{}: {}{}",
            run.label,
            run.stdout,
            run.stderr
        );
        assert!(
            run.stderr.contains("intsync::http"),
            "{}: trace logging was on: {}",
            run.label,
            run.stderr
        );
    }
    let wanted_paths = [
        ("Retries", "retrying"),
        ("WritesFail", "answered 400"),
        ("WritesFail", "failed 4 times; last: 500"),
        ("Persistent", "failed 4 times; last: 500"),
        ("WrongToken", "answered 401"),
    ];
    for (scenario, needle) in wanted_paths {
        assert!(
            leaks
                .runs
                .iter()
                .any(|r| r.label.starts_with(scenario) && r.stderr.contains(needle)),
            "no {scenario} run shows {needle:?}"
        );
    }

    let secrets = saved_secrets(leaks.env.dir.path());
    // Ada creates, in the Success and Retries scenarios: "Kept", one per apply and watch save,
    // and in Retries' apply also the create watch left pending at its start in Success (it
    // writes only what a save changed).
    assert_eq!(secrets.len(), 6, "{secrets:?}");
    let mut texts: Vec<(String, String)> = Vec::new();
    for run in &leaks.runs {
        texts.push((format!("{} stdout", run.label), run.stdout.clone()));
        texts.push((format!("{} stderr", run.label), run.stderr.clone()));
    }
    for dir in &exports {
        for entry in walk(dir) {
            texts.push((
                entry.display().to_string(),
                std::fs::read_to_string(&entry).unwrap(),
            ));
        }
    }
    for (what, text) in &texts {
        assert!(!text.contains(TOKEN), "{what} holds the token");
        assert!(!text.contains(WRONG_TOKEN), "{what} holds the wrong token");
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "{what} holds a client secret"
            );
        }
    }
    eprintln!(
        "{} runs, {} texts checked in {:?}",
        leaks.runs.len(),
        texts.len(),
        started.elapsed()
    );
}

/// Files under `dir`, recursively (none when it does not exist: a failed export).
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
