//! `intsync completions SHELL` and `intsync man`: generated from the CLI definition, covering
//! every command.

use assert_cmd::Command;

const COMMANDS: [&str; 7] = [
    "validate", "plan", "apply", "watch", "export", "schema", "emulator",
];

fn intsync(args: &[&str]) -> String {
    let out = Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
        .args(args)
        .assert()
        .success();
    String::from_utf8(out.get_output().stdout.clone()).unwrap()
}

#[test]
fn completions_for_every_shell_know_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = intsync(&["completions", shell]);
        for command in COMMANDS {
            assert!(
                script.contains(command),
                "{shell} completion lacks `{command}`"
            );
        }
        assert!(
            script.contains("auto-approve"),
            "{shell} completion lacks apply's flags"
        );
    }
    assert!(intsync(&["completions", "bash"]).contains("complete -F _intsync"));
}

#[test]
fn man_pages_cover_every_command() {
    let page = intsync(&["man"]);
    assert!(page.contains(".TH intsync 1"));
    for command in COMMANDS {
        assert!(page.contains(command), "intsync.1 lacks `{command}`");
    }
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(assert_cmd::cargo::cargo_bin!("intsync"))
        .args(["man", "--dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(
        out.get_output().stdout.is_empty(),
        "pages go to files, talk to stderr"
    );
    for command in COMMANDS {
        let page =
            std::fs::read_to_string(dir.path().join(format!("intsync-{command}.1"))).unwrap();
        assert!(page.contains(&format!(".TH intsync-{command} 1")), "{page}");
    }
    let apply = std::fs::read_to_string(dir.path().join("intsync-apply.1")).unwrap();
    assert!(apply.contains("skip\\-blocked"), "{apply}");
}
