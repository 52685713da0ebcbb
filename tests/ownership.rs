//! Truto as it really is (design §5, issue #13): its list holds Truto's own integrations and other
//! teams' shared ones besides ours. intsync matches, lists as unmanaged, exports and writes only
//! the integrations of the token's team; a create sends Truto's documented fields only, and a
//! manifest's `sharing` is set by a PATCH right after the create.

mod common;

use common::{Env, file_names};
use serde_json::{Value, json};

/// Seeds one Truto integration owned by `owner` (`own`, `truto` or `other`); returns its id.
fn seed(env: &Env, owner: &str, integration: Value) -> String {
    env.emulator.seed_truto_owned(owner, integration)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

struct World {
    mine: String,
    legacy: String,
    /// Truto's `hubspot`, `zendesk`; another team's shared `acme_crm`.
    foreign: Vec<String>,
}

/// Our `my_custom_crm` and `legacy_tool`; Truto's `hubspot` and `zendesk`; another team's shared
/// `acme_crm`, and one it does not share (not listed at all).
fn seed_world(env: &Env) -> World {
    let config = json!({"base_url": "https://api.example.com", "timeout": 30});
    let mine = seed(
        env,
        "own",
        json!({"name": "my_custom_crm", "category": "crm", "config": config}),
    );
    let legacy = seed(
        env,
        "own",
        json!({"name": "legacy_tool", "category": "crm", "config": config}),
    );
    let foreign = vec![
        seed(
            env,
            "truto",
            json!({"name": "hubspot", "category": "crm", "config": config}),
        ),
        seed(
            env,
            "truto",
            json!({"name": "zendesk", "category": "helpdesk", "config": config}),
        ),
        seed(
            env,
            "other",
            json!({"name": "acme_crm", "category": "crm", "sharing": "allow", "config": config}),
        ),
    ];
    seed(
        env,
        "other",
        json!({"name": "acme_private", "category": "crm", "sharing": "deny", "config": config}),
    );
    World {
        mine,
        legacy,
        foreign,
    }
}

fn manifests(env: &Env) {
    env.manifest(
        "my-custom-crm.yaml",
        &common::truto_manifest("my_custom_crm", "sales"),
    );
    // Our own connector, named like Truto's.
    env.manifest("hubspot.yaml", &common::truto_manifest("hubspot", "crm"));
    env.manifest(
        "ticket-sync.yaml",
        &common::truto_manifest("ticket_sync", "ticketing")
            .replace("category: ticketing", "category: ticketing\n  sharing: ask"),
    );
}

/// The live record of `id`, unstripped where the token may see it.
fn live(env: &Env, id: &str) -> Value {
    env.emulator
        .call(reqwest::Method::GET, &format!("/integration/{id}"), None)
}

#[test]
fn only_our_teams_integrations_are_planned_applied_and_exported() {
    let env = Env::new(2);
    let world = seed_world(&env);
    manifests(&env);
    let before: Vec<Value> = world.foreign.iter().map(|id| live(&env, id)).collect();

    // The plan: our update, our own `hubspot` created, ticket_sync created with `sharing` after.
    let (code, text, stderr) = env.run(&["plan", "--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        text.contains(&format!(
            "~ TrutoIntegration \"my_custom_crm\" ({}) will be updated",
            world.mine
        )),
        "{text}"
    );
    assert!(
        text.contains("+ TrutoIntegration \"hubspot\" will be created"),
        "{text}"
    );
    assert!(
        text.contains("+ TrutoIntegration \"ticket_sync\" will be created"),
        "{text}"
    );
    assert!(
        text.contains(
            "then `sharing` is set by a PATCH right after the create (the vendor's create does not take it)"
        ),
        "{text}"
    );
    assert!(
        text.contains("Ignored: 3 listed integrations owned by Truto or by other teams"),
        "{text}"
    );
    for name in ["zendesk", "acme_crm", "acme_private"] {
        assert!(!text.contains(name), "{name} is not ours: {text}");
    }

    let (code, json, stderr) = env.run(&["plan", "--target", "truto", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&json).unwrap();
    let unmanaged: Vec<&str> = plan["unmanaged"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        unmanaged,
        [world.legacy.as_str()],
        "unmanaged = our team only"
    );
    assert_eq!(plan["ignored"], 3);
    let actions = plan["actions"].as_array().unwrap();
    let summary: Vec<(&str, &str)> = actions
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("create", "hubspot"),
            ("update", "my_custom_crm"),
            ("create", "ticket_sync")
        ]
    );
    let ticket = &actions[2];
    assert_eq!(ticket["set_after_create"], json!(["sharing"]));
    assert_eq!(actions[0].get("set_after_create"), None);

    // Apply converges, writing nothing but ours.
    env.emulator.clear_requests();
    env.emulator.log_bodies();
    let (code, _, stderr) = env.run(&["apply", "--target", "truto", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("Apply: 2 created, 1 updated, 0 failed."),
        "{stderr}"
    );
    let writes = env.emulator.logged_writes();
    for write in &writes {
        assert!(matches!(write.status, Some(200 | 201)), "{write:?}");
        for id in &world.foreign {
            assert!(
                !write.path.contains(id.as_str()),
                "wrote another team's: {write:?}"
            );
        }
    }
    let posts: Vec<Value> = writes
        .iter()
        .filter(|w| w.method == "POST")
        .map(|w| serde_json::from_str(&w.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 2, "{writes:#?}");
    for post in &posts {
        let keys: Vec<&String> = post.as_object().unwrap().keys().collect();
        assert!(
            keys.iter()
                .all(|k| ["name", "category", "config", "is_beta"].contains(&k.as_str())),
            "only Truto's documented create fields: {post}"
        );
    }
    let ours = env.emulator.truto_live();
    let find = |name: &str| -> Value {
        let mine: Vec<&Value> = ours
            .iter()
            .filter(|r| r["name"] == name && r["team_id"] == ours_team(&ours))
            .collect();
        assert_eq!(mine.len(), 1, "{name}: {ours:#?}");
        mine[0].clone()
    };
    let ticket = find("ticket_sync");
    assert_eq!(ticket["sharing"], "ask", "sharing set after the create");
    let ticket_patch: Vec<&common::LoggedWrite> = writes
        .iter()
        .filter(|w| w.method == "PATCH" && w.path.ends_with(ticket["id"].as_str().unwrap()))
        .collect();
    assert_eq!(ticket_patch.len(), 1, "{writes:#?}");
    assert_eq!(ticket_patch[0].body, r#"{"sharing":"ask","version":1}"#);
    let hubspot = find("hubspot");
    assert_ne!(
        hubspot["id"],
        json!(world.foreign[0]),
        "our own, not Truto's"
    );
    assert_eq!(find("my_custom_crm")["category"], "sales");
    let after: Vec<Value> = world.foreign.iter().map(|id| live(&env, id)).collect();
    assert_eq!(
        after, before,
        "Truto's and other teams' integrations untouched"
    );

    let (code, text, stderr) = env.run(&["plan", "--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 0, "converged: {text}{stderr}");

    // Export writes our team's only: the four of ours, none of Truto's or Acme's.
    let (code, _, stderr) = env.run(&["export", "--target", "truto", "--dir", "exported"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("note: 3 listed integrations owned by Truto or by other teams left out"),
        "{stderr}"
    );
    let files: Vec<String> = file_names(&env.dir.path().join("exported"))
        .into_iter()
        .filter(|f| f.ends_with(".yaml"))
        .collect();
    assert_eq!(
        files,
        [
            "hubspot.yaml",
            "legacy-tool.yaml",
            "my-custom-crm.yaml",
            "ticket-sync.yaml"
        ]
    );
    let exported = std::fs::read_to_string(env.dir.path().join("exported/hubspot.yaml")).unwrap();
    assert!(
        exported.contains(hubspot["id"].as_str().unwrap()),
        "{exported}"
    );
}

/// The team of `records` we own: the one whose integrations carry a `config` (Truto strips the
/// others').
fn ours_team(records: &[Value]) -> Value {
    records
        .iter()
        .find(|r| r.get("config").is_some())
        .map(|r| r["team_id"].clone())
        .expect("one of ours")
}

/// A manifest pinned to Truto's own integration by `metadata.id` is refused at plan time, with
/// what to do, and nothing is written.
#[test]
fn a_manifest_pinned_to_someone_elses_integration_is_refused() {
    let env = Env::new(100);
    let world = seed_world(&env);
    env.manifest(
        "hubspot.yaml",
        &format!(
            "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata: {{id: {}}}\nspec: {{category: sales}}\n",
            world.foreign[0]
        ),
    );
    env.emulator.clear_requests();
    let (code, _, stderr) = env.run(&["apply", "--target", "truto", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("belongs to Truto or to another team"),
        "{stderr}"
    );
    assert!(env.emulator.logged_writes().is_empty());
}

/// With `team_id` in the target, `GET /environment` is never asked; without it, it is asked once
/// per run.
#[test]
fn a_configured_team_id_is_used_as_given() {
    let env = Env::new(100);
    let world = seed_world(&env);
    env.manifest("mine.yaml", &common::truto_manifest("my_custom_crm", "crm"));
    let environment_reads = |env: &Env| {
        env.emulator
            .requests()
            .iter()
            .filter(|r| r["path"] == "/environment")
            .count()
    };
    env.emulator.clear_requests();
    let (code, _, stderr) = env.run(&["plan", "--target", "truto", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(environment_reads(&env), 1);

    let team = env
        .emulator
        .call(reqwest::Method::GET, "/environment", None)["result"][0]["team_id"]
        .clone();
    env.set_truto_team(&team.to_string());
    env.emulator.clear_requests();
    let (code, text, stderr) = env.run(&[
        "plan",
        "--target",
        "truto",
        "--detailed-exitcode",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{text}{stderr}");
    assert_eq!(environment_reads(&env), 0);
    // Issue #21: the exit code alone held if the configured team were ignored; the plan says
    // whose integrations were managed.
    let plan: Value = serde_json::from_str(&text).unwrap();
    let ids = |list: &Value| -> Vec<String> {
        let mut ids: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap_or("-").to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(plan["actions"][0]["action"], "noop", "{plan:#}");
    assert_eq!(ids(&plan["actions"]), [world.mine.as_str()], "{plan:#}");
    assert_eq!(ids(&plan["unmanaged"]), [world.legacy.as_str()], "{plan:#}");
    assert_eq!(
        plan["ignored"], 3,
        "Truto's two and the other team's shared one: {plan:#}"
    );

    // Another team's id, as given: that team's shared integration is the target's now, and ours
    // are not (so `my_custom_crm` would be created).
    let other_team = live(&env, &world.foreign[2])["team_id"].clone();
    assert_ne!(other_team, team);
    env.edit_config(
        &format!("team_id = {team}"),
        &format!("team_id = {other_team}"),
    );
    let (code, text, stderr) = env.run(&["plan", "--target", "truto", "--format", "json"]);
    assert_eq!(code, 0, "{text}{stderr}");
    let plan: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(plan["actions"][0]["action"], "create", "{plan:#}");
    assert_eq!(
        ids(&plan["unmanaged"]),
        [world.foreign[2].clone()],
        "{plan:#}"
    );
    assert_eq!(plan["ignored"], 4, "{plan:#}");
}
