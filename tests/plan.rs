//! `intsync plan` end to end: the real binary against the emulator over HTTP.

use serde_json::{Value, json};

mod common;

use common::{Env, TOKEN, ada_manifest, ada_spec, output, truto_manifest};

#[test]
fn plan_lists_every_page_with_get_requests_only() {
    for (live, page_size) in [(10usize, 3usize), (9, 3), (2, 5)] {
        let env = Env::new(page_size);
        for i in 0..live {
            env.emulator.seed_ada(&format!("Live {i}"), "same");
        }
        env.manifest("a.yaml", &ada_manifest("Live 0", "same"));
        env.emulator.clear_requests();
        let (code, plan, stderr) = env.plan_json(&[]);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(
            plan["summary"],
            json!({"create": 0, "update": 0, "noop": 1, "blocked": 0, "unmanaged": live - 1})
        );
        let requests = env.emulator.requests();
        assert!(
            requests.iter().all(|r| r["method"] == "GET"),
            "{requests:#?}"
        );
        assert_eq!(
            requests.len(),
            live.div_ceil(page_size),
            "{live} live, page size {page_size}: {requests:#?}"
        );
        assert!(requests.iter().all(|r| {
            r["query"]
                .as_str()
                .unwrap()
                .contains(&format!("limit={page_size}"))
        }));
    }
}

#[test]
fn plan_covers_every_action_and_renders_three_ways() {
    let env = Env::new(2);
    let unchanged = env.emulator.seed_ada("Unchanged", "same");
    let changed = env.emulator.seed_ada("Changed", "old text");
    let frozen = env.emulator.seed_ada("Frozen", "old text");
    let unmanaged = env.emulator.seed_ada("Nobody's", "x");
    env.emulator.set_status(&frozen, "approved");
    env.manifest("unchanged.yaml", &ada_manifest("Unchanged", "same"));
    env.manifest("changed.yaml", &ada_manifest("Changed", "new text"));
    env.manifest("frozen.yaml", &ada_manifest("Frozen", "new text"));
    env.manifest("new.yaml", &ada_manifest("Brand New", "hello"));
    env.manifest("crm.yaml", &truto_manifest("crm", "crm"));

    let (code, plan, _) = env.plan_json(&["--detailed-exitcode"]);
    assert_eq!(code, 3, "blocked wins over changes");
    assert_eq!(plan["format_version"], 1);
    assert_eq!(plan["target"], "ada");
    assert_eq!(plan["has_changes"], true);
    assert_eq!(
        plan["summary"],
        json!({"blocked": 1, "create": 1, "noop": 1, "unmanaged": 1, "update": 1})
    );
    let by_action = |a: &str| {
        plan["actions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["action"] == a)
            .unwrap()
            .clone()
    };
    let update = by_action("update");
    assert_eq!(update["id"], changed.as_str());
    assert_eq!(update["patch"], json!({"description": "new text"}));
    assert_eq!(update["live_status"], "development");
    assert!(
        update["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert_eq!(update["manifest"], "manifests/changed.yaml");
    let blocked = by_action("blocked");
    assert_eq!(blocked["id"], frozen.as_str());
    assert_eq!(blocked["live_status"], "approved");
    assert_eq!(
        blocked["reason"],
        "only integrations in development may be updated"
    );
    let create = by_action("create");
    assert_eq!(create["body"]["name"], "Brand New");
    assert!(create.get("id").is_none());
    assert_eq!(by_action("noop")["id"], unchanged.as_str());
    assert_eq!(
        plan["unmanaged"],
        json!([{"id": unmanaged, "kind": "AdaPlatformIntegration", "name": "Nobody's"}])
    );
    assert_eq!(
        plan["skipped"][0]["manifest"], "manifests/crm.yaml",
        "the ada target does not serve Truto"
    );
    // Keys are sorted at every level.
    let text = serde_json::to_string_pretty(&plan).unwrap();
    assert!(text.find("\"actions\"").unwrap() < text.find("\"format_version\"").unwrap());

    // --out writes the same document. (Without NO_COLOR: off a terminal there is no colour
    // anyway.)
    let (code, text, stderr) =
        output(
            env.command()
                .env_remove("NO_COLOR")
                .args(["plan", "--out", "saved.json"]),
        );
    assert_eq!(
        code, 0,
        "without --detailed-exitcode, success is 0: {stderr}"
    );
    let saved: Value =
        serde_json::from_slice(&std::fs::read(env.dir.path().join("saved.json")).unwrap()).unwrap();
    assert_eq!(saved, plan);

    // Text: only changed fields, a summary line, no colour off a terminal.
    assert!(!text.contains('\u{1b}'));
    assert!(
        text.contains(&format!(
            "~ AdaPlatformIntegration \"Changed\" ({changed}) will be updated"
        )),
        "{text}"
    );
    assert!(
        text.contains("    description: \"old text\" → \"new text\""),
        "{text}"
    );
    let update_section: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("~ "))
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .collect();
    assert_eq!(
        update_section,
        ["    description: \"old text\" → \"new text\""],
        "only changed fields: {text}"
    );
    assert!(
        text.contains(&format!(
            "! AdaPlatformIntegration \"Frozen\" ({frozen}) is blocked"
        )),
        "{text}"
    );
    assert!(
        text.contains("+ AdaPlatformIntegration \"Brand New\" will be created"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with(
            "Plan: 1 to create, 1 to update, 1 blocked, 1 unchanged, 1 unmanaged, 1 skipped"
        ),
        "{text}"
    );

    // Markdown: a table and one collapsible section per change.
    let (_, md, _) = env.run(&["plan", "--format", "markdown"]);
    assert!(
        md.contains("| to create | to update | blocked | unchanged | unmanaged |"),
        "{md}"
    );
    assert!(md.contains("| 1 | 1 | 1 | 1 | 1 |"), "{md}");
    assert_eq!(
        md.matches("<details>").count(),
        4,
        "three changes and the unmanaged list: {md}"
    );
    assert!(
        md.contains("```diff\ndescription: \"old text\" → \"new text\"\n```\n"),
        "{md}"
    );
}

#[test]
fn nested_changes_show_a_line_diff() {
    let env = Env::new(100);
    env.emulator.seed_ada("Form", "same");
    let mut spec = ada_spec("Form", "same");
    spec["configuration_fields"]["properties"]["account"]["properties"]["name"]["title"] =
        json!("Account name");
    env.manifest(
        "form.yaml",
        &format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n"),
    );
    let (code, text, stderr) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        text.contains(
            "    + configuration_fields.properties.account.properties.name.title: \"Account name\"\n"
        ),
        "{text}"
    );
    let added: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("+ "))
        .collect();
    assert_eq!(added.len(), 1, "{text}");
    assert!(
        added[0].ends_with(".name.title: \"Account name\""),
        "{text}"
    );
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("- ")),
        "nothing removed: {text}"
    );
}

#[test]
fn no_changes_exit_0_with_detailed_exitcode() {
    let env = Env::new(100);
    env.emulator.seed_ada("Same", "same");
    env.manifest("same.yaml", &ada_manifest("Same", "same"));
    let (code, text, stderr) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(text.contains("No changes"), "{text}");
}

#[test]
fn truto_target_plans_with_the_version() {
    let env = Env::new(2);
    for i in 0..5 {
        env.emulator.seed_truto(json!({"name": format!("crm{i}"), "category": "crm", "config": {"base_url": "https://api.example.com", "timeout": 30.0}}));
    }
    env.manifest("crm.yaml", &truto_manifest("crm0", "helpdesk"));
    env.manifest("crm1.yaml", &truto_manifest("crm1", "crm"));
    env.emulator.clear_requests();
    let (code, plan, stderr) = env.plan_json(&["--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    let actions = plan["actions"].as_array().unwrap();
    assert_eq!(actions[0]["patch"], json!({"category": "helpdesk"}));
    assert_eq!(
        actions[0]["expected_version"], 1,
        "the version the plan saw, out of the patch"
    );
    assert_eq!(
        actions[1]["action"], "noop",
        "30 and 30.0 are the same number"
    );
    let requests = env.emulator.requests();
    assert_eq!(
        requests.len(),
        4,
        "the token's team, then ceil(5 / 2) pages: {requests:#?}"
    );
    assert_eq!(requests[0]["path"], "/environment");
    assert!(
        requests[1..]
            .iter()
            .all(|r| r["method"] == "GET" && r["path"] == "/integration")
    );
}

#[test]
fn retries_429_with_and_without_retry_after_503_and_dropped_connections() {
    let env = Env::new(2);
    for i in 0..5 {
        env.emulator.seed_ada(&format!("Live {i}"), "same");
    }
    env.manifest("a.yaml", &ada_manifest("Live 3", "changed"));
    let faults = json!({"rules": [
        {"method": "GET", "times": 1, "action": {"type": "status", "status": 429}},
        {"method": "GET", "after": 1, "times": 1, "action": {"type": "status", "status": 429, "retry_after": "1"}},
        {"method": "GET", "after": 3, "times": 2, "action": {"type": "status", "status": 503}},
        {"method": "GET", "after": 6, "times": 1, "action": {"type": "drop_before"}},
    ]});
    env.emulator.set_faults(faults);
    env.emulator.clear_requests();
    let started = std::time::Instant::now();
    let (code, plan, stderr) = env.plan_json(&["--detailed-exitcode"]);
    let elapsed = started.elapsed();
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(plan["summary"]["update"], 1);
    assert_eq!(
        plan["summary"]["unmanaged"], 4,
        "every page was read despite the faults"
    );
    let statuses = env.emulator.statuses();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        3,
        "three pages: {statuses:?}"
    );
    assert_eq!(
        statuses.len(),
        3 + 5,
        "five faults, each retried once: {statuses:?}"
    );
    assert!(
        statuses.contains(&Value::Null),
        "the dropped connection is in the log: {statuses:?}"
    );
    // Retry-After: 1 was honoured; the exponential backoff here is 10-100 ms.
    assert!(elapsed >= std::time::Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn persistent_failure_is_a_clear_error() {
    let env = Env::new(100);
    env.manifest("a.yaml", &ada_manifest("A", "x"));
    env.emulator.set_faults(
        json!({"rules": [{"method": "GET", "action": {"type": "status", "status": 503}}]}),
    );
    let (code, _, stderr) = env.run(&["plan"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("cannot read the live integrations of target `ada`"),
        "{stderr}"
    );
    assert!(stderr.contains("failed 6 times; last: 503"), "{stderr}");
}

#[test]
fn wrong_or_missing_token_is_a_clear_error_and_never_printed() {
    let env = Env::new(100);
    env.manifest("a.yaml", &ada_manifest("A", "x"));
    let (code, _, stderr) = output(env.command().arg("plan").env_remove("TEST_ADA_TOKEN"));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("TEST_ADA_TOKEN, which is not set"),
        "{stderr}"
    );

    let (code, _, stderr) = output(
        env.command()
            .arg("plan")
            .env("TEST_ADA_TOKEN", "wrong-secret-value")
            .env("RUST_LOG", "trace"),
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("answered 401"), "{stderr}");
    assert!(
        stderr.contains("check that TEST_ADA_TOKEN holds a valid API token"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-secret-value"),
        "the token leaked: {stderr}"
    );

    let (code, stdout, stderr) = output(env.command().arg("plan").env("RUST_LOG", "trace"));
    assert_eq!(code, 0, "{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("intsync::http"),
        "debug logs show each request: {all}"
    );
    assert!(!all.contains(TOKEN), "the token leaked at RUST_LOG=trace");
}

/// Live state is read while the manifests load (issue #16), so invalid manifests may meet a
/// reading under way: it is dropped, no plan is printed, and nothing but GETs was sent.
#[test]
fn invalid_manifests_make_no_plan_and_write_nothing() {
    let env = Env::new(100);
    env.manifest(
        "bad.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {name: 5}\n",
    );
    env.emulator.clear_requests();
    let (code, stdout, stderr) = env.run(&["plan"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("intsync::wrong_type"), "{stderr}");
    assert!(
        stderr.contains("no plan was made and nothing was written"),
        "{stderr}"
    );
    assert!(stdout.is_empty(), "no plan on stdout");
    let requests = env.emulator.requests();
    assert!(
        requests.iter().all(|r| r["method"] == "GET"),
        "{requests:?}"
    );
}

#[test]
fn plain_http_to_a_remote_host_is_refused() {
    let env = Env::new(100);
    std::fs::write(
        env.dir.path().join("intsync.toml"),
        "[targets.prod]\nprovider = \"ada\"\nbase_url = \"http://coolshop.ada.support\"\ntoken_env = \"TEST_ADA_TOKEN\"\n",
    )
    .unwrap();
    let (code, _, stderr) = env.run(&["plan", "--target", "prod"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("plain http://"), "{stderr}");
}
