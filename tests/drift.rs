//! Drift and pull end to end (design §10, issue #14): a temporary git repository, the real
//! binary, the emulator. Applied at a tag; a manifest change committed after it (pending); live
//! edited out of band (drift, a nested field included).

mod common;

use std::process::Command;

use common::{Env, git, intsync, output};
use serde_json::{Value, json};

const ALPHA: &str = "# Alpha knowledge base: owned by the docs team
apiVersion: intsync/v1
kind: AdaPlatformIntegration
spec:
  name: Alpha KB
  description: Sync Alpha articles   # shown in the marketplace
  author: 'Cool Shop'
  contact: help@coolshop.support
  identifier_field_path: account.name
  uninstallation_url: https://coolshop.example.com/uninstall
  oauth_callback_url: https://coolshop.example.com/oauth/callback
  tags: [knowledge]
  scopes: [articles:read]
  # the install form
  configuration_fields:
    type: object
    required: [account]
    properties:
      account:
        type: object
        required: [name]
        properties:
          name: {type: string, title: Account name}   # what installers see
  call_to_action: Connect   # button text
";

/// A repository with Alpha applied at tag `applied`, then `author` changed in a commit (pending)
/// and `description` and a title deep in the form changed live (drift). Returns Alpha's id.
fn scenario(env: &Env) -> String {
    let dir = env.dir.path();
    let alpha = ALPHA.to_owned();
    env.manifest("alpha.yaml", &alpha);
    std::fs::write(dir.join(".gitignore"), ".intsync/\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "Alpha"]);
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    git(dir, &["tag", "applied"]);

    env.manifest(
        "alpha.yaml",
        &alpha.replace("author: 'Cool Shop'", "author: 'Cool Shop Inc.'"),
    );
    git(dir, &["commit", "-q", "-am", "New author"]);

    let id = env.emulator.ada_live()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut form = env.emulator.ada_live()[0]["configuration_fields"].clone();
    form["properties"]["account"]["properties"]["name"]["title"] = json!("Your account");
    env.emulator.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(json!({"description": "Sync Alpha articles and tags", "configuration_fields": form})),
    );
    id
}

#[test]
fn drift_is_told_from_pending_and_pulled_back_into_git() {
    let env = Env::new(100);
    let id = scenario(&env);

    // `drift` reports only the drift.
    let (code, text, stderr) = env.run(&["drift", "--baseline", "applied"]);
    assert_eq!(code, 2, "{text}{stderr}");
    assert!(text.contains("[drift] description"), "{text}");
    assert!(text.contains("[drift] configuration_fields"), "{text}");
    assert!(!text.contains("author"), "pending is not drift: {text}");
    let (code, json, stderr) = env.run(&["drift", "--baseline", "applied", "--format", "json"]);
    assert_eq!(code, 2, "{stderr}");
    let drift: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        drift["actions"][0]["drift"],
        json!(["configuration_fields", "description"])
    );
    let patch: Vec<&String> = drift["actions"][0]["patch"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(patch, ["description", "configuration_fields"]);
    assert_eq!(drift["summary"]["drift"], 1);

    // `plan --baseline` classifies both.
    let (code, json, stderr) = env.run(&["plan", "--baseline", "applied", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&json).unwrap();
    let update = &plan["actions"][0];
    assert_eq!(update["action"], "update");
    assert_eq!(
        update["drift"],
        json!(["configuration_fields", "description"])
    );
    assert_eq!(
        update["patch"]["author"], "Cool Shop Inc.",
        "pending, still planned"
    );
    assert_eq!(plan["summary"]["drift"], 1);
    let (_, text, _) = env.run(&["plan", "--baseline", "applied"]);
    assert!(
        text.contains("    author: \"Cool Shop\" → \"Cool Shop Inc.\""),
        "{text}"
    );
    assert!(text.contains("[drift] description"), "{text}");

    // Approved meanwhile: blocked, and still pullable.
    env.emulator.set_status(&id, "approved");
    let before = std::fs::read(env.dir.path().join("manifests/alpha.yaml")).unwrap();
    let (code, diff, stderr) = env.run(&["pull", "--baseline", "applied"]);
    assert_eq!(code, 1, "off a terminal pull needs --yes: {stderr}");
    assert!(stderr.contains("pass --yes"), "{stderr}");
    assert!(
        diff.contains("-  description: Sync Alpha articles   # shown in the marketplace"),
        "{diff}"
    );
    assert_eq!(
        std::fs::read(env.dir.path().join("manifests/alpha.yaml")).unwrap(),
        before,
        "nothing written without --yes"
    );

    let (code, _, stderr) = env.run(&["pull", "--baseline", "applied", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    let after = std::fs::read_to_string(env.dir.path().join("manifests/alpha.yaml")).unwrap();
    let expected = ALPHA
        .replace("author: 'Cool Shop'", "author: 'Cool Shop Inc.'")
        .replace(
            "description: Sync Alpha articles   #",
            "description: Sync Alpha articles and tags   #",
        )
        .replace(PULLED_FORM.0, PULLED_FORM.1);
    assert_eq!(after, expected, "only the drifted values' text changed");

    let (code, text, stderr) = env.run(&["drift", "--baseline", "applied"]);
    assert_eq!(code, 0, "{text}{stderr}");
    let (code, _, stderr) = env.run(&["validate"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, json, _) = env.run(&["plan", "--format", "json"]);
    assert_eq!(code, 0);
    let plan: Value = serde_json::from_str(&json).unwrap();
    let patch: Vec<&String> = plan["actions"][0]["patch"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(patch, ["author"], "only the pending change is left");
}

/// The form as written, and as `pull` rewrites it: block YAML at the value's indentation, the
/// key line and the comment before it kept.
const PULLED_FORM: (&str, &str) = (
    "  configuration_fields:
    type: object
    required: [account]
    properties:
      account:
        type: object
        required: [name]
        properties:
          name: {type: string, title: Account name}   # what installers see
",
    "  configuration_fields:
    type: object
    required:
      - account
    properties:
      account:
        type: object
        required:
          - name
        properties:
          name:
            type: string
            title: Your account
",
);

/// A baseline that is not in a shallow clone is an error that says how to fetch it, the
/// revision shell-quoted; in a full clone it simply does not exist, and the error says that
/// (issue #21: it used to suggest fetching there too, unquoted). Outside a git repository
/// `--baseline` says so.
#[test]
fn a_missing_baseline_says_how_to_fetch_it() {
    let env = Env::new(100);
    scenario(&env);
    let (code, _, stderr) = env.run(&["drift", "--baseline", "v9.9.9"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no such revision `v9.9.9` in the repository"),
        "{stderr}"
    );
    assert!(!stderr.contains("git fetch"), "a full clone: {stderr}");

    // A shallow clone of it: the applied tag is not there; the hint fetches it.
    let shallow = shallow_clone(&env);
    let (code, _, stderr) = output(intsync(&shallow).args(["drift", "--baseline", "applied"]));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("the baseline `applied` is not in this clone, which is shallow: fetch it first, e.g. `git fetch --depth=1 origin 'applied'` (a tag: `git fetch --depth=1 origin tag 'applied'`)"),
        "{stderr}"
    );

    // Never passed to git as an option.
    let (code, _, stderr) = env.run(&["plan", "--baseline=--upload-pack=touch pwned"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not a git revision"), "{stderr}");

    let bare = Env::new(100);
    bare.manifest("a.yaml", &common::ada_manifest("A", "d"));
    let (code, _, stderr) = bare.run(&["drift", "--baseline", "HEAD"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not in a git repository"), "{stderr}");
}

/// Without a baseline, `drift` counts every difference, and `pull --yes` takes every differing
/// managed value; then nothing differs.
#[test]
fn without_a_baseline_every_difference_is_drift_and_pulled() {
    let env = Env::new(100);
    scenario(&env);
    let (code, text, _) = env.run(&["drift"]);
    assert_eq!(code, 2);
    assert!(text.contains("[drift] author"), "{text}");
    let (code, _, stderr) = env.run(&["pull", "--yes"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, text, stderr) = env.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(code, 0, "{text}{stderr}");
    let after = std::fs::read_to_string(env.dir.path().join("manifests/alpha.yaml")).unwrap();
    assert!(
        after.contains("  author: 'Cool Shop'") || after.contains("  author: Cool Shop\n"),
        "{after}"
    );
    assert!(after.contains("# shown in the marketplace"), "{after}");
}

/// `git clone --depth=1` of the scenario's repository, beside it: its manifests and
/// `intsync.toml` (committed), but not the commit the `applied` tag names.
fn shallow_clone(env: &Env) -> std::path::PathBuf {
    let parent = env.dir.path().join("clones");
    std::fs::create_dir_all(&parent).unwrap();
    let url = format!("file://{}", env.dir.path().display());
    git(&parent, &["clone", "-q", "--depth=1", &url, "shallow"]);
    let shallow = parent.join("shallow");
    assert_eq!(
        git(&shallow, &["rev-parse", "--is-shallow-repository"]),
        "true"
    );
    shallow
}

/// A `--baseline` that tries to run something: in a full clone the error names it, inert, with
/// no fetch hint; in a shallow clone the hint quotes it so that pasting the hint into a shell
/// runs nothing (the test pastes it). An empty `--baseline` is refused before anything is read,
/// and one like an option never reaches git, on every command that takes it (issue #21).
#[test]
fn baseline_hints_run_nothing_and_empty_ones_are_refused() {
    let env = Env::new(100);
    scenario(&env);
    let hostile = "it's $(touch pwned) `touch pwned`";
    let (code, _, stderr) = env.run(&["drift", "--baseline", hostile]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("no such revision `it's $(touch pwned) `touch pwned`` in the repository"),
        "{stderr}"
    );
    assert!(!stderr.contains("git fetch"), "{stderr}");

    let shallow = shallow_clone(&env);
    let (code, _, stderr) = output(intsync(&shallow).args(["drift", "--baseline", hostile]));
    assert_eq!(code, 1, "{stderr}");
    let quoted = "'it'\\''s $(touch pwned) `touch pwned`'";
    let hint = format!("git fetch --depth=1 origin {quoted}");
    assert!(stderr.contains(&format!("e.g. `{hint}`")), "{stderr}");
    // Pasted into a shell, the hint runs git with the revision as one argument, and nothing else.
    let pasted = Command::new("sh")
        .args(["-c", &hint])
        .current_dir(&shallow)
        .output()
        .unwrap();
    assert!(!pasted.status.success(), "no such ref to fetch");
    assert!(
        String::from_utf8_lossy(&pasted.stderr).contains("it's $(touch pwned)"),
        "git saw the revision whole: {}",
        String::from_utf8_lossy(&pasted.stderr)
    );
    assert!(!shallow.join("pwned").exists(), "the hint ran a command");
    assert!(!env.dir.path().join("pwned").exists());

    for command in ["plan", "drift", "pull"] {
        let (code, _, stderr) = env.run(&[command, "--baseline", ""]);
        assert_eq!(code, 1, "{command}: {stderr}");
        assert!(
            stderr.contains("--baseline is empty"),
            "{command}: {stderr}"
        );
        assert!(
            !stderr.contains("Reading live state"),
            "{command} refused before reading: {stderr}"
        );
        let (code, _, stderr) = env.run(&[command, "--baseline=--output=/tmp/x"]);
        assert_eq!(code, 1, "{command}: {stderr}");
        assert!(
            stderr.contains("is not a git revision"),
            "{command}: {stderr}"
        );
        assert!(
            !stderr.contains("Reading live state"),
            "{command}: {stderr}"
        );
    }
}

/// Git changed `description` and `author` after the applied tag; someone changed `description`
/// live too (the dashboard), not `author`. `description` is drift *and* pending: `drift`
/// reports it (exit 2; it used to be counted pending only, so the next apply overwrote an
/// edit nobody reviewed), `plan --baseline` lists it in `drift` and `also_pending`; `author` is
/// pending only. `pull` does not throw the git change away: it names the file and the field as
/// a conflict, writes nothing for it, and exits 1 (issue #21).
#[test]
fn a_field_changed_in_git_and_live_is_drift_and_pull_leaves_it_to_a_person() {
    let env = Env::new(100);
    let dir = env.dir.path();
    env.manifest("alpha.yaml", ALPHA);
    std::fs::write(dir.join(".gitignore"), ".intsync/\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "Alpha"]);
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    git(dir, &["tag", "applied"]);
    let in_git = ALPHA
        .replace(
            "description: Sync Alpha articles ",
            "description: Sync Alpha articles and FAQs ",
        )
        .replace("author: 'Cool Shop'", "author: 'Cool Shop Inc.'");
    env.manifest("alpha.yaml", &in_git);
    git(dir, &["commit", "-q", "-am", "Describe the FAQs"]);
    let id = env.emulator.ada_live()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.emulator.call(
        reqwest::Method::PATCH,
        &format!("/api/v2/platform-integrations/{id}"),
        Some(json!({"description": "Edited in the dashboard"})),
    );

    let (code, text, stderr) = env.run(&["drift", "--baseline", "applied"]);
    assert_eq!(
        code, 2,
        "a live edit is drift even when git changed the field: {text}{stderr}"
    );
    assert!(
        text.contains("    [drift (also pending)] description: \"Edited in the dashboard\" → \"Sync Alpha articles and FAQs\""),
        "{text}"
    );
    assert!(!text.contains("author"), "pending only: {text}");

    let (code, json, stderr) = env.run(&["plan", "--baseline", "applied", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let plan: Value = serde_json::from_str(&json).unwrap();
    let update = &plan["actions"][0];
    assert_eq!(update["drift"], json!(["description"]));
    assert_eq!(update["also_pending"], json!(["description"]));
    assert_eq!(update["patch"]["author"], "Cool Shop Inc.");
    assert_eq!(plan["summary"]["drift"], 1);

    let (code, markdown, _) = env.run(&["drift", "--baseline", "applied", "--format", "markdown"]);
    assert_eq!(code, 2);
    assert!(
        markdown.contains("**Drift** (changed live, outside git): `description` (also pending: changed in git too)"),
        "{markdown}"
    );

    let (code, diff, stderr) = env.run(&["pull", "--baseline", "applied", "--yes"]);
    assert_eq!(code, 1, "{diff}{stderr}");
    assert!(
        stderr.contains("conflict: manifests/alpha.yaml: `description` was changed live (outside git) and in git since the baseline `applied`, so it is not pulled."),
        "{stderr}"
    );
    assert!(
        stderr.contains("Nothing pulled: 1 field changed both live and in git needs a person"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("manifests/alpha.yaml")).unwrap(),
        in_git,
        "the git change is kept"
    );
}
