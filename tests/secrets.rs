//! Client secrets on disk (design §8.5, issue #21): every secret keeps a file of its own, and an
//! answer whose `client_secret` is no secret is a lost secret, not a success.

mod common;

use common::tiny::{Issue, fake_ada};
use common::{Workdir, ada_manifest};

fn issue(id: &str, client_secret: &str) -> Issue {
    Issue {
        id: id.to_owned(),
        client_secret: Some(client_secret.to_owned()),
    }
}

/// Ids that sanitize alike (`a/b`, `a_b`), an id answered again by another account, and an
/// empty `client_secret`: before issue #21 the second secret replaced the first, and the empty
/// one was saved and reported as a success.
#[test]
fn every_secret_keeps_its_own_file_and_an_empty_one_is_lost() {
    let env = Workdir::new();
    let ada = fake_ada(vec![
        issue("a/b", r#""secret-of-a-slash-b""#),
        issue("a_b", r#""secret-of-a-underscore-b""#),
        issue("c1", r#""""#),
    ]);
    env.write_config(&ada.base_url(), 100, "");
    env.manifest("1.yaml", &ada_manifest("First", "x"));
    env.manifest("2.yaml", &ada_manifest("Second", "x"));
    env.manifest("3.yaml", &ada_manifest("Third", "x"));
    let (code, _, stderr) = env.run(&["apply", "--auto-approve", "--parallelism", "1"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("created \"Third\" (c1), but its client secret was lost")
            && stderr.contains("it is empty")
            && stderr.contains("rotate it"),
        "{stderr}"
    );
    let files = env.saved_secrets();
    let summary: Vec<(&str, &str, &str)> = files
        .iter()
        .map(|(file, saved)| {
            (
                file.as_str(),
                saved["id"].as_str().unwrap(),
                saved["client_secret"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary.len(), 2, "{summary:?}");
    assert!(
        summary.contains(&("a_b.json", "a_b", "secret-of-a-underscore-b")),
        "{summary:?}"
    );
    let slash = summary.iter().find(|(_, id, _)| *id == "a/b").unwrap();
    assert_eq!(slash.2, "secret-of-a-slash-b");
    assert!(
        slash.0.starts_with("a_b-") && slash.0.ends_with(".json"),
        "{summary:?}"
    );

    // Another account answers a create with an id a secret file already has: saved beside it.
    let other = fake_ada(vec![issue("a_b", r#""secret-of-the-other-a_b""#)]);
    let config = env.dir.path().join("intsync.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "[targets.other]\nprovider = \"ada\"\nbase_url = \"{}\"\ntoken_env = \"TEST_ADA_TOKEN\"\nrate_limit = \"off\"\n",
        other.base_url()
    ));
    std::fs::write(&config, text).unwrap();
    std::fs::create_dir(env.dir.path().join("other")).unwrap();
    std::fs::write(
        env.dir.path().join("other/o.yaml"),
        ada_manifest("Other", "x"),
    )
    .unwrap();
    let (code, _, stderr) = env.run(&["apply", "other", "--target", "other", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let files = env.saved_secrets();
    let by_name = |name: &str| {
        files
            .iter()
            .find(|(file, _)| file == name)
            .map(|(_, saved)| saved["client_secret"].as_str().unwrap().to_owned())
    };
    assert_eq!(
        by_name("a_b.json").as_deref(),
        Some("secret-of-a-underscore-b")
    );
    assert_eq!(
        by_name("a_b.2.json").as_deref(),
        Some("secret-of-the-other-a_b")
    );
    assert!(
        stderr.contains("a_b.2.json"),
        "the path printed is the one written: {stderr}"
    );
}

/// A `client_secret` that is not a string is no secret either.
#[test]
fn a_client_secret_that_is_not_a_string_is_lost() {
    let env = Workdir::new();
    let ada = fake_ada(vec![issue("n1", "12345")]);
    env.write_config(&ada.base_url(), 100, "");
    env.manifest("1.yaml", &ada_manifest("Numbered", "x"));
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("it is a number, not a string"), "{stderr}");
    assert!(
        !stderr.contains("12345"),
        "a secret is never printed: {stderr}"
    );
    assert!(!env.secrets_dir().exists());
}
