//! End-to-end tests of `intsync validate` and `intsync schema`: the real binary, its exit code,
//! stdout and stderr.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::output;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary in the repository's root (its examples and fixtures), without `NO_COLOR`.
fn intsync() -> Command {
    let mut cmd = common::intsync(&root());
    cmd.env_remove("NO_COLOR");
    cmd
}

fn json_diagnostics(args: &[&str]) -> (i32, Vec<serde_json::Value>) {
    let (code, stdout, stderr) =
        output(intsync().args(["validate", "--format", "json"]).args(args));
    let list: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON array ({e}): {stdout}{stderr}"));
    (code, list.as_array().unwrap().clone())
}

#[test]
fn example_manifests_are_valid() {
    let (code, stdout, stderr) = output(intsync().arg("validate"));
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("4 valid manifests in 4 files, no problems"),
        "{stderr}"
    );
}

#[test]
fn broken_directory_reports_every_file_and_exits_1() {
    let (code, list) = json_diagnostics(&["tests/fixtures/broken"]);
    assert_eq!(code, 1);
    let fixtures: Vec<String> = std::fs::read_dir(root().join("tests/fixtures/broken"))
        .unwrap()
        .map(|e| {
            format!(
                "tests/fixtures/broken/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    for fixture in &fixtures {
        assert!(
            list.iter().any(|d| d["file"] == fixture.as_str()),
            "nothing reported for {fixture}"
        );
    }
    for d in &list {
        let keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["file", "line", "column", "severity", "code", "message"]
        );
    }
    // Spot checks of exact positions.
    let at = |file: &str, code: &str| -> Vec<(u64, u64)> {
        list.iter()
            .filter(|d| d["file"] == format!("tests/fixtures/broken/{file}") && d["code"] == code)
            .map(|d| (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(
        at("invalid_url.yaml", "intsync::invalid_url"),
        vec![(9, 23), (10, 23), (13, 13)]
    );
    assert_eq!(
        at("duplicate_key.yaml", "intsync::duplicate_key"),
        vec![(7, 3)]
    );
    assert_eq!(at("yaml_syntax.yaml", "intsync::yaml_syntax"), vec![(5, 9)]);
}

#[test]
fn ada_getting_started_example_is_rejected_with_both_problems() {
    let (code, list) = json_diagnostics(&["tests/fixtures/ada-getting-started.yaml"]);
    assert_eq!(code, 1);
    let found: Vec<(String, u64)> = list
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        found,
        vec![
            ("intsync::identifier_not_required".to_owned(), 11),
            ("intsync::required_not_in_properties".to_owned(), 26)
        ]
    );
}

#[test]
fn warnings_alone_exit_0() {
    let (code, list) = json_diagnostics(&["tests/fixtures/broken/unknown_scope.yaml"]);
    assert_eq!(code, 0);
    assert!(list.iter().all(|d| d["severity"] == "warning"));
    assert_eq!(list.len(), 2);
}

#[test]
fn github_format_annotates() {
    let (code, stdout, _) = output(intsync().args([
        "validate",
        "--format",
        "github",
        "tests/fixtures/broken/invalid_tag.yaml",
        "tests/fixtures/broken/unknown_scope.yaml",
    ]));
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].starts_with("::error file=tests/fixtures/broken/invalid_tag.yaml,line=11,col=10::intsync::invalid_tag: unknown tag `knowlege`%0Ahelp: did you mean `knowledge`?"), "{}", lines[0]);
    assert!(lines[2].starts_with("::warning file=tests/fixtures/broken/unknown_scope.yaml,line=12,col=27::intsync::unknown_scope"), "{}", lines[2]);
}

#[test]
fn human_format_has_no_colour_off_a_terminal_or_under_no_color() {
    for no_color in [false, true] {
        let mut cmd = intsync();
        if no_color {
            cmd.env("NO_COLOR", "1");
        }
        let (code, stdout, stderr) =
            output(cmd.args(["validate", "tests/fixtures/broken/name_too_long.yaml"]));
        assert_eq!(code, 1);
        assert!(!stdout.contains('\u{1b}'), "escape codes in: {stdout}");
        assert!(
            stdout.contains("× `name` is 168 characters long; the limit is 160"),
            "{stdout}"
        );
        assert!(
            stdout.contains("tests/fixtures/broken/name_too_long.yaml:4:9"),
            "{stdout}"
        );
        assert!(
            stderr.contains("validate: 1 error, 0 warnings in 1 file"),
            "{stderr}"
        );
    }
}

#[test]
fn missing_path_is_a_clear_error() {
    let (code, list) = json_diagnostics(&["does/not/exist"]);
    assert_eq!(code, 1);
    assert_eq!(list[0]["code"], "intsync::io");
    assert!(
        list[0]["message"]
            .as_str()
            .unwrap()
            .contains("does/not/exist")
    );
}

#[test]
fn schema_command_matches_the_committed_copy() {
    let (code, stdout, _) = output(intsync().arg("schema"));
    assert_eq!(code, 0);
    let committed =
        std::fs::read_to_string(root().join("schemas/intsync-manifest.schema.json")).unwrap();
    assert_eq!(
        stdout, committed,
        "schemas/intsync-manifest.schema.json is stale: run `cargo run -- schema > schemas/intsync-manifest.schema.json`"
    );
}

fn yaml_documents(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    let loaded = intsync_manifest::load_source(path, &text);
    assert!(!loaded.has_errors(), "{}", path.display());
    loaded
        .manifests
        .iter()
        .map(|m| {
            let mut doc = serde_json::json!({"apiVersion": "intsync/v1", "kind": m.kind.as_str(), "spec": m.spec});
            if let Some(id) = &m.id {
                doc["metadata"] = serde_json::json!({ "id": id });
            }
            doc
        })
        .collect()
}

/// The editor schema accepts the examples, each of which points at it in its header, and
/// catches what editors should catch.
#[test]
fn examples_carry_the_schema_header_and_validate_against_it() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schemas/intsync-manifest.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for entry in std::fs::read_dir(root().join("manifests")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with(
                "# yaml-language-server: $schema=../schemas/intsync-manifest.schema.json\n"
            ),
            "{} lacks the schema header",
            path.display()
        );
        for doc in yaml_documents(&path) {
            let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "{}: {errors:?}", path.display());
        }
    }
    let bad = serde_json::json!({"apiVersion": "intsync/v1", "kind": "TrutoIntegration", "spec": {"name": "x", "sharing": "allwo"}});
    assert!(!validator.is_valid(&bad));
    let unknown = serde_json::json!({"apiVersion": "intsync/v1", "kind": "TrutoIntegration", "spec": {"nmae": "x"}});
    assert!(!validator.is_valid(&unknown));
}
