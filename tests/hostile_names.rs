//! Hostile names end to end (design §12, docs/plan.md "Hostile names"): live integrations in
//! the emulator named to forge a PR comment (`## ✅ no changes`, `@team`, links, `</details>`,
//! backticks, a right-to-left override, terminal escapes), a manifest file named likewise, and
//! the real binary's `plan` and `drift` in Markdown (the PR comment, the drift issue's body) and
//! in text. The Markdown is parsed back with a CommonMark parser (the checks of
//! `crates/intsync-plan/tests/inert_check`).

mod common;

#[path = "../crates/intsync-plan/tests/inert_check/mod.rs"]
mod inert_check;

use common::Env;
use inert_check::{assert_inert_markdown, assert_inert_text};
use serde_json::json;

/// Names the emulator takes (1–160 characters), each a way to break out of a code span or into
/// a reviewer's terminal.
const NAMES: [&str; 9] = [
    "x\n\n## ✅ no changes, safe to merge ZQ",
    "@team ZQ [click](https://evil.example/) https://evil.example/ZQ",
    "fixes #123 ZQ <img src=x> <!-- ZQ",
    "</details>\n\n# ZQ out of the block",
    "```ZQ``` `` ` ZQ",
    "\u{202e}ZQ\u{202c} right to left",
    "\u{1b}[2J\u{1b}[31mZQ cleared",
    "cr\rZQ",
    "a | b ZQ |\n|---|---|",
];

/// One live integration per name: the first two managed by manifests (an update, and a change
/// blocked by a hostile status), the rest unmanaged.
fn hostile_env() -> Env {
    let env = Env::new(100);
    for name in NAMES {
        env.emulator.seed_ada(name, "live description");
    }
    let live = env.emulator.ada_live();
    let id_of = |name: &str| {
        live.iter().find(|i| i["name"] == name).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let managed = |name: &str| {
        format!(
            "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nmetadata: {{id: {}}}\nspec: {{description: {}}}\n",
            id_of(name),
            json!(format!("new {name}"))
        )
    };
    // A file name is hostile too.
    env.manifest("x`y`\n\n# ZQ file @team.yaml", &managed(NAMES[0]));
    env.manifest("blocked.yaml", &managed(NAMES[3]));
    env.emulator
        .set_status(&id_of(NAMES[3]), "approved\n\n# ZQ @team");
    env
}

#[test]
fn hostile_names_stay_inert_in_the_pr_comment_and_the_drift_issue() {
    let env = hostile_env();

    let (code, markdown, stderr) = env.run(&["plan", "--format", "markdown"]);
    assert_eq!(code, 0, "{stderr}");
    assert_inert_markdown(&markdown, "intsync plan for ");
    assert!(
        markdown.contains("<b><code>x\\n\\n## ✅ no changes"),
        "{markdown}"
    );
    assert!(
        markdown.contains("`@team ZQ"),
        "unmanaged, in a code span: {markdown}"
    );
    assert!(markdown.contains("\\u{202e}ZQ"), "{markdown}");

    // The drift issue's body is `drift --format markdown` (docs/examples/github-drift.yml).
    let (code, markdown, stderr) = env.run(&["drift", "--format", "markdown"]);
    assert_eq!(code, 2, "{stderr}");
    assert_inert_markdown(&markdown, "intsync drift for ");
    assert!(markdown.contains("ZQ file @team.yaml"), "{markdown}");

    for command in ["plan", "drift"] {
        let (_, text, stderr) = env.run(&[command]);
        assert_inert_text(&text);
        assert!(text.contains("\\u{1b}[2J") || command == "drift", "{text}");
        assert!(text.contains("approved\\n\\n# ZQ @team"), "{text}");
        assert_inert_text(&stderr);
    }
}

/// `validate`'s diagnostics quote what the manifest says (an unknown key, a `!var` name), show
/// the file's text and name it: a terminal escape or a bidi override in any of them is shown
/// escaped, not acted on.
#[test]
fn hostile_names_stay_inert_in_validate_diagnostics() {
    let work = common::Workdir::new();
    work.manifest(
        "key.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Key\n  \"bad\\e[2Jkey\\u202e\": 1\n",
    );
    work.manifest(
        "var.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: Var\n  description: !var \"v\\e[31mZQ\"\n",
    );
    // Raw in the file's text: YAML refuses the escape, and the snippet shows the line.
    work.manifest(
        "raw.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec:\n  name: \"Raw\u{202e}\"\n  description: x\u{1b}[2Jy\n",
    );
    work.manifest(
        "named\u{1b}[2J\u{202e}.yaml",
        "apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: 3\n",
    );
    let (code, stdout, stderr) = work.run(&["validate"]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert_inert_text(&stdout);
    assert_inert_text(&stderr);
    let all = format!("{stdout}{stderr}");
    for shown in [
        "bad\\u{1b}[2Jkey\\u{202e}",
        "v\\u{1b}[31mZQ",
        "named\\u{1b}[2J\\u{202e}.yaml",
        "x?[2Jy",
    ] {
        assert!(all.contains(shown), "{shown:?} is shown: {all}");
    }
}
