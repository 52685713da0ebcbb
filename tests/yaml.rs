//! How the real binary reads YAML values (issue #21): YAML 1.2 core scalars, inputs YAML
//! forbids, and values JSON cannot spell. `intsync validate` and `intsync plan --format json` on
//! the built-in `local` target, in a directory of their own (no `intsync.toml`).

mod common;

use common::Workdir;
use serde_json::Value;

struct Dir(Workdir);

/// One diagnostic of `validate --format json`.
#[derive(Debug, PartialEq)]
struct Found {
    file: String,
    line: u64,
    column: u64,
    code: String,
    message: String,
}

impl Dir {
    fn with(files: &[(&str, &str)]) -> Dir {
        let dir = Workdir::new();
        for (name, text) in files {
            dir.manifest(name, text);
        }
        Dir(dir)
    }

    /// `validate --format json`: the exit code and every diagnostic.
    fn diagnostics(&self) -> (i32, Vec<Found>) {
        let (code, stdout, stderr) = self.0.run(&["validate", "--format", "json"]);
        let list: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout}\nstderr: {stderr}"));
        let found = list
            .as_array()
            .unwrap()
            .iter()
            .map(|d| Found {
                file: d["file"].as_str().unwrap().to_owned(),
                line: d["line"].as_u64().unwrap(),
                column: d["column"].as_u64().unwrap(),
                code: d["code"].as_str().unwrap().to_owned(),
                message: d["message"].as_str().unwrap().to_owned(),
            })
            .collect();
        (code, found)
    }

    /// `plan --format json` on the `local` target: stdout as text (to look at numbers as
    /// written) and as JSON.
    fn plan(&self) -> (String, Value) {
        let (code, stdout, stderr) = self
            .0
            .run(&["plan", "--format", "json", "--target", "local"]);
        assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
        let plan = serde_json::from_str(&stdout).unwrap();
        (stdout, plan)
    }
}

fn truto(config: &str) -> String {
    format!(
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nspec:\n  name: crm\n  config:\n{config}"
    )
}

/// The create body of the plan's only action.
fn create_body(plan: &Value) -> &Value {
    let actions = plan["actions"].as_array().unwrap();
    assert_eq!(actions.len(), 1, "{plan:#}");
    assert_eq!(actions[0]["action"], "create", "{plan:#}");
    &actions[0]["body"]
}

/// YAML 1.2 core reads an int only as `[-+]?[0-9]+`, `0o[0-7]+` or `0x[0-9a-fA-F]+`: a sign
/// before `0x`/`0o` makes a string, which is what the plan must send.
#[test]
fn signed_hex_and_octal_are_sent_as_strings() {
    let dir = Dir::with(&[(
        "crm.yaml",
        &truto(
            "    neg_hex: -0x1F\n    pos_hex: +0x1F\n    neg_oct: -0o17\n    pos_oct: +0o17\n    hex: 0x1F\n    oct: 0o17\n",
        ),
    )]);
    let (code, found) = dir.diagnostics();
    assert_eq!((code, found), (0, vec![]));
    let (_, plan) = dir.plan();
    let config = &create_body(&plan)["config"];
    assert_eq!(config["neg_hex"], "-0x1F", "{config}");
    assert_eq!(config["pos_hex"], "+0x1F", "{config}");
    assert_eq!(config["neg_oct"], "-0o17", "{config}");
    assert_eq!(config["pos_oct"], "+0o17", "{config}");
    assert_eq!(config["hex"], 31, "{config}");
    assert_eq!(config["oct"], 15, "{config}");
}

/// Three inputs YAML forbids, each refused at its place with a YAML code, and nothing planned.
#[test]
fn inputs_yaml_forbids_are_refused_where_they_are() {
    let cases = [
        // yaml-test-suite 9C9N: a flow sequence's lines indented less than its key's content.
        (
            "flow.yaml",
            "---\napiVersion: intsync/v1\nkind: TrutoIntegration\nspec:\n  name: crm\n  config:\n    flow: [a,\n    b,\n    c]\n",
            (8, 5),
        ),
        // `?` starts a plain scalar only before a character that is safe in a plain scalar.
        ("question.yaml", &truto("    list: [?, x]\n"), (6, 12)),
        // A core tag whose value does not match the tag's own form: at the value.
        ("tag.yaml", &truto("    n: !!int 1.5\n"), (6, 14)),
    ];
    for (file, text, (line, column)) in cases {
        let dir = Dir::with(&[(file, text)]);
        let (code, found) = dir.diagnostics();
        assert_eq!(code, 1, "{file}: {found:?}");
        assert_eq!(found.len(), 1, "{file}: {found:?}");
        let Found {
            file: path,
            line: l,
            column: c,
            code,
            message,
        } = &found[0];
        assert_eq!(
            (path.as_str(), *l, *c, code.as_str()),
            (
                format!("manifests/{file}").as_str(),
                line,
                column,
                "intsync::yaml_syntax"
            ),
            "{file}: {message}"
        );
        let (exit, stdout, stderr) = dir
            .0
            .run(&["plan", "--format", "json", "--target", "local"]);
        assert_eq!(exit, 1, "{file}: {stdout}");
        assert!(stdout.is_empty(), "{file}: {stdout}");
        assert!(
            stderr.contains(&format!("manifests/{file}:{line}:{column}")),
            "{file}: {stderr}"
        );
    }
    // `!!str 1` is the string "1", and a core tag on a value of its own form is that value.
    let dir = Dir::with(&[(
        "tags.yaml",
        &truto("    s: !!str 1\n    i: !!int \"7\"\n    f: !!float 1.5\n"),
    )]);
    let (_, plan) = dir.plan();
    let config = &create_body(&plan)["config"];
    assert_eq!(config["s"], "1");
    assert_eq!(config["i"], 7);
    assert_eq!(config["f"], 1.5);
}

const BIG: &str = "123456789012345678901234567890";

/// Integers past 64 bits and floats past f64's range are numbers, carried digit for digit from
/// the manifest to the plan, and the form's JSON Schema check takes them as numbers.
#[test]
fn big_numbers_in_a_form_are_exact_numbers_in_the_plan() {
    let form = format!(
        "{{type: object, required: [account], properties: {{account: {{type: string}}, \
         seats: {{type: integer, minimum: 1, maximum: {BIG}, default: {BIG}}}, \
         ratio: {{type: number, maximum: 1e400, default: 0x123456789ABCDEF0123456789}}}}}}"
    );
    let manifest = format!(
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Big numbers\n  description: d\n  author: a\n  contact: help@example.com\n  identifier_field_path: account\n  oauth_callback_url: https://example.com/cb\n  uninstallation_url: https://example.com/un\n  tags: [knowledge]\n  scopes: [articles:read]\n  configuration_fields: {form}\n"
    );
    let dir = Dir::with(&[("big.yaml", &manifest)]);
    let (code, found) = dir.diagnostics();
    assert_eq!((code, found), (0, vec![]));
    let (text, plan) = dir.plan();
    // Unquoted, digit for digit: numbers, not strings (the exponent as JSON tools write it).
    for number in [BIG, "1e+400", "90144042682896311822508713865"] {
        assert!(text.contains(number), "{number} missing: {text}");
        assert!(
            !text.contains(&format!("\"{number}\"")),
            "{number} quoted: {text}"
        );
    }
    let seats = &create_body(&plan)["configuration_fields"]["properties"]["seats"];
    assert!(seats["maximum"].is_number(), "{seats}");
    assert_eq!(seats["maximum"].to_string(), BIG);
    assert_eq!(seats["default"].to_string(), BIG);
}

/// JSON has no spelling for infinities and NaN: refused with their own code, at their place,
/// with the way out (quote it) in the message; every one of them, not only the first.
#[test]
fn infinities_and_nan_are_refused_with_their_code() {
    let dir = Dir::with(&[(
        "inf.yaml",
        &truto("    top: .inf\n    bottom: -.Inf\n    nothing: .NaN\n    quoted: \".inf\"\n"),
    )]);
    let (code, found) = dir.diagnostics();
    assert_eq!(code, 1, "{found:?}");
    let places: Vec<(u64, u64, &str)> = found
        .iter()
        .map(|f| (f.line, f.column, f.code.as_str()))
        .collect();
    assert_eq!(
        places,
        [
            (6, 10, "intsync::non_json_number"),
            (7, 13, "intsync::non_json_number"),
            (8, 14, "intsync::non_json_number"),
        ]
    );
    for Found { message, .. } in &found {
        assert!(message.contains("JSON"), "{message}");
        assert!(message.contains("quote"), "{message}");
    }
}
