//! Adopting a real account (issue #22): intsync's own rules that a live integration already
//! breaks can be allowed per manifest, manifests pinned by distinct ids may share a name, and a
//! manifest matched by name manages just the fields it gives.

mod common;

use std::path::Path;

use common::{Env, TOKEN, files};
use intsync_manifest::Code;
use serde_json::{Value, json};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// The document of a fixture file, as JSON (its first document).
fn fixture(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let first = text.split("\n---\n").next().unwrap();
    serde_saphyr::from_str(first).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// POSTs `spec` as a create to the emulator's Ada API; the answer's status.
fn create_status(env: &Env, spec: &Value) -> u16 {
    let body = spec.to_string();
    env.emulator
        .send(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(TOKEN),
            Some(&body),
        )
        .0
}

/// A rule the vendor enforces is never allowable, and every allowable rule is one the vendor
/// does not enforce: the emulator (as strict as Ada, never more lenient) accepts a create that
/// breaks an allowable rule and refuses one that breaks a vendor rule. Each case is the broken
/// fixture of that rule (`tests/fixtures/broken/<code>.yaml`), sent as Ada would receive it.
#[test]
fn allowable_codes_are_exactly_the_rules_the_vendor_does_not_enforce() {
    let env = Env::new(100);
    // The rules about a `spec` value that a create body can carry.
    let vendor = [
        Code::NameTooLong,
        Code::AuthorTooLong,
        Code::InvalidUrl,
        Code::InvalidTag,
        Code::EmptyString,
        Code::NullNotAllowed,
        Code::WrongType,
        Code::MissingCreateField,
    ];
    let mut checked = 0;
    for code in Code::ALL {
        let name = code.as_str().trim_start_matches("intsync::");
        let path = fixtures().join("broken").join(format!("{name}.yaml"));
        if !vendor.contains(code) && !code.allowable() {
            continue;
        }
        let document = fixture(&path);
        assert_eq!(document["kind"], "AdaPlatformIntegration", "{name}");
        let status = create_status(&env, &document["spec"]);
        if code.allowable() {
            assert_eq!(status, 200, "{code} is allowable, but Ada refuses it");
        } else {
            assert!(
                (400..500).contains(&status),
                "{code} is the vendor's rule, but the emulator accepted it ({status})"
            );
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        vendor.len() + 10,
        "every allowable code was checked"
    );
}

/// Ada's own getting-started example breaks two of intsync's rules. Allowed in its manifest,
/// they are warnings: `validate` passes, and `plan` plans it. Without the allowance it fails as
/// before; a vendor's rule in the list is refused.
#[test]
fn allowed_codes_are_warnings_and_a_vendor_rule_cannot_be_allowed() {
    let env = Env::new(100);
    let example = std::fs::read_to_string(fixtures().join("ada-getting-started.yaml")).unwrap();
    let allowed = example.replacen(
        "kind: AdaPlatformIntegration\n",
        "kind: AdaPlatformIntegration\nmetadata:\n  allow: [intsync::required_not_in_properties, intsync::identifier_not_required]\n",
        1,
    );
    assert_ne!(allowed, example);

    env.manifest("example.yaml", &allowed);
    let (code, stdout, stderr) = env.run(&["validate", "manifests", "--format", "json"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let found: Vec<(&str, &str)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            ("intsync::identifier_not_required", "warning"),
            ("intsync::required_not_in_properties", "warning"),
        ],
        "{stdout}"
    );
    assert!(stdout.contains("(allowed by `metadata.allow`)"), "{stdout}");

    let (code, stdout, stderr) = env.run(&["plan", "--format", "json", "manifests"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["summary"]["create"], 1, "{stdout}");
    assert!(
        stderr.contains("intsync::identifier_not_required"),
        "{stderr}"
    );

    // The same manifest without its allowance fails as before.
    env.manifest("example.yaml", &example);
    let (code, stdout, _) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("× `identifier_field_path`"), "{stdout}");
    let (code, _, stderr) = env.run(&["plan", "manifests"]);
    assert_eq!(code, 1, "{stderr}");

    // A vendor's rule cannot be allowed; a typo is named with a suggestion.
    env.manifest(
        "example.yaml",
        &allowed.replace(
            "allow: [",
            "allow: [intsync::name_too_long, intsync::identifer_not_required, ",
        ),
    );
    let (code, stdout, _) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("`intsync::name_too_long` cannot be allowed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("did you mean `intsync::identifier_not_required`?"),
        "{stdout}"
    );
}

/// Ada allows two integrations with one name. Manifests pinned by their distinct ids do not
/// conflict; a manifest matched by that name conflicts with both.
#[test]
fn manifests_pinned_by_distinct_ids_may_share_a_name() {
    let env = Env::new(100);
    let first = env.emulator.seed_ada("Twin", "one");
    let second = env.emulator.seed_ada("Twin", "two");
    let pinned = |id: &str, description: &str| {
        format!(
            "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata:\n  id: {id}\nspec:\n  name: Twin\n  description: {description}\n"
        )
    };
    env.manifest("twin-1.yaml", &pinned(&first, "one"));
    env.manifest("twin-2.yaml", &pinned(&second, "changed"));
    let (code, stdout, stderr) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = env.run(&["plan", "--format", "json", "manifests"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        plan["summary"],
        json!({"create": 0, "update": 1, "blocked": 0, "noop": 1, "unmanaged": 0}),
        "{stdout}"
    );

    env.manifest(
        "twin-3.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Twin\n  description: three\n",
    );
    let (code, _, stderr) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 1, "{stderr}");
    let (_, stdout, _) = env.run(&["validate", "manifests", "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let duplicates: Vec<&str> = report
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "intsync::duplicate_identity")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(
        duplicates,
        [
            "manifests/twin-1.yaml",
            "manifests/twin-2.yaml",
            "manifests/twin-3.yaml"
        ],
        "{stdout}"
    );
}

/// A manifest without `metadata.id` named like a live integration manages the fields it gives:
/// with only `description`, `validate` warns that the create fields are needed only for a
/// create, and `plan` updates that one field. Named like none, `plan` refuses to create it.
#[test]
fn a_manifest_matched_by_name_needs_only_the_fields_it_manages() {
    let env = Env::new(100);
    env.emulator.seed_ada("Known", "old");
    env.manifest(
        "known.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Known\n  description: new\n",
    );
    let (code, stdout, stderr) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("needed only if it is created"), "{stdout}");
    let (code, stdout, stderr) = env.run(&[
        "plan",
        "--format",
        "json",
        "--detailed-exitcode",
        "manifests",
    ]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(plan["actions"][0]["action"], "update", "{stdout}");
    assert_eq!(
        plan["actions"][0]["patch"],
        json!({"description": "new"}),
        "{stdout}"
    );
    let (code, _, stderr) = env.run(&["apply", "--auto-approve", "manifests"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(env.emulator.ada_live()[0]["description"], "new");

    env.manifest(
        "known.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Unknown\n  description: new\n",
    );
    let (code, _, _) = env.run(&["validate", "manifests"]);
    assert_eq!(code, 0, "validate cannot know whether it exists");
    let (code, stdout, stderr) = env.run(&["plan", "manifests"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stderr.contains("would create one, but creating needs `identifier_field_path`"),
        "{stderr}"
    );
    assert_eq!(env.emulator.ada_live().len(), 1, "nothing created");
}

/// The `(kind, metadata.id)` of every document of every file in `dir`, sorted.
fn declared(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_saphyr::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
        found.push((
            doc["kind"].as_str().unwrap().to_owned(),
            doc["metadata"]["id"].as_str().unwrap().to_owned(),
        ));
    }
    found.sort();
    found
}

/// Issue #22, as a new user meets it: an account holding Ada's getting-started example (it
/// breaks two of intsync's rules), two Ada integrations with one name, a Truto and an Ada
/// integration whose names make the same file name, and 200 ordinary ones. `export` of both
/// targets into one directory, in either order, with or without `--force`, writes one file per
/// live integration and replaces none of the other target's; then `plan` on each target says
/// "No changes" and `validate` passes.
#[test]
fn an_adopted_account_plans_no_changes_in_any_export_order() {
    let example = fixture(&fixtures().join("ada-getting-started.yaml"));
    for (first, second) in [("ada", "truto"), ("truto", "ada")] {
        for force in [false, true] {
            let env = Env::new(40); // several pages
            let mut live: Vec<(String, String)> = Vec::new();
            let mut seed = |path: &str, body: Value| {
                let kind = if path == "/integration" {
                    "TrutoIntegration"
                } else {
                    "AdaPlatformIntegration"
                };
                let created = env.emulator.call(reqwest::Method::POST, path, Some(body));
                live.push((kind.to_owned(), created["id"].as_str().unwrap().to_owned()));
            };
            let ada = "/api/v2/platform-integrations/";
            seed(ada, example["spec"].clone());
            seed(ada, common::ada_spec("Twin", "one"));
            seed(ada, common::ada_spec("Twin", "two"));
            seed(ada, common::ada_spec("cool-shop", "Ada's"));
            seed("/integration", json!({"name": "Cool Shop"}));
            for i in 0..100 {
                seed(ada, common::ada_spec(&format!("Ordinary {i}"), "d"));
                seed(
                    "/integration",
                    json!({"name": format!("ordinary_{i}"), "category": "crm"}),
                );
            }
            live.sort();
            assert_eq!(live.len(), 205);

            let case = format!("{first} then {second}, force={force}");
            let export = |target: &str| {
                let mut args = vec!["export", "--target", target, "--dir", "manifests"];
                if force {
                    args.push("--force");
                }
                let (code, stdout, stderr) = env.run(&args);
                assert_eq!(code, 0, "{case}: export {target}: {stdout}{stderr}");
                stderr
            };
            let dir = env.dir.path().join("manifests");
            export(first);
            let before = files(&dir);
            export(second);
            let after = files(&dir);
            for (name, bytes) in &before {
                assert_eq!(after.get(name), Some(bytes), "{case}: {name} was replaced");
            }
            assert_eq!(
                declared(&dir),
                live,
                "{case}: one file per live integration"
            );

            for target in ["ada", "truto"] {
                let (code, stdout, stderr) = env.run(&[
                    "plan",
                    "--target",
                    target,
                    "--detailed-exitcode",
                    "manifests",
                ]);
                assert_eq!(code, 0, "{case}: plan {target}: {stdout}{stderr}");
                assert!(stdout.contains("No changes"), "{case}: {stdout}");
            }
            let (code, stdout, stderr) = env.run(&["validate", "manifests"]);
            assert_eq!(code, 0, "{case}: {stdout}{stderr}");

            // Exporting again, either target, changes nothing.
            for target in [first, second] {
                let stderr = export(target);
                assert!(stderr.contains(" 0 written"), "{case}: {stderr}");
            }
            assert_eq!(files(&dir), after, "{case}");
        }
    }
}
