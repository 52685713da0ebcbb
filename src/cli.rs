//! The command-line interface: flags as clap parses them. Commands turn these into typed
//! configuration before doing anything.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use intsync_run::config::Selection;

/// Keep SaaS platform integrations (Ada, Truto) in line with YAML manifests in git.
#[derive(Debug, Parser)]
#[command(name = "intsync", version, about, max_term_width = 100)]
pub struct Cli {
    /// The configuration file (default: intsync.toml in the working directory; without one,
    /// the built-in `local` target is used).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests offline and report every problem at its file:line:column.
    Validate(ValidateArgs),
    /// Read live state and print what apply would change (list calls only).
    Plan(PlanArgs),
    /// Show the plan, then write it: creates and minimal updates, verified afterwards.
    Apply(ApplyArgs),
    /// Re-validate and re-plan on every save of a manifest (optionally apply).
    Watch(WatchArgs),
    /// Print only the drift: differences someone made live, outside git (read-only; exit 2 on drift).
    Drift(DriftArgs),
    /// Write live values of drifted fields back into the manifests, keeping comments and layout.
    Pull(PullArgs),
    /// Write one manifest per live integration (adopt an existing account in one command).
    Export(ExportArgs),
    /// List the targets: provider, host, kinds, vars (sensitive ones masked) and how many manifests each receives.
    Targets(TargetsArgs),
    /// Print the JSON Schema of the manifest format (for editors).
    Schema,
    /// Serve the emulated Ada and Truto APIs (for tests, demos and offline CI).
    Emulator(EmulatorArgs),
    /// Print a shell completion script (e.g. `intsync completions bash > ~/.local/share/bash-completion/completions/intsync`).
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    Man(ManArgs),
}

/// Which targets a command runs against (design §11).
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// The targets, comma-separated and repeatable (`--target a,b --target c`; default:
    /// `default_target` of the configuration).
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    pub target: Vec<String>,
    /// Every target the configuration declares, in name order.
    #[arg(long, conflicts_with = "target")]
    pub all_targets: bool,
}

impl TargetArgs {
    /// What the flags select: several names in their order (each once), all, or the default.
    pub fn selection(&self) -> Selection {
        if self.all_targets {
            return Selection::All;
        }
        let mut names: Vec<String> = Vec::new();
        for name in &self.target {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        if names.is_empty() {
            Selection::Default
        } else {
            Selection::Named(names)
        }
    }
}

/// Where client secrets go unless `--secrets-dir` says otherwise.
pub const DEFAULT_SECRETS_DIR: &str = ".intsync/secrets";

/// `0`, `500ms`, `30s`, `5m`, `1h`, or a plain number of seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 0, 30s, 5m or 1h"))?;
    let millis = match unit {
        "ms" => Some(number),
        "" | "s" => number.checked_mul(1000),
        "m" => number.checked_mul(60_000),
        "h" => number.checked_mul(3_600_000),
        _ => return Err(format!("`{text}`: the unit is one of ms, s, m, h")),
    };
    millis
        .map(std::time::Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `intsync.1` and `intsync-<command>.1` here instead of printing `intsync.1`.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Manifest files or directories.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Also write the plan as JSON to this file (for `apply --plan`).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// How to print the plan.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Exit 2 when there are changes, 3 when a change is blocked, 0 when there is nothing to do.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// The git revision last applied (commit, tag, branch): mark each changed field as drift
    /// (changed live, outside git) or pending (changed in git since REV).
    #[arg(long, value_name = "REV")]
    pub baseline: Option<String>,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Manifest files or directories.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// The git revision last applied: differences git made since are pending, not drift.
    /// Without it every difference is drift.
    #[arg(long, value_name = "REV")]
    pub baseline: Option<String>,
    /// How to print the drift.
    #[arg(long, value_enum, default_value_t = PlanFormat::Text)]
    pub format: PlanFormat,
    /// Also write the drift as a JSON plan document to this file.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Manifest files or directories.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// The git revision last applied: pull only the drifted fields, not those git changed since.
    /// Without it every differing managed field is pulled.
    #[arg(long, value_name = "REV")]
    pub baseline: Option<String>,
    /// Write without asking (required off a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Wait this long for another intsync writing to the same target to finish (e.g. `30s`,
    /// `5m`); `0`, the default, refuses at once and names the process that writes.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Per integration, only the changed fields; nested values as a line diff.
    Text,
    /// The plan document (docs/plan.md), keys sorted.
    Json,
    /// A pull-request comment: summary table and a collapsible section per integration.
    Markdown,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest files or directories (ignored with --plan).
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// Apply this saved plan (`plan --out FILE`) instead of planning now; refused (exit 4) if the
    /// live state moved since it was made.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Do not ask for confirmation (required off a terminal, e.g. in CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply everything that is not blocked and list what was skipped, instead of refusing.
    #[arg(long)]
    pub skip_blocked: bool,
    /// Writes in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Where Ada's client secrets of created integrations are saved (one 0600 file each).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_SECRETS_DIR)]
    pub secrets_dir: PathBuf,
    /// Wait this long for another intsync writing to the same target to finish (e.g. `30s`,
    /// `5m`); `0`, the default, refuses at once and names the process that writes.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Manifest files or directories to watch.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Apply changes to integrations in development after each save (blocked ones are only
    /// reported).
    #[arg(long)]
    pub apply: bool,
    /// Re-read live state this often, in seconds (it is also re-read after each apply).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    pub refresh: u64,
    /// Wait this long after a save for more saves before re-planning, in milliseconds.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    pub debounce_ms: u64,
    /// With `--apply`: where Ada's client secrets of created integrations are saved (one 0600
    /// file each).
    #[arg(long, value_name = "DIR", default_value = DEFAULT_SECRETS_DIR)]
    pub secrets_dir: PathBuf,
    /// With `--apply`: writes in flight at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// With `--apply`: wait this long at each save for another intsync writing to the same target to finish (e.g. `30s`,
    /// `5m`); `0`, the default, refuses at once and names the process that writes.
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub targets: TargetArgs,
    /// Where to write the manifests.
    #[arg(long, default_value = "manifests")]
    pub dir: PathBuf,
    /// Only this kind.
    #[arg(long, value_enum)]
    pub kind: Option<KindArg>,
    /// Replace the files of the exported integrations whose content differs (otherwise export
    /// refuses and writes nothing). A file of another integration, or one that is not a
    /// manifest, is never replaced.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    #[value(name = "AdaPlatformIntegration", alias = "ada")]
    Ada,
    #[value(name = "TrutoIntegration", alias = "truto")]
    Truto,
}

#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Address to listen on. Loopback by default; anything else exposes the emulator.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: std::net::SocketAddr,
    /// Persist the state to this JSON file (atomically; a journal beside it makes every
    /// acknowledged write durable). Without it, the state lives in memory.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The Bearer token clients must send. Without it (or INTSYNC_EMULATOR_TOKEN), a random one
    /// is generated and printed.
    #[arg(long, env = "INTSYNC_EMULATOR_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Enforce the vendors' documented rate limits (Ada 10/s and 100/min, Truto 500 per 10 s).
    #[arg(long, value_enum, default_value_t = RateLimitArg::Off)]
    pub rate_limit: RateLimitArg,
    /// Delay every API answer by this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RateLimitArg {
    Off,
    Documented,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (searched recursively for *.yaml and *.yml).
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = DiagnosticFormat::Human)]
    pub format: DiagnosticFormat,
}

#[derive(Debug, Args)]
pub struct TargetsArgs {
    /// Manifest files or directories whose manifests are counted per target.
    #[arg(default_value = "manifests")]
    pub paths: Vec<PathBuf>,
    /// How to print the list.
    #[arg(long, value_enum, default_value_t = TargetsFormat::Text)]
    pub format: TargetsFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TargetsFormat {
    /// A block per target.
    Text,
    /// One document: {format_version, default_target, targets: [{name, provider, host, state, kinds, vars, manifests}]} (e.g. a CI matrix's input).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiagnosticFormat {
    /// A graphical report with source snippets.
    Human,
    /// A JSON array of {file, line, column, severity, code, message}.
    Json,
    /// GitHub Actions annotations (::error file=...,line=...,col=...::message).
    Github,
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::{Cli, Command};

    #[test]
    fn the_emulator_listens_on_loopback_by_default() {
        let cli = Cli::try_parse_from(["intsync", "emulator"]).unwrap();
        let Command::Emulator(args) = cli.command else {
            panic!("not the emulator command");
        };
        assert!(args.listen.ip().is_loopback(), "{}", args.listen);
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        for (text, ms) in [
            ("0", 0),
            ("500ms", 500),
            ("30s", 30_000),
            ("5m", 300_000),
            ("2", 2000),
            ("1h", 3_600_000),
        ] {
            assert_eq!(
                super::parse_duration(text),
                Ok(Duration::from_millis(ms)),
                "{text}"
            );
        }
        for bad in ["", "s", "5x", "-1s", "1.5s", "99999999999999999999h"] {
            assert!(super::parse_duration(bad).is_err(), "{bad}");
        }
    }

    fn selection(args: &[&str]) -> intsync_run::config::Selection {
        let cli = Cli::try_parse_from(args).unwrap();
        let Command::Plan(plan) = cli.command else {
            panic!("not plan");
        };
        plan.targets.selection()
    }

    #[test]
    fn targets_comma_separated_and_repeated_select_alike() {
        use intsync_run::config::Selection;
        let named =
            |names: &[&str]| Selection::Named(names.iter().map(|n| (*n).to_owned()).collect());
        assert_eq!(
            selection(&["intsync", "plan", "--target", "a,b", "--target", "c"]),
            named(&["a", "b", "c"])
        );
        assert_eq!(
            selection(&["intsync", "plan", "--target", "a", "--target", "b,c,a"]),
            named(&["a", "b", "c"])
        );
        assert_eq!(selection(&["intsync", "plan"]), Selection::Default);
        assert_eq!(
            selection(&["intsync", "plan", "--all-targets"]),
            Selection::All
        );
        let both = Cli::try_parse_from(["intsync", "plan", "--all-targets", "--target", "a"]);
        assert!(both.is_err(), "--all-targets conflicts with --target");
    }

    #[test]
    fn the_cli_definition_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
