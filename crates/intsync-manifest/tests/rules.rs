//! One broken manifest per rule (`tests/fixtures/broken/<code>.yaml` at the workspace root), each
//! snapshot-tested in both the human and the JSON rendering.

use std::path::{Path, PathBuf};

use intsync_manifest::{
    Code, Kind, Loaded, Receiver, Receivers, VarValue, load_source, load_source_for, render,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn load_fixture(path: &Path) -> Loaded {
    let text = std::fs::read_to_string(path).expect("fixture is readable");
    let name = path.file_name().unwrap().to_string_lossy();
    load_source_for(format!("broken/{name}"), &text, &receivers())
}

/// The targets the fixtures are read for: `sandbox` serves both kinds and has vars (`key`
/// sensitive, `unset` read from a variable that is not set); `production` serves Ada only.
fn receivers() -> Receivers {
    let vars = [
        (
            "callback",
            VarValue::Known {
                value: "https://sandbox.example.com/oauth/callback".into(),
                sensitive: false,
            },
        ),
        (
            "key",
            VarValue::Known {
                value: "s3cret-value".into(),
                sensitive: true,
            },
        ),
        (
            "unset",
            VarValue::Missing {
                reason: "the environment variable INTSYNC_VAR_UNSET is not set".to_owned(),
                env: "INTSYNC_VAR_UNSET".to_owned(),
            },
        ),
    ];
    Receivers::new(vec![
        Receiver {
            name: "sandbox".to_owned(),
            kinds: Kind::ALL.to_vec(),
            vars: vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        },
        Receiver {
            name: "production".to_owned(),
            kinds: vec![Kind::AdaPlatformIntegration],
            vars: Default::default(),
        },
    ])
}

const STYLE: render::HumanStyle = render::HumanStyle {
    color: false,
    width: 100,
};

#[test]
fn every_rule_snapshot() {
    insta::glob!("../../../tests/fixtures/broken", "*.yaml", |path| {
        let loaded = load_fixture(path);
        assert!(
            !loaded.diagnostics.is_empty(),
            "{} produced no diagnostic",
            path.display()
        );
        insta::assert_snapshot!("human", render::human(&loaded.diagnostics, STYLE));
        insta::assert_snapshot!("json", render::json(&loaded.diagnostics));
    });
}

/// Codes that need a file on disk (they are about reading files) are tested in `guards.rs`.
const FILE_LEVEL: &[Code] = &[
    Code::Io,
    Code::NoManifests,
    Code::FileTooLarge,
    Code::NotUtf8,
];

#[test]
fn every_code_has_a_fixture_that_produces_it() {
    for code in Code::ALL {
        if FILE_LEVEL.contains(code) {
            continue;
        }
        let name = code.as_str().trim_start_matches("intsync::");
        let path = fixtures().join("broken").join(format!("{name}.yaml"));
        assert!(
            path.exists(),
            "no fixture for {code}: add {}",
            path.display()
        );
        let loaded = load_fixture(&path);
        assert!(
            loaded.diagnostics.iter().any(|d| d.code == *code),
            "{} does not produce {code}: {:#?}",
            path.display(),
            loaded
                .diagnostics
                .iter()
                .map(|d| d.code)
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_code_is_documented() {
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/validation.md"),
    )
    .expect("docs/validation.md exists");
    for code in Code::ALL {
        assert!(
            doc.contains(&format!("`{}`", code.as_str())),
            "docs/validation.md does not describe {code}"
        );
    }
}

/// Ada's own getting-started example fails both form checks, each at its own line.
#[test]
fn ada_getting_started_example_is_rejected_twice() {
    let path = fixtures().join("ada-getting-started.yaml");
    let loaded = load_source(
        "ada-getting-started.yaml",
        &std::fs::read_to_string(path).unwrap(),
    );
    let found: Vec<(Code, u32, u32)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code, d.span.line, d.span.column))
        .collect();
    assert_eq!(
        found,
        vec![
            (Code::IdentifierNotRequired, 11, 26),
            (Code::RequiredNotInProperties, 26, 20)
        ],
    );
    assert!(loaded.manifests.is_empty());
}

#[test]
fn example_manifests_are_valid_without_warnings() {
    let loaded = intsync_manifest::load(&[fixtures().join("../../manifests")]);
    let messages: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.location(), d.message))
        .collect();
    assert!(messages.is_empty(), "{messages:#?}");
    assert_eq!(loaded.manifests.len(), 4);
    let ada = loaded
        .manifests
        .iter()
        .filter(|m| m.kind == Kind::AdaPlatformIntegration)
        .count();
    assert_eq!(ada, 3);
}

/// Warnings alone leave the run successful, and the manifest is still produced.
#[test]
fn warnings_do_not_fail() {
    let loaded = load_fixture(&fixtures().join("broken/unknown_scope.yaml"));
    assert!(!loaded.has_errors());
    assert_eq!(loaded.warning_count(), 2);
    assert_eq!(loaded.manifests.len(), 1);
}

/// A partial manifest pinned by id manages only its fields; explicit nulls are kept (they clear).
#[test]
fn partial_manifest_with_id_and_nulls() {
    let loaded = load_source(
        "partial.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata: {id: abc}\nspec:\n  description: New text\n  icon_url: null\n",
    );
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let manifest = &loaded.manifests[0];
    assert_eq!(manifest.id.as_deref(), Some("abc"));
    assert_eq!(
        serde_json::Value::Object(manifest.spec.to_map()),
        serde_json::json!({"description": "New text", "icon_url": null})
    );
    assert_eq!(manifest.origin.line, 1);
}

#[test]
fn documents_in_one_file_are_numbered() {
    let text = "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec: {name: a}\n---\napiVersion: intsync/v1\nkind: TrutoIntegration\nspec: {name: b}\n";
    let loaded = load_source("two.yaml", text);
    assert!(loaded.diagnostics.is_empty());
    let origins: Vec<(usize, u32)> = loaded
        .manifests
        .iter()
        .map(|m| (m.origin.document, m.origin.line))
        .collect();
    assert_eq!(origins, vec![(0, 1), (1, 5)]);
}
