//! `intsync pull`'s promise as a property (design §10): for random manifests with comments and
//! random live values, writing what `drift::pulls` says with `intsync_manifest::set_fields` and
//! planning again shows no difference, and every comment outside a replaced value survives.

use intsync_manifest::{FieldEdit, Kind};
use intsync_plan::drift::{classify, pulls};
use intsync_plan::{Action, DesiredIntegration, Observed, ObservedIntegration, plan};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Text for strings: awkward characters included, never empty.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9 ]{0,12}",
        Just("yes".to_owned()),
        Just("null".to_owned()),
        Just("123".to_owned()),
        Just("a: b # c".to_owned()),
        Just("two\nlines".to_owned()),
        Just(" padded ".to_owned()),
        "\\PC{1,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::btree_map("[a-z_]{1,6}", json_value(), 0..4)
        .prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A value for `field` of `kind` that intsync's rules accept.
fn value_for(kind: Kind, field: &'static str) -> BoxedStrategy<Value> {
    match (kind, field) {
        (_, "description" | "author" | "call_to_action" | "category") => {
            text().prop_map(Value::String).boxed()
        }
        (_, "contact") => "[a-z]{1,8}@example\\.com".prop_map(Value::String).boxed(),
        (_, "icon_url") => prop_oneof![
            Just(Value::Null),
            "https://[a-z]{1,8}\\.example/[a-z]{0,6}".prop_map(Value::String),
        ]
        .boxed(),
        (_, "scopes") => prop::collection::vec("[a-z_:]{1,12}", 0..4)
            .prop_map(|v| json!(v))
            .boxed(),
        (_, "error_codes") => prop_oneof![
            Just(Value::Null),
            prop::collection::btree_map("error_[0-9]{3}", text(), 0..3).prop_map(|m| json!(m)),
        ]
        .boxed(),
        (_, "is_beta") => any::<bool>().prop_map(Value::Bool).boxed(),
        (_, "sharing") => prop_oneof![Just("allow"), Just("ask"), Just("deny")]
            .prop_map(|s| json!(s))
            .boxed(),
        (_, "config") => object().boxed(),
        _ => unreachable!("{field}"),
    }
}

// Not `name`: two manifests of random names could claim the same integration (refused).
const ADA: &[&str] = &[
    "description",
    "author",
    "contact",
    "icon_url",
    "call_to_action",
    "scopes",
    "error_codes",
];
const TRUTO: &[&str] = &["category", "is_beta", "sharing", "config"];

/// One integration: its kind, its fields in manifest order with (manifest value, live value),
/// and how each is written.
#[derive(Debug, Clone)]
struct Case {
    kind: Kind,
    fields: Vec<(&'static str, Value, Value, bool)>,
}

fn case() -> impl Strategy<Value = Case> {
    prop_oneof![
        Just(Kind::AdaPlatformIntegration),
        Just(Kind::TrutoIntegration)
    ]
    .prop_flat_map(|kind| {
        let names = if kind == Kind::AdaPlatformIntegration {
            ADA
        } else {
            TRUTO
        };
        let fields: Vec<_> = names
            .iter()
            .map(|&f| {
                (
                    any::<bool>(),
                    value_for(kind, f),
                    value_for(kind, f),
                    any::<bool>(),
                    any::<bool>(),
                )
                    .prop_map(move |(present, want, live, same, block)| {
                        let live = if same { want.clone() } else { live };
                        (present, f, want, live, block)
                    })
            })
            .collect();
        fields.prop_map(move |fields| Case {
            kind,
            fields: fields
                .into_iter()
                .filter(|(present, ..)| *present)
                .map(|(_, f, want, live, block)| (f, want, live, block))
                .collect(),
        })
    })
}

/// A value as YAML on the key's line (JSON is YAML), or as a block under it.
fn write_value(out: &mut String, value: &Value, block: bool, comment: &str) {
    match value {
        Value::Object(map) if block && !map.is_empty() => {
            out.push_str(&format!("   {comment}\n"));
            for (k, v) in map {
                out.push_str(&format!("    {k}: {v}\n"));
            }
        }
        Value::Array(items) if block && !items.is_empty() => {
            out.push_str(&format!("   {comment}\n"));
            for item in items {
                out.push_str(&format!("    - {item}\n"));
            }
        }
        other => out.push_str(&format!(" {other}   {comment}\n")),
    }
}

fn file(cases: &[Case]) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut comments = Vec::new();
    let mut comment = || {
        let c = format!("#c{}", comments.len());
        comments.push(c.clone());
        c
    };
    for (i, case) in cases.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        out.push_str(&format!("{}\n", comment()));
        out.push_str(&format!(
            "apiVersion: intsync/v1\nkind: {}   {}\nmetadata: {{id: i{i}}}\nspec:\n",
            case.kind,
            comment()
        ));
        for (field, want, _, block) in &case.fields {
            out.push_str(&format!("  {}\n  {field}:", comment()));
            write_value(&mut out, want, *block, &comment());
        }
        if case.fields.is_empty() {
            out.push_str("  {}\n");
        }
    }
    (out, comments)
}

fn observed(cases: &[Case]) -> Observed {
    Observed {
        kinds: Kind::ALL.to_vec(),
        integrations: cases
            .iter()
            .enumerate()
            .map(|(i, case)| {
                ObservedIntegration::new(
                    case.kind,
                    format!("i{i}"),
                    (case.kind == Kind::AdaPlatformIntegration).then(|| "approved".to_owned()),
                    (case.kind == Kind::TrutoIntegration).then_some(1),
                    case.fields
                        .iter()
                        .map(|(f, _, live, _)| ((*f).to_owned(), live.clone()))
                        .collect::<Map<String, Value>>(),
                )
            })
            .collect(),
        ignored: Vec::new(),
        unreadable: Vec::new(),
    }
}

fn desired(text: &str) -> Vec<DesiredIntegration> {
    let loaded = intsync_manifest::load_source("m.yaml", text);
    assert!(!loaded.has_errors(), "{:#?}\n{text}", loaded.diagnostics);
    loaded
        .manifests
        .into_iter()
        .map(DesiredIntegration::from_manifest)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn pull_then_plan_shows_no_difference(cases in prop::collection::vec(case(), 1..4)) {
        let (text, comments) = file(&cases);
        let live = observed(&cases);
        let want = desired(&text);
        let mut planned = plan("t", &want, &live).unwrap();
        classify(&mut planned, &want, None);
        let pulls = pulls(&planned, &want);
        prop_assert!(pulls.skipped.is_empty(), "{:?}", pulls.skipped);
        prop_assert!(pulls.conflicts.is_empty(), "no baseline, no conflict: {:?}", pulls.conflicts);
        let edits: Vec<FieldEdit> = pulls
            .values
            .into_iter()
            .map(|p| FieldEdit {
                document: p.origin.document,
                field: p.field,
                value: p.value,
            })
            .collect();
        let pulled = intsync_manifest::set_fields(&text, &edits).unwrap();
        let again = plan("t", &desired(&pulled), &live).unwrap();
        for action in &again.actions {
            prop_assert!(matches!(action, Action::Noop { .. }), "{action:?}\n{pulled}");
        }
        for comment in &comments {
            prop_assert!(pulled.contains(comment.as_str()), "{comment} lost:\n{text}\n→\n{pulled}");
        }
    }
}
