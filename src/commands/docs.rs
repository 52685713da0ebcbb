//! `intsync completions SHELL` and `intsync man`: generated from the CLI definition, so they
//! never drift from it. The man pages add what clap does not know: EXIT STATUS and ENVIRONMENT,
//! from the tables below (design §6's exit codes, and every variable the binary reads).

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::{Exit, output};

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "intsync", &mut script);
    output::print_stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Ok)
}

pub fn man(args: &ManArgs) -> anyhow::Result<Exit> {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        output::print_stdout(&String::from_utf8_lossy(&page(command, None)?))?;
        return Ok(Exit::Ok);
    };
    fs_err::create_dir_all(dir)?;
    let mut written = 0;
    let mut write = |name: String, page: Vec<u8>| -> anyhow::Result<()> {
        output::write_atomically(&dir.join(format!("{name}.1")), &page)?;
        written += 1;
        Ok(())
    };
    write("intsync".to_owned(), page(command.clone(), None)?)?;
    for sub in command.get_subcommands() {
        let name = format!("intsync-{}", sub.get_name());
        // The version names the release the page documents (its header); the `-V` flag that
        // clap would add with it is not there: `intsync plan -V` is refused, only `intsync -V`
        // prints the version.
        let page_command = sub
            .clone()
            .display_name(name.clone())
            .bin_name(name.clone())
            .version(env!("CARGO_PKG_VERSION"))
            .disable_version_flag(true);
        write(name, page(page_command, Some(sub.get_name()))?)?;
    }
    eprintln!(
        "Wrote {written} man pages to {} (try `man -l {}/intsync.1`).",
        dir.display(),
        dir.display()
    );
    Ok(Exit::Ok)
}

/// The man page of `command` (`subcommand`: its name, or `None` for `intsync` itself):
/// clap_mangen's sections, then EXIT STATUS and ENVIRONMENT, then the version.
fn page(mut command: clap::Command, subcommand: Option<&str>) -> std::io::Result<Vec<u8>> {
    command.build();
    let has_options = command.get_arguments().any(|a| !a.is_hide_set());
    let has_subcommands = command.get_subcommands().any(|s| !s.is_hide_set());
    let has_version = command.get_version().is_some();
    let man = clap_mangen::Man::new(command);
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if has_options {
        man.render_options_section(&mut page)?;
    }
    if has_subcommands {
        man.render_subcommands_section(&mut page)?;
    }
    section(&mut page, "EXIT STATUS", &exit_statuses(subcommand));
    let variables = environment(subcommand);
    if !variables.is_empty() {
        section(&mut page, "ENVIRONMENT", &variables);
    }
    if has_version {
        man.render_version_section(&mut page)?;
    }
    Ok(page)
}

/// The exit codes of `subcommand` (`None`: of every command), as `(code, meaning)`. The
/// numbers are design §6's; usage errors exit 1 like any bad input (`main`).
fn exit_statuses(subcommand: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let ok = ("0", "Success. Also `--help`.");
    let error = (
        "1",
        "An error: bad input (a manifest, intsync.toml, an unknown flag or a bad value), an API failure, or anything else that stopped the command; what happened is on stderr.",
    );
    match subcommand {
        None => vec![
            (
                "0",
                "Success: nothing to change (`plan`), nothing drifted (`drift`), everything applied and verified (`apply`), `watch` stopped by Ctrl-C (SIGINT). Also `--help` and `--version`.",
            ),
            (
                "1",
                "An error: bad input (a manifest, intsync.toml, an unknown flag or a bad value), an API failure, a partial `apply`, a `pull` that could not write everything (not confirmed, a file changed since it was read, a field changed both live and in git). Every command.",
            ),
            (
                "2",
                "Changes present: `plan --detailed-exitcode` has something to create or update; `drift` found drift.",
            ),
            (
                "3",
                "Blocked: a change targets an Ada integration whose status is not `development` (`plan --detailed-exitcode`; `apply` without `--skip-blocked`, which then writes nothing).",
            ),
            (
                "4",
                "Stale: live state moved since the saved plan (`apply --plan`, nothing written), or every failure of an `apply` was a Truto version conflict.",
            ),
            (
                "130",
                "`apply` stopped by SIGINT (Ctrl-C): the writes in flight finished and were saved, nothing new started. Also a second signal to `apply` or `watch --apply` while writes are in flight, which exits at once.",
            ),
            (
                "143",
                "`apply` or `watch` stopped by SIGTERM: the writes in flight finished and were saved, nothing new started.",
            ),
        ],
        Some("plan") => vec![
            ok,
            error,
            (
                "2",
                "With `--detailed-exitcode`: there are changes (creates or updates), none blocked. Without it, changes exit 0.",
            ),
            (
                "3",
                "With `--detailed-exitcode`: a change is blocked (an Ada integration whose status is not `development`).",
            ),
        ],
        Some("apply") => vec![
            (
                "0",
                "Every change applied and verified, or nothing to apply, or cancelled at the prompt (nothing written).",
            ),
            (
                "1",
                "An error, or a partial apply: some writes failed (each is listed after the summary); `--auto-approve` missing off a terminal.",
            ),
            (
                "3",
                "A change is blocked and `--skip-blocked` was not given: nothing was written.",
            ),
            (
                "4",
                "Stale: live state moved since the saved plan (`--plan`; nothing written), or every failure was a Truto version conflict.",
            ),
            (
                "130",
                "Stopped by SIGINT (Ctrl-C): the writes in flight finished and were saved, nothing new started. A second SIGINT exits at once.",
            ),
            (
                "143",
                "Stopped by SIGTERM: the writes in flight finished and were saved, nothing new started.",
            ),
        ],
        Some("watch") => vec![
            (
                "0",
                "Stopped by Ctrl-C (SIGINT), its normal way out, after the writes in flight finished.",
            ),
            error,
            (
                "130",
                "A second SIGINT while writes were in flight (with `--apply`): exits at once; what was saved stays.",
            ),
            (
                "143",
                "Stopped by SIGTERM, after the writes in flight finished (a second one exits at once).",
            ),
        ],
        Some("drift") => vec![
            ("0", "No drift."),
            error,
            (
                "2",
                "Drift found: something changed live, outside git (printed on stdout).",
            ),
        ],
        Some("pull") => vec![
            (
                "0",
                "The live values were written, or there was nothing to pull, or it was cancelled at the prompt.",
            ),
            (
                "1",
                "An error; `--yes` missing off a terminal; a file changed since it was read (not written); or a field changed both live and in git since the baseline (a conflict, not pulled: decide by hand).",
            ),
        ],
        Some("emulator") => vec![
            ("0", "Stopped by SIGINT or SIGTERM."),
            (
                "1",
                "It could not start (the address is taken, the state file is unreadable) or failed.",
            ),
        ],
        Some(_) => vec![ok, error],
    }
}

/// The environment variables `subcommand` reads (`None`: all of them), as `(name, meaning)`.
fn environment(subcommand: Option<&str>) -> Vec<(&'static str, &'static str)> {
    let token = (
        "ADA_API_TOKEN, TRUTO_API_TOKEN (or as named)",
        "A target's API token is read from the variable its `token_env` names in intsync.toml (by convention ADA_API_TOKEN for Ada, TRUTO_API_TOKEN for Truto), never from a file; it is never printed or logged. Read by the commands that talk to a target: plan, apply, watch, drift, pull, export. The built-in `local` target needs none.",
    );
    let emulator = (
        "INTSYNC_EMULATOR_TOKEN",
        "`emulator`: the Bearer token clients must send when `--token` is not given (without either, a random one is generated and printed at start).",
    );
    let proxy = (
        "HTTPS_PROXY, HTTP_PROXY, ALL_PROXY, NO_PROXY",
        "Proxies for the requests to a target, as curl reads them (lower-case names too).",
    );
    let certificates = (
        "SSL_CERT_FILE, SSL_CERT_DIR",
        "Where the certificate authorities trusted for https:// targets are, instead of the system's store.",
    );
    let git = (
        "PATH, GIT_*",
        "`--baseline` runs `git` found on PATH, which reads its own variables (GIT_DIR, GIT_CONFIG_GLOBAL, ...); intsync sets GIT_TERMINAL_PROMPT=0 for it.",
    );
    let no_color = (
        "NO_COLOR",
        "When set to anything non-empty, no colour, even on a terminal (https://no-color.org).",
    );
    let columns = (
        "COLUMNS",
        "The width manifest diagnostics are wrapped to (default 100; 40 at least).",
    );
    let host = (
        "HOSTNAME, COMPUTERNAME",
        "The host name a writer records in its target's lock and in each create it has in flight (so that a second writer, or the next run, can name it), when /proc/sys/kernel/hostname and /etc/hostname cannot be read.",
    );
    let rust_log = (
        "RUST_LOG",
        "What is logged to stderr (default `warn`): e.g. `RUST_LOG=debug`, or `RUST_LOG=intsync=trace` for each request. Logs never hold a token or a client secret.",
    );
    match subcommand {
        None => vec![
            token,
            emulator,
            proxy,
            certificates,
            git,
            host,
            no_color,
            columns,
            rust_log,
        ],
        Some("validate") => vec![no_color, columns, rust_log],
        Some("emulator") => vec![emulator, rust_log],
        // The commands that talk to a target; the first three take `--baseline`.
        Some("plan" | "drift") => {
            vec![token, proxy, certificates, git, no_color, columns, rust_log]
        }
        Some("pull") => {
            vec![
                token,
                proxy,
                certificates,
                git,
                host,
                no_color,
                columns,
                rust_log,
            ]
        }
        Some("apply" | "watch") => {
            vec![
                token,
                proxy,
                certificates,
                host,
                no_color,
                columns,
                rust_log,
            ]
        }
        Some("export") => vec![token, proxy, certificates, no_color, columns, rust_log],
        Some(_) => Vec::new(),
    }
}

/// Appends a man page section of tagged paragraphs (`.TP`): each entry's term in bold, then its
/// text.
fn section(page: &mut Vec<u8>, title: &str, entries: &[(&str, &str)]) {
    let mut roff = format!(".SH \"{title}\"\n");
    for (term, text) in entries {
        roff.push_str(".TP\n");
        roff.push_str(&format!("\\fB{}\\fR\n", roff_text(term)));
        roff.push_str(&roff_text(text));
        roff.push('\n');
    }
    page.extend_from_slice(roff.as_bytes());
}

/// `text` as one line of roff text: backslashes as `\e`, hyphens as `\-` (a minus, as options
/// and variables are typed), and a leading `.` or `'` kept from reading as a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with(['.', '\'']) {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_is_escaped() {
        assert_eq!(roff_text("--skip-blocked"), "\\-\\-skip\\-blocked");
        assert_eq!(roff_text(".x"), "\\&.x");
        assert_eq!(roff_text("a\\b"), "a\\eb");
    }

    #[test]
    fn every_command_has_its_exit_statuses() {
        for sub in Cli::command().get_subcommands() {
            let codes = exit_statuses(Some(sub.get_name()));
            assert!(
                codes.iter().any(|(c, _)| *c == "0") && codes.iter().any(|(c, _)| *c == "1"),
                "{}",
                sub.get_name()
            );
        }
    }
}
