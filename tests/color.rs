//! `NO_COLOR` (https://no-color.org) on a real terminal. Colour is only ever decided for a
//! terminal, so a test on a pipe cannot see `NO_COLOR` ignored: `script` (util-linux) runs
//! `intsync plan` on a pseudo-terminal here, with a plan that has coloured lines (a create and
//! an update).

mod common;

use common::{Env, Terminal, ada_manifest, on_a_terminal};

/// What `intsync plan` writes on a terminal (stdout and stderr both go to it), with `NO_COLOR`
/// set to `no_color` (unset when `None`).
fn plan_on_a_terminal(env: &Env, no_color: Option<&str>) -> String {
    let mut cmd = on_a_terminal(env.path(), "plan");
    cmd.env("SHELL", "/bin/sh")
        .env("TERM", "xterm-256color")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null());
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    let (succeeded, transcript) = Terminal::start(&mut cmd).finish();
    assert!(succeeded, "{transcript}");
    transcript
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let env = Env::new(100);
    env.emulator.seed_ada("Changed", "old");
    env.manifest("changed.yaml", &ada_manifest("Changed", "new"));
    env.manifest("new.yaml", &ada_manifest("Fresh", "x"));

    let coloured = plan_on_a_terminal(&env, None);
    assert!(
        coloured.contains("will be created") && coloured.contains("will be updated"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\x1b["),
        "on a terminal the plan is coloured: {coloured:?}"
    );

    // An empty NO_COLOR does not count (no-color.org: "set and not empty").
    let empty = plan_on_a_terminal(&env, Some(""));
    assert!(empty.contains("\x1b["), "{empty:?}");

    for value in ["1", "0", "false"] {
        let plain = plan_on_a_terminal(&env, Some(value));
        assert!(
            plain.contains("+ AdaPlatformIntegration \"Fresh\" will be created")
                && plain.contains("~ AdaPlatformIntegration \"Changed\""),
            "NO_COLOR={value}: {plain}"
        );
        assert!(
            !plain.contains('\x1b'),
            "NO_COLOR={value} leaves no escape sequence: {plain:?}"
        );
    }
}
