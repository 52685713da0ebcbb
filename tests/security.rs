//! Security promises, end to end: plan files hold no secret, a parent directory's
//! `intsync.toml` is never read silently, and `http://` is refused for hosts off loopback.
//! (Tokens and client secrets absent from all output at `RUST_LOG=trace`, every command on both
//! vendors, through retries and failures: tests/leaks.rs; no redirect followed: tests/redirects.rs;
//! `NO_COLOR` on a terminal: tests/color.rs; secret files 0600: tests/apply.rs; panics and errors
//! scrubbed: unit tests in src/output.rs and intsync-provider's secret.rs; constant-time token
//! comparison: intsync-emulator's emulator.rs. The promises and their tests are listed in the
//! Security section of docs/reliability.md.)

mod common;

use common::{Env, TOKEN, ada_manifest, intsync, output};

#[test]
fn plan_files_hold_no_token_and_no_client_secret() {
    let env = Env::new(100);
    env.manifest("a.yaml", &ada_manifest("Secretive", "one"));
    let (code, _, stderr) = env.run(&["apply", "--auto-approve"]);
    assert_eq!(code, 0, "{stderr}");
    let saved = env.saved_secrets();
    let client_secret = saved[0].1["client_secret"].as_str().unwrap().to_owned();
    assert!(client_secret.len() > 10);
    assert!(!stderr.contains(&client_secret));

    // A change, so the plan carries bodies and live values.
    env.manifest("a.yaml", &ada_manifest("Secretive", "two"));
    for format in ["json", "markdown", "text"] {
        let (code, stdout, stderr) = env.run(&["plan", "--out", "plan.json", "--format", format]);
        assert_eq!(code, 0, "{stderr}");
        let file = std::fs::read_to_string(env.dir.path().join("plan.json")).unwrap();
        for (what, text) in [("stdout", &stdout), ("plan.json", &file)] {
            assert!(
                !text.contains(&client_secret),
                "{format} {what} holds the client secret"
            );
            assert!(!text.contains(TOKEN), "{format} {what} holds the token");
            assert!(
                !text.contains("client_secret"),
                "{format} {what} names the client secret"
            );
        }
    }
}

#[test]
fn a_parent_directorys_config_is_never_read_and_said_so() {
    let env = Env::new(100);
    // `env.dir` holds an intsync.toml whose default target is the emulator; run from below it.
    let sub = env.dir.path().join("team/project");
    std::fs::create_dir_all(sub.join("manifests")).unwrap();
    std::fs::write(sub.join("manifests/a.yaml"), ada_manifest("Below", "x")).unwrap();
    env.emulator.clear_requests();
    let (code, _, stderr) = output(intsync(&sub).args(["plan"]));
    assert_eq!(code, 0, "{stderr}");
    let parent = env.dir.path().join("intsync.toml");
    assert!(
        stderr.contains(&format!("note: `{}` is not read", parent.display())),
        "{stderr}"
    );
    assert!(
        env.emulator.requests().is_empty(),
        "the parent's target was not contacted"
    );
    assert!(stderr.contains("live state of target `local`"), "{stderr}");
}

#[test]
fn plain_http_is_refused_off_loopback() {
    let env = Env::new(100);
    std::fs::write(
        env.dir.path().join("intsync.toml"),
        "default_target = \"ada\"\n[targets.ada]\nprovider = \"ada\"\nbase_url = \"http://coolshop.ada.support\"\ntoken_env = \"TEST_ADA_TOKEN\"\n",
    )
    .unwrap();
    env.manifest("a.yaml", &ada_manifest("A", "x"));
    let (code, _, stderr) = env.run(&["plan"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("plain http:// for a host that is not loopback; use https://"),
        "{stderr}"
    );
}

/// Issue #21: `http://user:pass@host` was accepted, its Basic auth replaced the Bearer token and
/// the password showed in every error; a `#fragment` sent every request to `/`; leading spaces
/// were kept. Each is refused before any request, and the password never printed.
#[test]
fn base_url_with_userinfo_fragment_or_spaces_is_refused_before_any_request() {
    let env = Env::new(100);
    env.manifest("a.yaml", &ada_manifest("A", "x"));
    let port = env.emulator.port();
    for (base_url, says) in [
        (
            format!("http://user:hunter22pw@127.0.0.1:{port}"),
            "user or password",
        ),
        (format!("http://127.0.0.1:{port}/#frag"), "a fragment"),
        (
            format!(" http://127.0.0.1:{port}"),
            "spaces or control characters",
        ),
        (format!("http://127.0.0.1:{port}/?x=1"), "a query"),
    ] {
        std::fs::write(
            env.dir.path().join("intsync.toml"),
            format!("default_target = \"ada\"\n[targets.ada]\nprovider = \"ada\"\nbase_url = \"{base_url}\"\ntoken_env = \"TEST_ADA_TOKEN\"\n"),
        )
        .unwrap();
        env.emulator.clear_requests();
        for command in [&["plan"][..], &["apply", "--auto-approve"]] {
            let (code, stdout, stderr) = env.run(command);
            assert_eq!(code, 1, "{base_url}: {stderr}");
            assert!(stderr.contains(says), "{base_url}: {stderr}");
            assert!(
                !format!("{stdout}{stderr}").contains("hunter22pw"),
                "{stderr}"
            );
        }
        let sent: Vec<_> = env
            .emulator
            .requests()
            .into_iter()
            .filter(|r| {
                !r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("/_emulator")
            })
            .collect();
        assert!(sent.is_empty(), "{base_url}: {sent:?}");
    }
}
