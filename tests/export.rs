//! `intsync export`: live integrations → manifests, and `plan` on them shows no change.

mod common;

use common::{Env, Workdir, file_names, files};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The `(kind, name)` of every file in `dir`, each parsed as a manifest, sorted (a name two
/// files hold shows twice).
fn exported(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut found: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let doc: Value = serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: {e}\n{text}", path.display()));
            let name = &doc["spec"]["name"];
            (
                doc["kind"].as_str().unwrap_or("(no kind)").to_owned(),
                name.as_str()
                    .map_or_else(|| name.to_string(), str::to_owned),
            )
        })
        .collect();
    found.sort();
    found
}

/// The `(kind, name)` of every live integration `target` serves, sorted.
fn live(env: &Env, target: &str) -> Vec<(String, String)> {
    let (kind, items) = match target {
        "ada" => ("AdaPlatformIntegration", env.emulator.ada_live()),
        _ => ("TrutoIntegration", env.emulator.truto_live()),
    };
    let mut live: Vec<(String, String)> = items
        .iter()
        .map(|i| (kind.to_owned(), i["name"].as_str().unwrap().to_owned()))
        .collect();
    live.sort();
    live
}

fn ada(name: &str) -> Value {
    json!({
        "name": name, "description": "Sync: articles # not a comment", "author": "Zoë Ünïcode ✓",
        "contact": "help@example.com", "identifier_field_path": "account.name",
        "uninstallation_url": "https://example.com/u", "oauth_callback_url": "https://example.com/c",
        "tags": ["knowledge"], "scopes": ["articles:read", "knowledge_sources:write"],
        "configuration_fields": {"type": "object", "required": ["account"], "properties": {"account": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "title": "yes", "default": "1.0"},
                "region": {"type": "string", "enum": ["us", "eu"], "examples": [[1, 2], {"a": null}]},
                "secret": {"type": "string", "format": "password", "minLength": 8}
            }}}},
        "icon_url": null, "error_codes": {"error_403": "Forbidden:\nyou lack access"}
    })
}

#[test]
fn export_then_plan_shows_no_changes_and_a_second_export_changes_nothing() {
    let env = Env::new(2);
    for name in ["Cool Shop", "Cool Shop!", "Ünïcode Hub", "- dash"] {
        env.emulator.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada(name)),
        );
    }
    // Seeded: Truto's create does not take `sharing`.
    env.emulator.seed_truto_owned(
        "own",
        json!({"name": "crm", "config": {"base_url": "https://x", "n": 1.5, "list": [], "o": {}, "t": "{{id}}"}, "is_beta": true, "sharing": "ask"}),
    );
    env.emulator.seed_truto(json!({"name": "bare"}));

    for target in ["ada", "truto"] {
        let (code, _, stderr) = env.run(&[
            "export",
            "--target",
            target,
            "--dir",
            &format!("exported-{target}"),
        ]);
        assert_eq!(code, 0, "{stderr}");
        assert!(!stderr.contains("warning:"), "{stderr}");
        // One file per live integration, each with its own: `plan` cannot see a dropped one
        // (an unmanaged integration is no change).
        assert_eq!(
            exported(&env.dir.path().join(format!("exported-{target}"))),
            live(&env, target),
            "{target}"
        );
        let (code, stdout, stderr) = env.run(&[
            "plan",
            "--target",
            target,
            "--detailed-exitcode",
            &format!("exported-{target}"),
        ]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
    let dir = env.dir.path().join("exported-ada");
    let names = file_names(&dir);
    assert_eq!(names.len(), 4);
    assert!(names.contains(&"cool-shop.yaml".to_owned()), "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("cool-shop-") && n != "cool-shop.yaml"),
        "collision disambiguated: {names:?}"
    );
    let text = std::fs::read_to_string(dir.join("cool-shop.yaml")).unwrap();
    assert!(
        text.starts_with(
            "# yaml-language-server: $schema=../schemas/intsync-manifest.schema.json\n"
        ),
        "{text}"
    );
    assert!(text.contains("\nmetadata:\n  id: "), "{text}");
    assert!(
        !text.contains("status:") && !text.contains("created:"),
        "no server-managed fields: {text}"
    );
    assert!(
        text.contains("  configuration_fields:\n    type: object\n"),
        "block YAML: {text}"
    );
    let order: Vec<usize> = [
        "identifier_field_path:",
        "  name:",
        "description:",
        "configuration_fields:",
        "icon_url:",
    ]
    .iter()
    .map(|k| text.find(k).unwrap())
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "the API's field order: {text}"
    );

    // A second export into the same directory changes no file.
    let before: Vec<(String, std::time::SystemTime)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().modified().unwrap(),
            )
        })
        .collect();
    let (code, _, stderr) = env.run(&["export", "--target", "ada", "--dir", "exported-ada"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("0 written, 4 unchanged"), "{stderr}");
    for (name, modified) in before {
        assert_eq!(
            std::fs::metadata(dir.join(&name))
                .unwrap()
                .modified()
                .unwrap(),
            modified,
            "{name} was rewritten"
        );
    }
}

/// Names that differ only in what the file-name slug drops (punctuation, case) go to files of
/// their own, each with its own name: none overwrites another.
#[test]
fn names_that_slug_alike_are_exported_to_files_of_their_own() {
    let env = Env::new(2); // several pages
    let names = [
        "Cool Shop!",
        "Cool Shop?",
        "cool shop",
        "COOL-SHOP",
        "a/b",
        "a b",
        "A_B",
        "✓✓",
        "✗",
    ];
    for name in names {
        env.emulator.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada(name)),
        );
        env.emulator.seed_truto(json!({"name": name}));
    }
    for target in ["ada", "truto"] {
        let dir = format!("out-{target}");
        let (code, _, stderr) = env.run(&["export", "--target", target, "--dir", &dir]);
        assert_eq!(code, 0, "{stderr}");
        let files = exported(&env.dir.path().join(&dir));
        assert_eq!(files.len(), names.len(), "{target}: {files:?}");
        assert_eq!(files, live(&env, target), "{target}");
        let (code, stdout, stderr) =
            env.run(&["plan", "--target", target, "--detailed-exitcode", &dir]);
        assert_eq!(code, 0, "{target}: {stdout}{stderr}");
    }
}

#[test]
fn export_refuses_to_overwrite_edited_files_unless_forced() {
    let env = Env::new(100);
    env.emulator.call(
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        Some(ada("A")),
    );
    env.emulator.call(
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        Some(ada("B")),
    );
    let (code, _, _) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 0);
    let a = env.dir.path().join("out/a.yaml");
    let edited = std::fs::read_to_string(&a)
        .unwrap()
        .replace("name: A\n", "name: A  # my edits\n");
    std::fs::write(&a, &edited).unwrap();
    std::fs::remove_file(env.dir.path().join("out/b.yaml")).unwrap();
    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("out/a.yaml") && stderr.contains("--force"),
        "{stderr}"
    );
    assert!(stderr.contains("error: 1 file of "), "{stderr}");
    assert!(stderr.contains(" exists with other content"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), edited);
    assert!(
        !env.dir.path().join("out/b.yaml").exists(),
        "a refusal writes nothing"
    );
    let (code, _, stderr) = env.run(&["export", "--dir", "out", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(&a).unwrap();
    assert!(
        text.contains("name: A") && !text.contains("my edits"),
        "{text}"
    );
}

/// The live `id` of the integration of `target` named `name`.
fn live_id(env: &Env, target: &str, name: &str) -> String {
    let items = if target == "ada" {
        env.emulator.ada_live()
    } else {
        env.emulator.truto_live()
    };
    items
        .iter()
        .find(|i| i["name"] == name)
        .unwrap_or_else(|| panic!("{target}: no {name}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Issue #22: a Truto and an Ada integration whose names slug alike, exported into one
/// directory one target after the other, in both orders, with and without `--force`: each
/// gets a file of its own, the other target's files stay byte for byte, exporting again
/// writes nothing, and `plan` of each target shows no change.
#[test]
fn exports_of_two_targets_into_one_directory_replace_no_file_of_the_other() {
    let env = Env::new(100);
    env.emulator.call(
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        Some(ada("Cool Shop")),
    );
    for name in ["cool-shop", "Cool Shop?"] {
        env.emulator.seed_truto(json!({"name": name}));
    }
    let mut want = live(&env, "ada");
    want.extend(live(&env, "truto"));
    want.sort();
    for (first, second) in [("ada", "truto"), ("truto", "ada")] {
        for force in [false, true] {
            let dir = format!("m-{first}-{force}");
            let export = |target: &str| {
                let mut args = vec!["export", "--target", target, "--dir", &dir];
                if force {
                    args.push("--force");
                }
                env.run(&args)
            };
            let (code, _, stderr) = export(first);
            assert_eq!(code, 0, "{dir}: {stderr}");
            let before = files(&env.dir.path().join(&dir));
            let (code, _, stderr) = export(second);
            assert_eq!(code, 0, "{dir}: {stderr}");
            let after = files(&env.dir.path().join(&dir));
            for (name, bytes) in &before {
                assert!(
                    after.get(name) == Some(bytes),
                    "{dir}: {second} replaced {name}: {stderr}\n{}",
                    String::from_utf8_lossy(after.get(name).map_or(&[][..], |b| b))
                );
            }
            assert_eq!(exported(&env.dir.path().join(&dir)), want, "{dir}");
            for target in [first, second] {
                let (code, _, stderr) = export(target);
                assert_eq!(code, 0, "{dir}: {stderr}");
                assert!(
                    stderr.contains(": 0 written, "),
                    "{dir}: {target}: {stderr}"
                );
                let (code, stdout, stderr) =
                    env.run(&["plan", "--target", target, "--detailed-exitcode", &dir]);
                assert_eq!(code, 0, "{dir}: {target}: {stdout}{stderr}");
            }
            assert_eq!(files(&env.dir.path().join(&dir)), after, "{dir}");
        }
    }
}

/// An exported file the user renamed is still that integration's file: exporting again writes
/// no second one. What sits at an integration's slug and is not its manifest (a manifest of an
/// integration not yet created, YAML of another tool, comments only, invalid UTF-8) is left
/// byte for byte, with and without `--force`, and the integration goes to the suffixed name.
#[test]
fn a_renamed_export_is_reused_and_what_is_not_the_integrations_manifest_is_left_alone() {
    let env = Env::new(100);
    for name in ["A", "B", "C", "D", "E"] {
        env.emulator.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada(name)),
        );
    }
    let out = env.dir.path().join("out");
    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    std::fs::rename(out.join("a.yaml"), out.join("renamed by me.yml")).unwrap();
    let foreign: [(&str, &[u8]); 4] = [
        (
            "b.yaml",
            b"apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Planned\n",
        ),
        ("c.yaml", b"tool: other\nsettings: [1, 2]\n"),
        ("d.yaml", b"# notes, nothing else\n"),
        ("e.yaml", b"name: \xff\xfe\n"),
    ];
    for (name, bytes) in foreign {
        std::fs::write(out.join(name), bytes).unwrap();
    }
    for force in [false, true] {
        let mut args = vec!["export", "--dir", "out"];
        if force {
            args.push("--force");
        }
        let (code, _, stderr) = env.run(&args);
        assert_eq!(code, 0, "--force {force}: {stderr}");
        assert!(
            stderr.contains(if force {
                ": 0 written, 5 unchanged."
            } else {
                ": 4 written, 1 unchanged."
            }),
            "{stderr}"
        );
        assert!(!out.join("a.yaml").exists(), "a second file for A");
        for (name, bytes) in foreign {
            assert_eq!(std::fs::read(out.join(name)).unwrap(), bytes, "{name}");
        }
        for name in ["B", "C", "D", "E"] {
            let id = live_id(&env, "ada", name);
            let file = out.join(format!("{}-{}.yaml", name.to_lowercase(), &id[..8]));
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}\n{stderr}", file.display()));
            assert!(text.contains(&format!("name: {name}\n")), "{text}");
        }
        assert_eq!(files(&out).len(), 9, "{:?}", files(&out).keys());
    }
}

/// `--force` replaces files of the integrations being exported (an edited export, a
/// hand-written manifest that names the integration), and never a file of another one.
#[test]
fn force_replaces_edited_files_of_the_same_integrations_only() {
    let env = Env::new(100);
    for name in ["A", "B", "C"] {
        env.emulator.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada(name)),
        );
    }
    let out = env.dir.path().join("out");
    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let a = out.join("a.yaml");
    let exported_a = std::fs::read_to_string(&a).unwrap();
    let edited_a = exported_a.replace("Sync: articles # not a comment", "my edit");
    assert_ne!(edited_a, exported_a);
    std::fs::write(&a, &edited_a).unwrap();
    // b.yaml now describes another integration: one that is not live (another account's).
    let b = out.join("b.yaml");
    let b_id = live_id(&env, "ada", "B");
    let other_b = std::fs::read_to_string(&b)
        .unwrap()
        .replace(&b_id, "0123456789abcdef01234567");
    assert_ne!(other_b, std::fs::read_to_string(&b).unwrap());
    std::fs::write(&b, &other_b).unwrap();
    // C is managed by name, from a file written by hand.
    std::fs::remove_file(out.join("c.yaml")).unwrap();
    let by_name = out.join("c by name.yaml");
    let hand_written = "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: C\n  contact: me@example.com\n";
    std::fs::write(&by_name, hand_written).unwrap();
    let before = files(&out);

    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("error: 2 files of "), "{stderr}");
    assert!(stderr.contains(" exist with other content"), "{stderr}");
    assert!(
        stderr.contains("out/a.yaml") && stderr.contains("out/c by name.yaml"),
        "{stderr}"
    );
    assert!(!stderr.contains("out/b.yaml\n"), "{stderr}");
    assert!(
        stderr.contains("--force replaces only files of the integrations being exported"),
        "{stderr}"
    );
    assert_eq!(files(&out), before, "a refusal writes nothing");

    let (code, _, stderr) = env.run(&["export", "--dir", "out", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(&a).unwrap(), exported_a);
    assert_eq!(
        std::fs::read_to_string(&b).unwrap(),
        other_b,
        "another integration's file"
    );
    let c = std::fs::read_to_string(&by_name).unwrap();
    assert!(
        c.contains(&format!("id: {}", live_id(&env, "ada", "C"))) && c.contains("name: C\n"),
        "{c}"
    );
    assert!(!out.join("c.yaml").exists(), "a second file for C");
    let b_file = out.join(format!("b-{}.yaml", &b_id[..8]));
    assert!(
        std::fs::read_to_string(&b_file)
            .unwrap()
            .contains("name: B\n"),
        "{stderr}"
    );
    assert!(stderr.contains(": 3 written, 0 unchanged."), "{stderr}");
    assert_eq!(files(&out).len(), 4, "{:?}", files(&out).keys());
}

/// An integration declared in a file of several manifests is not exported again (a second
/// file would claim it twice); export says where it is, and counts it.
#[test]
fn an_integration_declared_in_a_file_of_several_manifests_is_not_exported_again() {
    let env = Env::new(100);
    for name in ["A", "B"] {
        env.emulator.call(
            reqwest::Method::POST,
            "/api/v2/platform-integrations/",
            Some(ada(name)),
        );
    }
    let out = env.dir.path().join("out");
    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    let both = format!(
        "{}---\n{}",
        std::fs::read_to_string(out.join("a.yaml")).unwrap(),
        std::fs::read_to_string(out.join("b.yaml")).unwrap()
    );
    std::fs::remove_file(out.join("a.yaml")).unwrap();
    std::fs::remove_file(out.join("b.yaml")).unwrap();
    std::fs::write(out.join("all.yaml"), &both).unwrap();
    let (code, _, stderr) = env.run(&["export", "--dir", "out", "--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(files(&out).len(), 1, "{:?}", files(&out).keys());
    assert_eq!(std::fs::read_to_string(out.join("all.yaml")).unwrap(), both);
    assert!(
        stderr.contains(
            "AdaPlatformIntegration `A` is already in `out/all.yaml`; not exported again"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(": 0 written, 0 unchanged, 2 not exported again (already declared)."),
        "{stderr}"
    );
    let (code, stdout, stderr) = env.run(&["plan", "--detailed-exitcode", "out"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}

/// A live integration that breaks one of intsync's own rules is exported with an allowance for
/// it (issue #22): the manifest validates, with the problem as a warning, and plans no change.
#[test]
fn live_integrations_that_break_intsync_rules_are_exported_with_an_allowance() {
    let env = Env::new(100);
    let mut broken = ada("Getting Started");
    broken["configuration_fields"]["properties"]["account"]["required"] = json!(["helpCenterUrl"]);
    env.emulator.call(
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        Some(broken),
    );
    env.emulator.call(
        reqwest::Method::POST,
        "/api/v2/platform-integrations/",
        Some(ada("Clean")),
    );
    let (code, _, stderr) = env.run(&["export", "--dir", "out"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("intsync::required_not_in_properties"),
        "{stderr}"
    );
    assert!(
        stderr.contains("note: 1 manifest allows rules of intsync's own")
            && stderr.contains("`out/getting-started.yaml`"),
        "{stderr}"
    );
    assert!(!stderr.contains("fix the manifests"), "{stderr}");
    let text = std::fs::read_to_string(env.dir.path().join("out/getting-started.yaml")).unwrap();
    assert!(
        text.contains(
            "\n  allow: [intsync::required_not_in_properties, intsync::identifier_not_required]\n"
        ),
        "{text}"
    );
    let clean = std::fs::read_to_string(env.dir.path().join("out/clean.yaml")).unwrap();
    assert!(!clean.contains("allow"), "{clean}");

    let (code, stdout, stderr) = env.run(&["validate", "out"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("(allowed by `metadata.allow`)"), "{stdout}");
    let (code, stdout, stderr) = env.run(&["plan", "--detailed-exitcode", "out"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("No changes"), "{stdout}");
}

/// Characters YAML forbids unescaped (and their neighbours): random `char`s rarely hit them.
const AWKWARD: [char; 16] = [
    '\u{0}',
    '\u{1b}',
    '\u{7f}',
    '\u{80}',
    '\u{85}',
    '\u{9f}',
    '\u{a0}',
    '\u{2028}',
    '\u{feff}',
    '\u{fffe}',
    '\u{ffff}',
    '\u{10ffff}',
    '"',
    '\\',
    '\t',
    'x',
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9 _.-]{0,20}",
        "\\PC{1,16}",
        // All of Unicode, and the characters YAML forbids unescaped.
        prop::collection::vec(any::<char>(), 1..12).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec(prop::sample::select(AWKWARD.to_vec()), 1..8)
            .prop_map(|c| c.into_iter().collect()),
        prop::sample::select(vec![
            "yes",
            "no",
            "on",
            "null",
            "~",
            "1.0",
            "0x10",
            "-",
            "- x",
            "a: b",
            "#x",
            "x #y",
            "'q'",
            "\"dq\"",
            "{}",
            "[]",
            "multi\nline",
            " lead",
            "trail "
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1_000_000i64..1_000_000).prop_map(|n| json!(n)),
        (-1.0e6f64..1.0e6).prop_map(|f| json!(f)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(text(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn nonempty_text() -> impl Strategy<Value = String> {
    text().prop_filter("the APIs need at least one character", |s| !s.is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    /// Export then plan shows no changes, for random integrations of both vendors.
    #[test]
    fn export_round_trips_random_integrations(
        ada_names in prop::collection::btree_set(nonempty_text().prop_filter("160 at most", |s| s.chars().count() <= 160), 1..4),
        truto_names in prop::collection::btree_set(nonempty_text(), 1..4),
        extra in json_value(),
        error_codes in prop::option::of(prop::collection::btree_map(text(), text(), 0..3)),
        config in prop::collection::btree_map(text(), json_value(), 0..4),
        beta in any::<bool>(),
        description in nonempty_text(),
    ) {
        let dir = Workdir::new();
        let emulator = intsync_emulator::local(&dir.path().join(".intsync/local-state.json")).unwrap();
        let token = emulator.token().to_owned();
        for name in &ada_names {
            let mut body = ada(name);
            body["description"] = json!(description);
            body["configuration_fields"]["properties"]["account"]["properties"]["extra"] = json!({"type": "object", "default": extra});
            body["error_codes"] = match &error_codes { Some(m) => json!(m), None => Value::Null };
            let r = emulator.call(intsync_emulator::Request::new(http::Method::POST, "/api/v2/platform-integrations/").bearer(&token).json(&body)).unwrap();
            prop_assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        }
        for name in &truto_names {
            let body = json!({"name": name, "config": config, "is_beta": beta, "category": description});
            let r = emulator.call(intsync_emulator::Request::new(http::Method::POST, "/integration").bearer(&token).json(&body)).unwrap();
            prop_assert_eq!(r.status, 201);
        }
        emulator.checkpoint().unwrap();
        drop(emulator);
        let (code, _, stderr) = dir.run(&["export", "--dir", "out"]);
        prop_assert_eq!(code, 0, "{}", stderr);
        prop_assert!(!stderr.contains("warning:"), "{}", stderr);
        // One file per integration, each with its own name, whatever the names slug to.
        let mut want: Vec<(String, String)> = ada_names
            .iter()
            .map(|n| ("AdaPlatformIntegration".to_owned(), n.clone()))
            .chain(truto_names.iter().map(|n| ("TrutoIntegration".to_owned(), n.clone())))
            .collect();
        want.sort();
        prop_assert_eq!(exported(&dir.path().join("out")), want);
        let (code, stdout, stderr) = dir.run(&["plan", "--detailed-exitcode", "out"]);
        prop_assert_eq!(code, 0, "{}{}", stdout, stderr);
    }
}
