//! `!var` references and `metadata.targets`, read against the targets of a configuration
//! (design §11).

use std::collections::BTreeMap;

use intsync_manifest::{
    Code, Kind, Loaded, Receiver, Receivers, VarValue, load_source, load_source_for,
};
use serde_json::json;

fn known(value: serde_json::Value) -> VarValue {
    VarValue::Known {
        value,
        sensitive: false,
    }
}

fn receiver(name: &str, kinds: &[Kind], vars: &[(&str, VarValue)]) -> Receiver {
    Receiver {
        name: name.to_owned(),
        kinds: kinds.to_vec(),
        vars: vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
    }
}

/// A sandbox and a production Truto target, and an Ada one.
fn receivers() -> Receivers {
    let truto = [Kind::TrutoIntegration];
    Receivers::new(vec![
        receiver(
            "sandbox",
            &truto,
            &[
                ("base", known(json!("https://sandbox.example.com"))),
                (
                    "key",
                    VarValue::Known {
                        value: json!("s3cret-sandbox"),
                        sensitive: true,
                    },
                ),
            ],
        ),
        receiver(
            "production",
            &truto,
            &[
                ("base", known(json!("https://example.com"))),
                (
                    "key",
                    VarValue::Missing {
                        reason: "the environment variable INTSYNC_VAR_KEY is not set".to_owned(),
                        env: "INTSYNC_VAR_KEY".to_owned(),
                    },
                ),
            ],
        ),
        receiver("ada", &[Kind::AdaPlatformIntegration], &[]),
    ])
}

fn truto(extra_metadata: &str, config: &str) -> String {
    format!(
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  {extra_metadata}\nspec:\n  name: Shop\n  config:\n{config}"
    )
}

fn codes(loaded: &Loaded) -> Vec<(Code, u32, u32, String)> {
    loaded
        .diagnostics
        .iter()
        .map(|d| (d.code, d.span.line, d.span.column, d.message.clone()))
        .collect()
}

#[test]
fn a_document_with_vars_is_one_manifest_per_receiving_target() {
    let text = truto(
        "targets: [sandbox, production]",
        "    base_url: !var base\n    nested:\n      - !var base\n",
    );
    let loaded = load_source_for("shop.yaml", &text, &receivers());
    assert!(!loaded.has_errors(), "{:?}", codes(&loaded));
    let copies: Vec<_> = loaded
        .manifests
        .iter()
        .map(|m| (m.routing.target.clone(), m.spec.get("config").unwrap()))
        .collect();
    assert_eq!(
        copies,
        [
            (
                Some("sandbox".to_owned()),
                json!({"base_url": "https://sandbox.example.com", "nested": ["https://sandbox.example.com"]})
            ),
            (
                Some("production".to_owned()),
                json!({"base_url": "https://example.com", "nested": ["https://example.com"]})
            ),
        ]
    );
    let uses: Vec<_> = loaded.manifests[0]
        .routing
        .vars
        .iter()
        .map(|u| (u.pointer.as_str(), u.name.as_str(), u.span.line))
        .collect();
    assert_eq!(
        uses,
        [
            ("/config/base_url", "base", 8),
            ("/config/nested/0", "base", 10)
        ]
    );
    // Each copy goes to its own target only.
    let kinds = [Kind::TrutoIntegration];
    assert!(loaded.manifests[0].goes_to("sandbox", &kinds));
    assert!(!loaded.manifests[0].goes_to("production", &kinds));
    assert!(loaded.manifests[1].goes_to("production", &kinds));
}

#[test]
fn an_unknown_or_unset_var_is_an_error_at_the_reference_naming_the_target() {
    // No `metadata.targets`: both Truto targets receive it; production's `key` is unset, and
    // no target defines `nope`.
    let text = truto("id: x", "    key: !var key\n    other: !var nope\n");
    let loaded = load_source_for("shop.yaml", &text, &receivers());
    assert!(loaded.manifests.is_empty());
    let found = codes(&loaded);
    assert!(
        found.contains(&(
            Code::UnsetVar,
            8,
            15,
            "var `key` of target `production` has no value: the environment variable INTSYNC_VAR_KEY is not set".to_owned()
        )),
        "{found:?}"
    );
    let unknown: Vec<_> = found.iter().filter(|d| d.0 == Code::UnknownVar).collect();
    assert_eq!(unknown.len(), 2, "{found:?}");
    assert!(unknown.iter().all(|d| (d.1, d.2) == (9, 17)));
    assert!(unknown[0].3.contains("`sandbox`") && unknown[1].3.contains("`production`"));
}

#[test]
fn a_resolved_value_is_checked_by_the_usual_rules_at_the_reference() {
    let receivers = Receivers::new(vec![
        receiver(
            "sandbox",
            &[Kind::AdaPlatformIntegration],
            &[("url", known(json!("https://ok.example.com")))],
        ),
        receiver(
            "production",
            &[Kind::AdaPlatformIntegration],
            &[("url", known(json!("not a url")))],
        ),
    ]);
    let text = "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata:\n  id: abc\nspec:\n  oauth_callback_url: !var url\n";
    let loaded = load_source_for("ada.yaml", text, &receivers);
    let found = codes(&loaded);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        (Code::InvalidUrl, 6, 28)
    );
    assert!(
        found[0].3.ends_with("(`!var url` of target `production`)"),
        "{found:?}"
    );
    // One target's copy is wrong: neither copy is planned.
    assert!(loaded.manifests.is_empty());
}

#[test]
fn metadata_targets_is_held_to_the_configuration() {
    let receivers = receivers();
    let load =
        |metadata: &str| load_source_for("t.yaml", &truto(metadata, "    a: 1\n"), &receivers);
    let only = load("targets: [production]");
    assert!(!only.has_errors(), "{:?}", codes(&only));
    assert_eq!(
        only.manifests[0].routing.targets,
        Some(vec!["production".to_owned()])
    );
    assert!(!only.manifests[0].goes_to("sandbox", &[Kind::TrutoIntegration]));

    let typo = codes(&load("targets: [prodution]"));
    assert_eq!(typo.len(), 1, "{typo:?}");
    assert_eq!(
        (typo[0].0, typo[0].1, typo[0].2),
        (Code::UnknownTarget, 4, 13)
    );
    let other_kind = codes(&load("targets: [ada]"));
    assert_eq!(other_kind[0].0, Code::UnknownTarget, "{other_kind:?}");
    assert!(other_kind[0].3.contains("does not serve TrutoIntegration"));
    let var_in_targets = codes(&load("targets: [!var base]"));
    assert_eq!(
        var_in_targets[0].0,
        Code::VarNotAllowed,
        "{var_in_targets:?}"
    );
    let wrong_type = codes(&load("targets: sandbox"));
    assert_eq!(wrong_type[0].0, Code::WrongType, "{wrong_type:?}");
}

#[test]
fn a_manifest_no_target_receives_is_an_error() {
    let only_ada = Receivers::new(vec![receiver("ada", &[Kind::AdaPlatformIntegration], &[])]);
    let loaded = load_source_for("t.yaml", &truto("id: x", "    a: 1\n"), &only_ada);
    let found = codes(&loaded);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (Code::NoTarget, 2));
    assert!(loaded.manifests.is_empty());
}

#[test]
fn a_sensitive_var_may_not_name_an_integration() {
    let text = "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  targets: [sandbox]\nspec:\n  name: !var key\n";
    let found = codes(&load_source_for("t.yaml", text, &receivers()));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].0, found[0].1, found[0].2),
        (Code::VarNotAllowed, 6, 14)
    );
}

/// The sandbox and production copies of one integration share its name without conflict; two
/// manifests that one target receives do not.
#[test]
fn names_conflict_only_on_a_target_that_gets_both() {
    let doc = |targets: &str| {
        format!(
            "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  targets: [{targets}]\nspec:\n  name: Same\n"
        )
    };
    let duplicates = |a: &str, b: &str| {
        let text = format!("{}---\n{}", doc(a), doc(b));
        load_source_for("t.yaml", &text, &receivers())
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::DuplicateIdentity)
            .count()
    };
    assert_eq!(duplicates("sandbox", "production"), 0);
    assert_eq!(duplicates("sandbox", "sandbox, production"), 2);
}

/// Without a configuration, a `!var` has no value.
#[test]
fn unchecked_loading_refuses_vars() {
    let loaded = load_source("t.yaml", &truto("id: x", "    a: !var base\n"));
    assert_eq!(codes(&loaded)[0].0, Code::UnknownVar);
    assert!(loaded.manifests.is_empty());
}

/// A rule refusing a sensitive value does not quote it.
#[test]
fn a_refused_sensitive_value_is_not_quoted() {
    let receivers = Receivers::new(vec![receiver(
        "sandbox",
        &[Kind::AdaPlatformIntegration],
        &[(
            "url",
            VarValue::Known {
                value: json!("secret-not-a-url"),
                sensitive: true,
            },
        )],
    )]);
    let text = "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata:\n  id: abc\nspec:\n  oauth_callback_url: !var url\n";
    let loaded = load_source_for("ada.yaml", text, &receivers);
    let found = codes(&loaded);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, Code::InvalidUrl);
    let d = &loaded.diagnostics[0];
    let words = format!("{} {} {:?}", d.message, d.label, d.help);
    assert!(!words.contains("secret-not-a-url"), "{words}");
    assert!(d.message.contains("(sensitive)"), "{words}");
}
