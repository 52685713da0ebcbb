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
    work.manifest("t.yaml", &truto_manifest("my_crm", "crm"));
    for args in [&["targets"][..], &["plan", "--target", "crm"]] {
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
