//! Drift and pending (design §10): classification against a baseline, the drift-only plan, and
//! watch's "moved since the last reading".

use intsync_manifest::Kind;
use intsync_plan::drift::{Baseline, Conflict, classify, classify_moved, only_drift, pulls};
use intsync_plan::testing::creatable;
use intsync_plan::{Action, DesiredIntegration, Observed, ObservedIntegration, plan};
use serde_json::{Map, Value, json};

fn desired(manifest: &str, id: Option<&str>, spec: Value) -> DesiredIntegration {
    DesiredIntegration {
        kind: Kind::AdaPlatformIntegration,
        id: id.map(str::to_owned),
        spec: spec.as_object().unwrap().into(),
        manifest: manifest.to_owned(),
        origin: Default::default(),
        routing: Default::default(),
    }
}

fn live(id: &str, fields: Value) -> ObservedIntegration {
    ObservedIntegration::new(
        Kind::AdaPlatformIntegration,
        id.to_owned(),
        Some("development".to_owned()),
        None,
        fields.as_object().unwrap().clone(),
    )
}

fn observed(items: Vec<ObservedIntegration>) -> Observed {
    Observed {
        kinds: vec![Kind::AdaPlatformIntegration],
        integrations: items,
        ignored: Vec::new(),
        unreadable: Vec::new(),
    }
}

fn drift_of(action: &Action) -> Vec<String> {
    action.drift().expect("classified").to_vec()
}

/// Git changed `author` since the baseline (pending); live changed `description` and a nested
/// field of the form (drift); a manifest new since the baseline is pending whole; one applied at
/// the baseline but missing live is drift.
#[test]
fn fields_are_drift_unless_git_changed_them_since_the_baseline() {
    let form = json!({"type": "object", "properties": {"a": {"type": "string", "title": "A"}}});
    // Creates need every create field (design §4).
    let gone = creatable(
        Kind::AdaPlatformIntegration,
        json!({"name": "Gone", "description": "x"}),
    );
    let mut gone_fields: Vec<&str> = gone
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    gone_fields.sort_unstable();
    let then = vec![
        desired(
            "alpha.yaml",
            None,
            json!({"name": "Alpha", "description": "d", "author": "old", "configuration_fields": form}),
        ),
        desired("gone.yaml", None, gone.clone()),
    ];
    let now = vec![
        // Renamed file, same integration: paired by name.
        desired(
            "renamed/alpha.yaml",
            None,
            json!({"name": "Alpha", "description": "d", "author": "new", "configuration_fields": form}),
        ),
        desired("gone.yaml", None, gone.clone()),
        desired(
            "fresh.yaml",
            None,
            creatable(
                Kind::AdaPlatformIntegration,
                json!({"name": "Fresh", "description": "f"}),
            ),
        ),
        desired("beta.yaml", Some("b1"), json!({"description": "b"})),
    ];
    let mut edited_form = form.clone();
    edited_form["properties"]["a"]["title"] = json!("Edited in the dashboard");
    let state = observed(vec![
        live(
            "a1",
            json!({"name": "Alpha", "description": "edited", "author": "old", "configuration_fields": edited_form}),
        ),
        live("b1", json!({"name": "Beta", "description": "changed"})),
    ]);
    let mut planned = plan("t", &now, &state).unwrap();
    let baseline = Baseline::new(&then);
    classify(&mut planned, &now, Some(&baseline));
    let by_name = |name: &str| {
        planned
            .actions
            .iter()
            .find(|a| a.name() == Some(name))
            .unwrap()
    };
    assert_eq!(
        drift_of(by_name("Alpha")),
        ["configuration_fields", "description"]
    );
    let Action::Update { patch, .. } = by_name("Alpha") else {
        panic!()
    };
    assert!(patch.contains_key("author"), "pending stays in the plan");
    assert_eq!(drift_of(by_name("Gone")), gone_fields);
    assert!(drift_of(by_name("Fresh")).is_empty());
    // Not in the baseline (by id or by name): pending.
    assert!(drift_of(by_name("Beta")).is_empty());
    assert_eq!(planned.summary.drift, Some(2));

    let json = intsync_plan::render::json(&planned);
    assert!(json.contains("\"drift\": 2"), "{json}");
    let text = intsync_plan::render::text(&planned, intsync_plan::render::Style::default());
    assert!(
        text.contains("    [drift] description: \"edited\" → \"d\""),
        "{text}"
    );
    assert!(text.contains("    author: \"old\" → \"new\""), "{text}");
    assert!(
        text.contains(
            "    [drift] configuration_fields.properties.a.title: \"Edited in the dashboard\" → \"A\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\"Gone\" will be created [drift: applied before, missing live]"),
        "{text}"
    );
    assert!(text.contains("; 2 with drift"), "{text}");
    let markdown = intsync_plan::render::markdown(&planned);
    assert!(
        markdown.contains(
            "**Drift** (changed live, outside git): `configuration_fields`, `description`"
        ),
        "{markdown}"
    );

    let drift = only_drift(planned);
    let names: Vec<&str> = drift.actions.iter().filter_map(Action::name).collect();
    assert_eq!(names, ["Alpha", "Gone"]);
    let Action::Update { patch, live, .. } = &drift.actions[0] else {
        panic!()
    };
    let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(patch), ["description", "configuration_fields"]);
    assert_eq!(keys(live), ["description", "configuration_fields"]);
    assert_eq!(drift.summary.update, 1);
    assert_eq!(drift.summary.create, 1);
    assert!(drift.unmanaged.is_empty());
    assert!(drift.has_changes);
}

/// Without a baseline every difference is drift; with nothing different there is none.
#[test]
fn without_a_baseline_every_difference_is_drift() {
    let now = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "new"}),
    )];
    let state = observed(vec![live("1", json!({"name": "A", "description": "old"}))]);
    let mut planned = plan("t", &now, &state).unwrap();
    classify(&mut planned, &now, None);
    assert_eq!(drift_of(&planned.actions[0]), ["description"]);

    let same = observed(vec![live("1", json!({"name": "A", "description": "new"}))]);
    let mut planned = plan("t", &now, &same).unwrap();
    classify(&mut planned, &now, None);
    assert_eq!(planned.summary.drift, Some(0));
    assert!(!only_drift(planned).has_changes);
}

/// watch: what moved live since the previous reading is drift; what already differed is not.
#[test]
fn moved_since_the_last_reading_is_drift() {
    let now = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "saved", "author": "x"}),
    )];
    let before = observed(vec![live(
        "1",
        json!({"name": "A", "description": "old", "author": "x"}),
    )]);
    let after = observed(vec![live(
        "1",
        json!({"name": "A", "description": "old", "author": "dashboard"}),
    )]);
    let mut planned = plan("t", &now, &after).unwrap();
    classify_moved(&mut planned, &before);
    assert_eq!(drift_of(&planned.actions[0]), ["author"]);
    let mut unchanged = plan("t", &now, &before).unwrap();
    classify_moved(&mut unchanged, &before);
    assert!(!only_drift(unchanged).has_changes);
}

/// Git changed `description` since the baseline and someone changed it live too: drift, even
/// though it is also pending (issue #21). `author`, changed in git only, is pending; `contact`,
/// new in git (not managed at the baseline) and different live, is pending only.
#[test]
fn a_field_changed_in_git_and_live_is_drift_and_also_pending() {
    let then = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "applied", "author": "applied"}),
    )];
    let now = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "from git", "author": "from git", "contact": "x@y.z"}),
    )];
    let state = observed(vec![live(
        "1",
        json!({"name": "A", "description": "from the dashboard", "author": "applied", "contact": "a@b.c"}),
    )]);
    let mut planned = plan("t", &now, &state).unwrap();
    classify(&mut planned, &now, Some(&Baseline::new(&then)));
    assert_eq!(drift_of(&planned.actions[0]), ["description"]);
    assert_eq!(planned.actions[0].also_pending(), ["description"]);
    assert_eq!(planned.summary.drift, Some(1));

    // The plan document: `drift` keeps its meaning, `also_pending` says which are both.
    let json: Value = serde_json::from_str(&intsync_plan::render::json(&planned)).unwrap();
    assert_eq!(json["actions"][0]["drift"], json!(["description"]));
    assert_eq!(json["actions"][0]["also_pending"], json!(["description"]));
    let text = intsync_plan::render::text(&planned, intsync_plan::render::Style::default());
    assert!(
        text.contains(
            "    [drift (also pending)] description: \"from the dashboard\" → \"from git\"\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("    author: \"applied\" → \"from git\"\n"),
        "{text}"
    );
    assert!(
        text.contains("    contact: \"a@b.c\" → \"x@y.z\"\n"),
        "{text}"
    );
    let markdown = intsync_plan::render::markdown(&planned);
    assert!(
        markdown.contains("**Drift** (changed live, outside git): `description` (also pending: changed in git too)"),
        "{markdown}"
    );
    assert!(
        markdown.contains("[drift (also pending)] description: "),
        "{markdown}"
    );

    // `pull` leaves it to a person.
    let pulls = pulls(&planned, &now);
    assert!(pulls.values.is_empty(), "{:?}", pulls.values);
    assert_eq!(
        pulls.conflicts,
        [Conflict {
            manifest: "a.yaml".into(),
            field: "description".into()
        }]
    );

    let drift = only_drift(planned);
    assert!(drift.has_changes, "`intsync drift` reports it");
    assert_eq!(drift.actions[0].also_pending(), ["description"]);
    let Action::Update { patch, .. } = &drift.actions[0] else {
        panic!()
    };
    assert_eq!(patch.keys().collect::<Vec<_>>(), ["description"]);
}

/// Live back at what was applied while git changed the field: pending only, not drift.
#[test]
fn a_field_changed_in_git_only_is_pending() {
    let then = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "applied"}),
    )];
    let now = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "from git"}),
    )];
    let state = observed(vec![live(
        "1",
        json!({"name": "A", "description": "applied"}),
    )]);
    let mut planned = plan("t", &now, &state).unwrap();
    classify(&mut planned, &now, Some(&Baseline::new(&then)));
    assert!(drift_of(&planned.actions[0]).is_empty());
    assert!(planned.actions[0].also_pending().is_empty());
    assert!(!only_drift(planned).has_changes);
}

/// The classification survives `plan --out` and `apply --plan`: `drift` and `also_pending`
/// read back as written; a plan without them (unclassified, or from before `also_pending`)
/// reads as before.
#[test]
fn classified_plans_read_back() {
    let then = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "applied", "author": "a"}),
    )];
    let now = vec![desired(
        "a.yaml",
        None,
        json!({"name": "A", "description": "from git", "author": "a"}),
    )];
    let state = observed(vec![live(
        "1",
        json!({"name": "A", "description": "edited", "author": "edited"}),
    )]);
    let unclassified = plan("t", &now, &state).unwrap();
    let mut planned = unclassified.clone();
    classify(&mut planned, &now, Some(&Baseline::new(&then)));
    assert_eq!(drift_of(&planned.actions[0]), ["author", "description"]);
    assert_eq!(planned.actions[0].also_pending(), ["description"]);
    for plan in [&planned, &unclassified] {
        let text = intsync_plan::render::json(plan);
        let read: intsync_plan::Plan = serde_json::from_str(&text).unwrap();
        assert_eq!(&read, plan, "{text}");
    }
    let text = intsync_plan::render::json(&unclassified);
    assert!(
        !text.contains("drift") && !text.contains("also_pending"),
        "{text}"
    );
    // A plan written before `also_pending` existed.
    let old = intsync_plan::render::json(&planned).replace(
        "\"also_pending\": [\n        \"description\"\n      ],\n",
        "",
    );
    assert!(!old.contains("also_pending"), "{old}");
    let read: intsync_plan::Plan = serde_json::from_str(&old).unwrap();
    assert_eq!(drift_of(&read.actions[0]), ["author", "description"]);
    assert!(read.actions[0].also_pending().is_empty());
}
