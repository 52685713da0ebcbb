//! The planner through one helper: `check(desired, observed, expect)`.

use expect_test::{Expect, expect};
use intsync_manifest::{Fields, Kind};
use intsync_plan::{
    Action, DesiredIntegration, Ignored, Observed, ObservedIntegration, Unreadable, plan,
};
use serde_json::{Value, json};

fn kind(short: &str) -> Kind {
    match short {
        "ada" => Kind::AdaPlatformIntegration,
        "truto" => Kind::TrutoIntegration,
        other => panic!("kind {other}"),
    }
}

fn object(value: &Value) -> Fields {
    value.as_object().cloned().unwrap_or_default().into()
}

/// `desired`: `[{"kind": "ada", "id"?: "..", "spec": {..}}]`; `observed`:
/// `[{"kind": "ada", "id": "..", "status"?: "..", "version"?: n, "fields": {..}}]`; an observed
/// item with `"ignored": true` is one the target lists but does not own; one with
/// `"unreadable": "reason"` is one whose answer cannot be read (its `id` and `name` optional).
fn check_with_kinds(kinds: &[&str], desired: Value, observed: Value, expect: Expect) {
    let desired: Vec<DesiredIntegration> = desired
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, d)| DesiredIntegration {
            kind: kind(d["kind"].as_str().unwrap()),
            id: d["id"].as_str().map(str::to_owned),
            spec: object(&d["spec"]),
            manifest: format!("m{i}.yaml"),
            origin: Default::default(),
            routing: Default::default(),
        })
        .collect();
    let (broken, observed): (Vec<&Value>, Vec<&Value>) = observed
        .as_array()
        .unwrap()
        .iter()
        .partition(|o| o.get("unreadable").is_some());
    let (foreign, owned): (Vec<&Value>, Vec<&Value>) =
        observed.into_iter().partition(|o| o["ignored"] == true);
    let observed = Observed {
        kinds: kinds.iter().map(|k| kind(k)).collect(),
        integrations: owned
            .into_iter()
            .map(|o| {
                ObservedIntegration::new(
                    kind(o["kind"].as_str().unwrap()),
                    o["id"].as_str().unwrap().to_owned(),
                    o["status"].as_str().map(str::to_owned),
                    o["version"].as_u64(),
                    o["fields"].as_object().cloned().unwrap_or_default(),
                )
            })
            .collect(),
        ignored: foreign
            .into_iter()
            .map(|o| Ignored {
                kind: kind(o["kind"].as_str().unwrap()),
                id: o["id"].as_str().unwrap().to_owned(),
            })
            .collect(),
        unreadable: broken
            .into_iter()
            .map(|o| Unreadable {
                kind: kind(o["kind"].as_str().unwrap()),
                id: o["id"].as_str().map(str::to_owned),
                name: o["name"].as_str().map(str::to_owned),
                page: "/list".to_owned(),
                reason: o["unreadable"].as_str().unwrap().to_owned(),
                set_aside: Vec::new(),
            })
            .collect(),
    };
    let actual = match plan("t", &desired, &observed) {
        Ok(plan) => {
            let mut lines: Vec<String> = plan
                .actions
                .iter()
                .map(|a| match a {
                    Action::Create {
                        kind,
                        name,
                        body,
                        set_after_create,
                        ..
                    } => {
                        let after = if set_after_create.is_empty() {
                            String::new()
                        } else {
                            format!(" then set {}", set_after_create.join(","))
                        };
                        format!(
                            "create {kind} {name:?} {}{after}",
                            Value::Object(body.clone())
                        )
                    }
                    Action::Update {
                        id,
                        patch,
                        expected_version,
                        ..
                    } => {
                        let version = expected_version
                            .map(|v| format!(" expecting version {v}"))
                            .unwrap_or_default();
                        format!("update {id} {}{version}", Value::Object(patch.clone()))
                    }
                    Action::Blocked {
                        id,
                        patch,
                        live_status,
                        ..
                    } => {
                        format!(
                            "blocked {id} ({}) {}",
                            live_status.as_deref().unwrap_or("-"),
                            Value::Object(patch.clone())
                        )
                    }
                    Action::Noop { id, .. } => format!("noop {id}"),
                })
                .collect();
            lines.extend(plan.unmanaged.iter().map(|u| format!("unmanaged {}", u.id)));
            lines.extend(
                plan.skipped
                    .iter()
                    .map(|s| format!("skipped {}", s.manifest)),
            );
            if plan.ignored > 0 {
                lines.push(format!("ignored={}", plan.ignored));
            }
            for u in &plan.unreadable {
                let aside: Vec<String> = u
                    .set_aside
                    .iter()
                    .map(|a| format!("{} ({:?})", a.manifest, a.claim))
                    .collect();
                lines.push(format!(
                    "unreadable {} {:?} {:?} ({}): set aside [{}]",
                    u.kind,
                    u.id,
                    u.name,
                    u.reason,
                    aside.join(", ")
                ));
            }
            lines.push(format!("has_changes={}", plan.has_changes));
            lines.join("\n")
        }
        Err(errors) => errors
            .iter()
            .map(|e| format!("error {e}"))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    expect.assert_eq(&actual);
}

fn check(desired: Value, observed: Value, expect: Expect) {
    check_with_kinds(&["ada", "truto"], desired, observed, expect);
}

fn live(id: &str, fields: Value) -> Value {
    json!({"kind": "ada", "id": id, "status": "development", "fields": fields})
}

#[test]
fn unchanged_is_noop() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "description": "d"}}]),
        json!([live(
            "1",
            json!({"name": "A", "description": "d", "author": "x"})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
}

#[test]
fn changed_field_only_in_patch() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "description": "new", "author": "x"}}]),
        json!([live(
            "1",
            json!({"name": "A", "description": "old", "author": "x"})
        )]),
        expect![[r#"
            update 1 {"description":"new"}
            has_changes=true"#]],
    );
}

#[test]
fn key_order_in_nested_objects_makes_no_diff() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "configuration_fields": {"type": "object", "properties": {"a": {"type": "string", "title": "A"}}}}}]),
        json!([live(
            "1",
            json!({"name": "A", "configuration_fields": {"properties": {"a": {"title": "A", "type": "string"}}, "type": "object"}})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
}

#[test]
fn nested_change_sends_the_whole_object() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "configuration_fields": {"type": "object", "required": ["a"]}}}]),
        json!([live(
            "1",
            json!({"name": "A", "configuration_fields": {"type": "object", "required": []}})
        )]),
        expect![[r#"
            update 1 {"configuration_fields":{"type":"object","required":["a"]}}
            has_changes=true"#]],
    );
}

#[test]
fn one_and_one_point_zero_are_equal() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "configuration_fields": {"maxLength": 1.0, "minimum": 0}}}]),
        json!([live(
            "1",
            json!({"name": "A", "configuration_fields": {"maxLength": 1, "minimum": 0.0}})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
}

#[test]
fn live_null_and_omitted_field_is_no_diff() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A"}}]),
        json!([live(
            "1",
            json!({"name": "A", "icon_url": null, "call_to_action": "Go"})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
}

#[test]
fn explicit_null_clears_and_matches_absent() {
    check(
        json!([
            {"kind": "ada", "spec": {"name": "A", "icon_url": null}},
            {"kind": "ada", "spec": {"name": "B", "icon_url": null}},
            {"kind": "ada", "spec": {"name": "C", "icon_url": null}},
        ]),
        json!([
            live("1", json!({"name": "A", "icon_url": "https://x/i.png"})),
            live("2", json!({"name": "B"})),
            live("3", json!({"name": "C", "icon_url": null})),
        ]),
        expect![[r#"
            update 1 {"icon_url":null}
            noop 2
            noop 3
            has_changes=true"#]],
    );
}

#[test]
fn scopes_and_tags_are_sets() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "scopes": ["b:read", "a:write"], "tags": ["knowledge"]}}]),
        json!([live(
            "1",
            json!({"name": "A", "scopes": ["a:write", "b:read", "a:write"], "tags": ["knowledge"]})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
    // Lists that are not sets keep their order.
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "configuration_fields": {"enum": ["b", "a"]}}}]),
        json!([live(
            "1",
            json!({"name": "A", "configuration_fields": {"enum": ["a", "b"]}})
        )]),
        expect![[r#"
            update 1 {"configuration_fields":{"enum":["b","a"]}}
            has_changes=true"#]],
    );
}

#[test]
fn unknown_response_keys_and_unmanaged_fields_make_no_diff() {
    // Providers drop unknown keys before planning; fields the manifest omits are not compared.
    check(
        json!([{"kind": "ada", "spec": {"name": "A"}}]),
        json!([live(
            "1",
            json!({"name": "A", "description": "whatever", "scopes": ["x"]})
        )]),
        expect![[r#"
            noop 1
            has_changes=false"#]],
    );
}

#[test]
fn missing_live_object_is_created_with_the_whole_body() {
    check(
        json!([{"kind": "truto", "spec": {"name": "New", "category": "crm"}}]),
        json!([live("1", json!({"name": "Other"}))]),
        expect![[r#"
            create TrutoIntegration Some("New") {"name":"New","category":"crm"}
            unmanaged 1
            has_changes=true"#]],
    );
}

/// Issue #22: fields a create needs are needed only for a create. Matched by name, a manifest
/// with just `description` plans an update of it; with no live integration of that name, the
/// same manifest is an error naming what a create lacks.
#[test]
fn create_fields_are_needed_only_for_a_create() {
    check(
        json!([{"kind": "ada", "spec": {"name": "Known", "description": "new"}}]),
        json!([live(
            "1",
            json!({"name": "Known", "description": "old", "author": "a"})
        )]),
        expect![[r#"
            update 1 {"description":"new"}
            has_changes=true"#]],
    );
    check(
        json!([{"kind": "ada", "spec": {"name": "New", "description": "d"}}]),
        json!([live("1", json!({"name": "Other"}))]),
        expect![[r#"
            error m0.yaml: no live AdaPlatformIntegration is named `New`, so this manifest would create one, but creating needs `identifier_field_path`, `author`, `contact`, `uninstallation_url`, `oauth_callback_url`, `tags`, `scopes`, `configuration_fields` too; add them, or fix the name if it should match a live integration"#]],
    );
}

#[test]
fn ambiguous_name_is_an_error_naming_the_ids() {
    check(
        json!([{"kind": "ada", "spec": {"name": "Twin"}}, {"kind": "ada", "spec": {"name": "Solo"}}]),
        json!([
            live("1", json!({"name": "Twin"})),
            live("2", json!({"name": "Twin"})),
            live("3", json!({"name": "Solo"}))
        ]),
        expect![[r#"
            error m0.yaml: 2 live AdaPlatformIntegration integrations are named `Twin` (ids 1, 2); set metadata.id to say which one this manifest manages"#]],
    );
    // metadata.id disambiguates.
    check(
        json!([{"kind": "ada", "id": "2", "spec": {"name": "Twin"}}]),
        json!([
            live("1", json!({"name": "Twin"})),
            live("2", json!({"name": "Twin"}))
        ]),
        expect![[r#"
            noop 2
            unmanaged 1
            has_changes=false"#]],
    );
}

#[test]
fn id_matches_even_when_renaming() {
    check(
        json!([{"kind": "ada", "id": "1", "spec": {"name": "Renamed"}}]),
        json!([live("1", json!({"name": "Old"}))]),
        expect![[r#"
            update 1 {"name":"Renamed"}
            has_changes=true"#]],
    );
}

#[test]
fn unknown_id_is_an_error() {
    check(
        json!([{"kind": "ada", "id": "404", "spec": {"name": "A"}}]),
        json!([]),
        expect![[r#"
            error m0.yaml: no live AdaPlatformIntegration has the id `404` given in metadata.id; remove metadata.id to create it, or fix the id"#]],
    );
}

#[test]
fn one_live_object_claimed_twice_is_an_error() {
    check(
        json!([{"kind": "ada", "id": "1", "spec": {"description": "x"}}, {"kind": "ada", "spec": {"name": "A"}}]),
        json!([live("1", json!({"name": "A"}))]),
        expect![[r#"
            error m1.yaml: the live AdaPlatformIntegration `1` is also claimed by m0.yaml; each live integration is managed by one manifest"#]],
    );
}

#[test]
fn approved_integration_with_and_without_a_change() {
    check(
        json!([{"kind": "ada", "spec": {"name": "A", "description": "new"}}, {"kind": "ada", "spec": {"name": "B", "description": "same"}}]),
        json!([
            {"kind": "ada", "id": "1", "status": "approved", "fields": {"name": "A", "description": "old"}},
            {"kind": "ada", "id": "2", "status": "approved", "fields": {"name": "B", "description": "same"}},
        ]),
        expect![[r#"
            blocked 1 (approved) {"description":"new"}
            noop 2
            has_changes=true"#]],
    );
}

#[test]
fn truto_patch_carries_the_observed_version() {
    check(
        json!([{"kind": "truto", "spec": {"name": "crm", "category": "helpdesk"}}]),
        json!([{"kind": "truto", "id": "t1", "version": 4, "fields": {"name": "crm", "category": "crm"}}]),
        expect![[r#"
            update t1 {"category":"helpdesk"} expecting version 4
            has_changes=true"#]],
    );
}

#[test]
fn same_name_different_kinds_do_not_collide() {
    check(
        json!([{"kind": "truto", "spec": {"name": "A"}}]),
        json!([live("1", json!({"name": "A"}))]),
        expect![[r#"
            create TrutoIntegration Some("A") {"name":"A"}
            unmanaged 1
            has_changes=true"#]],
    );
}

#[test]
fn kinds_the_target_does_not_serve_are_skipped() {
    check_with_kinds(
        &["ada"],
        json!([{"kind": "truto", "spec": {"name": "crm"}}, {"kind": "ada", "spec": {"name": "A"}}]),
        json!([live("1", json!({"name": "A"}))]),
        expect![[r#"
            noop 1
            skipped m0.yaml
            has_changes=false"#]],
    );
}

#[test]
fn fingerprints_move_with_the_live_object_only() {
    let truto = |fields: Value, version: u64| {
        ObservedIntegration::new(
            Kind::TrutoIntegration,
            "t1".into(),
            None,
            Some(version),
            fields.as_object().cloned().unwrap(),
        )
    };
    let o = |description: &str, version: u64| {
        truto(
            json!({"name": "crm", "description": description, "config": {"b": 1, "a": 2.0}}),
            version,
        )
    };
    let reordered = truto(
        json!({"config": {"a": 2, "b": 1}, "description": "x", "name": "crm"}),
        1,
    );
    assert_eq!(
        intsync_plan::fingerprint(&o("x", 1)),
        intsync_plan::fingerprint(&reordered)
    );
    assert_ne!(
        intsync_plan::fingerprint(&o("x", 1)),
        intsync_plan::fingerprint(&o("y", 1))
    );
    assert_ne!(
        intsync_plan::fingerprint(&o("x", 1)),
        intsync_plan::fingerprint(&o("x", 2))
    );
    assert!(intsync_plan::fingerprint(&o("x", 1)).starts_with("sha256:"));
}

/// Truto lists its own and other teams' integrations: they are never matched by name (ours of the
/// same name is created), never unmanaged, and a `metadata.id` naming one is refused. A create
/// says which fields Truto's create does not take.
#[test]
fn integrations_the_target_does_not_own_are_ignored() {
    let truto = |id: &str, name: &str| json!({"kind": "truto", "id": id, "version": 1, "fields": {"name": name}});
    let theirs = |id: &str, name: &str| json!({"kind": "truto", "id": id, "version": 1, "ignored": true, "fields": {"name": name}});
    check(
        json!([
            {"kind": "truto", "spec": {"name": "hubspot", "category": "crm", "sharing": "ask"}},
            {"kind": "truto", "spec": {"name": "mine", "category": "crm"}},
        ]),
        json!([
            theirs("t1", "hubspot"),
            truto("o1", "mine"),
            theirs("t2", "acme_crm"),
            truto("o2", "legacy")
        ]),
        expect![[r#"
            create TrutoIntegration Some("hubspot") {"name":"hubspot","category":"crm","sharing":"ask"} then set sharing
            update o1 {"category":"crm"} expecting version 1
            unmanaged o2
            ignored=2
            has_changes=true"#]],
    );
    check(
        json!([{"kind": "truto", "id": "t1", "spec": {"category": "crm"}}]),
        json!([theirs("t1", "hubspot")]),
        expect![[r#"
            error m0.yaml: the TrutoIntegration `t1` given in metadata.id belongs to Truto or to another team: only your team's integrations can be managed; remove metadata.id to create your own"#]],
    );
}

/// Numbers by exact value (issue #21): `2^53 + 1` is not the live `2^53` written as a float
/// (one f64), while `1e999999` (no f64 at all) is the live `10e999998`.
#[test]
fn numbers_a_float_cannot_tell_apart_make_an_update() {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    check(
        parse(
            r#"[{"kind": "ada", "spec": {"name": "A", "configuration_fields": {"maximum": 9007199254740993, "step": 1e999999}}},
                {"kind": "ada", "spec": {"name": "B", "configuration_fields": {"maximum": 1e300, "step": 1e999999}}}]"#,
        ),
        json!([
            live(
                "1",
                parse(
                    r#"{"name": "A", "configuration_fields": {"maximum": 9007199254740992.0, "step": 10e999998}}"#
                )
            ),
            live(
                "2",
                parse(
                    r#"{"name": "B", "configuration_fields": {"maximum": 1e+300, "step": 0.1e1000000}}"#
                )
            )
        ]),
        expect![[r#"
            update 1 {"configuration_fields":{"maximum":9007199254740993,"step":1e+999999}}
            noop 2
            has_changes=true"#]],
    );
}

/// A saved plan (`plan --out`, read back by `apply --plan`) keeps every number as written, past
/// f64 too: the actions are read through serde's buffered, internally tagged path.
#[test]
fn a_saved_plan_keeps_numbers_as_written() {
    let parse = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    let spec = parse(
        r#"{"name": "A", "configuration_fields": {"maximum": 9007199254740993, "step": 1e999999, "ratio": 0.10000000000000001}}"#,
    );
    let desired = vec![DesiredIntegration {
        kind: Kind::TrutoIntegration,
        id: None,
        spec: object(&spec),
        manifest: "a.yaml".to_owned(),
        origin: Default::default(),
        routing: Default::default(),
    }];
    let observed = Observed {
        kinds: vec![Kind::TrutoIntegration],
        integrations: vec![ObservedIntegration::new(
            Kind::TrutoIntegration,
            "1".to_owned(),
            None,
            Some(3),
            parse(r#"{"name": "A", "configuration_fields": {"maximum": 9007199254740992.0}}"#)
                .as_object()
                .cloned()
                .unwrap(),
        )],
        ignored: Vec::new(),
        unreadable: Vec::new(),
    };
    let planned = plan("t", &desired, &observed).unwrap();
    let saved = serde_json::to_string(&planned).unwrap();
    assert!(
        saved.contains(
            r#"{"maximum":9007199254740993,"step":1e+999999,"ratio":0.10000000000000001}"#
        ),
        "{saved}"
    );
    assert!(saved.contains(r#""maximum":9007199254740992.0"#), "{saved}");
    let read: intsync_plan::Plan = serde_json::from_str(&saved).unwrap();
    assert_eq!(serde_json::to_string(&read).unwrap(), saved);
}

/// A live integration that cannot be read is never matched, created again or unmanaged: the
/// manifest pinned to its id, and the one of its name (even when a readable integration has
/// that name too), are set aside and listed under it; every other manifest plans, a create of
/// another name included (issue #22).
#[test]
fn manifests_that_may_be_an_unreadable_integration_are_set_aside() {
    check(
        json!([
            {"kind": "ada", "id": "a3", "spec": {"description": "pinned"}},
            {"kind": "ada", "spec": {"name": "Gamma", "description": "by name"}},
            {"kind": "ada", "spec": {"name": "Shared", "description": "by name"}},
            {"kind": "ada", "spec": {"name": "Alpha", "description": "new"}},
            {"kind": "ada", "spec": intsync_plan::testing::creatable(Kind::AdaPlatformIntegration, json!({"name": "Fresh", "description": "x"}))},
        ]),
        json!([
            live("a1", json!({"name": "Alpha", "description": "old"})),
            live("a2", json!({"name": "Shared", "description": "old"})),
            {"kind": "ada", "id": "a3", "name": "Gamma", "unreadable": "has no `status`"},
            {"kind": "ada", "id": "a4", "name": "Shared", "unreadable": "has no `scopes`, which the API always returns"},
        ]),
        expect![[r#"
            update a1 {"description":"new"}
            create AdaPlatformIntegration Some("Fresh") {"name":"Fresh","description":"x","identifier_field_path":"account.name","author":"x","contact":"help@example.com","uninstallation_url":"https://example.com/x","oauth_callback_url":"https://example.com/x","tags":["knowledge"],"scopes":["articles:read"],"configuration_fields":{"type":"object","required":["account"],"properties":{"account":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}}}
            unmanaged a2
            unreadable AdaPlatformIntegration Some("a3") Some("Gamma") (has no `status`): set aside [m0.yaml (Id), m1.yaml (Name)]
            unreadable AdaPlatformIntegration Some("a4") Some("Shared") (has no `scopes`, which the API always returns): set aside [m2.yaml (Name)]
            has_changes=true"#]],
    );
}

/// An unreadable integration whose name cannot be read may be the one any create of its kind
/// would make: every such create is set aside (under each of them), with or without a readable
/// id. Updates of readable integrations, by id or by name, and creates of other kinds still
/// plan.
#[test]
fn a_nameless_unreadable_integration_sets_aside_the_creates_of_its_kind() {
    let desired = json!([
        {"kind": "ada", "spec": {"name": "Fresh", "description": "x"}},
        {"kind": "ada", "spec": {"name": "Also new", "description": "y"}},
        {"kind": "ada", "id": "a1", "spec": {"description": "by id"}},
        {"kind": "ada", "spec": {"name": "Beta", "description": "by name"}},
        {"kind": "truto", "spec": {"name": "crm"}},
    ]);
    let readable = [
        live("a1", json!({"name": "Alpha", "description": "old"})),
        live("a2", json!({"name": "Beta", "description": "old"})),
    ];
    check(
        desired.clone(),
        json!([
            readable[0],
            readable[1],
            {"kind": "ada", "unreadable": "is an array, not an object"},
        ]),
        expect![[r#"
            update a1 {"description":"by id"}
            update a2 {"description":"by name"}
            create TrutoIntegration Some("crm") {"name":"crm"}
            unreadable AdaPlatformIntegration None None (is an array, not an object): set aside [m0.yaml (Create), m1.yaml (Create)]
            has_changes=true"#]],
    );
    check(
        desired,
        json!([
            readable[0],
            readable[1],
            {"kind": "ada", "id": "a9", "unreadable": "has a `name` that is a number, not a string"},
            {"kind": "truto", "id": "t9", "name": "other", "unreadable": "has no numeric `version`"},
        ]),
        expect![[r#"
            update a1 {"description":"by id"}
            update a2 {"description":"by name"}
            create TrutoIntegration Some("crm") {"name":"crm"}
            unreadable AdaPlatformIntegration Some("a9") None (has a `name` that is a number, not a string): set aside [m0.yaml (Create), m1.yaml (Create)]
            unreadable TrutoIntegration Some("t9") Some("other") (has no numeric `version`): set aside []
            has_changes=true"#]],
    );
}
