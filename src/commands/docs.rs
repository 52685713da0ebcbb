//! `intsync completions SHELL` and `intsync man`: generated from the CLI definition, so they
//! never drift from it.

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
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        output::print_stdout(&String::from_utf8_lossy(&page))?;
        return Ok(Exit::Ok);
    };
    fs_err::create_dir_all(dir)?;
    let mut written = 0;
    let mut render = |name: String, command: clap::Command| -> anyhow::Result<()> {
        let mut page = Vec::new();
        clap_mangen::Man::new(command).render(&mut page)?;
        output::write_atomically(&dir.join(format!("{name}.1")), &page)?;
        written += 1;
        Ok(())
    };
    render("intsync".to_owned(), command.clone())?;
    for sub in command.get_subcommands() {
        let name = format!("intsync-{}", sub.get_name());
        render(
            name.clone(),
            sub.clone()
                .display_name(name.clone())
                .bin_name(name)
                .version(env!("CARGO_PKG_VERSION")),
        )?;
    }
    eprintln!(
        "Wrote {written} man pages to {} (try `man -l {}/intsync.1`).",
        dir.display(),
        dir.display()
    );
    Ok(Exit::Ok)
}
