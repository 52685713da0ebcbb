//! The text and Markdown renderings (design §7, docs/plan.md "Rendering"): one line per changed
//! leaf at its path, in the manifest's key order; sets as members; creates as YAML; blocked
//! changes first in Markdown; and a comment that always fits GitHub's 65,536 characters.
//! Snapshots are in `tests/snapshots/`.

use intsync_manifest::Kind;
use intsync_plan::render::{self, MARKDOWN_LIMIT, Style};
use intsync_plan::testing::creatable;
use intsync_plan::{DesiredIntegration, Observed, ObservedIntegration, Plan, drift, plan};
use serde_json::{Value, json};

fn desired(kind: Kind, manifest: &str, spec: Value) -> DesiredIntegration {
    DesiredIntegration {
        kind,
        id: None,
        spec: spec.as_object().unwrap().into(),
        manifest: manifest.to_owned(),
        origin: Default::default(),
        routing: Default::default(),
    }
}

fn ada(manifest: &str, spec: Value) -> DesiredIntegration {
    desired(Kind::AdaPlatformIntegration, manifest, spec)
}

fn live(id: &str, status: &str, fields: Value) -> ObservedIntegration {
    ObservedIntegration::new(
        Kind::AdaPlatformIntegration,
        id.to_owned(),
        Some(status.to_owned()),
        None,
        fields.as_object().unwrap().clone(),
    )
}

fn planned(desired: &[DesiredIntegration], live: Vec<ObservedIntegration>) -> Plan {
    let observed = Observed {
        kinds: vec![Kind::AdaPlatformIntegration, Kind::TrutoIntegration],
        integrations: live,
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    plan("ada-dev", desired, &observed).unwrap()
}

fn text(plan: &Plan) -> String {
    render::text(plan, Style::default())
}

/// An install form as a manifest writes it.
fn form() -> Value {
    json!({
        "type": "object",
        "required": ["credentials"],
        "properties": {
            "credentials": {
                "type": "object",
                "title": "Credentials",
                "required": ["apiKey", "secretKey"],
                "properties": {
                    "apiKey": {"type": "string", "title": "API key", "maxLength": 64},
                    "secretKey": {"type": "string", "title": "Secret key"}
                }
            }
        }
    })
}

/// `form()` as the API returns it: the same, its keys in another order, `64` spelled `64.0`.
fn live_form() -> Value {
    json!({
        "properties": {
            "credentials": {
                "properties": {
                    "secretKey": {"title": "Secret key", "type": "string"},
                    "apiKey": {"maxLength": 64.0, "title": "API key", "type": "string"}
                },
                "required": ["apiKey", "secretKey"],
                "title": "Credentials",
                "type": "object"
            }
        },
        "required": ["credentials"],
        "type": "object"
    })
}

fn alpha(form: Value) -> Value {
    json!({"name": "Alpha KB", "description": "Articles", "configuration_fields": form})
}

fn one_leaf() -> Plan {
    let mut form = form();
    form["properties"]["credentials"]["properties"]["secretKey"]["title"] = json!("Secret API key");
    planned(
        &[ada("manifests/alpha.yaml", alpha(form))],
        vec![live("a1a1", "development", alpha(live_form()))],
    )
}

/// Must show: the change of one title deep in the form is the header and one line.
#[test]
fn one_leaf_nested_change() {
    let plan = one_leaf();
    let text = text(&plan);
    let block: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Plan: "))
        .collect();
    assert_eq!(
        block,
        [
            "~ AdaPlatformIntegration \"Alpha KB\" (a1a1) will be updated  manifests/alpha.yaml",
            "    configuration_fields.properties.credentials.properties.secretKey.title: \"Secret key\" → \"Secret API key\"",
        ]
    );
    insta::assert_snapshot!("one_leaf_text", text);
    let markdown = render::markdown(&plan);
    assert!(markdown.chars().count() < 2_500, "{markdown}");
    insta::assert_snapshot!("one_leaf_markdown", markdown);
}

/// Keys only the manifest has (`+`), keys only live has (`-`, after the others), a key that
/// needs quoting, and numbers equal after normalization (no line).
#[test]
fn added_and_removed_keys() {
    let mut form = form();
    let credentials = &mut form["properties"]["credentials"]["properties"];
    credentials["region"] = json!({"type": "string", "enum": ["us", "eu"], "default": "us"});
    credentials["a.b"] = json!({"title": "Dotted: yes", "x-order": 1});
    let mut old = live_form();
    old["properties"]["credentials"]["properties"]["legacyToken"] =
        json!({"type": "string", "title": "Legacy token"});
    old["properties"]["credentials"]["properties"]["a.b"] =
        json!({"title": "Dotted", "x-order": 1.0});
    old["properties"]["credentials"]["x-legacy"] = json!(true);
    let plan = planned(
        &[ada("manifests/alpha.yaml", alpha(form))],
        vec![live("a1a1", "development", alpha(old))],
    );
    let text = text(&plan);
    insta::assert_snapshot!("added_removed_text", text);
    insta::assert_snapshot!("added_removed_markdown", render::markdown(&plan));
}

/// Lists of one length compare by index; a list whose length changed is one change; a type
/// change is one change.
#[test]
fn array_changes() {
    let mut form = form();
    form["required"] = json!(["credentials", "region"]);
    form["properties"]["credentials"]["required"] = json!(["apiKey", "secret"]);
    form["properties"]["credentials"]["properties"]["apiKey"]["maxLength"] = json!("64");
    let plan = planned(
        &[ada("manifests/alpha.yaml", alpha(form))],
        vec![live("a1a1", "development", alpha(live_form()))],
    );
    let text = text(&plan);
    assert!(
        text.contains("    configuration_fields.required: [credentials] → [credentials, region]\n"),
        "{text}"
    );
    insta::assert_snapshot!("array_text", text);
    insta::assert_snapshot!("array_markdown", render::markdown(&plan));
}

/// `scopes` and `tags` are sets: what is added and what is removed, not their order.
#[test]
fn set_changes() {
    let spec = json!({"name": "Alpha KB", "scopes": ["articles:write", "article_tags:read", "knowledge_sources:write"], "tags": ["knowledge", "Search"]});
    let plan = planned(
        &[ada("manifests/alpha.yaml", spec)],
        vec![live(
            "a1a1",
            "development",
            json!({"name": "Alpha KB", "scopes": ["knowledge_sources:write", "articles:read", "articles:write"], "tags": ["knowledge", "search"]}),
        )],
    );
    let text = text(&plan);
    insta::assert_snapshot!("set_text", text);
    insta::assert_snapshot!("set_markdown", render::markdown(&plan));
}

/// A create shows its body as YAML in the manifest's order; a Truto create says what the PATCH
/// after it sets.
#[test]
fn creates() {
    let plan = planned(
        &[
            ada(
                "manifests/fresh.yaml",
                creatable(
                    Kind::AdaPlatformIntegration,
                    json!({"name": "Fresh", "description": "A new one", "scopes": ["articles:read"], "error_codes": {"error_404": "Not Found"}, "configuration_fields": form()}),
                ),
            ),
            desired(
                Kind::TrutoIntegration,
                "manifests/crm.yaml",
                json!({"name": "ticket_sync", "category": "ticketing", "config": {"label": "Ticket sync", "credentials": {"oauth2": {"scopes": ["tickets.read"]}}, "actions": [{"name": "list", "method": "get"}]}, "sharing": "ask"}),
            ),
        ],
        Vec::new(),
    );
    let text = text(&plan);
    insta::assert_snapshot!("create_text", text);
    insta::assert_snapshot!("create_markdown", render::markdown(&plan));
}

/// Blocked changes come first in Markdown, with why and what to do.
#[test]
fn blocked_change() {
    let mut form = form();
    form["properties"]["credentials"]["title"] = json!("Your credentials");
    let plan = planned(
        &[
            ada(
                "manifests/beta.yaml",
                json!({"name": "Beta", "description": "new"}),
            ),
            ada(
                "manifests/alpha.yaml",
                json!({"name": "Alpha KB", "description": "Articles and tags", "configuration_fields": form}),
            ),
        ],
        vec![
            live(
                "b1",
                "development",
                json!({"name": "Beta", "description": "old"}),
            ),
            live("a1a1", "approved", alpha(live_form())),
        ],
    );
    let text = text(&plan);
    insta::assert_snapshot!("blocked_text", text);
    let markdown = render::markdown(&plan);
    assert!(
        markdown.find("⛔ blocked").unwrap() < markdown.find("✏️ update").unwrap(),
        "{markdown}"
    );
    assert!(markdown.contains("--skip-blocked"), "{markdown}");
    insta::assert_snapshot!("blocked_markdown", markdown);
}

/// Drifted fields keep their mark on each of their lines; a create missing live says so.
#[test]
fn drift_marks() {
    let mut form = form();
    form["properties"]["credentials"]["properties"]["secretKey"]["title"] = json!("Secret API key");
    form["properties"]["credentials"]["properties"]["region"] = json!({"type": "string"});
    let desired = [
        ada("manifests/alpha.yaml", alpha(form)),
        ada(
            "manifests/gone.yaml",
            creatable(
                Kind::AdaPlatformIntegration,
                json!({"name": "Gone", "description": "x"}),
            ),
        ),
    ];
    let mut plan = planned(
        &desired,
        vec![live(
            "a1a1",
            "development",
            json!({"name": "Alpha KB", "description": "Edited", "configuration_fields": live_form()}),
        )],
    );
    drift::classify(&mut plan, &desired, None);
    let text = text(&plan);
    insta::assert_snapshot!("drift_text", text);
    insta::assert_snapshot!("drift_markdown", render::markdown_titled(&plan, "drift"));
}

/// `n` integrations, each with its description and one title of its form changed.
fn updates(n: usize) -> Plan {
    let mut desired = Vec::new();
    let mut observed = Vec::new();
    for i in 0..n {
        let name = format!("Integration {i:03}");
        let mut form = form();
        form["properties"]["credentials"]["properties"]["secretKey"]["title"] =
            json!("Secret API key");
        desired.push(ada(
            &format!("manifests/integration-{i:03}.yaml"),
            json!({"name": name, "description": "Syncs help-center articles and their tags", "configuration_fields": form}),
        ));
        observed.push(live(
            &format!("64f1c0de{i:04}"),
            "development",
            json!({"name": name, "description": "Syncs help-center articles", "configuration_fields": live_form()}),
        ));
    }
    planned(&desired, observed)
}

/// The opening fences of `markdown` each have their closing fence.
fn fences_balanced(markdown: &str) -> bool {
    let mut open: Option<String> = None;
    for line in markdown.lines() {
        let ticks: String = line.chars().take_while(|&c| c == '`').collect();
        match &open {
            None if ticks.len() >= 3 => open = Some(ticks),
            Some(fence) if line == fence => open = None,
            _ => {}
        }
    }
    open.is_none()
}

/// 400 updates: the comment keeps the table and the blocks that fit, says how many it left out
/// and where the whole plan is, and fits GitHub's limit.
#[test]
fn four_hundred_updates_fit_in_a_comment() {
    let plan = updates(400);
    let markdown = render::markdown(&plan);
    assert!(markdown.chars().count() <= MARKDOWN_LIMIT);
    assert!(markdown.contains("| to create | to update | blocked | unchanged | unmanaged |\n|---:|---:|---:|---:|---:|\n| 0 | 400 | 0 | 0 | 0 |\n"));
    assert!(fences_balanced(&markdown), "{markdown}");
    let kept = markdown.matches("<details>").count();
    assert!(kept > 100 && kept < 400, "{kept}");
    assert_eq!(markdown.matches("</details>").count(), kept);
    let left_out = format!("**Left out: {} of 400 changes**", 400 - kept);
    assert!(markdown.contains(&left_out), "{left_out}");
    assert!(markdown.contains("`intsync plan --out plan.json`"));
    assert!(markdown.ends_with("\nPlan: 0 to create, 400 to update, 0 blocked, 0 unchanged\n"));
    // Kept in order: the first ones.
    assert!(markdown.contains("<b><code>Integration 000</code></b>"));
    assert!(markdown.contains(&format!("<b><code>Integration {:03}</code></b>", kept - 1)));
    assert!(!markdown.contains(&format!("<b><code>Integration {kept:03}</code></b>")));

    let head: String = markdown.lines().take(24).collect::<Vec<_>>().join("\n");
    let tail: String = {
        let lines: Vec<&str> = markdown.lines().collect();
        lines[lines.len() - 6..].join("\n")
    };
    insta::assert_snapshot!("updates_400_markdown_head", head);
    insta::assert_snapshot!("updates_400_markdown_tail", tail);
}

/// Any size: within the limit, never a cut block; everything when it fits.
#[test]
fn the_budget_holds_at_every_size() {
    for n in (0..=400).step_by(23) {
        let plan = updates(n);
        let markdown = render::markdown(&plan);
        let size = markdown.chars().count();
        assert!(size <= MARKDOWN_LIMIT, "{n}: {size}");
        assert!(fences_balanced(&markdown), "{n}");
        let kept = markdown.matches("<details>").count();
        assert_eq!(markdown.matches("</details>").count(), kept, "{n}");
        if kept < n {
            assert!(markdown.contains("**Left out: "), "{n}");
            // Cut only when the next block would not fit.
            assert!(size > MARKDOWN_LIMIT - 1_000, "{n}: {size}");
        } else {
            assert!(!markdown.contains("Left out"), "{n}");
        }
    }
}

/// A cut comment leaves the unmanaged list out too, and says so.
#[test]
fn a_cut_comment_says_the_unmanaged_list_is_left_out() {
    let mut plan = updates(400);
    let more = planned(
        &[],
        vec![
            live("u1", "development", json!({"name": "Stray"})),
            live("u2", "approved", json!({"name": "Old"})),
        ],
    );
    plan.unmanaged = more.unmanaged;
    plan.summary.unmanaged = 2;
    let markdown = render::markdown(&plan);
    assert!(markdown.chars().count() <= MARKDOWN_LIMIT);
    assert!(
        !markdown.contains("unmanaged (live, no manifest"),
        "{markdown}"
    );
    assert!(
        markdown.contains(" of 400 changes and the list of 2 unmanaged integrations**"),
        "{markdown}"
    );
}

/// A value holding backticks cannot close its code block early.
#[test]
fn fences_outlast_backticks_in_values() {
    let plan = planned(
        &[ada(
            "manifests/alpha.yaml",
            json!({"name": "Alpha KB", "description": "Run ````intsync````"}),
        )],
        vec![live(
            "a1a1",
            "development",
            json!({"name": "Alpha KB", "description": "Run ```intsync```"}),
        )],
    );
    let markdown = render::markdown(&plan);
    assert!(
        markdown.contains(
            "`````diff\ndescription: \"Run ```intsync```\" → \"Run ````intsync````\"\n`````\n"
        ),
        "{markdown}"
    );
    assert!(fences_balanced(&markdown), "{markdown}");
}

/// Several targets' plans as JSON: one envelope, its keys sorted like a plan document's, each
/// plan exactly the document `render::json` writes for it (payloads in source order).
#[test]
fn envelope_holds_each_plan_document_as_it_is() {
    let mut a = one_leaf();
    a.target = "a".to_owned();
    let fresh = creatable(
        Kind::AdaPlatformIntegration,
        json!({"name": "Fresh", "configuration_fields": form()}),
    );
    let mut b = planned(&[ada("b.yaml", fresh)], vec![]);
    b.target = "b".to_owned();
    let envelope: Value = serde_json::from_str(&render::json_envelope(&[&a, &b])).unwrap();
    let keys: Vec<&String> = envelope.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["format_version", "kind", "plans"]);
    assert_eq!(envelope["format_version"], 1);
    assert_eq!(envelope["kind"], render::ENVELOPE_KIND);
    for (i, plan) in [&a, &b].into_iter().enumerate() {
        let alone: Value = serde_json::from_str(&render::json(plan)).unwrap();
        assert_eq!(envelope["plans"][i], alone);
        // Same text, key order included.
        assert_eq!(
            serde_json::to_string(&envelope["plans"][i]).unwrap(),
            serde_json::to_string(&alone).unwrap()
        );
    }
}
