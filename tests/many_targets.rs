//! Many targets in one run (issue #24, design §11): `--target a,b` (repeatable),
//! `--all-targets`, `default_target` as a list; one section per target, one JSON envelope,
//! exit codes folded over targets, `apply --plan` of an envelope.

mod common;

use common::{Workdir, ada_manifest, truto_manifest};
use serde_json::Value;

/// Two local targets, each with a state file of its own.
const TWO: &str = "[targets.blue]\nprovider = \"local\"\nstate = \"blue.json\"\n[targets.green]\nprovider = \"local\"\nstate = \"green.json\"\n";

fn two_targets(config_head: &str) -> Workdir {
    let work = Workdir::new();
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("{config_head}{TWO}"),
    )
    .unwrap();
    work.manifest("shop.yaml", &ada_manifest("Cool Shop", "one"));
    work.manifest("crm.yaml", &truto_manifest("my_crm", "crm"));
    work
}

/// The envelope's plans: (target, creates).
fn plans(envelope: &Value) -> Vec<(String, u64)> {
    assert_eq!(envelope["format_version"], 1, "{envelope}");
    assert_eq!(envelope["kind"], "intsync-plans", "{envelope}");
    envelope["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|plan| {
            (
                plan["target"].as_str().unwrap().to_owned(),
                plan["summary"]["create"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn json(stdout: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// A port on loopback nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn all_targets_plan_as_one_envelope_of_a_plan_each() {
    let work = two_targets("");
    let (code, stdout, stderr) = work.run(&["plan", "--all-targets", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    // The built-in `local` is not declared: not among all targets.
    assert_eq!(
        plans(&json(&stdout)),
        [("blue".to_owned(), 2), ("green".to_owned(), 2)]
    );
    // One target selected: the plain plan document, as before.
    let (code, stdout, stderr) = work.run(&["plan", "--target", "blue", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let one = json(&stdout);
    assert_eq!(one["target"], "blue");
    assert!(one.get("kind").is_none(), "{one}");
}

#[test]
fn apply_all_targets_then_nothing_is_left_to_plan() {
    let work = two_targets("");
    let (code, _, stderr) = work.run(&["plan", "--all-targets", "--detailed-exitcode"]);
    assert_eq!(code, 2, "changes on both: {stderr}");
    let (code, stdout, stderr) = work.run(&["apply", "--all-targets", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("=== target `blue` ===\n") && stdout.contains("=== target `green` ===\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[green] "),
        "writes name their target: {stderr}"
    );
    let (code, stdout, stderr) = work.run(&["plan", "--all-targets", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Each target got its own creates, in its own state file.
    for state in ["blue.json", "green.json"] {
        let text = std::fs::read_to_string(work.path().join(state)).unwrap();
        assert!(
            text.contains("Cool Shop") && text.contains("my_crm"),
            "{state}: {text}"
        );
    }
}

/// One target cannot be reached: the other is still planned and shown, the failed one has a
/// section saying why, and the run exits 1 (even though the other has changes).
#[test]
fn a_failing_target_fails_the_run_and_the_other_is_still_reported() {
    let work = two_targets(&format!(
        "[targets.down]\nprovider = \"ada\"\nbase_url = \"http://127.0.0.1:{}\"\ntoken_env = \"TEST_ADA_TOKEN\"\nretry = {{ attempts = 1 }}\ntimeout_secs = 5\n",
        closed_port()
    ));
    let (code, stdout, stderr) =
        work.run(&["plan", "--target", "down,blue", "--detailed-exitcode"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let blue = stdout.find("=== target `blue` ===\n").expect(&stdout);
    let down = stdout
        .find("=== target `down`: failed ===\n")
        .expect(&stdout);
    assert!(down < blue, "selection order: {stdout}");
    assert!(stdout.contains("Plan: 2 to create"), "{stdout}");
    assert!(stderr.contains("error: target `down` failed:"), "{stderr}");
    // As JSON: the plans made, and still exit 1.
    let (code, stdout, _) = work.run(&["plan", "--target", "down,blue", "--format", "json"]);
    assert_eq!(code, 1);
    assert_eq!(plans(&json(&stdout)), [("blue".to_owned(), 2)]);
}

#[test]
fn apply_plan_of_an_envelope_writes_each_target() {
    let work = two_targets("");
    let (code, _, stderr) = work.run(&["plan", "--all-targets", "--out", "plans.json"]);
    assert_eq!(code, 0, "{stderr}");
    let saved = std::fs::read_to_string(work.path().join("plans.json")).unwrap();
    assert_eq!(plans(&json(&saved)).len(), 2);
    // The default target (`local`) is not what the file was planned for.
    let (code, _, stderr) = work.run(&["apply", "--plan", "plans.json", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("pass --target blue,green"), "{stderr}");
    let (code, _, stderr) = work.run(&[
        "apply",
        "--plan",
        "plans.json",
        "--target",
        "green,blue",
        "--auto-approve",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = work.run(&["plan", "--all-targets", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    // Applied again: each target re-checks it against its own live state, where it is done.
    let (code, _, stderr) = work.run(&[
        "apply",
        "--plan",
        "plans.json",
        "--all-targets",
        "--auto-approve",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Nothing to apply."), "{stderr}");
}

#[test]
fn comma_separated_and_repeated_targets_select_the_same() {
    let work = two_targets("");
    let (_, joined, _) = work.run(&["plan", "--target", "green,blue", "--format", "json"]);
    let (_, repeated, _) = work.run(&[
        "plan",
        "--target",
        "green",
        "--target",
        "blue,green",
        "--format",
        "json",
    ]);
    assert_eq!(joined, repeated);
    assert_eq!(
        plans(&json(&joined)),
        [("green".to_owned(), 2), ("blue".to_owned(), 2)]
    );
    let (code, _, stderr) = work.run(&["plan", "--target", "blue,nope"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no target `nope` in `intsync.toml` (known: blue, green, local)"),
        "{stderr}"
    );
    let (code, _, stderr) = work.run(&["watch", "--target", "blue,green"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("serves one target"), "{stderr}");
}

#[test]
fn default_target_as_a_list_selects_each() {
    let work = two_targets("default_target = [\"green\", \"blue\"]\n");
    let (code, stdout, stderr) = work.run(&["plan", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        plans(&json(&stdout)),
        [("green".to_owned(), 2), ("blue".to_owned(), 2)]
    );
    // `intsync targets` says so: the list as JSON, each marked default for a person.
    let (code, stdout, _) = work.run(&["targets", "--format", "json"]);
    assert_eq!(code, 0);
    assert_eq!(
        json(&stdout)["default_target"],
        serde_json::json!(["green", "blue"])
    );
    let (_, text, _) = work.run(&["targets"]);
    assert!(
        text.contains("blue (default): ") && text.contains("green (default): "),
        "{text}"
    );
    let work = two_targets("default_target = [\"green\", \"nope\"]\n");
    let (code, _, stderr) = work.run(&["plan"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("intsync.toml`: default_target `nope` is not one of the targets"),
        "{stderr}"
    );
}

/// Target names come from the configuration: a heading shows them inert (a code span in
/// Markdown, escapes in text), so a name cannot start a heading or a line of its own.
#[test]
fn hostile_target_names_stay_inert_in_headings() {
    let work = Workdir::new();
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("[targets.\"x`\\n## owned\"]\nprovider = \"local\"\nstate = \"x.json\"\n{TWO}"),
    )
    .unwrap();
    work.manifest("shop.yaml", &ada_manifest("Cool Shop", "one"));
    let (code, stdout, stderr) = work.run(&["plan", "--all-targets", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains("\n## owned"), "{stdout}");
    assert!(
        stdout.contains("### intsync plan for ``x`\\n## owned``"),
        "{stdout}"
    );
    let (_, text, _) = work.run(&["plan", "--all-targets"]);
    assert!(text.contains("=== target `blue` ===\n"), "{text}");
    assert!(!text.contains("\n## owned"), "{text}");
}

/// Several targets export into a directory each, named after the target; with `--kind`, a
/// target that does not serve it is skipped (never contacted: its port is closed).
#[test]
fn export_of_several_targets_writes_a_directory_each() {
    let work = two_targets(&format!(
        "[targets.ada]\nprovider = \"ada\"\nbase_url = \"http://127.0.0.1:{}\"\ntoken_env = \"TEST_ADA_TOKEN\"\nretry = {{ attempts = 1 }}\n",
        closed_port()
    ));
    let (code, _, stderr) = work.run(&["apply", "--target", "blue", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = work.run(&["export", "--target", "blue,green", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) =
        work.run(&["export", "--all-targets", "--kind", "truto", "--dir", "crm"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("Skipping target `ada`"), "{stderr}");
    assert_eq!(common::walk(&work.path().join("crm/blue")).len(), 1);
    let blue = common::walk(&work.path().join("out/blue"));
    assert_eq!(blue.len(), 2, "{blue:?}");
    assert!(
        !work.path().join("out/green").exists()
            || common::walk(&work.path().join("out/green")).is_empty()
    );
}

/// Two accounts holding the same integrations (each its own ids), exported in one run: each
/// manifest is limited to the target it came from (`metadata.targets`), so the export plans
/// with nothing to do on both targets, instead of each target being given the other's ids.
#[test]
fn an_export_of_several_targets_plans_clean_on_each() {
    let work = two_targets("");
    let (code, _, stderr) = work.run(&["apply", "--target", "blue,green", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = work.run(&["export", "--target", "blue,green", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let exported = common::walk(&work.path().join("out/green"));
    let text = std::fs::read_to_string(&exported[0]).unwrap();
    assert!(text.contains("  targets: [green]\n"), "{text}");
    let (code, stdout, stderr) = work.run(&[
        "plan",
        "--target",
        "blue,green",
        "--detailed-exitcode",
        "out",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// `drift` of several targets: an envelope of one drift plan each, its exit code folded (2:
/// the target not applied yet differs).
#[test]
fn drift_of_several_targets_folds_to_changes() {
    let work = two_targets("");
    let (code, _, stderr) = work.run(&["apply", "--target", "blue", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = work.run(&["drift", "--all-targets", "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    let targets: Vec<String> = plans(&json(&stdout)).into_iter().map(|(t, _)| t).collect();
    assert_eq!(targets, ["blue", "green"]);
    let (code, _, stderr) = work.run(&["drift", "--target", "blue"]);
    assert_eq!(code, 0, "{stderr}");
}

/// A blocked change on one target refuses the apply for every target: nothing is written
/// anywhere (exit 3); with `--skip-blocked` the other target is written.
#[test]
fn a_blocked_change_on_one_target_writes_nothing_anywhere() {
    let frozen = common::Emulator::start();
    let open = common::Emulator::start();
    let id = frozen.seed_ada("Cool Shop", "live text");
    frozen.set_status(&id, "approved");
    let seeded = frozen.writes().len();
    let work = Workdir::new();
    let target = |name: &str, emulator: &common::Emulator| {
        format!(
            "[targets.{name}]\nprovider = \"ada\"\nbase_url = \"{}\"\ntoken_env = \"TEST_ADA_TOKEN\"\nrate_limit = \"off\"\n",
            emulator.base_url()
        )
    };
    std::fs::write(
        work.path().join("intsync.toml"),
        format!("{}{}", target("frozen", &frozen), target("open", &open)),
    )
    .unwrap();
    work.manifest("shop.yaml", &ada_manifest("Cool Shop", "new text"));
    let (code, stdout, stderr) = work.run(&["apply", "--all-targets", "--auto-approve"]);
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(
        stderr.contains("nothing was written to any target"),
        "{stderr}"
    );
    // Blocked first in the output.
    let (frozen_at, open_at) = (
        stdout.find("=== target `frozen` ===").expect(&stdout),
        stdout.find("=== target `open` ===").expect(&stdout),
    );
    assert!(frozen_at < open_at, "{stdout}");
    assert!(open.writes().is_empty() && frozen.writes().len() == seeded);
    let (code, _, stderr) =
        work.run(&["apply", "--all-targets", "--auto-approve", "--skip-blocked"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(open.ada_live().len(), 1);
    assert_eq!(
        frozen.writes().len(),
        seeded,
        "the blocked one is never written"
    );
}

/// Two targets on one API and one token (a sandbox agent and a staging one, say) planned in one
/// run share one rate limiter: together they stay under the token's limit, and the server never
/// answers 429. Each alone at 5 requests a second would, together, send 10.
#[test]
fn two_targets_on_one_token_share_its_limit() {
    let emulator = common::Emulator::start();
    for i in 0..8 {
        emulator.seed_ada(&format!("Shop {i}"), "live");
    }
    emulator.set_rate_limit(serde_json::json!({"ada": [{"window_ms": 1000, "limit": 5}]}));
    let work = Workdir::new();
    let target = |name: &str, base: &str| {
        format!(
            "[targets.{name}]\nprovider = \"ada\"\nbase_url = \"{base}\"\ntoken_env = \"TEST_ADA_TOKEN\"\npage_size = 1\nrate_limit = {{ per_second = 5 }}\n"
        )
    };
    // The same API, spelled with and without a trailing slash.
    let config = format!(
        "{}{}",
        target("one", emulator.base_url()),
        target("two", &format!("{}/", emulator.base_url()))
    );
    std::fs::write(work.path().join("intsync.toml"), config).unwrap();
    emulator.clear_requests();
    let (code, stdout, stderr) = common::output(common::intsync(work.path()).args([
        "plan",
        "--all-targets",
        "--format",
        "json",
        "manifests",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(plans(&json(&stdout)).len(), 2);
    let statuses = emulator.statuses();
    assert!(statuses.len() >= 16, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| s != 429),
        "the two targets went past the token's limit together: {statuses:?}"
    );
}

/// Two Ada accounts (`sandbox`, `production`), each an emulator, and a directory whose
/// `intsync.toml` declares both.
fn two_accounts() -> ([(&'static str, common::Emulator); 2], Workdir) {
    let accounts = [
        ("sandbox", common::Emulator::start()),
        ("production", common::Emulator::start()),
    ];
    let work = Workdir::new();
    let config: String = accounts
        .iter()
        .map(|(name, emulator)| {
            format!(
                "[targets.{name}]\nprovider = \"ada\"\nbase_url = \"{}\"\ntoken_env = \"TEST_ADA_TOKEN\"\npage_size = 100\n",
                emulator.base_url()
            )
        })
        .collect();
    std::fs::write(work.path().join("intsync.toml"), config).unwrap();
    (accounts, work)
}

/// SIGINT while creates are in flight on two targets at once (two accounts): on each, the
/// writes in flight finish and their secrets are saved, nothing new starts, and the run exits
/// 130; a re-run finishes both accounts with no duplicate.
#[test]
fn sigint_mid_apply_of_several_targets_finishes_the_writes_in_flight_on_each() {
    let (accounts, work) = two_accounts();
    let names: Vec<String> = (0..6).map(|i| format!("Signalled {i}")).collect();
    for (i, name) in names.iter().enumerate() {
        work.manifest(&format!("s{i}.yaml"), &ada_manifest(name, "x"));
    }
    // Each create is committed at once and answered 400 ms later.
    for (_, emulator) in &accounts {
        emulator.set_faults(serde_json::json!({"rules": [{"method": "POST", "action": {"type": "latency", "ms": 400}}]}));
        emulator.clear_requests();
    }
    let mut apply = work.spawn(&[
        "apply",
        "--all-targets",
        "--auto-approve",
        "--parallelism",
        "2",
    ]);
    common::wait_until(
        "creates in flight on both targets",
        std::time::Duration::from_secs(15),
        || {
            accounts
                .iter()
                .all(|(_, e)| !e.logged("POST").is_empty())
                .then_some(())
        },
    );
    assert!(apply.still_running(), "the signal must land mid-run");
    apply.signal("INT");
    let (code, _, stderr) = apply.finish(std::time::Duration::from_secs(15));
    assert_eq!(code, Some(130), "{stderr}");
    assert!(stderr.contains("Stopped by SIGINT"), "{stderr}");
    for (target, emulator) in &accounts {
        let live = emulator.ada_live();
        assert!(
            !live.is_empty() && live.len() < names.len(),
            "{target}: the signal landed mid-run: {} live",
            live.len()
        );
        assert_eq!(
            emulator.logged("POST").len(),
            live.len(),
            "{target}: every create sent was committed"
        );
        for integration in &live {
            let (id, name) = (
                integration["id"].as_str().unwrap(),
                integration["name"].as_str().unwrap(),
            );
            work.assert_secret_saved(id, name);
        }
    }

    // A re-run finishes the job on both: each name once, each with its secret.
    for (_, emulator) in &accounts {
        emulator.clear_faults();
    }
    let (code, _, stderr) = work.run(&["apply", "--all-targets", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    for (target, emulator) in &accounts {
        let live = emulator.ada_live();
        assert_eq!(live.len(), names.len(), "{target}: {live:#?}");
        for name in &names {
            let found: Vec<&Value> = live.iter().filter(|l| l["name"] == **name).collect();
            assert_eq!(found.len(), 1, "{target}: exactly one {name:?}");
            work.assert_secret_saved(found[0]["id"].as_str().unwrap(), name);
        }
    }
}

/// `pull` of several targets: a live value every target receiving the manifest holds is pulled
/// once; a field the targets hold differently is not (a conflict: exit 1, named); a manifest
/// only one target receives takes that target's value.
#[test]
fn pull_of_several_targets_keeps_only_what_the_targets_agree_on() {
    let (accounts, work) = two_accounts();
    work.manifest("shared.yaml", &ada_manifest("Shared", "from git"));
    work.manifest(
        "alone.yaml",
        &ada_manifest("Alone", "from git").replacen(
            "kind: AdaPlatformIntegration\n",
            "kind: AdaPlatformIntegration\nmetadata:\n  targets: [sandbox]\n",
            1,
        ),
    );
    let (code, _, stderr) = work.run(&["apply", "--all-targets", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let edit = |emulator: &common::Emulator, name: &str, body: Value| {
        let live = emulator.ada_live();
        let id = live.iter().find(|l| l["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        emulator.call(
            reqwest::Method::PATCH,
            &format!("/api/v2/platform-integrations/{id}"),
            Some(body),
        );
    };
    let (sandbox, production) = (&accounts[0].1, &accounts[1].1);
    // Both dashboards edited alike; the sandbox's contact alone; the sandbox's own manifest.
    for emulator in [sandbox, production] {
        edit(
            emulator,
            "Shared",
            serde_json::json!({"description": "edited live"}),
        );
    }
    edit(
        sandbox,
        "Shared",
        serde_json::json!({"contact": "sandbox@coolshop.support"}),
    );
    edit(
        sandbox,
        "Alone",
        serde_json::json!({"description": "alone live"}),
    );

    let (code, _, stderr) = work.run(&["pull", "--all-targets", "--yes"]);
    assert_eq!(code, 1, "a conflict needs a person: {stderr}");
    assert!(
        stderr.contains("conflict: manifests/shared.yaml: `contact` is not the same live on every target that receives it (one value on `sandbox`; another, or the manifest's, on `production`)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("1 field the targets disagree on was not pulled"),
        "{stderr}"
    );
    let shared = std::fs::read_to_string(work.path().join("manifests/shared.yaml")).unwrap();
    assert!(shared.contains("edited live"), "{shared}");
    assert!(!shared.contains("sandbox@"), "{shared}");
    assert_eq!(shared.matches("edited live").count(), 1, "{shared}");
    let alone = std::fs::read_to_string(work.path().join("manifests/alone.yaml")).unwrap();
    assert!(alone.contains("alone live"), "{alone}");
    // Production now matches its manifests; the sandbox differs by its contact alone.
    let (code, _, stderr) = work.run(&["drift", "--target", "production"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, plan, stderr) = work.plan_json(&["--target", "sandbox"]);
    assert_eq!(code, 0, "{stderr}");
    let patches: Vec<&Value> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a.get("patch"))
        .collect();
    assert_eq!(patches.len(), 1, "{plan:#}");
    assert!(
        patches[0].get("contact").is_some() && patches[0].as_object().unwrap().len() == 1,
        "{plan:#}"
    );
    // Again: only the disagreement is left; nothing is written.
    let before = common::files(&work.path().join("manifests"));
    let (code, stdout, stderr) = work.run(&["pull", "--all-targets", "--yes"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.contains("Nothing pulled: 1 field the targets disagree on needs a person"),
        "{stderr}"
    );
    assert_eq!(common::files(&work.path().join("manifests")), before);
}
