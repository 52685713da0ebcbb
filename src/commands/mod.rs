//! One module per command: flags in, a call into `intsync-run`, its report rendered, a verdict
//! out.

pub mod apply;
pub mod apply_many;
pub mod docs;
pub mod drift;
pub mod emulator;
pub mod export;
pub mod many;
pub mod plan;
pub mod pull;
pub mod schema;
pub mod targets;
pub mod validate;
pub mod watch;

use std::path::Path;

use intsync_run::config::Config;
use intsync_run::pipeline::Connected;
use intsync_run::{Ended, Talk, Verdict};

use crate::cli::TargetArgs;
use crate::output;

/// A run's talk on stderr, its data on stdout.
pub struct Stderr;

impl Talk for Stderr {
    fn say(&self, line: &str) {
        // Every known secret and sensitive value scrubbed, whatever the line quotes.
        eprintln!("{}", intsync_provider::redact(line));
    }

    fn show(&self, data: &str) {
        use std::io::Write as _;
        let _ = output::print_stdout(data);
        let _ = std::io::stdout().flush();
    }

    fn diagnostics(&self, diagnostics: &[intsync_manifest::Diagnostic]) {
        output::eprint_diagnostics(diagnostics);
    }
}

/// `--config` read, with the configuration's note said.
pub fn load_config(config: Option<&Path>) -> anyhow::Result<Config> {
    let config = Config::load(config)?;
    if let Some(note) = config.note() {
        eprintln!("{note}");
    }
    Ok(config)
}

/// `--config` read and the one target `--target` selects connected (several are refused:
/// the command serves one).
pub fn connect(config: Option<&Path>, targets: &TargetArgs) -> anyhow::Result<Connected> {
    let config = load_config(config)?;
    Connected::within(&config, config.only(&targets.selection())?)
}

/// Says what could not be read, last; the run's verdict.
pub fn end(ended: &Ended) -> Verdict {
    for line in ended.lines() {
        eprintln!("{line}");
    }
    ended.verdict()
}
