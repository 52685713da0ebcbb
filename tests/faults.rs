//! The fault matrix: every injected fault × {plan, apply, export}, against both vendors' APIs on
//! the emulator over HTTP. Each run must either converge (the right plan, the desired live state,
//! a faithful export) or fail with a clear error and exit 1; never panic, never create a
//! duplicate, never write to an integration that is not in `development`.
//!
//! `INTSYNC_FAULT_REPORT=FILE cargo test --test faults` also writes the matrix as the Markdown
//! table of `docs/reliability.md`.

mod common;

use std::fmt::Write as _;

use common::{Env, ada_manifest, truto_manifest};
use reqwest::Method;
use serde_json::{Value, json};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Op {
    Plan,
    Apply,
    Export,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Plan => "plan",
            Op::Apply => "apply",
            Op::Export => "export",
        }
    }
}

struct Fault {
    name: &'static str,
    action: Value,
    /// Whether plan and export get through it when it hits every list request (otherwise they
    /// must exit 1, clearly).
    survivable_forever: bool,
    /// Whether apply gets through it when it hits every write (a write that took effect is found
    /// in live state; one that did not is reported).
    apply_survives_forever: bool,
    /// Whether it leaves a POST's outcome unknown (no answer, a 5xx, an unreadable 2xx): such a
    /// create is never sent again in the same run, so apply exits 1 (Ada's secret is lost, or
    /// the integration did not appear in the grace window) and the next run finishes.
    post_outcome_unknown: bool,
}

fn faults() -> Vec<Fault> {
    let status = |status: u16| json!({"type": "status", "status": status});
    vec![
        Fault {
            name: "latency spike (400 ms)",
            action: json!({"type": "latency", "ms": 400}),
            survivable_forever: true,
            apply_survives_forever: true,
            post_outcome_unknown: false,
        },
        Fault {
            name: "429, no `Retry-After`",
            action: status(429),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: false,
        },
        Fault {
            name: "429, `Retry-After: 1`",
            action: json!({"type": "status", "status": 429, "retry_after": "1"}),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: false,
        },
        Fault {
            name: "500",
            action: status(500),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: true,
        },
        Fault {
            name: "502",
            action: status(502),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: true,
        },
        Fault {
            name: "503",
            action: status(503),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: true,
        },
        Fault {
            name: "connection reset before commit",
            action: json!({"type": "drop_before"}),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: true,
        },
        Fault {
            name: "connection reset after commit",
            action: json!({"type": "drop_after_commit"}),
            survivable_forever: false,
            apply_survives_forever: true,
            post_outcome_unknown: true,
        },
        Fault {
            name: "truncated body",
            action: json!({"type": "truncate_body"}),
            survivable_forever: false,
            apply_survives_forever: true,
            post_outcome_unknown: true,
        },
        Fault {
            name: "non-JSON body (HTML)",
            action: json!({"type": "non_json_body"}),
            survivable_forever: false,
            apply_survives_forever: true,
            post_outcome_unknown: true,
        },
        Fault {
            name: "required field missing (`name`)",
            action: json!({"type": "drop_field", "field": "name"}),
            survivable_forever: false,
            apply_survives_forever: true,
            post_outcome_unknown: false,
        },
        Fault {
            name: "required field missing in a create's answer (`scopes`)",
            action: json!({"type": "drop_field", "field": "scopes"}),
            survivable_forever: false,
            apply_survives_forever: true,
            post_outcome_unknown: false,
        },
        Fault {
            name: "429, `Retry-After: 1e20` (cut to `max_retry_after_ms`)",
            action: json!({"type": "status", "status": 429, "retry_after": "1e20"}),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: false,
        },
        Fault {
            name: "429, `Retry-After` an HTTP-date in year 9999",
            action: json!({"type": "status", "status": 429, "retry_after": "Fri, 31 Dec 9999 23:59:59 GMT"}),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: false,
        },
        Fault {
            name: "delayed commit (held 2.5 s, past the 2 s timeout)",
            action: json!({"type": "delay_commit", "ms": 2500}),
            survivable_forever: false,
            apply_survives_forever: false,
            post_outcome_unknown: true,
        },
        Fault {
            name: "wrong `Content-Type` (text/plain)",
            action: json!({"type": "content_type", "value": "text/plain"}),
            survivable_forever: true,
            apply_survives_forever: true,
            post_outcome_unknown: false,
        },
    ]
}

/// One account: per vendor an integration to update and one to create; for Ada also an approved
/// integration whose manifest differs (blocked: it must never be written).
struct Account {
    env: Env,
    frozen: String,
}

fn account() -> Account {
    let env = Env::new(2); // several pages per list
    // A short request timeout (its grace window for unknown outcomes is 1.5 of it), and a cap on
    // `Retry-After` that keeps the matrix fast.
    let config = std::fs::read_to_string(env.dir.path().join("intsync.toml")).unwrap();
    std::fs::write(
        env.dir.path().join("intsync.toml"),
        config.replace(
            "max_delay_ms = 100 }",
            "max_delay_ms = 100, max_retry_after_ms = 1000 }\ntimeout_secs = 2",
        ),
    )
    .unwrap();
    env.seed_ada("Keep", "old");
    let frozen = env.seed_ada("Frozen", "old");
    env.call(
        Method::POST,
        &format!("/_emulator/ada/{frozen}/status"),
        Some(json!({"status": "approved"})),
    );
    for (name, category) in [("Tracker", "crm"), ("Filler", "crm")] {
        env.call(
            Method::POST,
            "/integration",
            Some(json!({"name": name, "category": category, "config": {"base_url": "https://api.example.com", "timeout": 30}})),
        );
    }
    env.manifest("keep.yaml", &ada_manifest("Keep", "new"));
    env.manifest("frozen.yaml", &ada_manifest("Frozen", "new"));
    env.manifest("fresh.yaml", &ada_manifest("Fresh", "brand new"));
    env.manifest("tracker.yaml", &truto_manifest("Tracker", "ticketing"));
    env.manifest("filler.yaml", &truto_manifest("Filler", "crm"));
    env.manifest("newcrm.yaml", &truto_manifest("New CRM", "crm"));
    env.clear_requests();
    Account { env, frozen }
}

/// The fault rules for `op`. Transient: the first two requests of each method the operation
/// sends, on each API. Persistent: every list request for plan and export; every write for
/// apply (a failing list would stop it before any write).
fn rules(op: Op, action: &Value, forever: bool) -> Value {
    let methods: &[&str] = match (op, forever) {
        (Op::Plan | Op::Export, _) => &["GET"],
        (Op::Apply, false) => &["GET", "POST", "PATCH"],
        (Op::Apply, true) => &["POST", "PATCH"],
    };
    let mut rules = Vec::new();
    for api in ["ada", "truto"] {
        for method in methods {
            let mut rule = json!({"api": api, "method": method, "action": action});
            if !forever {
                rule["times"] = json!(2);
            }
            rules.push(rule);
        }
    }
    json!({"rules": rules})
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(env: &Env, args: &[&str]) -> Run {
    let output = env
        .intsync()
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn live_names(env: &Env) -> Vec<String> {
    let mut names = Vec::new();
    for (path, key) in [
        ("/api/v2/platform-integrations/?limit=100", "data"),
        ("/integration?limit=100", "result"),
    ] {
        let page = env.call(Method::GET, path, None);
        for item in page[key].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
    }
    names.sort();
    names
}

/// The first line of stderr that says what went wrong.
fn error_line(stderr: &str) -> String {
    let lines = || stderr.lines().map(str::trim);
    lines()
        .find(|l| l.starts_with("error:"))
        .or_else(|| lines().find(|l| l.starts_with("- ") && l.contains("\": ")))
        .unwrap_or("(no error line)")
        .trim_start_matches("error: ")
        .trim_start_matches("- ")
        .to_owned()
}

/// Runs `op` on both targets under the fault; returns the cell's text, and pushes every broken
/// promise to `violations`.
fn cell(op: Op, fault: &Fault, forever: bool, violations: &mut Vec<String>) -> String {
    let account = account();
    let env = &account.env;
    let label = format!(
        "{} × {} ({})",
        fault.name,
        op.name(),
        if forever { "persistent" } else { "transient" }
    );
    let mut broken = |what: String| violations.push(format!("{label}: {what}"));
    env.call(
        Method::PUT,
        "/_emulator/faults",
        Some(rules(op, &fault.action, forever)),
    );

    let mut results = Vec::new();
    for target in ["ada", "truto"] {
        let dir = format!("exported-{target}");
        let r = match op {
            Op::Plan => run(env, &["plan", "--target", target]),
            Op::Apply => run(
                env,
                &[
                    "apply",
                    "--target",
                    target,
                    "--auto-approve",
                    "--skip-blocked",
                ],
            ),
            Op::Export => run(env, &["export", "--target", target, "--dir", &dir]),
        };
        results.push((target, dir, r));
    }
    let requests = env.requests();
    let faulted: u64 = env.call(Method::GET, "/_emulator/faults", None)["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["applied"].as_u64().unwrap())
        .sum();
    env.call(Method::PUT, "/_emulator/faults", Some(json!({"rules": []})));

    // Promises that hold whatever the outcome.
    for (target, _, r) in &results {
        if ["panicked", "intsync crashed"]
            .iter()
            .any(|p| r.stderr.contains(p) || r.stdout.contains(p))
        {
            broken(format!("{target}: panicked: {}", r.stderr));
        }
        if r.code != 0 && r.code != 1 {
            broken(format!(
                "{target}: exit {} (want 0 or 1): {}",
                r.code, r.stderr
            ));
        }
        if r.code == 1 && error_line(&r.stderr) == "(no error line)" {
            broken(format!(
                "{target}: exit 1 without an error message: {}",
                r.stderr
            ));
        }
    }
    let names = live_names(env);
    let mut unique = names.clone();
    unique.dedup();
    if unique != names {
        broken(format!("duplicate integrations: {names:?}"));
    }
    let frozen_path = format!("/api/v2/platform-integrations/{}", account.frozen);
    if requests
        .iter()
        .any(|r| r["method"] != "GET" && r["path"] == frozen_path.as_str())
    {
        broken("wrote to the approved integration".to_owned());
    }
    if op != Op::Apply && requests.iter().any(|r| r["method"] != "GET") {
        broken(format!("{} sent a write", op.name()));
    }

    // Did it converge?
    let converged = results.iter().all(|(_, _, r)| r.code == 0);
    if converged {
        for (target, dir, r) in &results {
            match op {
                Op::Plan => {
                    let want = if *target == "ada" {
                        "Plan: 1 to create, 1 to update, 1 blocked, 0 unchanged"
                    } else {
                        "Plan: 1 to create, 1 to update, 0 blocked, 1 unchanged"
                    };
                    if !r.stdout.contains(want) {
                        broken(format!("{target}: wrong plan:\n{}", r.stdout));
                    }
                }
                Op::Apply => {
                    let after = run(env, &["plan", "--target", target, "--detailed-exitcode"]);
                    let want = if *target == "ada" { 3 } else { 0 }; // only the blocked change is left
                    if after.code != want {
                        broken(format!(
                            "{target}: not converged: plan exits {}:\n{}",
                            after.code, after.stdout
                        ));
                    }
                }
                Op::Export => {
                    let after = run(
                        env,
                        &["plan", dir, "--target", target, "--detailed-exitcode"],
                    );
                    if after.code != 0 {
                        broken(format!(
                            "{target}: export is not faithful: plan exits {}:\n{}{}",
                            after.code, after.stdout, after.stderr
                        ));
                    }
                    let files = std::fs::read_dir(env.dir.path().join(dir))
                        .map(|d| d.count())
                        .unwrap_or(0);
                    if files != 2 {
                        broken(format!("{target}: exported {files} files, want 2"));
                    }
                }
            }
        }
        if op == Op::Apply && names != ["Filler", "Fresh", "Frozen", "Keep", "New CRM", "Tracker"] {
            broken(format!("live integrations after apply: {names:?}"));
        }
    }
    let must_converge = match (forever, op) {
        (_, Op::Apply) if fault.post_outcome_unknown => false,
        (false, _) => true,
        (true, Op::Apply) => fault.apply_survives_forever,
        (true, Op::Plan | Op::Export) => fault.survivable_forever,
    };
    // Whatever the first run did, a run without the fault finishes the job.
    let mut rerun = String::new();
    if op == Op::Apply && !converged {
        for target in ["ada", "truto"] {
            let again = run(
                env,
                &[
                    "apply",
                    "--target",
                    target,
                    "--auto-approve",
                    "--skip-blocked",
                ],
            );
            let after = run(env, &["plan", "--target", target, "--detailed-exitcode"]);
            let want = if target == "ada" { 3 } else { 0 };
            if again.code != 0 || after.code != want {
                broken(format!(
                    "{target}: a re-run without the fault does not converge: apply exits {}, plan {}:\n{}{}",
                    again.code, after.code, again.stderr, after.stdout
                ));
            }
        }
        let names = live_names(env);
        if names != ["Filler", "Fresh", "Frozen", "Keep", "New CRM", "Tracker"] {
            broken(format!("live integrations after the re-run: {names:?}"));
        }
        rerun.push_str("; a re-run converges");
    }
    if converged && !must_converge {
        broken("converged through a fault it cannot survive: was the fault injected?".to_owned());
    }
    if faulted == 0 {
        broken("the fault never acted".to_owned());
    }
    if !converged && must_converge {
        let errors: Vec<String> = results
            .iter()
            .map(|(t, _, r)| format!("{t}: {}", error_line(&r.stderr)))
            .collect();
        broken(format!("did not converge: {errors:?}"));
    }

    if converged {
        format!("converges ({faulted} faulted requests)")
    } else {
        let (_, _, failed) = results.iter().find(|(_, _, r)| r.code != 0).unwrap();
        let base = env.server.base_url();
        let mut line = error_line(&failed.stderr)
            .replace(base.as_str(), "")
            .replace('|', "\\|");
        // Keep the table readable: the request and the cause; the hint is the same everywhere.
        if let Some(hint) = line
            .find(" (the API is down")
            .or_else(|| line.find(" (is `base_url`"))
        {
            line.truncate(hint);
        }
        format!("exit 1: `{line}`{rerun}")
    }
}

#[test]
fn fault_matrix() {
    let mut violations = Vec::new();
    let mut table =
        String::from("| fault | mode | plan | apply | export |\n|---|---|---|---|---|\n");
    for fault in faults() {
        for forever in [false, true] {
            let cells: Vec<String> = [Op::Plan, Op::Apply, Op::Export]
                .into_iter()
                .map(|op| cell(op, &fault, forever, &mut violations))
                .collect();
            let mode = if forever { "persistent" } else { "transient" };
            let _ = writeln!(table, "| {} | {mode} | {} |", fault.name, cells.join(" | "));
        }
    }
    if let Ok(path) = std::env::var("INTSYNC_FAULT_REPORT") {
        std::fs::write(path, &table).unwrap();
    }
    assert!(
        violations.is_empty(),
        "{} broken promises:\n{}\n\n{table}",
        violations.len(),
        violations.join("\n\n")
    );
}
