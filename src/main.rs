//! The `intsync` command line: argument parsing, then one function per command. Library crates
//! do the work (`intsync-run` the whole of a run); this binary renders their results and maps
//! each run's [`Verdict`] to its exit code, here, in one place ([`exit_code`], design §6).

mod cli;
mod commands;
mod output;
mod signals;

use std::process::ExitCode;

use clap::Parser as _;
use intsync_provider::StopReason;
use intsync_run::Verdict;

// Planning 10,000 integrations allocates millions of small JSON values; mimalloc is markedly
// faster than glibc's allocator at that and returns memory to the OS more readily.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Exit codes shared by every command (design §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Success, no changes.
    Ok = 0,
    /// Bad input, API failure, partial apply.
    Error = 1,
    /// Changes present (`plan --detailed-exitcode`).
    Changes = 2,
    /// A change targets an integration that is not in `development`.
    Blocked = 3,
    /// Live state moved since the saved plan (`apply --plan`), or every failure of an apply
    /// was a Truto version conflict.
    Stale = 4,
    /// Stopped by SIGINT: writes in flight finished, nothing new started.
    Interrupted = 130,
    /// Stopped by SIGTERM: writes in flight finished, nothing new started.
    Terminated = 143,
}

/// The one mapping of a run's verdict to its exit code.
pub fn exit_code(verdict: Verdict) -> u8 {
    let exit = match verdict {
        Verdict::Ok => Exit::Ok,
        Verdict::Failed => Exit::Error,
        Verdict::Changes => Exit::Changes,
        Verdict::Blocked => Exit::Blocked,
        Verdict::Stale => Exit::Stale,
        Verdict::Stopped(StopReason::Interrupt) => Exit::Interrupted,
        Verdict::Stopped(StopReason::Terminate) => Exit::Terminated,
    };
    exit as u8
}

fn main() -> ExitCode {
    // clap exits 2 on a usage error, which here means "changes present" (`plan
    // --detailed-exitcode`, `drift`): a typo in a CI job must not read as drift. A usage error
    // is bad input, exit 1; `--help` and `--version` exit 0.
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(exit_code(if error.use_stderr() {
                Verdict::Failed
            } else {
                Verdict::Ok
            }));
        }
    };
    output::init_logging();
    output::install_panic_hook();
    let result = match cli.command {
        cli::Command::Validate(args) => commands::validate::run(cli.config.as_deref(), &args),
        cli::Command::Plan(args) => commands::plan::run(cli.config.as_deref(), &args),
        cli::Command::Apply(args) => commands::apply::run(cli.config.as_deref(), &args),
        cli::Command::Export(args) => commands::export::run(cli.config.as_deref(), &args),
        cli::Command::Watch(args) => commands::watch::run(cli.config.as_deref(), &args),
        cli::Command::Drift(args) => commands::drift::run(cli.config.as_deref(), &args),
        cli::Command::Pull(args) => commands::pull::run(cli.config.as_deref(), &args),
        cli::Command::Targets(args) => commands::targets::run(cli.config.as_deref(), &args),
        cli::Command::Schema => commands::schema::run(),
        cli::Command::Emulator(args) => commands::emulator::run(&args),
        cli::Command::Completions(args) => commands::docs::completions(&args),
        cli::Command::Man(args) => commands::docs::man(&args),
    };
    ExitCode::from(exit_code(match result {
        Ok(verdict) => verdict,
        Err(error) => {
            // Errors name requests, files and values; scrub any secret one may quote.
            eprintln!("error: {}", intsync_provider::redact(&format!("{error:#}")));
            Verdict::Failed
        }
    }))
}
