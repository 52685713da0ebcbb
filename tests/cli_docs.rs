//! `intsync completions SHELL` and `intsync man`: generated from the CLI definition, covering
//! every command.

mod common;

use common::Workdir;

const COMMANDS: [&str; 11] = [
    "validate",
    "plan",
    "apply",
    "watch",
    "drift",
    "pull",
    "export",
    "schema",
    "emulator",
    "completions",
    "man",
];

/// The stdout of `intsync ARGS`, which must succeed.
fn intsync(args: &[&str]) -> String {
    let (code, stdout, stderr) = Workdir::new().run(args);
    assert_eq!(code, 0, "{args:?}: {stderr}");
    stdout
}

/// `intsync man --dir pages` in a new directory: the directory, and what it printed on stdout.
fn man_dir() -> (Workdir, String) {
    let dir = Workdir::new();
    let (code, stdout, stderr) = dir.run(&["man", "--dir", "pages"]);
    assert_eq!(code, 0, "{stderr}");
    (dir, stdout)
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
    let (dir, stdout) = man_dir();
    assert!(stdout.is_empty(), "pages go to files, talk to stderr");
    let pages = dir.path().join("pages");
    for command in COMMANDS {
        let page = std::fs::read_to_string(pages.join(format!("intsync-{command}.1"))).unwrap();
        assert!(page.contains(&format!(".TH intsync-{command} 1")), "{page}");
    }
    let apply = std::fs::read_to_string(pages.join("intsync-apply.1")).unwrap();
    assert!(apply.contains("skip\\-blocked"), "{apply}");
}

/// The man pages of `intsync man --dir`: `(command, page)` for `intsync` itself (`""`) and each
/// command.
fn man_pages() -> Vec<(&'static str, String)> {
    let (dir, _) = man_dir();
    let dir = dir.path().join("pages");
    let mut pages = vec![("", std::fs::read_to_string(dir.join("intsync.1")).unwrap())];
    for command in COMMANDS {
        let page = std::fs::read_to_string(dir.join(format!("intsync-{command}.1"))).unwrap();
        pages.push((command, page));
    }
    pages
}

/// Every page says what its exit codes mean, and the pages of the commands that read the
/// environment say what they read; the main page lists every code of the docs and every
/// variable (issue #21).
#[test]
fn man_pages_have_exit_status_and_environment_sections() {
    for (command, page) in man_pages() {
        assert!(
            page.contains(".SH \"EXIT STATUS\""),
            "intsync-{command}: {page}"
        );
        for code in ["0", "1"] {
            assert!(
                page.contains(&format!("\\fB{code}\\fR")),
                "intsync-{command} lacks exit code {code}: {page}"
            );
        }
        let reads_environment = !matches!(command, "schema" | "completions" | "man");
        assert_eq!(
            page.contains(".SH \"ENVIRONMENT\""),
            reads_environment,
            "intsync-{command}: {page}"
        );
    }
    let pages = man_pages();
    let main = &pages[0].1;
    for code in ["0", "1", "2", "3", "4", "130", "143"] {
        assert!(
            main.contains(&format!("\\fB{code}\\fR")),
            "exit code {code}: {main}"
        );
    }
    for variable in [
        "ADA_API_TOKEN",
        "TRUTO_API_TOKEN",
        "INTSYNC_EMULATOR_TOKEN",
        "NO_COLOR",
        "RUST_LOG",
    ] {
        assert!(main.contains(variable), "{variable}: {main}");
    }
    let page = |command: &str| &pages.iter().find(|(c, _)| *c == command).unwrap().1;
    assert!(
        page("plan").contains("\\-\\-detailed\\-exitcode"),
        "{}",
        page("plan")
    );
    assert!(page("plan").contains("\\fB3\\fR"));
    assert!(page("drift").contains("\\fB2\\fR"));
    assert!(page("apply").contains("\\fB143\\fR"));
    assert!(page("emulator").contains("INTSYNC_EMULATOR_TOKEN"));
    assert!(page("plan").contains("TRUTO_API_TOKEN"));
}

/// Every variable the binary's code reads by name is on the main page (and `RUST_LOG`, which
/// the log filter reads): a new `env::var` without documentation fails here. Test modules (from
/// a file's first `#[cfg(test)]` on) are not the binary.
#[test]
fn every_variable_read_is_documented() {
    let main = &man_pages()[0].1;
    let mut files = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("src")];
    for crate_dir in std::fs::read_dir(root.join("crates")).unwrap() {
        dirs.push(crate_dir.unwrap().path().join("src"));
    }
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut read = vec!["RUST_LOG".to_owned()];
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for pattern in ["env::var(\"", "env::var_os(\"", "env = \""] {
            for (at, _) in code.match_indices(pattern) {
                let rest = &code[at + pattern.len()..];
                read.push(rest[..rest.find('"').unwrap()].to_owned());
            }
        }
    }
    assert!(
        read.contains(&"NO_COLOR".to_owned()),
        "the scan works: {read:?}"
    );
    for variable in &read {
        assert!(
            main.contains(variable.as_str()),
            "`{variable}` is read but not in intsync.1's ENVIRONMENT"
        );
    }
}

/// No `-V` on a command's page: clap refuses `intsync plan -V` (only `intsync -V` prints the
/// version), so no page may offer it; and the refusal is a usage error, exit 1, like any bad
/// flag (clap's own 2 would read as "changes present").
#[test]
fn only_the_main_page_offers_the_version_flag() {
    for (command, page) in man_pages() {
        let offers = page.contains("\\fB\\-\\-version\\fR") || page.contains("\\fB\\-V\\fR");
        assert_eq!(offers, command.is_empty(), "intsync-{command}: {page}");
    }
    assert!(intsync(&["-V"]).starts_with("intsync "));
    for args in [
        &["plan", "-V"][..],
        &["plan", "--version"],
        &["plan", "--no-such-flag"],
        &["drift", "--format", "yaml"],
    ] {
        let (code, _, stderr) = Workdir::new().run(args);
        assert_eq!(code, 1, "{args:?}");
        assert!(!stderr.is_empty(), "{args:?}: clap says why");
    }
}

/// Users do not have the design document: no help text cites it.
#[test]
fn no_help_text_cites_the_design_document() {
    let mut helps = vec![intsync(&["--help"]), intsync(&["-h"])];
    for command in COMMANDS {
        helps.push(intsync(&[command, "--help"]));
        helps.push(intsync(&[command, "-h"]));
    }
    helps.extend(man_pages().into_iter().map(|(_, page)| page));
    for help in &helps {
        assert!(!help.contains("design §"), "{help}");
        assert!(!help.to_lowercase().contains("design doc"), "{help}");
    }
}
