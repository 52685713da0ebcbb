//! Environments (issue #24), as far as they are built: values per target in `intsync.toml`
//! (`[targets.NAME.vars]`) and `intsync targets`, the input of a CI matrix.

mod common;

use common::{Workdir, ada_manifest, intsync, output, truto_manifest};
use serde_json::{Value, json};

const CONFIG: &str = r#"default_target = "sandbox"
[targets.sandbox]
provider = "ada"
base_url = "https://coolshop-sandbox.ada.support"
token_env = "TEST_ADA_TOKEN"
[targets.sandbox.vars]
callback = "https://sandbox.example.com/oauth/callback"
client_key = { env = "INTSYNC_VAR_SANDBOX_KEY", sensitive = true }
[targets.crm]
provider = "truto"
base_url = "https://api.truto.one"
token_env = "TEST_TRUTO_TOKEN"
"#;

/// `intsync targets --format json` lists every target with what it receives; a sensitive value,
/// read from its `INTSYNC_VAR_*` variable, shows nowhere.
#[test]
fn targets_lists_each_target_and_masks_sensitive_values() {
    let work = Workdir::new();
    std::fs::write(work.path().join("intsync.toml"), CONFIG).unwrap();
    work.manifest("a.yaml", &ada_manifest("Cool Shop", "one"));
    work.manifest("b.yaml", &ada_manifest("Other Shop", "two"));
    work.manifest("t.yaml", &truto_manifest("my_crm", "crm"));
    let secret = "sk-sandbox-5e6f7a8b9c";
    let (code, stdout, stderr) = output(
        intsync(work.path())
            .args(["targets", "--format", "json"])
            .env("INTSYNC_VAR_SANDBOX_KEY", secret),
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["default_target"], "sandbox");
    let counts: Vec<(&str, u64)> = listing["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["manifests"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(counts, [("crm", 1), ("local", 3), ("sandbox", 2)]);
    let sandbox = &listing["targets"][2];
    assert_eq!(sandbox["host"], "coolshop-sandbox.ada.support");
    assert_eq!(
        sandbox["vars"],
        json!([
            {"name": "callback", "sensitive": false, "env": null, "value": "https://sandbox.example.com/oauth/callback"},
            {"name": "client_key", "sensitive": true, "env": "INTSYNC_VAR_SANDBOX_KEY", "value": "(sensitive)"}
        ])
    );
    // And for a person, the same without the value.
    let (code, text, _) = output(
        intsync(work.path())
            .args(["targets"])
            .env("INTSYNC_VAR_SANDBOX_KEY", secret),
    );
    assert_eq!(code, 0);
    assert!(!text.contains(secret), "{text}");
    assert!(
        text.contains("sandbox (default): ada at coolshop-sandbox.ada.support; AdaPlatformIntegration; 2 manifests\n"),
        "{text}"
    );
}

/// A var can read only `INTSYNC_VAR_*`: a change to `intsync.toml` in a pull request cannot
/// read a target's token into a manifest (and so into a plan comment). The run stops before
/// anything is read or sent, and the token's value is never printed.
#[test]
fn a_var_reading_a_token_is_refused_before_anything_runs() {
    let work = Workdir::new();
    let config = format!("{CONFIG}[targets.crm.vars]\nleak = {{ env = \"TEST_ADA_TOKEN\" }}\n");
    std::fs::write(work.path().join("intsync.toml"), config).unwrap();
    // The pull request's manifest uses it.
    work.manifest(
        "t.yaml",
        &truto_manifest("my_crm", "crm").replace("timeout: 30", "token: !var leak"),
    );
    for args in [
        &["targets"][..],
        &["validate"],
        &["plan", "--target", "crm"],
        &["plan", "--all-targets", "--format", "markdown"],
    ] {
        let (code, stdout, stderr) = output(intsync(work.path()).args(args));
        assert_eq!(code, 1, "{args:?}: {stderr}");
        assert_eq!(stdout, "", "{args:?}");
        assert!(
            stderr.contains("var `leak` reads the environment variable \"TEST_ADA_TOKEN\"; only variables named INTSYNC_VAR_* may be read"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains(common::TOKEN), "{args:?}: {stderr}");
    }
}

/// The flow of design §11 on two emulators (a sandbox and a production account) and the
/// built-in `local` target: one set of manifests whose URLs are `!var`s, applied to each
/// target with that target's values; a re-plan of each finds nothing to do; a sensitive value
/// reaches the live integration and nothing else (no output, no file); a saved plan keeps it
/// as a var and a hash, and `apply --plan` refuses it (stale, exit 4) once the value changed.
#[test]
fn one_set_of_manifests_serves_every_target_with_its_own_values() {
    let sandbox = common::Emulator::start();
    let production = common::Emulator::start();
    let work = Workdir::new();
    let secret = "sk-live-9f8e7d6c5b4a";
    let config = format!(
        r#"default_target = "sandbox"
[targets.local]
provider = "local"
[targets.local.vars]
callback = "http://localhost:8080/oauth/callback"
[targets.sandbox]
provider = "ada"
base_url = "{sandbox}"
token_env = "TEST_ADA_TOKEN"
rate_limit = "off"
[targets.sandbox.vars]
callback = "https://sandbox.example.com/oauth/callback"
[targets.production]
provider = "ada"
base_url = "{production}"
token_env = "TEST_ADA_TOKEN"
rate_limit = "off"
[targets.production.vars]
callback = "https://example.com/oauth/callback"
[targets.crm]
provider = "truto"
base_url = "{sandbox}"
token_env = "TEST_TRUTO_TOKEN"
rate_limit = "off"
[targets.crm.vars]
api_key = {{ env = "INTSYNC_VAR_CRM_KEY", sensitive = true }}
"#,
        sandbox = sandbox.base_url(),
        production = production.base_url(),
    );
    std::fs::write(work.path().join("intsync.toml"), config).unwrap();
    let mut spec = common::ada_spec("Cool Shop", "Orders");
    spec["oauth_callback_url"] = json!("CALLBACK");
    let ada = format!("apiVersion: intsync/v1\nkind: AdaPlatformIntegration\nspec: {spec}\n")
        .replace("\"CALLBACK\"", "!var callback");
    work.manifest("shop.yaml", &ada);
    work.manifest(
        "crm.yaml",
        "apiVersion: intsync/v1\nkind: TrutoIntegration\nmetadata:\n  targets: [crm]\nspec:\n  name: my_crm\n  category: crm\n  config:\n    base_url: https://api.example.com\n    api_key: !var api_key  # per target\n",
    );
    let run = |args: &[&str], key: &str| {
        let (code, stdout, stderr) = output(
            intsync(work.path())
                .args(args)
                .env("INTSYNC_VAR_CRM_KEY", key),
        );
        for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
            assert!(
                !text.contains(secret),
                "{args:?} printed the secret on {what}: {text}"
            );
        }
        (code, stdout, stderr)
    };
    let (code, _, stderr) = run(&["validate"], secret);
    assert_eq!(code, 0, "{stderr}");
    // A job for the sandbox has no secret of the CRM target: it needs none; `validate`, which
    // checks every target, says which is missing.
    let without_key = |args: &[&str]| {
        output(
            intsync(work.path())
                .args(args)
                .env_remove("INTSYNC_VAR_CRM_KEY"),
        )
    };
    let (code, _, stderr) = without_key(&["plan", "--target", "sandbox"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, _) = without_key(&["validate", "--format", "json"]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("intsync::unset_var") && stdout.contains("INTSYNC_VAR_CRM_KEY"),
        "{stdout}"
    );
    // One run writes every target, each with its own values; then nothing is left to do.
    let (code, stdout, stderr) = run(&["plan", "--all-targets", "--detailed-exitcode"], secret);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let (code, _, stderr) = run(&["apply", "--all-targets", "--auto-approve"], secret);
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) = run(
        &[
            "plan",
            "--all-targets",
            "--detailed-exitcode",
            "--format",
            "json",
        ],
        secret,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let envelope: Value = serde_json::from_str(&stdout).unwrap();
    let planned: Vec<(&str, u64)> = envelope["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["target"].as_str().unwrap(),
                p["summary"]["noop"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        planned,
        [("crm", 1), ("local", 1), ("production", 1), ("sandbox", 1)]
    );
    // Nothing is sent: nothing sensitive to keep, nothing `apply --plan` would ask for.
    assert!(envelope["plans"][0].get("sensitive").is_none(), "{stdout}");
    // Each account holds its own values.
    let callback = |emulator: &common::Emulator| {
        emulator.ada_live()[0]["oauth_callback_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        callback(&sandbox),
        "https://sandbox.example.com/oauth/callback"
    );
    assert_eq!(callback(&production), "https://example.com/oauth/callback");
    assert_eq!(sandbox.truto_live()[0]["config"]["api_key"], secret);
    assert!(production.truto_live().is_empty());

    // The key is rotated: the plan shows the change masked, and saves a var and a hash.
    let rotated = "sk-live-0a1b2c3d4e5f";
    let (code, text, stderr) = run(&["plan", "--target", "crm", "--detailed-exitcode"], rotated);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        text.contains("(sensitive)") && !text.contains(rotated),
        "{text}"
    );
    let (code, markdown, _) = run(
        &["plan", "--target", "crm", "--format", "markdown"],
        rotated,
    );
    assert_eq!(code, 0);
    assert!(!markdown.contains(rotated), "{markdown}");
    let (code, _, stderr) = run(&["plan", "--target", "crm", "--out", "plan.json"], rotated);
    assert_eq!(code, 0, "{stderr}");
    let saved = std::fs::read_to_string(work.path().join("plan.json")).unwrap();
    assert!(
        !saved.contains(rotated) && !saved.contains(secret),
        "{saved}"
    );
    let saved: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(saved["sensitive"][0]["var"], "api_key");
    assert_eq!(saved["sensitive"][0]["pointer"], "/config/api_key");
    assert_eq!(
        saved["actions"][0]["patch"]["config"]["api_key"],
        "(sensitive)"
    );
    // Applied with another value than planned: stale, nothing written.
    let (code, _, stderr) = run(
        &[
            "apply",
            "--target",
            "crm",
            "--plan",
            "plan.json",
            "--auto-approve",
        ],
        "sk-other-value-77",
    );
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains("var `api_key` of target `crm` changed since the plan was made"),
        "{stderr}"
    );
    assert_eq!(sandbox.truto_live()[0]["config"]["api_key"], secret);
    // With the planned value: written, from the environment, never from the file.
    let (code, _, stderr) = run(
        &[
            "apply",
            "--target",
            "crm",
            "--plan",
            "plan.json",
            "--auto-approve",
        ],
        rotated,
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(sandbox.truto_live()[0]["config"]["api_key"], rotated);
    // No file intsync wrote holds either value.
    for file in common::walk(work.path()) {
        let bytes = std::fs::read(&file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(secret) && !text.contains(rotated),
            "{} holds a sensitive value",
            file.display()
        );
    }
    // Drift of a var's value is pulled nowhere: the manifest keeps its `!var`.
    let mut live = sandbox.truto_live()[0].clone();
    live["config"]["api_key"] = json!("sk-dashboard-edit-1");
    sandbox.call(
        http::Method::PATCH,
        &format!("/integration/{}", live["id"].as_str().unwrap()),
        Some(json!({"config": live["config"], "version": live["version"]})),
    );
    let before = std::fs::read_to_string(work.path().join("manifests/crm.yaml")).unwrap();
    let (_, _, stderr) = run(&["pull", "--target", "crm", "--yes"], rotated);
    assert!(
        stderr.contains("`config` comes from `!var api_key` of target `crm`"),
        "{stderr}"
    );
    assert!(!stderr.contains("sk-dashboard-edit-1"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(work.path().join("manifests/crm.yaml")).unwrap(),
        before
    );
}
