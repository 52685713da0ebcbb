//! The fault matrix: every injected fault × {plan, apply, export}, against both vendors' APIs on
//! the emulator over HTTP. Each run must either converge (the right plan, the desired live state,
//! a faithful export) or fail with a clear error and exit 1; never panic, never create a
//! duplicate, never write to an integration that is not in `development`.
//!
//! The matrix's table is committed in `docs/reliability.md`, between two marker comments; the
//! test fails when the run's table differs from it (run-specific values, integration ids and
//! byte counts, are replaced by placeholders). `INTSYNC_FAULT_REPORT=1 cargo test --test faults`
//! rewrites the committed table instead. `INTSYNC_FAULT_FILTER=TEXT` runs only the faults whose
//! name contains TEXT, or one of several `|`-separated TEXTs (and compares, or rewrites, only
//! their rows).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::{Env, ada_manifest, ada_spec, truto_manifest, truto_spec};
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
    env.write_config(
        env.emulator.base_url(),
        2,
        "retry = { attempts = 6, base_delay_ms = 10, max_delay_ms = 100, max_retry_after_ms = 1000 }\ntimeout_secs = 2",
    );
    env.emulator.seed_ada("Keep", "old");
    let frozen = env.emulator.seed_ada("Frozen", "old");
    env.emulator.set_status(&frozen, "approved");
    for (name, category) in [("Tracker", "crm"), ("Filler", "crm")] {
        env.emulator.seed_truto(truto_spec(name, category));
    }
    env.manifest("keep.yaml", &ada_manifest("Keep", "new"));
    env.manifest("frozen.yaml", &ada_manifest("Frozen", "new"));
    env.manifest("fresh.yaml", &ada_manifest("Fresh", "brand new"));
    env.manifest("tracker.yaml", &truto_manifest("Tracker", "ticketing"));
    env.manifest("filler.yaml", &truto_manifest("Filler", "crm"));
    env.manifest("newcrm.yaml", &truto_manifest("New CRM", "crm"));
    env.emulator.clear_requests();
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
    let (code, stdout, stderr) = env.run(args);
    Run {
        code,
        stdout,
        stderr,
    }
}

/// Which state the live integrations must be in.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// As seeded: nothing was written (plan, export).
    Seeded,
    /// As the manifests say: the approved `Frozen` excepted (its change is blocked).
    Applied,
    /// After an apply that failed: each integration as seeded or as its manifest says, and
    /// nothing else.
    Partial,
}

/// A managed integration of `account()`: as seeded (`None`: apply creates it), and the fields
/// its manifest sets, as apply must leave them live.
struct Managed {
    api: &'static str,
    name: &'static str,
    seeded: Option<Value>,
    applied: Value,
}

fn managed() -> Vec<Managed> {
    let ada = |name, seeded: Option<&str>, applied| Managed {
        api: "ada",
        name,
        seeded: seeded.map(|d| ada_spec(name, d)),
        applied: ada_spec(name, applied),
    };
    let truto = |name, seeded: Option<&str>, applied| Managed {
        api: "truto",
        name,
        seeded: seeded.map(|c| truto_spec(name, c)),
        applied: truto_spec(name, applied),
    };
    vec![
        ada("Keep", Some("old"), "new"),
        // Approved: the manifest says "new", but that change is blocked, never written.
        ada("Frozen", Some("old"), "old"),
        ada("Fresh", None, "brand new"),
        truto("Tracker", Some("crm"), "ticketing"),
        truto("Filler", Some("crm"), "crm"),
        truto("New CRM", None, "crm"),
    ]
}

/// Whether a live value is the desired one, compared the way the planner compares: `tags` and
/// `scopes` as sets, numbers by value, objects whatever their key order.
fn same(field: &str, want: &Value, live: Option<&Value>) -> bool {
    fn equal(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(a, b)| equal(a, b))
            }
            (Value::Object(a), Value::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| equal(v, w)))
            }
            _ => a == b,
        }
    }
    let set = |v: &Value| -> Option<BTreeSet<String>> {
        Some(v.as_array()?.iter().map(Value::to_string).collect())
    };
    match live {
        None => false,
        Some(live) if matches!(field, "tags" | "scopes") => set(want) == set(live),
        Some(live) => equal(want, live),
    }
}

/// The fields `want` sets that differ live.
fn differences(want: &Value, live: &Value) -> Vec<String> {
    want.as_object()
        .unwrap()
        .iter()
        .filter(|(field, value)| !same(field, value, live.get(field.as_str())))
        .map(|(field, value)| {
            let live = live
                .get(field.as_str())
                .map_or("absent".into(), Value::to_string);
            format!("`{field}` is {live} live, want {value}")
        })
        .collect()
}

/// Reads live state through the emulator's APIs and compares it with `expect`, field by field:
/// every managed integration exactly once, with the fields its manifest (or its seed) sets, and
/// no other integration. Returns what differs.
fn live_problems(account: &Account, expect: Expect) -> Vec<String> {
    let env = &account.env;
    let mut live: Vec<(&str, Value)> = env
        .emulator
        .ada_live()
        .into_iter()
        .map(|i| ("ada", i))
        .collect();
    live.extend(env.emulator.truto_live().into_iter().map(|i| ("truto", i)));
    let managed = managed();
    let mut problems = Vec::new();
    for (api, item) in &live {
        if !managed
            .iter()
            .any(|m| m.api == *api && item["name"] == m.name)
        {
            problems.push(format!("{api}: an integration no manifest names: {item}"));
        }
    }
    for m in &managed {
        let found: Vec<&Value> = live
            .iter()
            .filter(|(api, item)| *api == m.api && item["name"] == m.name)
            .map(|(_, item)| item)
            .collect();
        let allowed: Vec<&Value> = match expect {
            Expect::Seeded => m.seeded.iter().collect(),
            Expect::Applied => vec![&m.applied],
            Expect::Partial => m.seeded.iter().chain([&m.applied]).collect(),
        };
        match found[..] {
            [] if allowed.is_empty() || (expect == Expect::Partial && m.seeded.is_none()) => {}
            [] => problems.push(format!("{} {:?} is missing", m.api, m.name)),
            [_] if allowed.is_empty() => problems.push(format!(
                "{} {:?} exists, but nothing should have created it",
                m.api, m.name
            )),
            [item] => {
                if !allowed
                    .iter()
                    .any(|want| differences(want, item).is_empty())
                {
                    let want = allowed.last().unwrap(); // the manifest's, unless nothing was applied
                    problems.push(format!(
                        "{} {:?}: {}",
                        m.api,
                        m.name,
                        differences(want, item).join("; ")
                    ));
                }
            }
            _ => problems.push(format!(
                "{} {:?} exists {} times (a duplicate)",
                m.api,
                m.name,
                found.len()
            )),
        }
    }
    if let Some((_, frozen)) = live
        .iter()
        .find(|(api, item)| *api == "ada" && item["name"] == "Frozen")
        && (frozen["id"] != account.frozen.as_str() || frozen["status"] != "approved")
    {
        problems.push(format!(
            "the approved integration is no longer the approved one seeded: {frozen}"
        ));
    }
    problems
}

/// After a converged apply on `target`, intsync's own plan must show only the blocked change
/// (Ada) or nothing (Truto).
fn plan_after_apply(env: &Env, target: &str) -> Option<String> {
    let after = run(env, &["plan", "--target", target, "--detailed-exitcode"]);
    let (code, summary) = if target == "ada" {
        (3, "Plan: 0 to create, 0 to update, 1 blocked, 2 unchanged")
    } else {
        (0, "Plan: 0 to create, 0 to update, 0 blocked, 3 unchanged")
    };
    (after.code != code || !after.stdout.contains(summary)).then(|| {
        format!(
            "plan exits {} (want {code} and \"{summary}\"):\n{}{}",
            after.code, after.stdout, after.stderr
        )
    })
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

/// What an error line lacks, if anything: it must name the request (method and path) and the
/// cause.
fn unclear(line: &str) -> Option<&'static str> {
    const METHODS: &[&str] = &["GET ", "POST ", "PATCH "];
    const PATHS: &[&str] = &[
        "/api/v2/platform-integrations/",
        "/integration",
        "/environment",
    ];
    const CAUSES: &[&str] = &[
        "no answer",
        "not JSON",
        "has no",
        "outcome is unknown",
        "outcome unknown",
        "timed out",
        "client secret was lost",
    ];
    let status = line
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| w.len() == 3 && w.parse::<u16>().is_ok_and(|s| (400..600).contains(&s)));
    if !METHODS.iter().any(|m| line.contains(m)) {
        Some("names no request method")
    } else if !PATHS.iter().any(|p| line.contains(p)) {
        Some("names no request path")
    } else if !status && !CAUSES.iter().any(|c| line.contains(c)) {
        Some("names no cause")
    } else {
        None
    }
}

/// `text` with what differs from run to run replaced: integration ids (Ada's 24 hex digits,
/// Truto's UUIDs) by `<id>`, byte counts and column numbers by `<n>`.
fn normalise(text: &str) -> String {
    fn is_id(word: &str) -> bool {
        let hex = |s: &str| s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'));
        let uuid = word.len() == 36
            && word.split('-').map(str::len).eq([8, 4, 4, 4, 12])
            && hex(&word.replace('-', ""));
        (word.len() == 24 && hex(word)) || uuid
    }
    // Words (letters, digits, dashes) and the single characters between them.
    let mut tokens: Vec<String> = Vec::new();
    for c in text.chars() {
        let word = c.is_ascii_alphanumeric() || c == '-';
        match tokens.last_mut() {
            Some(last) if word && last.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
                last.push(c);
            }
            _ => tokens.push(c.to_string()),
        }
    }
    let number = |t: &String| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    let mut out = String::with_capacity(text.len());
    for (i, token) in tokens.iter().enumerate() {
        let before = i
            .checked_sub(2)
            .and_then(|j| tokens.get(j))
            .map(String::as_str);
        let after = tokens.get(i + 2).map(String::as_str);
        if is_id(token) {
            out.push_str("<id>");
        } else if number(token) && (after == Some("bytes") || before == Some("column")) {
            out.push_str("<n>");
        } else {
            out.push_str(token);
        }
    }
    out
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
    // The plan each target gives without the fault: a plan made through it must be this one,
    // byte for byte (not only its summary line).
    let reference: Vec<String> = match op {
        Op::Plan => ["ada", "truto"]
            .iter()
            .map(|target| run(env, &["plan", "--target", target, "--format", "json"]).stdout)
            .collect(),
        Op::Apply | Op::Export => Vec::new(),
    };
    env.emulator.set_faults(rules(op, &fault.action, forever));

    let mut results = Vec::new();
    for target in ["ada", "truto"] {
        let dir = format!("exported-{target}");
        let r = match op {
            Op::Plan => run(env, &["plan", "--target", target, "--format", "json"]),
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
    let requests = env.emulator.requests();
    let faulted: u64 = env.emulator.faults()["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["applied"].as_u64().unwrap())
        .sum();
    env.emulator.set_faults(json!({"rules": []}));

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
        if r.code == 1 {
            let line = error_line(&r.stderr);
            if let Some(lack) = unclear(&line) {
                broken(format!(
                    "{target}: exit 1, but the error line {lack}: {line:?}\n{}",
                    r.stderr
                ));
            }
        }
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

    // Did it converge? Live state, read directly, says what was written.
    let converged = results.iter().all(|(_, _, r)| r.code == 0);
    let expect = match (op, converged) {
        (Op::Apply, true) => Expect::Applied,
        (Op::Apply, false) => Expect::Partial,
        (Op::Plan | Op::Export, _) => Expect::Seeded,
    };
    for problem in live_problems(&account, expect) {
        broken(format!("live state ({expect:?}): {problem}"));
    }
    if converged {
        for (target, dir, r) in &results {
            match op {
                Op::Plan => {
                    let want = if *target == "ada" {
                        json!({"create": 1, "update": 1, "blocked": 1, "noop": 0, "unmanaged": 0})
                    } else {
                        json!({"create": 1, "update": 1, "blocked": 0, "noop": 1, "unmanaged": 0})
                    };
                    let plan: Value = serde_json::from_str(&r.stdout).unwrap_or_default();
                    if plan["summary"] != want {
                        broken(format!("{target}: wrong plan (want {want}):\n{}", r.stdout));
                    }
                    let index = usize::from(*target == "truto");
                    if r.stdout != reference[index] {
                        broken(format!(
                            "{target}: the plan differs from the one made without the fault:\n{}\nwithout it:\n{}",
                            r.stdout, reference[index]
                        ));
                    }
                }
                Op::Apply => {
                    if let Some(problem) = plan_after_apply(env, target) {
                        broken(format!("{target}: not converged: {problem}"));
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
            if again.code != 0 {
                broken(format!(
                    "{target}: a re-run without the fault exits {}:\n{}",
                    again.code, again.stderr
                ));
            }
            if let Some(problem) = plan_after_apply(env, target) {
                broken(format!(
                    "{target}: a re-run without the fault does not converge: {problem}"
                ));
            }
        }
        for problem in live_problems(&account, Expect::Applied) {
            broken(format!("live state after the re-run: {problem}"));
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
        let base = env.emulator.base_url();
        let mut line = error_line(&failed.stderr)
            .replace(base, "")
            .replace('|', "\\|");
        // Keep the table readable: the request and the cause; the hint is the same everywhere.
        if let Some(hint) = line
            .find(" (the API is down")
            .or_else(|| line.find(" (is `base_url`"))
        {
            line.truncate(hint);
        }
        format!("exit 1: `{}`{rerun}", normalise(&line))
    }
}

const BEGIN: &str = "<!-- fault-matrix:begin";
const END: &str = "<!-- fault-matrix:end -->";
const HEADER: &str = "| fault | mode | plan | apply | export |\n|---|---|---|---|---|\n";

fn reliability_md() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md")
}

/// The byte range of the table between the marker comments of `doc`.
fn table_range(doc: &str) -> std::ops::Range<usize> {
    let begin = doc
        .find(BEGIN)
        .expect("docs/reliability.md has the begin marker");
    let start = begin + doc[begin..].find('\n').unwrap() + 1;
    let end = start
        + doc[start..]
            .find(END)
            .expect("docs/reliability.md has the end marker");
    start..end
}

/// A row's fault and mode: the first two cells.
fn row_key(row: &str) -> &str {
    row.match_indices('|')
        .nth(2)
        .map_or(row, |(i, _)| &row[..i])
}

/// The committed table with the rows of this run in place of theirs: the whole table when every
/// fault ran.
fn merged(committed: &str, rows: &[String], all: bool) -> String {
    if all {
        return format!("{HEADER}{}", rows.concat());
    }
    let mut table: Vec<String> = committed.lines().map(|l| format!("{l}\n")).collect();
    for row in rows {
        match table.iter_mut().find(|l| row_key(l) == row_key(row)) {
            Some(line) => line.clone_from(row),
            None => table.push(row.clone()),
        }
    }
    table.concat()
}

#[test]
fn fault_matrix() {
    let started = std::time::Instant::now();
    let filter = std::env::var("INTSYNC_FAULT_FILTER").unwrap_or_default();
    let faults: Vec<Fault> = faults()
        .into_iter()
        .filter(|f| filter.split('|').any(|part| f.name.contains(part)))
        .collect();
    assert!(
        !faults.is_empty(),
        "INTSYNC_FAULT_FILTER={filter:?} names no fault"
    );
    let all = filter.is_empty();
    // Every cell has an account (an emulator and a directory) of its own, and most of a cell's
    // time is spent waiting (timeouts, `Retry-After`, latency): cells run `WORKERS` at a time,
    // and the table is put together in order.
    const WORKERS: usize = 4;
    let ops = [Op::Plan, Op::Apply, Op::Export];
    let tasks: Vec<(&Fault, bool, Op)> = faults
        .iter()
        .flat_map(|fault| [false, true].map(|forever| (fault, forever)))
        .flat_map(|(fault, forever)| ops.map(|op| (fault, forever, op)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    // Each cell's text and the promises it saw broken.
    type Done = (String, Vec<String>);
    let done: std::sync::Mutex<Vec<Option<Done>>> = std::sync::Mutex::new(vec![None; tasks.len()]);
    std::thread::scope(|scope| {
        for _ in 0..WORKERS {
            scope.spawn(|| {
                loop {
                    let at = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&(fault, forever, op)) = tasks.get(at) else {
                        return;
                    };
                    let mut broken = Vec::new();
                    let text = cell(op, fault, forever, &mut broken);
                    done.lock().unwrap()[at] = Some((text, broken));
                }
            });
        }
    });
    let done: Vec<Done> = done
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|cell| cell.expect("every cell ran"))
        .collect();
    let mut violations = Vec::new();
    let mut rows = Vec::new();
    for (row, cells) in tasks.chunks(ops.len()).zip(done.chunks(ops.len())) {
        let (fault, forever, _) = row[0];
        let mode = if forever { "persistent" } else { "transient" };
        let texts: Vec<&str> = cells.iter().map(|(text, _)| text.as_str()).collect();
        violations.extend(cells.iter().flat_map(|(_, broken)| broken.iter().cloned()));
        rows.push(format!(
            "| {} | {mode} | {} |\n",
            fault.name,
            texts.join(" | ")
        ));
    }
    eprintln!(
        "fault matrix: {} cells in {:.0} s",
        rows.len() * 3,
        started.elapsed().as_secs_f64()
    );

    let path = reliability_md();
    let doc = std::fs::read_to_string(&path).unwrap();
    let range = table_range(&doc);
    let committed = &doc[range.clone()];
    let table = merged(committed, &rows, all);
    let mut stale = Vec::new();
    if table != committed {
        if std::env::var_os("INTSYNC_FAULT_REPORT").is_some() {
            let mut doc = doc.clone();
            doc.replace_range(range, &table);
            std::fs::write(&path, doc).unwrap();
        } else {
            let old: BTreeSet<&str> = committed.lines().collect();
            let new: BTreeSet<&str> = table.lines().collect();
            for row in old.difference(&new) {
                stale.push(format!("- committed: {row}"));
            }
            for row in new.difference(&old) {
                stale.push(format!("+ this run:  {row}"));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "{} broken promises:\n{}\n\n{}{}",
        violations.len(),
        violations.join("\n\n"),
        HEADER,
        rows.concat()
    );
    assert!(
        stale.is_empty(),
        "the fault matrix in docs/reliability.md is not this run's (rewrite it with \
         INTSYNC_FAULT_REPORT=1 if the change is intended):\n{}",
        stale.join("\n")
    );
}
