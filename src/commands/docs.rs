//! `intsync completions SHELL` and `intsync man`: generated from the CLI definition, so they
//! never drift from it. The man pages add what clap does not know: EXIT STATUS and ENVIRONMENT,
//! from the tables below (design §6's exit codes, and every variable the binary reads).

use std::collections::BTreeMap;

use clap::CommandFactory as _;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use intsync_run::Verdict;

use crate::output;

pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Verdict> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "intsync", &mut script);
    output::print_stdout(&String::from_utf8_lossy(&script))?;
    Ok(Verdict::Ok)
}

pub fn man(args: &ManArgs) -> anyhow::Result<Verdict> {
    let command = Cli::command();
    let Some(dir) = &args.dir else {
        output::print_stdout(&String::from_utf8_lossy(&page(command, None)?))?;
        return Ok(Verdict::Ok);
    };
    fs_err::create_dir_all(dir)?;
    let mut written = 0;
    let mut write = |name: String, page: Vec<u8>| -> anyhow::Result<()> {
        intsync_run::files::write_atomically(&dir.join(format!("{name}.1")), &page)?;
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
    Ok(Verdict::Ok)
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

/// The EXIT STATUS and ENVIRONMENT tables of every page (`man.toml`).
#[derive(serde::Deserialize)]
struct Tables {
    exit: ExitTables,
    environment: EnvironmentTables,
}

#[derive(serde::Deserialize)]
struct ExitTables {
    /// Entries several commands share, named `@ok`, `@error` in a command's list.
    shared: BTreeMap<String, (String, String)>,
    /// Per command (`*`: the page of `intsync` itself; `other`: any other command).
    commands: BTreeMap<String, Vec<ExitEntry>>,
}

#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ExitEntry {
    Shared(String),
    Own(String, String),
}

#[derive(serde::Deserialize)]
struct EnvironmentTables {
    variables: BTreeMap<String, (String, String)>,
    commands: BTreeMap<String, Vec<String>>,
}

fn tables() -> Tables {
    toml::from_str(include_str!("man.toml")).expect("man.toml is valid (tested)")
}

/// The entries of `subcommand` (`None`: the page of `intsync` itself) in `commands`.
fn of<'t, T>(commands: &'t BTreeMap<String, T>, subcommand: Option<&str>) -> &'t T {
    let key = subcommand.unwrap_or("*");
    commands
        .get(key)
        .or_else(|| commands.get("other"))
        .expect("man.toml has `other`")
}

/// The exit codes of `subcommand` (`None`: of every command), as `(code, meaning)`. The
/// numbers are design §6's; usage errors exit 1 like any bad input (`main`).
fn exit_statuses(subcommand: Option<&str>) -> Vec<(String, String)> {
    let exit = tables().exit;
    of(&exit.commands, subcommand)
        .iter()
        .map(|entry| match entry {
            ExitEntry::Own(code, text) => (code.clone(), text.clone()),
            ExitEntry::Shared(name) => exit.shared[name.trim_start_matches('@')].clone(),
        })
        .collect()
}

/// The environment variables `subcommand` reads (`None`: all of them), as `(name, meaning)`.
fn environment(subcommand: Option<&str>) -> Vec<(String, String)> {
    let environment = tables().environment;
    of(&environment.commands, subcommand)
        .iter()
        .map(|name| environment.variables[name].clone())
        .collect()
}

/// Appends a man page section of tagged paragraphs (`.TP`): each entry's term in bold, then its
/// text.
fn section(page: &mut Vec<u8>, title: &str, entries: &[(String, String)]) {
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

    /// Every code a page lists is one `main` maps a verdict to, and every variable a command
    /// lists is described.
    #[test]
    fn the_tables_name_only_real_codes_and_variables() {
        let tables = tables();
        let codes: Vec<String> = [
            Verdict::Ok,
            Verdict::Failed,
            Verdict::Changes,
            Verdict::Blocked,
            Verdict::Stale,
            Verdict::Stopped(intsync_provider::StopReason::Interrupt),
            Verdict::Stopped(intsync_provider::StopReason::Terminate),
        ]
        .into_iter()
        .map(|v| crate::exit_code(v).to_string())
        .collect();
        for (command, entries) in &tables.exit.commands {
            for entry in entries {
                let code = match entry {
                    ExitEntry::Own(code, _) => code,
                    ExitEntry::Shared(name) => &tables.exit.shared[name.trim_start_matches('@')].0,
                };
                assert!(codes.contains(code), "{command}: {code}");
            }
        }
        for names in tables.environment.commands.values() {
            for name in names {
                assert!(tables.environment.variables.contains_key(name), "{name}");
            }
        }
    }

    #[test]
    fn every_command_has_its_exit_statuses() {
        for sub in Cli::command().get_subcommands() {
            let codes = exit_statuses(Some(sub.get_name()));
            assert!(
                codes.iter().any(|(c, _)| c == "0") && codes.iter().any(|(c, _)| c == "1"),
                "{}",
                sub.get_name()
            );
        }
    }
}
